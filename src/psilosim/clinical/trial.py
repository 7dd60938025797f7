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

Determinism: everything random about patient ``i`` comes from ``SeedSequence(seed, (i, ·))``
(traits, measurement noise) and its arm from the permuted block it falls in, so results do not
depend on chunk size, workers, threads or processes.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import xarray as xr

from .. import DISCLAIMER, __version__
from ..errors import DataError, InputError
from ..io import TRIAL_MANIFEST_FILE
from .biology import DEFAULT_BIOLOGY, BiologyTrajectory, ClinicalBiologyParams, patient_biology
from .design import TrialDesign
from .patients import (
    DEFAULT_POPULATION,
    STREAM_MEASUREMENT,
    PopulationParams,
    VirtualPatient,
    draw_patient,
    patient_rng,
)
from .scales import get_scale
from .symptoms import (
    DEFAULT_SYMPTOMS,
    NetworkRigidityHook,
    SymptomParams,
    latent_course,
    observed_scores,
)

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
CHUNK_DIR = "chunks"
RESULTS_FILE = "results.nc"
#: File of the gathered results per ``results_format`` (chunks are always NetCDF: they are small and
#: written atomically; Zarr is offered for the gathered results of large trials, read lazily by chunk).
RESULTS_FILES = {"netcdf": RESULTS_FILE, "zarr": "results.zarr"}
#: Zarr format written: version 2 has a stable specification for every dtype of the results
#: (text coordinates included), so other Zarr readers can open the store.
ZARR_FORMAT = 2
MANIFEST_FILE = TRIAL_MANIFEST_FILE  # io knows it too: a single run must not replace a trial
#: Patients a compared arm needs for the Welch difference (a statistical minimum, not a model constant).
MIN_PER_COMPARED_ARM = 2
#: How long to try to reach a Dask scheduler before giving up (a usability setting, not a model constant).
SCHEDULER_TIMEOUT = "10s"
#: Label of the biology every patient is simulated with (results attrs, report).
BIOLOGY_LABEL = "slow_chain (links 1–5, human parameter sets)"


@dataclass(frozen=True)
class ModelSet:
    """Everything a run's patients are simulated with.

    The biology is always the slow chain (:func:`~psilosim.clinical.biology.patient_biology`);
    ``biology`` holds how an arm's setting enters it. ``network_hook`` is the part-B rigidity
    term of the symptom model (``None`` = not used). ``imaging_hook`` measures the network at a
    design's imaging visits (``hook(design, patient, arm_index, biology, seed)`` → visit × measure
    array, with ``measure_names(design)``); ``None`` uses :class:`psilosim.rewiring.ImagingHook`
    for designs that have imaging visits.
    """

    population: PopulationParams = DEFAULT_POPULATION
    biology: ClinicalBiologyParams = DEFAULT_BIOLOGY
    symptoms: SymptomParams = DEFAULT_SYMPTOMS
    network_hook: NetworkRigidityHook | None = None
    imaging_hook: object | None = None
    label: str = field(default=BIOLOGY_LABEL)

    def fingerprint(self, design: TrialDesign | None = None) -> str:
        """Hash of every parameter set a run depends on (the chain's human sets included).

        With ``design``, also the compounds its arms give (PK and binding parameters) and, when it
        has imaging visits, the effective imaging hook with the network constants it uses (Hopf,
        DMF and its fitted couplings): resuming a run then refuses chunks computed with other values.
        """
        import hashlib

        parts = [json.dumps(part, sort_keys=True, default=str) for part in self.parameter_sets(design).values()]
        parts.append(_hook_identity(self.network_hook))
        if self.imaging_hook is not None:
            parts.append(_hook_identity(self.imaging_hook))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def parameter_sets(self, design: TrialDesign | None = None) -> dict[str, dict]:
        """The parameter values a run depends on, by name (for the fingerprint and the provenance record)."""
        from ..plasticity import plasticity_params
        from ..scenario import acute_chain_parameter_values
        from ..synapses import spine_params

        population = self.population if design is None else design_population(design, self.population)
        out = {"population": population.model_dump(mode="json"), "biology": self.biology.model_dump(mode="json"),
               "symptoms": self.symptoms.model_dump(mode="json"),
               "plasticity.human": plasticity_params("human").model_dump(mode="json"),
               "spines.human": spine_params("human").model_dump(mode="json"),
               **acute_chain_parameter_values()}  # the binding link's effect, interactions and time step
        if design is None:
            return out
        for arm in design.arms:
            for treatment in arm.arm_treatments():
                compound = treatment.resolved()
                if compound is not None:
                    out[f"compound.{treatment.name}"] = compound.model_dump(mode="json")
        hook = imaging_hook(design, self)
        if hook is not None:
            from ..network.dmf import params as dmf
            from ..network.hopf import params as hopf

            out["imaging_hook"] = {"identity": _hook_identity(hook), "dataset": design.imaging.dataset}
            out["network.hopf"] = hopf.HOPF.model_dump(mode="json")
            out["network.dmf"] = dmf.DMF.model_dump(mode="json")
            out["network.dmf_fitted_g"] = dmf.FITTED_G.model_dump(mode="json")
        return out

    def unstable_hooks(self) -> dict[str, str]:
        """Hooks whose identity cannot be made the same in every process, by role, with the reason.

        A run with one of them cannot be resumed: nothing could tell its chunks from those of another hook.
        """
        out = {}
        for role, hook in (("network_hook", self.network_hook), ("imaging_hook", self.imaging_hook)):
            try:
                _stable_identity(hook)
            except UnstableIdentity as exc:
                out[role] = f"{_hook_name(hook)}: {exc}"
        return out


