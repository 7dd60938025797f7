"""FC-change measures (Siegel et al. 2024), spatial null maps (Burt et al. 2020), Hopf fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.connectome import Parcellation, labelled_matrix, load_dataset
from psilosim.errors import DataError, InputError
from psilosim.network import measures as ms
from psilosim.network.fit import fit_hopf, hopf_expected_fc
from psilosim.network.hopf import FITTED_HOPF, HopfModel
from psilosim.network.nulls import VariogramNulls, centroid_distances, morans_i


def _toy(networks: list[str]) -> Parcellation:
    labels = [f"r{k}" for k in range(len(networks))]
    regions = pd.DataFrame({"hemisphere": "L", "network": networks}, index=pd.Index(labels, name="label"))
    return Parcellation(name="toy", regions=regions, sc=labelled_matrix(np.zeros((len(labels),) * 2), labels))


def _random_fc(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, 40))
    return np.corrcoef(x)


# ---------------------------------------------------------------------- measures
def test_region_distance_by_hand():
    a = np.eye(3)
    b = np.eye(3)
    b[0, 1] = b[1, 0] = np.tanh(0.6)  # z = 0.6 on one connection
    d = ms.region_fc_distance(b, a)
    assert d.values == pytest.approx([0.6 / np.sqrt(2), 0.6 / np.sqrt(2), 0.0])


def test_region_distance_keeps_the_fc_region_labels():
    labels = ["PCC", "mPFC", "V1"]
    fc = xr.DataArray(np.eye(3), dims=("region_i", "region_j"), coords={"region_i": labels, "region_j": labels})
    moved = fc.copy(data=np.where(np.eye(3) == 1, 1.0, np.tanh(0.3)))
    d = ms.region_fc_distance(moved, fc)
    assert list(d["region"].values) == labels and d.attrs["units"] == "1"
    assert d.sel(region="V1") == pytest.approx(0.3)  # both of V1's connections moved by z = 0.3
    reordered = moved.isel(region_i=[2, 1, 0], region_j=[2, 1, 0])
    with pytest.raises(DataError, match="other regions"):  # never compared row by row
        ms.region_fc_distance(reordered, fc)


def test_network_distance_counts_each_region_once():
    # One changed connection inside a 2-region network; a 6-region network untouched. Each
    # region counts once, so the small network's value is its regions' own change, not diluted
    # or inflated by the number of pairs.
    parc = _toy(["A", "A", "B", "B", "B", "B", "B", "B"])
    base = np.eye(8)
    drug = np.eye(8)
    drug[0, 1] = drug[1, 0] = np.tanh(0.7)
    by_net = ms.network_fc_distance(drug, base, parc)
    assert by_net["A"] == pytest.approx(0.7 / np.sqrt(7)) and by_net["B"] == 0.0


def test_network_distance_reads_labelled_fc_by_region_label_not_position():
    # Both FCs list the regions in another order than the parcellation: each network's mean must
    # still be over its own regions (the labels select the rows, they never rename them).
    parc = _toy(["A", "A", "B", "B", "B", "B", "B", "B"])
    base = np.eye(8)
    drug = np.eye(8)
    drug[0, 1] = drug[1, 0] = np.tanh(0.7)
    order = list(range(8))[::-1]
    labels = [parc.labels[k] for k in order]

    def labelled(fc):
        return xr.DataArray(fc[np.ix_(order, order)], dims=("region_i", "region_j"),
                            coords={"region_i": labels, "region_j": labels})

    by_net = ms.network_fc_distance(labelled(drug), labelled(base), parc)
    assert by_net["A"] == pytest.approx(0.7 / np.sqrt(7)) and by_net["B"] == 0.0
    d = ms.region_fc_distance(labelled(drug), base, labels=parc.labels)  # one labelled, one in label order
    assert list(d["region"].values) == list(parc.labels) and d.sel(region="r0") == pytest.approx(0.7 / np.sqrt(7))
    with pytest.raises(InputError) as info:
        ms.region_fc_distance(labelled(drug), labelled(base), labels=[*parc.labels[:-1], "elsewhere"])
    assert info.value.field == "labels" and "elsewhere" in str(info.value)


def test_region_distance_refuses_fc_whose_columns_are_in_another_order():
    labels = ["PCC", "mPFC", "V1"]
    fc = xr.DataArray(np.eye(3), dims=("region_i", "region_j"), coords={"region_i": labels, "region_j": labels})
    columns_moved = fc.copy().assign_coords(region_j=labels[::-1])
    with pytest.raises(DataError, match="other regions"):
        ms.region_fc_distance(columns_moved, fc)


def test_within_network_change_sign():
    parc = _toy(["A", "A", "B", "B"])
    base = np.full((4, 4), 0.5)
    np.fill_diagonal(base, 1.0)
    drug = base.copy()
    drug[0, 1] = drug[1, 0] = 0.2
    change = ms.within_network_change(drug, base, parc)
    assert change["A"] == pytest.approx(-0.3) and change["B"] == pytest.approx(0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_distance_is_symmetric_nonnegative_and_zero_on_itself(seed):
    rng = np.random.default_rng(seed)
    a, b = _random_fc(rng, 6), _random_fc(rng, 6)
    assert np.allclose(ms.region_fc_distance(a, b), ms.region_fc_distance(b, a))
    assert (ms.region_fc_distance(a, b) >= 0).all() and np.all(ms.region_fc_distance(a, a) == 0)


def test_group_fc_of_identical_sessions_is_the_session():
    fc = _random_fc(np.random.default_rng(1), 5)
    np.testing.assert_allclose(ms.group_fc(np.stack([fc, fc, fc])), fc, atol=1e-9)
    with pytest.raises(DataError, match="sessions"):
        ms.group_fc(fc)
    with pytest.raises(DataError, match="NaN"):
        ms.fisher_z(np.full((2, 2), np.nan))


# ---------------------------------------------------------------------- nulls
@pytest.fixture(scope="module")
def smooth_map():
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-60, 60, size=(120, 3))
    values = np.sin(xyz[:, 0] / 25.0) + 0.5 * np.cos(xyz[:, 1] / 30.0) + 0.1 * rng.standard_normal(120)
    return values, centroid_distances(xyz)


def test_variogram_nulls_keep_values_and_spatial_autocorrelation(smooth_map):
    values, dist = smooth_map
    nulls = VariogramNulls(values, dist).draw(20, seed=0)
    rng = np.random.default_rng(1)
    assert all(np.array_equal(np.sort(n), np.sort(values)) for n in nulls)
    real = morans_i(values, dist)
    null_i = np.mean([morans_i(n, dist) for n in nulls])
    perm_i = np.mean([morans_i(rng.permutation(values), dist) for _ in range(20)])
    # Permutations destroy the autocorrelation; the surrogates keep most of it.
    assert perm_i < 0.2 * real and null_i > 0.5 * real
    # ... while being different maps (not the original in disguise).
    assert np.mean([np.corrcoef(n, values)[0, 1] for n in nulls]) < 0.5


def test_variogram_nulls_are_deterministic_and_check_inputs(smooth_map):
    values, dist = smooth_map
    gen = VariogramNulls(values, dist)
    assert np.array_equal(gen.draw(2, seed=4), gen.draw(2, seed=4))
    with pytest.raises(InputError, match="distances"):
        VariogramNulls(values, dist[:10, :10])
    with pytest.raises(InputError, match="n_maps"):
        gen.draw(0)
    with pytest.raises(DataError, match="centroids"):
        centroid_distances(np.zeros((4, 2)))


# ---------------------------------------------------------------------- Hopf fit
@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def test_closed_form_hopf_fc_equals_the_lyapunov_solution(aal2):
    model = HopfModel(aal2.sc)
    g, a = 0.05, -0.3
    np.testing.assert_allclose(hopf_expected_fc(model, g, a), model.linear_fc(g, a=np.full(80, a)).values,
                               atol=1e-8)


def test_hopf_fit_beats_sc_on_aal2_and_matches_the_stored_value(aal2):
    result = fit_hopf(aal2, duration_s=120.0)
    assert result.model == "hopf" and result.fc_corr > result.sc_fc_corr + 0.2
    assert result.G == pytest.approx(FITTED_HOPF.aal2.value, rel=1e-3)
    assert 0 <= result.fcd_ks <= 1


def test_hopf_fit_on_schaefer_matches_the_stored_value(schaefer100_dir):
    result = fit_hopf(load_dataset(schaefer100_dir))
    assert result.G == pytest.approx(FITTED_HOPF.schaefer100.value, rel=1e-3)
    # The documented near-tie with the SC–FC correlation (docs/network.md#fit-schaefer).
    assert result.fc_corr > result.sc_fc_corr and result.fc_corr - result.sc_fc_corr < 0.05


def test_hopf_fit_needs_fc(aal2):
    bare = Parcellation(name="bare", regions=aal2.regions, sc=aal2.sc)
    with pytest.raises(DataError, match="no empirical FC"):
        fit_hopf(bare)


def test_expected_fc_is_a_correlation_matrix(aal2):
    fc = hopf_expected_fc(HopfModel(aal2.sc), 0.01, -0.02)
    assert fc.shape == (80, 80) and np.allclose(np.diag(fc), 1.0) and np.allclose(fc, fc.T)
    assert np.abs(fc).max() <= 1.0 + 1e-12
    assert np.linalg.eigvalsh(fc).min() > -1e-10  # positive semi-definite


# ------------------------------------------------------------------ DMN seeds (NW5)
def _seed_regions(with_centroids: bool) -> pd.DataFrame:
    labels = ["mPFC_near_L", "mPFC_far_L", "PCC_near_R", "Vis_R", "mPFC_near_R"]
    table = pd.DataFrame({"hemisphere": ["L", "L", "R", "R", "R"],
                          "network": ["Default", "Default", "Default", "Vis", "Default"]},
                         index=pd.Index(labels, name="label"))
    if with_centroids:
        table["x_mni"] = [-3.0, -40.0, 6.0, 4.0, 4.0]
        table["y_mni"] = [45.0, 20.0, -50.0, -50.0, 50.0]
        table["z_mni"] = [-2.0, 30.0, 38.0, 40.0, -6.0]
    return table


def test_dmn_seed_is_the_nearest_dmn_region_to_the_seed_and_its_mirror():
    from psilosim.metrics.networks import dmn_seed_mask

    regions = _seed_regions(with_centroids=True)
    assert list(regions.index[dmn_seed_mask(regions, "mPFC")]) == ["mPFC_near_L", "mPFC_near_R"]
    # the nearer Vis region is not a DMN seed; the far frontal region is beyond the distance cap,
    # so the single posterior DMN region represents the seed on both sides
    assert list(regions.index[dmn_seed_mask(regions, "PCC")]) == ["PCC_near_R"]
    with pytest.raises(DataError, match="within 1 mm"):
        dmn_seed_mask(regions, "PCC", max_distance_mm=1.0)


def test_dmn_seed_falls_back_to_label_stems_and_says_when_it_cannot(aal2):
    from psilosim.metrics.networks import dmn_seed_mask

    pcc = dmn_seed_mask(aal2.regions, "PCC")
    assert sorted(np.asarray(aal2.labels)[pcc]) == ["Cingulate_Post_L", "Cingulate_Post_R"]
    with pytest.raises(DataError, match="no centroids"):
        dmn_seed_mask(_seed_regions(with_centroids=False), "PCC")
    with pytest.raises(InputError, match="unknown DMN seed"):
        dmn_seed_mask(aal2.regions, "amygdala")


def test_mpfc_pcc_coupling_falls_under_the_dmf_gain_and_rises_under_the_hopf_shift(aal2):
    """NW5's measure can fail: the two acute-state representations move it in opposite directions."""
    from psilosim.metrics.networks import seed_pair_fc
    from psilosim.network.acute import acute_session

    change = {}
    for state in ("gain", "bifurcation_shift"):
        session = acute_session(aal2, 0.69, acute_state=state)
        fc = session["fc"]
        change[state] = (seed_pair_fc(fc.sel(condition="receptor"), aal2.regions)
                         - seed_pair_fc(fc.sel(condition="baseline"), aal2.regions))
    assert change["gain"] < -0.02
    assert change["bifurcation_shift"] > 0.02
