"""Checks of the pharmacology link (REFERENCES PK1–PK13, RB1–RB8).

Each check simulates the typical subject (no random effects) with the default parameter sets
and returns the value in the target's unit. Grids are fine (3 min) so that Tmax and durations
are not quantised by the output step.
"""

from __future__ import annotations

import math

import numpy as np

from ..binding import effect_duration_h, simulate_acute
from ..compounds import get_compound
from ..parameters import Param, ParameterSet
from ..pharmacokinetics import nca, simulate_pk
from ..regimen import Regimen
from ..units import HOURS_PER_DAY, Q_
from .registry import check

FINE_DT_H = 0.05
ACUTE_HOURS = 24.0
#: Adult weight range of the PK6 statement (Brown 2017), kg.
PK6_WEIGHTS_KG = (70.0, 85.0)
#: Klein 2006 measured SERT occupancy 6 h after the dose.
KLEIN_SCAN_H = 6.0
#: Weeks of daily escitalopram for the chronic (steady-state) occupancy of RB5.
CHRONIC_WEEKS = 4


class PharmacologyCheckParams(ParameterSet):
    """Acceptance thresholds of the qualitative binding checks (RB3, RB6–RB8): how a statement of
    REFERENCES.md ("tracks", "higher affinity", "blunts") is read as a number."""

    rb3_min_rank_r_occupancy: Param
    rb3_min_rank_r_plasma: Param
    rb6_min_affinity_fold: Param
    rb6_min_trkb_over_5ht2a: Param
    rb7_min_serotonin_surface_occupancy: Param
    rb7_min_intracellular_occupancy: Param
    rb8_max_blunted_fraction: Param
    rb8_unblunted_tolerance: Param


_QUALITATIVE = "psilosim acceptance criterion for the qualitative target REFERENCES "
CHECKS = PharmacologyCheckParams(
    rb3_min_rank_r_occupancy=Param(
        value=0.9, unit="", kind="assumed", source=_QUALITATIVE + "RB3 (Madsen et al. 2019; Stenbæk et al. 2021)",
        note="'intensity tracks occupancy' read as a Spearman r above 0.9 over the 24 h course after 25 mg"),
    rb3_min_rank_r_plasma=Param(
        value=0.7, unit="", kind="assumed", source=_QUALITATIVE + "RB3 (Madsen et al. 2019; Stenbæk et al. 2021)",
        note="lower than for occupancy: the effect lags plasma psilocin through the effect compartment "
             "(hysteresis), so its rank correlation with plasma is looser"),
    rb6_min_affinity_fold=Param(
        value=100.0, unit="", kind="assumed", source=_QUALITATIVE + "RB6 (Moliner et al. 2023 Nat Neurosci 26:1032)",
        note="a tenth of the ≈ 1000-fold higher TrkB affinity reported for psilocin over antidepressants: "
             "an order of magnitude of margin for a statement of order"),
    rb6_min_trkb_over_5ht2a=Param(
        value=2.0, unit="", kind="assumed", source=_QUALITATIVE + "RB6 (Moliner et al. 2023 Nat Neurosci 26:1032)",
        note="after 1 mg (no trip) peak TrkB occupancy at least twice the 5-HT2A one: plasticity can be "
             "engaged without the head-twitch/trip pathway"),
    rb7_min_serotonin_surface_occupancy=Param(
        value=0.1, unit="", kind="assumed", source=_QUALITATIVE + "RB7 (Vargas et al. 2023 Science)",
        note="the SSRI's extra serotonin must occupy surface 5-HT2A measurably (10 %), so that a zero "
             "intracellular activation is the membrane's doing, not a lack of serotonin"),
    rb7_min_intracellular_occupancy=Param(
        value=0.5, unit="", kind="assumed", source=_QUALITATIVE + "RB7 (Vargas et al. 2023 Science)",
        note="membrane-permeable psilocin after 25 mg must occupy most of the intracellular pool"),
    rb8_max_blunted_fraction=Param(
        value=0.75, unit="", kind="assumed", source=_QUALITATIVE + "RB8 (clinical and preclinical reports)",
        note="'blunts' read as a peak effect at least a quarter lower after 6 weeks of escitalopram 20 mg "
             "than without it"),
    rb8_unblunted_tolerance=Param(
        value=0.05, unit="", kind="assumed", source=_QUALITATIVE + "RB8 (a named model hypothesis)",
        note="relative tolerance: with both SSRI mechanisms off the peak equals psilocybin alone within 5 %, "
             "so the blunting comes from the named mechanisms only"),
)


