"""Numerical kernels of the spine link: mean field (numba) and a seeded birth–death process.

Both take the same piecewise-constant rates per step (trapezoid mean of the inputs), so the
stochastic counts agree with the mean field in expectation; each pool's loss is solved exactly
over a step, which keeps every pool non-negative for any step length.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from scipy.optimize import brentq


class SpineConstants(NamedTuple):
    """Spine parameters in kernel units (1/day, days)."""

    formation_rate: float        # f0, baseline density formed per day
    labile_loss_rate: float      # e_N
    persistent_loss_rate: float  # e_S
    consolidated_loss_rate: float  # e_C, loss of consolidated plasticity-born spines
    maturation_rate: float       # m0
    homeostatic_gain: float      # γ
    formation_gain: float        # g_f
    stabilisation_rate: float    # g_m
    stress_gain: float           # g_s
    head_gain: float             # g_h, 1/day
    head_time_d: float           # τ_h


class DailyInputs(NamedTuple):
    """What the plasticity link and the environment give the spines, on one day grid (float64[K])."""

    t_d: np.ndarray     # day grid
    trkb: np.ndarray    # TrkB signalling T
    window: np.ndarray  # plasticity window (0–1)
    stress: np.ndarray  # stress intensity


class Connections(NamedTuple):
    """Which region each connection's spines belong to, their share of it and their correlation."""

    region_of: np.ndarray    # int64[C], region index of each connection
    share: np.ndarray        # float64[C], share φ_k of its region's baseline spines (sums to 1 per region)
    correlation: np.ndarray  # float64[C], activity correlation c_k during the window (0–1)
    n_regions: int


@numba.njit(cache=True)
def _loss_fraction(rate: float, dt: float) -> float:
    return -np.expm1(-rate * dt)


@numba.njit(cache=True)
def _mean_inputs(inputs, i):
    trkb, window, stress = inputs.trkb, inputs.window, inputs.stress
    t_pos = 0.5 * (max(trkb[i], 0.0) + max(trkb[i + 1], 0.0))
    w = 0.5 * (window[i] + window[i + 1])
    s = 0.5 * (stress[i] + stress[i + 1])
    return t_pos, w, s


@numba.njit(cache=True)
def integrate_spines(inputs, connections, c, formation_on, density_in, init):
    """Mean-field spine pools per connection.

    Parameters
    ----------
    inputs : DailyInputs
        Day grid ``t_d`` (float64[K]) and TrkB signalling ``T``, window (0–1) and stress
        intensity on it.
    connections : Connections
        Region index, baseline share and window correlation of each of the C connections, and
        the number of regions R.
    c : SpineConstants
    formation_on : bool
        ``False`` follows only the spines present at ``t_d[0]`` (imaging cohorts).
    density_in : float64[K, R] or float64[0, R]
        Region densities that set the homeostatic maturation (a cohort uses those of the full
        run); an empty array means "use this run's own density".

    Returns
    -------
    labile, born, persistent, consolidated : float64[K, C]
        Pools ``N``, ``P``, ``S`` and ``C`` (plasticity-born spines that were selected: new
        persistent spines, less stable than old ones) relative to the region's baseline density.
    formed, eliminated : float64[K, R]
        Formation and elimination fluxes per region (1/day) over the step ending at each point.
    head : float64[K]
        Relative spine head width.
    """
    t_d = inputs.t_d
    region_of, share, corr = connections.region_of, connections.share, connections.correlation
    n_regions = connections.n_regions
    k = t_d.size
    nc = share.size
    labile = np.zeros((k, nc))
    born = np.zeros((k, nc))
    persistent = np.zeros((k, nc))
    consolidated = np.zeros((k, nc))
    formed = np.zeros((k, n_regions))
    eliminated = np.zeros((k, n_regions))
    head = np.ones(k)
    labile[0] = init[0]
    born[0] = init[1]
    persistent[0] = init[2]
    consolidated[0] = init[3]
    density = np.zeros(n_regions)
    for i in range(k - 1):
        dt = t_d[i + 1] - t_d[i]
        t_pos, w, s = _mean_inputs(inputs, i)
        sigma = 1.0 + c.stress_gain * s
        density[:] = 0.0
        if density_in.shape[0] == k:
            density[:] = density_in[i]
        else:
            for j in range(nc):
                density[region_of[j]] += labile[i, j] + born[i, j] + persistent[i, j] + consolidated[i, j]
        # head enlargement accumulates while TrkB signals and relaxes over head_time_d
        grow = c.head_gain * t_pos * c.head_time_d
        head[i + 1] = 1.0 + grow + (head[i] - 1.0 - grow) * np.exp(-dt / c.head_time_d)
        for j in range(nc):
            r = region_of[j]
            homeostasis = np.exp(c.homeostatic_gain * (1.0 - density[r]))
            mature = c.maturation_rate * homeostasis
            select = mature + c.stabilisation_rate * w * corr[j] * homeostasis
            f_base = share[j] * c.formation_rate * formation_on
            f_born = share[j] * c.formation_rate * c.formation_gain * t_pos * formation_on
            a_n = c.labile_loss_rate * sigma + mature
            a_p = c.labile_loss_rate * sigma + select
            a_s = c.persistent_loss_rate * sigma
            a_c = c.consolidated_loss_rate * sigma
            n0, p0, s0, k0 = labile[i, j], born[i, j], persistent[i, j], consolidated[i, j]
            n1 = f_base / a_n + (n0 - f_base / a_n) * np.exp(-a_n * dt)
            p1 = f_born / a_p + (p0 - f_born / a_p) * np.exp(-a_p * dt)
            inflow = mature * 0.5 * (n0 + n1)
            s1 = inflow / a_s + (s0 - inflow / a_s) * np.exp(-a_s * dt)
            inflow_c = select * 0.5 * (p0 + p1)
            k1 = inflow_c / a_c + (k0 - inflow_c / a_c) * np.exp(-a_c * dt)
            labile[i + 1, j], born[i + 1, j], persistent[i + 1, j] = n1, p1, max(s1, 0.0)
            consolidated[i + 1, j] = max(k1, 0.0)
            formed[i + 1, r] += f_base + f_born
            eliminated[i + 1, r] += (c.labile_loss_rate * sigma * 0.5 * (n0 + n1 + p0 + p1)
                                     + a_s * 0.5 * (s0 + s1) + a_c * 0.5 * (k0 + k1))
    return labile, born, persistent, consolidated, formed, eliminated, head


