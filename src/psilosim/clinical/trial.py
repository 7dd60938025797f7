"""Virtual trials at scale: patients in chunks, on Dask, resumable, deterministic under a seed.

:func:`simulate_patient` runs one patient end to end (draw and screen → randomised arm → links 1–5
of the chain for that patient → symptom course → rated visits). :func:`run_trial` fans chunks of patients out over Dask

* ``backend="threads"`` (default): an in-process Dask cluster with threads;
* ``workers=K``: a ``LocalCluster`` of K single-threaded worker processes;
* ``scheduler="tcp://host:port"``: an existing ``distributed`` scheduler;
* ``backend="sync"``: a plain loop in this process (used by the validation checks),

saves every finished chunk to ``OUT/chunks/`` (NetCDF, written atomically), and gathers them into
one Dataset (``outcome``: patient × visit × measure, with the arm of every patient) written to
``OUT/results.nc``. A run that is interrupted resumes from the chunks already on disk: a chunk is
either complete on disk or recomputed, so no patient is lost or duplicated.

The run's identity (:class:`ModelSet` and its fingerprint) is in :mod:`.identity`, its output
folder (chunk files, manifest, resume, gathered results, provenance) in :mod:`.store`; their
public names are importable from here too.

Determinism: everything random about patient ``i`` comes from ``SeedSequence(seed, (i, ·))``
(traits, measurement noise) and its arm from the permuted block it falls in, so results do not
depend on chunk size, workers, threads or processes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import xarray as xr

from .. import DISCLAIMER, __version__
from ..errors import InputError
from .biology import BiologyTrajectory, patient_biology
from .design import TrialDesign
from .identity import (  # noqa: F401 (BIOLOGY_LABEL, UnstableIdentity: importable from here as before the split)
    BIOLOGY_LABEL,
    DEFAULT_MODELS,
    ModelSet,
    UnstableIdentity,
    network_label,
)
from .patients import (
    STREAM_MEASUREMENT,
    PopulationParams,
    VirtualPatient,
    draw_patient,
    patient_rng,
)
from .scales import get_scale
from .store import (  # noqa: F401 (the folder's names: importable from here as before the split)
    CHUNK_DIR,
    MANIFEST_FILE,
    MODELS_DIFFER_HINT,
    RESULTS_FILE,
    RESULTS_FILES,
    RUN_IDENTITY,
    ZARR_FORMAT,
    check_results_format,
    check_trial_folder,
    chunk_bounds,
    completed_chunks,
    cover_patients,
    design_as_run,
    design_from_provenance,
    gather,
    open_trial_folder,
    read_manifest,
    resume_bounds,
    write_chunk,
    write_provenance,
    write_results,
)
from .symptoms import latent_course, observed_scores

__all__ = [
    "COURSE_QUANTITIES",
    "DEFAULT_MODELS",
    "MEASURES",
    "ModelSet",
    "PatientOutcome",
    "RESULTS_FILES",
    "TRAITS",
    "arm_counts",
    "check_arm_doses",
    "design_as_run",
    "design_from_provenance",
    "design_population",
    "draw",
    "n_chunks",
    "outcome_from_biology",
    "run_trial",
    "simulate_chunk",
    "simulate_patient",
    "write_results",
]

#: Measures stored per patient and visit (``stable_rel``: persistent spines, healthy = 1).
MEASURES = ("score", "latent", "window", "density_rel", "bdnf_rel", "stable_rel")
#: Quantities stored per patient on a daily grid (for time-course figures).
COURSE_QUANTITIES = ("latent", "window", "density_rel", "bdnf_rel", "stable_rel")
#: Patient traits stored per patient.
TRAITS = ("baseline_severity", "body_weight_kg", "receptor_density", "stress_deficit", "expectancy",
          "plasticity_responsiveness", "n_screened")
#: Unit of a score on a rating scale (``psilosim.units``: a dimensionless count of points; the
#: scale is named in the variable's ``scale`` attribute or the trial's).
SCALE_POINT = "scale_point"
#: Units of each measure and course quantity (coordinates ``measure_units``, ``quantity_units``):
#: the score and latent severity in scale points, the biology relative to the healthy level.
MEASURE_UNITS = {"score": SCALE_POINT, "latent": SCALE_POINT}
#: Units and names of the stored traits (``{scale}``: the trial's rating scale).
TRAIT_ATTRS = {
    "baseline_severity": (SCALE_POINT, "baseline severity in {scale} points"),
    "body_weight_kg": ("kg", "body weight"),
    "receptor_density": ("1", "5-HT2A receptor density relative to the typical patient"),
    "stress_deficit": ("1", "spine deficit from the stress history (fraction of healthy density)"),
    "expectancy": ("1", "expectancy of improvement relative to the typical patient"),
    "plasticity_responsiveness": ("1", "gain of the routes to BDNF/TrkB signalling relative to typical"),
    "n_screened": ("1", "candidates screened to enrol this patient"),
}
#: Long names of the stored per-patient flags (0/1).
FLAG_NAMES = {"ssri_blunted": "stayed on an SSRI (no washout) (0/1)",
              "on_ssri_at_screening": "taking an SSRI at screening (0/1)"}
DEFAULT_CHUNK = 50
#: Patients a compared arm needs for the Welch difference (a statistical minimum, not a model constant).
MIN_PER_COMPARED_ARM = 2
#: How long to try to reach a Dask scheduler before giving up (a usability setting, not a model constant).
SCHEDULER_TIMEOUT = "10s"


def imaging_hook(design: TrialDesign, models: ModelSet):
    """The hook that measures the network at ``design``'s imaging visits (``None`` without imaging)."""
    if design.imaging is None:
        return None
    if models.imaging_hook is not None:
        return models.imaging_hook
    # the rewiring layer, imported only for imaging designs
    from ..rewiring import params as rewiring_params
    from .imaging import ImagingHook

    return ImagingHook(rewiring_params.REWIRING)


