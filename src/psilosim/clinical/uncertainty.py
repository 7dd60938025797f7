"""How far the calibration data's own uncertainty moves the model's clinical predictions.

Two parameters of the clinical layer are fitted (:mod:`psilosim.clinical.calibration`):
``weight_circuit`` to ketamine's day-1 effect size (CL4) and the SSRI transcription gain to the
escitalopram arm of Carhart-Harris 2021 (CL1). Both targets are published estimates with a 95 %
interval (:data:`~psilosim.clinical.calibration.TARGETS`). Every pair of target values inside
those intervals calibrates the model equally well, so this module refits at the **corners** of
the two intervals (and at the centre) and reports each prediction's range over the five
calibrations.

How to read the range:

* A published result that the range reaches (or whose 95 % CI overlaps it) *may* be matched by
  a calibration the data allow: the miss, if any, is within what the calibration data can say.
* A published result outside the range is not reachable by refitting within the data's
  uncertainty: the miss lies in the model's structure or in its assumed (uncalibrated) parameters.

It is a bounding design, not a probability distribution: the range is not a credible interval,
and the assumed parameters are held at their values. The cohorts are virtual twins (each patient
in every arm, noise-free latent severity, :class:`~psilosim.clinical.calibration.TwinCohort`), so
the range carries no Monte-Carlo noise from randomisation or rating error.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr

from .. import DISCLAIMER
from ..errors import InputError
from .calibration import FIT_N, FIT_SEED, TARGETS, TwinCohort, effect_size_day1, fit_cohorts
from .identity import DEFAULT_MODELS, ModelSet
from .presets import get_preset
from .trial import SCALE_POINT

#: Presets whose twin cohorts the calibration itself needs.
CALIBRATION_PRESETS = ("ketamine_iv", "carhart2021")


@dataclass(frozen=True)
class Prediction:
    """One number the model predicts for a preset, compared with the preset's published value.

    ``kind`` is ``"arm"`` (an arm's mean change from baseline at ``day``), ``"difference"``
    (first arm − second arm at ``day``) or ``"share"`` (the difference at ``day`` as a fraction of
    the difference at ``reference_day``: how much of an early effect is left).
    """

    preset: str
    kind: Literal["arm", "difference", "share"]
    day: float
    arms: tuple[str, ...]
    reference_day: float | None = None

    @property
    def key(self) -> str:
        if self.kind == "arm":
            return f"{self.preset}: {self.arms[0]}, day {self.day:g}"
        what = " − ".join(self.arms)
        if self.kind == "share":
            return f"{self.preset}: {what}, share of day {self.reference_day:g} left at day {self.day:g}"
        return f"{self.preset}: {what}, day {self.day:g}"

    def value(self, cohort: TwinCohort, models: ModelSet) -> float:
        """The model's value on a twin cohort of this preset."""
        change = cohort.change(self.day, models=models)
        if self.kind == "arm":
            return float(change[self.arms[0]].mean())
        diff = float(change[self.arms[0]].mean() - change[self.arms[1]].mean())
        if self.kind == "difference":
            return diff
        early = cohort.change(self.reference_day, models=models)
        return diff / float(early[self.arms[0]].mean() - early[self.arms[1]].mean())

    def published(self) -> tuple[float, float, float]:
        """(estimate, 95 % CI low, high) from the preset's ``published`` record; NaN where the
        paper gives no number (or no CI) for it. A difference is looked up only for the arms the
        trial compared, in its order."""
        design = get_preset(self.preset)
        pub, day, nan = design.published, f"{self.day:g}", (math.nan, math.nan)
        primary = self.day == design.primary_day
        if self.kind == "arm":
            arm = self.arms[0]
            estimate = pub.get("change_primary", {}).get(arm) if primary else None
            if estimate is None:
                estimate = pub.get("change_by_day", {}).get(arm, {}).get(day)
            if estimate is None:
                return (math.nan, *nan)
            ci = pub.get("change_by_day_ci", {}).get(arm, {}).get(day)
            se = pub.get("change_primary_se", {}).get(arm) if primary else None
            if ci is None and se is not None:  # a mean ± SE: its normal 95 % interval
                half = TARGETS.normal_quantile_95.value * se
                ci = (estimate - half, estimate + half)
            return float(estimate), *map(float, ci if ci is not None else nan)
        if self.kind == "difference" and tuple(self.arms) == design.compared_arms:
            entry = pub.get("difference_primary") if primary else pub.get("difference_by_day", {}).get(day)
            if isinstance(entry, dict):
                return float(entry["estimate"]), *map(float, entry.get("ci", nan))
        return (math.nan, *nan)


#: CL1.psilocybin: Carhart-Harris 2021's psilocybin arm at week 6 (checked, not fitted).
CL1_PSILOCYBIN = Prediction("carhart2021", "arm", 42.0, ("psilocybin",))
#: The predictions the docs compare (docs/clinical.md, "Known discrepancies"); none is fitted.
PREDICTIONS: tuple[Prediction, ...] = (
    CL1_PSILOCYBIN,
    Prediction("carhart2021", "difference", 42.0, ("psilocybin", "escitalopram")),
    Prediction("raison2023", "difference", 2.0, ("psilocybin", "niacin")),
    Prediction("raison2023", "difference", 43.0, ("psilocybin", "niacin")),
    Prediction("raison2023", "arm", 43.0, ("psilocybin",)),
    Prediction("raison2023", "arm", 43.0, ("niacin",)),
    Prediction("goodwin2022", "arm", 21.0, ("25mg",)),
    Prediction("goodwin2022", "arm", 21.0, ("10mg",)),
    Prediction("goodwin2022", "arm", 21.0, ("1mg",)),
    Prediction("goodwin2022", "difference", 21.0, ("25mg", "1mg")),
    Prediction("ketamine_iv", "share", 14.0, ("ketamine", "saline"), reference_day=1.0),
)


def target_intervals() -> dict[str, tuple[float, float, float]]:
    """(central, low, high) of each calibration target: Kishimoto's 95 % CI for CL4, the
    escitalopram change ± 1.96 SE for CL1."""
    t = TARGETS
    half = t.normal_quantile_95.value * t.cl1_escitalopram_se.value
    esc = t.cl1_escitalopram_change.value
    return {"cl4_hedges_g": (t.cl4_hedges_g.value, t.cl4_hedges_g_ci_low.value, t.cl4_hedges_g_ci_high.value),
            "cl1_escitalopram": (esc, esc - half, esc + half)}


def calibration_points() -> list[tuple[float, float]]:
    """(CL4 g, CL1 escitalopram change) to fit at: the centre first, then the four corners."""
    iv = target_intervals()
    g, esc = iv["cl4_hedges_g"], iv["cl1_escitalopram"]
    return [(g[0], esc[0])] + list(itertools.product(g[1:], esc[1:]))


def calibration_envelope(*, n: int = FIT_N, seed: int = FIT_SEED, models: ModelSet = DEFAULT_MODELS,
                         predictions: tuple[Prediction, ...] = PREDICTIONS,
                         workers: int | None = None, progress: bool = False) -> xr.Dataset:
    """Refit at every :func:`calibration_points` pair and evaluate every prediction.

    Parameters
    ----------
    n, seed
        Virtual twins per cohort and their seed (the published fit uses 200 and 7).
    models
        The model set whose two calibrated parameters are refitted.
    predictions
        What to evaluate (default :data:`PREDICTIONS`).
    workers
        ``None``: in this process. ``K``: the calibrations fan out over a Dask ``LocalCluster`` of
        K single-threaded processes (each builds its twin cohorts once and takes every K-th
        calibration). The result is the same either way.
    progress
        Show a progress bar.

    Returns
    -------
    xarray.Dataset
        ``value(calibration, prediction)`` in the preset's scale points (``share``: a fraction),
        the fitted ``weight_circuit`` and ``gain_ssri_transcription`` and the targets per
        calibration, and per prediction its preset and published estimate and 95 % CI (NaN where
        none is published).
    """
    points = calibration_points()
    jobs = [(models, g, esc) for g, esc in points]
    rows, fitted = _fan_out(n, seed, models, jobs, predictions, workers=workers, progress=progress,
                            description="refitting at the calibration targets' 95 % ends")
    return _as_dataset(points, fitted, rows, predictions, n=n, seed=seed)


def _fan_out(n: int, seed: int, models: ModelSet, jobs: list, predictions, *, workers: int | None,
             progress: bool, description: str) -> tuple[list, list]:
    """Run ``jobs`` ((model set, g, esc) each) on twin cohorts drawn with ``models``; rows and fits
    in job order, in this process or on ``workers`` processes (every K-th job per process)."""
    if workers is not None and workers < 1:
        raise InputError("workers", f"must be ≥ 1, got {workers}")
    if not workers:
        cohorts = _twin_cohorts(n, seed, models, predictions)
        results = [_refit_and_predict(cohorts, m, g, esc, predictions) for m, g, esc in _steps(jobs, progress, description)]
    else:
        results = _on_local_cluster(n, seed, models, jobs, predictions, workers, progress, description)
    return [r for r, _ in results], [f for _, f in results]


def _calibrate_share(n: int, seed: int, models: ModelSet, jobs: list, predictions) -> list:
    """One process's share: its own cohorts, then each job in turn (a Dask task)."""
    cohorts = _twin_cohorts(n, seed, models, predictions)
    return [_refit_and_predict(cohorts, m, g, esc, predictions) for m, g, esc in jobs]


def _on_local_cluster(n, seed, models, jobs, predictions, workers: int, progress: bool, description: str) -> list:
    from distributed import as_completed
    from rich.progress import Progress

    from .trial import make_client

    shares = [jobs[k::workers] for k in range(workers) if jobs[k::workers]]
    client, cluster = make_client("processes", len(shares), None)
    out: list = [None] * len(jobs)
    try:
        futures = {client.submit(_calibrate_share, n, seed, models, share, predictions, pure=False): k
                   for k, share in enumerate(shares)}
        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task(description, total=len(shares))
            for fut in as_completed(futures):
                k = futures[fut]
                out[k::len(shares)] = fut.result()  # share k holds jobs k, k + K, k + 2K, …
                bar.advance(task)
    finally:
        client.close()
        cluster.close()
    return out


def _twin_cohorts(n: int, seed: int, models: ModelSet, predictions) -> dict[str, TwinCohort]:
    if n < 2:
        raise InputError("n", f"needs at least 2 twins per cohort (an effect size needs a spread), got {n}")
    presets = list(dict.fromkeys(CALIBRATION_PRESETS + tuple(p.preset for p in predictions)))
    return {name: TwinCohort(get_preset(name), n, seed, models) for name in presets}


def _refit_and_predict(cohorts: dict[str, TwinCohort], models: ModelSet, g: float, esc: float, predictions):
    """Fit the two parameters at targets (g, esc) from the default chain, then evaluate every
    prediction; returns the row of values and (weight, gain, achieved g, achieved change)."""
    for name in CALIBRATION_PRESETS:  # every fit starts from the default chain (the others are rerun below)
        cohorts[name].rerun()
    current, plast = fit_cohorts(cohorts["ketamine_iv"], cohorts["carhart2021"], models=models,
                                 cl4_hedges_g=g, cl1_escitalopram=esc, clip=True)
    for cohort in cohorts.values():
        cohort.rerun(plasticity=plast)
    row = [p.value(cohorts[p.preset], current) for p in predictions]
    car = cohorts["carhart2021"]  # CL1.escitalopram is read at the design's primary visit (week 6)
    achieved = (effect_size_day1(cohorts["ketamine_iv"], models=current),
                float(car.change(car.design.primary_day, models=current)["escitalopram"].mean()))
    return row, (current.symptoms.weight_circuit.value, plast.gain_ssri_transcription.value) + achieved


def _steps(items: list, progress: bool, description: str):
    if not progress:
        return items
    from rich.progress import track

    return track(items, description=description)


#: Assumed symptom-model parameters that :func:`assumption_sensitivity` varies: every assumed one
#: that moves a mean change (the rating-noise and fluctuation SDs only set spreads; the stressful
#: setting and the network term are not used by the predicted trials).
SENSITIVITY_PARAMETERS = ("weight_therapy", "weight_placebo", "therapy_rate", "therapy_window_gain",
                          "therapy_off_level", "environment_none_level", "placebo_tau", "severity_tau")
#: Each is halved and doubled: an exploratory range (assumed) for values nobody measured.
SENSITIVITY_FACTORS = (0.5, 2.0)
#: A sensitivity-table cell names at most this many variants (more are counted).
MAX_NAMED_VARIANTS = 3
#: A variant counts as calibrated when both targets are met to within this (g units and QIDS
#: points; the Brent fits stop at 1e-4 in the parameter): otherwise a target was out of reach.
CALIBRATED_TOLERANCE = 0.01


def assumption_sensitivity(*, n: int = FIT_N, seed: int = FIT_SEED,
                           models: ModelSet = DEFAULT_MODELS,
                           parameters: tuple[str, ...] = SENSITIVITY_PARAMETERS,
                           factors: tuple[float, ...] = SENSITIVITY_FACTORS,
                           predictions: tuple[Prediction, ...] = PREDICTIONS,
                           workers: int | None = None, progress: bool = False) -> xr.Dataset:
    """Scale one assumed symptom-model parameter at a time, *recalibrate*, and evaluate every prediction.

    Each variant refits the two calibrated parameters at the targets' central values, so every
    variant fits the calibration data as well as the default does: a prediction that no variant
    brings to its published value is not explained by any single one of these assumptions (within
    the range tried).

    Returns
    -------
    xarray.Dataset
        ``value(variant, prediction)``, the refitted parameters per variant, and the published
        values per prediction as in :func:`calibration_envelope`. The first variant is the default.
        ``workers`` as in :func:`calibration_envelope`.
    """
    variants = [("default", 1.0)] + [(name, f) for name in parameters for f in factors]
    g, esc = calibration_points()[0]
    jobs = [(_scaled(models, name, factor), g, esc) for name, factor in variants]
    rows, fitted = _fan_out(n, seed, models, jobs, predictions, workers=workers, progress=progress,
                            description="recalibrating with one assumption scaled")
    fitted = np.asarray(fitted)
    labels = ["default"] + [f"{name} × {f:g}" for name, f in variants[1:]]
    calibrated = _targets_met(fitted, [(g, esc)] * len(variants))
    return xr.Dataset(
        {"value": (("variant", "prediction"), np.asarray(rows),
                   {"long_name": "predicted change (scale points) or share left (fraction)"}),
         "weight_circuit": ("variant", fitted[:, 0], {"units": "1"}),
         "gain_ssri_transcription": ("variant", fitted[:, 1], {"units": "1"}),
         "achieved_cl4_hedges_g": ("variant", fitted[:, 2], {"units": "1"}),
         "achieved_cl1_escitalopram": ("variant", fitted[:, 3], {"long_name": "QIDS-SR-16 change at week 6"}),
         "calibrated": ("variant", calibrated, {"long_name": "both calibration targets met"})},
        coords={"variant": labels, "parameter": ("variant", [v[0] for v in variants]),
                "factor": ("variant", [v[1] for v in variants]), **_prediction_coords(predictions)},
        attrs={"n_twins": n, "seed": seed, "design": "one assumed parameter scaled at a time, recalibrated",
               "disclaimer": DISCLAIMER},
    )


def _targets_met(fitted: np.ndarray, targets: list[tuple[float, float]]) -> np.ndarray:
    """Per fit (rows of (weight, gain, achieved g, achieved change)): both targets met to within
    :data:`CALIBRATED_TOLERANCE`; ``False`` where a fit stopped at the end of a search range short of one."""
    targets = np.asarray(targets, dtype=float)
    return (np.abs(fitted[:, 2] - targets[:, 0]) < CALIBRATED_TOLERANCE) & \
        (np.abs(fitted[:, 3] - targets[:, 1]) < CALIBRATED_TOLERANCE)


def _scaled(models: ModelSet, name: str, factor: float) -> ModelSet:
    """``models`` with the symptom parameter ``name`` multiplied by ``factor`` (``"default"``: as is)."""
    if name == "default":
        return models
    symptoms = models.symptoms.replace(**{name: getattr(models.symptoms, name).value * factor})
    return ModelSet(population=models.population, biology=models.biology, symptoms=symptoms,
                    network_hook=models.network_hook, label=models.label)


def sensitivity_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]], str]:
    """Per prediction: the default, the range over the calibrated variants, the one closest to the
    published value, and whether any reaches it (its CI, or the point where none). Variants that
    cannot meet both calibration targets are left out and named in the returned note."""
    header = ["prediction", "published (95 % CI)", "default", "range over the variants", "closest variant",
              "reaches the published value?"]
    excluded = [str(v) for v in ds["variant"].values[~ds["calibrated"].values]]
    # the default is read before the filter: if it misses a target itself it is shown as "—",
    # never replaced by the first variant that remains
    default = ds["value"].sel(variant="default") if "default" not in excluded else None
    ds = ds.sel(variant=ds["calibrated"].values)
    rows = []
    for key in ds["prediction"].values:
        row = ds.sel(prediction=key)
        values = row["value"].values
        default_text = "—" if default is None else _fmt(float(default.sel(prediction=key)), row)
        pub = float(row["published"])
        if np.isnan(pub):
            closest, reach = "—", "no published number"
        else:
            k = int(np.argmin(np.abs(values - pub)))
            closest = f"{row['variant'].values[k]} ({_fmt(values[k], row)})"
            reach = _reaching(row, values)
        rows.append([_label(row, key), published_text(row), default_text, _range(values, row),
                     closest, reach])
    note = f"Left out (a calibration target out of reach): {', '.join(excluded)}." if excluded else ""
    return header, rows, note


