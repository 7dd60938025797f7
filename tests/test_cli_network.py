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


@pytest.mark.parametrize("args,needle", [
    (["scan", "--dataset", "nope", "--json"], "aal2"),
    (["scan", "--occupancy", "1.5", "--json"], "--occupancy"),
    (["scan", "--gain-map", "random", "--json"], "--gain-map"),
    (["scan", "--method", "exact", "--json"], "--method"),
    (["fit", "--dataset", "aal2", "--minutes", "-1", "--json"], "--minutes"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = _cli(*args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
