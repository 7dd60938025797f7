"""Symptom model: the circuit term (induced by the window, maintained by persistent spines, SP6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.clinical.biology import BiologyTrajectory
from psilosim.clinical.calibration import TwinCohort
from psilosim.clinical.presets import raison2023
from psilosim.clinical.scales import SCALES
from psilosim.clinical.symptoms import (
    DEFAULT_SYMPTOMS,
    SymptomCourse,
    circuit_repair,
    latent_course,
    observed_scores,
    repaired_share,
)

unit = st.floats(0.0, 1.0)
signed = st.floats(-1.0, 1.0)


@given(w=unit, r=signed)
def test_circuit_repair_is_bounded_and_reduces_to_its_two_phases(w, r):
    c = float(circuit_repair(np.array([w]), np.array([r]))[0])
    assert -1.0 - 1e-12 <= c <= 1.0 + 1e-12
    assert float(circuit_repair(np.array([0.0]), np.array([r]))[0]) == pytest.approx(r)   # closed: spines only
    assert float(circuit_repair(np.array([1.0]), np.array([r]))[0]) == pytest.approx(1.0)  # open: full function
    assert c >= min(w, r) - 1e-12                                                          # never below either


@given(w1=unit, w2=unit, r=signed)
def test_circuit_repair_grows_with_the_window(w1, w2, r):
    lo, hi = sorted((w1, w2))
    assert circuit_repair(np.array([hi]), np.array([r]))[0] >= circuit_repair(np.array([lo]), np.array([r]))[0] - 1e-12


def test_repaired_share_is_relative_to_the_patients_own_untreated_level():
    stable = np.array([0.8, 0.9, 1.0, 0.7])
    np.testing.assert_allclose(repaired_share(stable), [0.0, 0.5, 1.0, -0.5])


@given(untreated=st.floats(0.5, 0.99), later=st.lists(st.floats(0.3, 1.2), min_size=1, max_size=20))
def test_repaired_share_properties(untreated, later):
    stable = np.array([untreated, *later])
    r = repaired_share(stable)
    assert r[0] == 0.0                                   # the untreated level repairs nothing
    assert np.all((r >= -1.0) & (r <= 1.0))
    order = np.argsort(stable, kind="stable")
    assert np.all(np.diff(r[order]) >= -1e-12)           # more persistent spines, more repair
    assert repaired_share(np.array([untreated, 1.0]))[1] == pytest.approx(1.0)   # healthy level: all of it


def test_a_patient_without_a_deficit_has_nothing_to_repair():
    np.testing.assert_array_equal(repaired_share(np.array([1.0, 1.05, 0.98])), 0.0)


def _biology(persistent_gain: float) -> BiologyTrajectory:
    """Window open for two weeks, then closed; persistent spines regain ``persistent_gain`` of a 0.2 deficit."""
    t = np.linspace(0.0, 60.0, 601)
    window = np.where(t < 14.0, 1.0, 0.0)
    stable = 0.8 + 0.2 * persistent_gain * (t > 0.5)
    return BiologyTrajectory(t, window, stable.copy(), np.ones_like(t), stable_rel=stable)


@pytest.mark.parametrize("kept", [0.0, 0.5, -0.25])
def test_benefit_after_the_window_closes_is_what_persistent_spines_carry(kept):
    params = DEFAULT_SYMPTOMS.replace(weight_therapy=0.0, weight_placebo=0.0)
    w_c, baseline = params.weight_circuit.value, 30.0
    course = latent_course(_biology(kept), baseline=baseline, expectancy=1.0, params=params)
    during = np.interp(10.0, course.time_d, course.latent)
    after = np.interp(50.0, course.time_d, course.latent)
    assert during == pytest.approx(baseline * (1.0 - w_c), rel=1e-3)          # open window: full repair
    assert after == pytest.approx(baseline * (1.0 - w_c * kept), rel=1e-3)    # closed: only what is kept
    assert (after > baseline) == (kept < 0)             # spines lost below the untreated level worsen
    # by hand: an open window restores full circuit function, a closed one keeps the repaired share
    np.testing.assert_allclose(course.circuit[course.time_d < 14.0], 1.0)
    np.testing.assert_allclose(course.circuit[course.time_d >= 14.0], kept)


def test_one_psilocybin_dose_keeps_a_benefit_after_its_window_closes():
    """Raison et al. 2023 design: psilocybin − niacin latent difference at day 43 vs day 15.

    With separate additive window and spine weights this fell to 15 % (docs/clinical.md,
    "Circuit term"); persistent spines now carry a substantial share past the window.
    """
    design = raison2023()
    cohort = TwinCohort(design, 16, 4)
    k = design.arm_names.index("psilocybin")
    open_at_43 = max(cohort.biology[i, k].at([43.0])["window"][0] for i in range(cohort.n))
    assert open_at_43 < 0.01                                 # every patient's window has closed by day 43
    diff = {day: float(np.mean(c["psilocybin"] - c["niacin"])) for day in (15.0, 43.0)
            for c in [cohort.change(day)]}
    assert diff[15.0] < 0 and diff[43.0] < 0
    assert diff[43.0] / diff[15.0] > 0.3


# ---------------------------------------------------------------- rated scores stay on the scale
@settings(max_examples=60, deadline=None)
@given(scale_name=st.sampled_from(sorted(SCALES)), start=st.floats(0.0, 1.0), end=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**32 - 1))
def test_rated_scores_are_integers_on_the_scale(scale_name, start, end, seed):
    """Whatever the latent severity (anywhere on the scale, near its floor or ceiling included),
    a rating is a whole number between the scale's minimum and maximum."""
    scale = SCALES[scale_name]
    span = scale.maximum - scale.minimum
    t = np.array([0.0, 1.0, 7.0, 42.0])
    latent = scale.minimum + span * np.interp(t, [0.0, 42.0], [start, end])
    course = SymptomCourse(t, latent, *(np.zeros(t.size) for _ in range(5)))
    scores = observed_scores(course, t, scale, np.random.default_rng(seed))
    assert scores.shape == t.shape
    np.testing.assert_array_equal(scores, np.rint(scores))
    assert np.all((scores >= scale.minimum) & (scores <= scale.maximum)), scores


# ---------------------------------------------------------------- rated change (CL4's effect size)
def test_rated_change_noise_variance_matches_sampled_ratings():
    """The analytic extra variance of a rated change (fluctuation by the day + two rating errors)
    equals the spread of ratings drawn by ``observed_scores`` around a constant latent course."""
    from psilosim.clinical.scales import get_scale
    from psilosim.clinical.symptoms import (
        SymptomCourse,
        observed_scores,
        rated_change_noise_variance,
    )

    baseline, day, scale = 30.0, 1.0, get_scale("MADRS")
    t = np.array([0.0, day])
    flat = np.full(2, baseline)
    course = SymptomCourse(t, flat, *(np.zeros(2) for _ in range(5)))
    rng = np.random.default_rng(0)
    changes = np.array([np.diff(observed_scores(course, t, scale, rng))[0] for _ in range(20000)])
    expected = rated_change_noise_variance([baseline], day, scale) + 2.0 / 12.0  # + rounding of two ratings
    assert changes.mean() == pytest.approx(0.0, abs=0.1)
    assert changes.var() == pytest.approx(expected, rel=0.04)
    # the fluctuation part grows with the day and with the baseline
    assert rated_change_noise_variance([baseline], 7.0, scale) > rated_change_noise_variance([baseline], day, scale)
    assert rated_change_noise_variance([40.0], day, scale) > rated_change_noise_variance([20.0], day, scale)
