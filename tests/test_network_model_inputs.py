"""Network models: the connectome is read by label, the default FIC's working point is checked,
and every model output carries labels and units."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from _conformance_components import small_brain
from psilosim.connectome import labelled_matrix, load_dataset
from psilosim.errors import InputError, WorkingPointWarning
from psilosim.network.dmf import DMF, FITTED_G, DMFModel
from psilosim.network.hopf import HopfModel
from psilosim.rewiring import RewiringModel
from psilosim.units import ureg

MODELS = [HopfModel, DMFModel]
TARGET_HZ = DMF.target_rate.to("Hz")


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def _asymmetric_sc() -> xr.DataArray:
    """A small directed connectome: reading it transposed would change every model."""
    labels = [f"R{i}" for i in range(5)]
    values = np.random.default_rng(3).uniform(0.0, 0.2, (5, 5))
    np.fill_diagonal(values, 0.0)
    return labelled_matrix(values, labels, name="sc")


# ------------------------------------------------------------------ 1. the SC is read by label
@pytest.mark.parametrize("model_class", MODELS, ids=["hopf", "dmf"])
def test_an_sc_with_rows_in_another_order_than_its_columns_is_refused(aal2, model_class):
    # same weights, labels intact: only the rows are listed in another order than the columns
    permuted = aal2.sc.isel(region_i=np.random.default_rng(0).permutation(aal2.n_regions))
    with pytest.raises(InputError) as err:
        model_class(permuted)
    assert err.value.field == "sc"
    assert "order" in err.value.problem and str(permuted["region_i"].values[0]) in err.value.problem


@pytest.mark.parametrize("model_class", MODELS, ids=["hopf", "dmf"])
def test_an_sc_whose_row_labels_differ_from_its_column_labels_is_refused(aal2, model_class):
    renamed = aal2.sc.assign_coords(region_i=[x.replace("Precuneus_L", "Foo") for x in aal2.sc["region_i"].values])
    with pytest.raises(InputError) as err:
        model_class(renamed)
    assert err.value.field == "sc"
    assert "Foo" in err.value.problem and "Precuneus_L" in err.value.problem


@pytest.mark.parametrize("model_class", MODELS, ids=["hopf", "dmf"])
@pytest.mark.parametrize("bad", [np.eye(4), [[0.0, 1.0], [1.0, 0.0]],
                                 xr.DataArray(np.eye(3), dims=("a", "b"))], ids=["ndarray", "list", "other-dims"])
def test_an_unlabelled_sc_is_refused_with_how_to_label_it(model_class, bad):
    with pytest.raises(InputError) as err:
        model_class(bad)
    assert err.value.field == "sc" and "labelled" in err.value.problem


@pytest.mark.parametrize("model_class", MODELS, ids=["hopf", "dmf"])
def test_an_sc_with_its_dims_swapped_is_read_by_dim_name(model_class):
    # sc[i, j] is the input to i from j whatever the order the DataArray stores its dims in
    sc = _asymmetric_sc()
    as_stored = model_class(sc)
    swapped = model_class(sc.transpose("region_j", "region_i"))
    np.testing.assert_array_equal(swapped.sc, as_stored.sc)
    assert swapped.labels == as_stored.labels


# ------------------------------------------------------------------ 2. the DMF's working point
def test_default_fic_at_the_fitted_coupling_warns_that_rates_are_off_target(aal2):
    # the closed-form FIC ignores noise: near the fitted G the noisy network fires far above 3 Hz
    model = DMFModel(aal2.sc)
    with pytest.warns(WorkingPointWarning, match="fic_refined") as record:
        out = model.simulate(4.0, coupling=FITTED_G.aal2.value, seed=1, warmup_s=2.0)
    assert abs(float(out["rate"].mean()) - TARGET_HZ) > DMF.fic_rate_tolerance.to("Hz")
    assert issubclass(record[0].category, UserWarning)


def test_no_warning_at_the_fixed_point_or_under_a_drug():
    brain = small_brain()
    with warnings.catch_warnings():
        warnings.simplefilter("error", WorkingPointWarning)
        # noise-free, weak coupling: the closed-form FIC is exact
        quiet = DMFModel(brain.sc, params=DMF.replace(sigma=0.0)).simulate(4.0, coupling=0.3, seed=1, warmup_s=0.0)
        assert abs(float(quiet["rate"].mean()) - TARGET_HZ) < 0.01
        # a gain ≠ 1 moves rates on purpose (FIC is the baseline's, kept under the drug)
        DMFModel(brain.sc).simulate(4.0, coupling=3.0, gain=np.full(8, 1.5), seed=1, warmup_s=0.0)


# ------------------------------------------------------------------ 3. labels and units of outputs
def test_refined_fic_is_labelled_by_member_and_region_in_nanoampere():
    brain = small_brain()
    model = DMFModel(brain.sc)
    j_fic = model.fic_refined([0.2, 0.3], seed=0, iterations=1)
    assert j_fic.dims == ("member", "region") and list(j_fic["region"].values) == brain.labels
    np.testing.assert_array_equal(j_fic["coupling"].values, [0.2, 0.3])
    assert ureg.Unit(j_fic.attrs["units"]) == ureg.Unit("nA")
    # it is accepted back as the FIC of a run (matched by label)
    model.start(coupling=[0.2, 0.3], j_fic=j_fic)


def test_hopf_outputs_carry_units(aal2):
    hopf = HopfModel(aal2.sc)
    assert hopf.linear_fc(0.1).attrs["units"] == "1"
    x = hopf.simulate(4.0, coupling=0.1, seed=1, warmup_s=0.0)
    assert x["time"].attrs["units"] == "s"


def test_dmf_time_axis_carries_units():
    ds = DMFModel(small_brain().sc).simulate(4.0, coupling=0.3, seed=1, warmup_s=0.0)
    assert ds["time"].attrs["units"] == "s"


def test_rewiring_correlations_are_labelled_with_units():
    model = RewiringModel(small_brain())
    for fc in (model.expected_fc(), model.state_correlation(0.5, 0.2, "none"), model.habitual()):
        assert isinstance(fc, xr.DataArray) and fc.dims == ("region_i", "region_j")
        assert list(fc["region_i"].values) == model.labels == list(fc["region_j"].values)
        assert fc.attrs["units"] == "1"
    # the habitual state (drug-free, no setting; cached on the state grid) is the untreated network's
    # expected FC computed directly, without the grid
    np.testing.assert_allclose(model.habitual().values, model.expected_fc(environment="none").values, atol=1e-10)


def test_rewiring_reads_labelled_weights_by_label_not_position():
    """A labelled connectome in another region order gives the same expected FC, reordered; weights whose
    rows and columns are different regions, or a bare matrix of the wrong size, are refused."""
    model = RewiringModel(small_brain())
    w = small_brain().sc
    rng = np.random.default_rng(3)
    asymmetric = w.copy(data=w.values * rng.uniform(0.5, 1.5, size=w.shape))  # direction matters
    order = rng.permutation(len(model.labels))
    permuted = asymmetric.isel(region_i=order, region_j=order)
    same = model.expected_fc(weights=asymmetric)
    np.testing.assert_allclose(model.expected_fc(weights=permuted).values, same.values, atol=1e-12)
    np.testing.assert_allclose(model.measures(same, weights=permuted)["rewired_fraction"],
                               model.measures(same, weights=asymmetric)["rewired_fraction"])
    with pytest.raises(InputError) as info:
        model.expected_fc(weights=asymmetric.isel(region_i=order))
    assert info.value.field == "weights"  # the argument's name, with the connectome's rules
    with pytest.raises(InputError) as info:
        model.expected_fc(weights=-asymmetric)
    assert info.value.field == "weights"
    bare = asymmetric.values.copy()
    bare[0, 1] = np.nan
    with pytest.raises(InputError) as info:
        model.expected_fc(weights=bare)
    assert info.value.field == "weights"
    with pytest.raises(InputError) as info:
        model.scan(weights=np.ones((3, 3)), minutes=0.1)
    assert info.value.field == "weights"
