"""The metrics link's Python API: per-region partitions checked against the FC, units on results."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from _metrics_data import planted_switching, region_table
from psilosim.errors import InputError
from psilosim.metrics import (
    analyze,
    compare,
    detect_communities,
    flexibility_of,
    integration_summary,
    modularity_q,
    participation,
)


@pytest.fixture(scope="module")
def recording():
    values, _ = planted_switching(seed=3)
    regions = region_table(values.shape[0])
    fc = xr.DataArray(np.corrcoef(values), dims=("region_i", "region_j"),
                      coords={"region_i": list(regions.index), "region_j": list(regions.index)})
    return values, regions, fc


@pytest.fixture(scope="module")
def results(recording):
    values, regions, _ = recording
    before = analyze(values, regions, tr_s=2.0)
    after = analyze(values[:, ::-1].copy(), regions, tr_s=2.0)
    return before, compare(before, after, regions)


# ---------------------------------------------------------------------- 2: partition length
@pytest.mark.parametrize("function", [modularity_q, participation])
@pytest.mark.parametrize("labels", [np.array([0, 1, 2]), np.zeros(31, dtype=int), np.zeros((30, 1), dtype=int)])
def test_a_partition_that_is_not_one_label_per_region_is_refused(recording, function, labels):
    # three labels for a 30-region FC used to end in an IndexError from a boolean mask
    _, _, fc = recording
    with pytest.raises(InputError) as err:
        function(fc, labels)
    assert err.value.field == "labels" and "30" in err.value.problem


def test_labelled_communities_are_matched_to_the_fc_by_region(recording):
    _, regions, fc = recording
    communities = detect_communities(fc, regions, n_runs=4)
    expected = participation(fc, communities.labels.values)
    shuffled = communities.labels.isel(region=np.random.default_rng(0).permutation(fc.shape[0]))
    assert participation(fc, shuffled) == pytest.approx(expected)
    assert modularity_q(fc, shuffled) == pytest.approx(communities.q)
    reordered = type(communities)(labels=shuffled, q=communities.q, q_best=communities.q_best,
                                  q_runs=communities.q_runs, policy=communities.policy, gamma=communities.gamma)
    assert integration_summary(fc, regions, reordered)["participation_mean"] == pytest.approx(expected.mean())
    other = communities.labels.assign_coords(region=[f"x{i}" for i in range(fc.shape[0])])
    with pytest.raises(InputError) as err:
        integration_summary(fc, regions, type(communities)(
            labels=other, q=0.0, q_best=0.0, q_runs=communities.q_runs, policy="positive", gamma=1.0))
    assert err.value.field == "communities"


def test_flexibility_of_refuses_labels_without_a_window_axis():
    with pytest.raises(InputError) as err:
        flexibility_of(np.array([0, 1, 0]))
    assert err.value.field == "labels"


# ---------------------------------------------------------------------- 3: units
ANALYZE_NAMES = ["modularity", "modularity_best", "n_communities", "participation_mean", "participation_sd",
                 "system_segregation", "mean_fc", "flexibility_mean", "q_multilayer", "dmn_within", "dmn_between",
                 "hippocampus_dmn", "participation", "flexibility", "fc_within", "fc_between",
                 "flexibility_network"]


def test_analyze_measures_carry_units_and_names(results):
    before, _ = results
    for name in ANALYZE_NAMES:
        attrs = before[name].attrs
        assert attrs["units"] == "1", name
        assert isinstance(attrs["long_name"], str) and attrs["long_name"], name


def test_every_delta_of_compare_carries_units_and_says_it_is_a_change(results):
    _, change = results
    deltas = [name for name in change.data_vars if name.startswith("delta_")]
    assert len(deltas) == 17
    for name in deltas:
        attrs = change[name].attrs
        assert attrs["units"] == "1", name
        assert "change" in attrs["long_name"], name


def test_units_survive_a_netcdf_round_trip(results, tmp_path):
    before, change = results
    for k, ds in enumerate((before, change)):
        path = tmp_path / f"r{k}.nc"
        ds.to_netcdf(path, engine="h5netcdf")
        back = xr.load_dataset(path, engine="h5netcdf")
        for name in ds.data_vars:
            assert back[name].attrs == ds[name].attrs, name
