"""Numerical kernel of the plasticity link: exponential-Euler steps on a non-uniform day grid.

Inputs are given at grid points and taken as piecewise linear (trapezoid mean over a step); each
linear relaxation ``dy/dt = (a − y)/τ`` is then solved exactly over the step, which keeps every
state non-negative and stable for any step length (coarse steps far from a dose).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np


class PlasticityConstants(NamedTuple):
    """Plasticity parameters in kernel units (days, hours of engagement)."""

    tau_trkb_d: float
    tau_ssri_d: float
    tau_window_d: float
    window_threshold_h: float
    window_hill: float
    trkb_to_window_h_per_d: float
    hours_per_day: float


@numba.njit(cache=True)
def _relax(y: float, target: float, dt: float, tau: float) -> float:
    return target + (y - target) * np.exp(-dt / tau)


@numba.njit(cache=True)
def integrate_plasticity(t_d, fast_drive, ssri_drive, engagement, c):
    """Integrate TrkB signalling ``T``, the SSRI route ``X`` and the window memory ``M``.

    ``dM/dt = 24 h/d · E + κ · X⁺ − M / τ_w``: acute engagement and the sustained
    (transcriptional) part of BDNF signalling feed the window memory.

    Parameters
    ----------
    t_d : float64[K]
        Grid in days, strictly increasing.
    fast_drive : float64[K]
        ``u`` = gain-weighted sum of the fast routes' occupancies.
    ssri_drive : float64[K]
        ``g_ssri · occ_SERT`` (zero when the route is off).
    engagement : float64[K]
        Acute engagement ``E`` in [0, 1].
    c : PlasticityConstants

    Returns
    -------
    T, X, M, window : float64[K] each
    """
    k = t_d.size
    trkb = np.zeros(k)
    slow = np.zeros(k)
    memory = np.zeros(k)
    window = np.zeros(k)
    for i in range(k - 1):
        dt = t_d[i + 1] - t_d[i]
        x_target = 0.5 * (ssri_drive[i] + ssri_drive[i + 1])
        slow[i + 1] = _relax(slow[i], x_target, dt, c.tau_ssri_d)
        t_target = 0.5 * (fast_drive[i] + fast_drive[i + 1] + slow[i] + slow[i + 1])
        trkb[i + 1] = _relax(trkb[i], t_target, dt, c.tau_trkb_d)
        # only *sustained* (transcriptional) BDNF signalling reopens the window (chronic SSRI,
        # Maya Vetencourt 2008); brief TrkB pulses (a microdose) raise formation but do not
        inflow = (c.hours_per_day * 0.5 * (engagement[i] + engagement[i + 1])
                  + c.trkb_to_window_h_per_d * 0.5 * (max(slow[i], 0.0) + max(slow[i + 1], 0.0)))
        memory[i + 1] = _relax(memory[i], inflow * c.tau_window_d, dt, c.tau_window_d)
    for i in range(k):
        x = (memory[i] / c.window_threshold_h) ** c.window_hill
        window[i] = x / (1.0 + x)
    return trkb, slow, memory, window


def hill(x: np.ndarray, threshold: float, n: float) -> np.ndarray:
    """``x^n / (x^n + threshold^n)`` for non-negative ``x`` (0 at 0, ½ at the threshold)."""
    ratio = (np.maximum(x, 0.0) / threshold) ** n
    return ratio / (1.0 + ratio)
