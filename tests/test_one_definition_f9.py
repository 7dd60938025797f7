"""One definition each (audit F9): the acute summary of a run (``psilosim run``, the coarse-step
warning of ``simulate_acute``) and the window's closed level."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import run_cli
from psilosim.binding import ACUTE_RESOLUTION, acute_summary, simulate_acute
from psilosim.errors import CoarseOutputStepWarning, InputError
from psilosim.regimen import Regimen

SCENARIO = ("name: f9\nseed: 11\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
            "population: {size: 3, variability: true}\nsimulation: {duration: 24 h, step: 15 min}\n"
            "outputs: {figures: []}\n")


# Guards against `run`'s summary and the binding's own summary being two functions that drift
# apart (different keys, one the median over subjects, the other the maximum).
def test_run_json_summary_is_the_binding_acute_summary(monkeypatch, capsys, tmp_path):
    from psilosim.scenario import load_scenario, simulate_scenario

    path = tmp_path / "f9.yaml"
    path.write_text(SCENARIO)
    code, out, err = run_cli(monkeypatch, capsys, "run", str(path), "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    summary = json.loads(out)["summary"]
    ds = simulate_scenario(load_scenario(path), check_doses=False)
    mine = acute_summary(ds)
    assert list(mine) == list(summary)
    for key, (value, unit) in mine.items():
        assert summary[key] == [pytest.approx(value, rel=1e-12), unit], key
    # the median over the three subjects, not the largest of them
    peaks = ds.effect.max("time_h").values
    assert np.ptp(peaks) > 0 and mine["peak subjective effect"][0] == pytest.approx(100 * np.median(peaks))
    assert mine["Cmax psilocin"][1] == "ng/mL" and mine["effect duration"][1] == "h"


def test_coarse_step_warning_names_the_run_summary_quantities():
    with pytest.warns(CoarseOutputStepWarning) as record:
        simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=3.0)
    message = str(record[0].message)
    keys = acute_summary(simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=0.25))
    assert "Cmax psilocin 1" in message and "effect duration" in message and "(psilocybin)" not in message
    named = message.split("on the output grid ", 1)[1].split(". The values")[0].split("; ")
    assert all(any(part.startswith(f"{key} ") for key in keys) for part in named), named


def test_acute_summary_of_one_subject_skips_unoccupied_targets():
    ds = simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=0.25)
    summary = acute_summary(ds)
    targets = [k.removeprefix("peak occupancy ") for k in summary if k.startswith("peak occupancy")]
    assert "5-HT2A_surface" in targets and "SERT" not in targets  # psilocin does not bind SERT
    assert summary["peak occupancy 5-HT2A_surface"][0] == pytest.approx(
        100 * float(ds.occupancy.sel(target="5-HT2A_surface").max()))


def test_summary_atol_is_above_the_internal_grids_own_error():
    """``summary_atol``'s justification: the internal grid's own error in an occupancy or effect peak
    (measured: <= 0.001 of the scale, ``max_internal_step``'s note) lies far below it, so the warning
    flags the output step."""
    at = "0.1 h"  # a dose between grid points: the worst case for the sampled peak
    ref = simulate_acute(("psilocybin", Regimen.single("25 mg", at=at)), t_end_h=24.1, dt_h=0.002)
    on_step = simulate_acute(("psilocybin", Regimen.single("25 mg", at=at)), t_end_h=24.1,
                             dt_h=ACUTE_RESOLUTION.max_internal_step.to("h"))
    gap = max(abs(float(on_step.occupancy.max("time_h")[k] - ref.occupancy.max("time_h")[k]))
              for k in range(ref.sizes["target"]))
    gap = max(gap, abs(float(on_step.effect.max() - ref.effect.max())))
    assert gap < ACUTE_RESOLUTION.summary_atol.value / 5
    assert "measured" in ACUTE_RESOLUTION.summary_atol.source


# Guards against window_close_day falling back on a literal 0.5 instead of the species' Param.
def test_window_closed_level_falls_back_on_the_species_param(monkeypatch):
    from psilosim.plasticity import model, plasticity_params, simulate_plasticity, window_close_day
    from psilosim.plasticity.drive import Drive

    drive = Drive.pulse(hours=1.5, HT2A_intracellular=0.7, TrkB=0.35, effect=0.8)  # a psychedelic's
    ds = simulate_plasticity(drive, species="mouse", days=60)
    del ds.attrs["window_closed_level"]
    lower = plasticity_params("mouse").replace(window_closed_level=0.3)
    monkeypatch.setattr(model, "plasticity_params", lambda species: lower)
    assert window_close_day(ds) == pytest.approx(window_close_day(ds, level=0.3))
    assert window_close_day(ds, level=0.3) != pytest.approx(window_close_day(ds, level=0.5))
    del ds.attrs["species"]
    with pytest.raises(InputError):
        window_close_day(ds)

