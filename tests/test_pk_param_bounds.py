"""Physically necessary bounds of the PK, route and interaction parameters (user test s3/u2).

A fraction outside [0, 1], a negative lag or random-effect SD, a non-positive clearance, volume
or rate has no physical meaning; before these bounds, ``fraction_metabolised_by_mao=3`` with an
MAOI gave a negative clearance and a Cmax of 1e8 ng/mL, and ``lag_time=-1`` put psilocin in the
plasma an hour before the dose. Each is now an ``InputError`` naming the parameter, both through
``replace`` and when a compound file is loaded.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.compounds import get_compound, known_compounds, load_compound_file
from psilosim.errors import InputError
from psilosim.pharmacokinetics.interactions import INTERACTION_PARAMS
from psilosim.pharmacokinetics.params import PKParameters, RouteParams

LIBRARY = Path(__file__).resolve().parents[1] / "src" / "psilosim" / "compounds" / "library"


def _psilocybin_pk() -> PKParameters:
    psi = get_compound("psilocybin")
    return psi.pk("human")


# (parameter, a value without physical meaning)
BAD_PK = [
    ("clearance", -1.0), ("clearance", 0.0),
    ("central_volume", -301.9), ("central_volume", 0.0),
    ("renal_fraction", 1.5), ("renal_fraction", -0.1),
    ("fraction_metabolised_by_mao", 3.0), ("fraction_metabolised_by_mao", -0.5),
    ("omega_clearance", -0.3), ("omega_volume", -0.01), ("omega_absorption", -1.0),
    ("reference_weight", 0.0), ("reference_weight", -70.0),
]
BAD_ROUTE = [
    ("lag_time", -1.0), ("absorption_rate", 0.0), ("absorption_rate", -1.06),
    ("bioavailability", 1.5), ("bioavailability", 0.0), ("bioavailability", -0.2),
]
BAD_INTERACTION = [
    ("mao_inhibition_fraction", 1.2), ("mao_inhibition_fraction", -0.1),
    ("downregulation_max", 1.5), ("downregulation_max", -0.2),
    ("downregulation_time", 0.0), ("downregulation_time", -7.0),
    ("chronic_ssri_sert_occupancy", 1.1), ("chronic_ssri_sert_occupancy", -0.8),
    ("serotonin_ratio_at_full_sert_block", -0.5),
]


@pytest.mark.parametrize(("name", "value"), BAD_PK)
def test_pk_replace_refuses_a_value_without_physical_meaning(name, value):
    with pytest.raises(InputError) as info:
        _psilocybin_pk().replace(**{name: value})
    assert info.value.field == name


@pytest.mark.parametrize(("name", "value"), BAD_ROUTE)
def test_route_replace_refuses_a_value_without_physical_meaning(name, value):
    with pytest.raises(InputError) as info:
        _psilocybin_pk().route("oral").replace(**{name: value})
    assert info.value.field == name


@pytest.mark.parametrize(("name", "value"), BAD_INTERACTION)
def test_interaction_replace_refuses_a_value_without_physical_meaning(name, value):
    with pytest.raises(InputError) as info:
        INTERACTION_PARAMS.replace(**{name: value})
    assert info.value.field == name


def test_a_negative_volume_in_other_units_is_refused_after_conversion():
    with pytest.raises(InputError) as info:
        _psilocybin_pk().replace(central_volume="-302 mL")
    assert info.value.field == "central_volume"


def test_boundary_values_with_a_meaning_are_accepted():
    pk = _psilocybin_pk()
    # no lag, no MAO share, no renal share, no variability: all physically possible
    assert pk.route("oral").replace(lag_time=0.0).lag_time.value == 0.0
    assert pk.replace(fraction_metabolised_by_mao=1.0, renal_fraction=0.0,
                      omega_clearance=0.0).fraction_metabolised_by_mao.value == 1.0
    assert pk.route("oral").replace(bioavailability=1.0).bioavailability.value == 1.0
    assert INTERACTION_PARAMS.replace(mao_inhibition_fraction=1.0, downregulation_max=1.0).downregulation_max.value == 1.0


def test_a_full_param_without_bounds_is_given_them_on_validation():
    """A Param object passed whole (no low/high of its own) still meets the physical bounds."""
    pk = _psilocybin_pk()
    bare = pk.renal_fraction.model_copy(update={"value": 1.5, "low": None, "high": None})
    with pytest.raises(InputError) as info:
        pk.replace(renal_fraction=bare)
    assert info.value.field == "renal_fraction"


def _library_yaml(name: str) -> dict:
    return yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "value"), [("renal_fraction", 1.5), ("omega_clearance", -0.3),
                                             ("fraction_metabolised_by_mao", 3.0), ("clearance", -116.2)])
def test_loading_a_compound_file_refuses_an_out_of_bounds_pk_value(tmp_path, name, value):
    data = _library_yaml("psilocybin")
    data["species"]["human"]["sets"]["holze2023"][name]["value"] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_compound_file(path)
    assert info.value.field.endswith(name), info.value.field


def test_loading_a_compound_file_refuses_a_negative_lag(tmp_path):
    data = _library_yaml("psilocybin")
    data["species"]["human"]["sets"]["holze2023"]["routes"]["oral"]["lag_time"]["value"] = -1.0
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_compound_file(path)
    assert info.value.field.endswith("lag_time"), info.value.field


def _pk_params_of_every_shipped_set():
    for name in known_compounds():
        compound = get_compound(name)
        for species, spk in compound.species.items():
            for set_name, pk in spk.sets.items():
                yield f"{name}:{species}:{set_name}", pk


def test_every_shipped_pk_set_loads_with_every_bounded_value_inside_its_bounds():
    checked = 0
    for label, pk in _pk_params_of_every_shipped_set():
        for pname, p in pk.params().items():
            assert math.isfinite(p.value), (label, pname)
            assert p.low is None or p.value >= p.low, (label, pname, p)
            assert p.high is None or p.value <= p.high, (label, pname, p)
        # the bounds are declared, not only checked: replace() refuses through them
        assert pk.renal_fraction.low == 0.0 and pk.renal_fraction.high == 1.0, label
        assert pk.clearance.low == 0.0 and pk.omega_clearance.low == 0.0, label
        for route in pk.routes.values():
            assert route.bioavailability.high == 1.0, label
            assert route.lag_time is None or route.lag_time.low == 0.0, label
        checked += 1
    assert checked >= len(known_compounds())  # every compound has at least one set


def test_maoi_with_the_largest_possible_mao_share_keeps_clearance_non_negative():
    """The reporter's case at the edge the bounds now allow: fm_MAO = 1 under an MAOI."""
    from psilosim.binding import simulate_acute
    from psilosim.pharmacokinetics import Subject
    from psilosim.regimen import Regimen

    psi = get_compound("psilocybin")
    human = psi.species["human"]
    pk = human.sets[human.default].replace(fraction_metabolised_by_mao=1.0)
    edited = psi.replace(species={**psi.species, "human": human.model_copy(
        update={"sets": {**human.sets, human.default: pk}})})
    ds = simulate_acute([(edited, Regimen.single("25 mg"))], t_end_h=24,
                        subject=Subject(comedication=("maoi",)))
    conc = ds.concentration.isel(compound=0).values
    # with clearance >= 0 the concentration never exceeds what the whole dose in V gives
    dose_in_v = 25.0 * psi.fraction_available("oral", pk) / pk.central_volume.to("L") * 1000.0
    assert conc.min() >= 0.0 and conc.max() <= dose_in_v