@dataclass(frozen=True)
class PatientOutcome:
    """One simulated patient."""

    patient: VirtualPatient
    arm: int
    visits: np.ndarray          # (visit, measure) in MEASURES order
    course: np.ndarray          # (day, quantity) in COURSE_QUANTITIES order
    acute_effect_peak: float = 0.0
    network: np.ndarray | None = None   # (visit, network_measure) at imaging visits, NaN elsewhere


def design_population(design: TrialDesign, population: PopulationParams) -> PopulationParams:
    """``population`` with the design's share of candidates on an SSRI at screening, if it sets one
    (``TrialDesign.ssri_fraction_at_screening``)."""
    if design.ssri_fraction_at_screening is None:
        return population
    return _with_ssri_fraction(population, design.ssri_fraction_at_screening)


@lru_cache(maxsize=16)
def _with_ssri_fraction(population: PopulationParams, fraction: float) -> PopulationParams:
    """One validated copy per (population, share), not one per patient drawn."""
    return population.replace(fraction_on_ssri_at_screening=fraction)


def draw(design: TrialDesign, index: int, seed: int, *,
         models: ModelSet = DEFAULT_MODELS) -> VirtualPatient:
    """Patient ``index`` of a run with ``seed``, screened by the design's rules (and drawn from the
    population with the design's share on an SSRI, :func:`design_population`)."""
    return draw_patient(index, seed, design.baseline, population=design_population(design, models.population),
                        exclude_psychosis_bipolar=design.exclude_psychosis_bipolar,
                        ssri_washout=design.ssri_washout)


def check_arm_doses(design: TrialDesign, *, models: ModelSet = DEFAULT_MODELS,
                    stacklevel: int = 2) -> None:
    """Compare every arm's doses with the compounds' largest studied doses, once per arm.

    A design's doses are fixed per arm, so a trial checks them here, before any patient, rather
    than in every patient's simulation. A per-kg dose (or a compound whose studied maximum is per
    kg, ketamine's) depends on the patient's body weight: it is checked at the lightest and the
    heaviest weight the population is drawn with (:func:`~psilosim.clinical.patients.weight_range_kg`),
    which bound every patient's dose relative to the maximum
    (:func:`~psilosim.pharmacokinetics.dose_guard.check_dose_over_weights`). A dose refused for
    either end is refused for the design, even if no patient of a given run happens to weigh that much.

    Parameters
    ----------
    design
        The trial.
    models
        Its models (the population gives the weight range).
    stacklevel
        Of the warning, counted from the caller of this function.

    Raises
    ------
    InputError
        On ``arms.<a>.treatments.<t>.regimen.phases.<p>.dose``, naming the arm, for a dose more than
        ``refusal_factor`` (100) times the studied one; above the studied dose an
        :class:`~psilosim.errors.ExtrapolationWarning` names the arm, once per arm and treatment.
    """
    import warnings

    from ..errors import ExtrapolationWarning
    from ..pharmacokinetics.dose_guard import check_dose_over_weights
    from .biology import SPECIES
    from .patients import weight_range_kg

    weights = weight_range_kg(population=models.population)
    for a, arm in enumerate(design.arms):
        for t, treatment in enumerate(arm.arm_treatments()):
            compound = treatment.resolved()
            if compound is None:  # an inert comparator
                continue
            field_name = f"arms.{a}.treatments.{t}.regimen.phases.{{p}}.dose"
            try:
                message = check_dose_over_weights(compound, treatment.regimen, weights, species=SPECIES,
                                                  field=field_name)
            except InputError as exc:
                raise InputError(exc.field, f"arm {arm.name!r}: {exc.problem}") from None
            if message is not None:
                warnings.warn(f"arm {arm.name!r}: {message}", ExtrapolationWarning, stacklevel=stacklevel + 1)


