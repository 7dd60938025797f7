"""Scan sessions: pharmacology link, gain maps, paired design, chunking, FC change."""

from __future__ import annotations

import numpy as np
import pytest

from psilosim.connectome import load_dataset
from psilosim.errors import InputError
from psilosim.network import scan as sc
from psilosim.network.dmf import DMF, FITTED_G, DMFModel


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def session(aal2):
    return sc.scan_session(aal2, 0.7, minutes=1.0, seed=3, maps=("receptor", "uniform"))


def test_occupancy_from_the_pharmacology_chain_is_a_plausible_fraction():
    occ = sc.occupancy_window("psilocybin", "25 mg", 2.0, 10.0, seed=0)
    # The window brackets the scan by one grid step on each side (for interpolation).
    assert occ["time_h"].min() >= 2.0 - 1 / 60 - 1e-9 and occ["time_h"].max() <= 2.0 + 11 / 60 + 1e-9
    # 25 mg near Tmax: cortical 5-HT2A occupancy in the tens of percent (Madsen 2019: up to 72 %).
    assert 0.3 < float(occ.mean()) < 0.8


def test_occupancy_rejects_negative_time():
    with pytest.raises(InputError, match="at-hours"):
        sc.occupancy_window("psilocybin", "25 mg", -1.0, 10.0)


def test_gain_map_kinds(aal2):
    real = sc.density_map(aal2, "receptor")
    flat = sc.density_map(aal2, "uniform")
    perm = sc.density_map(aal2, "shuffled", seed=1)
    assert flat.mean() == pytest.approx(real.mean()) and np.ptp(flat) == 0
    assert np.array_equal(np.sort(perm), np.sort(real)) and not np.array_equal(perm, real)
    with pytest.raises(InputError, match="gain_map"):
        sc.density_map(aal2, "random")


def test_gain_follows_deco_2018_with_occupancy():
    density = np.array([0.0, 0.5, 1.0])
    gain = sc.gain_from(density, 0.5)
    assert np.allclose(gain, 1 + DMF.gain_scale.value * density * 0.5)
    assert np.all(sc.gain_from(density, 0.0) == 1.0)
    with pytest.raises(InputError, match="occupancy"):
        sc.gain_from(density, 1.5)


def test_session_is_labelled_and_has_all_conditions(session, aal2):
    assert list(session["condition"].values) == ["baseline", "baseline_repeat", "receptor", "uniform"]
    assert list(session["region_i"].values) == aal2.labels
    assert session["bold"].sizes["time"] == 30  # 1 min at TR 2 s
    assert session.attrs["coupling"] == FITTED_G.aal2.value


def test_drug_changes_fc_and_noise_floor_is_measured(session, aal2):
    out = sc.summarise(session, aal2, "receptor")
    assert set(out["fc_change_by_network"]) == set(aal2.networks)
    assert out["fc_change_global"] > 0 and out["noise_floor_global"] > 0


def test_zero_occupancy_is_a_no_drug_scan_with_the_drug_streams(aal2):
    # Every condition has its own noise streams (like-for-like with the baseline repeat); with
    # occupancy 0 the drug condition is exactly a no-drug run on the drug streams.
    s = sc.scan_session(aal2, 0.0, minutes=0.5, seed=1)
    model = DMFModel(aal2.sc)
    g = FITTED_G.aal2.value
    plain = model.simulate(30.0, coupling=g, seed=list(sc.session_seeds(1, 1, 2)),
                           j_fic=sc.refined_fic(model, aal2.name, g), warmup_s=sc.SCAN.warmup.to("s"))
    np.testing.assert_array_equal(s["bold"].sel(condition="receptor").values[0], plain["bold"].values[0])
    assert not np.array_equal(s["fc"].sel(condition="receptor").values, s["fc"].sel(condition="baseline").values)


def test_seeds_are_distinct_for_every_scan_and_shared_by_drug_maps(aal2):
    conds = sc.conditions(aal2, 5, ("receptor", "uniform"), sessions=3)
    by_name = {c.name: c.seeds for c in conds}
    assert len(set(by_name["baseline"]) | set(by_name["baseline_repeat"]) | set(by_name["receptor"])) == 9
    assert by_name["receptor"] == by_name["uniform"]
    with pytest.raises(InputError, match="sessions"):
        sc.conditions(aal2, 0, sessions=0)


