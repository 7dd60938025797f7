"""Findings of a user test of ``psilosim spines`` / ``psilosim window`` and the trial outputs:
mg-for-mg/kg doses in mouse, natural recovery credited to the drug, the TrkB-affinity caveat for
low doses, the window open at the primary day, truncated arm names and figure labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from matplotlib.path import Path as MplPath
from rich.console import Console

from cli_helpers import cli_json, cli_text, run_cli
from psilosim.compounds import get_compound
from psilosim.errors import InputError
from psilosim.pharmacokinetics import dose_guard
from psilosim.species import EXPERIMENTAL_DOSES, species_defaults

MOUSE_KG = species_defaults("mouse").body_weight.to("kg")
HUMAN_KG = species_defaults("human").body_weight.to("kg")


# ---------------------------------------------------------------- 1. mg vs mg/kg in mouse
# Guards against "--dose '25 mg'" in the default mouse (1000 mg/kg) being simulated without a word.
@pytest.mark.parametrize("command", ["window", "spines"])
def test_a_human_sized_dose_in_the_default_mouse_is_refused_as_a_unit_slip(monkeypatch, capsys, command):
    code, _, err = run_cli(monkeypatch, capsys, command, "--compound", "psilocybin", "--dose", "25 mg",
                           "--days" if command == "spines" else "--json", *(["2"] if command == "spines" else []))
    assert code == 2 and err.startswith("error: --dose:"), err
    assert "1000 mg/kg" in err and "mouse" in err and "1 mg/kg" in err


def test_a_mouse_dose_above_the_studied_one_is_simulated_with_a_warning(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "window", "--compound", "psilocybin", "--dose", "3 mg/kg", "--json")
    assert code == 0 and "extrapolating" in err and "mouse" in err
    assert json.loads(out)["dose_per_kg_mg"] == pytest.approx(3.0)


def test_the_animal_maximum_is_compared_per_kg_of_the_animal():
    psilocybin = get_compound("psilocybin")
    studied_mg = 1.0 * MOUSE_KG  # Shao 2021's 1 mg/kg in the typical mouse
    assert dose_guard.check_studied_dose(psilocybin, [studied_mg], MOUSE_KG, species="mouse") is None
    assert "extrapolating" in dose_guard.check_studied_dose(psilocybin, [2 * studied_mg], MOUSE_KG, species="mouse")
    with pytest.raises(InputError) as info:
        dose_guard.check_studied_dose(psilocybin, [25.0], None, species="mouse", field="--dose")
    assert info.value.field == "--dose" and "mouse" in info.value.problem
    # the human maximum (30 mg) still applies to human doses only
    assert dose_guard.check_studied_dose(psilocybin, [25.0], HUMAN_KG, species="human") is None


def test_each_animal_maximum_is_sourced_and_per_kg():
    for (species, compound), param in dose_guard.ANIMAL_MAX_STUDIED_DOSES.items():
        assert species != "human" and param.source and param.kind
        assert param.unit == "mg/kg", (species, compound)
        assert dose_guard.studied_maximum(get_compound(compound), species=species) is param
        # no published experimental dose of the model lies above its studied maximum
        published = EXPERIMENTAL_DOSES[(species, compound)]
        assert float(published.dose.split()[0]) <= param.value
        # and the studied dose itself is not "above" it (per-kg rounding through the body weight)
        at_maximum_mg = param.value * MOUSE_KG
        assert dose_guard.check_studied_dose(get_compound(compound), [at_maximum_mg], MOUSE_KG, species=species) is None
    assert dose_guard.ANIMAL_MAX_STUDIED_DOSES[("mouse", "psilocybin")].value == 1.0  # Shao et al. 2021
    assert dose_guard.DOSE_GUARD_PARAMS.refusal_factor.value > 1


@pytest.mark.parametrize("command", ["window", "spines"])
def test_outputs_name_species_route_and_per_kg_dose(command):
    extra = ["--days", "2"] if command == "spines" else []
    mouse = cli_json(command, "--compound", "psilocybin", "--dose", "0.5 mg/kg", *extra)
    assert mouse["species"] == "mouse" and mouse["route"] == "ip"
    assert mouse["dose_per_kg_mg"] == pytest.approx(0.5)
    human = cli_json(command, "--species", "human", "--compound", "psilocybin", "--dose", "25 mg", *extra)
    assert human["dose_per_kg_mg"] == pytest.approx(25.0 / HUMAN_KG)
    text = cli_text(command, "--compound", "psilocybin", "--dose", "0.5 mg/kg", *extra)
    assert "in mouse" in text and " ip" in text and "0.5 mg/kg" in text and "0.025 kg" in text


# ---------------------------------------------------------------- 2. untreated same-stress change
# Guards against the stressed table crediting the untreated recovery from stress to the drug.
def test_spines_after_stress_reports_the_untreated_recovery_and_the_difference():
    out = cli_json("spines", "--species", "human", "--compound", "psilocybin", "--dose", "25 mg",
                "--stress", "chronic", "--days", "34")
    drug, untreated = out["density_change_pct"], out["untreated_density_change_pct"]
    difference = out["drug_minus_untreated_pct"]
    assert set(untreated) == set(drug) == set(difference)
    assert untreated["34"] > untreated["1"] > 0  # stressed subjects recover on their own
    for day in drug:
        assert difference[day] == pytest.approx(drug[day] - untreated[day])
    text = cli_text("spines", "--species", "human", "--compound", "psilocybin", "--dose", "25 mg",
                 "--stress", "chronic", "--days", "34")
    assert "untreated" in text and "drug − untreated" in text


def test_without_stress_the_untreated_change_is_zero():
    out = cli_json("spines", "--compound", "psilocybin", "--days", "7")
    assert all(abs(v) < 1e-6 for v in out["untreated_density_change_pct"].values())
    assert out["drug_minus_untreated_pct"] == pytest.approx(out["density_change_pct"])


# ---------------------------------------------------------------- 3. TrkB caveat, window at day
CAVEAT = "sub-psychedelic doses raise spines mostly through the assumed TrkB affinity"


@pytest.mark.parametrize("command", ["window", "spines"])
def test_low_psychedelic_doses_carry_the_trkb_caveat(command):
    extra = ["--days", "2"] if command == "spines" else []
    low = cli_text(command, "--species", "human", "--compound", "psilocybin", "--dose", "6 mg", *extra)
    assert CAVEAT in low and "docs/plasticity.md#" in low
    caveat = cli_json(command, "--species", "human", "--compound", "psilocybin", "--dose", "6 mg", *extra)["caveat"]
    assert caveat.startswith(CAVEAT)  # the JSON value is the caveat itself, not a printed "caveat: ..." line
    assert cli_json(command, "--species", "human", "--compound", "psilocybin", "--dose", "25 mg", *extra)["caveat"] is None
    full = cli_text(command, "--species", "human", "--compound", "psilocybin", "--dose", "25 mg", *extra)
    assert CAVEAT not in full
    assert CAVEAT not in cli_text(command, "--species", "human", "--compound", "escitalopram", *extra)


def _trial_ds(window: np.ndarray, arms: list[str]) -> xr.Dataset:
    """A run of len(arms) patients, the window course given per patient over days 0..n-1."""
    n, days = window.shape
    quantities = ["severity", "window"]
    course = np.stack([np.full_like(window, 20.0), window], axis=-1)
    outcome = np.zeros((n, 2, 2))
    outcome[:, :, 1] = window[:, [0, 3]]  # the window at the visits (days 0 and 3), as a run records it
    return xr.Dataset(
        {"course": (("patient", "day", "quantity"), course),
         "outcome": (("patient", "visit", "measure"), outcome)},
        coords={"patient": np.arange(n), "day": np.arange(float(days)), "quantity": quantities,
                "visit": [0, 1], "study_day": ("visit", [0.0, 3.0]), "measure": ["score", "window"],
                "arm": ("patient", arms)},
        attrs={"arms": json.dumps(sorted(set(arms))), "primary_day": 3.0})


# Guards against the arm summary giving only the mean days open (not how many were open at the day).
def test_biology_summary_counts_patients_with_the_window_open_at_the_primary_day():
    from psilosim.clinical.stats import biology_summary
    from psilosim.report.trial import biology_cells

    window = np.array([[0, 1, 1, 1, 0, 0], [0, 1, 1, 0.2, 0, 0], [0, 1, 1, 0.9, 0.9, 0]], dtype=float)
    bio = biology_summary(_trial_ds(window, ["a", "a", "a"]), "a")
    assert bio["window_open_at_day_n"] == 2 and bio["window_open_at_day_fraction"] == pytest.approx(2 / 3)
    assert "window_open_at_day_n" in bio["units"]
    assert biology_cells(bio)["window_open_at_day"] == "2/3"


def _arm_trips(design, **trips) -> dict:
    """A trial summary giving only each arm's mean trip peak (what the report reads)."""
    return {"arms": {arm.name: {"biology": {"acute_effect_peak": trips[arm.name]}} for arm in design.arms}}


