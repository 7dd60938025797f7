"""The FC noise floor of simulated scans, measured the same way as on real BOLD.

The scan's drug/noise-floor ratio (docs/network.md#scan-noise-floor) is only meaningful if the
model's scans are about as noisy as real ones: a model whose BOLD were far noisier than real
BOLD would understate the ratio. ``split_half_fc_change`` measures the within-recording
test–retest noise of FC on both; the built-in AAL2 recordings are real resting-state BOLD.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.connectome import load_dataset
from psilosim.errors import DataError
from psilosim.network.measures import mean_abs_fc_difference, split_half_fc_change
from psilosim.network.scan import scan_session
from psilosim.units import SECONDS_PER_MINUTE


def _bold(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=("region", "time"),
                        coords={"region": [f"r{i}" for i in range(values.shape[0])]})


def test_repeated_half_has_no_split_half_change():
    half = np.random.default_rng(0).normal(size=(5, 40))
    assert split_half_fc_change(_bold(np.concatenate([half, half], axis=1))) == pytest.approx(0.0, abs=1e-12)


def test_split_half_change_is_the_mean_absolute_fc_difference_of_the_halves():
    values = np.random.default_rng(1).normal(size=(4, 61))  # odd length: last sample dropped
    first, second = np.corrcoef(values[:, :30]), np.corrcoef(values[:, 30:60])
    upper = np.triu_indices(4, 1)
    assert split_half_fc_change(_bold(values)) == pytest.approx(np.abs(first - second)[upper].mean())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_regions=st.integers(2, 8), half=st.integers(3, 40))
def test_split_half_change_is_bounded_and_symmetric_in_the_halves(seed, n_regions, half):
    values = np.random.default_rng(seed).normal(size=(n_regions, 2 * half))
    forward = split_half_fc_change(_bold(values))
    swapped = split_half_fc_change(_bold(np.concatenate([values[:, half:], values[:, :half]], axis=1)))
    assert 0.0 <= forward <= 2.0
    assert forward == pytest.approx(swapped, rel=1e-12, abs=1e-15)


def test_dimension_order_does_not_matter():
    bold = _bold(np.random.default_rng(2).normal(size=(6, 50)))
    assert split_half_fc_change(bold.transpose("time", "region")) == pytest.approx(split_half_fc_change(bold))


@pytest.mark.parametrize(("values", "dims", "message"), [
    (np.zeros((3, 4)), ("region", "time"), "need at least"),
    (np.full((3, 20), np.nan), ("region", "time"), "non-finite"),
    (np.zeros((3, 20)), ("region", "sample"), "dimensions"),
])
def test_bad_recordings_are_rejected_with_a_clear_message(values, dims, message):
    with pytest.raises(DataError, match=message):
        split_half_fc_change(xr.DataArray(values, dims=dims))


def test_fc_matrices_of_different_shape_are_rejected():
    with pytest.raises(DataError, match="one shape"):
        mean_abs_fc_difference(np.eye(3), np.eye(4))


def test_simulated_scans_are_as_noisy_as_the_real_recordings():
    """Simulated baseline scans of the real recordings' length have a split-half FC noise inside
    the range of the five real AAL2 subjects (it could fall outside: a model with too slow or too
    weakly coupled BOLD gives a larger one, a noise-free or over-synchronised one a smaller one)."""
    aal2 = load_dataset("aal2")
    real = np.array([split_half_fc_change(b) for b in aal2.bold])
    n_samples, tr_s = aal2.bold[0].sizes["time"], aal2.bold[0].attrs["tr_s"]
    session = scan_session(aal2, 0.0, minutes=n_samples * tr_s / SECONDS_PER_MINUTE, seed=0, maps=(), sessions=1)
    simulated = [split_half_fc_change(session["bold"].sel(condition=c, session=0))
                 for c in ("baseline", "baseline_repeat")]
    assert session.sizes["time"] == n_samples
    for value in simulated:
        assert real.min() <= value <= real.max(), (value, real)


def _conditions():
    from psilosim.network.scan import Condition

    return [Condition("baseline", None, ((0, 0, 0),)), Condition("receptor", np.ones(3), ((0, 2, 0),))]


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, "flat"])
def test_a_scan_whose_bold_left_the_valid_range_names_condition_and_region(bad_value):
    from psilosim.network.scan import _require_fluctuating

    bold = np.random.default_rng(4).normal(size=(2, 1, 3, 20))  # condition × session × region × time
    if bad_value == "flat":
        bold[1, 0, 2, :] = 0.5
    else:
        bold[1, 0, 2, 7] = bad_value
    with pytest.raises(DataError, match=r"condition 'receptor': 1 region\(s\) \(r2\) \(a drug condition"):
        _require_fluctuating(bold, _conditions(), ["r0", "r1", "r2"])
    _require_fluctuating(bold[:1], _conditions()[:1], ["r0", "r1", "r2"])  # the healthy condition passes


def test_bad_regions_are_reported_per_condition_and_the_gain_hint_only_for_drug_conditions():
    from psilosim.network.scan import _require_fluctuating

    bold = np.random.default_rng(5).normal(size=(2, 1, 3, 20))
    bold[0, 0, 0, 3] = np.nan
    with pytest.raises(DataError) as baseline_only:
        _require_fluctuating(bold, _conditions(), ["r0", "r1", "r2"])
    assert "condition 'baseline': 1 region(s) (r0)" in str(baseline_only.value)
    assert "receptor" not in str(baseline_only.value) and "gain_scale" not in str(baseline_only.value)
    bold[1, 0, 2, 3] = np.nan
    with pytest.raises(DataError) as both:
        _require_fluctuating(bold, _conditions(), ["r0", "r1", "r2"])
    assert "condition 'baseline': 1 region(s) (r0); condition 'receptor': 1 region(s) (r2)" in str(both.value)
    assert "gain_scale" in str(both.value)


def test_a_region_constant_within_one_half_is_rejected():
    values = np.random.default_rng(6).normal(size=(3, 40))
    values[1, 20:] = 0.3
    with pytest.raises(DataError, match="constant in the second half for region.*r1"):
        split_half_fc_change(_bold(values))