def sensitivity_table(ds: xr.Dataset) -> str:
    """:func:`sensitivity_rows` as Markdown, the note of left-out variants below it."""
    header, rows, note = sensitivity_rows(ds)
    return to_markdown(header, rows, note=note)


def _reaching(row: xr.Dataset, values: np.ndarray) -> str:
    low, high = float(row["published_ci_low"]), float(row["published_ci_high"])
    if np.isnan(low):
        pub = float(row["published"])
        hit = (values.min() <= pub <= values.max())
        return "point within the range" if hit else "no (no CI extracted)"
    inside = [str(v) for v, x in zip(row["variant"].values, values, strict=True) if low <= x <= high]
    if not inside:
        return "no"
    if len(inside) > MAX_NAMED_VARIANTS:
        return f"yes: {len(inside)} of {values.size} variants" + (" (default among them)" if "default" in inside else "")
    return "yes: " + ", ".join(inside)


def _as_dataset(points, fitted, rows, predictions, *, n: int, seed: int) -> xr.Dataset:
    labels = ["centre"] + [f"g {g:+.2f}, escitalopram {e:+.2f}" for g, e in points[1:]]
    fitted = np.asarray(fitted)
    return xr.Dataset(
        {"value": (("calibration", "prediction"), np.asarray(rows),
                   {"units_coordinate": "prediction_units",  # rows differ in unit: no single `units`
                    "long_name": "predicted change (scale points) or share left (fraction)"}),
         "weight_circuit": ("calibration", fitted[:, 0], {"units": "1"}),
         "gain_ssri_transcription": ("calibration", fitted[:, 1], {"units": "1"}),
         "target_cl4_hedges_g": ("calibration", [g for g, _ in points], {"units": "1"}),
         "target_cl1_escitalopram": ("calibration", [e for _, e in points],
                                     {"units": SCALE_POINT, "long_name": "QIDS-SR-16 change at week 6"}),
         # Where a target lies beyond what its parameter's search range reaches, the closest end is
         # used: these say what the calibration actually achieved.
         "achieved_cl4_hedges_g": ("calibration", fitted[:, 2], {"units": "1"}),
         "achieved_cl1_escitalopram": ("calibration", fitted[:, 3],
                                       {"units": SCALE_POINT, "long_name": "QIDS-SR-16 change at week 6"}),
         "calibrated": ("calibration", _targets_met(fitted, points),
                        {"units": "1", "long_name": "both calibration targets met"})},
        coords={"calibration": labels, **_prediction_coords(predictions)},
        attrs={"n_twins": n, "seed": seed, "design": "centre and corners of the two targets' 95 % intervals",
               "disclaimer": DISCLAIMER},
    )


