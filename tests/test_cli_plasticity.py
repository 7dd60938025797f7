"""``psilosim spines`` and ``psilosim window``: JSON contracts and bad inputs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli_helpers import run_cli
from psilosim.cli import app

runner = CliRunner()


def run_json(*args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_spines_json_contract_mouse_psilocybin():
    out = run_json("spines", "--species", "mouse", "--compound", "Psilocybin", "--dose", "1 mg/kg",
                   "--route", "ip", "--days", "34", "--report-days", "1,7,34")
    assert set(out["density_change_pct"]) == {"1", "7", "34"}
    assert 5 <= out["density_change_pct"]["1"] <= 15           # SP1
    assert out["density_change_pct"]["34"] > 3                  # SP2
    assert out["formation_rate_change_pct"] > 50                 # SP3: formation up ...
    assert abs(out["elimination_rate_change_pct"]) < 20          # ... elimination unchanged
    series = out["series"]
    n = len(series["time_d"])
    assert n > 10 and all(len(series[k]) == n for k in ("density_rel", "window", "bdnf_rel"))
    assert series["time_d"][0] == 0 and series["time_d"][-1] == pytest.approx(34)
    assert "research" in out["disclaimer"]


def test_spines_without_dose_uses_and_names_the_published_dose():
    out = run_json("spines", "--compound", "KETAMINE", "--days", "3", "--report-days", "1")
    assert out["dose"] == "10 mg/kg" and "Moda-Sava" in out["dose_source"]


def test_spines_default_report_days_fit_a_short_run():
    """Without --report-days a run shorter than 34 days reports the default days it covers."""
    assert set(run_json("spines", "--compound", "ketamine", "--days", "2")["density_change_pct"]) == {"1"}
    assert set(run_json("spines", "--compound", "ketamine", "--days", "0.5")["density_change_pct"]) == {"0.5"}
    assert set(run_json("spines", "--days", "10")["density_change_pct"]) == {"1", "7"}
    # a span shorter than the acute step still runs (the acute solution takes a finer step)
    assert set(run_json("spines", "--compound", "ketamine", "--days", "0.005")["density_change_pct"]) == {"0.005"}


def test_spines_untreated_baseline_and_chronic_stress():
    base = run_json("spines", "--compound", "none", "--days", "14", "--report-days", "1,14")
    assert all(abs(v) < 1e-6 for v in base["density_change_pct"].values())
    stressed = run_json("spines", "--compound", "none", "--stress", "chronic", "--days", "14",
                        "--report-days", "14")
    assert min(stressed["series"]["density_rel"]) < 0.9          # starts after 21 days of stress
    assert stressed["density_change_pct"]["14"] > 0             # slow recovery from the dose day


def test_window_json_contract():
    out = run_json("window", "--species", "mouse", "--compound", "lsd")
    assert {"window_days", "engagement_h", "window_closed_level", "dose", "dose_source"} <= set(out)
    assert 10.5 <= out["window_days"] <= 31.5
    psi = run_json("window", "--compound", "psilocybin", "--dose", "1 mg/kg")
    assert psi["engagement_h"] < out["engagement_h"]
    assert psi["window_days"] < out["window_days"]


@pytest.mark.parametrize("args,field", [
    (["spines", "--compound", "unobtainium"], "compound"),
    (["spines", "--dose", "3 mL"], "dose"),
    (["spines", "--dose", "-1 mg/kg"], "dose"),
    (["spines", "--species", "zebrafish"], "species"),
    (["spines", "--stress", "mild"], "--stress"),
    (["spines", "--report-days", "1,x"], "--report-days"),
    (["spines", "--report-days", "50", "--days", "34"], "--report-days"),
    (["spines", "--days", "0"], "--days"),
    (["window", "--compound", "none"], "--compound"),
    (["window", "--compound", "psilocybin", "--route", "teleport"], "route"),
])
def test_bad_inputs_exit_2_with_one_line(args, field):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in result.output


def test_help_texts():
    for cmd in ("spines", "window"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0 and "--json" in result.output


# ---------------------------------------------------------------- errors name the option
# Guards against an absurd --days being simulated (or crashing) instead of refused, and against
# error lines that did not name the command-line option at fault.


def test_spines_rejects_an_absurd_horizon(monkeypatch, capsys):
    from psilosim.cli.plasticity import MAX_SIMULATED_DAYS

    code, _, err = run_cli(monkeypatch, capsys, "spines", "--days", "1e9", "--json")
    assert code == 2 and "--days:" in err and str(int(MAX_SIMULATED_DAYS)) in err


@pytest.mark.parametrize("args,option", [
    (["pk", "--compound", "foo", "--dose", "25 mg"], "--compound"),
    (["pk", "--compound", "psilocybin", "--dose", "25 mg", "--parameter-set", "zz"], "--parameter-set"),
    (["pk", "--compound", "psilocybin", "--dose", "25 mg", "--method", "zz"], "--method"),
    (["spines", "--route", "zz"], "--route"),
    (["spines", "--species", "rat"], "--species"),
    (["spines", "--compound", "foo"], "--compound"),
    (["spines", "--dose", "5 percent"], "--dose"),
    (["window", "--compound", "foo"], "--compound"),
    (["window", "--compound", "psilocybin", "--species", "rat"], "--species"),
])
def test_cli_errors_name_the_option(monkeypatch, capsys, args, option):
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and f"{option}:" in err, err


def test_spines_negative_seed_is_a_usage_error_not_a_traceback(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "spines", "--stochastic", "--seed", "-3", "--days", "2")
    assert code == 2
    # one line naming the option, as every other bad input (not typer's boxed usage error)
    assert err.strip().splitlines() == ["error: --seed: must be a non-negative integer, got -3"], err


def test_spines_dose_guard_compares_each_species_with_its_own_maximum(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "spines", "--species", "human", "--compound", "psilocybin",
                           "--dose", "25 kg", "--days", "2", "--json")
    assert code == 2 and err.startswith("error: --dose:") and "30 mg" in err
    # a mouse mg/kg dose is compared with the mouse maximum (1 mg/kg), not the human 30 mg
    code, out, err = run_cli(monkeypatch, capsys, "spines", "--species", "mouse", "--compound", "psilocybin",
                             "--dose", "1 mg/kg", "--days", "2", "--json")
    assert code == 0 and err == "" and json.loads(out)["compound"] == "psilocybin"


def test_spines_table_says_formation_is_a_rate_change(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "spines", "--days", "2")
    text = " ".join(out.split())
    assert code == 0, err
    assert "spine formation rate over day 1:" in text and "vs untreated" in text and "elimination rate" in text


# Guards against "window open inf days" when the run ends before the window closes.
def test_spines_says_the_window_is_still_open_when_the_run_ends_first():
    from typer.testing import CliRunner

    from psilosim.cli import app

    result = CliRunner().invoke(app, ["spines", "--species", "mouse", "--compound", "psilocybin",
                                      "--dose", "1 mg/kg", "--days", "2"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "inf" not in result.output
    assert "still open at the end of the 2 simulated days" in result.output


# Guards against the dose check refusing a human per-kg dose ("give a body weight") in commands
# that have no --weight and simulate the species' typical subject.
@pytest.mark.parametrize("command", ["window", "spines"])
def test_human_per_kg_dose_runs_in_commands_without_a_weight(command):
    import json

    from typer.testing import CliRunner

    from psilosim.cli import app

    result = CliRunner().invoke(app, [command, "--species", "human", "--compound", "psilocybin",
                                      "--dose", "0.3 mg/kg", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["window_days"] > 1.0
