"""How a regimen reads in reports: an inert comparator (placebo) shows no fake dose."""

from __future__ import annotations

from psilosim.regimen import Regimen, describe_treatment


def test_placebo_shows_its_schedule_without_the_dummy_dose():
    regimen = Regimen.build(route="oral", phases=[{"dose": "1 mg", "every": "1 d", "duration": "3 weeks"}])
    text = describe_treatment("placebo", regimen)
    assert text.startswith("placebo (no active drug)") and "mg" not in text and "every 1 d" in text


def test_an_active_compound_keeps_its_dose():
    assert describe_treatment("psilocybin", Regimen.single("25 mg")) == "psilocybin — oral: 25 mg"


def test_an_active_placebo_keeps_its_real_dose():
    assert "100 mg" in describe_treatment("niacin", Regimen.single("100 mg"))
