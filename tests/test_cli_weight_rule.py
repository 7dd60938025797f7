"""The body weight a command simulates at when none is given, and how its table row says so.

``pk`` and ``run`` report the weight (``weight_kg``, ``weight_source``): the one given; a laboratory
animal's standard weight; for a human without one, the reference weight of the PK set (a fixed-mg
dose; a per-kg dose needs a weight). ``spines`` and ``window`` check doses for the species' typical
subject, the one the slow chain simulates. One function says which weight applies
(:func:`psilosim.cli.pharmacology.simulated_weight`); these tests pin what users see and that
``pk`` and ``run`` both go through it.
"""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_cli
from psilosim.compounds import get_compound
from psilosim.species import species_defaults


def _scenario(tmp_path, subject: str, route: str = "oral", dose: str = "25 mg"):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: w\nsubject: {subject}\ntreatments:\n  - compound: psilocybin\n"
                    f"    regimen: {{route: {route}, phases: [{{dose: {dose}}}]}}\n"
                    "simulation: {duration: 6 h}\noutputs: {figures: []}\n")
    return path


def _reference_kg(compound: str = "psilocybin") -> float:
    return get_compound(compound).pk("human").reference_weight.to("kg")


def test_pk_without_weight_reports_the_pk_sets_reference_weight(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    assert code == 0, err
    p = json.loads(out)
    assert p["weight_kg"] == pytest.approx(_reference_kg())
    assert p["weight_source"] == "reference weight of the PK set"
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg")
    assert "body weight (reference weight of the PK set)" in out


def test_pk_with_a_weight_reports_it_as_given(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                             "--weight", "83 kg", "--json")
    assert code == 0, err
    p = json.loads(out)
    assert (p["weight_kg"], p["weight_source"]) == (pytest.approx(83.0), "given")
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                             "--weight", "83 kg")
    row = next(line for line in out.splitlines() if "body weight" in line)
    assert "(" not in row and "83" in row


@pytest.mark.parametrize(("subject", "route", "dose", "kg", "source"), [
    ("{weight: 64 kg}", "oral", "25 mg", 64.0, "given"),
    ("{species: human}", "oral", "25 mg", None, "reference weight of the PK set"),
    ("{species: mouse}", "ip", "1 mg/kg", species_defaults("mouse").body_weight.to("kg"), "standard mouse weight"),
])
def test_run_reports_where_its_weight_comes_from(monkeypatch, capsys, tmp_path, subject, route, dose, kg, source):
    scenario = _scenario(tmp_path, subject, route, dose)
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o"), "--json")
    assert code == 0, err
    p = json.loads(out)
    assert p["weight_kg"] == pytest.approx(_reference_kg() if kg is None else kg)
    assert p["weight_source"] == source
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "t"))
    assert code == 0, err
    assert ("body weight" if source == "given" else f"body weight ({source})") in out


def test_spines_checks_a_human_per_kg_dose_for_the_typical_subject(monkeypatch, capsys):
    """3 mg/kg for the typical human (the subject the chain simulates) is above psilocybin's 30 mg."""
    typical_kg = species_defaults("human").body_weight.to("kg")
    code, _, err = run_cli(monkeypatch, capsys, "spines", "--species", "human", "--compound", "psilocybin",
                           "--dose", "3 mg/kg", "--days", "2", "--json")
    assert code == 0, err
    assert f"--dose {3 * typical_kg:g} mg is above the largest psilocybin dose" in err


def test_pk_and_run_take_their_weight_from_one_rule(monkeypatch, capsys, tmp_path):
    """Both commands report what :func:`simulated_weight` says, not a copy of its branches."""
    import psilosim.cli.pharmacology as pharmacology

    monkeypatch.setattr(pharmacology, "simulated_weight", lambda *a, **k: (12.5, "a marker source"))
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    assert code == 0, err
    assert (json.loads(out)["weight_kg"], json.loads(out)["weight_source"]) == (12.5, "a marker source")
    scenario = _scenario(tmp_path, "{species: human}")
    code, out, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert "body weight (a marker source)" in out and "12.5" in out