@pytest.fixture(scope="module")
def four_sessions(aal2):
    return sc.scan_session(aal2, 0.5, minutes=1.0, seed=2, sessions=4)


def test_condition_fc_is_the_fisher_z_average_of_its_sessions(four_sessions, aal2):
    s = four_sessions
    assert s["bold"].dims == ("condition", "session", "region", "time") and s.sizes["session"] == 4
    expected = np.tanh(np.arctanh(np.clip(s["session_fc"].sel(condition="baseline").values, -1 + 1e-7, 1 - 1e-7))
                       .mean(axis=0))
    off = ~np.eye(aal2.n_regions, dtype=bool)
    np.testing.assert_allclose(s["fc"].sel(condition="baseline").values[off], expected[off], rtol=1e-10)
    out = sc.summarise(s, aal2)
    assert out["noise_floor_global"] > 0 and out["drug_to_noise_ratio"] > 0
    assert set(out["fc_distance_by_network"]) == set(aal2.networks)


def test_averaging_sessions_lowers_the_noise_floor(four_sessions, aal2):
    fc = four_sessions["session_fc"]
    _, one = sc.fc_change(fc.sel(condition="baseline_repeat").values[0], fc.sel(condition="baseline").values[0], aal2)
    four = sc.summarise(four_sessions, aal2)["noise_floor_global"]
    # Sampling noise of an average of 4 independent scans: about half that of one (1/sqrt 4).
    assert four < 0.75 * one


def test_fc_change_by_network_by_hand(aal2):
    n = aal2.n_regions
    a = np.eye(n)
    b = np.eye(n)
    dmn = [aal2.labels.index(r) for r in aal2.dmn]
    i, j = dmn[0], dmn[1]
    b[i, j] = b[j, i] = 0.5
    by_net, glob = sc.fc_change(a, b, aal2)
    assert max(by_net, key=by_net.get) == "Default"
    assert glob == pytest.approx(0.5 / (n * (n - 1) / 2))


def test_coupling_for_unknown_dataset_scales_by_strength(aal2, tmp_path):
    from psilosim.connectome import Parcellation

    doubled = Parcellation(name="mine", regions=aal2.regions, sc=aal2.sc * 2)
    assert sc.coupling_for(doubled) == pytest.approx(FITTED_G.aal2.value / 2)
    assert sc.coupling_for(aal2) == FITTED_G.aal2.value


def test_linear_session_backs_off_to_a_stable_coupling(aal2):
    # At the fitted G the noise-free AAL2 fixed point is unstable; the linear session steps down.
    s = sc.linear_session(aal2, 0.69, maps=("receptor", "shuffled"), n_shuffles=3)
    assert s.attrs["coupling"] < s.attrs["requested_coupling"] == FITTED_G.aal2.value
    fc = s["fc"].values
    assert np.isfinite(fc).all() and np.allclose(fc[:, range(80), range(80)], 1.0)
    # The drug changes expected FC; the two baselines are identical (no sampling noise).
    out = sc.summarise(s, aal2, "receptor")
    assert out["fc_change_global"] > 0 and "noise_floor_global" not in out
    np.testing.assert_array_equal(fc[0], fc[1])


def test_variogram_maps_need_centroids(aal2):
    # The built-in AAL2 has no MNI centroids: spatial nulls are refused with a clear message.
    assert not sc.has_centroids(aal2)
    from psilosim.errors import DataError

    with pytest.raises(DataError, match="centroids"):
        sc.density_map(aal2, "variogram")


def test_variogram_maps_on_schaefer_keep_the_values(schaefer100_dir):
    parc = load_dataset(schaefer100_dir)
    real = sc.density_map(parc, "receptor")
    null = sc.density_map(parc, "variogram", seed=3)
    assert np.array_equal(np.sort(null), np.sort(real)) and not np.array_equal(null, real)
