"""PK solvers: exactness, method agreement, linearity, mass balance, variability, NCA."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.compounds import get_compound
from psilosim.errors import InputError
from psilosim.parameters import Param
from psilosim.pharmacokinetics import INTERACTION_PARAMS, Subject, nca, simulate_pk
from psilosim.pharmacokinetics.kernel import LinearPK, modal_response, solve_ode, superpose
from psilosim.pharmacokinetics.model import individual_pk
from psilosim.regimen import Regimen

NG_PER_ML_PER_MG_PER_L = 1000.0


def _one_compartment_oral(t, dose_mg, f, ka, cl, v, lag=0.0):
    """Textbook Bateman function (mg/L)."""
    ke = cl / v
    tau = np.clip(t - lag, 0.0, None)
    return f * dose_mg * ka / (v * (ka - ke)) * (np.exp(-ke * tau) - np.exp(-ka * tau))


def test_psilocybin_matches_the_bateman_function():
    comp = get_compound("psilocybin")
    pk = comp.pk()
    oral = pk.routes["oral"]
    ds = simulate_pk(comp, Regimen.single("25 mg"), t_end_h=24, dt_h=0.1)
    expected = _one_compartment_oral(ds.time_h.values, 25.0, comp.fraction_available("oral", pk),
                                     oral.absorption_rate.value, pk.clearance.value, pk.central_volume.value,
                                     oral.lag_time.value) * NG_PER_ML_PER_MG_PER_L
    assert np.allclose(ds.concentration.values, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::psilosim.errors.ExtrapolationWarning")  # above the studied doses on purpose
@pytest.mark.parametrize("compound,regimen,subject", [
    ("psilocybin", Regimen.repeated("25 mg", every="3 weeks", count=2), None),
    ("escitalopram", Regimen.from_phases([{"dose": "10 mg", "every": "1 day", "duration": "1 week"},
                                          {"dose": "20 mg", "every": "1 day", "duration": "1 week"}]), None),
    ("ketamine", Regimen.infusion("0.5 mg/kg", over="40 min"), {"weight": "70 kg"}),
    ("ketamine", Regimen.repeated("56 mg", every="3 days", count=4, route="intranasal"), None),
])
def test_analytic_and_ode_methods_agree(compound, regimen, subject):
    a = simulate_pk(compound, regimen, subject=subject, method="analytic", amounts=True)
    o = simulate_pk(compound, regimen, subject=subject, method="ode", amounts=True)
    scale = float(a.concentration.max())
    assert np.max(np.abs(a.concentration - o.concentration)) < 1e-6 * scale
    assert np.allclose(a.amount, o.amount, atol=1e-6 * float(a.amount.max()))


@pytest.mark.filterwarnings("ignore::psilosim.errors.ExtrapolationWarning")  # above the studied doses on purpose
@given(dose=st.floats(0.1, 200.0))
@settings(max_examples=25, deadline=None)
def test_concentration_is_linear_in_dose(dose):
    ref = simulate_pk("psilocybin", Regimen.single("10 mg"), t_end_h=24).concentration.values
    ds = simulate_pk("psilocybin", Regimen.single(f"{dose} mg"), t_end_h=24).concentration.values
    assert np.allclose(ds, ref * dose / 10.0, rtol=1e-9, atol=1e-12)


_rates = st.floats(0.05, 20.0)


@given(cl=st.floats(1.0, 300.0), v=st.floats(10.0, 2000.0), ka=_rates, ke0=_rates,
       q=st.one_of(st.just(0.0), st.floats(1.0, 100.0)), v2=st.floats(10.0, 1000.0),
       n=st.integers(1, 6), every=st.floats(1.0, 48.0), infusion=st.one_of(st.just(0.0), st.floats(0.1, 2.0)),
       iv=st.booleans(), method=st.sampled_from(["analytic", "ode"]))
@settings(max_examples=60, deadline=None)
def test_mass_balance_and_non_negativity(cl, v, ka, ke0, q, v2, n, every, infusion, iv, method):
    """Amount absorbed = amount eliminated + amount remaining; no state goes negative."""
    system = LinearPK(clearance=cl, central_volume=v, ke0=ke0, absorption_rate=None if iv else ka,
                      intercompartmental_clearance=q, peripheral_volume=v2 if q else 0.0)
    times = np.linspace(0.0, n * every + 24.0, 400)
    dose_t = np.arange(n) * every
    amounts = np.full(n, 10.0)
    durs = np.full(n, infusion if iv else 0.0)
    if method == "ode":
        states, eliminated = solve_ode(system, times, dose_t, amounts, durs)
    else:
        lam, g = modal_response(system.matrix(), system.input_state)
        states = superpose(times, dose_t, amounts, durs, lam, g)
        integral = superpose(times, dose_t, amounts, durs, lam, g, integral=True)
        eliminated = cl / v * integral[system.states.index("central")]
    names = system.states
    entered = np.array([np.sum(amounts * np.where(durs > 0, np.clip((t - dose_t) / np.where(durs > 0, durs, 1), 0, 1),
                                                  t >= dose_t)) for t in times])
    depot = states[names.index("depot")] if "depot" in names else 0.0
    body = states[names.index("central")] + (states[names.index("peripheral")] if "peripheral" in names else 0.0)
    assert np.allclose(entered - depot, body + eliminated, atol=1e-6 * amounts.sum())
    assert np.all(states > -1e-9 * amounts.sum()) and np.all(eliminated > -1e-9)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), every_h=st.sampled_from([4.0, 8.0, 24.0]), seed=st.integers(0, 2**32 - 1),
       parameter_set=st.sampled_from(["holze2023", "brown2017"]), method=st.sampled_from(["analytic", "ode"]))
def test_simulate_pk_mass_balance_with_bioavailability_and_lag(n, every_h, seed, parameter_set, method):
    """Through the public API: what enters is F · molar ratio · dose, only after the lag; it is all
    in the depot, the body or eliminated; renal excretion is part of elimination."""
    comp = get_compound("psilocybin")
    oral = comp.pk("human", parameter_set=parameter_set).route("oral")
    available = oral.bioavailability.value * (comp.analyte_molar_mass.to("g/mol")
                                              / comp.prodrug.parent_molar_mass.to("g/mol"))
    lag_h, dose_mg = oral.lag_time.to("h"), 25.0
    assert 0 < available < 1 and lag_h > 0  # so that neither factor is trivially 1 or 0
    regimen = Regimen.build(route="oral", phases=[{"dose": f"{dose_mg} mg", "count": n, "every": f"{every_h} h"}])
    t_end = (n - 1) * every_h + 24.0
    ds = simulate_pk(comp, regimen, seed=seed, t_end_h=t_end, dt_h=0.25, method=method, parameter_set=parameter_set,
                     amounts=True)
    a = ds["amount"]
    t = ds["time_h"].values
    starts = np.arange(n) * every_h + lag_h
    entered = available * dose_mg * (t[None, :] >= starts[:, None] - 1e-9).sum(axis=0)
    scale = available * dose_mg * n
    np.testing.assert_allclose(a.sel(state="input"), entered, atol=1e-9 * scale)
    body = a.sel(state=["depot", "central", "peripheral", "eliminated"]).sum("state")
    np.testing.assert_allclose(body, entered, atol=1e-6 * scale)
    assert np.all(a.values >= -1e-9 * scale)
    assert np.all(a.sel(state="renal").values <= a.sel(state="eliminated").values + 1e-12)
    assert np.all(np.diff(a.sel(state="eliminated").values) >= -1e-9 * scale)      # elimination never reverses
    np.testing.assert_array_equal(ds["concentration"].values[t < lag_h], 0.0)     # nothing before the lag


def test_same_seed_same_subject_other_seed_other_subject():
    r = Regimen.single("25 mg")
    a, b, c = (simulate_pk("psilocybin", r, seed=s).concentration.values for s in (7, 7, 8))
    typical = simulate_pk("psilocybin", r).concentration.values
    assert np.array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, typical)


def test_random_effects_follow_the_omegas():
    comp = get_compound("psilocybin")
    etas = np.array([Subject().with_random_effects([comp], seed=s).eta("psilocybin")["clearance"] for s in range(400)])
    assert abs(etas.mean()) < 0.05 and etas.std() == pytest.approx(comp.pk().omega_clearance.value, rel=0.15)


def test_no_weight_covariate_for_psilocybin():
    light = simulate_pk("psilocybin", Regimen.single("25 mg"), subject={"weight": "50 kg"}).concentration
    heavy = simulate_pk("psilocybin", Regimen.single("25 mg"), subject={"weight": "110 kg"}).concentration
    assert np.array_equal(light.values, heavy.values)


def test_maoi_slows_psilocin_clearance_and_can_be_switched_off():
    pk = get_compound("psilocybin").pk()
    r = Regimen.single("25 mg")

    def auc(**subject):
        ds = simulate_pk("psilocybin", r, subject=subject, t_end_h=72, dt_h=0.05)
        return nca(ds.time_h.values, ds.concentration.values).auc_inf

    expected = 1.0 / (1.0 - pk.fraction_metabolised_by_mao.value * INTERACTION_PARAMS.mao_inhibition_fraction.value)
    assert auc(comedication=["maoi"]) / auc() == pytest.approx(expected, rel=1e-3)
    assert auc(comedication=["maoi"], interactions={"mao_inhibition": False}) == pytest.approx(auc(), rel=1e-9)


def test_nca_recovers_known_exponential_metrics():
    k, tau = 0.1, 24.0
    system = LinearPK(clearance=k * 100.0, central_volume=100.0, ke0=1.0)
    lam, g = modal_response(system.matrix(), system.input_state)
    doses = np.arange(20) * tau
    t = np.arange(0, 20 * tau + 1e-9, 0.25)
    c = superpose(t, doses, np.ones(20), np.zeros(20), lam, g)[0]
    r = nca(t, c, dose_times=np.append(doses, 20 * tau))
    assert r.half_life == pytest.approx(math.log(2) / k, rel=1e-6)
    assert r.accumulation_ratio == pytest.approx(1.0 / (1.0 - math.exp(-k * tau)), rel=1e-3)
    assert r.time_to_90pct_ss == pytest.approx(math.log(10) / k, rel=0.05)


def test_renal_excretion_is_the_renal_fraction_of_what_was_eliminated():
    comp = get_compound("psilocybin")
    ds = simulate_pk(comp, Regimen.single("25 mg"), t_end_h=96, amounts=True)
    entered = float(ds.amount.sel(state="input")[-1])
    assert entered == pytest.approx(25.0 * comp.fraction_available("oral", comp.pk()))
    assert float(ds.amount.sel(state="renal")[-1]) == pytest.approx(comp.pk().renal_fraction.value * entered, rel=1e-6)


def test_escitalopram_half_life_and_time_to_steady_state():
    ds = simulate_pk("escitalopram", Regimen.daily("10 mg", duration="4 weeks"))
    doses = np.arange(29) * 24.0
    r = nca(ds.time_h.values, ds.concentration.values, dose_times=doses)
    pk = get_compound("escitalopram").pk()
    assert r.half_life == pytest.approx(pk.elimination_half_life_h(), rel=1e-3)
    assert r.time_to_90pct_ss < 7 * 24  # "steady state within ~1 week" (PK12)


@pytest.mark.parametrize("kwargs,field", [({"method": "euler"}, "method"), ({"dt_h": 0.0}, "dt_h"),
                                          ({"parameter_set": "nope"}, "parameter_set")])
def test_bad_simulation_options(kwargs, field):
    with pytest.raises(InputError) as info:
        simulate_pk("psilocybin", Regimen.single("25 mg"), **kwargs)
    assert info.value.field == field


def test_route_not_available_lists_routes():
    with pytest.raises(InputError, match="known: oral"):
        simulate_pk("psilocybin", Regimen.single("25 mg", route="iv"))


def test_unknown_compound_lists_known_names():
    with pytest.raises(InputError, match="known:.*psilocybin"):
        get_compound("aspirinx")
    assert get_compound("PsIlOcYbIn").analyte == "psilocin"


@pytest.mark.parametrize("ka,ke0", [(1.0, 1.0), (1.0, 3.0), (2.0, 1.0)])
def test_analytic_method_survives_coincident_rates(ka, ke0):
    """ka = CL/V (and ke0) make the system matrix defective; the modal solution must still
    conserve mass and match the ODE solution closely."""
    system = LinearPK(clearance=10.0, central_volume=10.0, ke0=ke0, absorption_rate=ka,
                      intercompartmental_clearance=0.0, peripheral_volume=0.0)
    times = np.linspace(0.0, 30.0, 301)
    dose = (np.array([0.0]), np.array([10.0]), np.array([0.0]))
    lam, g = modal_response(system.matrix(), system.input_state)
    analytic = superpose(times, *dose, lam, g)
    reference, _ = solve_ode(system, times, *dose)
    assert np.all(np.isfinite(analytic))
    assert np.abs(analytic - reference).max() <= 5e-3 * np.abs(reference).max()
    depot, central = analytic[system.states.index("depot")], analytic[system.states.index("central")]
    eliminated = 10.0 / 10.0 * superpose(times, *dose, lam, g, integral=True)[system.states.index("central")]
    assert np.allclose(depot + central + eliminated, 10.0, atol=1e-8)


# ---------------------------------------------------------------- PK constants written in other units
# Guards against PK constants being used as bare magnitudes instead of being converted by their unit.

#: A peripheral compartment for the tests (the library's compounds are one-compartment).
Q_L_PER_H, V2_L = 40.0, 200.0


def _param(value: float, unit: str) -> Param:
    return Param(value=value, unit=unit, source="test", kind="assumed")


def _with_pk(comp, pk, effect_site_rate=None):
    """``comp`` with its default human PK set replaced by ``pk``."""
    spk = comp.species["human"]
    new_spk = spk.model_copy(update={"sets": {**spk.sets, spk.default: pk}})
    update = {"species": {**comp.species, "human": new_spk}}
    if effect_site_rate is not None:
        update["effect_site_rate"] = effect_site_rate
    return comp.model_copy(update=update)


def _two_compartment_psilocybin():
    comp = get_compound("psilocybin")
    pk = comp.pk().model_copy(update={"intercompartmental_clearance": _param(Q_L_PER_H, "L/h"),
                                      "peripheral_volume": _param(V2_L, "L"),
                                      "clearance_weight_exponent": _param(0.75, ""),
                                      "volume_weight_exponent": _param(1.0, "")})
    return _with_pk(comp, pk)


def _in_other_units(comp):
    """The same compound with every PK constant written in another (equivalent) unit."""
    pk = comp.pk()
    rp = pk.route("oral")
    route = rp.model_copy(update={"absorption_rate": _param(rp.absorption_rate.to("1/min"), "1/min"),
                                  "lag_time": _param(rp.lag_time.to("min"), "min")})
    other = pk.model_copy(update={
        "clearance": _param(pk.clearance.to("L/min"), "L/min"),
        "central_volume": _param(pk.central_volume.to("mL"), "mL"),
        "intercompartmental_clearance": _param(pk.intercompartmental_clearance.to("mL/min"), "mL/min"),
        "peripheral_volume": _param(pk.peripheral_volume.to("dL"), "dL"),
        "reference_weight": _param(pk.reference_weight.to("g"), "g"),
        "routes": {**pk.routes, "oral": route},
    })
    return _with_pk(comp, other, _param(comp.effect_site_rate.to("1/min"), "1/min"))


def test_pk_result_does_not_depend_on_the_units_parameters_are_written_in():
    comp = _two_compartment_psilocybin()
    other = _in_other_units(comp)
    subject = Subject(weight="85 kg")
    a = simulate_pk(comp, Regimen.single("25 mg"), subject=subject, t_end_h=24)
    b = simulate_pk(other, Regimen.single("25 mg"), subject=subject, t_end_h=24)
    np.testing.assert_allclose(b.concentration, a.concentration, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.effect_site_concentration, a.effect_site_concentration, rtol=1e-9, atol=1e-12)
    assert other.pk().elimination_half_life_h() == pytest.approx(comp.pk().elimination_half_life_h(), rel=1e-12)
    assert other.pk().apparent(0.5) == pytest.approx(comp.pk().apparent(0.5), rel=1e-12)


def test_psilocybin_clearance_in_litres_per_minute_gives_the_published_cmax():
    comp = get_compound("psilocybin")
    pk = comp.pk()
    per_min = pk.model_copy(update={"clearance": _param(pk.clearance.to("L/min"), "L/min")})
    ds = simulate_pk(_with_pk(comp, per_min), Regimen.single("25 mg"), t_end_h=24)
    assert 14 <= float(ds.concentration.max()) <= 20  # PK1, as with L/h


# ---------------------------------------------------------------- MAO inhibition scales CL only
# Guards against the MAO-inhibition factor also scaling the intercompartmental clearance: it belongs
# on the clearance only.


def test_mao_inhibition_lowers_clearance_but_not_intercompartmental_clearance():
    comp = _two_compartment_psilocybin()
    plain = individual_pk(comp, "oral", Subject()).system
    maoi = individual_pk(comp, "oral", Subject(comedication=["maoi"])).system
    assert maoi.clearance < plain.clearance
    assert maoi.intercompartmental_clearance == pytest.approx(plain.intercompartmental_clearance, rel=1e-12)


def test_weight_and_random_effects_still_scale_intercompartmental_clearance():
    comp = _two_compartment_psilocybin()
    heavy = individual_pk(comp, "oral", Subject(weight="140 kg")).system
    assert heavy.intercompartmental_clearance == pytest.approx(Q_L_PER_H * 2.0 ** 0.75, rel=1e-9)


# ---------------------------------------------------------------- NCA over intervals the samples do not cover
# Guards against accumulation metrics computed from a last dosing interval the samples cut short.


def test_interval_metrics_are_nan_when_the_last_interval_is_not_sampled():
    t = np.arange(0, 49.0 + 1e-9, 0.25)
    c = np.exp(-0.1 * (t % 24.0)) * (1 + (t >= 24) + (t >= 48))
    r = nca(t, c, dose_times=np.array([0.0, 24.0, 48.0, 72.0]))
    assert math.isnan(r.accumulation_ratio) and math.isnan(r.time_to_90pct_ss)
    assert r.cmax == pytest.approx(float(c.max()))


def test_a_time_step_not_shorter_than_the_simulated_time_is_refused():
    from psilosim.pharmacokinetics import time_grid

    with pytest.raises(InputError, match="shorter than the simulated time"):
        time_grid(24.0, 48.0)
    with pytest.raises(InputError, match="shorter than the simulated time"):
        time_grid(24.0, 24.0)
    assert time_grid(24.0, 0.25)[-1] == 24.0


# ---------------------------------------------------------------- audit fixes (allometry, Cmax, seed, λz)
MOUSE_OVER_HUMAN_WEIGHT = 0.025 / 70.0  # the notes' reference weights (kg)
ALLOMETRIC_CLEARANCE_EXPONENT = 0.75  # CL ~ W^0.75, as the notes of the mouse sets state


@pytest.mark.parametrize("compound", ["lsd", "ibogaine"])
def test_allometric_mouse_sets_follow_their_stated_formula(compound):
    comp = get_compound(compound)
    human, mouse = comp.pk("human"), comp.pk("mouse")
    expected_cl = human.clearance.to("L/h") * MOUSE_OVER_HUMAN_WEIGHT ** ALLOMETRIC_CLEARANCE_EXPONENT
    expected_v = human.central_volume.to("L") * MOUSE_OVER_HUMAN_WEIGHT
    assert mouse.clearance.to("L/h") == pytest.approx(expected_cl, rel=0.01)
    assert mouse.central_volume.to("L") == pytest.approx(expected_v, rel=0.01)


@pytest.mark.parametrize("compound,dose,cmax_ng_ml", [
    ("lsd", "100 ug", 1.3),     # Dolder et al. 2017 Clin Pharmacokinet (as quoted in lsd.yaml)
    ("mdma", "125 mg", 236.4),  # Mas et al. 1999 J Pharmacol Exp Ther 290:136
])
def test_volumes_derived_from_a_cmax_reproduce_it(compound, dose, cmax_ng_ml):
    ds = simulate_pk(compound, Regimen.single(dose), t_end_h=24, dt_h=0.001)
    assert nca(ds.time_h.values, ds.concentration.values).cmax == pytest.approx(cmax_ng_ml, rel=0.03)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_a_seed_must_be_a_non_negative_integer(seed):
    with pytest.raises(InputError) as info:
        simulate_pk("psilocybin", Regimen.single("25 mg"), seed=seed, t_end_h=6)
    assert info.value.field == "seed"


def test_lambda_z_starts_after_the_last_doses_peak_not_the_highest():
    # two IV boluses with a common rate: the first peak (t = 0) is the highest, the last
    # dose's peak is at 12 h; from there the profile is one exponential
    rate = 0.3
    t = np.arange(0.0, 25.0)
    c = 10.0 * np.exp(-rate * t) + np.where(t >= 12, 2.0 * np.exp(-rate * (t - 12)), 0.0)
    r = nca(t, c, last_dose_h=12.0)
    assert r.lambda_z == pytest.approx(rate)
    assert r.lambda_z_points == int(np.sum(t > 12))  # the samples after that peak, not the peak itself


# Guards against the API refusing "1 mg/kg" in a mouse ("give a body weight") that a scenario
# accepts: a laboratory species' standard weight is the subject's default wherever it is built.
def test_a_mouse_subject_has_its_standard_weight_in_the_api_as_in_scenarios():
    from psilosim.species import species_defaults

    standard = species_defaults("mouse").body_weight.to("kg")
    assert Subject(species="mouse").weight_kg == standard
    assert Subject(species="Mouse", weight="30 g").weight_kg == pytest.approx(0.030)  # a given weight wins
    assert Subject().weight_kg is None  # a human dose per kg still needs the person's own weight
    per_kg = simulate_pk("psilocybin", Regimen.single("1 mg/kg", route="ip"), subject={"species": "mouse"},
                         t_end_h=4)
    given = simulate_pk("psilocybin", Regimen.single(f"{standard} mg", route="ip"),
                        subject={"species": "mouse"}, t_end_h=4)
    np.testing.assert_allclose(per_kg.concentration.values, given.concentration.values, rtol=1e-12)


# Guards against a custom compound inheriting its template's largest studied dose, so that a
# dose of a weaker analogue is refused as "x times the largest <analogue> dose in the reference data".
def test_a_derived_compound_has_no_studied_dose_of_its_own():
    from psilosim.compounds import get_compound
    from psilosim.pharmacokinetics.dose_guard import check_studied_dose

    weak = get_compound("lsd").derive("weak", hallucinogenic_efficacy=0.02)
    assert get_compound("lsd").max_studied_dose is not None and weak.max_studied_dose is None
    assert check_studied_dose(weak, [25.0], 70.0) is None
