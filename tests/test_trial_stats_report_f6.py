"""Findings of the biostatistician's user test of ``psilosim trial``: the output folder, the report's
calibration and methods sections, every arm against the reference, correlations with CI, n and per arm.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from rich.console import Console
from scipy import stats as sps

from cli_helpers import run_cli
from psilosim.clinical.calibration import FITTED_TARGETS
from psilosim.clinical.design import design_from_dict
from psilosim.clinical.presets import get_preset
from psilosim.clinical.stats import change_from_baseline, correlation_details, summarize
from psilosim.clinical.symptoms import DEFAULT_SYMPTOMS
from psilosim.clinical.trial import run_trial
from psilosim.plasticity import plasticity_params
from psilosim.report.trial import render_trial_report

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def carhart_run():
    return run_trial(get_preset("carhart2021"), n_patients=16, seed=2, backend="sync")


@pytest.fixture(scope="module")
def carhart_html(carhart_run):
    return render_trial_report(carhart_run)


def _three_arms(comparison=("high", "placebo")) -> dict:
    arm = lambda name, dose, compound="psilocybin", allocation=2: {  # noqa: E731
        "name": name, "allocation": allocation,
        "treatments": [{"compound": compound, "regimen": {"phases": [{"dose": dose}]}}]}
    return {"name": "dose3", "scale": "MADRS", "visits": [0, 7, 21], "primary_day": 21,
            "baseline": {"scale": "MADRS", "mean": 32, "sd": 5, "minimum": 22, "maximum": 50},
            "comparison": list(comparison) if comparison else None,
            "arms": [arm("high", "25 mg"), arm("mid", "10 mg"), arm("placebo", "1 mg", "placebo", 1)]}


@pytest.fixture(scope="module")
def three_arm_run():
    return run_trial(design_from_dict(_three_arms()), n_patients=20, seed=11, backend="sync")


# ---------------------------------------------------------------- 1: --out into someone else's folder
# Guards against `trial --out` replacing a folder of the user's own files (it ran and exited 0),
# while `run --out` refuses one: both use io.check_replaceable.
def test_trial_out_refuses_a_folder_that_is_not_a_psilosim_output(monkeypatch, capsys, tmp_path: Path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.nc").write_text("my own results")
    (mine / "report.html").write_text("my own report")
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--out", str(mine),
                           "--json", "--no-report")
    assert code == 2
    assert "not a psilosim output folder" in err and len(err.strip().splitlines()) == 1
    assert (mine / "results.nc").read_text() == "my own results"
    assert (mine / "report.html").read_text() == "my own report"
    assert sorted(p.name for p in mine.iterdir()) == ["report.html", "results.nc"]


def test_trial_out_resumes_an_interrupted_trial_folder(monkeypatch, capsys, tmp_path: Path):
    out = tmp_path / "run"
    args = ("trial", "carhart2021", "--patients", "4", "--out", str(out), "--json", "--no-report",
            "--chunk-size", "2")
    code, first, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0
    # an interrupted run: the manifest and one chunk, no results and no provenance yet
    (out / "provenance.json").unlink()
    (out / "results.nc").unlink()
    kept, lost = sorted((out / "chunks").glob("chunk_*.nc"))
    lost.unlink()
    written = kept.stat().st_mtime_ns
    code, again, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0
    assert json.loads(again)["arms"] == json.loads(first)["arms"]
    # the kept chunk was reused, not recomputed and rewritten; only the lost one was simulated again
    assert kept.stat().st_mtime_ns == written
    assert lost.exists()
    # a finished run in the same folder is rerun in place too
    code, _, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0


# ---------------------------------------------------------------- 2: what was calibrated on what
# Guards against a report that shows CL1.escitalopram "pass" as if it were a check, when
# gain_ssri_transcription was fitted to exactly that number.
def test_calibration_targets_come_from_the_calibration_module():
    assert FITTED_TARGETS == {"weight_circuit": "CL4", "gain_ssri_transcription": "CL1.escitalopram"}
    # the Params say the same: each is kind="fitted" and its note names its target
    params = {"weight_circuit": DEFAULT_SYMPTOMS.weight_circuit,
              "gain_ssri_transcription": plasticity_params("human").gain_ssri_transcription}
    for name, target in FITTED_TARGETS.items():
        assert params[name].kind == "fitted" and params[name].note.startswith(target)


def _section(html: str, heading: str) -> str:
    start = html.index(f"<h2>{heading}")
    end = html.find("<h2>", start + 4)
    return html[start:end if end > 0 else None]


def test_report_lists_each_fitted_parameter_and_what_it_was_fitted_to(carhart_html):
    section = _section(carhart_html, "Calibration")
    for name, value in (("weight_circuit", DEFAULT_SYMPTOMS.weight_circuit.value),
                        ("gain_ssri_transcription", plasticity_params("human").gain_ssri_transcription.value)):
        row = next(r for r in section.split("<tr>") if f".{name}</code>" in r)
        assert f"{value:g}" in row and FITTED_TARGETS[name] in row
    assert "Kishimoto" in section  # the Param's own note, not a hand-written line
    # a fitted PK parameter of a compound the design gives is listed too (from the run's parameter sets)
    assert "central_volume" in section and "effect_site_rate" in section


def test_scorecard_marks_the_rows_used_for_fitting(carhart_html):
    rows = {re.search(r"<td>([^<]+)</td>", r).group(1): r for r in _section(carhart_html, "Scorecard").split("<tr>")
            if r.startswith("<td>")}
    assert "fit, not an independent check" in rows["CL1.escitalopram"]
    assert "fit, not an independent check" not in rows["CL1.psilocybin"]
    assert "fit, not an independent check" not in rows["CL1.difference"]


# ---------------------------------------------------------------- 3: methods
# Guards against a report (and docs) that do not say which intervals and tests were computed,
# or that the data are complete and may differ in estimand from the published MMRM numbers.
METHOD_WORDS = ("t-interval", "Welch", "two-sided p", "Wilson", "Pearson", "Fisher-z", "no dropout",
                "unadjusted", "MMRM", "estimand")


def test_report_has_a_methods_paragraph(carhart_html):
    section = _section(carhart_html, "Methods")
    for word in METHOD_WORDS:
        assert word in section, word


def test_docs_state_the_methods():
    text = (DOCS / "clinical.md").read_text()
    stats_section = text[text.index("## Statistics"):text.index("## Running trials")]
    for word in METHOD_WORDS:
        assert word in stats_section, word


def _console_text(renderables) -> str:
    console = Console(width=250, record=True)
    for item in renderables:
        console.print(item)
    return console.export_text()


def test_cli_table_shows_the_response_ci_and_names_welch(carhart_run):
    from psilosim.cli.trial import _difference_lines, _table

    summary = summarize(carhart_run)
    table = _console_text([_table(summary)])
    for arm in summary["arms"].values():
        low, high = (100 * v for v in arm["response_ci"])
        assert f"{100 * arm['response_rate']:.0f}%" in table and f"({low:.0f}–{high:.0f})" in table  # CI below the rate
    lines = _difference_lines(summary)
    assert lines and all("Welch" in line for line in lines)


# ---------------------------------------------------------------- 4: every arm against the reference
# Guards against a 3-arm trial whose mid − placebo comparison exists nowhere in the output.
def test_every_arm_is_compared_with_the_reference(three_arm_run):
    summary = summarize(three_arm_run)
    assert set(summary["differences"]) == {"high - placebo", "mid - placebo"}
    assert summary["differences"]["high - placebo"] == summary["difference"]
    mid = summary["differences"]["mid - placebo"]
    a, b = change_from_baseline(three_arm_run, "mid", 21.0), change_from_baseline(three_arm_run, "placebo", 21.0)
    assert mid["arm"] == "mid" and mid["reference"] == "placebo"
    assert mid["estimate"] == pytest.approx(a.mean() - b.mean())
    assert mid["p"] == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
    assert summary["multiplicity_adjustment"] == "none"


def test_default_reference_is_the_placebo_arm():
    # without a comparison the only placebo arm is the reference (U4.4); `difference` stays first − second
    ds = run_trial(design_from_dict(_three_arms(comparison=None)), n_patients=10, seed=3, backend="sync")
    summary = summarize(ds)
    assert set(summary["differences"]) == {"high - placebo", "mid - placebo"}
    assert summary["difference"]["reference"] == "mid"


def test_report_and_table_show_every_comparison_and_say_no_adjustment(three_arm_run):
    from psilosim.cli.trial import _difference_lines

    html = render_trial_report(three_arm_run)
    assert "mid − placebo" in html and "high − placebo" in html
    assert "no adjustment for multiplicity" in html
    lines = _difference_lines(summarize(three_arm_run))
    assert len(lines) == 3 and any("mid − placebo" in line for line in lines)  # two comparisons + the note
    assert "no adjustment for multiplicity" in lines[-1]


def test_docs_name_the_default_reference_and_the_differences_key():
    from psilosim.clinical.stats import reference_arm

    text = " ".join((DOCS / "clinical.md").read_text().split())
    assert '"differences"' in text
    documented = re.search(r"with the reference arm \(the (\w+) of `comparison`; without one, the design's only "
                           r"placebo arm.*?else, with no placebo arm or several, the design's (\w+) arm", text)
    assert documented, "docs/clinical.md no longer says which arm is the reference"
    ordinal = {"first": 0, "second": 1, "third": 2}
    of_comparison, of_design = (ordinal[word] for word in documented.groups())
    arms = ["high", "mid", "placebo"]
    for comparison in (["high", "placebo"], ["placebo", "mid"], None):
        ds = xr.Dataset(attrs={"design": json.dumps(_three_arms(comparison)), "arms": json.dumps(arms)})
        expected = comparison[of_comparison] if comparison else "placebo"  # the design's only placebo arm
        assert of_design == 1
        assert reference_arm(ds) == expected, comparison


# ---------------------------------------------------------------- 5: correlations with CI, n and per arm
def _two_arm_trial(n: int = 40) -> xr.Dataset:
    """Arm b improves 8 points more and gains 0.1 more density; within each arm the two are unrelated."""
    rng = np.random.default_rng(4)
    arm = np.array(["a"] * (n // 2) + ["b"] * (n // 2))
    improvement = rng.normal(0, 2, n) + 8.0 * (arm == "b")
    density = rng.normal(0, 0.02, n) + 0.1 * (arm == "b")
    outcome = np.ones((n, 2, 5))
    outcome[:, 0, 0] = 30.0
    outcome[:, 1, 0] = 30.0 - improvement
    outcome[:, 1, 3] = 1.0 + density
    return xr.Dataset(
        {"outcome": (("patient", "visit", "measure"), outcome)},
        coords={"patient": np.arange(n), "visit": [0, 1], "study_day": ("visit", [0.0, 21.0]),
                "measure": ["score", "latent", "window", "density_rel", "bdnf_rel"], "arm": ("patient", arm)},
        attrs={"scale": "MADRS", "primary_day": 21.0, "arms": json.dumps(["a", "b"])})


# Guards against a pooled r that mixes the arm effect into the within-arm relation without CI, n or
# per-arm values next to it.
def test_correlation_details_give_ci_n_and_per_arm_r():
    ds = _two_arm_trial()
    pooled = correlation_details(ds)["density_change_vs_improvement"]
    assert pooled.r > 0.8 and pooled.n == 40
    assert pooled.ci[0] < pooled.r < pooled.ci[1]
    change = ds["outcome"].sel(measure="density_rel").values
    improvement = 30.0 - ds["outcome"].sel(measure="score").values[:, 1]
    for arm in ("a", "b"):
        within = correlation_details(ds, arm=arm)["density_change_vs_improvement"]
        mask = ds["arm"].values == arm
        expected = sps.pearsonr(change[mask, 1] - change[mask, 0], improvement[mask])[0]
        assert within.n == 20 and within.r == pytest.approx(expected)
        assert abs(within.r) < 0.5  # the within-arm relation is absent


def _fisher_z_ci(r: float, n: int) -> tuple[float, float]:
    half = sps.norm.ppf(0.975) / np.sqrt(n - 3)
    return float(np.tanh(np.arctanh(r) - half)), float(np.tanh(np.arctanh(r) + half))


def test_summary_json_has_correlation_details(carhart_run):
    summary = summarize(carhart_run)
    details = summary["correlation_details"]
    assert set(details) == set(summary["correlations"]) == {"density_change_vs_improvement",
                                                             "bdnf_change_vs_improvement"}
    # recomputed from the run's own numbers: change at the primary day against improvement there
    primary = carhart_run["visit"].values[carhart_run["study_day"].values == carhart_run.attrs["primary_day"]][0]
    score = carhart_run["outcome"].sel(measure="score")
    improvement = (score.isel(visit=0) - score.sel(visit=primary)).values
    arms = carhart_run["arm"].values
    for measure in ("density", "bdnf"):
        key = f"{measure}_change_vs_improvement"
        level = carhart_run["outcome"].sel(measure=f"{measure}_rel")
        change = (level.sel(visit=primary) - level.isel(visit=0)).values
        d = details[key]
        expected = sps.pearsonr(change, improvement)[0]
        assert summary["correlations"][key] == pytest.approx(expected, rel=1e-9)
        assert d["r"] == pytest.approx(expected, rel=1e-9) and d["n"] == 16 and d["reason"] is None
        assert d["ci"] == pytest.approx(_fisher_z_ci(expected, 16), rel=1e-9)
        assert set(d["by_arm"]) == {"psilocybin", "escitalopram"}
        for arm, within in d["by_arm"].items():
            mask = arms == arm
            assert within["n"] == mask.sum()
            if np.ptp(change[mask]) == 0:  # e.g. BDNF under escitalopram alone: no r, and why
                assert within["r"] is None and "does not vary" in within["reason"]
            else:
                assert within["reason"] is None
                assert within["r"] == pytest.approx(sps.pearsonr(change[mask], improvement[mask])[0], rel=1e-9)
        assert sum(v["n"] for v in d["by_arm"].values()) == d["n"]  # each patient in exactly one arm
    json.dumps(details)  # serialisable as it is


def test_report_shows_pooled_and_per_arm_correlations_and_why_they_differ(carhart_html):
    section = _section(carhart_html, "Correlations")
    assert "pooled" in section and "within psilocybin" in section and "within escitalopram" in section
    assert "95% CI" in section and "n =" in section
    assert "difference between the arms" in section
