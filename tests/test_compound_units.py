"""Units of compound-file parameters are checked and converted when a set is validated (user test s4/u6).

Before: a dimensionless parameter written in percent (``bioavailability: {value: 100, unit: "%"}``)
passed the bounds check (100 % is 1) but the model read the raw number, so F was 100 and Cmax 100
times too high; ``omega_clearance: 30 %`` drew log-clearance with an SD of 30. A clearance without a
unit or in litres, a volume in L/h, a rate in hours, a dose in mL loaded silently and crashed later
with a pint DimensionalityError naming no field; an EC50 in nM (the molar unit the compound's
``analyte_molar_mass`` is documented to convert) crashed the simulation.

Now a set declares each field's canonical unit (or its dimension): a parameter in another unit of
the same dimension is converted to it, one of another dimension is an ``InputError`` naming the
parameter's dotted path; a molar EC50 is converted through ``analyte_molar_mass``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from psilosim.binding import simulate_acute
from psilosim.compounds import (
    Compound,
    TargetBinding,
    get_compound,
    known_compounds,
    load_compound_file,
)
from psilosim.errors import InputError
from psilosim.parameters import Param, ParameterSet
from psilosim.pharmacokinetics import subject as subject_module
from psilosim.pharmacokinetics.interactions import INTERACTION_PARAMS
from psilosim.pharmacokinetics.params import PKParameters, RouteParams
from psilosim.pharmacokinetics.subject import BodyWeightLimits, Subject, checked_body_weight
from psilosim.regimen import Regimen, input_error_from
from psilosim.units import Q_

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "psilosim" / "compounds" / "library"
SET = "species.human.sets.eckernas2022"
#: the path of a parameter in the compound file below
PATHS = {"clearance": f"{SET}.clearance", "central_volume": f"{SET}.central_volume",
         "omega_clearance": f"{SET}.omega_clearance", "bioavailability": f"{SET}.routes.iv.bioavailability",
         "ec50": "binding.5-HT2A.ec50"}
#: DMT's molar mass (g/mol, PubChem CID 6089), as in the file below
DMT_MOLAR_MASS = 188.27


def _p(value, unit, **extra):
    return {"value": value, "unit": unit, "kind": "assumed", "source": "test", **extra}


def _dmt() -> dict:
    """A user's DMT file (s4/u6), one compartment, intravenous."""
    return {
        "name": "DMT-units-test", "analyte": "DMT-units-test",
        "analyte_molar_mass": _p(DMT_MOLAR_MASS, "g/mol"),
        "effect_site_rate": _p(12.0, "1/h"),
        "membrane_permeability": _p(1.0, ""), "agonist_efficacy": _p(1.0, ""),
        "hallucinogenic_efficacy": _p(1.0, ""),
        "max_studied_dose": _p(25, "mg"),
        "binding": {"5-HT2A": {"ec50": _p(17.9, "ng/mL"), "occmax": _p(0.766, "")}},
        "species": {"human": {"default": "eckernas2022", "sets": {"eckernas2022": {
            "label": "eckernas2022",
            "clearance": _p(26, "L/min"), "central_volume": _p(375, "L"), "renal_fraction": _p(0.01, ""),
            "omega_clearance": _p(0.30, ""), "omega_volume": _p(0.25, ""), "omega_absorption": _p(0.40, ""),
            "reference_weight": _p(70, "kg"), "clearance_weight_exponent": _p(0, ""),
            "volume_weight_exponent": _p(0, ""),
            "routes": {"iv": {"bioavailability": _p(1.0, "")}},
        }}}},
    }


def _set(data: dict, path: str, **fields) -> dict:
    """``data`` with the parameter at dotted ``path`` updated (``unit=None`` removes the unit)."""
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    for key, value in fields.items():
        if value is None:
            node[last].pop(key, None)
        else:
            node[last][key] = value
    return data


def _compound(data: dict) -> Compound:
    """``Compound.model_validate`` raising the InputError a compound file's loader raises."""
    try:
        return Compound.model_validate(data)
    except ValidationError as exc:
        raise input_error_from(exc) from None


