"""Findings of the scientist user test of ``psilosim trial`` and its HTML report.

SSRI what-if: a design-level share of patients on an SSRI at screening and results split by SSRI
status; a CL1.difference scorecard row that says what it checks; a note on a comparator arm's
active low dose; a per-arm biology summary; ``[zarr]`` visible in ``--help``; plain language and
alt text in the report.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from cli_helpers import run_cli
from psilosim.clinical.design import design_from_dict, load_design
from psilosim.clinical.presets import get_preset
from psilosim.clinical.stats import summarize
from psilosim.clinical.trial import ModelSet, draw, run_trial
from psilosim.errors import InputError
from psilosim.plasticity import plasticity_params

DOCS = Path(__file__).resolve().parents[1] / "docs"
SSRI_WHATIF = resources.files("psilosim") / "scenarios" / "trials" / "whatif_ssri_not_washed_out.yaml"


def _ssri_design(**changes):
    data = load_design(str(SSRI_WHATIF)).model_dump(mode="json")
    data.update(changes)
    return design_from_dict(data)


@pytest.fixture(scope="module")
def ssri_run():
    """The SSRI what-if (half on an SSRI, not washed out): 24 patients, in memory."""
    design = _ssri_design()
    return run_trial(design, n_patients=24, seed=5, backend="sync")


@pytest.fixture(scope="module")
def carhart_run():
    return run_trial(get_preset("carhart2021"), n_patients=16, seed=2, backend="sync")


# ---------------------------------------------------------------- 1a: the share on an SSRI
# Guards against the share of patients on an SSRI being settable only through an undocumented
# ModelSet(population=...) replacement: a design sets it, validated, and it reaches every patient.
def test_design_sets_the_share_of_patients_on_an_ssri_at_screening():
    everyone = _ssri_design(ssri_fraction_at_screening=1.0)
    nobody = _ssri_design(ssri_fraction_at_screening=0.0)
    default = _ssri_design()
    assert all(draw(everyone, i, 1).ssri_blunted for i in range(20))
    assert not any(draw(nobody, i, 1).on_ssri_at_screening for i in range(20))
    mixed = [draw(default, i, 1).ssri_blunted for i in range(20)]
    assert any(mixed) and not all(mixed)  # the population default (50 %) when the design says nothing
    # the same patients otherwise: only the SSRI flag differs
    assert draw(everyone, 3, 1).baseline_severity == draw(nobody, 3, 1).baseline_severity
    # the design option is the same as the ModelSet route it replaces
    pop = ModelSet().population.replace(fraction_on_ssri_at_screening=1.0)
    assert draw(default, 7, 1, models=ModelSet(population=pop)) == draw(everyone, 7, 1)


@pytest.mark.parametrize("value", [1.5, -0.1, "half"])
def test_ssri_fraction_outside_0_to_1_is_refused_naming_the_field(value):
    with pytest.raises(InputError) as info:
        _ssri_design(ssri_fraction_at_screening=value)
    assert info.value.field == "ssri_fraction_at_screening"


def test_ssri_fraction_is_in_the_fingerprints_and_unset_hashes_as_before():
    default, everyone = _ssri_design(), _ssri_design(ssri_fraction_at_screening=1.0)
    assert default.fingerprint() != everyone.fingerprint()
    # a design that does not set it hashes as designs did before the option existed (resumable runs)
    old = {k: v for k, v in default.model_dump(mode="json").items()
           if k not in ("ssri_fraction_at_screening", "imaging")}
    assert default.fingerprint() == hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    models = ModelSet()
    assert models.fingerprint(design=default) != models.fingerprint(design=everyone)
    recorded = models.parameter_sets(design=everyone)["population"]["fraction_on_ssri_at_screening"]
    assert recorded["value"] == 1.0  # the provenance records the share the run used


def test_ssri_fraction_is_documented_with_an_example():
    text = (DOCS / "clinical.md").read_text(encoding="utf-8")
    assert "ssri_fraction_at_screening" in text
    example = SSRI_WHATIF.read_text(encoding="utf-8")
    assert "ssri_fraction_at_screening" in example


# ---------------------------------------------------------------- 1b: results by SSRI status
# Guards against an arm that mixes patients on and off an SSRI being reported only as one mean.
def test_summary_splits_each_arm_by_ssri_status(ssri_run):
    summary = summarize(ssri_run)
    day = summary["primary_day"]
    for name, arm in summary["arms"].items():
        split = arm["by_ssri_status"]
        assert set(split) == {"on_ssri", "off_ssri"}
        assert split["on_ssri"]["n"] + split["off_ssri"]["n"] == arm["n"]
        in_arm = ssri_run["arm"] == name
        scores = ssri_run["outcome"].sel(measure="score")
        change = (scores.sel(visit=int(np.flatnonzero(ssri_run["study_day"].values == day)[0]))
                  - scores.isel(visit=0))
        for key, flag in (("on_ssri", 1), ("off_ssri", 0)):
            values = change.where(in_arm & (ssri_run["ssri_blunted"] == flag), drop=True).values
            assert split[key]["n"] == values.size
            if values.size:
                assert split[key]["change_mean"] == pytest.approx(values.mean())
            if values.size >= 2:
                low, high = split[key]["change_ci"]
                assert low < values.mean() < high


def test_no_ssri_split_when_no_patient_stayed_on_an_ssri(carhart_run):
    summary = summarize(carhart_run)
    assert all("by_ssri_status" not in arm for arm in summary["arms"].values())
    # the existing keys are unchanged
    for arm in summary["arms"].values():
        for key in ("n", "baseline_mean", "change_mean", "change_ci", "response_rate", "remission_rate", "by_visit"):
            assert key in arm


def _table_text(summary) -> str:
    from psilosim.cli.trial import _tables

    console = Console(width=250, record=True)
    for table in _tables(summary):
        console.print(table)
    return console.export_text()


def test_cli_table_and_report_show_the_ssri_split(ssri_run):
    from psilosim.report.trial import render_trial_report

    summary = summarize(ssri_run)
    text = _table_text(summary)
    on = summary["arms"]["psilocybin"]["by_ssri_status"]["on_ssri"]
    assert "on SSRI" in text and "off SSRI" in text and f"{on['change_mean']:.2f}" in text
    html = render_trial_report(ssri_run, summary=summary)
    assert "by SSRI status" in html and f"{on['change_mean']:.2f}" in html


# ---------------------------------------------------------------- 2: CL1.difference row
# Guards against the scorecard row reading "not significant ... pass" next to a tiny p-value: the
# row says that the band on |difference| is what is checked, and quotes the published estimate.
def test_cl1_difference_row_says_what_is_checked():
    from psilosim.validation.targets import TARGETS_BY_ID

    target = TARGETS_BY_ID["CL1.difference"]
    assert "−2.0" in target.published and "−5.0 to 0.9" in target.published and "n = 59" in target.published
    assert "below 4" in target.quantity and "p-value" in target.quantity
    row = next(line for line in (DOCS / "validation.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| CL1.difference"))
    assert "−2.0" in row and "below 4" in row


# ---------------------------------------------------------------- 3: active low dose note
# Guards against a comparator arm's 1 mg psilocybin being shown without a word on what it does in
# the model (TrkB binding: BDNF and spine jumps in the "escitalopram" arm).
def test_report_explains_a_comparator_arms_active_low_dose(carhart_run, ssri_run):
    from psilosim.report.trial import low_dose_notes, render_trial_report

    notes = low_dose_notes(get_preset("carhart2021"))
    assert len(notes) == 1 and "escitalopram" in notes[0] and "1 mg" in notes[0] and "TrkB" in notes[0]
    assert "docs/pharmacology.md" in notes[0]
    assert low_dose_notes(_ssri_design()) == []  # placebo is inert: no note
    # goodwin2022's 10 mg arm trips (mean peak above the trip threshold): a dose arm, not a control
    goodwin = get_preset("goodwin2022")
    trips = {"25mg": {"biology": {"acute_effect_peak": 0.68}}, "10mg": {"biology": {"acute_effect_peak": 0.28}},
             "1mg": {"biology": {"acute_effect_peak": 0.01}}}
    notes = low_dose_notes(goodwin, summary={"arms": trips})
    assert len(notes) == 1 and notes[0].startswith("The 1mg arm") and "1 mg" in notes[0]
    html = render_trial_report(carhart_run)
    assert "docs/pharmacology.md" in html and "TrkB" in html
    assert "Active low dose" not in render_trial_report(ssri_run)  # (its RB8 line links docs/pharmacology.md)


# ---------------------------------------------------------------- 4: biology per arm
BIOLOGY_KEYS = ("acute_effect_peak", "window_peak", "window_open_days", "density_change", "density_change_ci")


def test_summary_has_a_biology_summary_per_arm(carhart_run):
    summary = summarize(carhart_run)
    bio = {name: arm["biology"] for name, arm in summary["arms"].items()}
    for name, b in bio.items():
        assert set(BIOLOGY_KEYS) <= set(b) and set(BIOLOGY_KEYS) - {"density_change_ci"} <= set(b["units"])
        in_arm = carhart_run["arm"] == name
        peaks = carhart_run["acute_effect_peak"].where(in_arm, drop=True).values
        assert b["acute_effect_peak"] == pytest.approx(peaks.mean())
        window = carhart_run["course"].sel(quantity="window").where(in_arm, drop=True)
        assert b["window_peak"] == pytest.approx(window.max("day").mean().item())
        # days (daily samples) at or above the human window_closed_level, by hand
        level = plasticity_params("human").window_closed_level.value
        assert b["window_open_level"] == level
        assert b["window_open_days"] == pytest.approx(float((window >= level).sum("day").mean()))
        density = carhart_run["outcome"].sel(measure="density_rel").where(in_arm, drop=True)
        assert b["density_change"] == pytest.approx((density.isel(visit=-1) - density.isel(visit=0)).mean().item())
        assert b["day"] == summary["primary_day"]
    # a 25 mg trip is felt, 1 mg is not (link 3's transducer)
    assert bio["psilocybin"]["acute_effect_peak"] > 0.3 > bio["escitalopram"]["acute_effect_peak"]
    text = _table_text(summary)
    assert "trip peak" in text and "window" in text and "spine density" in text


def test_biology_summary_reflects_a_stressful_setting():
    design = load_design(str(resources.files("psilosim") / "scenarios" / "trials" / "whatif_environment.yaml"))
    summary = summarize(run_trial(design, n_patients=16, seed=1, backend="sync"))
    persistent = {a: summary["arms"][a]["biology"]["persistent_change"] for a in ("supportive", "stressful")}
    assert persistent["supportive"] > persistent["stressful"]  # fewer new spines kept (docs/clinical.md)


def test_json_gains_the_biology_key(monkeypatch, capsys, tmp_path: Path):
    code, out, _ = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "8", "--seed", "1",
                           "--out", str(tmp_path / "t"), "--json", "--no-report")
    assert code == 0
    data = json.loads(out)
    for arm in data["arms"].values():
        assert set(BIOLOGY_KEYS) <= set(arm["biology"])
        assert "by_ssri_status" not in arm


# ---------------------------------------------------------------- 5: --help
def test_trial_help_shows_the_zarr_extra(monkeypatch, capsys):
    _, out, _ = run_cli(monkeypatch, capsys, "trial", "--help")
    flat = "".join(out.replace("│", " ").split())
    assert "psilosim[zarr]" in flat


# ---------------------------------------------------------------- 6: plain language, alt text
# Guards against jargon a clinician cannot read, a Daws sentence about a modularity correlation the
# run does not have, and images without a description.
def test_report_explains_its_jargon_and_describes_its_images(carhart_run):
    from psilosim.report.trial import render_trial_report

    html = render_trial_report(carhart_run)
    assert "slow_chain" in html and "dose to spines" in html       # the biology label explained
    assert "all on" in html and "every route by which the drug" in html  # plasticity routes
    assert "expectancy" in html and "1.0 is the typical" in html
    assert "latent" in html and "true severity" in html
    assert "Daws" not in html  # no modularity measure in this run
    images = re.findall(r"<img[^>]*>", html)
    assert len(images) >= 3
    for tag in images:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1).split()) >= 5, tag


def test_daws_sentence_shown_with_a_modularity_correlation(carhart_run):
    from psilosim.report.trial import render_trial_report

    summary = summarize(carhart_run)
    summary["correlations"]["modularity_change_vs_improvement"] = -0.3
    assert "Daws" in render_trial_report(carhart_run, summary=summary)