def steady_state(share: np.ndarray, c: SpineConstants, *, stress_level: float = 0.0) -> np.ndarray:
    """Pools ``[N, P, S, C]`` per connection at rest (no drug) under a constant stress level.

    Without stress the density is 1 per region. Under a constant stress ``s`` (elimination
    multiplied by ``σ = 1 + g_s s``) the region density ``D`` solves
    ``D = f0 / (e_N σ + m0 H(D)) · (1 + m0 H(D) / (e_S σ))`` with ``H(D) = exp(γ (1 − D))``
    (the fixed point of the mean-field equations with ``P = 0``).
    """
    if stress_level <= 0.0:
        phi = c.formation_rate / (c.labile_loss_rate + c.maturation_rate)
        return np.stack([share * phi, np.zeros_like(share), share * (1.0 - phi), np.zeros_like(share)])
    sigma = 1.0 + c.stress_gain * stress_level
    density = brentq(lambda d: _rest_density(d, sigma, c) - d, 1e-9, 1.0)
    mature = c.maturation_rate * np.exp(c.homeostatic_gain * (1.0 - density))
    labile = c.formation_rate / (c.labile_loss_rate * sigma + mature)
    persistent = mature * labile / (c.persistent_loss_rate * sigma)
    return np.stack([share * labile, np.zeros_like(share), share * persistent, np.zeros_like(share)])


def _rest_density(density: float, sigma: float, c: SpineConstants) -> float:
    """Density that the rest-state pools would hold if the homeostatic factor were set by ``density``."""
    mature = c.maturation_rate * np.exp(c.homeostatic_gain * (1.0 - density))
    labile = c.formation_rate / (c.labile_loss_rate * sigma + mature)
    return labile * (1.0 + mature / (c.persistent_loss_rate * sigma))


