"""``psilosim fit`` and ``psilosim scan``: JSON contracts and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from psilosim.cli import app

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_scan_json_contract_with_compare_maps():
    out = _json(["scan", "--compound", "psilocybin", "--dose", "25 mg", "--at-hours", "2",
                 "--minutes", "0.5", "--seed", "1", "--compare-maps", "--json"])
    for key in ("fc_change_by_network", "fc_change_global", "gain_map", "occupancy", "G", "disclaimer"):
        assert key in out
    assert out["gain_map"] == "receptor"
    assert "Default" in out["fc_change_by_network"] and out["fc_change_global"] > 0
    assert set(out["compare_maps"]) == {"uniform", "shuffled"}
    for kind, block in out["compare_maps"].items():
        assert block["gain_map"] == kind and set(block["fc_change_by_network"]) == set(out["fc_change_by_network"])
    assert 0.3 < out["occupancy"] < 0.8


def test_linear_scan_is_fast_and_has_the_same_contract():
    out = _json(["scan", "--occupancy", "0.6", "--method", "linear", "--compare-maps", "--json"])
    assert out["method"] == "linear" and out["gain_map"] == "receptor"
    assert set(out["compare_maps"]) == {"uniform", "shuffled"} and out["fc_change_global"] > 0
    assert "noise_floor_global" not in out  # expected FC has no sampling noise


def test_scan_is_deterministic_under_seed():
    args = ["scan", "--occupancy", "0.5", "--minutes", "0.5", "--seed", "2", "--json"]
    assert _json(args)["fc_change_global"] == _json(args)["fc_change_global"]


def test_fit_json_contract():
    out = _json(["fit", "--dataset", "aal2", "--points", "2", "--minutes", "2", "--json"])
    assert {"G", "fc_corr", "fcd_ks", "sc_fc_corr"} <= set(out)
    assert out["G"] in out["sweep"]["G"]
    assert -1 <= out["fc_corr"] <= 1 and 0 <= out["fcd_ks"] <= 1
    assert out["sc_fc_corr"] == pytest.approx(0.325, abs=0.01)  # plain SC–FC of AAL2, data not model


def test_fit_hopf_json_contract_beats_sc_on_aal2():
    out = _json(["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "2", "--json"])
    assert out["model"] == "hopf" and out["a"] < 0 and out["beats_sc_fc"] is True
    assert out["G"] in out["sweep"]["G"] and out["fc_corr"] > out["sc_fc_corr"]


def test_fit_both_reports_each_family():
    out = _json(["fit", "--dataset", "aal2", "--model", "both", "--points", "2", "--minutes", "1", "--json"])
    assert set(out["families"]) == {"dmf", "hopf"}
    assert out["fc_corr"] == max(f["fc_corr"] for f in out["families"].values())


def test_scan_sessions_reports_noise_floor_and_ratio():
    out = _json(["scan", "--occupancy", "0.6", "--minutes", "0.5", "--sessions", "2", "--json"])
    assert out["sessions"] == 2 and out["noise_floor_global"] > 0
    assert out["drug_to_noise_ratio"] == pytest.approx(out["fc_change_global"] / out["noise_floor_global"])
    assert set(out["fc_distance_by_network"]) == set(out["fc_change_by_network"])


@pytest.mark.parametrize("args,needle", [
    (["scan", "--dataset", "nope", "--json"], "aal2"),
    (["scan", "--occupancy", "1.5", "--json"], "--occupancy"),
    (["scan", "--gain-map", "random", "--json"], "--gain-map"),
    (["scan", "--method", "exact", "--json"], "--method"),
    (["fit", "--dataset", "aal2", "--minutes", "-1", "--json"], "--minutes"),
    (["fit", "--dataset", "aal2", "--model", "wilson", "--json"], "--model"),
    (["scan", "--sessions", "0", "--json"], "--sessions"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = _cli(*args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
