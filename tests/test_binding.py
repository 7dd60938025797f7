"""Occupancy, 5-HT2A pools, competition, interactions and the subjective effect."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.binding import TARGETS, effect_duration_h, simulate_acute
from psilosim.binding.kernel import competitive_occupancy, relax_first_order, time_above
from psilosim.compounds import get_compound
from psilosim.errors import InputError
from psilosim.regimen import Regimen


def _psilocybin(dose="25 mg", **kw):
    return simulate_acute(("psilocybin", Regimen.single(dose)), t_end_h=24, dt_h=0.05, **kw)


def test_dataset_contract():
    ds = simulate_acute([("psilocybin", Regimen.single("25 mg")), ("escitalopram", Regimen.single("10 mg"))], t_end_h=12)
    assert list(ds.target.values) == list(TARGETS) == ["5-HT2A_surface", "5-HT2A_intracellular", "TrkB", "SERT", "NMDA"]
    assert ds.concentration.dims == ("compound", "time_h") and ds.occupancy.dims == ("target", "time_h")
    assert ds.effect.dims == ("time_h",) and ds.time_h.attrs["units"] == "h"
    assert ds.concentration.attrs["units"] == "ng/mL"
    assert dict(zip(ds.compound.values, ds.analyte.values, strict=True))["psilocybin"] == "psilocin"
    assert np.allclose(np.diff(ds.time_h.values), 0.25)


@pytest.mark.filterwarnings("ignore::psilosim.errors.ExtrapolationWarning")  # above the studied doses on purpose
@given(psi=st.floats(0.0, 500.0), esc=st.floats(0.0, 200.0), ket=st.floats(0.0, 2000.0))
@settings(max_examples=40, deadline=None)
def test_occupancy_and_effect_stay_in_unit_interval(psi, esc, ket):
    treatments = [(name, Regimen.single(f"{dose} mg", route=route))
                  for name, dose, route in (("psilocybin", psi, "oral"), ("escitalopram", esc, "oral"),
                                            ("ketamine", ket, "intranasal")) if dose > 1e-3]
    if not treatments:
        return
    ds = simulate_acute(treatments, t_end_h=12, subject={"comedication": ["ssri"]})
    for var in (ds.occupancy, ds.effect, ds.activation, ds.receptor_availability, ds.serotonin_occupancy):
        assert float(var.min()) >= 0.0 and float(var.max()) <= 1.0


def test_competitive_rule_reduces_each_ligand_and_never_exceeds_one():
    one = competitive_occupancy(np.array([[3.0]]), np.array([1.0]))
    two = competitive_occupancy(np.array([[3.0], [5.0]]), np.array([1.0, 1.0]))
    assert two[0, 0] < one[0, 0] and two.sum() < 1.0
    assert one[0, 0] == pytest.approx(0.75)


def test_occupancy_follows_the_single_site_law_at_equilibrium():
    psi = get_compound("psilocybin").binding["5-HT2A"]
    ds = _psilocybin("30 mg")
    ce = ds.effect_site_concentration.sel(compound="psilocybin").values
    expected = psi.occmax.value * ce / (ce + psi.ec50.value)
    assert np.allclose(ds.occupancy.sel(target="5-HT2A_surface").values, expected, rtol=1e-12)


def test_effect_compartment_delays_the_peak():
    ds = _psilocybin()
    t = ds.time_h.values
    plasma_peak = t[int(np.argmax(ds.concentration.sel(compound="psilocybin").values))]
    site_peak = t[int(np.argmax(ds.effect_site_concentration.sel(compound="psilocybin").values))]
    assert site_peak > plasma_peak


def test_impermeable_ligand_reaches_only_the_surface_pool():
    sealed = get_compound("psilocybin").derive("sealed-analogue", membrane_permeability=0.0)
    ds = simulate_acute((sealed, Regimen.single("25 mg")), t_end_h=12)
    assert float(ds.occupancy.sel(target="5-HT2A_surface").max()) > 0.5
    assert float(ds.occupancy.sel(target="5-HT2A_intracellular").max()) == 0.0


def test_non_hallucinogenic_analogue_keeps_intracellular_and_trkb_without_the_trip():
    analogue = get_compound("psilocybin").derive("analogue", hallucinogenic_efficacy=0.02)
    ds_a = simulate_acute((analogue, Regimen.single("25 mg")), t_end_h=24)
    ds_p = simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24)
    for target in ("5-HT2A_intracellular", "TrkB"):
        assert np.allclose(ds_a.occupancy.sel(target=target), ds_p.occupancy.sel(target=target))
    assert float(ds_p.effect.max()) > 0.5 and float(ds_a.effect.max()) < 0.01


def test_ssri_serotonin_reaches_the_surface_only():
    ds = simulate_acute(("escitalopram", Regimen.daily("20 mg", duration="1 week")), t_end_h=7 * 24)
    assert float(ds.serotonin_occupancy.max()) > 0.1
    assert float(ds.activation.sel(pool="surface").max()) > 0.1
    assert float(ds.activation.sel(pool="intracellular").max()) == 0.0


def test_chronic_ssri_blunts_psilocybin_and_the_mechanism_can_be_switched_off():
    plain = float(_psilocybin().effect.max())
    blunted = float(_psilocybin(subject={"comedication": ["ssri"]}).effect.max())
    off = {"ssri_5ht2a_downregulation": False, "ssri_surface_serotonin": False}
    restored = float(_psilocybin(subject={"comedication": ["ssri"], "interactions": off}).effect.max())
    assert blunted < 0.5 * plain and restored == pytest.approx(plain, rel=1e-12)


def test_downregulation_builds_up_over_days_of_escitalopram():
    ds = simulate_acute(("escitalopram", Regimen.daily("20 mg", duration="6 weeks")), t_end_h=42 * 24)
    r = ds.receptor_availability
    assert float(r.sel(time_h=24, method="nearest")) > float(r.sel(time_h=7 * 24, method="nearest")) > float(r[-1])
    assert float(r[0]) == 1.0


def test_psilocin_binds_trkb_at_microdoses_where_5ht2a_is_low():
    ds = _psilocybin("1 mg")
    trkb = float(ds.occupancy.sel(target="TrkB").max())
    ht2a = float(ds.occupancy.sel(target="5-HT2A_surface").max())
    assert trkb > 0.5 > ht2a and float(ds.effect.max()) < 0.01


def test_effect_rises_with_dose_and_lasts_longer():
    e = {d: _psilocybin(f"{d} mg") for d in (15, 30)}
    assert float(e[30].effect.max()) > float(e[15].effect.max())
    assert effect_duration_h(e[30]) > effect_duration_h(e[15])


def test_ketamine_occupies_nmda():
    ds = simulate_acute(("ketamine", Regimen.infusion("0.5 mg/kg", over="40 min")), t_end_h=6,
                        subject={"weight": "70 kg"})
    assert 0.2 < float(ds.occupancy.sel(target="NMDA").max()) < 1.0
    assert float(ds.effect.max()) < 1e-6  # the psychedelic effect output does not represent dissociation


def test_relaxation_filter_is_exact_for_a_step_and_a_ramp():
    t = np.arange(0, 50.0, 0.5)
    step = relax_first_order(np.ones(t.size), 0.5, 10.0, 0.0)
    assert np.allclose(step, 1.0 - np.exp(-t / 10.0), atol=1e-12)
    ramp = relax_first_order(t.copy(), 0.5, 10.0, 0.0)
    assert np.allclose(ramp, t - 10.0 * (1.0 - np.exp(-t / 10.0)), atol=1e-10)


def test_time_above_interpolates_crossings():
    t = np.linspace(0, 10, 11)
    y = 1.0 - np.abs(t - 5.0) / 5.0
    assert time_above(t, y, 0.5) == pytest.approx(5.0)


def test_same_seed_same_effect():
    a, b = (_psilocybin(seed=3).effect.values for _ in range(2))
    assert np.array_equal(a, b) and not np.array_equal(a, _psilocybin(seed=4).effect.values)


def test_bad_treatments():
    with pytest.raises(InputError, match="treatments"):
        simulate_acute([], t_end_h=1)
    with pytest.raises(InputError, match="unknown compound"):
        simulate_acute(("nope", Regimen.single("1 mg")), t_end_h=1)


def test_simulate_acute_refuses_a_negative_seed():
    from psilosim.binding import simulate_acute
    from psilosim.errors import InputError
    from psilosim.regimen import Regimen

    with pytest.raises(InputError) as info:
        simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=6, seed=-1)
    assert info.value.field == "seed"


def test_trkb_affinity_check_converts_units_rather_than_assuming_them():
    from psilosim.compounds import get_compound
    from psilosim.validation.checks_pharmacology import _trkb_ec50_nm

    comp = get_compound("psilocybin")
    ec50 = comp.binding["TrkB"].ec50
    in_ug_per_l = ec50.model_copy(update={"unit": "ug/L"})  # same number: ng/mL == µg/L
    in_ng_per_l = ec50.model_copy(update={"value": ec50.value * 1000.0, "unit": "ng/L"})
    expected = ec50.value / comp.analyte_molar_mass.value * 1000.0  # ng/mL ÷ g/mol = µM
    for entry in (ec50, in_ug_per_l, in_ng_per_l):
        binding = {**comp.binding, "TrkB": comp.binding["TrkB"].model_copy(update={"ec50": entry})}
        assert _trkb_ec50_nm(comp.model_copy(update={"binding": binding})) == pytest.approx(expected)