def _write(tmp_path, data, name="dmt.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cmax_and_occupancy(compound: Compound) -> tuple[float, float]:
    ds = simulate_acute([(compound, Regimen.single("20 mg", route="iv"))], t_end_h=1, dt_h="0.5 min")
    return float(ds.concentration.max()), float(ds.occupancy.sel(target="5-HT2A_surface").max())


# ---------------------------------------------------------------- finding 1: percent read as a raw number
def test_bioavailability_in_percent_is_the_fraction_the_model_uses(tmp_path):
    percent = load_compound_file(_write(tmp_path, _set(_dmt(), PATHS["bioavailability"], value=100, unit="%")))
    fraction = _compound(_dmt())
    pk = percent.pk()
    assert pk.route("iv").bioavailability.value == pytest.approx(1.0)
    assert percent.fraction_available("iv", pk) == pytest.approx(1.0)
    cmax_percent, _ = _cmax_and_occupancy(percent)
    cmax_fraction, _ = _cmax_and_occupancy(fraction)
    # a 20 mg IV bolus into 375 L: C0 = 53.3 ng/mL (not 100 times that)
    assert cmax_fraction == pytest.approx(20e6 / 375e3, rel=0.01)
    assert cmax_percent == pytest.approx(cmax_fraction, rel=1e-12)


def test_half_bioavailability_in_percent_halves_the_exposure(tmp_path):
    half = _compound(_set(_dmt(), PATHS["bioavailability"], value=50, unit="percent"))
    full = _compound(_dmt())
    assert _cmax_and_occupancy(half)[0] == pytest.approx(0.5 * _cmax_and_occupancy(full)[0], rel=1e-9)


def test_omega_in_percent_is_the_sd_of_log_clearance(tmp_path):
    percent = load_compound_file(_write(tmp_path, _set(_dmt(), PATHS["omega_clearance"], value=30, unit="%")))
    fraction = _compound(_dmt())
    assert percent.pk().omega_clearance.value == pytest.approx(0.30)
    etas = [Subject().with_random_effects([c], seed=11).eta(c.name)["clearance"] for c in (percent, fraction)]
    assert etas[0] == pytest.approx(etas[1], rel=1e-12)
    assert abs(etas[0]) < 5 * 0.30  # an SD of 30 would put it far out


def test_every_library_parameter_is_already_in_its_canonical_unit():
    """Loading converts nothing in the library: its numbers are the files' own."""
    for file in sorted(LIBRARY.glob("*.yaml")):
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        compound = get_compound(raw["name"])
        for dotted, p in compound.params().items():
            assert "given as" not in p.note, f"{compound.name}.{dotted} was converted"
        for name in ("analyte_molar_mass", "effect_site_rate", "max_studied_dose"):
            if raw.get(name) is not None:
                p = getattr(compound, name)
                assert (p.value, p.unit) == (raw[name]["value"], raw[name]["unit"]), (compound.name, name)


# ---------------------------------------------------------------- finding 2: a wrong or missing unit
WRONG_UNITS = [
    (PATHS["clearance"], None, "volume per time"),
    (PATHS["clearance"], "L", "volume per time"),
    (PATHS["central_volume"], "L/h", "volume"),
    ("effect_site_rate", "h", "rate"),
    ("max_studied_dose", "mL", "mass"),
    ("analyte_molar_mass", "kg", "molar mass"),
    (PATHS["ec50"], "L", "concentration"),
    (PATHS["bioavailability"], "mg", "dimensionless"),
    (PATHS["omega_clearance"], "h", "dimensionless"),
]


@pytest.mark.parametrize(("path", "unit", "dimension"), WRONG_UNITS)
def test_a_wrong_or_missing_unit_is_refused_at_load_naming_the_parameter(tmp_path, path, unit, dimension):
    file = _write(tmp_path, _set(_dmt(), path, unit=unit))
    with pytest.raises(InputError) as info:
        load_compound_file(file)
    assert info.value.field == f"dmt.yaml.{path}"
    assert dimension in info.value.problem
    assert (repr(unit) if unit else "no unit") in info.value.problem


def test_the_refusal_reads_as_the_brief_asks(tmp_path):
    file = _write(tmp_path, _set(_dmt(), PATHS["clearance"], unit="L"))
    with pytest.raises(InputError) as info:
        load_compound_file(file)
    assert info.value.problem == "'L' is not a volume per time (e.g. L/h)"


def test_a_wrong_unit_is_refused_by_replace_and_by_a_set_built_in_code():
    pk = get_compound("psilocybin").pk()
    with pytest.raises(InputError) as info:
        pk.replace(central_volume=Param(value=300, unit="L/h", kind="assumed", source="x"))
    assert info.value.field == "central_volume"
    # a constructor raises pydantic's ValidationError (a ValueError), as every set does
    with pytest.raises(ValueError, match="absorption_rate: 'h' is not a rate"):
        RouteParams(bioavailability=Param(value=1, unit="", kind="assumed", source="x"),
                    absorption_rate=Param(value=2, unit="h", kind="assumed", source="x"))
    with pytest.raises(InputError) as info:
        INTERACTION_PARAMS.replace(downregulation_time=Param(value=7, unit="mg", kind="assumed", source="x"))
    assert info.value.field == "downregulation_time"


def test_a_mouse_per_kg_dose_and_a_microgram_dose_are_still_accepted():
    assert _compound(_set(_dmt(), "max_studied_dose", value=0.3, unit="mg/kg")).max_studied_dose.unit \
        == "mg/kg"
    assert _compound(_set(_dmt(), "max_studied_dose", value=200, unit="ug")).max_studied_dose.unit == "ug"
    with pytest.raises(InputError) as info:
        _compound(_set(_dmt(), "max_studied_dose", value=5, unit="%"))
    assert info.value.field == "max_studied_dose"


# ---------------------------------------------------------------- other units of the same dimension
SAME_DIMENSION = [
    (PATHS["clearance"], 26 * 60, "L/h"),
    (PATHS["clearance"], 26e3, "mL/min"),
    (PATHS["central_volume"], 375e3, "mL"),
    ("effect_site_rate", 0.2, "1/min"),
    (PATHS["ec50"], 0.0179, "mg/L"),
    (PATHS["ec50"], 17.9, "ug/L"),
]


@pytest.mark.parametrize(("path", "value", "unit"), SAME_DIMENSION)
def test_the_same_quantity_in_another_unit_gives_the_same_result(path, value, unit):
    given = _compound(_set(_dmt(), path, value=value, unit=unit))
    reference = _compound(_dmt())
    assert _cmax_and_occupancy(given) == pytest.approx(_cmax_and_occupancy(reference), rel=1e-9)
    assert given.pk().elimination_half_life_h() == pytest.approx(reference.pk().elimination_half_life_h(), rel=1e-12)


def test_a_converted_parameter_is_in_the_canonical_unit_and_says_what_was_given():
    c = _compound(_dmt())
    clearance = c.pk().clearance
    assert (clearance.value, clearance.unit) == (pytest.approx(26 * 60), "L/h")
    assert "26 L/min" in clearance.note
    assert c.pk().central_volume.note == ""  # given in its canonical unit: untouched


@settings(max_examples=40, deadline=None)
@given(value=st.floats(1e-3, 1e4), unit=st.sampled_from(["L/h", "L/min", "mL/min", "m**3/day", "mL/s"]))
def test_conversion_keeps_the_quantity(value, unit):
    c = _compound(_set(_dmt(), PATHS["clearance"], value=value, unit=unit))
    converted = c.pk().clearance
    assert converted.unit == "L/h"
    assert math.isclose(converted.value, Q_(value, unit).to("L/h").magnitude, rel_tol=1e-12)


@settings(max_examples=30, deadline=None)
@given(percent=st.floats(0.0, 100.0))
def test_a_fraction_in_percent_is_a_hundredth(percent):
    c = _compound(_set(_dmt(), "membrane_permeability", value=percent, unit="%"))
    assert c.membrane_permeability.unit == ""
    assert c.membrane_permeability.value == pytest.approx(percent / 100.0, abs=1e-15)


def test_a_percent_above_100_is_still_outside_the_physical_bounds():
    with pytest.raises(InputError) as info:
        _compound(_set(_dmt(), PATHS["bioavailability"], value=150, unit="%"))
    assert info.value.field.endswith("bioavailability")


def test_a_parameter_set_declares_canonical_units_generally():
    class Toy(ParameterSet):
        canonical_units = {"rate": "1/h", "share": ""}
        rate: Param
        share: Param

    toy = Toy(rate=Param(value=1, unit="1/min", kind="assumed", source="x"),
              share=Param(value=25, unit="%", kind="assumed", source="x"))
    assert (toy.rate.value, toy.rate.unit, toy.share.value, toy.share.unit) == (pytest.approx(60), "1/h", 0.25, "")
    changed = toy.replace(share=Param(value=50, unit="%", kind="assumed", source="x"))
    assert changed.share.value == pytest.approx(0.5)
    with pytest.raises(InputError) as info:
        toy.replace(rate=Param(value=1, unit="mg", kind="assumed", source="x"))
    assert info.value.field == "rate"


# ---------------------------------------------------------------- finding 3: a molar EC50
def test_a_molar_ec50_is_converted_through_the_analyte_molar_mass(tmp_path):
    molar = load_compound_file(_write(tmp_path, _set(_dmt(), PATHS["ec50"], value=95, unit="nM")))
    ec50 = molar.binding["5-HT2A"].ec50
    # 95 nmol/L x 188.27 g/mol = 17 886 ng/L = 17.886 ng/mL
    assert ec50.unit == "ng/mL"
    assert ec50.value == pytest.approx(95e-9 * DMT_MOLAR_MASS * 1e9 / 1e3, rel=1e-12)
    assert "95 nM" in ec50.note and "analyte_molar_mass" in ec50.note
    same = _compound(_set(_dmt(), PATHS["ec50"], value=ec50.value, unit="ng/mL"))
    assert _cmax_and_occupancy(molar) == pytest.approx(_cmax_and_occupancy(same), rel=1e-12)


def test_a_micromolar_ec50_scales_with_the_molar_mass():
    one = _compound(_set(_dmt(), PATHS["ec50"], value=0.1, unit="uM"))
    heavier = _compound(_set(_set(_dmt(), PATHS["ec50"], value=0.1, unit="uM"),
                                           "analyte_molar_mass", value=2 * DMT_MOLAR_MASS))
    assert heavier.binding["5-HT2A"].ec50.value == pytest.approx(2 * one.binding["5-HT2A"].ec50.value)


def test_a_molar_ec50_outside_a_compound_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="ec50: a molar concentration needs the analyte's molar mass"):
        TargetBinding(ec50=Param(value=95, unit="nM", kind="assumed", source="x"),
                      occmax=Param(value=0.7, unit="", kind="assumed", source="x"))


