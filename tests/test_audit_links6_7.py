"""Audit fixes for links 6–7: seed streams, fit JSON family, TR contradictions, scan length,
occupancy grid and CLI defaults as Params, caches keyed by the SC itself."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _metrics_data import bold, region_table
from psilosim.cli import app
from psilosim.connectome import Parcellation, load_dataset
from psilosim.errors import DataError, InputError
from psilosim.metrics import static_fc
from psilosim.network import scan as sc
from psilosim.network._rng import seed_streams
from psilosim.network.dmf import FITTED_G


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def _stream_states(conds) -> set[tuple[int, ...]]:
    seeds = [s for c in conds for s in c.seeds]
    return {tuple(row) for row in seed_streams(seeds, len(seeds)).tolist()}


# ---------------------------------------------------------------------- 1. seeds
def test_adjacent_seeds_share_no_noise_stream(aal2):
    # Before: scan k of a role used seed + 3k + role, so seed 0's second baseline was seed 1's
    # drug stream and seed 1's first repeat was seed 0's first drug stream.
    a = sc.conditions(aal2, 0, ("receptor",), sessions=3)
    b = sc.conditions(aal2, 1, ("receptor",), sessions=3)
    assert len(_stream_states(a)) == 9 and not _stream_states(a) & _stream_states(b)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 50))
def test_no_two_seeds_share_a_stream_or_a_null_map(seed, offset):
    other = seed + offset
    aal2 = load_dataset("aal2")
    a = sc.conditions(aal2, seed, ("receptor", "shuffled"), n_shuffles=3, sessions=2)
    b = sc.conditions(aal2, other, ("receptor", "shuffled"), n_shuffles=3, sessions=2)
    assert not _stream_states(a) & _stream_states(b)
    maps_a = {c.density.tobytes() for c in a if c.name.startswith("shuffled_")}
    maps_b = {c.density.tobytes() for c in b if c.name.startswith("shuffled_")}
    assert len(maps_a) == 3 and not maps_a & maps_b


def test_shuffled_maps_of_adjacent_seeds_differ(aal2):
    # Before: shuffled_k used seed + k, so seed 0's shuffled_1 was seed 1's shuffled_0.
    first = {c.name: c.density for c in sc.conditions(aal2, 0, ("shuffled",), n_shuffles=2)}
    second = {c.name: c.density for c in sc.conditions(aal2, 1, ("shuffled",), n_shuffles=2)}
    assert not np.array_equal(first["shuffled_1"], second["shuffled_0"])


def test_conditions_are_deterministic_and_null_maps_do_not_depend_on_their_number(aal2):
    few = sc.conditions(aal2, 7, ("receptor", "shuffled"), n_shuffles=2, sessions=2)
    many = sc.conditions(aal2, 7, ("receptor", "shuffled"), n_shuffles=5, sessions=2)
    assert [c.seeds for c in few] == [c.seeds for c in many[:len(few)]]
    for c_few, c_many in zip(few, many[:len(few)], strict=True):
        if c_few.density is not None:
            np.testing.assert_array_equal(c_few.density, c_many.density)


def test_variogram_nulls_of_adjacent_seeds_differ(schaefer100_dir):
    parc = load_dataset(schaefer100_dir)
    zero = {c.name: c.density for c in sc.conditions(parc, 0, ("variogram",), n_shuffles=2) if c.density is not None}
    one = {c.name: c.density for c in sc.conditions(parc, 1, ("variogram",), n_shuffles=2) if c.density is not None}
    assert len(zero) == len(one) == 2
    assert not any(np.array_equal(zero[a], one[b]) for a in zero for b in one)


# ---------------------------------------------------------------------- 2. fit JSON
def test_fit_json_names_the_family_of_its_top_level_g():
    runner = CliRunner()
    result = runner.invoke(app, ["fit", "--dataset", "aal2", "--points", "2", "--minutes", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"G", "fc_corr", "fcd_ks", "sc_fc_corr", "model"} <= set(out)
    # The default sweeps both families; the top-level G is the better family's, named by "model",
    # and the DMF's own G (the one scan/validate use) stays under families.dmf.
    assert out["model"] in ("dmf", "hopf") and out["families"][out["model"]]["G"] == out["G"]
    assert out["families"]["dmf"]["model"] == "dmf"


def test_docs_state_the_fit_default_the_code_uses():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "network.md").read_text()
    stated = re.search(r"`--model dmf\|hopf\|both` \(default `(\w+)`", text)
    assert stated is not None and stated.group(1) == _defaults("fit")["model"].default


# ---------------------------------------------------------------------- 3. TR vs time axis
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


# ---------------------------------------------------------------------- 4. scan length
def test_too_short_scan_is_rejected_up_front_naming_minutes(aal2):
    with pytest.raises(InputError, match="minutes") as err:
        sc.scan_session(aal2, 0.5, minutes=0.02)
    assert "TR" in str(err.value)


def test_cli_too_short_scan_exits_2_naming_minutes():
    result = subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", "scan",
                             "--occupancy", "0.5", "--minutes", "0.02", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--minutes" in result.stderr and "Traceback" not in result.stderr


def test_scan_records_the_simulated_length_in_whole_trs(aal2):
    # 0.55 min = 33 s is not a whole number of 2-s TRs: 16 samples (32 s) are simulated and
    # recorded as such, with the request kept beside it.
    s = sc.scan_session(aal2, 0.5, minutes=0.55, seed=0)
    tr = s.attrs["tr_s"]
    assert s.sizes["time"] == round(0.55 * 60 / tr)
    assert s.attrs["minutes"] * 60 == pytest.approx(s.sizes["time"] * tr)
    assert s.attrs["requested_minutes"] == 0.55


# ---------------------------------------------------------------------- 5. occupancy grid
def test_occupancy_window_grid_and_padding_are_params():
    for name in ("occupancy_step", "occupancy_padding"):
        assert getattr(sc.SCAN, name).kind == "assumed" and getattr(sc.SCAN, name).unit == "min"
    coarse = sc.SCAN.replace(occupancy_step=2.0)
    occ = sc.occupancy_window("psilocybin", "25 mg", 2.0, 10.0, seed=0, p=coarse)
    steps = np.diff(occ["time_h"].values)
    np.testing.assert_allclose(steps, 2.0 / 60.0, rtol=1e-9)
    # The series brackets the scan by one grid step on each side.
    assert occ["time_h"].min() <= 2.0 and occ["time_h"].max() >= 2.0 + 10.0 / 60.0


# ---------------------------------------------------------------------- 6. CLI defaults
def _defaults(command: str) -> dict:
    import typer

    click_cmd = typer.main.get_command(app).commands[command]
    return {p.name: p for p in click_cmd.params}


def test_cli_defaults_come_from_the_parameter_sets():
    from psilosim.network.fit import FIT

    scan_opts, fit_opts = _defaults("scan"), _defaults("fit")
    assert scan_opts["minutes"].default == sc.SCAN.minutes.to("min")
    assert scan_opts["at_hours"].default == sc.SCAN.at_hours.to("h")
    assert fit_opts["points"].default == int(FIT.g_points.value)
    assert fit_opts["minutes"].default == FIT.duration.to("min")
    for kind in sc.MAP_KINDS:
        assert kind in scan_opts["gain_map"].help


# ---------------------------------------------------------------------- 7. keyed by the SC
def test_stored_g_is_used_only_for_the_built_in_sc(aal2):
    impostor = Parcellation(name="aal2", regions=aal2.regions, sc=aal2.sc * 2)
    # Same name, other SC: scaled from the AAL2 fit by in-strength, not the stored value.
    assert sc.coupling_for(impostor) == pytest.approx(FITTED_G.aal2.value / 2)
    assert sc.coupling_for(aal2) == FITTED_G.aal2.value


def test_stored_g_still_applies_to_the_schaefer_folder(schaefer100_dir):
    assert sc.coupling_for(load_dataset(schaefer100_dir)) == FITTED_G.schaefer100.value


class _CountingModel:
    """Stands in for a DMFModel: FIC weights that reveal which SC they came from."""

    def __init__(self, sc_values):
        self.sc = np.asarray(sc_values, dtype=float)
        self.calls = 0

    def fic_refined(self, couplings, seed=0):
        self.calls += 1
        return [np.full(self.sc.shape[0], self.sc.sum())]


def test_fic_cache_is_keyed_by_the_sc_values_not_the_name():
    first = _CountingModel(np.ones((3, 3)))
    other = _CountingModel(2 * np.ones((3, 3)))
    a = sc.refined_fic(first, "same-name-audit", 0.5)
    b = sc.refined_fic(other, "same-name-audit", 0.5)
    assert other.calls == 1 and not np.array_equal(a, b)
    again = _CountingModel(np.ones((3, 3)))
    np.testing.assert_array_equal(sc.refined_fic(again, "another-name-audit", 0.5), a)
    assert again.calls == 0  # same SC, same G, same seed: computed once


def test_hopf_acute_state_refuses_a_renamed_sc(aal2):
    from dataclasses import replace

    from psilosim.network.acute import acute_session

    impostor = replace(aal2, sc=aal2.sc * 2)
    with pytest.raises(DataError, match="fitted Hopf"):
        acute_session(impostor, 0.5, acute_state="bifurcation_shift")


def test_every_stored_fit_has_the_fingerprint_of_its_sc(aal2):
    from psilosim.network.hopf import FITTED_HOPF

    assert set(FITTED_G.params()) | set(FITTED_HOPF.params()) <= set(sc.FITTED_SC)
    assert sc.FITTED_SC["aal2"] == sc.sc_fingerprint(aal2.sc)
    # Rounding absorbs parser-level differences but not a real change of one weight.
    assert sc.sc_fingerprint(aal2.sc.values + 1e-13) == sc.sc_fingerprint(aal2.sc)
    changed = aal2.sc.values.copy()
    changed[0, 1] += 1e-6
    assert sc.sc_fingerprint(changed) != sc.sc_fingerprint(aal2.sc)