class UnstableIdentity(Exception):
    """A hook whose identity cannot be made the same in every process (a run with it cannot resume)."""


def _stable_identity(hook, _seen: frozenset[int] = frozenset()) -> str:
    """A hook's identity that is the same in every process (for the resume fingerprint).

    A function's ``repr`` holds its memory address, which changes from run to run, and its name
    alone does not tell apart closures of one factory or two lambdas of one module. A function is
    therefore identified by its module, qualified name, a hash of its code, its defaults and the
    values its closure captured; a bound method by its function and its instance; a
    ``functools.partial`` by its function, arguments and keywords; a hook *instance* by its class
    and the values of its dataclass or pydantic fields.

    Raises
    ------
    UnstableIdentity
        When a part of the hook has no such identity (an object without declared fields, say).
    """
    import functools
    import types

    if id(hook) in _seen:  # a recursive closure: already described further up
        return f"<recursive {getattr(hook, '__qualname__', type(hook).__qualname__)}>"
    seen = _seen | {id(hook)}
    if isinstance(hook, functools.partial):
        return (f"partial({_stable_identity(hook.func, seen)}, {_value_identity(hook.args, seen)}, "
                f"{_value_identity(hook.keywords, seen)})")
    if isinstance(hook, types.MethodType):
        return f"{_stable_identity(hook.__func__, seen)}@{_value_identity(hook.__self__, seen)}"
    if isinstance(hook, types.FunctionType):
        cells = [] if hook.__closure__ is None else [_cell_identity(c, seen) for c in hook.__closure__]
        return (f"{hook.__module__}.{hook.__qualname__}[{_code_hash(hook.__code__)}]"
                f"(defaults={_value_identity(hook.__defaults__, seen)}, "
                f"kwdefaults={_value_identity(hook.__kwdefaults__, seen)}, closure={cells})")
    return _value_identity(hook, _seen)  # an instance: _value_identity marks it as seen itself


def _code_hash(code) -> str:
    """Hash of a code object's bytecode, constants and names (nested code objects included)."""
    import hashlib

    def describe(c) -> str:
        consts = [describe(k) if hasattr(k, "co_code")
                  else repr(sorted(k, key=repr)) if isinstance(k, frozenset)  # set order follows the hash seed
                  else repr(k) for k in c.co_consts]
        return f"{c.co_code.hex()}|{consts}|{c.co_names}"

    return hashlib.sha256(describe(code).encode()).hexdigest()[:16]