def simulate_patient(design: TrialDesign, index: int, seed: int, *, arm: int | None = None,
                     models: ModelSet = DEFAULT_MODELS, drive=None, check_doses: bool = True) -> PatientOutcome:
    """Simulate patient ``index`` of a run with ``seed``.

    Parameters
    ----------
    design
        The trial.
    index, seed
        Identify the patient (see module docstring).
    arm
        Force an arm (counterfactual "virtual twin" comparisons); default: the randomised one.
    models
        Parameters and hooks.
    drive
        A precomputed receptor drive of this patient and arm (see
        :func:`~psilosim.clinical.biology.patient_drive`); calibrations reuse it.
    check_doses
        Compare this patient's doses with the compounds' largest studied doses (an
        :class:`~psilosim.errors.ExtrapolationWarning` above, :class:`InputError` far above);
        :func:`run_trial` checks each arm once (:func:`check_arm_doses`) and passes ``False``.
    """
    patient = draw(design, index, seed, models=models)
    arm_index = design.arm_of(index, seed) if arm is None else int(arm)
    spec = design.arms[arm_index]
    bio = patient_biology(spec.arm_treatments(), patient, design.grid(), environment=spec.environment,
                          mechanisms=spec.mechanisms, params=models.biology, drive=drive, check_doses=check_doses,
                          interactions=spec.interactions)
    return outcome_from_biology(design, patient, arm_index, bio, seed, models=models)


def outcome_from_biology(design: TrialDesign, patient: VirtualPatient, arm_index: int, bio: BiologyTrajectory,
                         seed: int, *, models: ModelSet = DEFAULT_MODELS) -> PatientOutcome:
    """Symptom course and rated visits of one patient whose biology is already simulated."""
    spec = design.arms[arm_index]
    network = None if models.network_hook is None else models.network_hook(patient, bio)
    course = latent_course(bio, baseline=patient.baseline_severity,
                           expectancy=patient.expectancy * spec.expectancy, therapy=spec.therapy,
                           environment=spec.environment, params=models.symptoms, network_term=network)
    visits = np.asarray(design.visits)
    scores = observed_scores(course, visits, get_scale(design.scale),
                             patient_rng(seed, patient.index, STREAM_MEASUREMENT), params=models.symptoms)
    at_visits = bio.at(visits)
    table = np.column_stack([scores, np.interp(visits, course.time_d, course.latent)]
                            + [at_visits[q] for q in MEASURES[2:]])
    days = np.arange(0.0, design.end_day + 0.5)
    at_days = bio.at(days)
    daily = np.column_stack([np.interp(days, course.time_d, course.latent)]
                            + [at_days[q] for q in COURSE_QUANTITIES[1:]])
    hook = imaging_hook(design, models)
    imaging = None if hook is None else hook(design, patient, arm_index, bio, seed)
    return PatientOutcome(patient, arm_index, table, daily, bio.acute_effect_peak, imaging)


def simulate_chunk(design: TrialDesign, seed: int, start: int, stop: int,
                   *, models: ModelSet = DEFAULT_MODELS, check_doses: bool = True) -> xr.Dataset:
    """Patients ``start … stop-1`` as a Dataset (one chunk of a run).

    ``check_doses`` is passed to :func:`simulate_patient` (``False`` from :func:`run_trial`, which
    has checked every arm before its first chunk).
    """
    outcomes = [simulate_patient(design, i, seed, models=models, check_doses=check_doses) for i in range(start, stop)]
    return _to_dataset(design, outcomes, models)