def _psilocybin_nca(dose_mg: float, parameter_set: str | None = None):
    ds = simulate_pk("psilocybin", Regimen.single(f"{dose_mg} mg"), t_end_h=ACUTE_HOURS, dt_h=FINE_DT_H,
                     parameter_set=parameter_set)
    return nca(ds.time_h.values, ds.concentration.values)


def _acute_psilocybin(dose_mg: float, **subject):
    return simulate_acute(("psilocybin", Regimen.single(f"{dose_mg} mg")), t_end_h=ACUTE_HOURS,
                          dt_h=FINE_DT_H, subject=subject or None)


@check("PK1.15")
def cmax_15mg() -> float:
    return _psilocybin_nca(15).cmax


@check("PK1.25")
def cmax_25mg() -> float:
    return _psilocybin_nca(25).cmax


@check("PK1.30")
def cmax_30mg() -> float:
    return _psilocybin_nca(30).cmax


@check("PK2")
def tmax() -> float:
    return _psilocybin_nca(25).tmax


@check("PK3")
def half_life() -> tuple[float, str]:
    r = _psilocybin_nca(25)
    return r.half_life, f"log-linear regression on {r.lambda_z_points} terminal points"


@check("PK4")
def cmax_per_mg() -> tuple[float, str]:
    ratios = [_psilocybin_nca(d).cmax / d for d in (15, 25, 30)]
    spread = (max(ratios) - min(ratios)) / np.mean(ratios)
    return float(np.mean(ratios)), f"relative spread across 15/25/30 mg {spread:.1e} (linear model)"


@check("PK5")
def apparent_volume() -> tuple[float, str]:
    comp = get_compound("psilocybin")
    pk = comp.pk()
    f = comp.fraction_available("oral", pk)
    return pk.central_volume.to("L") / f, f"V/F with F = bioavailability x molar ratio = {f:.3f} (relative to the psilocybin dose)"


@check("PK6")
def fixed_vs_weight_based() -> tuple[float, str]:
    fixed = _psilocybin_nca(25).auc_inf
    ratios = []
    for w in PK6_WEIGHTS_KG:
        ds = simulate_pk("psilocybin", Regimen.single("0.3 mg/kg"), subject={"weight": f"{w} kg"},
                         t_end_h=ACUTE_HOURS, dt_h=FINE_DT_H)
        ratios.append(fixed / nca(ds.time_h.values, ds.concentration.values).auc_inf)
    mid = float(np.exp(np.mean(np.log(ratios))))
    return mid, (f"geometric mean over the weight range; {ratios[0]:.3f} at {PK6_WEIGHTS_KG[0]:.0f} kg, "
                 f"{ratios[1]:.3f} at {PK6_WEIGHTS_KG[1]:.0f} kg (no weight covariate, PK1)")


@check("PK9")
def renal_excretion() -> tuple[float, str]:
    comp = get_compound("psilocybin")
    ds = simulate_pk(comp, Regimen.single("25 mg"), t_end_h=ACUTE_HOURS * 3, amounts=True)
    renal_mg = float(ds.amount.sel(state="renal")[-1])
    percent_molar = renal_mg / comp.molar_ratio / 25.0 * 100.0
    return percent_molar, "molar % of the psilocybin dose excreted as unchanged psilocin over 72 h"


def _duration(dose):
    return effect_duration_h(_acute_psilocybin(dose))