def _cell_identity(cell, seen: frozenset[int]) -> str:
    try:
        contents = cell.cell_contents
    except ValueError:  # a cell not yet filled
        return "<empty cell>"
    return _value_identity(contents, seen)


def _value_identity(value, seen: frozenset[int]) -> str:
    """A stable description of a value a hook holds (captured, default, argument or instance)."""
    import dataclasses
    import enum
    import functools
    import hashlib
    import types

    from pydantic import BaseModel

    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic, enum.Enum)):
        return repr(value)
    if id(value) in seen:  # a reference cycle (a list holding itself, two hooks naming each other)
        return f"<recursive {type(value).__qualname__}>"
    if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
        return _stable_identity(value, seen)  # which marks it as seen itself
    seen = seen | {id(value)}
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}({[_value_identity(v, seen) for v in value]})"
    if isinstance(value, dict):
        return f"dict({sorted((repr(k), _value_identity(v, seen)) for k, v in value.items())})"
    if isinstance(value, (set, frozenset)):
        return f"set({sorted(_value_identity(v, seen) for v in value)})"
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:  # its bytes are pointers, different in every process
            raise UnstableIdentity(f"numpy array of dtype {value.dtype}")
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]
        return f"array({value.dtype}, {value.shape}, {digest})"
    if isinstance(value, (type, types.ModuleType)):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value.__name__)}"
    if isinstance(value, types.BuiltinFunctionType) and isinstance(value.__self__, (types.ModuleType, type(None))):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.ufunc):
        return f"numpy.{value.__name__}"
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    elif isinstance(value, BaseModel):
        names = list(type(value).model_fields)
    else:
        raise UnstableIdentity(f"{type(value).__module__}.{type(value).__qualname__} object "
                               "(neither a dataclass nor a pydantic model)")
    cls = type(value)
    fields = ", ".join(f"{n}={_value_identity(getattr(value, n), seen)}" for n in names)
    return f"{cls.__module__}.{cls.__qualname__}({fields})"


def _hook_identity(hook) -> str:
    """:func:`_stable_identity`, or a marker valid in this process only when there is none."""
    try:
        return _stable_identity(hook)
    except UnstableIdentity as exc:
        return f"unstable:{_hook_name(hook)}:{exc}:{id(hook)}"


def _hook_name(hook) -> str:
    target = getattr(hook, "func", getattr(hook, "__func__", hook))
    return getattr(target, "__qualname__", type(hook).__qualname__)


DEFAULT_MODELS = ModelSet()


def imaging_hook(design: TrialDesign, models: ModelSet):
    """The hook that measures the network at ``design``'s imaging visits (``None`` without imaging)."""
    if design.imaging is None:
        return None
    if models.imaging_hook is not None:
        return models.imaging_hook
    from ..rewiring import ImagingHook  # the rewiring layer, imported only for imaging designs
    from ..rewiring import params as rewiring_params

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


def draw(design: TrialDesign, index: int, seed: int, models: ModelSet = DEFAULT_MODELS) -> VirtualPatient:
    """Patient ``index`` of a run with ``seed``, screened by the design's rules (and drawn from the
    population with the design's share on an SSRI, :func:`design_population`)."""
    return draw_patient(index, seed, design.baseline, population=design_population(design, models.population),
                        exclude_psychosis_bipolar=design.exclude_psychosis_bipolar,
                        ssri_washout=design.ssri_washout)


def check_arm_doses(design: TrialDesign, models: ModelSet = DEFAULT_MODELS, *, stacklevel: int = 2) -> None:
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

    weights = weight_range_kg(models.population)
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
    patient = draw(design, index, seed, models)
    arm_index = design.arm_of(index, seed) if arm is None else int(arm)
    spec = design.arms[arm_index]
    bio = patient_biology(spec.arm_treatments(), patient, design.grid(), environment=spec.environment,
                          mechanisms=spec.mechanisms, params=models.biology, drive=drive, check_doses=check_doses,
                          interactions=spec.interactions)
    return outcome_from_biology(design, patient, arm_index, bio, seed, models)


