"""Regression tests of audit findings in links 1–5 (units, regimen, PK, plasticity, spines, CLI)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli_helpers import run_cli
from psilosim.cli import app
from psilosim.compounds import get_compound
from psilosim.errors import InputError
from psilosim.parameters import Param
from psilosim.pharmacokinetics import Subject, nca, simulate_pk
from psilosim.pharmacokinetics.model import individual_pk
from psilosim.plasticity import Drive, engagement_hours, simulate_plasticity
from psilosim.regimen import Regimen, parse_dose
from psilosim.synapses import simulate_spines, spine_params
from psilosim.synapses.model import stress_for_deficit
from psilosim.units import parse_quantity

runner = CliRunner()

# ---------------------------------------------------------------- helpers: PK parameters in other units

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


# ---------------------------------------------------------------- 1. PK units


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


# ---------------------------------------------------------------- 5. MAO inhibition scales CL only


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


# ---------------------------------------------------------------- 2. plasticity grid before a late drive


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


# ---------------------------------------------------------------- 3. stochastic spines under background stress


def test_stochastic_spines_start_at_the_stressed_rest_state():
    p = spine_params("mouse")
    background = stress_for_deficit(0.2, p)
    plast = simulate_plasticity(Drive.none(), days=5)
    ds = simulate_spines(plast, background_stress=background, stochastic=True, replicates=200, seed=1)
    start = ds["spine_count"].isel(time_d=0).sum("connection").values / ds.attrs["spines_per_segment"]
    assert float(ds["density_rel"].isel(time_d=0).item()) == pytest.approx(0.8, abs=1e-6)
    # 200 segments of ≈ 80 spines: the mean has a standard error ≈ 0.006
    assert start.mean() == pytest.approx(0.8, abs=0.03)
    end = ds["spine_count"].isel(time_d=-1).sum("connection").values / ds.attrs["spines_per_segment"]
    assert end.mean() == pytest.approx(0.8, abs=0.03)


def test_stochastic_spines_without_stress_are_unchanged_by_the_initial_state_option(monkeypatch):
    import psilosim.synapses.model as spine_model

    plast = simulate_plasticity(Drive.none(), days=3)
    ds = simulate_spines(plast, stochastic=True, replicates=50, seed=4)
    start = ds["spine_count"].isel(time_d=0).sum("connection").values / ds.attrs["spines_per_segment"]
    assert start.mean() == pytest.approx(1.0, abs=0.03)
    # the kernel's own default start (init=None, the pre-fix path) gives the same draws bit for bit
    original = spine_model.sample_spines
    monkeypatch.setattr(spine_model, "sample_spines", lambda *args: original(*args[:-1], None))
    old = simulate_spines(plast, stochastic=True, replicates=50, seed=4)
    np.testing.assert_array_equal(old["spine_count"].values, ds["spine_count"].values)


# ---------------------------------------------------------------- 4. NCA over intervals the samples do not cover


def test_interval_metrics_are_nan_when_the_last_interval_is_not_sampled():
    t = np.arange(0, 49.0 + 1e-9, 0.25)
    c = np.exp(-0.1 * (t % 24.0)) * (1 + (t >= 24) + (t >= 48))
    r = nca(t, c, dose_times=np.array([0.0, 24.0, 48.0, 72.0]))
    assert math.isnan(r.accumulation_ratio) and math.isnan(r.time_to_90pct_ss)
    assert r.cmax == pytest.approx(float(c.max()))


def _pk_json(*args):
    result = runner.invoke(app, ["pk", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pk_cli_reports_null_accumulation_when_hours_cut_the_last_interval():
    p = _pk_json("--compound", "psilocybin", "--dose", "25 mg", "--interval", "24h", "--doses", "3", "--hours", "49")
    assert p["accumulation_ratio"] is None and p["time_to_90pct_ss_h"] is None
    full = _pk_json("--compound", "psilocybin", "--dose", "25 mg", "--interval", "24h", "--doses", "3")
    assert full["accumulation_ratio"] == pytest.approx(1.0, abs=0.01)  # t½ 1.8 h ≪ 24 h


@pytest.mark.parametrize("interval", ["3 weeks", "100.1 h", "7.3 days", "333.33 h"])
def test_pk_cli_default_time_covers_a_long_last_interval(interval):
    # intervals that are not whole grid steps too: the default end is rounded up, not down
    p = _pk_json("--compound", "psilocybin", "--dose", "25 mg", "--interval", interval, "--doses", "3")
    assert p["accumulation_ratio"] == pytest.approx(1.0, abs=0.01)   # t½ ≈ 2 h: no accumulation


# ---------------------------------------------------------------- 6, 7. quantity parsing


@pytest.mark.parametrize("text", ["5 percent", "0.5", "3 ppm", "2 m/km"])
def test_dimensionless_units_are_not_doses_per_weight(text):
    with pytest.raises(InputError) as info:
        parse_dose(text)
    assert info.value.field == "dose"


@pytest.mark.parametrize("text,mg_per_kg", [("0.3 mg/kg", 0.3), ("300 µg/kg", 0.3), ("0.3 g/t", 0.3)])
def test_mass_per_mass_doses_still_parse(text, mg_per_kg):
    assert parse_dose(text).to("mg/kg").magnitude == pytest.approx(mg_per_kg)


@pytest.mark.parametrize("text,expect", [("nan h", "time"), ("inf mg", "mass"), ("nan day", "time"),
                                         ("-inf mg/kg", "mass_per_mass"), (math.nan, "dimensionless"),
                                         (math.inf, "dimensionless")])
def test_non_finite_quantities_are_rejected(text, expect):
    with pytest.raises(InputError) as info:
        parse_quantity(text, field="x", expect=expect)
    assert info.value.field == "x" and "finite" in info.value.problem


@pytest.mark.parametrize("kwargs", [{"dose": "inf mg"}, {"dose": "25 mg", "every": "nan h", "count": 2},
                                    {"dose": "25 mg", "every": "nan day", "count": 2}])
def test_regimens_reject_non_finite_inputs(kwargs):
    with pytest.raises(InputError):
        Regimen.from_phases([kwargs])


# ---------------------------------------------------------------- 8. phases that would coincide


def test_a_phase_after_a_single_dose_phase_needs_a_start():
    with pytest.raises(InputError) as info:
        Regimen.from_phases([{"dose": "10 mg"}, {"dose": "20 mg"}])
    assert info.value.field.endswith("start")


def test_phases_with_their_own_start_or_an_interval_still_follow_each_other():
    r = Regimen.from_phases([{"dose": "10 mg"}, {"dose": "20 mg", "start": "1 day"}])
    assert list(r.events().time_h) == [0.0, 24.0]
    r = Regimen.from_phases([{"dose": "10 mg", "every": "1 day"}, {"dose": "20 mg"}])
    assert list(r.events().time_h) == [0.0, 24.0]


# ---------------------------------------------------------------- 10, 11. CLI


def test_spines_rejects_an_absurd_horizon(monkeypatch, capsys):
    from psilosim.cli.plasticity import MAX_SIMULATED_DAYS

    code, _, err = run_cli(monkeypatch, capsys, "spines", "--days", "1e9", "--json")
    assert code == 2 and "--days:" in err and str(int(MAX_SIMULATED_DAYS)) in err


@pytest.mark.parametrize("args,option", [
    (["pk", "--compound", "foo", "--dose", "25 mg"], "--compound"),
    (["pk", "--compound", "psilocybin", "--dose", "25 mg", "--parameter-set", "zz"], "--parameter-set"),
    (["pk", "--compound", "psilocybin", "--dose", "25 mg", "--method", "zz"], "--method"),
    (["spines", "--route", "zz"], "--route"),
    (["spines", "--species", "rat"], "--species"),
    (["spines", "--compound", "foo"], "--compound"),
    (["spines", "--dose", "5 percent"], "--dose"),
    (["window", "--compound", "foo"], "--compound"),
    (["window", "--compound", "psilocybin", "--species", "rat"], "--species"),
])
def test_cli_errors_name_the_option(monkeypatch, capsys, args, option):
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and f"{option}:" in err, err
