"""Non-compartmental analysis (NCA) of a concentration–time profile.

Conventions (those of common NCA software): AUC by the linear-up/log-down trapezoidal rule;
terminal rate constant λz by log-linear least squares on the last ``n ≥ 3`` points after the
peak (the highest sample, or the highest after the last dose when its time is given), ``n`` chosen to maximise the adjusted R² (ties within :data:`ADJ_R2_TOLERANCE`
resolved towards more points); accumulation ratio = AUC over the last dosing interval / AUC over
the first.

Time to 90 % of steady state: the time after the first dose at which the AUC over a dosing
interval reaches 90 % of the steady-state interval's (the last one), interpolated between
interval ends. When the first interval already reaches it (elimination fast compared to the
interval), steady state is reached within the first interval and the time is the analytic
``ln(10)/λz`` (3.32 terminal half-lives, the continuous-input value), capped at that interval's
end; it does not scale with the interval.

Tmax is the time of the *first* maximum: with repeated identical doses every dose's peak ties
to rounding, so the first sample within :data:`PEAK_TIE_TOLERANCE` of Cmax, climbed to its
local peak, is taken. ``tmax_after_dose`` is the same time counted from the dose before it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: Adjusted-R² tolerance of the λz window choice (numerical convention).
ADJ_R2_TOLERANCE = 1e-4
#: Points below this fraction of Cmax are ignored for λz (numerical floor of a simulated curve).
LAMBDA_Z_FLOOR = 1e-6
#: Minimum points of the λz regression.
MIN_LAMBDA_Z_POINTS = 3
#: Two times closer than this (h) are the same sample (floating-point tolerance).
TIME_TOLERANCE_H = 1e-9
#: Peaks within this fraction of Cmax tie for Tmax, and the first wins. Cmax is reported to three
#: significant figures, so peaks closer than 0.1 % are indistinguishable in any report (and far
#: below assay precision); repeated identical doses that do not accumulate then give the first
#: dose's Tmax instead of whichever peak rounding happened to favour.
PEAK_TIE_TOLERANCE = 1e-3
#: Fraction of steady state that "time to steady state" refers to (the NCA convention, 90 %).
STEADY_STATE_FRACTION = 0.9


@dataclass(frozen=True)
class NCAResult:
    """NCA metrics; units follow the inputs (h, ng/mL)."""

    cmax: float
    tmax: float
    auc: float
    auc_inf: float
    half_life: float
    lambda_z: float
    lambda_z_points: int
    accumulation_ratio: float
    time_to_90pct_ss: float
    tmax_after_dose: float = math.nan

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def auc_linear_up_log_down(t: np.ndarray, c: np.ndarray) -> float:
    """AUC over ``t`` (linear trapezoid when rising, logarithmic when falling)."""
    dt = np.diff(t)
    c1, c2 = c[:-1], c[1:]
    linear = dt * (c1 + c2) / 2.0
    falling = (c2 < c1) & (c2 > 0) & (c1 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logarithmic = dt * (c1 - c2) / np.log(c1 / c2)
    return float(np.sum(np.where(falling, logarithmic, linear)))


def terminal_phase(t: np.ndarray, c: np.ndarray, *, last_dose_h: float | None = None) -> tuple[float, int]:
    """λz (1/h) and number of points used, from the samples after the peak.

    The peak is the first sample at the profile's maximum; with ``last_dose_h``, the first sample
    at the maximum reached at or after that time (the last dose's peak, which need not be the
    highest of a multiple-dose profile).
    """
    start = _peak_index(t, c, last_dose_h)
    tt, cc = t[start + 1:], c[start + 1:]
    keep = cc > LAMBDA_Z_FLOOR * c[start]
    tt, cc = tt[keep], np.log(cc[keep])
    if tt.size < MIN_LAMBDA_Z_POINTS:
        return math.nan, 0
    best: tuple[float, int, float] | None = None
    for n in range(MIN_LAMBDA_Z_POINTS, tt.size + 1):
        x, y = tt[-n:], cc[-n:]
        slope, intercept = np.polyfit(x, y, 1)
        resid = y - (slope * x + intercept)
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
        adj = 1.0 - (1.0 - r2) * (n - 1) / (n - 2)
        if best is None or adj >= best[2] - ADJ_R2_TOLERANCE:
            best = (-slope, n, max(adj, best[2]) if best else adj)
    return float(best[0]), int(best[1])


def _peak_index(t: np.ndarray, c: np.ndarray, last_dose_h: float | None) -> int:
    if last_dose_h is None:
        return int(np.argmax(c))
    after = np.nonzero(t >= last_dose_h - TIME_TOLERANCE_H)[0]
    if after.size == 0:
        return int(np.argmax(c))
    return int(after[np.argmax(c[after])])


def interval_aucs(t: np.ndarray, c: np.ndarray, dose_times: np.ndarray) -> np.ndarray:
    """AUC of each complete dosing interval ``[t_i, t_{i+1})``.

    The sample at ``t_{i+1}`` already contains the next dose (after an IV bolus the profile
    jumps), so each interval uses its samples before ``t_{i+1}`` and extrapolates the last step
    log-linearly from the two samples before it. An interval that ends after the last sample is
    not covered by the profile: its AUC is NaN (extrapolating a profile cut mid-absorption would
    invent the rest of the interval).
    """
    out = []
    for a, b in zip(dose_times[:-1], dose_times[1:], strict=True):
        if b > t[-1] + TIME_TOLERANCE_H:
            out.append(math.nan)
            continue
        m = (t >= a - TIME_TOLERANCE_H) & (t < b - TIME_TOLERANCE_H)
        tt, cc = t[m], c[m]
        auc = auc_linear_up_log_down(tt, cc)
        if tt.size >= 2 and cc[-1] > 0 and cc[-2] > 0:
            slope = (np.log(cc[-1]) - np.log(cc[-2])) / (tt[-1] - tt[-2])
            end = cc[-1] * np.exp(slope * (b - tt[-1]))
            auc += auc_linear_up_log_down(np.array([tt[-1], b]), np.array([cc[-1], end]))
        out.append(auc)
    return np.array(out)


def nca(t: np.ndarray, c: np.ndarray, *, dose_times: np.ndarray | None = None,
        last_dose_h: float | None = None) -> NCAResult:
    """NCA of a profile; ``dose_times`` (h) enable the multiple-dose metrics.

    Cmax/Tmax refer to the whole profile (Tmax: the first peak, see module docstring); λz to the samples after its highest one, or, given
    ``last_dose_h`` (h), after the highest one from the last dose on; with several equally spaced
    doses, the accumulation ratio and the time to 90 % of steady state (h after the first dose,
    interpolated between interval ends) are computed, else they are NaN (also when the profile
    ends before the last dosing interval does).
    """
    t, c = np.asarray(t, float), np.asarray(c, float)
    i = first_peak_index(c)
    auc = auc_linear_up_log_down(t, c)
    lz, n = terminal_phase(t, c, last_dose_h=last_dose_h)
    auc_inf = auc + c[-1] / lz if lz > 0 else math.nan
    acc, t90 = math.nan, math.nan
    if dose_times is not None and len(dose_times) >= 3:
        aucs = interval_aucs(t, c, np.asarray(dose_times, float))
        if np.all(np.isfinite(aucs)):
            acc = float(aucs[-1] / aucs[0])
            t90 = _time_to_fraction(aucs, np.asarray(dose_times, float), STEADY_STATE_FRACTION, lz)
    return NCAResult(cmax=float(np.max(c)), tmax=float(t[i]), auc=auc, auc_inf=float(auc_inf),
                     half_life=float(math.log(2.0) / lz) if lz > 0 else math.nan, lambda_z=lz,
                     lambda_z_points=n, accumulation_ratio=acc, time_to_90pct_ss=t90,
                     tmax_after_dose=_time_since_dose(float(t[i]), t, dose_times, last_dose_h))


def first_peak_index(c: np.ndarray) -> int:
    """Index of the first local peak within :data:`PEAK_TIE_TOLERANCE` of the maximum."""
    c = np.asarray(c, float)
    i = int(np.argmax(c >= (1.0 - PEAK_TIE_TOLERANCE) * np.max(c)))
    while i + 1 < c.size and c[i + 1] > c[i]:  # on the rising flank: climb to that dose's peak
        i += 1
    return i


def _time_since_dose(tmax: float, t: np.ndarray, dose_times, last_dose_h) -> float:
    """Time from the dose preceding ``tmax`` (the profile's start when no dose time is known)."""
    known = [float(t[0])] + ([] if dose_times is None else [float(d) for d in np.asarray(dose_times)])
    known += [] if last_dose_h is None else [float(last_dose_h)]
    return tmax - max(d for d in known if d <= tmax + TIME_TOLERANCE_H)


def _time_to_fraction(aucs: np.ndarray, dose_times: np.ndarray, fraction: float, lambda_z: float) -> float:
    """Time (after the first dose) when the interval-average exposure reaches ``fraction`` of
    the last interval's (taken as steady state), interpolated between interval ends; within the
    first interval, the analytic ``-ln(1 - fraction)/λz`` capped at its end (see module docstring)."""
    reached = aucs / aucs[-1]
    ends = dose_times[1:] - dose_times[0]
    k = int(np.argmax(reached >= fraction))
    if k == 0:
        analytic = -math.log(1.0 - fraction) / lambda_z if lambda_z > 0 else math.inf
        return float(min(analytic, ends[0]))
    f0, f1 = reached[k - 1], reached[k]
    return float(ends[k - 1] + (fraction - f0) / (f1 - f0) * (ends[k] - ends[k - 1]))