def _prediction_coords(predictions) -> dict:
    """The prediction axis with each prediction's preset, scale and published value and CI."""
    published = np.array([p.published() for p in predictions])
    # a change is in its scale's points, a share left is a fraction: the unit of each row
    units = [{"units_coordinate": "prediction_units"}] * 3
    return {"prediction": [p.key for p in predictions],
            "prediction_units": ("prediction", ["1" if p.kind == "share" else SCALE_POINT for p in predictions]),
            "preset": ("prediction", [p.preset for p in predictions]),
            "scale": ("prediction", ["fraction" if p.kind == "share" else get_preset(p.preset).scale
                                     for p in predictions]),
            "published": ("prediction", published[:, 0], units[0]),
            "published_ci_low": ("prediction", published[:, 1], units[1]),
            "published_ci_high": ("prediction", published[:, 2], units[2])}


def verdict(ds: xr.Dataset, prediction: str) -> str:
    """Whether a prediction's range over the calibrations reaches the published value (or its CI)."""
    row = ds.sel(prediction=prediction)
    lo, hi = float(row["value"].min()), float(row["value"].max())
    pub = float(row["published"])
    if math.isnan(pub):
        return "no published number"
    low, high = float(row["published_ci_low"]), float(row["published_ci_high"])
    if math.isnan(low):  # only a point estimate was extracted: a strict comparison
        return "point inside the range" if lo <= pub <= hi else "point outside the range (no CI extracted)"
    if hi < low or lo > high:
        return "outside the CI: not reachable by recalibration"
    return "range overlaps the CI"


