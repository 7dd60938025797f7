"""The output step of ``simulate_acute`` is a sampling choice, not a numerical one (user test s3/u2).

The PK (plasma and effect site) is analytic and exact at any time; occupancy and effect are
functions of the effect-site concentration; the one state with memory, 5-HT2A availability under
SERT blockade, was integrated on the output grid, so it changed with ``dt_h``. It is now
integrated on an internal grid (step <= ``ACUTE_RESOLUTION.max_internal_step``) that contains the
output times. Peaks and durations read from a coarse output grid are samples: the user is warned.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from psilosim.binding import (
    ACUTE_RESOLUTION,
    CoarseOutputStepWarning,
    effect_duration_h,
    simulate_acute,
)
from psilosim.regimen import Regimen

#: An SSRI course long enough to move 5-HT2A availability, then psilocybin on top of it.
SSRI_THEN_PSILOCYBIN = [("escitalopram", Regimen.daily("20 mg", duration="2 weeks")),
                        ("psilocybin", Regimen.single("25 mg", at="13 d"))]
HOURS = 14 * 24
#: Agreement at common times: the PK is exact and the internal grids of 0.25, 1.5 and 3 h are one
#: grid, so only round-off separates them.
SAME_GRID_ATOL = 1e-9
#: A 0.7 h step splits into 0.2333 h internal steps (not the 0.25 h grid): availability (7-day time
#: constant, driven by SERT occupancy) is then integrated on another grid, which moves it by ~1e-6.
OTHER_GRID_ATOL = 1e-5


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoarseOutputStepWarning)
        return simulate_acute(*args, **kwargs)


@pytest.fixture(scope="module")
def fine():
    return simulate_acute(SSRI_THEN_PSILOCYBIN, t_end_h=HOURS, dt_h=0.25)


@pytest.mark.parametrize(("dt_h", "atol"), [(3.0, SAME_GRID_ATOL), (1.5, SAME_GRID_ATOL), (0.7, OTHER_GRID_ATOL)])
def test_values_at_common_times_do_not_depend_on_the_output_step(fine, dt_h, atol):
    coarse = _quiet(SSRI_THEN_PSILOCYBIN, t_end_h=HOURS, dt_h=dt_h)
    common = np.intersect1d(np.round(fine.time_h.values, 9), np.round(coarse.time_h.values, 9))
    assert common.size >= 10
    for name in fine.data_vars:
        a = fine[name].sel(time_h=common, method="nearest").values
        b = coarse[name].sel(time_h=common, method="nearest").values
        np.testing.assert_allclose(b, a, rtol=0, atol=atol, err_msg=name)
    # the state with memory really moved in this run: the comparison tests something
    assert float(fine.receptor_availability.min()) < 0.9


def test_the_output_times_are_the_requested_grid():
    ds = _quiet(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=6)
    np.testing.assert_array_equal(ds.time_h.values, [0.0, 6.0, 12.0, 18.0, 24.0])
    assert ds.attrs["internal_step_h"] == pytest.approx(0.25)


@pytest.fixture(scope="module")
def psilocybin_on_the_internal_grid():
    return simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24,
                          dt_h=ACUTE_RESOLUTION.max_internal_step.to("h"))


@pytest.mark.parametrize("dt_h", [6.0, 15.0, "6 h"])
def test_a_step_that_misses_the_peak_warns_naming_dt_h(dt_h, psilocybin_on_the_internal_grid):
    with pytest.warns(CoarseOutputStepWarning, match="dt_h") as record:
        ds = simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=dt_h)
    message = str(record[0].message)
    # the warning gives the internal-grid values the sampled output misses: those of a fine run
    cmax = float(psilocybin_on_the_internal_grid.concentration.max())
    peak_effect = 100 * float(psilocybin_on_the_internal_grid.effect.max())
    assert f"Cmax psilocin {float(ds.concentration.max()):.3g} (internal grid: {cmax:.3g} ng/mL)" in message
    assert f"(internal grid: {peak_effect:.3g} % of scale)" in message and "sampled" in message
    assert float(ds.concentration.max()) < 0.5 * cmax
    assert issubclass(CoarseOutputStepWarning, UserWarning)


@pytest.mark.parametrize("dt_h", [0.05, 0.25, 0.5])
def test_a_step_that_resolves_the_peaks_does_not_warn(dt_h):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoarseOutputStepWarning)
        simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=dt_h)


def test_the_internal_step_resolves_the_acute_summaries():
    """The justification of ``max_internal_step``: on its grid the psilocybin 25 mg peaks and effect
    duration (PK1, PK10, PK11 quantities) are within the tolerances its note states."""
    step = ACUTE_RESOLUTION.max_internal_step.to("h")
    ref = simulate_acute(("psilocybin", Regimen.single("25 mg", at="0.1 h")), t_end_h=24.1, dt_h=0.002)
    on_step = simulate_acute(("psilocybin", Regimen.single("25 mg", at="0.1 h")), t_end_h=24.1, dt_h=step)
    assert float(on_step.concentration.max()) == pytest.approx(float(ref.concentration.max()), rel=0.006)
    assert float(on_step.effect.max()) == pytest.approx(float(ref.effect.max()), abs=5e-4)
    assert effect_duration_h(on_step) == pytest.approx(effect_duration_h(ref), abs=0.09)
    assert ACUTE_RESOLUTION.summary_rtol.value > 0.029  # above the internal grid's own sampling error


def test_a_finer_internal_step_changes_nothing_at_the_output_times():
    coarse_inside = simulate_acute(SSRI_THEN_PSILOCYBIN, t_end_h=HOURS, dt_h=0.25)
    fine_inside = simulate_acute(SSRI_THEN_PSILOCYBIN, t_end_h=HOURS, dt_h=0.25,
                                 resolution=ACUTE_RESOLUTION.replace(max_internal_step=0.05))
    assert fine_inside.attrs["internal_step_h"] == pytest.approx(0.05)
    for name in coarse_inside.data_vars:
        np.testing.assert_allclose(fine_inside[name].values, coarse_inside[name].values, rtol=0,
                                   atol=OTHER_GRID_ATOL, err_msg=name)


def test_a_near_zero_peak_sampled_coarsely_does_not_warn():
    """1 mg psilocybin: the effect peak is ~1e-6 of the scale; a 1 h step misses it by a large
    fraction of itself but by far less than ``summary_atol`` of the scale: no warning."""
    one_mg = ("psilocybin", Regimen.single("1 mg"))
    ref = simulate_acute(one_mg, t_end_h=24, dt_h=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoarseOutputStepWarning)
        coarse = simulate_acute(one_mg, t_end_h=24, dt_h=1.0)
    peak, sampled = float(ref.effect.max()), float(coarse.effect.max())
    assert abs(peak - sampled) > ACUTE_RESOLUTION.summary_rtol.value * peak  # a relative test alone would warn
    assert peak < ACUTE_RESOLUTION.summary_atol.value