def outcome_from_biology(design: TrialDesign, patient: VirtualPatient, arm_index: int, bio: BiologyTrajectory,
                         seed: int, models: ModelSet = DEFAULT_MODELS) -> PatientOutcome:
    """Symptom course and rated visits of one patient whose biology is already simulated."""
    spec = design.arms[arm_index]
    network = None if models.network_hook is None else models.network_hook(patient, bio)
    course = latent_course(bio, baseline=patient.baseline_severity,
                           expectancy=patient.expectancy * spec.expectancy, therapy=spec.therapy,
                           environment=spec.environment, params=models.symptoms, network_term=network)
    visits = np.asarray(design.visits)
    scores = observed_scores(course, visits, get_scale(design.scale),
                             patient_rng(seed, patient.index, STREAM_MEASUREMENT), models.symptoms)
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
                   models: ModelSet = DEFAULT_MODELS, *, check_doses: bool = True) -> xr.Dataset:
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
    # scale points are counts of a rating (dimensionless for pint): the scale is named beside them,
    # and each measure's unit is in the coordinate measure_units (quantity_units for the course)
    ds["outcome"].attrs.update(units="1", units_coordinate="measure_units", scale=design.scale, long_name=(
        f"score and latent severity in {design.scale} points; window, spine densities and BDNF relative (1 = "
        "untreated healthy level, see measure)"))
    ds["course"].attrs.update(units="1", units_coordinate="quantity_units", scale=design.scale, long_name=(
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


# --------------------------------------------------------------------------- chunk store
def _chunk_bounds(n_patients: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_size, n_patients)) for s in range(0, n_patients, chunk_size)]


def _chunk_path(out: Path, start: int, stop: int) -> Path:
    return out / CHUNK_DIR / f"chunk_{start:08d}_{stop:08d}.nc"


def _write_atomically(ds: xr.Dataset, path: Path) -> None:
    tmp = path.with_suffix(".nc.partial")
    ds.to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, path)


def _write_zarr_atomically(ds: xr.Dataset, path: Path) -> None:
    """Write a Zarr store next to ``path`` and move it into place, so a reader never sees half a store."""
    import shutil

    tmp = path.with_name(path.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    ds.to_zarr(tmp, mode="w", zarr_format=ZARR_FORMAT)
    if path.exists():  # a folder cannot be replaced by a rename: the previous store goes first
        shutil.rmtree(path)
    os.replace(tmp, path)


def write_results(ds: xr.Dataset, out: Path, results_format: str = "netcdf") -> Path:
    """Write the gathered results into ``out`` as ``results.nc`` or ``results.zarr``; return the path."""
    from ..io import stamp

    path = out / RESULTS_FILES[results_format]
    ds = stamp(ds)
    if results_format == "zarr":
        _write_zarr_atomically(ds, path)
    else:
        _write_atomically(ds, path)
    return path


def check_results_format(results_format: str) -> None:
    """Refuse an unknown results format, or Zarr without the zarr package (``InputError("--format")``)."""
    if results_format not in RESULTS_FILES:
        raise InputError("--format", f"{results_format!r}: expected one of {', '.join(RESULTS_FILES)}")
    if results_format == "zarr":
        try:
            import zarr  # noqa: F401 (only checking that it is installed)
        except ImportError:
            raise InputError("--format", "zarr needs the zarr package: pip install 'psilosim[zarr]'") from None


def _check_manifest(out: Path, manifest: dict, unstable: dict[str, str] | None = None) -> None:
    path = out / MANIFEST_FILE
    if path.exists() and unstable:
        role, why = next(iter(unstable.items()))
        raise InputError("models", f"cannot resume the run in {out}: its {role} ({why}) has no identity that "
                                   "stays the same between processes, so chunks made with another hook could not be "
                                   "told apart; give a function, or a dataclass or pydantic hook, or use another folder")
    if path.exists():
        old = read_manifest(out)
        differs = [k for k in RUN_IDENTITY if old.get(k) != manifest[k]]
        if differs:
            raise InputError("--out", f"{out} holds a different run: its {' and '.join(RUN_IDENTITY[k] for k in differs)} "
                                      f"{'differ' if len(differs) > 1 else 'differs'}{_values(old, manifest, differs)}; "
                                      "choose another folder or delete it"
                                      + (f" ({MODELS_DIFFER_HINT})" if "models" in differs else ""))
    else:
        (out / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2))


