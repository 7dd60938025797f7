"""User-test findings on ``pk``, ``run`` and ``spines``: the body weight is echoed, checked and said
to change nothing when it does not; single-dose tables carry no empty accumulation rows; the
acute figure of a long multi-compound run is readable; the spines table title names the dose."""

from __future__ import annotations

import json

import pytest
import xarray as xr
from typer.testing import CliRunner

from cli_helpers import run_cli
from psilosim.cli import app

#: Wide enough that rich does not wrap the titles and rows (what a normal terminal shows).
TERMINAL_WIDTH = 200


def _pk(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, "pk", *args)
    assert code == 0, err
    return out


def _psilocybin_pk():
    from psilosim.compounds import get_compound

    return get_compound("psilocybin").pk("human")


# --- 1. --weight: echoed, refused outside the plausible range, and a note when it changes nothing

def test_pk_json_echoes_the_weight_given_and_the_reference_weight_otherwise(monkeypatch, capsys):
    given = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg",
                           "--weight", "90 kg", "--json"))
    assert given["weight_kg"] == pytest.approx(90.0)
    # without --weight a human is simulated at the PK set's reference weight: say which
    default = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--json"))
    assert default["weight_kg"] == pytest.approx(_psilocybin_pk().reference_weight.to("kg"))


def test_pk_weight_in_pounds_is_echoed_in_kg(monkeypatch, capsys):
    p = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg",
                       "--weight", "200 lb", "--json"))
    assert p["weight_kg"] == pytest.approx(200 * 0.45359237)


def test_pk_fixed_mg_psilocybin_says_weight_changes_nothing_and_why(monkeypatch, capsys):
    out = _pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--weight", "90 kg")
    text = " ".join(out.split())
    assert "body weight" in text and "90" in text
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    # the note names where the absence of a weight effect comes from (the exponent's source)
    assert _psilocybin_pk().clearance_weight_exponent.source.split(";")[0] in " ".join(notes)
    p = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--weight", "90 kg",
                       "--json"))
    assert notes[0] == f"note: {p['weight_note']}"


def test_the_note_is_true_a_fixed_mg_psilocybin_profile_does_not_depend_on_weight(monkeypatch, capsys):
    light, heavy = (json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg",
                                   "--weight", w, "--json")) for w in ("50 kg", "120 kg"))
    assert light["cmax_ng_ml"] == pytest.approx(heavy["cmax_ng_ml"], rel=1e-12)
    assert light["auc_ng_h_ml"] == pytest.approx(heavy["auc_ng_h_ml"], rel=1e-12)


@pytest.mark.parametrize("args", [
    ["--compound", "psilocybin", "--dose", "25 mg"],                       # no --weight: nothing to explain
    ["--compound", "ketamine", "--dose", "0.5 mg/kg", "--weight", "90 kg", "--route", "iv"],  # weight sets the dose
])
def test_no_weight_note_when_the_weight_is_not_given_or_sets_the_dose(monkeypatch, capsys, args):
    out = _pk(monkeypatch, capsys, *args)
    assert not any(line.startswith("note:") for line in out.splitlines())
    p = json.loads(_pk(monkeypatch, capsys, *args, "--json"))
    assert p["weight_note"] is None


@pytest.mark.parametrize("weight", ["500 kg", "5 kg", "1000 lb"])
def test_pk_refuses_an_implausible_body_weight_under_weight(monkeypatch, capsys, weight):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                             "--weight", weight, "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: --weight:") and len(err.strip().splitlines()) == 1, err


def test_pk_accepts_the_ends_of_the_plausible_range(monkeypatch, capsys):
    from psilosim.cli.pharmacology import BODY_WEIGHT_LIMITS

    for param in (BODY_WEIGHT_LIMITS.lightest, BODY_WEIGHT_LIMITS.heaviest):
        p = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg",
                           "--weight", f"{param.to('kg')} kg", "--json"))
        assert p["weight_kg"] == pytest.approx(param.to("kg"))


def test_plausible_range_holds_every_weight_the_package_itself_uses():
    """A trial patient (drawn within the population's truncation range) and the typical subject of
    the species must never be refused by the single-subject check."""
    from psilosim.cli.pharmacology import BODY_WEIGHT_LIMITS
    from psilosim.clinical.patients import weight_range_kg
    from psilosim.species import species_defaults

    low, high = BODY_WEIGHT_LIMITS.lightest.to("kg"), BODY_WEIGHT_LIMITS.heaviest.to("kg")
    drawn_low, drawn_high = weight_range_kg()
    assert low <= drawn_low < drawn_high <= high
    assert low <= species_defaults("human").body_weight.to("kg") <= high
    assert low <= _psilocybin_pk().reference_weight.to("kg") <= high


def test_run_echoes_the_weight_in_json_and_table(monkeypatch, capsys, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: w\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
                        "subject: {weight: 82 kg}\nsimulation: {duration: 12 h, step: 15 min}\n"
                        "outputs: {figures: []}\n")
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o"), "--json")
    assert code == 0, err
    assert json.loads(out)["weight_kg"] == pytest.approx(82.0)
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o2"))
    assert code == 0, err
    assert any("body weight" in line and "82" in line for line in out.splitlines())


def test_run_refuses_an_implausible_scenario_weight_before_writing(monkeypatch, capsys, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: w\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
                        "subject: {weight: 500 kg}\nsimulation: {duration: 12 h}\n")
    code, _, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("error: subject.weight:"), err
    assert not (tmp_path / "o").exists()


