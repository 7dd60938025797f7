"""One causal chain: the trial's biology is links 1–5 run for each patient, and the what-ifs.

The what-if tests use the example trial scenarios in ``psilosim/scenarios/trials`` and assert the
*direction* of each effect on virtual twins (the same patients in every arm).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.clinical.biology import ArmTreatment, patient_biology
from psilosim.clinical.calibration import TwinCohort
from psilosim.clinical.design import design_from_dict, load_design
from psilosim.clinical.presets import carhart2021
from psilosim.clinical.trial import draw, run_trial
from psilosim.errors import InputError
from psilosim.pharmacokinetics import Subject
from psilosim.plasticity import plasticity_params
from psilosim.regimen import Regimen
from psilosim.species import species_defaults
from psilosim.synapses import simulate_slow_chain, spine_params
from psilosim.synapses.model import stress_for_deficit

TRIALS = resources.files("psilosim") / "scenarios" / "trials"


def _scenario(name: str):
    return load_design(str(TRIALS / f"{name}.yaml"))


def _cohort(design, n=24, seed=3):
    return TwinCohort(design, n, seed)


def _mean_change(cohort, day=None):
    day = cohort.design.primary_day if day is None else day
    return {arm: float(c.mean()) for arm, c in cohort.change(day).items()}


def _mean(cohort, arm, fn):
    k = cohort.design.arm_names.index(arm)
    return float(np.mean([fn(cohort.biology[i, k]) for i in range(cohort.n)]))


# --------------------------------------------------------------------------- one chain
def test_trial_biology_equals_the_chain_output_for_that_patient():
    """The course stored by a trial is simulate_slow_chain run with that patient's own inputs,
    assembled here from the patient's traits without the clinical layer's helpers."""
    design = carhart2021()
    ds = run_trial(design, n_patients=4, seed=11, backend="sync")
    for i in range(4):
        patient = draw(design, i, 11)
        arm = design.arms[int(ds["arm_index"].sel(patient=i))]
        compounds = [t.resolved() for t in arm.arm_treatments() if not t.inert]
        subject = Subject(species="human", weight_kg=patient.body_weight_kg,
                          ht2a_density=patient.receptor_density).with_random_effects(compounds, seed=patient.pk_seed)
        human = plasticity_params("human")
        gains = {g: getattr(human, g).value * patient.plasticity_responsiveness for g in
                 ("gain_intracellular_5ht2a", "gain_trkb_direct", "gain_nmda_blockade", "gain_ssri_transcription")}
        chain = simulate_slow_chain(
            [(t.resolved(), t.regimen) for t in arm.arm_treatments() if not t.inert], species="human",
            days=design.end_day, subject=subject, regions=("PFC",), experience={"PFC": 0.8},
            background_stress=stress_for_deficit(patient.stress_deficit, spine_params("human")),
            plasticity_params=human.replace(**gains))
        days = ds["day"].values
        for q in ("window", "density_rel", "bdnf_rel"):
            expected = np.interp(days, chain["time_d"].values, np.ravel(chain[q].values))
            np.testing.assert_allclose(ds["course"].sel(patient=i, quantity=q).values, expected, rtol=1e-9,
                                       atol=1e-12, err_msg=f"patient {i} {q}")


def test_patients_differ_in_pk_receptors_and_stress_through_the_chain():
    design = carhart2021()
    grid = design.grid()
    treatments = [ArmTreatment("psilocybin", Regimen.single("25 mg"))]
    a, b = draw(design, 0, 1), draw(design, 1, 1)
    bio_a, bio_b = (patient_biology(treatments, p, grid) for p in (a, b))
    assert bio_a.acute_effect_peak != bio_b.acute_effect_peak          # PK and 5-HT2A density differ
    assert bio_a.density_rel[0] == pytest.approx(1 - a.stress_deficit, rel=1e-9)
    assert bio_b.density_rel[0] == pytest.approx(1 - b.stress_deficit, rel=1e-9)
    fewer = a.model_copy(update={"receptor_density": 0.5 * a.receptor_density})
    assert patient_biology(treatments, fewer, grid).acute_effect_peak < bio_a.acute_effect_peak


@settings(max_examples=15, deadline=None)
@given(st.floats(min_value=0.01, max_value=0.4))
def test_background_stress_holds_the_rest_state_at_the_deficit(deficit):
    p = spine_params("human")
    s = stress_for_deficit(deficit, p)
    ds = simulate_slow_chain([], species="human", days=30, background_stress=s)
    dens = ds["density_rel"].values
    assert s > 0
    np.testing.assert_allclose(dens, 1 - deficit, rtol=1e-8)


# --------------------------------------------------------------------------- human cellular set
def test_human_cellular_set_is_explicit_and_slower_than_mouse():
    tempo = species_defaults("human").cellular_tempo.value
    hs, ms = spine_params("human"), spine_params("mouse")
    hp, mp = plasticity_params("human"), plasticity_params("mouse")
    assert hs.labile_loss_rate.value == pytest.approx(ms.labile_loss_rate.value / tempo)
    assert hs.maturation_rate.value == pytest.approx(ms.maturation_rate.value / tempo)
    assert hp.tau_trkb.value == pytest.approx(mp.tau_trkb.value * tempo)
    for p in list(hs.params().values()) + list(hp.params().values()):
        assert p.kind in ("derived", "assumed", "fitted") and p.note
        assert "human" in p.note or p.kind == "fitted"
    # nothing in the human set is calibrated to plasma BDNF (SP8)
    assert all("plasma BDNF" not in (p.note or "").split(";")[0] for p in hp.params().values())


def test_human_psilocybin_day1_spine_gain_is_smaller_with_human_turnover():
    reg = [("psilocybin", Regimen.single("25 mg"))]
    human = simulate_slow_chain(reg, species="human", days=3)
    mouse_rates = simulate_slow_chain(reg, species="human", days=3, spine_params=spine_params("mouse"),
                                      plasticity_params=plasticity_params("mouse"))

    def gain(ds):
        return float(ds["density_rel"].isel(region=0).interp(time_d=1.0)) - 1

    assert 0 < gain(human) < 0.6 * gain(mouse_rates)


# --------------------------------------------------------------------------- SSRI mechanism
def test_ssri_opens_the_window_only_through_slow_bdnf_and_microdoses_do_not():
    esc = [("escitalopram", Regimen.daily("20 mg", duration="6 weeks"))]
    on = simulate_slow_chain(esc, species="human", days=42)
    off = simulate_slow_chain(esc, species="human", days=42, mechanisms={"ssri_transcription": False})
    w_on, w_off = on["window"].values, off["window"].values
    assert w_on[np.searchsorted(on["time_d"].values, 7.0)] < 0.5 * w_on[-1]   # gradual, over weeks
    # opens measurably (≈ 8 % of a full window after 6 weeks) and only through the transcriptional route
    assert w_on[-1] > 0.05 and w_off.max() < 0.01 * w_on[-1]
    micro = simulate_slow_chain([("psilocybin", Regimen.build(phases=[
        {"dose": "2 mg", "every": "3 days", "duration": "4 weeks"}]))], species="human", days=28)
    assert micro["bdnf_rel"].max() > 1.1            # TrkB pulses raise BDNF signalling ...
    assert micro["window"].max() < 0.05             # ... but brief pulses do not open the window


# --------------------------------------------------------------------------- what-ifs
def test_what_if_integration_therapy():
    c = _cohort(_scenario("whatif_integration_therapy"))
    ch = _mean_change(c)
    assert ch["with_therapy"] < ch["without_therapy"] < 0


def test_what_if_supportive_vs_stressful_environment():
    c = _cohort(_scenario("whatif_environment"))
    ch = _mean_change(c)
    assert ch["supportive"] < ch["stressful"]
    # the mechanism: fewer new spines are kept in a stressful setting
    kept = {a: _mean(c, a, lambda b: b.stable_rel[-1] - b.stable_rel[0]) for a in ("supportive", "stressful")}
    assert kept["supportive"] > kept["stressful"]


def test_what_if_ssri_not_washed_out_blunts_the_trip_and_the_benefit():
    kept = _scenario("whatif_ssri_not_washed_out")
    washed = design_from_dict({**kept.model_dump(mode="json"), "ssri_washout": True})
    c_kept, c_washed = _cohort(kept, n=30), _cohort(washed, n=30)
    on_ssri = [p.ssri_blunted for p in c_kept.patients]
    assert any(on_ssri) and not all(on_ssri)
    trip_kept = _mean(c_kept, "psilocybin", lambda b: b.acute_effect_peak)
    trip_washed = _mean(c_washed, "psilocybin", lambda b: b.acute_effect_peak)
    assert trip_kept < trip_washed                                   # RB8 in the binding link
    assert _mean_change(c_kept)["psilocybin"] > _mean_change(c_washed)["psilocybin"]


def test_what_if_microdosing_schedules_stay_close_to_placebo():
    c = _cohort(_scenario("whatif_microdosing_schedules"), n=30)
    ch = _mean_change(c)
    for arm in ("every_third_day", "four_on_three_off"):
        assert ch[arm] <= ch["placebo"] + 1e-9                       # not worse than placebo ...
        assert abs(ch[arm] - ch["placebo"]) < 1.0                    # ... and within 1 QIDS point (CL3)
        assert _mean(c, arm, lambda b: b.acute_effect_peak) < 0.05   # sub-perceptual
    # four days on gives more doses than every third day, hence more BDNF signalling
    assert _mean(c, "four_on_three_off", lambda b: b.bdnf_rel.mean()) > \
        _mean(c, "every_third_day", lambda b: b.bdnf_rel.mean())


def test_what_if_non_hallucinogenic_analogue():
    c = _cohort(_scenario("whatif_non_hallucinogenic_analogue"), n=20)
    trip = {a: _mean(c, a, lambda b: b.acute_effect_peak) for a in c.design.arm_names}
    bdnf = {a: _mean(c, a, lambda b: b.bdnf_rel.max()) for a in c.design.arm_names}
    day1 = {a: _mean(c, a, lambda b: np.interp(1.0, b.time_d, b.density_rel) - b.density_rel[0])
            for a in c.design.arm_names}
    assert trip["psilocybin"] > 0.4 and trip["analogue"] < 0.02          # the trip disappears
    assert bdnf["analogue"] == pytest.approx(bdnf["psilocybin"], rel=0.05)  # BDNF/TrkB plasticity stays
    assert day1["analogue"] == pytest.approx(day1["psilocybin"], rel=0.2)   # and so does spine formation
    assert bdnf["analogue_routes_off"] == pytest.approx(1.0) and day1["analogue_routes_off"] == pytest.approx(0.0)
    ch = _mean_change(c)
    # no window without the acute experience: few new spines are kept, so the benefit lies between
    assert ch["psilocybin"] < ch["analogue"] <= ch["placebo"] + 1e-9
    assert ch["analogue_routes_off"] == pytest.approx(ch["placebo"], abs=1e-9)


def test_trial_yaml_rejects_unknown_mechanisms_and_bad_custom_compounds():
    data = carhart2021().model_dump(mode="json")
    data["arms"][0]["mechanisms"] = {"telepathy": False}
    with pytest.raises(InputError, match="mechanisms"):
        design_from_dict(data)
    data = carhart2021().model_dump(mode="json")
    data["arms"][0]["treatments"][0]["compound"] = {"name": "x", "based_on": "psilocybin",
                                                    "overrides": {"hallucinogenic_efficacy": 3.0}}
    with pytest.raises(InputError, match="hallucinogenic_efficacy"):
        design_from_dict(data)


def test_a_body_weight_truncation_of_one_is_rejected_naming_the_parameter():
    """f = 1 is inside the Param's inclusive bound but leaves a single admissible weight."""
    from psilosim.clinical.patients import DEFAULT_POPULATION, BaselineSeverity, draw_patient

    baseline = BaselineSeverity(scale="QIDS-SR-16", mean=16.0, sd=3.0, minimum=11.0, maximum=27.0)
    population = DEFAULT_POPULATION.replace(body_weight_truncation=1.0)
    with pytest.raises(InputError, match="body_weight_truncation"):
        draw_patient(0, 1, baseline, population=population)
    assert draw_patient(0, 1, baseline).body_weight_kg > 0  # the default draws