@check("PK10.15")
def duration_15mg() -> float:
    return _duration(15)


@check("PK10.25")
def duration_25mg() -> float:
    return _duration(25)


@check("PK10.30")
def duration_30mg() -> float:
    return _duration(30)


@check("PK10.order")
def duration_order() -> tuple[bool, str]:
    d15, d30 = _duration(15), _duration(30)
    return d30 > d15, f"{d15:.2f} h at 15 mg vs {d30:.2f} h at 30 mg"


def _peak_effect_percent(dose):
    return float(_acute_psilocybin(dose).effect.max()) * 100.0


@check("PK11.15")
def peak_effect_15mg() -> float:
    return _peak_effect_percent(15)


@check("PK11.25")
def peak_effect_25mg() -> float:
    return _peak_effect_percent(25)


@check("PK11.30")
def peak_effect_30mg() -> float:
    return _peak_effect_percent(30)


@check("PK12")
def escitalopram_half_life() -> tuple[float, str]:
    days = 4
    ds = simulate_pk("escitalopram", Regimen.daily("10 mg", duration=f"{days} weeks"), t_end_h=(days * 7 + 7) * 24)
    r = nca(ds.time_h.values, ds.concentration.values)
    return r.half_life, "terminal half-life after 4 weeks of 10 mg daily (NCA)"


@check("PK13")
def ketamine_half_life() -> tuple[float, str]:
    ds = simulate_pk("ketamine", Regimen.infusion("0.5 mg/kg", over="40 min"), subject={"weight": "70 kg"},
                     t_end_h=ACUTE_HOURS, dt_h=FINE_DT_H)
    r = nca(ds.time_h.values, ds.concentration.values)
    return r.half_life, "0.5 mg/kg IV over 40 min, NCA terminal half-life"


@check("RB1")
def peak_occupancy_30mg() -> float:
    return float(_acute_psilocybin(30).occupancy.sel(target="5-HT2A_surface").max()) * 100.0


@check("RB2")
def occupancy_ec50() -> tuple[float, str]:
    tb = get_compound("psilocybin").binding["5-HT2A"]
    return tb.ec50.value, f"model default taken from RB2 itself (unverified), Occmax {tb.occmax.value:.3f}"


@check("RB3")
def effect_tracks_occupancy() -> tuple[bool, str]:
    ds = _acute_psilocybin(25)
    occ = ds.occupancy.sel(target="5-HT2A_surface").values
    eff, conc = ds.effect.values, ds.concentration.sel(compound="psilocybin").values
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    r_occ = float(np.corrcoef(rank(eff), rank(occ))[0, 1])
    r_conc = float(np.corrcoef(rank(eff), rank(conc))[0, 1])
    higher_dose_more = _peak_effect_percent(30) > _peak_effect_percent(15)
    return (r_occ > CHECKS.rb3_min_rank_r_occupancy.value and r_conc > CHECKS.rb3_min_rank_r_plasma.value
            and higher_dose_more,
            f"Spearman r(effect, occupancy) = {r_occ:.2f}, r(effect, plasma) = {r_conc:.2f}")


def _escitalopram_sert_at(dose_mg: float, t_h: float) -> float:
    ds = simulate_acute(("escitalopram", Regimen.single(f"{dose_mg} mg")), t_end_h=ACUTE_HOURS, dt_h=FINE_DT_H)
    return float(ds.occupancy.sel(target="SERT").interp(time_h=t_h)) * 100.0


@check("RB4.5")
def sert_5mg() -> float:
    return _escitalopram_sert_at(5, KLEIN_SCAN_H)


@check("RB4.10")
def sert_10mg() -> float:
    return _escitalopram_sert_at(10, KLEIN_SCAN_H)