def test_derive_accepts_a_molar_ec50():
    psi = get_compound("psilocybin")
    derived = psi.derive("psilocin-like-units-test",
                         binding={"5-HT2A": {"ec50": _p(10, "nM")}})
    expected = 10e-9 * psi.analyte_molar_mass.to("g/mol") * 1e6  # ng/mL
    assert derived.binding["5-HT2A"].ec50.to("ng/mL") == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- a .value read paired with another Param's unit
def test_body_weight_limits_in_different_units_are_reported_in_one_unit(monkeypatch):
    limits = BodyWeightLimits(lightest=Param(value=10, unit="g", kind="assumed", source="x"),
                              heaviest=Param(value=0.08, unit="kg", kind="assumed", source="x"))
    monkeypatch.setitem(subject_module.SUBJECT_WEIGHT_LIMITS, "mouse", limits)
    with pytest.raises(InputError) as info:
        checked_body_weight(0.5, "weight", species="mouse")
    assert "10–80 g" in info.value.problem
    with pytest.raises(ValueError, match="lightest: 'L' is not a mass"):
        BodyWeightLimits(lightest=Param(value=10, unit="L", kind="assumed", source="x"),
                         heaviest=Param(value=80, unit="g", kind="assumed", source="x"))


def test_library_pk_sets_load_unchanged():
    """Every library value still loads, with the numbers of its file."""
    for name in known_compounds():
        for species, spk in get_compound(name).species.items():
            for set_name, pk in spk.sets.items():
                assert isinstance(pk, PKParameters)
                assert pk.clearance.unit == "L/h" and pk.central_volume.unit == "L", (name, species, set_name)
    assert np.isfinite(get_compound("psilocybin").pk().elimination_half_life_h())