# Guards against the report deciding "sub-psychedelic" by the dose (10 mg < 25 mg) while
# ``psilosim window`` decides it by the peak effect: one rule, the arm's mean trip peak.
@pytest.mark.parametrize("side", [-1, 1])
def test_trial_report_biology_caveat_follows_the_arm_trip_peak_at_the_threshold(side):
    from psilosim.binding import EFFECT_PARAMS, is_sub_psychedelic
    from psilosim.clinical.presets import get_preset
    from psilosim.report.trial import biology_notes

    goodwin = get_preset("goodwin2022")  # 25 mg, 10 mg and 1 mg psilocybin arms
    threshold = EFFECT_PARAMS.duration_threshold.value
    peak = threshold + side * 1e-6
    assert is_sub_psychedelic(peak) == (side < 0)
    notes = biology_notes(goodwin, _arm_trips(goodwin, **{"25mg": 0.68, "10mg": peak, "1mg": 0.01}))
    assert len(notes) == 1 and CAVEAT in notes[0]
    assert ("10mg" in notes[0]) == (side < 0) and "Arm" in notes[0] and "1mg" in notes[0]


@pytest.fixture(scope="module")
def ten_mg_run():
    """goodwin2022's 10 mg psilocybin arm alone, 4 patients."""
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import run_trial

    goodwin = get_preset("goodwin2022")
    design = goodwin.model_copy(update={"arms": [a for a in goodwin.arms if a.name == "10mg"], "comparison": None})
    return run_trial(design, n_patients=4, seed=1, backend="sync")