def _to_dataset(design: TrialDesign, outcomes: list[PatientOutcome], models: ModelSet = DEFAULT_MODELS) -> xr.Dataset:
    index = np.array([o.patient.index for o in outcomes], dtype=np.int64)
    arm_idx = np.array([o.arm for o in outcomes], dtype=np.int64)
    data = {
        "outcome": (("patient", "visit", "measure"), _no_negative_zero(np.stack([o.visits for o in outcomes]))),
        "course": (("patient", "day", "quantity"), _no_negative_zero(np.stack([o.course for o in outcomes]))),
        "arm_index": (("patient",), arm_idx, {"units": "1", "long_name": "index of the patient's arm in the "
                                                                "design's arms (its name: coordinate arm)"}),
        "ssri_blunted": (("patient",), np.array([o.patient.ssri_blunted for o in outcomes], dtype=np.int8)),
        "on_ssri_at_screening": (("patient",), np.array([o.patient.on_ssri_at_screening for o in outcomes],
                                                        dtype=np.int8)),
        "acute_effect_peak": (("patient",), np.array([o.acute_effect_peak for o in outcomes], dtype=float),
                              {"units": "1", "long_name": "peak subjective 'any drug effect' (0-1)"}),
    }
    for name in TRAITS:
        data[name] = (("patient",), np.array([getattr(o.patient, name) for o in outcomes], dtype=float),
                      _trait_attrs(name, design.scale))
    for name in ("ssri_blunted", "on_ssri_at_screening"):
        data[name] += ({"units": "1", "long_name": FLAG_NAMES[name]},)
    ds = xr.Dataset(
        data,
        coords={"patient": index, "visit": np.arange(len(design.visits)),
                "study_day": (("visit",), np.asarray(design.visits), {"units": "day", "long_name": "study day"}),
                "measure": list(MEASURES),
                "measure_units": ("measure", [MEASURE_UNITS.get(m, "1") for m in MEASURES]),
                "day": ("day", np.arange(0.0, design.end_day + 0.5), {"units": "day", "long_name": "study day"}),
                "quantity": list(COURSE_QUANTITIES),
                "quantity_units": ("quantity", [MEASURE_UNITS.get(q, "1") for q in COURSE_QUANTITIES]),
                "arm": (("patient",), np.array(design.arm_names, dtype=object)[arm_idx].astype(str))},
    )
    # scale points are counts of a rating (dimensionless for pint): the scale is named beside them.
    # These two variables mix scale points and relative levels, so they carry no single `units`
    # (a reader would take "1" for all rows): each row's unit is in the coordinate named by
    # `units_coordinate` (measure_units, quantity_units)
    ds["outcome"].attrs.update(units_coordinate="measure_units", scale=design.scale, long_name=(
        f"score and latent severity in {design.scale} points; window, spine densities and BDNF relative (1 = "
        "untreated healthy level, see measure)"))
    ds["course"].attrs.update(units_coordinate="quantity_units", scale=design.scale, long_name=(
        f"daily latent severity in {design.scale} points; window, spine densities and BDNF relative "
        "(see quantity)"))
    hook = imaging_hook(design, models)
    if hook is not None:
        ds["network"] = (("patient", "visit", "network_measure"), np.stack([o.network for o in outcomes]),
                         {"units": "1", "long_name": "network measures of expected FC at imaging visits "
                          "(NaN: no scan at that visit or patient not imaged)"})
        ds = ds.assign_coords(network_measure=list(hook.measure_names(design)))
    return ds


def _no_negative_zero(values: np.ndarray) -> np.ndarray:
    """``values`` with -0.0 written as 0.0 (a score rounded from a tiny negative prints as "-0")."""
    return np.where(values == 0, 0.0, values)


def _trait_attrs(name: str, scale: str) -> dict[str, str]:
    units, long_name = TRAIT_ATTRS[name]
    return {"units": units, "long_name": long_name.format(scale=scale)}


