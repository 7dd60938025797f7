"""A trial checks its doses once per arm, before any patient; the fingerprint is computed once per run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import psilosim.clinical.trial as trial_module
from cli_helpers import run_cli
from psilosim.binding import simulate_acute
from psilosim.clinical.design import design_from_dict
from psilosim.clinical.patients import DEFAULT_POPULATION, weight_range_kg
from psilosim.clinical.presets import carhart2021
from psilosim.clinical.trial import ModelSet, check_arm_doses, run_trial, simulate_patient
from psilosim.compounds import get_compound
from psilosim.errors import ExtrapolationWarning, InputError
from psilosim.pharmacokinetics.dose_guard import check_dose_over_weights
from psilosim.regimen import Regimen

ARM = "high_dose_arm"


def _design_data(dose: str) -> dict:
    """carhart2021 with its psilocybin arm renamed and given ``dose`` (studied maximum: 30 mg)."""
    data = carhart2021().model_dump(mode="json")
    data["arms"][0]["name"] = ARM
    data["arms"][0]["treatments"][0]["regimen"]["phases"][0]["dose"] = dose
    return data


def _extrapolation_warnings(recwarn) -> list[str]:
    return [str(w.message) for w in recwarn if issubclass(w.category, ExtrapolationWarning)]


def _no_patient(*args, **kwargs):
    raise AssertionError("a patient was simulated before the design's doses were checked")


# Guards against a unit slip ("25 g" of psilocybin, 833x the studied 30 mg) being found only when a
# worker simulates the first patient of that arm, with a message naming simulate_acute's treatment
# list instead of the design's arm.
def test_a_unit_slip_is_refused_before_any_patient_naming_the_arm(monkeypatch):
    design = design_from_dict(_design_data("25 g"))
    monkeypatch.setattr(trial_module, "simulate_chunk", _no_patient)
    monkeypatch.setattr(trial_module, "simulate_patient", _no_patient)
    with pytest.raises(InputError, match="30 mg") as info:
        run_trial(design, n_patients=4, seed=1, backend="sync")
    assert info.value.field == "arms.0.treatments.0.regimen.phases.0.dose"
    assert f"arm {ARM!r}" in str(info.value)


def test_the_command_refuses_a_unit_slip_before_creating_its_folder(monkeypatch, capsys, tmp_path: Path):
    scenario = tmp_path / "slip.yaml"
    scenario.write_text(yaml.safe_dump(_design_data("25 g")))
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "trial", str(scenario), "-n", "4", "--out", str(out), "--json")
    assert code == 2
    assert err.startswith("error: arms.0.treatments.0.regimen.phases.0.dose:") and ARM in err
    assert not out.exists()


# Guards against the per-patient check: one "extrapolating" warning for every patient of the arm.
def test_a_dose_above_the_studied_one_warns_once_per_arm_not_per_patient(recwarn):
    design = design_from_dict(_design_data("40 mg"))
    ds = run_trial(design, n_patients=8, seed=2, backend="sync", chunk_size=3)
    assert int((ds["arm"] == ARM).sum()) >= 2  # several patients received the dose
    messages = _extrapolation_warnings(recwarn)
    assert len(messages) == 1
    assert f"arm {ARM!r}" in messages[0] and "40 mg" in messages[0] and "extrapolating" in messages[0]


# An API user who simulates one patient (or calls the binding link) is still checked.
def test_library_callers_keep_the_check_unless_they_opt_out(recwarn):
    design = design_from_dict(_design_data("40 mg"))
    arm = design.arm_names.index(ARM)
    simulate_patient(design, 0, 2, arm=arm)
    assert len(_extrapolation_warnings(recwarn)) == 1
    simulate_patient(design, 0, 2, arm=arm, check_doses=False)
    assert len(_extrapolation_warnings(recwarn)) == 1
    with pytest.raises(InputError, match="30 mg"):
        simulate_acute([("psilocybin", Regimen.single("25 g"))], t_end_h=2.0)
    simulate_acute([("psilocybin", Regimen.single("25 g"))], t_end_h=2.0, check_doses=False)


# ---------------------------------------------------------------- per-kg doses: the population's weight range
def test_the_weight_range_is_the_one_patients_are_drawn_in():
    low, high = weight_range_kg(population=DEFAULT_POPULATION)
    f = DEFAULT_POPULATION.body_weight_truncation.value
    assert low == pytest.approx(DEFAULT_POPULATION.body_weight_mean.value / f)
    assert high == pytest.approx(DEFAULT_POPULATION.body_weight_mean.value * f)


def test_a_weight_dependent_dose_is_judged_for_the_patient_it_is_highest_for():
    ketamine, psilocybin = get_compound("ketamine"), get_compound("psilocybin")  # 0.5 mg/kg and 30 mg studied
    weights = (40.0, 120.0)
    # a fixed 40 mg of ketamine is 1 mg/kg for the lightest patient (above 0.5), 0.33 for the heaviest
    light = check_dose_over_weights(ketamine, Regimen.single("40 mg"), weights, field="dose")
    assert light is not None and "1 mg/kg" in light and "40 kg" in light
    # 0.5 mg/kg of psilocybin is 60 mg for the heaviest patient (above 30 mg), 20 mg for the lightest
    heavy = check_dose_over_weights(psilocybin, Regimen.single("0.5 mg/kg"), weights, field="dose")
    assert heavy is not None and "60 mg" in heavy and "120 kg" in heavy
    # a per-kg dose against a per-kg maximum does not depend on the weight: no weight is named
    same = check_dose_over_weights(ketamine, Regimen.single("0.6 mg/kg"), weights, field="dose")
    assert same is not None and "0.6 mg/kg" in same and " kg)" not in same and "40 kg" not in same
    assert check_dose_over_weights(psilocybin, Regimen.single("0.2 mg/kg"), weights, field="dose") is None
    with pytest.raises(InputError, match="120 kg"):  # 3600 mg for 120 kg: 120x the studied 30 mg
        check_dose_over_weights(psilocybin, Regimen.single("30 mg/kg"), weights, field="dose")


def test_check_arm_doses_is_silent_for_studied_doses(recwarn):
    check_arm_doses(carhart2021())
    assert _extrapolation_warnings(recwarn) == []


# ---------------------------------------------------------------- the resume fingerprint
def test_the_model_fingerprint_is_computed_once_per_run(monkeypatch, tmp_path: Path):
    calls = []
    original = ModelSet.fingerprint

    def counted(self, *, design=None):
        calls.append(design is not None)
        return original(self, design=design)

    monkeypatch.setattr(ModelSet, "fingerprint", counted)
    ds = run_trial(carhart2021(), n_patients=2, seed=4, out=tmp_path, backend="sync")
    assert calls == [True]
    assert ds.attrs["model_fingerprint"] == original(ModelSet(), design=carhart2021())


def test_twin_cohorts_check_each_arm_once_not_each_twin(monkeypatch):
    """The calibration's twins (:class:`~psilosim.clinical.calibration.TwinCohort`) check doses as a trial does."""
    import psilosim.pharmacokinetics.dose_guard as dose_guard
    from psilosim.clinical.calibration import TwinCohort
    from psilosim.clinical.presets import ketamine_iv

    calls = []
    original = dose_guard.check_studied_dose
    monkeypatch.setattr(dose_guard, "check_studied_dose", lambda *a, **k: calls.append(1) or original(*a, **k))
    TwinCohort(ketamine_iv(), 6, 1)
    # one active arm (saline is inert), checked at the two ends of the weight range: not once per twin
    assert len(calls) == 2


def test_the_error_names_the_phase_that_holds_the_offending_dose():
    """A regimen has no ``dose`` field: the message points at the phase with the largest administration."""
    from psilosim.compounds import get_compound
    from psilosim.pharmacokinetics.dose_guard import check_dose_over_weights
    from psilosim.regimen import Regimen

    regimen = Regimen.build(route="oral", phases=[{"dose": "1 mg", "every": "1 day", "count": 2},
                                                  {"dose": "25 g", "every": "1 day", "count": 2}])
    assert regimen.largest_phase() == 1
    with pytest.raises(InputError) as info:
        check_dose_over_weights(get_compound("psilocybin"), regimen, (50.0, 100.0),
                                field="arms.0.treatments.0.regimen.phases.{p}.dose")
    assert info.value.field == "arms.0.treatments.0.regimen.phases.1.dose"