@settings(max_examples=30, deadline=None)
@given(value=st.floats(-5.0, 5.0, allow_nan=False))
def test_fractions_are_accepted_exactly_inside_zero_one(value):
    pk = _psilocybin_pk()
    if 0.0 <= value <= 1.0:
        assert pk.replace(renal_fraction=value).renal_fraction.value == value
    else:
        with pytest.raises(InputError, match="renal_fraction"):
            pk.replace(renal_fraction=value)


def test_route_params_built_in_code_get_the_bounds_too():
    from psilosim.parameters import Param

    # a constructor raises pydantic's ValidationError (a ValueError), as every set does
    with pytest.raises(ValueError, match="lag_time: -0.5 h is outside"):
        RouteParams(bioavailability=Param(value=1.0, unit="", source="x", kind="assumed"),
                    lag_time=Param(value=-0.5, unit="h", source="x", kind="assumed"))



def test_a_refused_value_names_only_the_bounds_that_exist():
    """No "None" for an open end, no stray space for a unitless value."""
    from psilosim.compounds import get_compound
    from psilosim.parameters import Param

    with pytest.raises(InputError) as closed:
        get_compound("psilocybin").pk("human").replace(renal_fraction=2.0)
    with pytest.raises(ValueError) as open_ended:
        RouteParams(bioavailability=Param(value=1.0, unit="", source="x", kind="assumed"),
                    lag_time=Param(value=-1.0, unit="h", source="x", kind="assumed"))
    assert "2 is outside [0, 1]" in str(closed.value) and "-1 h is outside the allowed range (>= 0 h)" in str(open_ended.value)
    assert "None" not in str(closed.value) and "  " not in str(closed.value)
    assert ", None]" not in str(open_ended.value)  # pydantic's own wrapper text is not ours


@pytest.mark.parametrize("value", [-1.0, 0.0])
def test_a_positive_quantity_says_it_must_be_positive_for_zero_and_below(value):
    """-1 and 0 are refused for one reason, so the message is the same (it said ">= 0" for -1 and
    then refused 0 as "must be greater than zero")."""
    from psilosim.compounds import get_compound

    with pytest.raises(InputError) as err:
        get_compound("psilocybin").pk("human").replace(clearance=value)
    assert err.value.field == "clearance" and "(> 0 L/h)" in err.value.problem
