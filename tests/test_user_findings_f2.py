"""User-test findings (s3/F2): window counted from the dose that opened it, InputError for bad
API fields, species-aware body-weight limits, per-kg doses without a weight, bare-array layout,
and small ``pk`` CLI items."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cli_helpers import run_cli
from psilosim.errors import InputError
from psilosim.pharmacokinetics import Subject
from psilosim.plasticity import window_close_day, window_days
from psilosim.regimen import Regimen
from psilosim.synapses import simulate_slow_chain


def _psilocybin_at(at: str, days: float = 45):
    return simulate_slow_chain([("psilocybin", Regimen.single("25 mg", at=at))], species="human", days=days)


# -- 1. window_days ---------------------------------------------------------------------------


def test_window_days_counts_from_the_dose_not_from_day_zero():
    at_zero, at_ten = _psilocybin_at("0 h"), _psilocybin_at("10 d")
    # the same dose, ten days later: the window lasts as long, and closes ten days later
    assert window_days(at_ten) == pytest.approx(window_days(at_zero), abs=0.3)
    assert window_close_day(at_ten) == pytest.approx(window_close_day(at_zero) + 10.0, abs=0.3)


def test_window_days_of_a_dose_at_day_zero_is_its_closing_day():
    ds = _psilocybin_at("0 h")
    assert window_days(ds) == window_close_day(ds)


def test_window_after_an_ssri_course_counts_from_the_psilocybin_dose():
    ds = simulate_slow_chain([("escitalopram", Regimen.daily("10 mg", duration="6 weeks")),
                              ("psilocybin", Regimen.single("25 mg", at="42 d"))], species="human", days=70)
    # the SSRI alone does not open it: it opens after the psilocybin dose on day 42
    assert window_days(ds) == pytest.approx(window_close_day(ds) - 42.0, abs=1e-9)
    assert window_days(ds) < 30


def test_window_close_day_refuses_levels_outside_zero_one():
    with pytest.raises(InputError) as err:
        window_close_day(_psilocybin_at("0 h", days=5), level=2.0)
    assert err.value.field == "level"


# -- 2. InputError instead of pydantic's ValidationError ---------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"weight": "70"}, "weight"),
    ({"comedication": ("sertraline",)}, "comedication"),
    ({"ht2a_density": -1.0}, "ht2a_density"),
    ({"wieght": "70 kg"}, "wieght"),
])
def test_subject_fields_raise_input_error(kwargs, field):
    with pytest.raises(InputError) as err:
        Subject(**kwargs)
    assert field in err.value.field
    assert isinstance(err.value, ValueError)  # existing `except ValueError` callers still work


def test_derive_raises_input_error_on_the_field():
    from psilosim.compounds import get_compound

    with pytest.raises(InputError) as err:
        get_compound("psilocybin").derive("x", hallucinogenic_efficacy=50)
    assert "hallucinogenic_efficacy" in err.value.field


# -- 3. body weight ------------------------------------------------------------------------------


@pytest.mark.parametrize(("species", "weight"), [("human", "70 g"), ("human", "700 kg"), ("human", 5),
                                                   ("mouse", "25 kg"), ("mouse", "1 g")])
def test_subject_refuses_a_weight_implausible_for_its_species(species, weight):
    with pytest.raises(InputError) as err:
        Subject(species=species, weight=weight)
    assert err.value.field == "weight"


@pytest.mark.parametrize(("species", "weight", "kg"), [("human", 70, 70.0), ("human", "154 lb", 69.85),
                                                       ("mouse", "30 g", 0.030), ("Mouse", None, 0.025)])
def test_subject_accepts_plausible_weights(species, weight, kg):
    assert Subject(species=species, weight=weight).weight_kg == pytest.approx(kg, rel=1e-3)


def test_cli_limits_are_the_library_limits():
    from psilosim.cli.pharmacology import BODY_WEIGHT_LIMITS
    from psilosim.pharmacokinetics.subject import SUBJECT_WEIGHT_LIMITS

    assert BODY_WEIGHT_LIMITS is SUBJECT_WEIGHT_LIMITS["human"]


def test_slow_chain_refuses_a_human_per_kg_dose_without_weight_like_simulate_acute():
    from psilosim.binding import simulate_acute

    ketamine = [("ketamine", Regimen.infusion("0.5 mg/kg", over="40 min"))]
    with pytest.raises(InputError) as acute:
        simulate_acute(ketamine, t_end_h=2)
    with pytest.raises(InputError) as chain:
        simulate_slow_chain(ketamine, species="human", days=5)
    assert chain.value.field == acute.value.field
    with_weight = simulate_slow_chain(ketamine, species="human", days=5, subject={"weight": "70 kg"})
    assert with_weight["window"].max() > 0


# -- 4. metrics bare array layout ----------------------------------------------------------------


def test_bare_time_by_region_array_error_suggests_transposing():
    from psilosim.metrics._inputs import as_timeseries

    regions = pd.DataFrame({"network": ["Default"] * 80}, index=[f"r{i}" for i in range(80)])
    rng = np.random.default_rng(0)
    with pytest.raises(InputError) as err:
        as_timeseries(rng.normal(size=(200, 80)), regions, tr_s=2.0)
    assert "transpose" in err.value.problem and "bold.T" in err.value.problem


def test_api_doc_says_regions_by_time():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    assert "(a labelled `DataArray` or a time × region array)" not in text
    assert "bare regions × time array" in text


# -- 5. pk CLI -----------------------------------------------------------------------------------


def _pk(monkeypatch, capsys, *args):
    return run_cli(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", *args)


def test_pk_table_names_the_surface_pool_as_the_library_does(monkeypatch, capsys):
    code, out, _ = _pk(monkeypatch, capsys)
    assert code == 0 and "5-HT2A_surface" in out


def test_pk_hours_accepts_a_time_with_unit(monkeypatch, capsys):
    code, out, err = _pk(monkeypatch, capsys, "--hours", "2 d", "--json")
    assert code == 0, err
    assert json.loads(out)["series"]["time_h"][-1] == pytest.approx(48.0)


def test_pk_hours_refuses_a_non_time_in_one_line(monkeypatch, capsys):
    code, out, err = _pk(monkeypatch, capsys, "--hours", "2 mg")
    assert code == 2 and "--hours" in err and len(err.strip().splitlines()) == 1


def test_pk_says_when_the_peak_was_not_reached(monkeypatch, capsys):
    code, out, err = _pk(monkeypatch, capsys, "--hours", "0.5", "--json")
    assert code == 0, err
    assert "not reached" in json.loads(out)["tmax_note"]
    code, out, err = _pk(monkeypatch, capsys, "--hours", "24", "--json")
    assert json.loads(out)["tmax_note"] is None
