"""Regimens: doses with units, schedules, patterns, infusions, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.errors import InputError
from psilosim.regimen import Regimen, Route, parse_dose

HOURS_PER_DAY = 24.0


def test_two_doses_three_weeks_apart():
    ev = Regimen.repeated("25 mg", every="3 weeks", count=2).events()
    assert np.allclose(ev.time_h, [0.0, 21 * HOURS_PER_DAY])
    assert np.allclose(ev.amount_mg, 25.0) and ev.route is Route.ORAL


def test_daily_for_six_weeks_gives_42_doses():
    ev = Regimen.daily("10 mg", duration="6 weeks").events()
    assert ev.time_h.size == 42 and np.allclose(np.diff(ev.time_h), HOURS_PER_DAY)


def test_escitalopram_10_then_20_mg_phases_follow_each_other():
    r = Regimen.from_phases([{"dose": "10 mg", "every": "1 day", "duration": "3 weeks"},
                             {"dose": "20 mg", "every": "1 day", "duration": "3 weeks"}])
    ev = r.events()
    assert ev.time_h.size == 42
    assert np.all(ev.amount_mg[:21] == 10.0) and np.all(ev.amount_mg[21:] == 20.0)
    assert ev.time_h[21] == pytest.approx(21 * HOURS_PER_DAY)


def test_every_third_day_microdosing():
    ev = Regimen.from_phases([{"dose": "1 mg", "every": "3 days", "duration": "4 weeks"}]).events()
    days = ev.time_h / HOURS_PER_DAY
    assert np.allclose(np.diff(days), 3.0) and days[-1] < 28


def test_four_days_on_three_off():
    ev = Regimen.on_off("2 mg", on_days=4, off_days=3, duration="2 weeks").events()
    assert list(ev.time_h / HOURS_PER_DAY) == [0, 1, 2, 3, 7, 8, 9, 10]


def test_infusion_duration_and_weight_based_amount():
    ev = Regimen.infusion("0.5 mg/kg", over="40 min").events(weight_kg=80.0)
    assert ev.amount_mg[0] == pytest.approx(40.0)
    assert ev.duration_h[0] == pytest.approx(40 / 60) and ev.route is Route.IV


def test_explicit_phase_start():
    r = Regimen.single("25 mg", at="2 days")
    assert r.events().time_h[0] == pytest.approx(48.0)


@given(count=st.integers(1, 60), every_h=st.floats(0.5, 500.0))
@settings(max_examples=50, deadline=None)
def test_repeated_doses_are_evenly_spaced(count, every_h):
    ev = Regimen.repeated("5 mg", every=f"{every_h} h", count=count).events()
    assert ev.time_h.size == count
    assert np.allclose(np.diff(ev.time_h), every_h)


@pytest.mark.parametrize("phase,field,message", [
    ({"dose": "-5 mg"}, "dose", "greater than zero"),
    ({"dose": "0 mg"}, "dose", "greater than zero"),
    ({"dose": "5 mL"}, "dose", "expected mass"),
    ({"dose": "abc"}, "dose", "not a quantity"),
    ({"dose": "5 mg", "every": "0 h", "count": 2}, "every", "greater than zero"),
    ({"dose": "5 mg", "every": "3 kg", "count": 2}, "every", "expected time"),
    ({"dose": "5 mg", "count": 3}, "every", "needs an interval"),
    ({"dose": "5 mg", "every": "1 day", "count": 3, "duration": "1 week"}, "count", "either count or duration"),
    ({"dose": "5 mg", "evry": "1 day"}, "evry", "unknown field"),
])
def test_bad_phases_name_the_field(phase, field, message):
    with pytest.raises(InputError, match=message) as info:
        Regimen.from_phases([phase])
    assert info.value.field.endswith(field)


def test_per_weight_dose_needs_a_weight():
    with pytest.raises(InputError, match="body weight"):
        Regimen.single("0.3 mg/kg").events()


def test_unknown_route_lists_known_ones():
    with pytest.raises(InputError, match="known: oral, iv"):
        Regimen.single("5 mg", route="rectal")


# ---------------------------------------------------------------- doses per weight and non-finite inputs
# Guards against dimensionless quantities (percent, ppm, plain numbers) being accepted as doses per
# body weight, and against NaN or infinite amounts and intervals getting into a regimen.


@pytest.mark.parametrize("text", ["5 percent", "0.5", "3 ppm", "2 m/km"])
def test_dimensionless_units_are_not_doses_per_weight(text):
    with pytest.raises(InputError) as info:
        parse_dose(text)
    assert info.value.field == "dose"


@pytest.mark.parametrize("text,mg_per_kg", [("0.3 mg/kg", 0.3), ("300 µg/kg", 0.3), ("0.3 g/t", 0.3)])
def test_mass_per_mass_doses_still_parse(text, mg_per_kg):
    assert parse_dose(text).to("mg/kg").magnitude == pytest.approx(mg_per_kg)


@pytest.mark.parametrize("kwargs", [{"dose": "inf mg"}, {"dose": "25 mg", "every": "nan h", "count": 2},
                                    {"dose": "25 mg", "every": "nan day", "count": 2}])
def test_regimens_reject_non_finite_inputs(kwargs):
    with pytest.raises(InputError):
        Regimen.from_phases([kwargs])


# ---------------------------------------------------------------- phases that would coincide
# Guards against a phase following a single-dose phase being silently placed at the same time.


def test_a_phase_after_a_single_dose_phase_needs_a_start():
    with pytest.raises(InputError) as info:
        Regimen.from_phases([{"dose": "10 mg"}, {"dose": "20 mg"}])
    assert info.value.field.endswith("start")


def test_phases_with_their_own_start_or_an_interval_still_follow_each_other():
    r = Regimen.from_phases([{"dose": "10 mg"}, {"dose": "20 mg", "start": "1 day"}])
    assert list(r.events().time_h) == [0.0, 24.0]
    r = Regimen.from_phases([{"dose": "10 mg", "every": "1 day", "count": 1}, {"dose": "20 mg"}])
    assert list(r.events().time_h) == [0.0, 24.0]
