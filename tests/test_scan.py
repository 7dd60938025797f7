"""Scan sessions: pharmacology link, gain maps, paired design, chunking, FC change."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.connectome import Parcellation, load_dataset
from psilosim.errors import InputError
from psilosim.network import scan as sc
from psilosim.network._rng import seed_streams
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
    with pytest.raises(InputError, match="at_hours"):
        sc.occupancy_window("psilocybin", "25 mg", -1.0, 10.0)


def test_gain_map_kinds(aal2):
    real = sc.density_map(aal2, "receptor")
    flat = sc.density_map(aal2, "uniform")
    perm = sc.density_map(aal2, "shuffled", seed=1)
    for m in (real, flat, perm):  # every map keeps the connectome's region labels, in its order
        assert list(m["region"].values) == list(aal2.labels) and m.attrs["units"] == "1"
    np.testing.assert_array_equal(real.values, aal2.receptor_map("5HT2A").values)
    assert float(flat.mean()) == pytest.approx(float(real.mean())) and np.ptp(flat.values) == 0
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


def test_drug_changes_fc_beyond_the_same_scan_without_drug(session, aal2):
    """The drug condition keeps its noise streams when the occupancy is 0, so the change a drug
    adds is measured against the very same scan without it."""
    out = sc.summarise(session, aal2, condition="receptor")
    assert set(out["fc_change_by_network"]) == set(aal2.networks)
    occupancy = float(session.attrs["mean_occupancy"])
    assert occupancy > 0.3
    without = sc.scan_session(aal2, 0.0, minutes=1.0, seed=int(session.attrs["seed"]), maps=("receptor",))
    none = sc.summarise(without, aal2, condition="receptor")
    assert none["noise_floor_global"] == pytest.approx(out["noise_floor_global"])  # the same baselines
    assert out["fc_change_global"] > none["fc_change_global"]


def test_session_reports_each_scans_mean_rate_near_the_fic_target_without_drug(session):
    """Baseline scans fire near the FIC target (the working point); the drug's higher gain below
    threshold lowers the rate (docs/network.md: 'Is the drug effect the right size?')."""
    rate = session["rate"]
    assert rate.attrs["units"] == "Hz" and rate.dims == ("condition", "session", "region")
    target = DMF.target_rate.to("Hz")
    for condition in ("baseline", "baseline_repeat"):
        assert float(rate.sel(condition=condition).mean()) == pytest.approx(target, rel=0.2)
    assert float(rate.sel(condition="receptor").mean()) < float(rate.sel(condition="baseline").mean())


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_bad_gain_scale_is_rejected_even_without_a_drug_condition(aal2, bad):
    with pytest.raises(InputError, match="gain_scale"):
        sc.scan_session(aal2, 0.5, minutes=0.5, maps=(), gain_scale=bad)
    with pytest.raises(InputError, match="gain_scale"):
        sc.linear_session(aal2, 0.5, maps=(), gain_scale=bad)


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
    conds = sc.conditions(aal2, 5, maps=("receptor", "uniform"), sessions=3)
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
    out = sc.summarise(s, aal2, condition="receptor")
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


# ---------------------------------------------------------------------- noise streams and null maps per seed
# Guards against neighbouring seeds sharing noise streams or shuffled / variogram null maps.
def _stream_states(conds) -> set[tuple[int, ...]]:
    seeds = [s for c in conds for s in c.seeds]
    return {tuple(row) for row in seed_streams(seeds, len(seeds)).tolist()}


def test_adjacent_seeds_share_no_noise_stream(aal2):
    # Before: scan k of a role used seed + 3k + role, so seed 0's second baseline was seed 1's
    # drug stream and seed 1's first repeat was seed 0's first drug stream.
    a = sc.conditions(aal2, 0, maps=("receptor",), sessions=3)
    b = sc.conditions(aal2, 1, maps=("receptor",), sessions=3)
    assert len(_stream_states(a)) == 9 and not _stream_states(a) & _stream_states(b)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 50))
def test_no_two_seeds_share_a_stream_or_a_null_map(seed, offset):
    other = seed + offset
    aal2 = load_dataset("aal2")
    a = sc.conditions(aal2, seed, maps=("receptor", "shuffled"), n_shuffles=3, sessions=2)
    b = sc.conditions(aal2, other, maps=("receptor", "shuffled"), n_shuffles=3, sessions=2)
    assert not _stream_states(a) & _stream_states(b)
    maps_a = {c.density.values.tobytes() for c in a if c.name.startswith("shuffled_")}
    maps_b = {c.density.values.tobytes() for c in b if c.name.startswith("shuffled_")}
    assert len(maps_a) == 3 and not maps_a & maps_b


def test_shuffled_maps_of_adjacent_seeds_differ(aal2):
    # Before: shuffled_k used seed + k, so seed 0's shuffled_1 was seed 1's shuffled_0.
    first = {c.name: c.density for c in sc.conditions(aal2, 0, maps=("shuffled",), n_shuffles=2)}
    second = {c.name: c.density for c in sc.conditions(aal2, 1, maps=("shuffled",), n_shuffles=2)}
    assert not np.array_equal(first["shuffled_1"], second["shuffled_0"])


def test_conditions_are_deterministic_and_null_maps_do_not_depend_on_their_number(aal2):
    few = sc.conditions(aal2, 7, maps=("receptor", "shuffled"), n_shuffles=2, sessions=2)
    many = sc.conditions(aal2, 7, maps=("receptor", "shuffled"), n_shuffles=5, sessions=2)
    assert [c.seeds for c in few] == [c.seeds for c in many[:len(few)]]
    for c_few, c_many in zip(few, many[:len(few)], strict=True):
        if c_few.density is not None:
            np.testing.assert_array_equal(c_few.density, c_many.density)


def test_variogram_nulls_of_adjacent_seeds_differ(schaefer100_dir):
    parc = load_dataset(schaefer100_dir)
    zero = {c.name: c.density for c in sc.conditions(parc, 0, maps=("variogram",), n_shuffles=2) if c.density is not None}
    one = {c.name: c.density for c in sc.conditions(parc, 1, maps=("variogram",), n_shuffles=2) if c.density is not None}
    assert len(zero) == len(one) == 2
    assert not any(np.array_equal(zero[a], one[b]) for a in zero for b in one)


# ---------------------------------------------------------------------- scan length
# Guards against a scan too short for one TR failing deep inside the simulation, and against a
# recorded length that was the requested one rather than the whole TRs simulated.
def test_too_short_scan_is_rejected_up_front_naming_minutes(aal2):
    with pytest.raises(InputError, match="minutes") as err:
        sc.scan_session(aal2, 0.5, minutes=0.02)
    assert "TR" in str(err.value)


def test_scan_records_the_simulated_length_in_whole_trs(aal2):
    # 0.55 min = 33 s is not a whole number of 2-s TRs: 16 samples (32 s) are simulated and
    # recorded as such, with the request kept beside it.
    s = sc.scan_session(aal2, 0.5, minutes=0.55, seed=0)
    tr = s.attrs["tr_s"]
    assert s.sizes["time"] == round(0.55 * 60 / tr)
    assert s.attrs["minutes"] * 60 == pytest.approx(s.sizes["time"] * tr)
    assert s.attrs["requested_minutes"] == 0.55


# ---------------------------------------------------------------------- occupancy grid
# Guards against the occupancy grid step and padding being numbers in a function body, not Params.
def test_occupancy_window_grid_and_padding_are_params():
    for name in ("occupancy_step", "occupancy_padding"):
        assert getattr(sc.SCAN, name).kind == "assumed" and getattr(sc.SCAN, name).unit == "min"
    coarse = sc.SCAN.replace(occupancy_step=2.0)
    occ = sc.occupancy_window("psilocybin", "25 mg", 2.0, 10.0, seed=0, p=coarse)
    steps = np.diff(occ["time_h"].values)
    np.testing.assert_allclose(steps, 2.0 / 60.0, rtol=1e-9)
    # The series brackets the scan by one grid step on each side.
    assert occ["time_h"].min() <= 2.0 and occ["time_h"].max() >= 2.0 + 10.0 / 60.0


# ---------------------------------------------------------------------- stored fits keyed by the SC
# Guards against stored couplings and cached FIC weights being looked up by dataset name, so that
# another SC under the same name silently reused them.
def test_stored_g_is_used_only_for_the_built_in_sc(aal2):
    impostor = Parcellation(name="aal2", regions=aal2.regions, sc=aal2.sc * 2)
    # Same name, other SC: scaled from the AAL2 fit by in-strength, not the stored value.
    assert sc.coupling_for(impostor) == pytest.approx(FITTED_G.aal2.value / 2)
    assert sc.coupling_for(aal2) == FITTED_G.aal2.value


def test_stored_g_still_applies_to_the_schaefer_folder(schaefer100_dir):
    assert sc.coupling_for(load_dataset(schaefer100_dir)) == FITTED_G.schaefer100.value


class _CountingModel:
    """Stands in for a DMFModel: FIC weights that reveal which SC they came from."""

    def __init__(self, sc_values, params=None):
        from psilosim.network.dmf import DMF

        self.sc = np.asarray(sc_values, dtype=float)
        self.labels = [f"r{i}" for i in range(self.sc.shape[0])]
        self.params = DMF if params is None else params
        self.calls = 0

    def fic_refined(self, couplings, seed=0):
        self.calls += 1
        return [np.full(self.sc.shape[0], self.sc.sum())]


def test_fic_cache_is_keyed_by_the_sc_values_not_the_name():
    first = _CountingModel(np.ones((3, 3)))
    other = _CountingModel(2 * np.ones((3, 3)))
    a = sc.refined_fic(first, "same-name", 0.5)
    b = sc.refined_fic(other, "same-name", 0.5)
    assert other.calls == 1 and not np.array_equal(a, b)
    assert list(a["region"].values) == first.labels and a.attrs["units"] == "nA"
    again = _CountingModel(np.ones((3, 3)))
    np.testing.assert_array_equal(sc.refined_fic(again, "another-name", 0.5), a)
    assert again.calls == 0  # same SC, same G, same seed: computed once
    relabelled = _CountingModel(np.ones((3, 3)))
    relabelled.labels = ["x", "y", "z"]  # the same SC under other labels: the weights, not the labels
    c = sc.refined_fic(relabelled, "same-name", 0.5)
    assert list(c["region"].values) == ["x", "y", "z"] and np.array_equal(c.values, a.values)


def test_fic_cache_is_keyed_by_the_model_parameters_too():
    from psilosim.network.dmf import DMF

    base = _CountingModel(3 * np.ones((3, 3)))
    sc.refined_fic(base, "x", 0.7)
    other = _CountingModel(3 * np.ones((3, 3)), params=DMF.replace(w_plus=DMF.w_plus.value * 1.1))
    sc.refined_fic(other, "x", 0.7)
    assert other.calls == 1  # same SC and G, other DMF parameters: not the cached weights


def test_every_stored_fit_has_the_fingerprint_of_its_sc(aal2):
    from psilosim.network.hopf import FITTED_HOPF

    assert set(FITTED_G.params()) | set(FITTED_HOPF.params()) <= set(sc.FITTED_SC)
    assert sc.FITTED_SC["aal2"] == sc.sc_fingerprint(aal2.sc)
    # Rounding absorbs parser-level differences but not a real change of one weight.
    assert sc.sc_fingerprint(aal2.sc.values + 1e-13) == sc.sc_fingerprint(aal2.sc)
    changed = aal2.sc.values.copy()
    changed[0, 1] += 1e-6
    assert sc.sc_fingerprint(changed) != sc.sc_fingerprint(aal2.sc)


# ---------------------------------------------------------------------- negative seeds
# Guards against a negative seed reaching numpy (a bare ValueError traceback, no field named).
@pytest.mark.parametrize("seed", [-1, [0, -2], [(3, -1)], 1.5])
def test_a_negative_or_non_integer_seed_is_an_input_error(seed):
    n = len(seed) if isinstance(seed, list) else 2
    with pytest.raises(InputError) as info:
        seed_streams(seed, n)
    assert info.value.field == "seed"