def test_acute_effect_and_resolution_parameters_are_converted_too():
    from psilosim.binding.params import ACUTE_RESOLUTION, EFFECT_PARAMS

    threshold = EFFECT_PARAMS.replace(duration_threshold=Param(value=10, unit="%", kind="assumed", source="x"))
    assert threshold.duration_threshold.value == pytest.approx(EFFECT_PARAMS.duration_threshold.value)
    step = ACUTE_RESOLUTION.replace(max_internal_step=Param(value=15, unit="min", kind="assumed", source="x"))
    assert (step.max_internal_step.value, step.max_internal_step.unit) == (pytest.approx(0.25), "h")
    with pytest.raises(InputError) as info:
        ACUTE_RESOLUTION.replace(summary_rtol=Param(value=5, unit="h", kind="assumed", source="x"))
    assert info.value.field == "summary_rtol"


# ParameterSet.replace keeps an undeclared parameter in the unit the model reads it in.
def test_replace_converts_a_param_in_another_unit_of_an_undeclared_field():
    from psilosim.network.dmf import DMF
    from psilosim.parameters import Param

    name = next(n for n, p in DMF if isinstance(p, Param) and p.unit == "ms")
    old = getattr(DMF, name)
    given = Param(value=old.value / 1000.0, unit="s", source="test", kind="assumed")
    new = getattr(DMF.replace(**{name: given}), name)
    assert new.unit == "ms"
    assert new.value == pytest.approx(old.value)


