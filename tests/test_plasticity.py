"""BDNF/TrkB signalling and the plasticity window, on synthetic receptor drives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.errors import InputError
from psilosim.plasticity import (
    MECHANISMS,
    Drive,
    combine,
    engagement_hours,
    plasticity_params,
    resolve_mechanisms,
    simulate_plasticity,
    window_days,
)


def psychedelic(hours: float, level: float = 0.7) -> Drive:
    return Drive.pulse(hours=hours, HT2A_intracellular=level, TrkB=0.5 * level, effect=0.8)


def test_no_drug_is_baseline():
    ds = simulate_plasticity(Drive.none(), days=20)
    assert np.allclose(ds["bdnf_rel"], 1.0)
    assert np.allclose(ds["window"], 0.0)


def test_window_opens_after_a_dose_and_closes_within_weeks():
    ds = simulate_plasticity(psychedelic(1.5), days=60)
    w = ds["window"]
    assert w.sel(time_d=1, method="nearest") > 0.9
    assert w.isel(time_d=-1) < 0.05
    assert 3 < window_days(ds) < 40


def test_window_grows_with_engagement_duration_not_a_compound_constant():
    """Same parameters, only the engagement duration differs (Nardou 2023, SP7)."""
    lengths = [1.0, 2.0, 4.0, 11.0, 36.0]  # ketamine-, psilocybin-, LSD-, ibogaine-like engagements
    windows = [window_days(simulate_plasticity(psychedelic(h), days=120)) for h in lengths]
    assert windows[0] > 0 and np.all(np.diff(windows) > 0)
    # Nardou's windows grow about in proportion to the acute effect up to ~10 h (ketamine 2 d,
    # LSD 3 wk) and far less beyond (ibogaine 4 wk): an 18-fold longer engagement from 2 h to 36 h
    # gives a much less than 18-fold longer window
    assert windows[-1] / windows[1] < 0.5 * lengths[-1] / lengths[1]


def test_engagement_hours_measure_the_time_above_threshold():
    ds = simulate_plasticity(psychedelic(3.0), days=5)
    assert engagement_hours(ds) == pytest.approx(3.0, abs=0.3)


def test_effect_below_threshold_does_not_open_the_window():
    weak = Drive.pulse(hours=3, HT2A_intracellular=0.1, effect=0.02)
    assert window_days(simulate_plasticity(weak, days=30)) == 0.0


def test_each_route_can_be_switched_off_and_result_depends_on_it():
    drive = Drive.pulse(hours=2, HT2A_intracellular=0.6, TrkB=0.6, effect=0.8)
    peak = {}
    for name in ("intracellular_5ht2a", "trkb_direct"):
        ds = simulate_plasticity(drive, days=5, mechanisms={name: False})
        peak[name] = float(ds["bdnf_rel"].max())
    both = float(simulate_plasticity(drive, days=5)["bdnf_rel"].max())
    none = float(simulate_plasticity(drive, days=5, mechanisms=[])["bdnf_rel"].max())
    assert none == pytest.approx(1.0)
    assert peak["intracellular_5ht2a"] < both and peak["trkb_direct"] < both
    assert peak["intracellular_5ht2a"] > 1.0 and peak["trkb_direct"] > 1.0


def test_surface_only_5ht2a_drive_does_not_reach_bdnf():
    """RB7: serotonin (SSRI) acts only on surface receptors, which do not feed this route."""
    ds = simulate_plasticity(Drive.pulse(hours=5, HT2A_surface=0.9), days=5)
    assert np.allclose(ds["bdnf_rel"], 1.0)


def test_ssri_raises_bdnf_slowly_over_weeks():
    days = np.arange(0, 42 * 24 + 1, 1.0)
    sert = np.full(days.shape, 0.8)
    ds = simulate_plasticity(Drive(time_h=days, occupancy={"SERT": sert}), days=42)
    b = ds["bdnf_rel"]
    day1, day7, day28 = (float(b.sel(time_d=d, method="nearest")) - 1 for d in (1, 7, 28))
    assert 0 < day1 < 0.2 * day28
    assert day7 < day28
    acute = simulate_plasticity(Drive(time_h=days, occupancy={"SERT": sert}), days=42,
                                mechanisms={"ssri_transcription": False})
    assert np.allclose(acute["bdnf_rel"], 1.0)


def test_nmda_block_opens_a_short_window():
    ket = Drive.pulse(hours=1.0, NMDA=0.95)
    psi = psychedelic(3.0)
    assert 0 < window_days(simulate_plasticity(ket, days=40)) < window_days(simulate_plasticity(psi, days=40))


def test_unknown_mechanism_and_species_are_input_errors():
    with pytest.raises(InputError, match="mechanisms"):
        resolve_mechanisms(["telepathy"])
    with pytest.raises(InputError, match="species"):
        plasticity_params("zebrafish")
    assert set(resolve_mechanisms(None)) == set(MECHANISMS)


def test_bad_drive_is_rejected():
    with pytest.raises(InputError, match="time_h"):
        Drive(time_h=np.array([0.0, 0.0, 1.0]))
    with pytest.raises(InputError, match="fractions"):
        Drive(time_h=np.array([0.0, 1.0]), occupancy={"TrkB": np.array([0.0, 1.5])})
    with pytest.raises(InputError, match="days"):
        simulate_plasticity(Drive.none(), days=-1)


def test_combined_drives_cap_occupancy_at_one():
    a = Drive.pulse(hours=2, TrkB=0.8)
    b = Drive.pulse(hours=2, TrkB=0.8)
    assert np.all(combine([a, b]).target("TrkB") <= 1.0)
    assert combine([a, b]).target("TrkB").max() == pytest.approx(0.96)


def test_parameters_are_cited_and_fitted_ones_name_their_target():
    for name, p in plasticity_params("mouse").params().items():
        assert p.source, name
        if p.kind == "fitted":
            assert "SP7" in p.note, name


@settings(max_examples=30, deadline=None)
@given(hours=st.floats(0.1, 30.0), level=st.floats(0.0, 1.0), effect=st.floats(0.0, 1.0),
       nmda=st.floats(0.0, 1.0))
def test_states_stay_in_bounds(hours, level, effect, nmda):
    drive = Drive.pulse(hours=hours, HT2A_intracellular=level, TrkB=level, NMDA=nmda, effect=effect)
    ds = simulate_plasticity(drive, days=30)
    assert np.all(ds["bdnf_rel"].values >= 1.0 - 1e-12)
    assert np.all((ds["window"].values >= 0) & (ds["window"].values <= 1))
    assert np.all(ds["window_memory_h"].values >= 0)


# ---------------------------------------------------------------- a late drive
# Guards against a ramp of drive invented on the time grid before a late drive starts: shifting a
# drive in time must only shift its response.


def _integral(ds, name):
    return float(np.trapezoid(ds[name].values, ds["time_d"].values))


def test_a_drive_shifted_in_time_gives_the_same_response_shifted():
    pulse = Drive.pulse(hours=2, TrkB=0.5, effect=0.8)
    base = simulate_plasticity(pulse, days=30)
    late = simulate_plasticity(pulse.shifted(240.0), days=40)
    assert _integral(late, "trkb_signal") == pytest.approx(_integral(base, "trkb_signal"), rel=1e-3)
    assert _integral(late, "engagement") == pytest.approx(_integral(base, "engagement"), rel=1e-3)
    before = late["time_d"].values < 10.0 - 1e-3
    assert np.all(late["trkb_signal"].values[before] == 0.0)
    assert float(late["window"].interp(time_d=15.0)) == pytest.approx(float(base["window"].interp(time_d=5.0)),
                                                                       rel=1e-3)


def test_a_drive_that_stops_abruptly_adds_no_ramp_after_it():
    """A drive is zero outside its span: one that ends on a non-zero value must not ramp down over
    the next coarse grid step (which would add ≈ 3 h of engagement to a 2-h drive)."""
    from psilosim.plasticity import plasticity_params
    from psilosim.plasticity.model import engagement

    t = np.linspace(0.0, 2.0, 9)
    box = Drive(time_h=t, effect=np.full(t.size, 0.9))
    own = float(np.trapezoid(engagement(box, plasticity_params("mouse")), t))
    assert engagement_hours(simulate_plasticity(box, days=3)) == pytest.approx(own, rel=1e-3)


@settings(max_examples=15, deadline=None)
@given(steps=st.integers(min_value=2, max_value=2400))
def test_shifting_a_drive_only_shifts_its_signal(steps):
    # whole 15-min drive steps: a shift by a fraction of a step moves the box pulse's edges between
    # samples, a discretisation change of the drive itself (≈ 4 % at 0.9 h), not of the grid
    shift_h = 0.25 * steps
    pulse = Drive.pulse(hours=3, HT2A_intracellular=0.6, effect=0.7, tail_h=6.0)
    base = simulate_plasticity(pulse, days=3)
    late = simulate_plasticity(pulse.shifted(shift_h), days=3 + shift_h / 24.0)
    assert _integral(late, "trkb_signal") == pytest.approx(_integral(base, "trkb_signal"), rel=2e-3)
    assert engagement_hours(late) == pytest.approx(engagement_hours(base), rel=2e-3)


# ---------------------------------------------------------------- audit fixes (grid, resampling, docs, checks)
@pytest.mark.parametrize("grid", [
    [0.0, 2.0, 1.0, 5.0],            # not increasing
    [0.0, 1.0, 1.0, 5.0],            # repeated node
    [5.0, 6.0],                      # starts after the dose (would skip it) and ends early
    [0.0, 1.0, 4.0],                 # ends before `days`
    [0.0, np.nan, 5.0],              # not finite
    [[0.0, 5.0]],                    # not 1-D
])
def test_a_bad_grid_is_an_input_error(grid):
    with pytest.raises(InputError) as info:
        simulate_plasticity(psychedelic(1.5), days=5.0, grid=grid)
    assert info.value.field == "grid"


def test_a_good_grid_is_used_as_given():
    grid = np.linspace(-1.0, 5.0, 601)
    ds = simulate_plasticity(psychedelic(1.5), days=5.0, grid=grid)
    assert np.array_equal(ds["time_d"].values, grid)
    assert 0.0 <= float(ds["window"].max()) <= 1.0


@pytest.mark.parametrize("dt_h", [0.1, 0.05, 0.02])
def test_a_drive_finer_than_the_grid_keeps_its_engagement_integral(dt_h):
    # the rectangle ends between grid nodes; dropping samples would lose or gain part of it
    drive = Drive.pulse(hours=1.55, dt_h=dt_h, effect=0.8, tail_h=6.0)
    p = plasticity_params("mouse")
    from psilosim.plasticity.model import engagement

    exact_h = float(np.trapezoid(engagement(drive, p), drive.time_h))
    ds = simulate_plasticity(drive, days=3.0)
    assert engagement_hours(ds) == pytest.approx(exact_h, rel=1e-6)


def smooth_effect(dt_h: float) -> Drive:
    t = np.arange(0.0, 24.0 + dt_h / 2, dt_h)
    return Drive(time_h=t, effect=0.8 * np.exp(-(((t - 3.0) / 1.5) ** 2)))


def test_window_does_not_depend_on_how_finely_a_drive_is_sampled():
    windows = [window_days(simulate_plasticity(smooth_effect(dt), days=40)) for dt in (0.1, 0.05, 0.02)]
    assert max(windows) - min(windows) < 2e-5 * min(windows)  # dropping samples: ≈ 1e-4


def test_docs_parameter_tables_are_the_generated_ones():
    import re
    from pathlib import Path

    from psilosim.species import SPECIES
    from psilosim.synapses import spine_params

    doc = Path(__file__).resolve().parents[1] / "docs" / "plasticity.md"
    assert doc.is_file(), f"{doc} is missing (the docs are part of the repository)"
    text = doc.read_text(encoding="utf-8")
    expected = {
        "parameters-plasticity-mouse": plasticity_params("mouse").markdown_table(),
        "parameters-spines-mouse": spine_params("mouse").markdown_table(),
        "parameters-species-mouse": SPECIES["mouse"].markdown_table(),
        "parameters-species-human": SPECIES["human"].markdown_table(),
    }
    for name, table in expected.items():
        block = re.search(rf"<!-- BEGIN generated: {name} -->\n(.*?)\n<!-- END generated: {name} -->", text, re.S)
        assert block is not None, name
        assert block.group(1).strip() == table.strip(), name


def test_spine_fit_reads_its_target_from_the_registry(monkeypatch):
    from psilosim.synapses.calibrate import sp1_target_fraction
    from psilosim.validation.targets import TARGETS_BY_ID

    assert sp1_target_fraction() == pytest.approx(0.10)
    moved = TARGETS_BY_ID["SP1"].model_copy(update={"low": 10.0, "high": 30.0})
    monkeypatch.setitem(TARGETS_BY_ID, "SP1", moved)
    assert sp1_target_fraction() == pytest.approx(0.20)


def _with_fitted_note(note: str):
    base = plasticity_params("mouse")
    changed = base.window_decay.model_copy(update={"note": note})
    return lambda species: base.model_copy(update={"window_decay": changed})


@pytest.mark.parametrize("note", [
    "fitted to SP8 (human BDNF after psilocybin 20 mg)",  # fitted to a BDNF measurement
    "fitted by eye",                                      # names no registered target
])
def test_sp8_check_fails_for_a_parameter_fitted_to_bdnf_or_to_nothing_named(monkeypatch, note):
    import psilosim.plasticity as plasticity
    from psilosim.validation.checks_synapses import sp8_not_calibrated_to_plasma_bdnf

    assert sp8_not_calibrated_to_plasma_bdnf()[0]
    monkeypatch.setattr(plasticity, "plasticity_params", _with_fitted_note(note))
    ok, detail = sp8_not_calibrated_to_plasma_bdnf()
    assert not ok and "window_decay" in detail


def test_ketamine_window_conflict_is_what_the_docs_say():
    """SP7.ketamine is a known conflict: fitted on the four REFERENCES windows the threshold sits below
    the human ketamine infusion's engagement (the window opens), fitted with ketamine too it sits above
    it (the window never opens in human) — docs/plasticity.md#ketamine-window."""
    from psilosim.species import experimental_dose
    from psilosim.synapses import calibrate
    from psilosim.synapses.chain import acute_drive, experimental_regimen

    drives = calibrate.mouse_drives()
    four = calibrate.fit_window(drives=drives)
    five = calibrate.fit_window(drives=drives, targets=calibrate.ALL_WINDOW_TARGETS)
    stored = plasticity_params("mouse")
    assert four["window_decay_d"] == pytest.approx(stored.window_decay.value, rel=2e-3)
    assert four["window_threshold_h"] == pytest.approx(stored.window_threshold.value, rel=2e-3)
    dose = experimental_dose("human", "ketamine")
    human = simulate_plasticity(acute_drive([("ketamine", experimental_regimen(dose))], species="human", days=20),
                                species="human", days=20)
    engaged_h = float(human["engagement"].integrate("time_d")) * 24.0
    assert four["window_threshold_h"] < engaged_h < five["window_threshold_h"]


def test_a_target_a_note_calls_checked_not_fitted_is_not_read_as_a_fit_target():
    from psilosim.synapses.calibrate import WINDOW_TARGETS
    from psilosim.validation.checks_synapses import fitted_parameter_targets, fitting_clauses

    note = "fitted to SP1 (Shao 2021). SP7.ketamine (48 h) is checked, not fitted: see the docs"
    assert "SP7.ketamine" not in fitting_clauses(note) and "SP1" in fitting_clauses(note)
    targets = fitted_parameter_targets()
    # both window constants were fitted to exactly the calibration's targets (ketamine is only checked)
    for name in ("window_decay", "window_threshold"):
        assert targets[f"plasticity.mouse.{name}"] == list(WINDOW_TARGETS.values())
