"""One dose-to-maximum ratio for the single-weight check and the check over a weight range.

:func:`~psilosim.pharmacokinetics.dose_guard.check_dose_over_weights` reports the weight whose dose is
highest relative to the studied maximum, and :func:`check_studied_dose` judges each weight by that
same ratio. If the two computed it apart, a trial could name one weight and judge another.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import psilosim.pharmacokinetics.dose_guard as dose_guard
from psilosim.compounds import get_compound
from psilosim.errors import InputError
from psilosim.regimen import Regimen

#: Library compounds with a per-kg studied maximum (ketamine) and a fixed one (psilocybin).
COMPOUNDS = ("ketamine", "psilocybin")


def _ratio_from_first_principles(compound, regimen, weight_kg: float) -> float:
    """Largest administration over the studied maximum, written out here from the definition."""
    largest_mg = float(np.max(regimen.events(weight_kg=weight_kg).amount_mg))
    reference = compound.max_studied_dose
    if reference.unit.replace(" ", "") == "mg/kg":
        return largest_mg / weight_kg / reference.value
    assert reference.unit == "mg"
    return largest_mg / reference.value


def _outcome(call):
    """A check's message (or ``None``), or the problem of the InputError it raised."""
    try:
        return ("warning", call())
    except InputError as exc:
        return ("refused", exc.problem)


@given(compound=st.sampled_from(COMPOUNDS), fixed_mg=st.floats(0.1, 4000.0), per_kg=st.floats(0.001, 60.0),
       light=st.floats(30.0, 90.0), heavy=st.floats(90.0, 250.0))
def test_the_range_check_judges_the_weight_with_the_highest_ratio(compound, fixed_mg, per_kg, light, heavy):
    """A regimen mixing a fixed-mg and a per-kg phase: which phase is largest depends on the weight."""
    comp = get_compound(compound)
    regimen = Regimen.build(route="oral", phases=[{"dose": f"{fixed_mg} mg", "every": "1 day", "count": 1},
                                                  {"dose": f"{per_kg} mg/kg", "every": "1 day", "count": 1}])
    weights = (light, heavy)
    worst = max(weights, key=lambda w: _ratio_from_first_principles(comp, regimen, w))
    kind, single = _outcome(lambda: dose_guard.check_studied_dose(
        comp, regimen.events(weight_kg=worst).amount_mg, worst, field="dose"))
    kind_range, over_range = _outcome(lambda: dose_guard.check_dose_over_weights(comp, regimen, weights,
                                                                                 field="dose"))
    assert kind_range == kind
    if single is None:
        assert over_range is None
    else:  # the worst weight's own message, with the weight named when it matters
        assert over_range is not None and over_range.startswith(single)


@pytest.mark.parametrize("compound", COMPOUNDS)
def test_the_ranking_ratio_is_the_judged_ratio(compound):
    comp = get_compound(compound)
    regimen = Regimen.single("0.4 mg/kg")
    for weight in (40.0, 70.0, 150.0):
        assert dose_guard._ratio_of(comp, regimen, weight) == pytest.approx(
            _ratio_from_first_principles(comp, regimen, weight))


def test_animal_maxima_are_the_species_experimental_doses():
    """One source: every animal experimental dose is that species' studied maximum, same amount and kind."""
    from psilosim.pharmacokinetics import dose_guard
    from psilosim.species import EXPERIMENTAL_DOSES
    from psilosim.units import ureg

    animal = {key: dose for key, dose in EXPERIMENTAL_DOSES.items() if key[0] not in dose_guard.GUARDED_SPECIES}
    assert set(dose_guard.ANIMAL_MAX_STUDIED_DOSES) == set(animal)
    for key, dose in animal.items():
        maximum = dose_guard.ANIMAL_MAX_STUDIED_DOSES[key]
        assert maximum.to("mg/kg") == pytest.approx(ureg.Quantity(dose.dose).to("mg/kg").magnitude)
        assert (maximum.kind, maximum.source) == (dose.kind, dose.source)
