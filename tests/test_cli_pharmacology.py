"""``psilosim pk`` (the JSON contract) and ``psilosim run``; bad input exits 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from cli_helpers import run_cli
from psilosim import DISCLAIMER
from psilosim.cli import app

CONTRACT_KEYS = {"compound", "analyte", "cmax_ng_ml", "tmax_h", "half_life_h", "auc_ng_h_ml", "peak_occupancy",
                 "peak_effect", "effect_duration_h", "series"}
OCCUPANCY_KEYS = {"5-HT2A", "SERT", "TrkB", "NMDA"}
MAX_STEP_H = 0.25

runner = CliRunner()


def _pk_json(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, "pk", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_pk_json_contract_for_psilocybin(monkeypatch, capsys):
    p = _pk_json(monkeypatch, capsys, "--compound", "Psilocybin", "--dose", "25 mg")
    assert CONTRACT_KEYS <= set(p) and p["compound"] == "psilocybin" and p["analyte"] == "psilocin"
    assert OCCUPANCY_KEYS <= set(p["peak_occupancy"])
    assert all(0.0 <= v <= 1.0 for v in p["peak_occupancy"].values()) and 0.0 <= p["peak_effect"] <= 1.0
    s = p["series"]
    n = len(s["time_h"])
    assert len(s["concentration_ng_ml"]) == n and all(len(v) == n for v in s["occupancy"].values())
    assert OCCUPANCY_KEYS <= set(s["occupancy"])
    assert np.max(np.diff(s["time_h"])) <= MAX_STEP_H + 1e-12
    assert p["cmax_ng_ml"] == pytest.approx(max(s["concentration_ng_ml"]))
    assert 14 <= p["cmax_ng_ml"] <= 20 and 1.5 <= p["tmax_h"] <= 2.5  # PK1, PK2


def test_pk_repeated_dosing_with_weight_seed_and_hours(monkeypatch, capsys):
    args = ["--compound", "escitalopram", "--dose", "10 mg", "--interval", "24h", "--doses", "14", "--hours", "400",
            "--seed", "3", "--weight", "70 kg"]
    a = _pk_json(monkeypatch, capsys, *args)
    b = _pk_json(monkeypatch, capsys, *args)
    assert a["series"] == b["series"] and a["series"]["time_h"][-1] == pytest.approx(400.0)
    assert a["accumulation_ratio"] > 1.5 and a["peak_occupancy"]["SERT"] > 0.6


def test_pk_parameter_sets_differ_in_half_life(monkeypatch, capsys):
    holze = _pk_json(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--parameter-set", "holze2023")
    brown = _pk_json(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--parameter-set", "brown2017")
    assert holze["half_life_h"] == pytest.approx(1.8, abs=0.1) and brown["half_life_h"] == pytest.approx(3.0, abs=0.1)


def test_pk_route_for_ketamine(monkeypatch, capsys):
    p = _pk_json(monkeypatch, capsys, "--compound", "ketamine", "--dose", "0.5 mg/kg", "--weight", "70 kg",
                 "--route", "intranasal")
    assert p["peak_occupancy"]["NMDA"] > 0.05 and p["tmax_h"] < 1.0


@pytest.mark.parametrize("args,needle", [
    (["--compound", "psilocybin", "--dose", "-25 mg"], "--dose"),
    (["--compound", "psilocybin", "--dose", "25 mL"], "--dose"),
    (["--compound", "psilocybin", "--dose", "0.3 mg/kg"], "body weight"),
    (["--compound", "nosuchdrug", "--dose", "25 mg"], "unknown compound"),
    (["--compound", "psilocybin", "--dose", "25 mg", "--interval", "0 h", "--doses", "2"], "--interval"),
    (["--compound", "psilocybin", "--dose", "25 mg", "--weight", "70 mL"], "--weight"),
    (["--compound", "psilocybin", "--dose", "25 mg", "--route", "iv"], "route"),
    (["--compound", "psilocybin", "--dose", "25 mg", "--hours", "0.05"], "--hours"),  # not longer than a step
])
def test_pk_bad_input_exits_2_with_one_line(monkeypatch, capsys, args, needle):
    code, out, err = run_cli(monkeypatch, capsys, "pk", *args, "--json")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_run_default_writes_results_provenance_and_figure(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "run", "--out", str(tmp_path / "out"))
    assert code == 0, err
    folder = tmp_path / "out"
    assert {p.name for p in folder.iterdir()} == {"results.nc", "provenance.json", "acute.png"}
    ds = xr.open_dataset(folder / "results.nc", engine="h5netcdf")
    assert ds.concentration.attrs["units"] == "ng/mL" and "subject" in ds.dims
    record = json.loads((folder / "provenance.json").read_text())
    assert record["seed"] == 1 and record["parameter_sets"] == {"psilocybin": "holze2023"}
    assert "ng/mL" in out and " ".join(DISCLAIMER.split()[:6]) in " ".join(out.split())


def test_run_json_summary(monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(monkeypatch, capsys, "run", "--out", str(tmp_path / "o"), "--json")
    summary = json.loads(out)["summary"]
    assert code == 0 and 14 <= summary["Cmax psilocin"][0] <= 20


def test_run_yaml_syntax_error_exits_2_and_writes_nothing(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]\n")
    code, out, err = run_cli(monkeypatch, capsys, "run", str(bad), "--out", str(tmp_path / "out"))
    assert code == 2 and "line 3" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_run_invalid_field_names_it(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg, every: 0 h, count: 2}]}\n")
    code, _, err = run_cli(monkeypatch, capsys, "run", str(bad), "--out", str(tmp_path / "out"))
    assert code == 2 and "treatments.0.regimen.phases.0.every" in err


# ---------------------------------------------------------------- accumulation over the simulated time
# Guards against accumulation metrics reported for a last dosing interval that --hours cuts short,
# and against a default end time rounded down so that the last interval was never covered.


def _pk_json_via_runner(*args):
    result = runner.invoke(app, ["pk", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pk_cli_reports_null_accumulation_when_hours_cut_the_last_interval():
    p = _pk_json_via_runner("--compound", "psilocybin", "--dose", "25 mg", "--interval", "24h", "--doses", "3", "--hours", "49")
    assert p["accumulation_ratio"] is None and p["time_to_90pct_ss_h"] is None
    full = _pk_json_via_runner("--compound", "psilocybin", "--dose", "25 mg", "--interval", "24h", "--doses", "3")
    assert full["accumulation_ratio"] == pytest.approx(1.0, abs=0.01)  # t½ 1.8 h ≪ 24 h


@pytest.mark.parametrize("interval", ["3 weeks", "100.1 h", "7.3 days", "333.33 h"])
def test_pk_cli_default_time_covers_a_long_last_interval(interval):
    # intervals that are not whole grid steps too: the default end is rounded up, not down
    p = _pk_json_via_runner("--compound", "psilocybin", "--dose", "25 mg", "--interval", interval, "--doses", "3")
    assert p["accumulation_ratio"] == pytest.approx(1.0, abs=0.01)   # t½ ≈ 2 h: no accumulation


def test_pk_negative_seed_is_a_usage_error_not_a_traceback(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                             "--seed", "-1")
    assert code == 2
    # one line naming the option, as every other bad input (not typer's boxed usage error)
    assert err.strip().splitlines() == ["error: --seed: must be a non-negative integer, got -1"], err
