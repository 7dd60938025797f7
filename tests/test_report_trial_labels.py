"""What the HTML trial report says: the enrolled baseline, readable arms and labels with units."""

from __future__ import annotations

import html as html_lib
import re
from importlib import resources

import numpy as np
import pytest

from psilosim.clinical.design import load_design
from psilosim.clinical.presets import get_preset
from psilosim.clinical.stats import MIN_CORRELATION_PAIRS, correlation_details, summarize
from psilosim.clinical.trial import run_trial
from psilosim.report.trial import render_trial_report

ANALOGUE = resources.files("psilosim") / "scenarios" / "trials" / "whatif_non_hallucinogenic_analogue.yaml"


def _text(page: str) -> str:
    """The report's visible text, one space between words."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def carhart():
    ds = run_trial(get_preset("carhart2021"), n_patients=24, seed=5)
    return ds, render_trial_report(ds)


@pytest.fixture(scope="module")
def analogue():
    ds = run_trial(load_design(str(ANALOGUE)), n_patients=8, seed=3)
    return ds, render_trial_report(ds)


# Guards against the report calling the population mean before the inclusion cut-off the
# "enrolled" baseline (15.45 for carhart2021 while its arms enrolled at ≈ 16–17).
def test_enrolled_baseline_is_the_mean_over_enrolled_patients(carhart):
    ds, page = carhart
    text = _text(page)
    enrolled = float(ds["outcome"].sel(measure="score").isel(visit=0).mean())
    design = get_preset("carhart2021")
    assert f"enrolled baseline (rated, all {ds.sizes['patient']} patients) mean {enrolled:.1f}" in text
    assert f"baseline distribution before inclusion mean {design.baseline.mean:g}" in text
    assert "baseline (enrolled) mean" not in text


# Guards against two arms of the analogue what-if looking identical in the design table: the
# custom compound was a raw Python repr and the per-arm mechanism switches were not shown.
def test_custom_compounds_and_mechanism_switches_are_readable(analogue):
    _, page = analogue
    text = _text(page)
    assert "overrides=" not in text and "based_on=" not in text
    assert "analogue (based on psilocybin; hallucinogenic_efficacy = 0.02)" in text
    rows: dict[str, str] = {}  # the first row of each arm: the design table's
    for m in re.finditer(r"<tr><td>(\w+)</td>.*?</tr>", page, flags=re.S):
        rows.setdefault(m.group(1), _text(m.group(0)))
    assert "intracellular_5ht2a off" in rows["analogue_routes_off"] and "trkb_direct off" in rows["analogue_routes_off"]
    assert "all on" in rows["analogue"] and " off" not in rows["analogue"]


# Guards against raw keys and mixed formats: published keys printed as "change primary se",
# correlation keys as "density_change_vs_improvement", a published response of 0.7 next to a
# simulated 46 %, and a "—" with no reason.
def test_published_and_correlation_labels_are_readable_with_units(carhart):
    ds, page = carhart
    text = _text(page)
    assert "change primary se" not in text and "_change_vs_improvement" not in text
    assert "standard error of the change at day 42 (QIDS-SR-16 points)" in text
    assert "spine density change" in text and "QIDS-SR-16 points" in text
    assert "response rate (≥ 50 % reduction) psilocybin: 70%; escitalopram: 48%" in text
    simulated = summarize(ds)["arms"]["psilocybin"]["response_rate"]
    assert f"{100 * simulated:.0f}%" in text


def test_a_correlation_that_cannot_be_computed_says_why(analogue):
    ds, page = analogue
    bdnf = ds["outcome"].sel(measure="bdnf_rel")
    change = (bdnf.isel(visit=-1) - bdnf.isel(visit=0)).values
    assert summarize(ds)["correlations"]["bdnf_change_vs_improvement"] is None
    assert np.ptp(change) == 0  # the reason the report must give
    assert "not computed: the change does not vary between patients" in _text(page)


# Guards against the report re-deriving, apart from the statistics, why a correlation is missing:
# the reasons it prints are the library's, for too few patients with a value and for a constant input.
def test_the_report_prints_the_librarys_reason_for_a_missing_correlation(analogue):
    ds, _ = analogue
    few = ds.copy(deep=True)
    primary = int(np.flatnonzero(few["study_day"].values == few.attrs["primary_day"])[0])
    density = few["outcome"].loc[{"measure": "density_rel"}]
    density[MIN_CORRELATION_PAIRS - 1:, primary] = np.nan  # only 3 patients keep a density change
    few["outcome"].loc[{"measure": "density_rel"}] = density
    details = correlation_details(few)
    too_few = details["density_change_vs_improvement"].reason
    constant = details["bdnf_change_vs_improvement"].reason
    assert too_few == f"fewer than {MIN_CORRELATION_PAIRS} patients have a value ({MIN_CORRELATION_PAIRS - 1})"
    assert constant.startswith("the change does not vary between patients (all ")
    text = _text(render_trial_report(few))
    assert f"not computed: {too_few}" in text
    assert f"not computed: {constant}" in text
