"""The statistics a trial report shows.

* mean change from baseline with a 95 % t confidence interval, per visit and arm;
* between-arm difference of mean change: Welch's t (unequal variances, Welch–Satterthwaite
  degrees of freedom) with its confidence interval and two-sided p;
* response and remission rates with Wilson score intervals;
* Pearson correlation with a Fisher-z confidence interval, for a network or biology change
  against improvement.

Sign conventions (as the trials report them): *change* = later − baseline (negative = better);
*improvement* = baseline − later (positive = better). So Daws et al. 2022's finding that a larger
fall in modularity goes with a larger improvement is a **negative** r between modularity change
and improvement.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats as sps

from ..errors import InputError
from .scales import get_scale, is_remission, is_response

__all__ = [
    "CONFIDENCE",
    "Correlation",
    "Estimate",
    "BIOLOGY_UNITS",
    "arm_summary",
    "biology_summary",
    "change_from_baseline",
    "check_arm",
    "correlation_details",
    "correlation_summary",
    "correlations",
    "default_comparison",
    "difference",
    "differences",
    "mean_ci",
    "network_day",
    "network_summary",
    "pearson_ci",
    "reference_arm",
    "reference_choice",
    "ssri_status_summary",
    "summarize",
    "welch_difference",
    "wilson_interval",
]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval (and p when a test was made)."""

    value: float
    low: float
    high: float
    n: int
    p: float | None = None

    @property
    def ci(self) -> list[float]:
        return [self.low, self.high]


def _finite(values, field: str) -> np.ndarray:
    a = np.asarray(values, dtype=float).ravel()
    if np.any(~np.isfinite(a)):
        raise InputError(field, "contains NaN or infinite values")
    return a


def mean_ci(values, *, confidence: float = CONFIDENCE) -> Estimate:
    """Mean with a t-distribution confidence interval (NaN interval for fewer than 2 values)."""
    a = _finite(values, "values")
    n = a.size
    if n == 0:
        raise InputError("values", "no observations")
    m = float(a.mean())
    if n < 2:
        return Estimate(m, math.nan, math.nan, n)
    half = sps.t.ppf(0.5 + confidence / 2, n - 1) * a.std(ddof=1) / math.sqrt(n)
    return Estimate(m, m - half, m + half, n)


