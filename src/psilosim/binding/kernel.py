"""Vectorised kernels of receptor binding (no units, no labels)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def competitive_occupancy(ratios: np.ndarray, occmax: np.ndarray, *,
                          extra_ratio: np.ndarray | float = 0.0) -> np.ndarray:
    """Occupancy of each ligand at one site shared competitively.

    ``occ_i = occmax_i · r_i / (1 + Σ_j r_j + r_extra)`` with ``r = C/EC50``: the single-site
    (Hill = 1) law of mass action for several ligands; ``extra_ratio`` is a competitor whose own
    occupancy is not returned (serotonin at surface 5-HT2A).

    Parameters
    ----------
    ratios
        Shape ``(L, T)``, non-negative.
    occmax
        Shape ``(L,)``.
    """
    total = 1.0 + np.sum(ratios, axis=0) + extra_ratio
    return occmax[:, None] * ratios / total[None, :]


def sigmoid_emax(x: np.ndarray, x50: float, hill: float, emax: float) -> np.ndarray:
    """``emax · x^h / (x^h + x50^h)`` for ``x ≥ 0``, computed stably."""
    x = np.maximum(np.asarray(x, float), 0.0)
    with np.errstate(divide="ignore"):
        log_ratio = hill * (np.log(x50) - np.log(x))
    return emax / (1.0 + np.exp(np.minimum(log_ratio, 700.0)))


def relax_first_order(target: np.ndarray, dt: float, tau: float, y0: float) -> np.ndarray:
    """Solve ``dy/dt = (target(t) − y)/tau`` exactly for a piecewise-linear ``target`` on a
    uniform grid (``y[0] = y0``), as a linear recursive filter."""
    a = np.exp(-dt / tau)
    c = 1.0 - tau / dt * (1.0 - a)
    # y[n] = a y[n-1] + c u[n] + (1 - a - c) u[n-1]
    y_rest, _ = lfilter([c, 1.0 - a - c], [1.0, -a], target[1:], zi=[a * y0 + (1.0 - a - c) * target[0]])
    return np.concatenate([[y0], y_rest])


def time_above(t: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """Total time with ``y ≥ threshold``, crossings interpolated linearly."""
    above = y >= threshold
    if not np.any(above):
        return 0.0
    dt = np.diff(t)
    y0, y1 = y[:-1], y[1:]
    both = above[:-1] & above[1:]
    total = float(np.sum(dt[both]))
    up = ~above[:-1] & above[1:]
    down = above[:-1] & ~above[1:]
    total += float(np.sum(dt[up] * (y1[up] - threshold) / (y1[up] - y0[up])))
    total += float(np.sum(dt[down] * (y0[down] - threshold) / (y0[down] - y1[down])))
    return total
