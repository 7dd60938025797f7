"""Assumptions a result rests on, shown where the result is shown (task F17, user U4):

1. RB8 (chronic SERT occupancy down-regulates 5-HT2A) is a named hypothesis: every result it shapes
   (``run``, ``pk``, the trial table, its JSON and report) shows the alternative computed without
   it, and a trial arm can switch it off as a scenario does (``interactions``).
2. The guessed-at what-ifs (stressful setting, non-hallucinogenic analogue, TrkB occupancy) carry a
   caveat from one table, each naming what is assumed and where the docs discuss it.
3. Dose arms >= 10 mg of one psychedelic get the note that the model's dose–response is flatter than
   Goodwin et al. 2022 found.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cli_helpers import cli_json, cli_text
from psilosim.clinical.design import design_from_dict
from psilosim.clinical.presets import get_preset
from psilosim.errors import InputError
from psilosim.report import caveats
from psilosim.report.caveats import CAVEATS, trial_caveats, trial_hypotheses

DOCS = Path(__file__).resolve().parents[1] / "docs"
RB8_OFF = {"ssri_5ht2a_downregulation": False}
#: Escitalopram 20 mg daily for 2 weeks, then psilocybin 25 mg on day 14 (Becker 2022's design, shortened:
#: the first week at 20 mg instead of 10 mg).
ESC_THEN_PSI = [
    {"compound": "escitalopram", "regimen": {"phases": [{"dose": "20 mg", "every": "1 day", "duration": "2 weeks"}]}},
    {"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg", "start": "14 days"}]}},
]


def _scenario(tmp_path, treatments, subject=None, name="s") -> str:
    data = {"name": name, "seed": 1, "treatments": treatments, "population": {"size": 1, "variability": False},
            "simulation": {"duration": "15 days", "step": "15 min"}, "outputs": {"folder": str(tmp_path / name)}}
    if subject is not None:
        data["subject"] = subject
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _peak_effect(payload) -> float:
    return payload["summary"]["peak subjective effect"][0]


# ---------------------------------------------------------------- 1. RB8 as a named hypothesis
@pytest.fixture(scope="module")
def esc_runs(tmp_path_factory):
    """``run --json`` of escitalopram then psilocybin, with RB8 (default) and with it switched off."""
    tmp = tmp_path_factory.mktemp("rb8")
    on = cli_json("run", _scenario(tmp, ESC_THEN_PSI, name="on"))
    off = cli_json("run", _scenario(tmp, ESC_THEN_PSI, subject={"interactions": RB8_OFF}, name="off"))
    return on, off


def test_run_shows_rb8_with_the_alternative_computed(esc_runs):
    on, off = esc_runs
    (hyp,) = on["hypotheses"]
    assert hyp["id"] == "RB8" and "named hypothesis" in hyp["text"] and "downregulation_max 0.2" in hyp["text"]
    assert hyp["with"] == pytest.approx(_peak_effect(on), rel=1e-9)
    # the alternative is the run with the interaction off, computed independently by the user's own scenario
    assert hyp["without"] == pytest.approx(_peak_effect(off), rel=1e-6)
    assert hyp["with"] < hyp["without"]  # down-regulation blunts the effect
    assert off["hypotheses"] == []  # switched off: not active, nothing to show


def test_run_table_prints_the_rb8_line(tmp_path):
    text = cli_text("run", _scenario(tmp_path, ESC_THEN_PSI, name="t"))
    assert re.search(r"hypothesis: RB8 \(named hypothesis; size assumed: downregulation_max 0\.2.*\): "
                     r"peak effect \d+\.\d %; without it \d+\.\d %", text)


def test_ssri_comedication_shows_rb8_and_psilocybin_alone_does_not(tmp_path):
    psi = [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}]
    alone = cli_json("run", _scenario(tmp_path, psi, name="alone"))
    on_ssri = cli_json("run", _scenario(tmp_path, psi, subject={"comedication": ["ssri"]}, name="ssri"))
    assert alone["hypotheses"] == []
    (hyp,) = on_ssri["hypotheses"]
    assert hyp["with"] < hyp["without"]
    # without down-regulation the SSRI's surface serotonin alone still competes (RB7): not above psilocybin alone
    assert hyp["without"] <= _peak_effect(alone) + 1e-9


def test_a_psilocybin_dose_before_the_ssri_is_not_under_rb8(tmp_path):
    """Psilocybin on day 0, escitalopram from day 1: the dose is taken before any down-regulation."""
    psi_first = [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}},
                 {"compound": "escitalopram",
                  "regimen": {"phases": [{"dose": "20 mg", "every": "1 day", "duration": "1 week", "start": "1 day"}]}}]
    assert cli_json("run", _scenario(tmp_path, psi_first, name="first"))["hypotheses"] == []


def _esc_design(**arm_options) -> dict:
    arm = {"name": "esc_then_psi", "treatments": [
        {"compound": "escitalopram", "regimen": {"phases": [{"dose": "20 mg", "every": "1 day", "duration": "2 weeks"}]}},
        {"compound": "psilocybin", "start_day": 14, "regimen": {"phases": [{"dose": "25 mg"}]}}], **arm_options}
    return {"name": "esc", "scale": "QIDS-SR-16", "visits": [0, 14, 15, 21], "primary_day": 21,
            "baseline": {"scale": "QIDS-SR-16", "mean": 16, "sd": 3.5, "minimum": 11},
            "arms": [arm, {"name": "psi", "treatments": [
                {"compound": "psilocybin", "start_day": 14, "regimen": {"phases": [{"dose": "25 mg"}]}}]}],
            "patients": 4, "seed": 2}


def test_a_trial_arm_can_switch_rb8_off_like_a_scenario():
    from psilosim.clinical.trial import simulate_patient

    on, off = design_from_dict(_esc_design()), design_from_dict(_esc_design(interactions=RB8_OFF))
    assert off.arms[0].interactions == RB8_OFF and on.arms[0].interactions is None  # default unchanged
    assert on.fingerprint() != off.fingerprint()
    trip_on = simulate_patient(on, 0, 2, arm=0).acute_effect_peak
    trip_off = simulate_patient(off, 0, 2, arm=0).acute_effect_peak
    assert trip_on < trip_off
    with pytest.raises(InputError, match="interactions"):
        design_from_dict(_esc_design(interactions={"ssri_downregulation": False}))


def test_trial_hypotheses_name_the_ssri_pretreated_arm_only():
    (hyp,) = trial_hypotheses(design_from_dict(_esc_design()))
    assert hyp["arm"] == "esc_then_psi" and hyp["with"] < hyp["without"]
    assert "esc_then_psi" in hyp["text"] and "interactions: {ssri_5ht2a_downregulation: false}" in hyp["text"]
    assert trial_hypotheses(design_from_dict(_esc_design(interactions=RB8_OFF))) == []


def test_ssri_not_washed_out_names_rb8_for_the_psychedelic_arm():
    design = design_from_dict({**_esc_design(), "ssri_washout": False, "ssri_fraction_at_screening": 1.0})
    arms = {h["arm"] for h in trial_hypotheses(design)}
    assert arms == {"esc_then_psi", "psi"}
    assert all("on an SSRI" in h["text"] for h in trial_hypotheses(design))


@pytest.fixture(scope="module")
def esc_trial(tmp_path_factory):
    """``trial --json`` of a 4-patient escitalopram-then-psilocybin design, and its report."""
    tmp = tmp_path_factory.mktemp("trial")
    path = tmp / "esc.yaml"
    path.write_text(yaml.safe_dump(_esc_design()), encoding="utf-8")
    payload = cli_json("trial", str(path), "--out", str(tmp / "out"))
    return payload, (tmp / "out" / "report.html").read_text(encoding="utf-8")


def test_trial_json_and_report_show_rb8(esc_trial):
    payload, report = esc_trial
    (hyp,) = payload["hypotheses"]
    assert hyp["id"] == "RB8" and hyp["arm"] == "esc_then_psi"
    assert {"id", "text", "with", "without"} <= set(hyp)
    assert "Named hypothesis" in report and "RB8 (named hypothesis" in report
    assert f"without it {hyp['without']:.1f} %" in report


# ---------------------------------------------------------------- 2. the table of assumption caveats
WHATIFS = {
    "name": "whatifs", "scale": "QIDS-SR-16", "visits": [0, 7], "primary_day": 7,
    "baseline": {"scale": "QIDS-SR-16", "mean": 16, "sd": 3.5, "minimum": 11},
    "arms": [
        {"name": "supportive", "treatments": [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}]},
        {"name": "stressful", "environment": "stressful",
         "treatments": [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}]},
        {"name": "analogue", "treatments": [{"compound": {"name": "analogue", "based_on": "psilocybin",
                                                          "overrides": {"hallucinogenic_efficacy": 0.02}},
                                             "regimen": {"phases": [{"dose": "25 mg"}]}}]},
        {"name": "placebo", "treatments": [{"compound": "placebo", "regimen": {"phases": [{"dose": "1 mg"}]}}]},
    ],
}


def test_whatif_arms_get_their_caveats():
    found = {c["id"]: c["arms"] for c in trial_caveats(design_from_dict(WHATIFS))}
    assert found == {"stressful_environment": ["stressful"], "hallucinogenic_efficacy": ["analogue"]}


def test_a_plain_trial_has_no_caveat():
    assert trial_caveats(get_preset("carhart2021")) == []


def test_every_caveat_says_what_is_assumed_and_links_an_existing_docs_section():
    slug = re.compile(r"docs/(\w+\.md)#([\w-]+)")
    for caveat in CAVEATS.values():
        assert "assum" in caveat.text, caveat.id
        links = slug.findall(caveat.text)
        assert links, caveat.id
        for page, anchor in links:
            headings = [line.lstrip("#").strip() for line in (DOCS / page).read_text(encoding="utf-8").splitlines()
                        if line.startswith("#")]
            anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in anchors, (caveat.id, page, anchor)


def test_the_trkb_caveat_keeps_its_text_and_json_key():
    from psilosim.report.trial import TRKB_CAVEAT

    assert TRKB_CAVEAT == CAVEATS["trkb_subpsychedelic"].text
    payload = cli_json("window", "--species", "human", "--compound", "psilocybin", "--dose", "6 mg")
    assert payload["caveat"] == TRKB_CAVEAT
    assert payload["caveats"] == [{"id": "trkb_subpsychedelic", "text": TRKB_CAVEAT}]
    assert cli_json("window", "--species", "human", "--compound", "psilocybin", "--dose", "25 mg")["caveats"] == []


def test_pk_trkb_occupancy_carries_the_affinity_caveat():
    psi = cli_json("pk", "--compound", "psilocybin", "--dose", "25 mg")
    assert psi["peak_occupancy"]["TrkB"] > 0.9
    assert [c["id"] for c in psi["caveats"]] == ["trkb_affinity"] and psi["hypotheses"] == []
    assert "assumed 1 nM affinity" in cli_text("pk", "--compound", "psilocybin", "--dose", "25 mg")
    assert cli_json("pk", "--compound", "escitalopram", "--dose", "20 mg")["caveats"] == []


def test_run_of_the_analogue_scenario_carries_the_efficacy_caveat(tmp_path):
    analogue = [{"compound": {"name": "analogue", "based_on": "psilocybin", "overrides": {"hallucinogenic_efficacy": 0.02}},
                 "regimen": {"phases": [{"dose": "25 mg"}]}}]
    ids = [c["id"] for c in cli_json("run", _scenario(tmp_path, analogue, name="an"))["caveats"]]
    assert "hallucinogenic_efficacy" in ids


def test_trial_table_and_report_show_the_caveats(tmp_path):
    design = {**WHATIFS, "arms": WHATIFS["arms"][:2], "patients": 4, "seed": 1}
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(design), encoding="utf-8")
    text = cli_text("trial", str(path), "--out", str(tmp_path / "o"))
    assert "caveat (arm stressful): every parameter of the stressful setting is assumed" in text
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "Assumptions these results rest on" in report
    assert "Caveat (arm stressful):</b> every parameter of the stressful setting is assumed" in report


# ---------------------------------------------------------------- 3. dose–response above 10 mg
def test_goodwin_dose_arms_get_the_dose_response_note():
    found = {c["id"]: c["arms"] for c in trial_caveats(get_preset("goodwin2022"))}
    assert found["dose_response_above_10mg"] == ["25mg", "10mg"]  # the 1 mg arm is below 10 mg
    assert "Goodwin et al. 2022" in CAVEATS["dose_response_above_10mg"].text


def test_arms_that_differ_in_more_than_the_dose_get_no_dose_response_note():
    goodwin = get_preset("goodwin2022")
    arms = [a for a in goodwin.arms if a.name in ("25mg", "10mg")]
    other = [arms[0], arms[1].model_copy(update={"therapy": not arms[1].therapy})]
    design = goodwin.model_copy(update={"arms": other, "comparison": None})
    assert "dose_response_above_10mg" not in {c["id"] for c in trial_caveats(design)}


def test_goodwin_has_the_dose_note_and_no_rb8_line():
    """With every arm's trip above the threshold: no TrkB caveat, only the dose note; no SSRI: no RB8."""
    design = get_preset("goodwin2022")
    summary = {"arms": {a.name: {"biology": {"acute_effect_peak": 0.5}} for a in design.arms}}
    assumptions = caveats.trial_assumptions(design, summary=summary)
    assert [c["id"] for c in assumptions["caveats"]] == ["dose_response_above_10mg"]
    assert assumptions["hypotheses"] == []