def test_replace_refuses_a_param_of_another_dimension_for_an_undeclared_field():
    from psilosim.network.dmf import DMF
    from psilosim.parameters import Param

    name = next(n for n, p in DMF if isinstance(p, Param) and p.unit == "ms")
    with pytest.raises(InputError) as err:
        DMF.replace(**{name: Param(value=1.0, unit="mg", source="test", kind="assumed")})
    assert err.value.field == name
    assert "time" in err.value.problem


def test_a_fraction_given_as_a_mass_ratio_is_refused():
    # "100 mg/kg" is dimensionless to pint, but a dose per body mass is not a fraction (1e-4)
    with pytest.raises(ValueError, match="bioavailability: 'mg/kg' is not a dimensionless number"):
        RouteParams(bioavailability=Param(value=100, unit="mg/kg", kind="assumed", source="x"),
                    absorption_rate=Param(value=2, unit="1/h", kind="assumed", source="x"))
    route = RouteParams(bioavailability=Param(value=50, unit="%", kind="assumed", source="x"),
                        absorption_rate=Param(value=2, unit="1/h", kind="assumed", source="x"))
    assert route.bioavailability.value == pytest.approx(0.5)


def test_a_fraction_given_as_a_mass_ratio_string_is_refused_too():
    from psilosim.binding import EFFECT_PARAMS

    with pytest.raises(InputError) as err:
        EFFECT_PARAMS.replace(emax="100 mg/kg")
    assert err.value.field == "emax"
    assert EFFECT_PARAMS.replace(emax="50 %").emax.value == pytest.approx(0.5)