def test_run_of_a_mouse_scenario_is_not_held_to_human_weights(monkeypatch, capsys, tmp_path):
    from psilosim.species import default_weight_kg

    scenario = tmp_path / "m.yaml"
    scenario.write_text("name: m\nsubject: {species: mouse}\ntreatments:\n  - compound: psilocybin\n"
                        "    regimen: {route: ip, phases: [{dose: 1 mg/kg}]}\n"
                        "simulation: {duration: 6 h}\noutputs: {figures: []}\n")
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o"), "--json")
    assert code == 0, err
    p = json.loads(out)
    assert p["weight_kg"] == pytest.approx(default_weight_kg("mouse")) and "mouse" in p["weight_source"]


# --- 3. single dose: no empty accumulation rows in the table; the JSON keys stay (null)

def test_pk_single_dose_table_has_no_accumulation_rows_but_json_keeps_the_keys(monkeypatch, capsys):
    out = _pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg")
    assert "accumulation" not in out and "steady state" not in out
    p = json.loads(_pk(monkeypatch, capsys, "--compound", "psilocybin", "--dose", "25 mg", "--json"))
    assert p["accumulation_ratio"] is None and p["time_to_90pct_ss_h"] is None


def test_pk_repeated_dose_table_keeps_the_accumulation_rows():
    result = CliRunner().invoke(app, ["pk", "--compound", "escitalopram", "--dose", "10 mg", "--interval", "24h",
                                      "--doses", "7"], terminal_width=TERMINAL_WIDTH)
    assert result.exit_code == 0, result.output
    assert "accumulation ratio" in result.output and "time to 90 % of steady state" in result.output


# --- 2. the acute figure of a long multi-compound run

def _long_population(subjects: int = 3) -> xr.Dataset:
    from psilosim.binding import simulate_acute
    from psilosim.regimen import Regimen

    treatments = [("escitalopram", Regimen.daily("10 mg", duration="2 weeks")),
                  ("psilocybin", Regimen.repeated("1 mg", every="1 week", count=2))]
    runs = [simulate_acute(treatments, t_end_h=14 * 24, dt_h=0.5, seed=k) for k in range(subjects)]
    return xr.concat(runs, dim="subject")


def test_acute_figure_of_a_long_run_is_in_days():
    from psilosim.binding.figures import plot_acute

    ds = _long_population(1).isel(subject=0)
    ax = plot_acute(ds).axes[-1]
    assert "(days)" in ax.get_xlabel()
    assert ax.get_xlim()[1] <= 14.0 + 1e-9 and ax.get_xlim()[1] > 10.0


def test_acute_figure_of_a_short_run_stays_in_hours():
    from psilosim.binding import simulate_acute
    from psilosim.binding.figures import plot_acute
    from psilosim.regimen import Regimen

    ax = plot_acute(simulate_acute([("psilocybin", Regimen.single("25 mg"))], t_end_h=24)).axes[-1]
    assert "(h)" in ax.get_xlabel() and ax.get_xlim()[1] <= 24.0 + 1e-9


def test_acute_figure_long_title_fits_inside_the_figure():
    from psilosim.binding.figures import plot_acute

    title = ("escitalopram 10 mg every 1 d for 3 week, then 20 mg every 1 d for 3 week oral; "
             "psilocybin 1 mg ×2 every 3 week oral — escitalopram: escitalopram_default, psilocybin: holze2023")
    fig = plot_acute(_long_population(1).isel(subject=0), title=title)
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    width, height = fig.canvas.get_width_height()
    assert box.x0 >= 0 and box.x1 <= width and box.y1 <= height
    # every word of the title is still there (wrapped, not cut)
    assert fig._suptitle.get_text().split() == title.split()


def test_acute_figure_legend_says_what_the_band_is():
    from psilosim.binding.figures import plot_acute

    ds = _long_population(3)
    fig = plot_acute(ds)
    for ax in fig.axes:
        legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
        assert "5–95 %" in legend and f"{ds.sizes['subject']} subjects" in legend and "median" in legend


def test_acute_figure_of_one_subject_has_no_band_entry():
    from psilosim.binding.figures import plot_acute

    fig = plot_acute(_long_population(1))
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "5–95" not in legend


# --- 4. spines: the title names compound, dose and route on one line; --stress is the history before

@pytest.mark.parametrize("args,title", [
    (["--dose", "1 mg/kg"], "psilocybin 1 mg/kg ip in mouse"),
    ([], "psilocybin 1 mg/kg ip in mouse"),
    (["--dose", "1 mg/kg", "--stress", "chronic"], "psilocybin 1 mg/kg ip in mouse, after chronic stress"),
    (["--compound", "none"], "untreated mouse"),
])
def test_spines_table_title_names_compound_dose_and_route_on_one_line(args, title):
    result = CliRunner().invoke(app, ["spines", "--days", "2", *args], terminal_width=TERMINAL_WIDTH)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0].strip()
    assert first == title
    assert any(line.startswith("dose: ") for line in result.output.splitlines())


def test_spines_title_does_not_wrap_in_a_narrow_terminal():
    result = CliRunner().invoke(app, ["spines", "--days", "2", "--dose", "1 mg/kg"], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].strip() == "psilocybin 1 mg/kg ip in mouse"


def test_spines_stress_help_says_it_is_the_history_before_the_dose():
    from psilosim.cli.plasticity import STRESS_HELP

    assert "before the dose" in STRESS_HELP and "environment" in STRESS_HELP
    result = CliRunner().invoke(app, ["spines", "--help"], terminal_width=TERMINAL_WIDTH)
    text = " ".join(result.output.replace("│", " ").split())
    assert "before the dose" in text and "psilosim trial" in text