@check("RB5")
def sert_chronic_20mg() -> tuple[float, str]:
    hours = CHRONIC_WEEKS * 7 * 24
    ds = simulate_acute(("escitalopram", Regimen.daily("20 mg", duration=f"{CHRONIC_WEEKS} weeks")), t_end_h=hours)
    last_day = ds.occupancy.sel(target="SERT").where(ds.time_h >= hours - HOURS_PER_DAY, drop=True)
    return float(last_day.mean()) * 100.0, f"mean over the last dosing interval after {CHRONIC_WEEKS} weeks of 20 mg daily"


def _trkb_ec50_nm(compound) -> float:
    """TrkB EC50 of ``compound`` as a molar concentration (nM), from its mass concentration."""
    mass = Q_(compound.binding["TrkB"].ec50.to("ng/mL"), "ng/mL")
    molar_mass = Q_(compound.analyte_molar_mass.to("g/mol"), "g/mol")
    return float((mass / molar_mass).to("nM").magnitude)


@check("RB6")
def trkb_affinity() -> tuple[bool, str]:
    psi = get_compound("psilocybin")
    others = [get_compound(n) for n in ("escitalopram", "ketamine")]
    psi_nm = _trkb_ec50_nm(psi)
    other_nm = [_trkb_ec50_nm(c) for c in others]
    fold = min(other_nm) / psi_nm
    ds = simulate_acute(("psilocybin", Regimen.single("1 mg")), t_end_h=ACUTE_HOURS, dt_h=FINE_DT_H)
    trkb, ht2a = (float(ds.occupancy.sel(target=t).max()) for t in ("TrkB", "5-HT2A_surface"))
    return (fold >= CHECKS.rb6_min_affinity_fold.value and trkb > CHECKS.rb6_min_trkb_over_5ht2a.value * ht2a,
            f"TrkB affinity {fold:.0f}x higher than antidepressants; after 1 mg: TrkB {trkb:.2f} vs 5-HT2A {ht2a:.2f}")


@check("RB7")
def pools() -> tuple[bool, str]:
    esc = simulate_acute(("escitalopram", Regimen.daily("20 mg", duration="2 weeks")), t_end_h=14 * 24)
    psi = _acute_psilocybin(25)
    serotonin_surface = float(esc.serotonin_occupancy.max())
    esc_intra = float(esc.activation.sel(pool="intracellular").max())
    psi_intra = float(psi.occupancy.sel(target="5-HT2A_intracellular").max())
    ok = (serotonin_surface > CHECKS.rb7_min_serotonin_surface_occupancy.value and esc_intra == 0.0
          and psi_intra > CHECKS.rb7_min_intracellular_occupancy.value)
    return ok, (f"SSRI: surface serotonin occupancy {serotonin_surface:.2f}, intracellular activation {esc_intra:.2f}; "
                f"psilocin intracellular occupancy {psi_intra:.2f}")


@check("RB8")
def ssri_blunting() -> tuple[bool, str]:
    plain = float(_acute_psilocybin(25).effect.max())
    weeks = 6
    hours = weeks * 7 * 24
    ds = simulate_acute([("escitalopram", Regimen.daily("20 mg", duration=f"{weeks} weeks")),
                         ("psilocybin", Regimen.single("25 mg", at=f"{hours - 24} h"))], t_end_h=hours)
    blunted = float(ds.effect.max())
    off = simulate_acute([("escitalopram", Regimen.daily("20 mg", duration=f"{weeks} weeks")),
                          ("psilocybin", Regimen.single("25 mg", at=f"{hours - 24} h"))], t_end_h=hours,
                         subject={"interactions": {"ssri_5ht2a_downregulation": False, "ssri_surface_serotonin": False}})
    unblunted = float(off.effect.max())
    ok = (blunted < CHECKS.rb8_max_blunted_fraction.value * plain
          and math.isclose(unblunted, plain, rel_tol=CHECKS.rb8_unblunted_tolerance.value))
    return ok, f"peak effect of 25 mg: {plain:.2f} alone, {blunted:.2f} after 6 weeks of escitalopram 20 mg ({unblunted:.2f} with the mechanisms off)"
