"""The clinical Python API: arm names, design copies, treatment types, units of results, exports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from psilosim.clinical.biology import ArmTreatment
from psilosim.clinical.design import ArmSpec, TreatmentSpec
from psilosim.clinical.presets import carhart2021
from psilosim.clinical.stats import arm_summary, difference
from psilosim.clinical.trial import run_trial
from psilosim.errors import InputError
from psilosim.regimen import Regimen
from psilosim.units import ureg


@pytest.fixture(scope="module")
def small_run():
    return run_trial(carhart2021(), n_patients=8, seed=3, backend="sync", chunk_size=8)


# --------------------------------------------------------------------------- 4: unknown arms
def test_difference_names_an_unknown_arm_and_lists_the_runs_arms(small_run):
    with pytest.raises(InputError) as err:
        difference(small_run, "psilocybn", "escitalopram", day=42)
    assert err.value.field == "arm" and "'psilocybn'" in err.value.problem
    assert "psilocybin" in err.value.problem and "escitalopram" in err.value.problem
    with pytest.raises(InputError) as err:
        difference(small_run, "psilocybin", "placebo", day=42)
    assert err.value.field == "reference" and "'placebo'" in err.value.problem


def test_arm_summary_names_an_unknown_arm(small_run):
    with pytest.raises(InputError, match="psilocybn.*psilocybin"):
        arm_summary(small_run, "psilocybn")


# --------------------------------------------------------------------------- 5: validated copies
def test_model_copy_validates_like_construction():
    d = carhart2021()
    with pytest.raises(ValidationError, match="primary_day"):
        d.model_copy(update={"primary_day": 999})
    with pytest.raises(ValidationError, match="start_day"):
        d.arms[0].treatments[0].model_copy(update={"start_day": -1})
    with pytest.raises(ValidationError, match="sd"):
        d.baseline.model_copy(update={"sd": -2.0})
    ok = d.model_copy(update={"primary_day": d.visits[1]})
    assert ok.primary_day == d.visits[1] and ok.arms == d.arms
    assert d.model_copy() == d


# --------------------------------------------------------------------------- 6: two treatment types
def test_arm_spec_given_an_arm_treatment_says_to_use_treatment_spec():
    runtime = ArmTreatment("psilocybin", Regimen.single("25 mg"))
    with pytest.raises(ValidationError, match="ArmTreatment.*use TreatmentSpec"):
        ArmSpec(name="a", treatments=[runtime])
    spec = TreatmentSpec(compound="psilocybin", regimen=Regimen.single("25 mg"))
    assert ArmSpec(name="a", treatments=[spec]).arm_treatments()[0] == runtime


# --------------------------------------------------------------------------- 9: parseable units
def test_every_unit_attr_of_a_trial_result_parses(small_run):
    variables = {**small_run.data_vars, **small_run.coords}
    for da in variables.values():
        if "units" in da.attrs:
            ureg.Unit(str(da.attrs["units"]))  # raises on a sentence
    assert small_run["body_weight_kg"].attrs["units"] == "kg"
    assert small_run["study_day"].attrs["units"] == "day"
    assert small_run["outcome"].attrs["units_coordinate"] == "measure_units"  # rows differ in unit
    assert small_run["outcome"].attrs["scale"] == "QIDS-SR-16" == small_run.attrs["scale"]
    assert "QIDS-SR-16 points" in small_run["outcome"].attrs["long_name"]
    assert "QIDS-SR-16 points" in small_run["baseline_severity"].attrs["long_name"]


# --------------------------------------------------------------------------- 10: exports
def test_clinical_package_exports_its_public_api():
    import psilosim.clinical as clinical

    for name in ("run_trial", "TrialDesign", "ArmSpec", "TreatmentSpec", "BaselineSeverity", "get_preset",
                 "load_design", "summarize", "difference", "ModelSet"):
        assert name in clinical.__all__ and getattr(clinical, name) is not None
    from psilosim.clinical import design, stats, trial

    for module in (design, stats, trial):
        assert all(hasattr(module, n) for n in module.__all__) and module.__all__


def test_importing_psilosim_does_not_import_the_clinical_layer():
    code = "import sys, psilosim; print(any(m.startswith('psilosim.clinical') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