#: What identifies a run in its manifest (``run.json``), with the name a message gives it. The chunk
#: size is not among them: results do not depend on it, and a resumed run reuses the chunks on disk
#: whatever their size (:func:`resume_bounds`).
RUN_IDENTITY = {"design": "design", "seed": "seed", "patients": "number of patients",
                "models": "model parameters", "version": "psilosim version"}
#: Why the model parameters of a folder can differ although the user changed nothing.
MODELS_DIFFER_HINT = ("model parameters: a hash of every parameter value the run depends on, which changes when a "
                      "parameter changes or a psilosim update records more of them; folders made before the binding "
                      "link's sets were recorded are not resumed")


def read_manifest(out: Path) -> dict | None:
    """The manifest (``run.json``) of the trial folder ``out``; ``None`` when it has none.

    Raises
    ------
    InputError
        On ``--out`` when ``run.json`` is not a JSON object holding every key of :data:`RUN_IDENTITY`
        (someone else's file, or a damaged one): it is not told "a different run".
    """
    path = Path(out) / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or not set(RUN_IDENTITY) <= set(manifest):
        raise InputError("--out", f"{path} is not a psilosim trial manifest; use another folder")
    return manifest


def check_trial_folder(out: Path) -> None:
    """Refuse an output folder a trial may not write into: only an empty folder or a trial's own
    folder (a real ``run.json``, resumed or rerun) is accepted, so ``--out`` never replaces nor
    mixes with other files (a ``psilosim run`` folder's ``results.nc``, ``acute.png``).

    Raises
    ------
    InputError
        On ``--out``: a ``run.json`` that is not a manifest (:func:`read_manifest`), or a non-empty
        folder without one.
    """
    out = Path(out)
    if read_manifest(out) is None and out.is_dir() and any(out.iterdir()):
        raise InputError("--out", f"{out} exists and is not a psilosim output folder of a trial (no {MANIFEST_FILE}); "
                                  "choose an empty or new folder, or a trial's folder to resume it")


def _values(old: dict, new: dict, keys: list[str]) -> str:
    """`` (seed 1 there, 2 asked)`` for the keys whose values a person can read (not the hashes)."""
    readable = [f"{RUN_IDENTITY[k]} {old.get(k)} there, {new[k]} asked" for k in keys
                if k in ("seed", "patients", "version")]
    return f" ({'; '.join(readable)})" if readable else ""


def resume_bounds(out: Path, n_patients: int, chunk_size: int) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Chunks of a run resumed in ``out``, and those already complete on disk.

    The complete chunk files are kept whatever chunk size made them (non-overlapping, in order of
    their first patient); the patients no kept chunk holds are split into new chunks of
    ``chunk_size``. Every patient is in exactly one chunk, so none is lost or duplicated.

    Parameters
    ----------
    out
        The run's output folder (its chunk files under ``CHUNK_DIR``).
    n_patients
        Patients in the run.
    chunk_size
        Largest number of patients in a new chunk.

    Returns
    -------
    tuple
        ``(bounds, complete)``: every chunk as ``(first patient, one past the last)``, sorted, and
        the set of those already complete on disk (:func:`cover_patients`).
    """
    on_disk = [b for b in map(_bounds_of, (out / CHUNK_DIR).glob("chunk_*_*.nc")) if b and b[1] <= n_patients]
    return cover_patients(completed_chunks(out, on_disk), n_patients, chunk_size)


def cover_patients(complete, n_patients: int, chunk_size: int) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Chunks holding patients ``0 … n_patients-1`` exactly once: non-overlapping ``complete``
    chunks (earliest first), and new chunks of at most ``chunk_size`` patients in the gaps.

    Parameters
    ----------
    complete
        ``(start, stop)`` patient ranges already done (they may overlap, e.g. from two chunk
        sizes; of overlapping ones the earliest is kept; those reaching past ``n_patients`` are dropped).
    n_patients
        Patients in the run.
    chunk_size
        Largest number of patients in a new chunk.

    Returns
    -------
    tuple
        ``(bounds, kept)``: every chunk as ``(start, stop)``, sorted, and the set of ``complete``
        chunks kept.
    """
    kept, end = [], 0
    for start, stop in sorted(complete):
        if end <= start < stop <= n_patients:  # files of two chunkings may overlap: the first one wins
            kept.append((start, stop))
            end = stop
    bounds, cursor = list(kept), 0
    for start, stop in [*kept, (n_patients, n_patients)]:
        bounds += [(s, min(s + chunk_size, start)) for s in range(cursor, start, chunk_size)]
        cursor = stop
    return sorted(bounds), set(kept)