def welch_difference(a, b, *, confidence: float = CONFIDENCE) -> Estimate:
    """Difference of means ``mean(a) − mean(b)`` by Welch's t test, with CI and two-sided p."""
    a, b = _finite(a, "a"), _finite(b, "b")
    if a.size < 2 or b.size < 2:
        raise InputError("arms", "each arm needs at least 2 patients for a between-arm difference")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return Estimate(diff, diff, diff, a.size + b.size, 1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = sps.t.ppf(0.5 + confidence / 2, df) * se
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    return Estimate(diff, diff - half, diff + half, a.size + b.size, p)


def wilson_interval(successes: int, n: int, *, confidence: float = CONFIDENCE) -> Estimate:
    """Proportion ``successes / n`` with the Wilson score interval."""
    if n <= 0 or successes < 0 or successes > n:
        raise InputError("proportion", f"need 0 ≤ successes ≤ n and n > 0, got {successes}/{n}")
    z = sps.norm.ppf(0.5 + confidence / 2)
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    # at 0 or n successes one end is exactly 0 or 1; avoid rounding just past it
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Estimate(phat, low, high, n)


#: Pairs a correlation with a Fisher-z interval needs (n − 3 > 0; a statistical minimum, not a model constant).
MIN_CORRELATION_PAIRS = 4


def pearson_ci(x, y, *, confidence: float = CONFIDENCE) -> Estimate:
    """Pearson r with a Fisher-z interval and the two-sided p of scipy.stats.pearsonr."""
    x, y = _finite(x, "x"), _finite(y, "y")
    if x.size != y.size:
        raise InputError("y", f"has {y.size} values, x has {x.size}")
    if x.size < MIN_CORRELATION_PAIRS:
        raise InputError("x", f"a correlation with a confidence interval needs at least {MIN_CORRELATION_PAIRS} pairs")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return Estimate(math.nan, math.nan, math.nan, x.size)
    r, p = sps.pearsonr(x, y)
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = sps.norm.ppf(0.5 + confidence / 2) / math.sqrt(x.size - 3)
    return Estimate(float(r), float(np.tanh(z - half)), float(np.tanh(z + half)), x.size, float(p))


# --------------------------------------------------------------------------- trial summaries
def _scores(ds: xr.Dataset) -> xr.DataArray:
    return ds["outcome"].sel(measure="score")


def _day_key(day: float) -> str:
    return f"{day:g}"


def check_arm(ds: xr.Dataset, arm: str, *, field: str = "arm") -> str:
    """``arm`` if it is one of the run's arms (``attrs["arms"]``), else :class:`InputError` on ``field``
    listing them (a misspelt arm would otherwise look like an arm with no patients)."""
    arms = json.loads(ds.attrs["arms"]) if "arms" in ds.attrs else sorted(set(ds["arm"].values.tolist()))
    if arm not in arms:
        raise InputError(field, f"{arm!r} is not an arm of this run; arms: {', '.join(arms)}")
    return arm


def arm_summary(ds: xr.Dataset, arm: str, *, day: float | None = None) -> dict:
    """The JSON summary of one arm (see ``psilosim trial --json``)."""
    scale = get_scale(ds.attrs["scale"])
    check_arm(ds, arm)
    day = float(ds.attrs["primary_day"]) if day is None else day
    scores = _scores(ds).where(ds["arm"] == arm, drop=True)
    if scores.sizes["patient"] == 0:
        raise InputError("arm", f"no patient in arm {arm!r}")
    base = scores.isel(visit=0)
    later = scores.sel(visit=_visit_of(ds, day))
    change = mean_ci((later - base).values)
    by_visit = {_day_key(float(d)): float((scores.sel(visit=v) - base).mean())
                for v, d in zip(ds["visit"].values, ds["study_day"].values, strict=True) if d > 0}
    by_visit_ci = {_day_key(float(d)): mean_ci((scores.sel(visit=v) - base).values).ci
                   for v, d in zip(ds["visit"].values, ds["study_day"].values, strict=True) if d > 0}
    resp = wilson_interval(int(is_response(base.values, later.values).sum()), base.size)
    remi = wilson_interval(int(is_remission(later.values, scale).sum()), base.size)
    return {"n": int(base.size), "baseline_mean": float(base.mean()), "change_mean": change.value,
            "change_ci": change.ci, "response_rate": resp.value, "response_ci": resp.ci,
            "remission_rate": remi.value, "remission_ci": remi.ci, "by_visit": by_visit,
            "by_visit_ci": by_visit_ci}


def _visit_of(ds: xr.Dataset, day: float) -> int:
    matches = np.flatnonzero(np.isclose(ds["study_day"].values, day))
    if matches.size == 0:
        raise InputError("day", f"{day:g} is not a visit day ({ds['study_day'].values.tolist()})")
    return int(ds["visit"].values[matches[0]])


def change_from_baseline(ds: xr.Dataset, arm: str, day: float) -> np.ndarray:
    """Per-patient score change (later − baseline) of ``arm`` at ``day``."""
    check_arm(ds, arm)
    scores = _scores(ds).where(ds["arm"] == arm, drop=True)
    return (scores.sel(visit=_visit_of(ds, day)) - scores.isel(visit=0)).values


def difference(ds: xr.Dataset, arm: str, reference: str, *, day: float | None = None) -> dict:
    """Welch difference of mean change between ``arm`` and ``reference`` (at ``day`` and by visit).

    Raises
    ------
    InputError
        On ``arm``/``reference`` when it is not an arm of the run (the message lists the arms), on
        ``day`` when it is not a visit, on ``arms`` when an arm has fewer than 2 patients.
    """
    check_arm(ds, arm, field="arm")
    check_arm(ds, reference, field="reference")
    day = float(ds.attrs["primary_day"]) if day is None else day
    est = welch_difference(change_from_baseline(ds, arm, day), change_from_baseline(ds, reference, day))
    by_visit = {_day_key(float(d)): welch_difference(change_from_baseline(ds, arm, float(d)),
                                                     change_from_baseline(ds, reference, float(d))).value
                for d in ds["study_day"].values if d > 0}
    return {"arm": arm, "reference": reference, "day": day, "estimate": est.value, "ci": est.ci,
            "p": est.p, "by_visit": by_visit}


def reference_arm(ds: xr.Dataset) -> str | None:
    """The arm every other arm is compared with (:func:`reference_choice`, without the reason).

    Parameters
    ----------
    ds
        A Dataset from :func:`psilosim.clinical.trial.run_trial` (its ``design`` and ``arms`` attributes).

    Returns
    -------
    str or None
        The second arm of the design's ``comparison``; without one, the design's only placebo arm
        (every treatment inert: placebo or niacin), else its second arm; ``None`` for a one-arm design.
    """
    return reference_choice(ds)[0]


def reference_choice(ds: xr.Dataset) -> tuple[str | None, str]:
    """The reference arm (as :func:`reference_arm`) and why it is the one, in words a table shows.

    The design's ``comparison`` decides when it is set. Otherwise the reference is the arm whose
    treatments are all inert comparators (placebo, or niacin as an active placebo;
    :data:`~psilosim.clinical.biology.INERT_COMPOUNDS`) when exactly one arm is, since comparing
    an active arm with the placebo is what a reader assumes; else the design's second arm.

    Returns
    -------
    tuple
        ``(arm, reason)``; ``(None, reason)`` for a one-arm design.
    """
    design = json.loads(ds.attrs["design"])
    arms = json.loads(ds.attrs["arms"])
    if design.get("comparison"):
        return design["comparison"][1], f"set by the design's comparison {design['comparison'][0]} − {design['comparison'][1]}"
    if len(arms) < 2:
        return None, "one arm: nothing to compare"
    inert = [arm["name"] for arm in design.get("arms", []) if _inert_arm(arm)]
    if len(inert) == 1:
        return inert[0], "the design's only placebo arm; no comparison set, which would choose another"
    why = "no placebo arm" if not inert else f"{len(inert)} placebo arms"
    return arms[1], f"the design's second arm: no comparison set, and {why}"


def default_comparison(ds: xr.Dataset) -> list[str] | None:
    """The ``[arm, reference]`` of a run's headline ``difference`` (``arm`` − ``reference``).

    The design's ``comparison`` when set; else its first two arms, first − second, unless the
    reference arm (:func:`reference_choice`: the only placebo arm) is the first of them: then the
    second − the placebo, so that the headline is the same subtraction as ``differences``' entry.
    ``None`` for a one-arm design.
    """
    design = json.loads(ds.attrs["design"])
    if design.get("comparison"):
        return list(design["comparison"])
    arms = json.loads(ds.attrs["arms"])
    if len(arms) < 2:
        return None
    first, second = arms[:2]
    return [second, first] if reference_choice(ds)[0] == first else [first, second]


def _inert_arm(arm: dict) -> bool:
    """An arm of a design's JSON whose every treatment is an inert comparator (placebo, niacin)."""
    from .biology import INERT_COMPOUNDS

    treatments = arm.get("treatments") or []
    return bool(treatments) and all(isinstance(t.get("compound"), str) and t["compound"].strip().lower()
                                    in INERT_COMPOUNDS for t in treatments)


def differences(ds: xr.Dataset, *, reference: str | None = None, day: float | None = None) -> dict[str, dict]:
    """:func:`difference` of every arm with patients against ``reference`` (default
    :func:`reference_arm`), keyed ``"ARM - REFERENCE"`` in design order.

    Each is a separate Welch test with its own 95 % CI and p: no adjustment for multiplicity is made.

    Parameters
    ----------
    ds
        A Dataset from :func:`psilosim.clinical.trial.run_trial`.
    reference
        The arm compared against (default :func:`reference_arm`).
    day
        The study day (a visit; default the design's primary day).

    Returns
    -------
    dict
        ``{"ARM - REFERENCE": difference}`` for every other arm with patients, each as
        :func:`difference` gives it; an arm with fewer than 2 patients (or a reference with fewer)
        gets ``estimate``, ``ci`` and ``p`` ``None`` and a ``reason``. Empty when the reference arm
        has no patients or the design has one arm.

    Raises
    ------
    InputError
        On ``reference`` when it is not an arm of the run; on ``day`` when it is not a visit.
    """
    reference = reference_arm(ds) if reference is None else check_arm(ds, reference, field="reference")
    present = [a for a in json.loads(ds.attrs["arms"]) if bool((ds["arm"] == a).any())]
    if reference is None or reference not in present:
        return {}
    out = {}
    for arm in present:
        if arm == reference:
            continue
        try:
            out[f"{arm} - {reference}"] = difference(ds, arm, reference, day=day)
        except InputError as exc:
            out[f"{arm} - {reference}"] = {"arm": arm, "reference": reference,
                                           "day": float(ds.attrs["primary_day"]) if day is None else day,
                                           "estimate": None, "ci": None, "p": None, "reason": exc.problem}
    return out


@dataclass(frozen=True)
class Correlation:
    """One correlation of :func:`correlation_details`: r, the patients it is over, and why it is missing.

    ``r`` is ``None`` when it was not computed, and ``reason`` then says why (fewer than
    :data:`MIN_CORRELATION_PAIRS` patients with a value, a change or an improvement that does not
    vary between patients); ``reason`` is ``None`` when ``r`` was computed.
    """

    r: float | None
    n: int
    reason: str | None = None
    #: The 95 % Fisher-z interval of r (``None`` with r).
    ci: list[float] | None = None

    def as_json(self) -> dict:
        """``{"r", "ci", "n", "reason"}`` (the ``correlation_details`` entries of ``psilosim trial --json``)."""
        return {"r": self.r, "ci": self.ci, "n": self.n, "reason": self.reason}


def correlations(ds: xr.Dataset, *, day: float | None = None) -> dict[str, float | None]:
    """Pearson r of each biology/network change (later − baseline) with improvement, all patients.

    Keys are ``"<measure>_change_vs_improvement"``; network measures (part B) appear when the
    Dataset has a ``network`` variable (patient × visit × network_measure). A network change is
    taken at the last imaging visit (``attrs["imaging_days"]``, else ``day``) and only over the
    patients who were imaged (finite values); improvement is always at ``day`` (the primary day).
    A correlation that cannot be computed is ``None``; :func:`correlation_details` says why.
    """
    return {key: detail.r for key, detail in correlation_details(ds, day=day).items()}


def correlation_details(ds: xr.Dataset, *, day: float | None = None, arm: str | None = None) -> dict[str, Correlation]:
    """:func:`correlations` with, for each, its 95 % Fisher-z CI, the number of patients and why a
    missing r is missing; over the patients of ``arm`` only when given.

    Without ``arm``: same keys and values as :func:`correlations` (``Correlation.r``), pooled over
    the arms; the reasons are what a report prints in place of a missing r. A pooled r mixes the
    difference between the arms (in the measure and in improvement alike) with the relation within
    an arm, so the two can differ widely: compare it with each arm's.

    Parameters
    ----------
    ds
        A Dataset from :func:`psilosim.clinical.trial.run_trial`.
    day
        The study day improvement is taken at (a visit; default the design's primary day).
    arm
        Only this arm's patients (default: all patients, pooled).

    Returns
    -------
    dict
        ``{"<measure>_change_vs_improvement": Correlation}``.

    Raises
    ------
    InputError
        On ``arm`` when it is not an arm of the run; on ``day`` when it is not a visit.
    """
    if arm is not None:
        check_arm(ds, arm)
        ds = ds.isel(patient=np.flatnonzero(ds["arm"].values == arm))
    day = float(ds.attrs["primary_day"]) if day is None else day
    v = _visit_of(ds, day)
    scores = _scores(ds)
    improvement = (scores.isel(visit=0) - scores.sel(visit=v)).values
    out: dict[str, Correlation] = {}
    series = {"density": ds["outcome"].sel(measure="density_rel"), "bdnf": ds["outcome"].sel(measure="bdnf_rel")}
    later = {name: v for name in series}
    if "network" in ds:
        v_net = _visit_of(ds, network_day(ds, day))
        for name in ds["network_measure"].values:
            series[str(name)] = ds["network"].sel(network_measure=name)
            later[str(name)] = v_net
    for name, da in series.items():
        change = (da.sel(visit=later[name]) - da.isel(visit=0)).values
        ok = np.isfinite(change)
        out[f"{name}_change_vs_improvement"] = _correlation(change[ok], improvement[ok])
    return out


def _correlation(change: np.ndarray, improvement: np.ndarray) -> Correlation:
    """Pearson r of ``change`` with ``improvement`` (finite, paired), or why there is none."""
    n = int(change.size)
    if n < MIN_CORRELATION_PAIRS:
        return Correlation(None, n, f"fewer than {MIN_CORRELATION_PAIRS} patients have a value ({n})")
    if np.ptp(change) == 0:
        return Correlation(None, n, f"the change does not vary between patients (all {change[0]:.3g})")
    if np.ptp(improvement) == 0:
        return Correlation(None, n, "improvement does not vary between patients")
    est = pearson_ci(change, improvement)
    if math.isnan(est.value):
        return Correlation(None, n, "Pearson r is undefined for these values")
    return Correlation(est.value, n, None, est.ci)


def correlation_summary(ds: xr.Dataset, *, day: float | None = None) -> dict[str, dict]:
    """The ``correlation_details`` of ``psilosim trial --json``.

    Parameters
    ----------
    ds
        A Dataset from :func:`psilosim.clinical.trial.run_trial`.
    day
        The study day improvement is taken at (a visit; default the design's primary day).

    Returns
    -------
    dict
        Per correlation key (:func:`correlation_details`), the pooled ``{"r", "ci", "n", "reason"}``
        and ``by_arm``: the same within each arm that has patients, by arm name.

    Raises
    ------
    InputError
        On ``day`` when it is not a visit.
    """
    pooled = correlation_details(ds, day=day)
    arms = [a for a in json.loads(ds.attrs["arms"]) if bool((ds["arm"] == a).any())]
    within = {a: correlation_details(ds, day=day, arm=a) for a in arms}
    return {key: {**detail.as_json(), "by_arm": {a: within[a][key].as_json() for a in arms}}
            for key, detail in pooled.items()}


def network_day(ds: xr.Dataset, default: float) -> float:
    """The study day of the last imaging visit (``default`` when the run has none recorded)."""
    days = json.loads(ds.attrs.get("imaging_days", "[]"))
    return float(days[-1]) if days else float(default)


def network_summary(ds: xr.Dataset) -> dict:
    """Per arm and network measure: baseline mean, change (last imaging visit − baseline) with 95 % CI, n imaged."""
    if "network" not in ds:
        return {}
    v_net = _visit_of(ds, network_day(ds, float(ds.attrs["primary_day"])))
    out: dict = {}
    for arm in json.loads(ds.attrs["arms"]):
        part = ds["network"].where(ds["arm"] == arm, drop=True)
        if part.sizes["patient"] == 0:
            continue
        out[arm] = {}
        for name in ds["network_measure"].values:
            da = part.sel(network_measure=name)
            change = (da.sel(visit=v_net) - da.isel(visit=0)).values
            base = da.isel(visit=0).values
            ok = np.isfinite(change)
            if ok.sum() == 0:
                continue
            est = mean_ci(change[ok])
            out[arm][str(name)] = {"n": int(ok.sum()), "baseline_mean": float(np.mean(base[ok])),
                                   "change_mean": est.value, "change_ci": est.ci}
    return out


#: Groups of :func:`ssri_status_summary`: key → value of the per-patient ``ssri_blunted`` flag.
SSRI_GROUPS = {"on_ssri": 1, "off_ssri": 0}


def ssri_status_summary(ds: xr.Dataset, arm: str, *, day: float | None = None) -> dict | None:
    """Change at ``day`` of ``arm``'s patients who stayed on an SSRI (``on_ssri``) and the others.

    A design without washout (``ssri_washout: false``) leaves the patients on an SSRI at
    screening on it (RB8 blunting), so an arm mixes two groups; this splits its mean change.

    Returns
    -------
    dict or None
        ``{"on_ssri": {"n", "change_mean", "change_ci"}, "off_ssri": {...}}`` (``change_mean``
        ``None`` for a group without patients, NaN CI for one patient); ``None`` when no patient
        of the run stayed on an SSRI (or the run has no ``ssri_blunted`` record).
    """
    if "ssri_blunted" not in ds or not bool((ds["ssri_blunted"] == 1).any()):
        return None
    day = float(ds.attrs["primary_day"]) if day is None else day
    change = change_from_baseline(ds, arm, day)
    blunted = ds["ssri_blunted"].where(ds["arm"] == arm, drop=True).values  # the arm's patients, same order
    out = {}
    for key, flag in SSRI_GROUPS.items():
        values = change[blunted == flag]
        est = mean_ci(values) if values.size else None
        out[key] = {"n": int(values.size), "change_mean": None if est is None else est.value,
                    "change_ci": [math.nan, math.nan] if est is None else est.ci}
    return out


#: Units of :func:`biology_summary`'s values (``psilosim trial --json`` ``arms.NAME.biology.units``).
BIOLOGY_UNITS = {
    "acute_effect_peak": "1 (peak subjective 'any drug effect', 0–1; mean over the arm)",
    "acute_effect_peak_median": "1 (the arm's median patient's peak subjective effect, 0–1)",
    "window_peak": "1 (plasticity window, 0 closed – 1 fully open)",
    "window_open_days": "day (daily samples with the window at or above window_open_level)",
    "window_open_level": "1 (PlasticityParams.window_closed_level, human)",
    "window_open_at_day_n": "patients (window at or above window_open_level at the visit on study day `day`)",
    "window_open_at_day_fraction": "1 (window_open_at_day_n over window_patients)",
    "window_patients": "patients (of the arm, with a daily course)",
    "density_change": "1 (spine density at day − baseline, relative to healthy = 1)",
    "persistent_change": "1 (persistent-spine density at day − baseline, relative to healthy = 1)",
    "day": "day (study day of the changes)",
}


def biology_summary(ds: xr.Dataset, arm: str, *, day: float | None = None) -> dict:
    """Arm means of the biology behind the scores (``psilosim trial --json`` ``arms.NAME.biology``).

    ``acute_effect_peak`` (the trip), the plasticity window's peak and the days it is open (the
    daily course at or above ``window_closed_level``: acute hours are not resolved), how many
    patients had it open on ``day`` (``window_open_at_day_n`` and ``_fraction``), and the
    change of spine density and of persistent spines from baseline to ``day`` (the primary day
    by default), with a 95 % CI for the spine density change. ``units`` gives each value's unit.
    Quantities the run did not store (or stored for no patient of the arm) are left out.
    """
    from ..plasticity import plasticity_params

    check_arm(ds, arm)
    day = float(ds.attrs["primary_day"]) if day is None else day
    in_arm = ds["arm"] == arm
    out: dict = {}
    if "acute_effect_peak" in ds:
        peaks = ds["acute_effect_peak"].where(in_arm, drop=True)
        out["acute_effect_peak"] = float(peaks.mean())
        out["acute_effect_peak_median"] = float(peaks.median())  # peaks are skewed: the typical patient
    if "course" in ds and "window" in ds["quantity"].values:
        level = float(plasticity_params("human").window_closed_level.value)
        window = ds["course"].sel(quantity="window").where(in_arm, drop=True)
        out["window_peak"] = float(window.max("day").mean())
        out["window_open_days"] = float((window >= level).sum("day").mean())
        out["window_open_level"] = level
    v = _visit_of(ds, day)
    if "course" in ds and "window" in ds["quantity"].values and "window" in ds["measure"].values:
        # the outcome at the visit, not the daily course: a visit may fall between two days (day 0.4)
        at_visit = ds["outcome"].sel(measure="window", visit=v).where(in_arm, drop=True)
        open_at_day = at_visit >= level
        out["window_open_at_day_n"] = int(open_at_day.sum())
        out["window_open_at_day_fraction"] = float(open_at_day.mean())
        out["window_patients"] = int(open_at_day.size)
    for key, measure in (("density_change", "density_rel"), ("persistent_change", "stable_rel")):
        if measure in ds["measure"].values:
            series = ds["outcome"].sel(measure=measure).where(in_arm, drop=True)
            change = (series.sel(visit=v) - series.isel(visit=0)).values
            change = change[np.isfinite(change)]  # a patient without a value is left out, as in the correlations
            if change.size == 0:
                continue
            est = mean_ci(change)
            out[key] = est.value
            if key == "density_change":
                out["density_change_ci"] = est.ci
    out["day"] = day
    out["units"] = {k: u for k, u in BIOLOGY_UNITS.items() if k in out}
    return out


def summarize(ds: xr.Dataset) -> dict:
    """The ``psilosim trial --json`` object: arms, difference, differences, correlations.

    ``difference`` is the design's ``comparison`` (default: :func:`default_comparison`, the first
    two arms, the placebo one subtracted); ``differences`` compares every arm with the reference
    arm (:func:`differences`; with a ``comparison`` its own entry equals ``difference``; without
    one the reference is the only placebo arm if there is one, and ``difference`` is its entry
    when that arm is one of the first two),
    unadjusted for multiplicity (``multiplicity_adjustment: "none"``); ``reference`` is
    ``{"arm", "reason"}`` (:func:`reference_choice`).
    ``correlation_details`` adds to each of ``correlations`` its CI, n, the reason a missing r is
    missing, and the same within each arm (:func:`correlation_summary`).

    Each arm has a ``biology`` summary (:func:`biology_summary`) and, when some patients stayed
    on an SSRI (no washout), its change by SSRI status (``by_ssri_status``,
    :func:`ssri_status_summary`).
    """
    arms = json.loads(ds.attrs["arms"])
    design = json.loads(ds.attrs["design"])
    present = [a for a in arms if bool((ds["arm"] == a).any())]
    summary = {"trial": design["name"], "scale": ds.attrs["scale"], "primary_day": float(ds.attrs["primary_day"]),
               "patients": int(ds.sizes["patient"]), "seed": int(ds.attrs["seed"]),
               "arms": {a: arm_summary(ds, a) for a in present}}
    for a in present:
        summary["arms"][a]["biology"] = biology_summary(ds, a)
        split = ssri_status_summary(ds, a)
        if split is not None:
            summary["arms"][a]["by_ssri_status"] = split
    comparison = default_comparison(ds) or []
    if len(comparison) == 2 and all(c in present for c in comparison):
        summary["difference"] = difference(ds, comparison[0], comparison[1])
    else:
        summary["difference"] = {}
    summary["differences"] = differences(ds)
    arm, reason = reference_choice(ds)
    summary["reference"] = {"arm": arm, "reason": reason}  # the arm `differences` compares with, and why
    summary["multiplicity_adjustment"] = "none"
    details = correlation_summary(ds)  # computed once: correlations are its pooled r
    summary["correlations"] = {key: detail["r"] for key, detail in details.items()}
    summary["correlation_details"] = details
    if "network" in ds:
        summary["network"] = {"day": network_day(ds, float(ds.attrs["primary_day"])), "arms": network_summary(ds)}
    summary["disclaimer"] = ds.attrs.get("disclaimer", "")
    return summary