def test_trial_report_and_window_agree_on_a_10_mg_psilocybin_arm(ten_mg_run):
    """The arm's 10 mg patients trip (mean peak above the threshold), as ``window`` says of 10 mg."""
    from psilosim.report.trial import render_trial_report

    assert cli_json("window", "--species", "human", "--compound", "psilocybin", "--dose", "10 mg")["caveat"] is None
    assert CAVEAT not in render_trial_report(ten_mg_run)


# ---------------------------------------------------------------- 4. cosmetics
# Guards against rich cutting arm names ("four_on_three_o…") in the trial table.
def test_trial_table_never_truncates_arm_names():
    from psilosim.cli.trial import _table

    name = "four_on_three_off_microdosing_schedule"
    arm = {"n": 10, "baseline_mean": 20.0, "change_mean": -5.0, "change_ci": [-6.0, -4.0],
           "response_rate": 0.3, "remission_rate": 0.2, "biology": {}}
    summary = {"trial": "t", "scale": "QIDS-SR-16", "primary_day": 42.0, "arms": {name: arm, "placebo": arm}}
    console = Console(width=100, record=True)
    console.print(_table(summary))
    text = console.export_text()
    assert "…" not in text and name in text


# Guards against the "+12.4 %" label of the spine figure lying on the curve it labels.
def test_spine_figure_labels_do_not_overlap_the_curves():
    from psilosim.regimen import Regimen
    from psilosim.synapses import simulate_slow_chain
    from psilosim.synapses.figures import plot_slow_chain

    ds = simulate_slow_chain([("psilocybin", Regimen.single("25 mg", route="oral"))], species="human", days=34)
    fig = plot_slow_chain(ds, report_days=[1.0, 7.0, 34.0])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().endswith("%")]
    assert len(labels) == 3
    for label in labels:
        box = label.get_window_extent(renderer)
        for line in ax.get_lines():
            xy = line.get_xydata()
            if len(xy) < 2:
                continue
            path = MplPath(line.get_transform().transform(xy))
            assert not path.intersects_bbox(box, filled=False), (label.get_text(), line.get_label())


# Guards against a 6 mg-like arm (most patients below the threshold, a few tripping) escaping the
# caveat because a few high peaks pull the arm's mean above the threshold.
def test_the_trial_caveat_judges_the_median_patient_not_the_mean():
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.stats import biology_summary
    from psilosim.report.trial import biology_notes

    peaks = np.array([0.05, 0.05, 0.06, 0.5, 0.6])  # mean 0.25 (trips), median 0.06 (does not)
    window = np.zeros((5, 6))
    ds = _trial_ds(window, ["10mg"] * 5).assign(acute_effect_peak=("patient", peaks))
    bio = biology_summary(ds, "10mg")
    assert bio["acute_effect_peak"] == pytest.approx(peaks.mean())
    assert bio["acute_effect_peak_median"] == pytest.approx(np.median(peaks)) and "acute_effect_peak_median" in bio["units"]
    goodwin = get_preset("goodwin2022")
    summary = {"arms": {"25mg": {"biology": {"acute_effect_peak": 0.68, "acute_effect_peak_median": 0.7}},
                        "10mg": {"biology": bio}, "1mg": {"biology": {"acute_effect_peak_median": 0.01}}}}
    notes = biology_notes(goodwin, summary)
    assert len(notes) == 1 and "10mg" in notes[0] and "25mg" not in notes[0]