def _bounds_of(path: Path) -> tuple[int, int] | None:
    """``(start, stop)`` of a chunk file named by :func:`_chunk_path`, ``None`` for another name."""
    match = re.fullmatch(r"chunk_(\d+)_(\d+)", path.stem)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def completed_chunks(out: Path, bounds: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Chunks whose file exists and holds exactly the chunk's patients."""
    done = set()
    for start, stop in bounds:
        path = _chunk_path(out, start, stop)
        if not path.exists():
            continue
        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                ok = np.array_equal(ds["patient"].values, np.arange(start, stop))
        except Exception:  # a truncated file from a killed run: recompute it
            ok = False
        if ok:
            done.add((start, stop))
    return done


def gather(out: Path, bounds: list[tuple[int, int]]) -> xr.Dataset:
    """Concatenate the chunk files of ``bounds`` and check every patient appears exactly once."""
    parts = [xr.load_dataset(_chunk_path(out, s, e), engine="h5netcdf") for s, e in bounds]
    ds = xr.concat(parts, dim="patient").sortby("patient")
    n = bounds[-1][1]
    if not np.array_equal(ds["patient"].values, np.arange(n)):
        raise DataError(f"chunks in {out} do not hold patients 0…{n - 1} exactly once")
    return ds


# --------------------------------------------------------------------------- execution
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
    if check_doses:
        check_arm_doses(design, models, stacklevel=2)
    bounds = _chunk_bounds(n, chunk_size)
    fingerprint = models.fingerprint(design)
    as_run = design_as_run(design, n, seed)
    out_path = None if out is None else Path(out)
    done: dict[tuple[int, int], xr.Dataset] = {}
    finished: set[tuple[int, int]] = set()
    if out_path is not None:
        if out_path.exists() and not out_path.is_dir():
            raise InputError("--out", f"{out_path} is a file, not a folder; choose another output folder")
        check_trial_folder(out_path)  # an empty folder or a trial's own, for the API as for the CLI
        out_path.mkdir(parents=True, exist_ok=True)
        _check_manifest(out_path, {"design": _design_identity(design), "seed": seed, "patients": n,
                                   "models": fingerprint,
                                   "version": __version__}, models.unstable_hooks())
        bounds, finished = resume_bounds(out_path, n, chunk_size)
    todo = [b for b in bounds if b not in finished]
    if max_new_chunks is not None:
        todo = todo[:max_new_chunks]

    def store(bound: tuple[int, int], ds: xr.Dataset) -> None:
        if out_path is not None:
            _write_atomically(ds, _chunk_path(out_path, *bound))
        else:
            done[bound] = ds

    with _progress(progress, n) as bar:
        task = bar.add_task("", total=n, completed=sum(e - s for s, e in finished))
        if backend == "sync" and not workers and not scheduler:
            for bound in todo:
                store(bound, simulate_chunk(design, seed, *bound, models, check_doses=False))
                bar.advance(task, bound[1] - bound[0])
        else:
            _run_on_dask(design, seed, todo, models, backend, workers, scheduler,
                         lambda b, ds: (store(b, ds), bar.advance(task, b[1] - b[0])))
    if max_new_chunks is not None and len(finished) + len(todo) < len(bounds):
        return None
    if out_path is None:
        ds = xr.concat([done[b] for b in bounds], dim="patient").sortby("patient")
    else:
        ds = gather(out_path, bounds)
    ds = _annotate(ds, as_run, seed, models, fingerprint)
    if out_path is not None:
        write_results(ds, out_path, results_format)
        _write_provenance(out_path, as_run, seed, n, models, fingerprint)
    return ds


def _write_provenance(out: Path, design: TrialDesign, seed: int, n_patients: int, models: ModelSet,
                      fingerprint: str) -> None:
    """``provenance.json`` of a finished run: version, design (:func:`design_as_run`), seed, UTC
    time and parameter values (``fingerprint``: the run's ``models.fingerprint(design)``, computed
    once per run)."""
    from ..io import PROVENANCE_FILE, provenance_record

    record = provenance_record(scenario=design.model_dump(mode="json"), seed=int(seed), kind="trial",
                               parameter_sets=models.parameter_sets(design),
                               extra={"patients": int(n_patients), "model_fingerprint": fingerprint,
                                      "design_fingerprint": design.fingerprint(), "biology_model": models.label,
                                      "network_model": _network_label(design, models)})
    tmp = out / f"{PROVENANCE_FILE}.partial"
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / PROVENANCE_FILE)


