"""Multiple-dose NCA: time to 90 % of steady state and Tmax of repeated identical doses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from psilosim.pharmacokinetics import nca
from psilosim.pharmacokinetics.kernel import LinearPK, modal_response, superpose


def _repeated_boluses(k: float, tau: float, n: int, step: float = 0.25):
    system = LinearPK(clearance=k * 100.0, central_volume=100.0, ke0=1.0)
    lam, g = modal_response(system.matrix(), system.input_state)
    doses = np.arange(n) * tau
    t = np.arange(0, n * tau + 1e-9, step)
    return t, superpose(t, doses, np.ones(n), np.zeros(n), lam, g)[0], np.append(doses, n * tau)


@pytest.mark.parametrize("tau", [24.0, 72.0, 168.0])
def test_time_to_steady_state_follows_the_half_life_not_the_interval(tau):
    # k = 0.4/h (t½ 1.7 h): each dose is gone before the next; 90 % of steady state takes
    # ln(10)/k = 3.32 half-lives whatever the interval
    k = 0.4
    t, c, dose_times = _repeated_boluses(k, tau, 4)
    r = nca(t, c, dose_times=dose_times)
    assert r.time_to_90pct_ss == pytest.approx(math.log(10) / k, rel=0.02)


@given(k=st.floats(0.005, 0.5), tau=st.sampled_from([6.0, 12.0, 24.0, 48.0]))
def test_time_to_steady_state_is_within_a_dose_interval_of_the_analytic_value(k, tau):
    t, c, dose_times = _repeated_boluses(k, tau, 12, step=0.5)
    r = nca(t, c, dose_times=dose_times)
    fractions_reached = 1 - np.exp(-k * tau * np.arange(1, 12))
    if fractions_reached[-1] < 0.95:  # steady state not reached in the simulated doses
        return
    assert abs(r.time_to_90pct_ss - math.log(10) / k) <= tau


def _bateman(t, ka, k):
    """Oral one-compartment profile of a unit dose at t = 0 (zero before it)."""
    tt = np.clip(t, 0, None)
    return np.where(t >= 0, ka / (ka - k) * (np.exp(-k * tt) - np.exp(-ka * tt)), 0.0)


@pytest.mark.parametrize("tau", [24.0, 72.0, 96.0])
def test_tmax_of_identical_repeated_doses_is_the_first_peak(tau):
    # each dose is eliminated before the next: all peaks tie to rounding, the first one counts
    ka, k, n = 1.0, 0.4, 5
    t = np.arange(0, n * tau + 1e-9, 0.05)
    doses = np.arange(n) * tau
    c = sum(_bateman(t - d, ka, k) for d in doses)
    r = nca(t, c, dose_times=np.append(doses, n * tau))
    analytic_tmax = math.log(ka / k) / (ka - k)
    assert r.tmax == pytest.approx(analytic_tmax, abs=0.05)
    assert r.tmax_after_dose == pytest.approx(r.tmax)


def test_tmax_after_dose_counts_from_the_preceding_dose():
    # accumulation: the last peak is clearly the highest, Tmax is after the last dose
    ka, k, tau, n = 1.0, 0.02, 12.0, 6
    t = np.arange(0, n * tau + 1e-9, 0.05)
    doses = np.arange(n) * tau
    c = sum(_bateman(t - d, ka, k) for d in doses)
    r = nca(t, c, dose_times=np.append(doses, n * tau))
    assert doses[-1] < r.tmax < doses[-1] + tau
    assert r.tmax_after_dose == pytest.approx(r.tmax - doses[-1])