def make_client(backend: str, workers: int | None, scheduler: str | None):
    """A Dask client and the local cluster it runs on (``None`` on a remote scheduler).

    On ``scheduler`` if given (``InputError("--scheduler", ...)`` if unreachable), else on a local
    cluster of ``workers`` processes (``backend="processes"`` or ``workers`` given) or of threads.
    The caller closes both.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT), None
        except (OSError, TimeoutError) as exc:
            raise InputError("--scheduler", f"cannot reach a Dask scheduler at {scheduler} "
                                            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'timed out'})") from None
    if backend == "processes" or workers:
        cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
    else:
        cluster = LocalCluster(n_workers=1, threads_per_worker=max(1, os.cpu_count() or 1), processes=False,
                               dashboard_address=None, silence_logs=50)
    return Client(cluster), cluster


def _progress(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True, disable=not enabled)


def run_trial(design: TrialDesign, *, n_patients: int | None = None, seed: int | None = None,
              out: str | Path | None = None, chunk_size: int = DEFAULT_CHUNK, backend: str = "threads",
              workers: int | None = None, scheduler: str | None = None, models: ModelSet = DEFAULT_MODELS,
              progress: bool = False, max_new_chunks: int | None = None,
              results_format: str = "netcdf", check_doses: bool = True) -> xr.Dataset | None:
    """Run a virtual trial.

    Parameters
    ----------
    design
        The trial design.
    n_patients, seed
        Override the design's defaults.
    out
        Output folder (chunks, ``results.nc`` or ``results.zarr``, ``run.json``); ``None`` keeps
        everything in memory.
    chunk_size
        Patients per task and per saved chunk (does not change results).
    backend
        ``"threads"``, ``"processes"`` or ``"sync"``.
    workers, scheduler
        ``workers=K``: LocalCluster of K processes; ``scheduler``: address of a running scheduler.
    models
        Parameter sets and hooks.
    progress
        Show a progress bar of patients done (stderr).
    max_new_chunks
        Stop after computing this many new chunks and return ``None`` (simulates an interruption).
    results_format
        ``"netcdf"`` (``OUT/results.nc``) or ``"zarr"`` (``OUT/results.zarr``, needs the ``zarr``
        package) for the gathered results; the saved chunks are NetCDF either way, so the format
        does not change what a resumed run finds.
    check_doses
        Check every arm's doses once before any patient (:func:`check_arm_doses`: refused far
        above the studied dose, a warning per arm above it); ``False`` for a caller that has
        called :func:`check_arm_doses` itself (the command line, before creating its folder).
        The patients' simulations never repeat the check.

    Returns
    -------
    xarray.Dataset or None
        The gathered results, or ``None`` when stopped by ``max_new_chunks``.
    """
    n, seed = _checked_options(design, n_patients, seed, chunk_size, backend, workers, results_format)
    if check_doses:
        check_arm_doses(design, models=models, stacklevel=2)
    fingerprint = models.fingerprint(design=design)
    as_run = design_as_run(design, n, seed)
    out_path = None if out is None else Path(out)
    if out_path is None:
        bounds, finished = chunk_bounds(n, chunk_size), set()
    else:
        bounds, finished = open_trial_folder(out_path, design, seed, n, chunk_size, models, fingerprint)
    todo = [b for b in bounds if b not in finished]
    if max_new_chunks is not None:
        todo = todo[:max_new_chunks]
    done = _execute(design, seed, todo, models, out_path, n_patients=n,
                    n_finished=sum(e - s for s, e in finished), progress=progress, backend=backend,
                    workers=workers, scheduler=scheduler)
    if max_new_chunks is not None and len(finished) + len(todo) < len(bounds):
        return None
    return _assemble(as_run, seed, models, fingerprint, bounds, done, out_path, results_format)


def _checked_options(design: TrialDesign, n_patients: int | None, seed: int | None, chunk_size: int,
                     backend: str, workers: int | None, results_format: str) -> tuple[int, int]:
    """The run's number of patients and seed (the design's unless given), after refusing bad options."""
    n = design.patients if n_patients is None else int(n_patients)
    seed = design.seed if seed is None else int(seed)
    if n < 1:
        raise InputError("--patients", f"must be ≥ 1, got {n}")
    if seed < 0:
        raise InputError("--seed", f"must be ≥ 0, got {seed}")
    if chunk_size < 1:
        raise InputError("chunk_size", f"must be ≥ 1, got {chunk_size}")
    if backend not in ("threads", "processes", "sync"):
        raise InputError("backend", f"{backend!r}: expected threads, processes or sync")
    if workers is not None and workers < 1:
        raise InputError("--workers", f"must be ≥ 1, got {workers}")
    check_results_format(results_format)
    return n, seed


def _execute(design: TrialDesign, seed: int, todo: list[tuple[int, int]], models: ModelSet, out: Path | None, *,
             n_patients: int, n_finished: int, progress: bool, backend: str, workers: int | None,
             scheduler: str | None) -> dict[tuple[int, int], xr.Dataset]:
    """Simulate the chunks ``todo``: saved as chunk files in ``out``, or returned by chunk without ``out``."""
    done: dict[tuple[int, int], xr.Dataset] = {}

    def store(bound: tuple[int, int], ds: xr.Dataset) -> None:
        if out is not None:
            write_chunk(ds, out, *bound)
        else:
            done[bound] = ds

    with _progress(progress, n_patients) as bar:
        task = bar.add_task("", total=n_patients, completed=n_finished)
        if backend == "sync" and not workers and not scheduler:
            for bound in todo:
                store(bound, simulate_chunk(design, seed, *bound, models=models, check_doses=False))
                bar.advance(task, bound[1] - bound[0])
        else:
            _run_on_dask(design, seed, todo, models, backend, workers, scheduler,
                         lambda b, ds: (store(b, ds), bar.advance(task, b[1] - b[0])))
    return done


def _assemble(as_run: TrialDesign, seed: int, models: ModelSet, fingerprint: str, bounds: list[tuple[int, int]],
              done: dict[tuple[int, int], xr.Dataset], out: Path | None, results_format: str) -> xr.Dataset:
    """The run's results from its chunks, annotated, and written with its provenance into ``out`` if given."""
    if out is None:
        ds = xr.concat([done[b] for b in bounds], dim="patient").sortby("patient")
    else:
        ds = gather(out, bounds)
    ds = _annotate(ds, as_run, seed, models, fingerprint)
    if out is not None:
        write_results(ds, out, results_format=results_format)
        write_provenance(out, as_run, seed, as_run.patients, models, fingerprint)
    return ds


