"""Inputs matched to their regions by label, the same way in every link (psilosim._labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim._labels import align_regions
from psilosim.errors import InputError
from psilosim.metrics._inputs import as_fc, as_timeseries
from psilosim.metrics.modularity import partition_for
from psilosim.network.measures import region_fc_distance

LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=6)
LABELS = st.lists(LABEL, min_size=2, max_size=12, unique=True)
NOT_A_REGION = "NOT-A-REGION"  # outside LABEL's alphabet, so never one of the drawn labels


def _table(labels: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"network": "Default"}, index=pd.Index(labels, name="label"))


def _fc(labels: list[str]) -> xr.DataArray:
    """A symmetric matrix whose entries say which pair they belong to (i + j, i * j on the diagonal)."""
    n = len(labels)
    i, j = np.indices((n, n))
    values = np.where(i == j, 1.0, (i + j + i * j) / (3.0 * n * n))
    return xr.DataArray(values, dims=("region_i", "region_j"), coords={"region_i": labels, "region_j": labels})


def _permuted(fc: xr.DataArray, order: list[int]) -> xr.DataArray:
    return fc.isel(region_i=order, region_j=order)


# ---------------------------------------------------------------------- the one function
@settings(max_examples=50, deadline=None)
@given(labels=LABELS, data=st.data())
def test_any_permutation_is_put_back_in_the_wanted_order(labels, data):
    found = data.draw(st.permutations(labels))
    order = align_regions(found, labels, field="x", found_in="x", wanted_in="the table")
    assert [found[k] for k in order] == labels


@settings(max_examples=50, deadline=None)
@given(labels=LABELS, data=st.data())
def test_a_missing_label_is_refused_by_name(labels, data):
    found = list(data.draw(st.permutations(labels)))
    lost = found[data.draw(st.integers(0, len(found) - 1))]
    found[found.index(lost)] = NOT_A_REGION
    with pytest.raises(InputError) as info:
        align_regions(found, labels, field="bold", found_in="bold", wanted_in="the region table")
    assert info.value.field == "bold"
    assert repr(lost) in info.value.problem and repr(NOT_A_REGION) in info.value.problem


def test_a_subset_may_be_taken_but_not_a_label_that_is_absent():
    found = ["c", "a", "b", "d"]
    order = align_regions(found, ["b", "a"], field="labels", found_in="the FC", wanted_in="labels", subset=True)
    assert [found[k] for k in order] == ["b", "a"]
    with pytest.raises(InputError, match="the same regions"):
        align_regions(found, ["b", "a"], field="fc", found_in="fc", wanted_in="the region table")
    with pytest.raises(InputError) as info:
        align_regions(found, ["b", "e"], field="labels", found_in="the FC", wanted_in="labels", subset=True)
    assert "'e'" in info.value.problem and "'c'" not in info.value.problem  # extra labels are fine here


def test_only_the_first_few_labels_are_named_with_the_count():
    wanted = [f"r{k}" for k in range(20)]
    with pytest.raises(InputError) as info:
        align_regions([f"x{k}" for k in range(20)], wanted, field="bold", found_in="bold",
                      wanted_in="the region table")
    assert "'r0'" in info.value.problem and "'r19'" not in info.value.problem and "20 in all" in info.value.problem


@pytest.mark.parametrize("found,wanted,named", [(["a", "a", "b"], ["a", "b", "c"], "'a'"),
                                                (["a", "b"], ["b", "b"], "'b'")])
def test_a_label_listed_twice_is_refused(found, wanted, named):
    # either side: a duplicated label would silently pick one of its rows or repeat a row
    with pytest.raises(InputError, match="more than once") as info:
        align_regions(found, wanted, field="f", found_in="f", wanted_in="w", subset=True)
    assert named in info.value.problem


def test_labels_are_compared_as_text():
    assert list(align_regions([2, 1, 0], ["0", "1", "2"], field="f", found_in="f", wanted_in="w")) == [2, 1, 0]


# ---------------------------------------------------------------------- its three callers
@settings(max_examples=25, deadline=None)
@given(labels=LABELS, data=st.data())
def test_every_caller_reads_a_permuted_input_in_its_own_order(labels, data):
    order = data.draw(st.permutations(range(len(labels))))
    fc = _fc(labels)
    shuffled = _permuted(fc, order)
    np.testing.assert_array_equal(as_fc(shuffled, _table(labels)).values, fc.values)
    communities = xr.DataArray(np.arange(len(labels)), dims="region", coords={"region": labels})
    np.testing.assert_array_equal(partition_for(fc, communities.isel(region=order)), np.arange(len(labels)))
    zero = region_fc_distance(shuffled, _permuted(fc, order), labels=labels)
    assert list(zero["region"].values) == labels and np.all(zero.values == 0)
    rng = np.random.default_rng(len(labels))
    bold = xr.DataArray(rng.standard_normal((len(labels), 5)), dims=("region", "time"),
                        coords={"region": labels, "time": np.arange(5) * 2.0})
    np.testing.assert_array_equal(as_timeseries(bold.isel(region=order), _table(labels)).values, bold.values)


LABELS3 = ["PCC", "mPFC", "V1"]


@pytest.mark.parametrize("call,field", [
    (lambda fc: as_fc(fc, _table(LABELS3)), "fc"),
    (lambda fc: partition_for(_fc(LABELS3), xr.DataArray([0, 0, 1], dims="region",
                                                         coords={"region": fc["region_i"].values})), "labels"),
    (lambda fc: region_fc_distance(fc, fc, labels=LABELS3), "labels"),
])
def test_every_caller_names_the_region_it_cannot_find(call, field):
    other = _fc(["PCC", "mPFC", "V2"])
    with pytest.raises(InputError) as info:
        call(other)
    assert info.value.field == field and "'V1'" in info.value.problem


def test_the_community_field_names_its_missing_and_unknown_regions():
    labels = xr.DataArray([0, 1, 1], dims="region", coords={"region": ["PCC", "mPFC", "V2"]})
    with pytest.raises(InputError) as info:
        partition_for(_fc(LABELS3), labels, field="communities")
    assert info.value.field == "communities" and "'V1'" in info.value.problem and "'V2'" in info.value.problem


def test_an_fc_of_another_parcellation_is_suggested_as_the_cause():
    with pytest.raises(InputError, match="another parcellation"):
        region_fc_distance(_fc(["PCC", "mPFC", "V2"]), _fc(LABELS3), labels=LABELS3)
