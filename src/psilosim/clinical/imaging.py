"""A trial's imaging: the network plug-in of a virtual trial, one patient's imaging course, the report's FC section.

The clinical link joins the links, so the code that runs the rewiring link (link 6) for trial
patients lives here, not in :mod:`psilosim.rewiring` (which knows nothing of trials):

* :class:`ImagingHook` plugs the rewiring model into a virtual trial (``ModelSet.imaging_hook``):
  at the design's imaging visits it returns the network measures of one patient, stored by the
  trial as ``network(patient, visit, network_measure)``.
* :func:`patient_imaging` is the user-level entry to the same machinery: one virtual patient of a
  trial design's arm (a regimen), healthy or depressed, and its expected FC and network measures
  on chosen days (docs/rewiring.md, "One patient's imaging course").
* :func:`network_section` returns what :func:`psilosim.report.trial.render_trial_report` expects as
  ``network=``: FC figures (expected FC at baseline and at the last imaging visit, and their
  difference, for the patient with the median modularity change of each arm, recomputed from the
  run's seed) and a table of mean changes with 95 % CIs per arm and measure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._seeds import checked_seed_entry
from ..connectome.parcellation import network_order
from ..errors import InputError
from ..report.panels import fc_matrix_panel
from ..rewiring.model import DEFAULT_ACUTE_STATE, RewiringModel, model_for, patient_network
from ..rewiring.params import REWIRING, STREAM_IMAGING, STREAM_SCAN, RewiringParams
from .design import TrialDesign
from .stats import network_day, network_summary

__all__ = ["ImagingHook", "fc_figure", "network_section", "patient_imaging"]


@dataclass(frozen=True)
class ImagingHook:
    """Network measures of one trial patient at the design's imaging visits (``ModelSet.imaging_hook``).

    Called as ``hook(design, patient, arm_index, biology, seed)``; returns an array
    (visit × :meth:`measure_names`) with NaN at visits without imaging and for patients who are
    not imaged (``design.imaging.fraction``).
    """

    params: RewiringParams = REWIRING

    def model(self, design) -> RewiringModel:
        model = model_for(design.imaging.dataset)
        if model.params != self.params:
            model = RewiringModel(model.brain, params=self.params)
        return model

    def measure_names(self, design) -> tuple[str, ...]:
        return self.model(design).measure_names(flexibility=design.imaging.flexibility)

    def is_imaged(self, design, index: int, seed: int) -> bool:
        """Whether patient ``index`` is in the imaging subset (its own random stream)."""
        from .patients import patient_rng

        return bool(patient_rng(seed, index, STREAM_IMAGING).random() < design.imaging.fraction)

    def rewired(self, design, patient, arm_index: int, biology, days, **options):
        """The patient's rewired network at ``days`` (:func:`~psilosim.rewiring.patient_network` with the
        arm's setting and the patient's stress inputs); ``options`` go to that function."""
        from .biology import chain_inputs

        spec = design.arms[arm_index]
        kw = chain_inputs(spec.arm_treatments(), patient, environment=spec.environment)
        return patient_network(self.model(design), biology, spec.environment, days,
                               background_stress=kw["background_stress"], stress=kw["stress"],
                               spine_params=kw["spine_params"], **options)

    def __call__(self, design, patient, arm_index: int, biology, seed: int) -> np.ndarray:
        names = self.measure_names(design)
        visits = np.asarray(design.visits, dtype=float)
        out = np.full((visits.size, len(names)), np.nan)
        if not self.is_imaged(design, patient.index, seed):
            return out
        days = np.asarray(design.imaging.visits, dtype=float)
        scan_rng = np.random.SeedSequence(int(seed), spawn_key=(int(patient.index), STREAM_SCAN))
        result = self.rewired(design, patient, arm_index, biology, days, flexibility=design.imaging.flexibility,
                              scan_seeds=scan_rng.generate_state(days.size))
        rows = np.searchsorted(visits, days)
        for j, name in enumerate(names):
            out[rows, j] = result.measures[name]
        return out


def patient_imaging(*, design: str | TrialDesign = "goodwin2022", arm: str | int = 0,
                    days=(0.0, 21.0, 180.0), patient: int = 0, seed: int = 7,
                    dataset: str = "tvb76", depressed: bool = False,
                    environment: str | None = None, acute_state: str = DEFAULT_ACUTE_STATE,
                    keep_fc: bool = False) -> xr.Dataset:
    """One virtual patient's network measures (and expected FC) on ``days`` after an arm's regimen.

    The patient is drawn as a trial run with ``seed`` draws patient ``patient`` (PK, receptor,
    plasticity and stress variability); links 1–5 run on the design's grid step up to the last
    day, then the rewiring link (:func:`~psilosim.rewiring.patient_network`) on the ``dataset``
    brain. This is what the NW2 check does for its cohort, exposed for one patient.

    Parameters
    ----------
    design
        A preset name (``"goodwin2022"``) or a :class:`~psilosim.clinical.design.TrialDesign`.
    arm
        The arm (its regimen and setting): name (``"25mg"``) or position.
    days
        Study days to measure (day 0 is the untreated baseline; at least one day, none negative).
    patient, seed
        Which virtual patient of which run (non-negative integers; a seed must be given here, the
        patient is drawn as the run with that seed draws it).
    dataset
        Brain: a built-in name (``"tvb76"`` has a hippocampus, ``"aal2"``) or a parcellation folder.
    depressed
        ``False`` (default): a healthy volunteer, as Siegel et al. 2024 (the dataset's own structure,
        no rumination, no stress-induced spine deficit). ``True``: the documented "rigid" depressed
        baseline and the patient's spine deficit.
    environment
        Setting during the window (``"supportive"``, ``"none"``, ``"stressful"``); default the arm's.
    acute_state
        Acute 5-HT2A representation (:data:`psilosim.rewiring.model.ACUTE_STATES`).
    keep_fc
        Also return the expected FC per day (``fc``, dims ``day, region_i, region_j``).

    Returns
    -------
    xarray.Dataset
        One variable per measure (``modularity``, ``dmn_within``, ``dmn_between``, ``mean_fc``,
        ``rewired_fraction``, and ``hippocampus_dmn`` when the brain has a hippocampus) over
        ``day``, all ``units`` "1"; attrs say which patient, arm and setting.

    Raises
    ------
    InputError
        ``arm`` not in the design, ``days`` empty or negative, ``patient`` or ``seed`` not a
        non-negative integer, or an unknown preset or setting.
    """
    from .biology import chain_inputs, patient_biology
    from .presets import get_preset
    from .trial import draw

    # checked here so the error names this function's arguments, not the trial's "patient index"
    # (or numpy's bare ValueError for a negative seed)
    patient = checked_seed_entry(patient, field="patient")
    seed = checked_seed_entry(seed, field="seed")
    design = get_preset(design) if isinstance(design, str) else design
    spec = design.arms[_arm_index(design, arm)]
    days = np.atleast_1d(np.asarray(days, dtype=float))
    if days.size == 0 or not np.isfinite(days).all() or (days < 0).any():
        raise InputError("days", f"expected one or more study days >= 0, got {days.tolist()}")
    environment = spec.environment if environment is None else environment
    if environment not in ("supportive", "none", "stressful"):
        raise InputError("environment", f"{environment!r}: expected supportive, none or stressful")
    model = model_for(dataset, depressed=depressed, acute_state=acute_state)
    person = draw(design, patient, seed)
    if not depressed:
        person = person.model_copy(update={"stress_deficit": 0.0})
    step = design.grid_step_d
    grid = np.unique(np.append(np.arange(0.0, days.max() + step / 2, step), days))
    bio = patient_biology(spec.arm_treatments(), person, grid, environment=environment, mechanisms=spec.mechanisms,
                          interactions=spec.interactions)
    kw = chain_inputs(spec.arm_treatments(), person, environment=environment, mechanisms=spec.mechanisms)
    result = patient_network(model, bio, environment, days, background_stress=kw["background_stress"],
                             stress=kw["stress"], spine_params=kw["spine_params"], keep_fc=keep_fc)
    out = xr.Dataset({name: ("day", values, {"units": "1"}) for name, values in result.measures.items()},
                     coords={"day": ("day", days, {"units": "day"})})
    if keep_fc:
        out["fc"] = xr.concat(result.fc, dim=out["day"]).assign_attrs(units="1", note="expected FC (Pearson r)")
    out.attrs.update(design=design.name, arm=spec.name, patient=patient, seed=seed, dataset=model.brain.name,
                     cohort="depressed" if depressed else "healthy", environment=environment, acute_state=acute_state)
    return out


def _arm_index(design: TrialDesign, arm: str | int) -> int:
    names = [a.name for a in design.arms]
    if isinstance(arm, (int, np.integer)) and not isinstance(arm, bool) and 0 <= arm < len(names):
        return int(arm)
    if isinstance(arm, str) and arm in names:
        return names.index(arm)
    raise InputError("arm", f"{arm!r} is not an arm of {design.name}; arms: {', '.join(names)} (or 0–{len(names) - 1})")


def _median_patient(ds: xr.Dataset, arm: str, day_visit: int) -> int | None:
    q = ds["network"].sel(network_measure="modularity").where(ds["arm"] == arm, drop=True)
    change = (q.isel(visit=day_visit) - q.isel(visit=0)).dropna("patient")
    if change.sizes["patient"] == 0:
        return None
    order = np.argsort(change.values)
    return int(change["patient"].values[order[order.size // 2]])


def _fc_pair(design: TrialDesign, index: int, seed: int, day: float, models=None):
    """Expected FC at day 0 and ``day`` of patient ``index``, simulated as the run did (its ``models``)."""
    from .biology import patient_biology
    from .trial import DEFAULT_MODELS, draw, imaging_hook

    models = DEFAULT_MODELS if models is None else models
    patient = draw(design, index, seed, models=models)
    arm = design.arm_of(index, seed)
    spec = design.arms[arm]
    bio = patient_biology(spec.arm_treatments(), patient, design.grid(), environment=spec.environment,
                          mechanisms=spec.mechanisms, params=models.biology, interactions=spec.interactions)
    hook = imaging_hook(design, models)
    hook = hook if isinstance(hook, ImagingHook) else ImagingHook()  # a custom hook: the default network
    return hook.rewired(design, patient, arm, bio, [0.0, day], keep_fc=True).fc


def fc_figure(arm: str, index: int, day: float, fc0: xr.DataArray, fc1: xr.DataArray, regions):
    """Expected FC at day 0 and ``day`` and their difference, regions grouped by network (``regions``:
    the dataset's region table indexed by label, with ``network`` and ``hemisphere`` columns)."""
    import matplotlib.pyplot as plt

    labels, blocks = network_order(regions.loc[list(fc0["region_i"].values)])
    before = fc0.sel(region_i=labels, region_j=labels).values
    after = fc1.sel(region_i=labels, region_j=labels).values
    diff = after - before
    lim = float(np.abs(diff).max()) or 1.0
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), layout="constrained")
    for ax, values, title, cmap, limits, unit in (
            (axes[0], before, "baseline (day 0)", "viridis", (0.0, 1.0), "Pearson r"),
            (axes[1], after, f"day {day:g}", "viridis", (0.0, 1.0), "Pearson r"),
            (axes[2], diff, f"day {day:g} − baseline", "RdBu_r", (-lim, lim), "Δr")):
        fc_matrix_panel(fig, ax, values, blocks, title, cmap=cmap, limits=limits, label=unit,
                        row_names=ax is axes[0])  # the rows are the same networks in every panel
    fig.suptitle(f"Expected FC of {arm}, patient {index} (median modularity change of the arm); "
                 "regions by network, left then right hemisphere", fontsize=10)
    return fig