def stress_for_density(density: float, c: SpineConstants) -> float:
    """The constant stress level whose rest state holds ``density`` (0 < density ≤ 1).

    The inverse of :func:`steady_state`: at a given density the homeostatic factor is known and
    the rest density falls monotonically with σ, so σ is found by bracketing.
    """
    if not 0.0 < density <= 1.0:
        raise ValueError(f"a rest density under stress lies in (0, 1], got {density}")
    if density == 1.0:
        return 0.0
    if c.stress_gain <= 0.0:
        raise ValueError("stress cannot lower density when stress_elimination_gain is 0")
    sigma_hi = 2.0
    while _rest_density(density, sigma_hi, c) > density:
        sigma_hi *= 2.0
    sigma = brentq(lambda sg: _rest_density(density, sg, c) - density, 1.0, sigma_hi)
    return (sigma - 1.0) / c.stress_gain


def sample_spines(inputs: DailyInputs, connections: Connections, c: SpineConstants,
                  n_per_region: int, replicates: int, rng: np.random.Generator,
                  *, init: np.ndarray | None = None):
    """Individual spines as a birth–death process (counts per connection), seeded.

    The initial counts are Poisson draws around ``init`` (pools ``[N, P, S, C]`` per connection
    relative to the baseline density, as for :func:`integrate_spines`; default: the unstressed
    rest state) times ``n_per_region``.

    Births are Poisson with the mean-field formation rate times the region's baseline count;
    each labile spine leaves its pool with probability ``1 − exp(−a dt)`` and, when it leaves,
    matures with probability ``m / a`` (else it is eliminated); persistent spines are eliminated
    with probability ``1 − exp(−e_S σ dt)``, consolidated plasticity-born ones with
    ``1 − exp(−e_C σ dt)``.

    Returns
    -------
    counts : int64[K, replicates, C]
        Spines per connection (all pools).
    """
    t_d, trkb, window, stress = inputs
    region_of, share, corr = connections.region_of, connections.share, connections.correlation
    k, nc, n_regions = t_d.size, share.size, connections.n_regions
    base = share * n_per_region
    expected = (steady_state(share, c) if init is None else np.asarray(init, float)) * n_per_region
    # draw order labile, persistent, born, consolidated (a zero mean draws nothing from the stream)
    labile = rng.poisson(expected[0], size=(replicates, nc))
    persistent = rng.poisson(expected[2], size=(replicates, nc))
    born = rng.poisson(expected[1], size=(replicates, nc))
    consolidated = rng.poisson(expected[3], size=(replicates, nc))
    counts = np.zeros((k, replicates, nc), dtype=np.int64)
    counts[0] = labile + born + persistent + consolidated
    for i in range(k - 1):
        dt = t_d[i + 1] - t_d[i]
        t_pos = 0.5 * (max(trkb[i], 0.0) + max(trkb[i + 1], 0.0))
        w = 0.5 * (window[i] + window[i + 1])
        sigma = 1.0 + c.stress_gain * 0.5 * (stress[i] + stress[i + 1])
        region_count = np.zeros((replicates, n_regions))
        np.add.at(region_count.T, region_of, counts[i].T)
        density = region_count[:, region_of] / n_per_region
        homeostasis = np.exp(c.homeostatic_gain * (1.0 - density))
        mature = c.maturation_rate * homeostasis
        select = mature + c.stabilisation_rate * w * corr * homeostasis
        a_n = c.labile_loss_rate * sigma + mature
        a_p = c.labile_loss_rate * sigma + select
        a_s = c.persistent_loss_rate * sigma
        a_c = c.consolidated_loss_rate * sigma
        n_left = rng.binomial(labile, _leave(a_n, dt))
        p_left = rng.binomial(born, _leave(a_p, dt))
        n_mat = rng.binomial(n_left, mature / a_n)
        p_mat = rng.binomial(p_left, select / a_p)
        s_lost = rng.binomial(persistent, _leave(a_s, dt))
        c_lost = rng.binomial(consolidated, _leave(a_c, dt))
        # births surviving to the end of the step (the mean field's exact-step solution)
        n_new = rng.poisson(base * c.formation_rate * _survive_mean(a_n, dt))
        p_new = rng.poisson(base * c.formation_rate * c.formation_gain * t_pos * _survive_mean(a_p, dt))
        labile = labile - n_left + n_new
        born = born - p_left + p_new
        persistent = persistent - s_lost + n_mat
        consolidated = consolidated - c_lost + p_mat
        counts[i + 1] = labile + born + persistent + consolidated
    return counts


def _leave(rate, dt):
    return -np.expm1(-rate * dt)


def _survive_mean(rate, dt):
    """Expected time-weight of births over a step that are still present at its end."""
    return -np.expm1(-rate * dt) / rate
