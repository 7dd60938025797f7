"""Static and sliding-window FC, FCD, network summaries, desynchronisation, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from _metrics_data import bold, region_table
from psilosim.errors import InputError
from psilosim.metrics import (
    dmn_fc,
    fc_change,
    fcd,
    fcd_ks_distance,
    hippocampus_dmn_fc,
    network_fc,
    sliding_window_fc,
    static_fc,
)
from psilosim.metrics.fc import correlation_matrix

RNG = np.random.default_rng(7)
REGIONS = region_table(9)
TS = bold(RNG.standard_normal((9, 200)), REGIONS, 2.0)


def test_static_fc_is_pearson_and_fisher_z_is_arctanh():
    r = static_fc(TS, REGIONS)
    assert np.allclose(r.values, np.corrcoef(TS.values), atol=1e-12)
    z = static_fc(TS, REGIONS, fisher_z=True).values
    off = ~np.eye(9, dtype=bool)
    assert np.allclose(z[off], np.arctanh(r.values[off]))
    assert np.isnan(np.diag(z)).all()


def test_labels_follow_the_region_table_not_the_array_order():
    shuffled = TS.isel(region=[3, 0, 8, 1, 2, 4, 5, 6, 7])
    assert np.allclose(static_fc(shuffled, REGIONS).values, static_fc(TS, REGIONS).values)


def test_windows_are_set_in_seconds_whatever_the_tr():
    slow = sliding_window_fc(TS, REGIONS, window_s=60, step_s=20)
    fast_ts = bold(RNG.standard_normal((9, 400)), REGIONS, 1.0)
    fast = sliding_window_fc(fast_ts, REGIONS, window_s=60, step_s=20)
    assert slow.attrs["window_s"] == fast.attrs["window_s"] == 60
    assert slow.sizes["window"] == fast.sizes["window"] == (400 - 60) // 20 + 1
    first = slow.isel(window=0).values
    assert np.allclose(first, np.corrcoef(TS.values[:, :30]), atol=1e-12)


def test_fcd_of_a_recording_against_itself_has_zero_ks_distance():
    a = fcd(TS, REGIONS, window_s=40, step_s=10)
    assert np.allclose(np.diag(a.values), 1.0)
    assert fcd_ks_distance(a, a) == 0.0
    # A stable network pattern repeats in every window (FCD near 1); white noise does not.
    codes = REGIONS["network"].factorize()[0]
    stable = RNG.standard_normal((3, 200))[codes] + 0.3 * RNG.standard_normal((9, 200))
    b = fcd(bold(stable, REGIONS, 2.0), REGIONS, window_s=40, step_s=10)
    assert fcd_ks_distance(a, b) > 0.8


def _block_fc():
    fc = np.full((9, 9), 0.1)
    member = REGIONS["network"].to_numpy()
    fc[np.equal.outer(member, member)] = 0.5
    fc[np.ix_(member == "Default", member == "Default")] = 0.8
    np.fill_diagonal(fc, 1.0)
    return xr.DataArray(fc, dims=("region_i", "region_j"),
                        coords={"region_i": list(REGIONS.index), "region_j": list(REGIONS.index)})


def test_network_means_exclude_the_diagonal():
    per = network_fc(_block_fc(), REGIONS)
    assert per["within"].sel(network="Default") == pytest.approx(0.8)
    assert per["within"].sel(network="Vis") == pytest.approx(0.5)
    assert per["between"].sel(network="SomMot") == pytest.approx(0.1)
    assert dmn_fc(_block_fc(), REGIONS) == pytest.approx({"within": 0.8, "between": 0.1})


def test_hippocampus_dmn_fc_uses_labels_and_is_nan_without_hippocampus():
    assert np.isnan(hippocampus_dmn_fc(_block_fc(), REGIONS))
    table = REGIONS.rename(index={"r01": "Hippocampus_L"})
    fc = _block_fc().assign_coords(region_i=list(table.index), region_j=list(table.index))
    # Hippocampus_L sits in "Vis" here: its FC with the DMN regions is the between value.
    assert hippocampus_dmn_fc(fc, table) == pytest.approx(0.1)


def test_desynchronisation_is_zero_for_identical_fc_and_tracks_a_change():
    fc = _block_fc()
    same = fc_change(fc, fc, REGIONS)
    assert same["mean_abs_diff"] == 0 and same["corr_distance"] == pytest.approx(0, abs=1e-12)
    changed = fc.copy(data=fc.values.copy())
    dmn = np.flatnonzero(REGIONS["network"].to_numpy() == "Default")
    changed.values[np.ix_(dmn, dmn)] -= 0.3
    np.fill_diagonal(changed.values, 1.0)
    out = fc_change(fc, changed, REGIONS)
    assert out["network_mean_abs_diff"].to_series().idxmax() == "Default"
    assert out["mean_abs_diff"] == pytest.approx(0.3 * 3 / 36)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 8), st.integers(10, 40), st.integers(0, 2**31 - 1))
def test_correlation_matrix_is_symmetric_bounded_with_unit_diagonal(n, t, seed):
    values = np.random.default_rng(seed).standard_normal((n, t))
    corr = correlation_matrix(values)
    assert np.array_equal(corr, corr.T)
    assert np.all(np.abs(corr) <= 1) and np.allclose(np.diag(corr), 1)


# ------------------------------------------------------------------ bad input
def test_nan_is_rejected_with_the_region_named():
    bad = TS.copy(data=TS.values.copy())
    bad.values[2, 5] = np.nan
    with pytest.raises(InputError, match="NaN.*r02"):
        static_fc(bad, REGIONS)


def test_constant_signal_is_rejected():
    bad = TS.copy(data=TS.values.copy())
    bad.values[4] = 3.0
    with pytest.raises(InputError, match="constant signal.*r04"):
        static_fc(bad, REGIONS)


def test_recording_shorter_than_one_window_is_rejected():
    with pytest.raises(InputError, match="longer than the recording"):
        sliding_window_fc(TS.isel(time=slice(0, 20)), REGIONS, window_s=60, step_s=20)


def test_wrong_dims_and_mismatched_region_table_are_rejected():
    with pytest.raises(InputError, match="dims"):
        static_fc(TS.rename(time="t"), REGIONS)
    with pytest.raises(InputError, match="has 9 regions but the region table has 10"):
        static_fc(TS, region_table(10))
    with pytest.raises(InputError, match="do not match"):
        static_fc(TS.assign_coords(region=[f"x{i}" for i in range(9)]), REGIONS)
    with pytest.raises(InputError, match="network"):
        static_fc(TS, REGIONS.drop(columns="network"))
    with pytest.raises(InputError, match="rows but the region table"):
        static_fc(TS.values.T, REGIONS, tr_s=2.0)


def test_a_non_positive_tr_is_rejected():
    with pytest.raises(InputError, match="tr_s"):
        static_fc(TS.values, REGIONS, tr_s=0.0)


# Guards against a tr_s (given or in attrs) that contradicts the recording's time axis being used silently.
def test_tr_contradicting_the_time_axis_is_rejected():
    regions = region_table(4)
    values = np.random.default_rng(0).standard_normal((4, 50))
    recording = bold(values, regions, 1.0)  # time axis in steps of 1 s
    with pytest.raises(InputError, match="tr_s"):
        static_fc(recording, regions, tr_s=2.0)
    with pytest.raises(InputError, match="tr_s"):
        static_fc(recording.assign_attrs(tr_s=0.72), regions)
    # Agreement (explicit, from attrs, or from the axis alone) is accepted.
    for tr in (1.0, None):
        assert static_fc(recording, regions, tr_s=tr).shape == (4, 4)
    assert static_fc(recording.assign_attrs(tr_s=1.0), regions).shape == (4, 4)


def test_tr_of_a_single_sample_axis_is_not_compared():
    # A one-sample axis has no step, so there is nothing to contradict.
    from psilosim.metrics._inputs import _sampling_interval

    one = xr.DataArray(np.zeros((2, 1)), dims=("region", "time"), coords={"time": [0.0]})
    assert _sampling_interval(one, 2.0, "bold") == 2.0


# Guards against analyze()/compare() crashing with KeyError on a region table whose labels are not
# strings (as_timeseries accepts them and turns the labels into strings).
def test_analyze_and_compare_accept_a_region_table_with_integer_labels():
    from _metrics_data import planted_switching
    from psilosim.metrics import analyze, compare

    values, _ = planted_switching(seed=1)
    named = region_table(values.shape[0])
    numbered = named.reset_index(drop=True)            # labels 0, 1, ... (int64 index)
    result = analyze(values, numbered, tr_s=2.0)
    assert list(result["region"].values) == [str(i) for i in range(values.shape[0])]
    reference = analyze(values, named, tr_s=2.0)
    assert float(result["modularity"]) == pytest.approx(float(reference["modularity"]), abs=1e-12)
    assert float(compare(result, values, numbered, tr_s=2.0)["delta_modularity"]) == pytest.approx(0.0, abs=1e-12)


def test_labels_that_collide_as_text_are_refused():
    import pandas as pd

    from psilosim.metrics._inputs import check_region_table

    regions = pd.DataFrame({"network": ["Default", "Vis"]}, index=pd.Index([1, "1"], dtype=object))
    with pytest.raises(InputError, match="duplicated"):
        check_region_table(regions)


# Guards against the API reading a "default" network as not the DMN (NaN DMN measures) while the
# CLI's reader (connectome.parcellation) maps it to "Default".
def test_a_default_network_in_any_case_is_the_dmn():
    from _metrics_data import planted_switching
    from psilosim.metrics import analyze
    from psilosim.metrics._inputs import check_region_table

    values, _ = planted_switching(seed=1)
    named = region_table(values.shape[0])
    lower = named.assign(network=named["network"].replace({"Default": "default"}))
    upper = named.assign(network=named["network"].replace({"Default": " DEFAULT"}))
    assert list(check_region_table(upper)["network"]) == list(named["network"])
    assert (lower["network"] == "default").any()  # the caller's table is left as it was
    reference = analyze(values, named, tr_s=2.0)
    for table in (lower, upper):
        result = analyze(values, table, tr_s=2.0)
        assert np.isfinite(float(result["dmn_within"]))
        assert float(result["dmn_within"]) == pytest.approx(float(reference["dmn_within"]), abs=1e-12)


# Guards against the network-level functions, called directly, reading a lowercase "default"
# network as not the DMN (NaN) while analyze() finds it.
def test_network_functions_called_directly_find_a_lowercase_default_network():
    from psilosim.metrics.networks import dmn_fc, network_fc, network_matrix

    rng = np.random.default_rng(0)
    named = region_table(12)
    lower = named.assign(network=named["network"].replace({"Default": "default"}))
    x = rng.standard_normal((200, 12))
    labels = list(named.index)
    fc = xr.DataArray(np.corrcoef(x.T), dims=("region_i", "region_j"),
                      coords={"region_i": labels, "region_j": labels})
    assert (lower["network"] == "default").any()
    assert dmn_fc(fc, lower) == pytest.approx(dmn_fc(fc, named), abs=1e-12)
    assert np.isfinite(dmn_fc(fc, lower)["within"])
    assert "Default" in list(network_fc(fc, lower)["network"].values)
    assert "Default" in list(network_matrix(fc, lower)["network_i"].values)