def _figure(arm: str, index: int, day: float, fc0: xr.DataArray, fc1: xr.DataArray, regions) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from ..report.panels import png_base64

    return png_base64(fc_figure(arm, index, day, fc0, fc1, regions))


def network_section(ds: xr.Dataset, *, models=None) -> dict | None:
    """``{"fc_figures": [...], "changes": {row: text}}`` for a run with imaging, else ``None``.

    ``models`` is the run's :class:`~psilosim.clinical.trial.ModelSet` (default: the default
    models); the figures' patients are recomputed with it, so pass the one the run used.
    """
    if "network" not in ds:
        return None
    design = TrialDesign.model_validate_json(ds.attrs["design"])
    day = network_day(ds, float(ds.attrs["primary_day"]))
    visit = int(np.flatnonzero(np.isclose(ds["study_day"].values, day))[0])
    from ..connectome import load_dataset

    regions = load_dataset(design.imaging.dataset).regions
    figures = []
    for arm in json.loads(ds.attrs["arms"]):
        index = _median_patient(ds, arm, visit)
        if index is None:
            continue
        fc0, fc1 = _fc_pair(design, index, int(ds.attrs["seed"]), day, models)
        figures.append(_figure(arm, index, day, fc0, fc1, regions))
    changes = {}
    for arm, measures in network_summary(ds).items():
        for name, est in measures.items():
            lo, hi = est["change_ci"]
            changes[f"{arm}: {name} (day {day:g} − baseline, n={est['n']})"] = (
                f"{est['change_mean']:+.5f} (95% CI {lo:+.5f} to {hi:+.5f}); baseline {est['baseline_mean']:.4f}")
    return {"fc_figures": figures, "changes": changes}