def _design_identity(design: TrialDesign) -> str:
    """The manifest's ``design``: the design's hash apart from its patients and seed, which the
    manifest keeps as keys of their own, so a refused resume names the one that differs, and a
    design re-read from ``provenance.json`` resumes the run it came from."""
    return design.model_copy(update={"patients": 1, "seed": 0}).fingerprint()


def design_as_run(design: TrialDesign, n_patients: int, seed: int) -> TrialDesign:
    """``design`` with the number of patients and the seed a run used in place of its defaults:
    the design a run saves (results ``attrs["design"]``, ``provenance.json``) and identifies itself
    by, so that the saved design alone re-runs the same patients (:func:`design_from_provenance`).

    The simulation, the model fingerprint and the manifest's ``design`` (:func:`_design_identity`)
    do not depend on these two fields.
    """
    if design.patients == n_patients and design.seed == seed:
        return design
    return design.model_copy(update={"patients": int(n_patients), "seed": int(seed)})


def design_from_provenance(path: str | Path) -> TrialDesign:
    """The design of the trial whose ``provenance.json`` is at ``path``, with the patients and seed
    it was run with: :func:`run_trial` of it gives the same numbers again.

    Raises
    ------
    InputError
        On the path: not a psilosim provenance record, or one of ``psilosim run`` (a scenario, not
        a trial); the design's own errors as :func:`~psilosim.clinical.design.design_from_dict`.
    """
    from ..io import read_provenance
    from .design import design_from_dict

    record = read_provenance(path, "trial")
    data = dict(record["scenario"])
    for key in ("patients", "seed"):  # top level: older records saved the design's defaults in the block
        if record.get(key) is not None:
            data[key] = record[key]
    return design_from_dict(data, source=str(path))


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
        futures = {client.submit(simulate_chunk, design, seed, s, e, models, check_doses=False, pure=False): (s, e)
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
        "network_model": _network_label(design, models),
    })
    if design.imaging is not None:
        ds.attrs["imaging_days"] = json.dumps(design.imaging.visits)
    return ds


def _network_label(design: TrialDesign, models: ModelSet) -> str:
    parts = []
    if models.network_hook is not None:
        parts.append(f"symptom network term {models.network_hook!r}")
    if design.imaging is not None:
        parts.append(f"rewiring + expected FC on {design.imaging.dataset} (psilosim.rewiring)")
    return "; ".join(parts) or "none (no imaging visits, no network term)"


def n_chunks(n_patients: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    """Number of chunks a run of ``n_patients`` is split into."""
    return math.ceil(n_patients / chunk_size)
