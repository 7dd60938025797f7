"""Trial statistics against scipy on known data, and the sign conventions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from psilosim.clinical.stats import (
    MIN_CORRELATION_PAIRS,
    correlation_details,
    correlations,
    mean_ci,
    pearson_ci,
    welch_difference,
    wilson_interval,
)
from psilosim.errors import InputError

A = np.array([-8.0, -5.0, -11.0, -2.0, -9.0, -7.0, -12.0, -6.0, -4.0, -10.0])
B = np.array([-3.0, -6.0, -1.0, -7.0, -4.0, -2.0, -5.0, -8.0, 0.0, -6.0, -5.0, -3.0])


def test_mean_ci_matches_scipy_t_interval():
    est = mean_ci(A)
    lo, hi = sps.t.interval(0.95, A.size - 1, loc=A.mean(), scale=sps.sem(A))
    assert est.value == pytest.approx(A.mean())
    assert est.ci == pytest.approx([lo, hi])


def test_welch_matches_scipy():
    est = welch_difference(A, B)
    res = sps.ttest_ind(A, B, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert est.value == pytest.approx(A.mean() - B.mean())
    assert est.p == pytest.approx(res.pvalue)
    assert est.ci == pytest.approx([ci.low, ci.high])


def test_wilson_matches_scipy_binomtest():
    for k, n in [(0, 10), (7, 10), (21, 30), (30, 30)]:
        est = wilson_interval(k, n)
        ci = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert est.value == pytest.approx(k / n)
        assert est.ci == pytest.approx([ci.low, ci.high])


def test_pearson_matches_scipy():
    x = np.arange(12.0)
    y = np.array([2.0, 1.0, 4.0, 3.0, 7.0, 5.0, 8.0, 6.0, 11.0, 9.0, 10.0, 13.0])
    est = pearson_ci(x, y)
    res = sps.pearsonr(x, y)
    ci = res.confidence_interval(0.95)
    assert est.value == pytest.approx(res.statistic)
    assert est.p == pytest.approx(res.pvalue)
    assert est.ci == pytest.approx([ci.low, ci.high])


@given(st.integers(1, 500), st.floats(0, 1))
def test_wilson_interval_brackets_the_proportion(n, frac):
    k = int(round(frac * n))
    est = wilson_interval(k, n)
    assert 0.0 <= est.low <= est.value <= est.high <= 1.0


def test_bad_inputs_are_rejected():
    with pytest.raises(InputError, match="NaN"):
        mean_ci([1.0, np.nan])
    with pytest.raises(InputError, match="at least 2"):
        welch_difference([1.0], B)
    with pytest.raises(InputError):
        wilson_interval(5, 3)
    with pytest.raises(InputError, match="at least 4"):
        pearson_ci([1, 2, 3], [1, 2, 3])


def _synthetic_trial(modularity_change: np.ndarray, improvement: np.ndarray) -> xr.Dataset:
    n = improvement.size
    outcome = np.zeros((n, 2, 5))
    outcome[:, 0, 0] = 20.0
    outcome[:, 1, 0] = 20.0 - improvement
    outcome[:, :, 3] = 0.8
    outcome[:, :, 4] = 1.0
    network = np.zeros((n, 2, 1))
    network[:, 0, 0] = 0.5
    network[:, 1, 0] = 0.5 + modularity_change
    ds = xr.Dataset(
        {"outcome": (("patient", "visit", "measure"), outcome),
         "network": (("patient", "visit", "network_measure"), network)},
        coords={"patient": np.arange(n), "visit": [0, 1], "study_day": ("visit", [0.0, 21.0]),
                "measure": ["score", "latent", "window", "density_rel", "bdnf_rel"],
                "network_measure": ["modularity"], "arm": ("patient", ["a"] * n)},
        attrs={"scale": "QIDS-SR-16", "primary_day": 21.0, "arms": json.dumps(["a"])},
    )
    return ds


def test_daws_convention_gives_negative_r_for_modularity_change_vs_improvement():
    rng = np.random.default_rng(0)
    improvement = rng.uniform(0, 12, 40)
    modularity_change = -0.01 * improvement + rng.normal(0, 0.02, 40)  # bigger drop, bigger improvement
    r = correlations(_synthetic_trial(modularity_change, improvement))["modularity_change_vs_improvement"]
    assert r < -0.5


# Guards against the report working out on its own why a correlation is missing: the library that
# skipped it says why, next to the missing value, and correlations() keeps its {name: r} shape.
def test_a_missing_correlation_comes_with_the_reason_it_was_skipped():
    rng = np.random.default_rng(1)
    improvement = rng.uniform(0, 12, 10)
    few = np.full(10, np.nan)
    few[:MIN_CORRELATION_PAIRS - 1] = rng.normal(0, 0.02, MIN_CORRELATION_PAIRS - 1)  # 3 patients imaged
    detail = correlation_details(_synthetic_trial(few, improvement))["modularity_change_vs_improvement"]
    assert detail.r is None and detail.n == MIN_CORRELATION_PAIRS - 1
    assert detail.reason == f"fewer than {MIN_CORRELATION_PAIRS} patients have a value ({MIN_CORRELATION_PAIRS - 1})"
    constant = correlation_details(_synthetic_trial(np.full(10, -0.03), improvement))
    assert constant["modularity_change_vs_improvement"].reason == "the change does not vary between patients (all -0.03)"
    assert constant["modularity_change_vs_improvement"].r is None
    flat = correlation_details(_synthetic_trial(rng.normal(0, 0.02, 10), np.full(10, 5.0)))
    assert flat["modularity_change_vs_improvement"].reason == "improvement does not vary between patients"
    # density_rel is 0.8 at every visit of the synthetic trial: no change to correlate either
    assert flat["density_change_vs_improvement"].reason.startswith("the change does not vary")
    ok = correlation_details(_synthetic_trial(-0.01 * improvement + rng.normal(0, 0.02, 10), improvement))
    assert ok["modularity_change_vs_improvement"].reason is None and ok["modularity_change_vs_improvement"].n == 10
    assert correlations(_synthetic_trial(few, improvement)) == {k: d.r for k, d in correlation_details(
        _synthetic_trial(few, improvement)).items()}
