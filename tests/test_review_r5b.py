"""Review R5b of the caveats and the reference arm (task F22):

1. an arm giving one compound twice (psilocybin on day 0 and again on day 14, under escitalopram)
   gets its RB8 line instead of a crash, and the trial's named hypotheses are computed before its
   output folder is made;
2. with no ``comparison`` and the placebo arm listed first, ``difference`` is the other arm −
   placebo, as ``differences`` (the report's table) has it;
3. ``window`` and ``spines`` of a non-hallucinogenic analogue carry its caveat, as ``pk`` does;
4. a subject's own 5-HT2A density below 1 is not down-regulation (RB8 is not acting without SERT block).
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from psilosim.cli import app
from psilosim.clinical.design import design_from_dict
from psilosim.report import caveats

BASELINE = {"scale": "QIDS-SR-16", "mean": 16, "sd": 3.5, "minimum": 11}
PSILOCYBIN = {"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}
PLACEBO = {"name": "placebo", "treatments": [{"compound": "placebo", "regimen": {"phases": [{"dose": "1 mg"}]}}]}
#: Psilocybin on day 0 and again on day 14, escitalopram daily from day 0: the second dose meets
#: two weeks of SERT block (RB8 acts on it), the first none.
TWICE = {"name": "twice", "treatments": [
    PSILOCYBIN, {**PSILOCYBIN, "start_day": 14},
    {"compound": "escitalopram", "regimen": {"phases": [{"dose": "20 mg", "every": "1 day", "duration": "3 weeks"}]}}]}


def _design(arms, name="r5b", **extra) -> dict:
    return {"name": name, "scale": "QIDS-SR-16", "visits": [0, 14, 21], "primary_day": 21, "baseline": BASELINE,
            "arms": arms, "patients": 4, "seed": 2, **extra}


def _invoke(*args):
    return CliRunner().invoke(app, list(args))


# ---------------------------------------------------------------- 1. one compound twice in an arm
def test_an_arm_giving_one_compound_twice_gets_its_rb8_line():
    (hyp,) = caveats.trial_hypotheses(design_from_dict(_design([TWICE, PLACEBO])))
    assert hyp["arm"] == "twice"
    # the day-14 dose meets two weeks of escitalopram: down-regulation blunts it
    assert hyp["with"] < hyp["without"]


def test_trial_of_an_arm_giving_one_compound_twice_runs_to_its_end(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(_design([TWICE, PLACEBO])), encoding="utf-8")
    result = _invoke("trial", str(path), "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [h["arm"] for h in payload["hypotheses"]] == ["twice"]
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_failing_hypothesis_leaves_no_output_folder(tmp_path, monkeypatch):
    def broken(design):
        raise RuntimeError("hypotheses failed")

    monkeypatch.setattr(caveats, "trial_hypotheses", broken)
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(_design([TWICE, PLACEBO])), encoding="utf-8")
    result = _invoke("trial", str(path), "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 2. the placebo arm listed first
@pytest.fixture(scope="module")
def placebo_first():
    from psilosim.clinical import run_trial
    from psilosim.clinical.stats import summarize

    design = design_from_dict(_design([PLACEBO, {"name": "psilocybin", "treatments": [PSILOCYBIN]}]))
    return summarize(run_trial(design, n_patients=8, seed=3, backend="sync"))


def test_placebo_listed_first_is_subtracted_in_the_headline_and_the_table(placebo_first):
    diff = placebo_first["difference"]
    assert (diff["arm"], diff["reference"]) == ("psilocybin", "placebo")
    assert placebo_first["reference"]["arm"] == "placebo"
    (row,) = placebo_first["differences"].values()
    assert diff["estimate"] == pytest.approx(row["estimate"], rel=1e-12)
    # psilocybin improves more than placebo: the difference of change (later − baseline) is negative
    assert diff["estimate"] < 0


def test_presets_keep_their_compared_arms():
    """Every preset lists its active arm first or sets ``comparison``: its ``difference`` is unchanged."""
    import xarray as xr

    from psilosim.clinical.presets import PRESETS, get_preset
    from psilosim.clinical.stats import default_comparison

    for name in PRESETS:
        design = get_preset(name)
        ds = xr.Dataset(attrs={"design": design.model_dump_json(), "arms": json.dumps(design.arm_names)})
        expected = None if design.compared_arms is None else list(design.compared_arms)
        assert default_comparison(ds) == expected, name


# ---------------------------------------------------------------- 3. window/spines of an analogue
@pytest.fixture
def analogue_file(tmp_path):
    """Psilocybin's definition with no hallucinogenic efficacy: a non-hallucinogenic analogue."""
    from psilosim.compounds import get_compound

    data = get_compound("psilocybin").model_dump(mode="json")
    data.update(name="Analogue", aliases=[])
    data["hallucinogenic_efficacy"] = {**data["hallucinogenic_efficacy"], "value": 0.0}
    path = tmp_path / "analogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", ["window", "spines"])
def test_window_and_spines_of_an_analogue_carry_its_caveat(command, analogue_file):
    result = _invoke(command, "--species", "human", "--compound", analogue_file, "--dose", "25 mg", "--json")
    assert result.exit_code == 0, result.output
    pk = _invoke("pk", "--compound", analogue_file, "--dose", "25 mg", "--json")
    assert pk.exit_code == 0, pk.output
    assert "hallucinogenic_efficacy" in [c["id"] for c in json.loads(pk.stdout)["caveats"]]
    assert [c["id"] for c in json.loads(result.stdout)["caveats"]] == ["hallucinogenic_efficacy"]


# ---------------------------------------------------------------- 4. a subject's own receptor density
def test_a_low_receptor_density_without_an_ssri_is_not_rb8():
    from psilosim.binding import simulate_acute
    from psilosim.compounds import get_compound
    from psilosim.pharmacokinetics import Subject
    from psilosim.regimen import Regimen

    psilocybin = get_compound("psilocybin")
    pairs = [(psilocybin, Regimen.single("25 mg", route="oral"))]
    for density in (0.8, 1.2):
        subject = Subject(species="human", ht2a_density=density)
        ds = simulate_acute(pairs, subject=subject, t_end_h=12, check_doses=False)
        assert not caveats.rb8_active(ds, density=density)
        assert caveats.acute_hypotheses(ds, [psilocybin], subject) == []
    # with an SSRI the same low-density subject is down-regulated, and the line says by how much
    on_ssri = Subject(species="human", ht2a_density=0.8, comedication=("ssri",))
    ds = simulate_acute(pairs, subject=on_ssri, t_end_h=12, check_doses=False)
    (hyp,) = caveats.acute_hypotheses(ds, [psilocybin], on_ssri)
    assert hyp["with"] < hyp["without"]


def test_window_table_prints_the_analogue_caveat(analogue_file):
    result = CliRunner().invoke(app, ["window", "--species", "human", "--compound", analogue_file, "--dose", "25 mg"],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "caveat: a compound without the acute experience opens no plasticity window" in result.output