def envelope_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """The predictions, their published value and their range over the calibrations."""
    header = ["prediction", "published (95 % CI)", "at the published fit", "range over the 5 calibrations", "verdict"]
    rows = []
    for key in ds["prediction"].values:
        row = ds.sel(prediction=key)
        rows.append([_label(row, key), published_text(row), _fmt(float(row["value"].sel(calibration="centre")), row),
                     _range(row["value"].values, row), verdict(ds, key)])
    return header, rows


def markdown_table(ds: xr.Dataset) -> str:
    """:func:`envelope_rows` as Markdown."""
    return to_markdown(*envelope_rows(ds))


def fit_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """The five calibrations: targets, what was achieved, and the fitted values."""
    header = ["calibration", "CL4 Hedges g: target → achieved", "CL1 escitalopram (QIDS): target → achieved",
              "`weight_circuit`", "`gain_ssri_transcription`"]
    rows = []
    for label in ds["calibration"].values:
        c = ds.sel(calibration=label)
        rows.append([str(label), f"{float(c['target_cl4_hedges_g']):.2f} → {float(c['achieved_cl4_hedges_g']):.2f}",
                     f"{float(c['target_cl1_escitalopram']):.2f} → {float(c['achieved_cl1_escitalopram']):.2f}",
                     f"{float(c['weight_circuit']):.4f}", f"{float(c['gain_ssri_transcription']):.4f}"])
    return header, rows


def fits_table(ds: xr.Dataset) -> str:
    """:func:`fit_rows` as Markdown."""
    return to_markdown(*fit_rows(ds))


def to_markdown(header: list[str], rows: list[list[str]], *, note: str = "") -> str:
    """A Markdown table, and a paragraph below it when ``note`` is given."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + (["", note] if note else []))


def _label(row: xr.Dataset, key: str) -> str:
    return f"{key} ({row['scale'].item()})"


def _range(values: np.ndarray, row: xr.Dataset) -> str:
    return f"{_fmt(values.min(), row)} to {_fmt(values.max(), row)}"


def _fmt(x: float, row: xr.Dataset) -> str:
    return f"{100 * x:.0f} %" if row["scale"].item() == "fraction" else f"{x:.1f}"


def published_text(row: xr.Dataset) -> str:
    """A prediction's published estimate and 95 % CI as text (``—`` when none)."""
    pub = float(row["published"])
    if math.isnan(pub):
        return "—"
    low, high = float(row["published_ci_low"]), float(row["published_ci_high"])
    return f"{pub:.1f}" if math.isnan(low) else f"{pub:.1f} ({low:.1f} to {high:.1f})"