def test_trial_rb8_line_says_it_is_the_acute_peak_not_the_outcome():
    (hyp,) = trial_hypotheses(design_from_dict(_esc_design()))
    assert "acute peak of one typical patient" in hyp["text"] and "second run" in hyp["text"]


@pytest.fixture(scope="module")
def carhart_small(tmp_path_factory):
    """``trial carhart2021 --json`` with 8 patients: the escitalopram arm gets 2 × 1 mg psilocybin."""
    tmp = tmp_path_factory.mktemp("carhart")
    return cli_json("trial", "carhart2021", "-n", "8", "--no-report", "--out", str(tmp / "out"))


def test_the_low_dose_caveat_names_the_drug_it_is_about_not_only_the_arm(carhart_small):
    (caveat,) = [c for c in carhart_small["caveats"] if c["id"] == "trkb_subpsychedelic"]
    assert caveat["arms"] == ["escitalopram"] and caveat["given"] == {"escitalopram": "psilocybin 1 mg"}
    assert caveats.caveat_line(caveat).startswith("caveat (arm escitalopram: psilocybin 1 mg): ")


def test_the_report_names_the_low_dose_drug_too(tmp_path):
    cli_json("trial", "carhart2021", "-n", "8", "--out", str(tmp_path / "out"))
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Arm escitalopram (psilocybin 1 mg): sub-psychedelic" in report  # the biology section's caveat
