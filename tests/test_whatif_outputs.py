"""What-if outputs a reader could misread (user findings U4.3–U4.7).

* ``run``: whether its subjects are the typical one or random, and with which seed;
* trials: the arm every other arm is compared with is the placebo arm when there is one;
* ``pk`` with repeated doses: the effect duration per dose, not only the total over all doses;
* ``pk``/``run --json``: the warnings of the command (a dose above the studied one) in the JSON;
  psilocybin doses are of the pure compound; a child's weight is out of scope;
* ``pk`` of a compound without a 5-HT2A effect model (ketamine): a note that its own acute
  effect is not what the subjective-effect rows show.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xarray as xr

from cli_helpers import run_cli
from psilosim.clinical.design import TrialDesign
from psilosim.clinical.presets import PRESETS, get_preset
from psilosim.clinical.stats import reference_arm, reference_choice
from psilosim.errors import InputError

DOCS = Path(__file__).resolve().parents[1] / "docs"
SIMPLE = ("name: simple25\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
          "outputs: {figures: []}\n")


def _scenario(tmp_path, extra: str = "") -> Path:
    path = tmp_path / "simple.yaml"
    path.write_text(SIMPLE + extra)
    return path


def _run(monkeypatch, capsys, tmp_path, scenario: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(monkeypatch, capsys, "run", str(scenario), "--out", str(tmp_path / "out"), *args)


# ---------------------------------------------------------------- U4.3: run's random subject


def test_run_says_its_one_subject_is_random_and_which_seed_was_drawn(monkeypatch, capsys, tmp_path):
    code, out, err = _run(monkeypatch, capsys, tmp_path, _scenario(tmp_path), "--json")
    assert code == 0, err
    subjects = json.loads(out)["subjects"]
    assert subjects["kind"] == "random" and subjects["count"] == 1 and subjects["seed_drawn"] is True
    assert isinstance(subjects["seed"], int)
    assert f"seed {subjects['seed']} (drawn)" in subjects["text"]
    assert "population.variability: false gives the typical subject" in subjects["text"]
    code, out, err = _run(monkeypatch, capsys, tmp_path, _scenario(tmp_path))
    assert code == 0, err
    title = " ".join(out.split())  # the title may wrap on a narrow console
    assert "1 random subject, seed" in title and "(drawn)" in title and "median shown" not in title


def test_run_names_a_given_seed_and_the_typical_subject(monkeypatch, capsys, tmp_path):
    code, out, err = _run(monkeypatch, capsys, tmp_path, _scenario(tmp_path, "seed: 7\npopulation: {size: 3}\n"),
                          "--json")
    assert code == 0, err
    subjects = json.loads(out)["subjects"]
    assert (subjects["kind"], subjects["count"], subjects["seed"], subjects["seed_drawn"]) == ("random", 3, 7, False)
    assert "3 random subjects, seed 7 (given)" in subjects["text"] and "median" in subjects["text"]
    typical = _scenario(tmp_path, "population: {size: 1, variability: false}\n")
    code, out, err = _run(monkeypatch, capsys, tmp_path, typical, "--json")
    assert code == 0, err
    subjects = json.loads(out)["subjects"]
    assert subjects["kind"] == "typical" and subjects["seed"] is None and "typical subject" in subjects["text"]


def test_docs_say_a_run_scenario_draws_a_random_subject_by_default():
    text = " ".join((DOCS / "clinical.md").read_text().split())
    assert "population.variability" in text and "random subject" in text and "typical subject" in text


# ---------------------------------------------------------------- U4.4: the reference arm


def _arm(name: str, *compounds: str) -> dict:
    return {"name": name, "treatments": [{"compound": c, "regimen": {"phases": [{"dose": "25 mg"}]}}
                                          for c in compounds]}


def _design(arms: list[dict], comparison: list[str] | None = None) -> TrialDesign:
    return TrialDesign.model_validate({
        "name": "t", "scale": "QIDS-SR-16", "visits": [0, 42], "primary_day": 42,
        "baseline": {"scale": "QIDS-SR-16", "mean": 16, "sd": 3.5}, "arms": arms, "comparison": comparison})


def _ds(design: TrialDesign) -> xr.Dataset:
    """The attributes :func:`reference_arm` reads, as :func:`run_trial` writes them."""
    return xr.Dataset(attrs={"design": design.model_dump_json(), "arms": json.dumps(design.arm_names)})


def test_the_placebo_arm_is_the_reference_wherever_it_is():
    design = _design([_arm("supportive", "psilocybin"), _arm("stressful", "psilocybin"), _arm("ketamine", "ketamine"),
                      _arm("placebo", "placebo")])
    arm, reason = reference_choice(_ds(design))
    assert arm == "placebo" and reference_arm(_ds(design)) == "placebo"
    assert "placebo" in reason and "comparison" in reason


def test_niacin_counts_as_a_placebo_and_two_placebo_arms_leave_the_second_arm():
    niacin = _design([_arm("a", "psilocybin"), _arm("b", "psilocybin"), _arm("niacin", "niacin")])
    assert reference_arm(_ds(niacin)) == "niacin"
    two = _design([_arm("a", "psilocybin"), _arm("b", "psilocybin"), _arm("p1", "placebo"), _arm("p2", "placebo")])
    arm, reason = reference_choice(_ds(two))
    assert arm == "b" and "second arm" in reason
    # an arm with a placebo beside an active drug (carhart2021's psilocybin + daily placebo) is not a placebo arm
    mixed = _design([_arm("a", "psilocybin", "placebo"), _arm("b", "escitalopram"), _arm("c", "psilocybin")])
    assert reference_arm(_ds(mixed)) == "b"


def test_a_design_comparison_still_decides():
    design = _design([_arm("a", "psilocybin"), _arm("b", "psilocybin"), _arm("placebo", "placebo")],
                     comparison=["a", "b"])
    arm, reason = reference_choice(_ds(design))
    assert arm == "b" and "comparison" in reason
    assert reference_choice(_ds(_design([_arm("only", "psilocybin")])))[0] is None


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_keep_the_reference_they_had(name):
    _keeps_its_reference(get_preset(name))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "src/psilosim/scenarios/trials")
                                        .glob("*.yaml")), ids=lambda p: p.stem)
def test_example_trials_keep_the_reference_they_had(path):
    from psilosim.clinical.design import load_design

    _keeps_its_reference(load_design(path))


def _keeps_its_reference(design: TrialDesign) -> None:
    before = (design.comparison or design.arm_names[:2])  # the rule before the fix
    expected = before[1] if len(before) == 2 else None
    assert reference_arm(_ds(design)) == expected


def test_the_trial_table_says_which_arm_is_the_reference_and_why():
    from psilosim.cli.trial import _difference_lines

    entry = {"arm": "a", "reference": "placebo", "day": 42.0, "estimate": -3.0, "ci": [-4.0, -2.0], "p": 0.01}
    summary = {"difference": entry, "differences": {"a - placebo": entry, "b - placebo": {**entry, "arm": "b"}},
               "reference": {"arm": "placebo", "reason": "the only placebo arm"}}
    lines = _difference_lines(summary)
    assert "reference arm: placebo (the only placebo arm)" in lines[-1] and len(lines) == 3
    single = {**summary, "differences": {"a - placebo": entry}}
    assert _difference_lines(single)[0].endswith("; reference arm: placebo (the only placebo arm)")


def test_the_report_methods_give_the_reason_not_the_old_rule():
    template = (Path(__file__).resolve().parents[1] / "src/psilosim/report/templates/trial.html.j2").read_text()
    assert "summary.reference.reason" in template and "by default the design's second arm)" not in template


# ---------------------------------------------------------------- U4.5: effect duration per dose


def test_pk_reports_the_effect_duration_per_dose(monkeypatch, capsys):
    args = ("pk", "--compound", "psilocybin", "--dose", "25 mg", "--interval", "3 weeks", "--doses", "2")
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    p = json.loads(out)
    code, single, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    one = json.loads(single)["effect_duration_h"]
    per_dose = p["effect_duration_per_dose_h"]
    # 3 weeks apart, each dose is one trip as long as a single dose's, and the total is their sum
    assert len(per_dose) == 2 and per_dose == pytest.approx([one, one], rel=0.02)
    assert p["effect_duration_h"] == pytest.approx(sum(per_dose), rel=1e-6)
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert "total time ≥ threshold over all doses" in out and "effect duration per dose" in out
    assert f"{per_dose[0]:.3g}, {per_dose[1]:.3g}" in out


def test_pk_of_one_dose_lists_one_duration(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    p = json.loads(out)
    assert p["effect_duration_per_dose_h"] == [pytest.approx(p["effect_duration_h"])]


# ---------------------------------------------------------------- U4.6: warnings in the JSON; scope


def test_pk_json_carries_the_extrapolation_warning_with_the_pure_compound_note(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "3 g", "--json")
    assert code == 0, err
    warnings_ = json.loads(out)["warnings"]
    assert len(warnings_) == 1 and "extrapolating" in warnings_[0]
    assert "pure psilocybin; mushroom material is not modelled" in warnings_[0]
    assert warnings_[0] in " ".join(err.split()) or "extrapolating" in err  # still on stderr too
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    assert json.loads(out)["warnings"] == []


def test_pk_json_carries_a_library_warning_raised_during_the_command(monkeypatch, capsys):
    import warnings

    import psilosim.binding as binding
    from psilosim.errors import DataWarning

    simulate = binding.simulate_acute

    def warning_simulation(*args, **kwargs):
        warnings.warn("a warning raised inside the simulation", DataWarning, stacklevel=2)
        return simulate(*args, **kwargs)

    monkeypatch.setattr(binding, "simulate_acute", warning_simulation)
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "escitalopram", "--dose", "40 mg", "--json")
    assert code == 0, err
    caught = json.loads(out)["warnings"]
    assert "a warning raised inside the simulation" in caught
    assert any("escitalopram" in w and "extrapolating" in w for w in caught)
    assert len(caught) == len(set(caught))  # shown by main's hook and collected: once each


def test_run_json_carries_the_warnings_of_the_run(monkeypatch, capsys, tmp_path):
    coarse = _scenario(tmp_path, "seed: 1\nsimulation: {duration: 24 h, step: 3 h}\n").read_text() \
        .replace("25 mg", "40 mg")
    path = tmp_path / "coarse.yaml"
    path.write_text(coarse)
    code, out, err = _run(monkeypatch, capsys, tmp_path, path, "--json")
    assert code == 0, err
    caught = json.loads(out)["warnings"]
    assert any("extrapolating" in w and "40 mg" in w for w in caught)


def test_pk_dose_help_says_pure_psilocybin(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--help")
    assert "pure psilocybin; mushroom material is not modelled" in " ".join(out.replace("│", " ").split())


def test_a_childs_weight_is_refused_as_out_of_scope(monkeypatch, capsys):
    from psilosim.pharmacokinetics import Subject

    with pytest.raises(InputError, match="children are not modelled \\(adults 30–250 kg\\)"):
        Subject(weight="20 kg")
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                             "--weight", "20 kg")
    assert code == 2 and "children are not modelled" in err
    with pytest.raises(InputError) as heavy:
        Subject(weight="300 kg")
    assert "children" not in heavy.value.problem


def test_pharmacology_docs_scope_names_pregnancy_children_and_mushrooms():
    text = " ".join((DOCS / "pharmacology.md").read_text().split()).lower()
    scope = text[text.index("out of scope"):][:600]
    assert "pregnan" in scope and "children" in scope and "mushroom" in scope


# ---------------------------------------------------------------- U4.7: no 5-HT2A effect model


def test_pk_of_ketamine_notes_that_its_own_effect_is_not_modelled(monkeypatch, capsys):
    args = ("pk", "--compound", "ketamine", "--dose", "0.5 mg/kg", "--weight", "70 kg", "--route", "iv")
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    note = json.loads(out)["effect_note"]
    assert note is not None and "5-HT2A" in note and "dissociat" in note  # the compound file's own note
    code, out, err = run_cli(monkeypatch, capsys, *args)
    # one unfolded line under the table (a table row wrapped it over 13 lines at 80 columns)
    line = next(line for line in out.splitlines() if line.startswith("note (effect): "))
    assert "ketamine has no 5-HT2A" in line and line.rstrip().endswith(")")
    assert "dissociative effect is not modelled" in line  # the compound file's reason, as a sentence
    code, out, err = run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--json")
    assert json.loads(out)["effect_note"] is None