def arm_counts(design: TrialDesign, n_patients: int, seed: int) -> dict[str, int]:
    """Patients randomised to each arm in a run of ``n_patients`` with ``seed`` (known before running).

    Every complete permuted block holds each arm's allocation share; only the last, partial block
    is drawn.
    """
    size = design.effective_block_size
    full, rest = divmod(int(n_patients), size)
    counts = np.array([full * a.allocation * size // design.allocation_total for a in design.arms])
    counts += np.bincount([design.arm_of(i, seed) for i in range(full * size, full * size + rest)],
                          minlength=len(design.arms))
    return {name: int(c) for name, c in zip(design.arm_names, counts, strict=True)}


def check_difference_possible(design: TrialDesign, n_patients: int, seed: int) -> None:
    """Raise :class:`InputError` (``--patients``) when a compared arm would get fewer than 2 patients.

    The between-arm difference (Welch) needs two patients per arm; checking before the run saves
    simulating a trial whose summary cannot be computed.
    """
    compared = design.compared_arms
    if compared is None:
        return
    counts = arm_counts(design, n_patients, seed)
    short = [f"{arm} {counts[arm]}" for arm in compared if counts[arm] < MIN_PER_COMPARED_ARM]
    if short:
        raise InputError("--patients", f"{n_patients} patients give too few in the compared arms ({', '.join(short)}; "
                                       f"each needs ≥ {MIN_PER_COMPARED_ARM} for the difference); give more patients")


def _run_on_dask(design, seed, todo, models, backend, workers, scheduler, on_done) -> None:
    if not todo:
        return
    from distributed import as_completed

    client, cluster = make_client(backend, workers, scheduler)
    try:
        futures = {client.submit(simulate_chunk, design, seed, s, e, models=models, check_doses=False, pure=False): (s, e)
                   for s, e in todo}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _annotate(ds: xr.Dataset, design: TrialDesign, seed: int, models: ModelSet, fingerprint: str) -> xr.Dataset:
    ds.attrs.update({
        "title": f"psilosim virtual trial {design.name}", "disclaimer": DISCLAIMER,
        "psilosim_version": __version__, "seed": int(seed), "scale": design.scale,
        "arms": json.dumps(design.arm_names), "design": design.model_dump_json(),
        "primary_day": float(design.primary_day), "biology_model": models.label,
        "model_fingerprint": fingerprint,
        "network_model": network_label(design, models),
    })
    if design.imaging is not None:
        ds.attrs["imaging_days"] = json.dumps(design.imaging.visits)
    return ds


def n_chunks(n_patients: int, *, chunk_size: int = DEFAULT_CHUNK) -> int:
    """Number of chunks a run of ``n_patients`` is split into."""
    return math.ceil(n_patients / chunk_size)
