"""``psilosim pk`` (the JSON contract) and ``psilosim run``; bad input exits 2 with one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

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
    (["--compound", "psilocybin", "--dose", "25 mg", "--interval", "24 h"], "--doses"),  # an interval of one dose
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


# ---------------------------------------------------------------- output folders that cannot be created


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_run_out_under_a_file_is_one_line_exit_2(monkeypatch, capsys, tmp_path, json_flag):
    (tmp_path / "regions.csv").write_text("not a folder\n")
    code, out, err = run_cli(monkeypatch, capsys, "run", "--out", str(tmp_path / "regions.csv" / "out"), *json_flag)
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: --out:") and "file" in err


def test_run_out_that_cannot_be_created_is_one_line_exit_2(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "run", "--out", "/proc/psilosim-test/out", "--json")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: --out:")


def test_run_out_creates_missing_parents(monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "run", "--out", str(tmp_path / "a" / "b" / "c"), "--json")
    assert code == 0, err
    assert (tmp_path / "a" / "b" / "c" / "provenance.json").is_file()


def test_every_out_option_says_it_is_created_if_missing():
    import click
    import typer.main

    group = typer.main.get_command(app)
    ctx = click.Context(group)
    outs = {name: opt for name in group.list_commands(ctx)
            for opt in group.get_command(ctx, name).params if "--out" in getattr(opt, "opts", [])}
    mine = {name: opt for name, opt in outs.items() if name in {"run", "pk", "spines", "window"}}
    assert "run" in mine
    assert all("created if missing" in (opt.help or "") for opt in mine.values())


# ---------------------------------------------------------------- dose plausibility (studied maximum)


def test_pk_refuses_a_dose_two_orders_above_the_studied_maximum(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 kg", "--json")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: --dose:") and "30 mg" in err  # the largest studied dose (PK1)


def test_pk_warns_on_stderr_above_the_studied_maximum(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "100 mg", "--json")
    assert code == 0 and json.loads(out)["cmax_ng_ml"] > 50  # stdout stays one JSON object
    assert len(err.strip().splitlines()) == 1 and err.startswith("warning:") and "30 mg" in err


@pytest.mark.parametrize("args", [["--compound", "psilocybin", "--dose", "30 mg"],
                                  ["--compound", "ketamine", "--dose", "0.5 mg/kg", "--weight", "70 kg"],
                                  ["--compound", "escitalopram", "--dose", "20 mg"]])
def test_pk_studied_doses_pass_silently(monkeypatch, capsys, args):
    code, _, err = run_cli(monkeypatch, capsys, "pk", *args, "--json")
    assert code == 0 and err == ""


def test_pk_compares_a_per_kg_maximum_per_kg(monkeypatch, capsys):
    # ketamine's studied maximum is 0.5 mg/kg: 35 mg is that dose for 70 kg but 2.3x it for 30 kg
    # (the lightest weight pk accepts)
    code, _, err = run_cli(monkeypatch, capsys, "pk", "--compound", "ketamine", "--dose", "35 mg", "--weight", "70 kg")
    assert code == 0 and err == ""
    code, _, err = run_cli(monkeypatch, capsys, "pk", "--compound", "ketamine", "--dose", "35 mg", "--weight", "30 kg")
    assert code == 0 and err.startswith("warning:") and "0.5 mg/kg" in err
    code, _, err = run_cli(monkeypatch, capsys, "pk", "--compound", "ketamine", "--dose", "5 g", "--weight", "70 kg")
    assert code == 2 and err.startswith("error: --dose:")


def test_run_refuses_a_unit_slip_in_a_scenario_dose(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "slip.yaml"
    bad.write_text("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 g}]}\n")
    code, out, err = run_cli(monkeypatch, capsys, "run", str(bad), "--out", str(tmp_path / "out"), "--json")
    assert code == 2 and out == "" and err.startswith("error: treatments.0.regimen.phases.0.dose:") and "30 mg" in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- repeated doses: steady state and Tmax


@pytest.mark.parametrize("interval", ["24h", "72h", "168h"])
def test_pk_time_to_steady_state_and_tmax_do_not_scale_with_the_interval(monkeypatch, capsys, interval):
    p = _pk_json(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "2 mg", "--interval", interval,
                 "--doses", "10")
    # psilocin t½ 1.8 h ≪ interval: 90 % of steady state after ln(10)/λz = 3.32 t½ ≈ 6 h
    assert p["time_to_90pct_ss_h"] == pytest.approx(math.log(10) / math.log(2) * p["half_life_h"], rel=0.02)
    # all peaks tie: Tmax is the first dose's (PK2: 2 h), counted from that dose
    assert p["tmax_h"] == pytest.approx(2.0, abs=0.1) and p["tmax_after_dose_h"] == pytest.approx(p["tmax_h"])


def test_pk_table_names_the_steady_state_definition_and_tmax_dose(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "2 mg", "--interval",
                           "72h", "--doses", "3")
    assert code == 0 and "interval AUC" in " ".join(out.split()) and "after dose 1" in out


# ---------------------------------------------------------------- labels of the run table


def _analogue_scenario(tmp_path):
    path = tmp_path / "analogue.yaml"
    path.write_text("name: analogue-test\nseed: 1\ntreatments:\n  - compound: {name: analogue, based_on: psilocybin, "
                    "overrides: {hallucinogenic_efficacy: 0.02}}\n    regimen: {phases: [{dose: 25 mg}]}\n"
                    "population: {size: 1, variability: false}\nsimulation: {duration: 24 h, step: 5 min}\n")
    return path


def test_run_names_a_custom_compound_not_its_template_analyte(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "run", str(_analogue_scenario(tmp_path)), "--out",
                             str(tmp_path / "o"), "--json")
    summary = json.loads(out)["summary"]
    assert code == 0, err
    assert "Cmax analogue active moiety" in summary and "Cmax psilocin" not in summary


def test_run_table_prints_tiny_percentages_readably(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "run", str(_analogue_scenario(tmp_path)), "--out",
                             str(tmp_path / "o"))
    effect_row = next(line for line in out.splitlines() if "peak subjective effect" in line)
    assert code == 0, err
    assert "e-" not in effect_row and ("< 0.01" in effect_row or " 0 " in effect_row)


@pytest.mark.parametrize("value,shown", [(0.0, "0"), (1.21e-18, "< 0.01"), (0.0275, "0.0275"), (68.8, "68.8"),
                                         (None, "—"), (float("nan"), "—")])
def test_percent_formatting(value, shown):
    from psilosim.cli.pharmacology import format_value

    assert format_value(value, "%") == shown


# Guards against an --out folder holding someone else's files being refused only after the
# simulation, and under the scenario's field name instead of --out.
def test_run_out_holding_other_files_is_refused_before_simulating(monkeypatch, capsys, tmp_path):
    import psilosim.scenario as scenario_module
    from cli_helpers import run_cli

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(scenario_module, "simulate_scenario", no_simulation)
    code, _, err = run_cli(monkeypatch, capsys, "run", "--out", str(folder))
    assert code == 2 and err.strip().startswith("error: --out:") and "not a psilosim output folder" in err
    assert (folder / "notes.txt").read_text() == "keep me"


# Guards against a command's "warn once" filter staying on in the process after the command,
# silencing ExtrapolationWarning for a notebook or test that ran the CLI in-process.
def test_a_command_does_not_leave_warning_filters_behind():
    import warnings

    from typer.testing import CliRunner

    from psilosim.cli import app
    from psilosim.errors import ExtrapolationWarning
    from psilosim.pharmacokinetics import simulate_pk
    from psilosim.regimen import Regimen

    before = list(warnings.filters)
    result = CliRunner().invoke(app, ["pk", "--compound", "psilocybin", "--dose", "25 mg", "--json"])
    assert result.exit_code == 0, result.output
    assert list(warnings.filters) == before
    with pytest.warns(ExtrapolationWarning):
        simulate_pk("psilocybin", Regimen.single("100 mg"), t_end_h=6)


def _stepped_scenario(tmp_path, step: str, *, population: str = "{size: 1, variability: false}") -> Path:
    path = tmp_path / f"step_{step.replace(' ', '')}.yaml"
    path.write_text("name: stepped\nseed: 3\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
                    f"population: {population}\nsimulation: {{duration: 24 h, step: {step}}}\n"
                    "outputs: {figures: []}\n")
    return path


@pytest.mark.parametrize("population", ["{size: 1, variability: false}", "{size: 3, variability: true}"])
def test_run_summary_does_not_depend_on_the_output_step(monkeypatch, capsys, tmp_path, population):
    """A 6-h output step samples the curves (results.nc), but the summary's peaks and duration are
    read on the internal grid: the same as with a 15-min step, for the same subjects."""
    summaries = {}
    for step in ("15 min", "6 h"):
        scenario = _stepped_scenario(tmp_path, step, population=population)
        code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out",
                                 str(tmp_path / step.replace(" ", "")), "--json")
        assert code == 0, err
        assert "samples the peaks" not in err  # the summary is not sampled, so no warning about it
        payload = json.loads(out)
        summaries[step] = payload
    fine, coarse = summaries["15 min"], summaries["6 h"]
    assert coarse["output_step_h"] == 6.0 and coarse["summary_step_h"] == pytest.approx(0.25)
    for key, (value, unit) in fine["summary"].items():
        assert coarse["summary"][key][1] == unit
        assert coarse["summary"][key][0] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_psilosim_warnings_are_one_line_on_the_command_line(monkeypatch, capsys):
    """Every warning class psilosim defines is shown like its errors (one 'warning:' line)."""
    import warnings as _warnings

    from psilosim import errors
    from psilosim.cli import _show_warning

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Warning)]
    assert {"ExtrapolationWarning", "WorkingPointWarning", "CoarseOutputStepWarning", "DataWarning"} <= {
        c.__name__ for c in classes}
    for category in classes:
        assert issubclass(category, errors.PsilosimWarning), category
        _show_warning(category("sampled"), category, "x.py", 1)
        err = capsys.readouterr().err
        assert err.strip().startswith("warning:") and "x.py" not in err and len(err.strip().splitlines()) == 1
    assert _warnings.showwarning is not _show_warning  # only main() installs it
