"""A user's own compound: a compound file on the command line (pk, window, spines, scan), a
registered compound on worker processes, and a full compound definition in a trial design
(audit s4 U6 findings 4–6)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from cli_helpers import run_cli

#: Name of the test compound: psilocybin's whole definition under another name, so every number
#: it gives must equal psilocybin's (a physical identity, not a copied output).
COPY_NAME = "Copycybin"


def _psilocybin_copy(name: str = COPY_NAME):
    from psilosim.compounds import Compound, get_compound

    data = get_compound("psilocybin").model_dump(mode="json")
    return Compound.model_validate({**data, "name": name, "aliases": []})


@pytest.fixture
def compound_file(tmp_path):
    """Psilocybin's definition (with its mouse PK) as a user's compound file named Copycybin."""
    path = tmp_path / "copycybin.yaml"
    path.write_text(yaml.safe_dump(_psilocybin_copy().model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def own_psilocybin_file(tmp_path):
    """A user's own copy of psilocybin's definition under the library's name: a random effect is
    drawn per compound name, so with a seed only the same name draws the same subject."""
    path = tmp_path / "my_psilocybin.yml"
    path.write_text(yaml.safe_dump(_psilocybin_copy("Psilocybin").model_dump(mode="json"), allow_unicode=True),
                    encoding="utf-8")
    return path


@pytest.fixture
def isolated_registry(monkeypatch):
    """The compound registry as it is, restored after the test (registering is process-wide)."""
    import psilosim.compounds as compounds

    compounds.known_compounds()  # load the shipped library first
    monkeypatch.setattr(compounds, "_LIBRARY", dict(compounds._LIBRARY))
    monkeypatch.setattr(compounds, "_ALIASES", dict(compounds._ALIASES))
    return compounds


def _json(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# ----------------------------------------------------------------- finding 4: --compound FILE
def test_pk_takes_a_compound_file_and_gives_the_library_compound_numbers(monkeypatch, capsys, compound_file):
    mine = _json(monkeypatch, capsys, "pk", "--compound", str(compound_file), "--dose", "25 mg")
    library = _json(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg")
    assert mine["compound"] == COPY_NAME
    assert mine["cmax_ng_ml"] == pytest.approx(library["cmax_ng_ml"], rel=1e-12)
    assert mine["peak_occupancy"] == pytest.approx(library["peak_occupancy"], rel=1e-12)


def test_window_and_spines_take_a_compound_file(monkeypatch, capsys, compound_file):
    dose = ["--dose", "1 mg/kg", "--route", "ip"]
    mine = _json(monkeypatch, capsys, "window", "--compound", str(compound_file), *dose)
    library = _json(monkeypatch, capsys, "window", "--compound", "psilocybin", *dose)
    assert mine["compound"] == COPY_NAME
    assert mine["window_days"] == pytest.approx(library["window_days"], rel=1e-9)
    spines = _json(monkeypatch, capsys, "spines", "--compound", str(compound_file), *dose, "--days", "2")
    reference = _json(monkeypatch, capsys, "spines", "--compound", "psilocybin", *dose, "--days", "2")
    assert spines["compound"] == COPY_NAME
    assert spines["density_change_pct"] == pytest.approx(reference["density_change_pct"], rel=1e-9)


def test_scan_takes_a_compound_file(monkeypatch, capsys, own_psilocybin_file):
    options = ["--dose", "25 mg", "--method", "linear"]
    mine = _json(monkeypatch, capsys, "scan", "--compound", str(own_psilocybin_file), *options)
    library = _json(monkeypatch, capsys, "scan", "--compound", "psilocybin", *options)
    assert mine["compound"] == "Psilocybin"
    assert mine["occupancy"] == pytest.approx(library["occupancy"], rel=1e-12)
    assert mine["fc_change_global"] == pytest.approx(library["fc_change_global"], rel=1e-9)


def test_scan_of_a_compound_without_an_oral_route_says_so(monkeypatch, capsys, tmp_path):
    data = _psilocybin_copy().model_dump(mode="json")
    for pk_set in data["species"]["human"]["sets"].values():
        pk_set["routes"] = {"iv": pk_set["routes"]["oral"]}
    path = tmp_path / "iv_only.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "scan", "--compound", str(path), "--method", "linear")
    assert code == 2
    assert "--compound" in err and "--occupancy" in err and "oral" in err


def test_a_bad_compound_file_is_one_line_naming_the_file_and_field(monkeypatch, capsys, tmp_path):
    data = _psilocybin_copy().model_dump(mode="json")
    data.pop("species")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "window", "--compound", str(bad), "--dose", "1 mg/kg")
    assert code == 2
    assert "--compound" in err and "bad.yaml.species" in err  # not renamed to --species
    code, _, err = run_cli(monkeypatch, capsys, "pk", "--compound", str(tmp_path / "none.yml"), "--dose", "1 mg")
    assert code == 2 and "no such compound file" in err


# --------------------------------------------------- finding 5: a registered compound on workers
def _design(compound):
    from psilosim.clinical.design import ArmSpec, TreatmentSpec, TrialDesign
    from psilosim.clinical.patients import BaselineSeverity
    from psilosim.regimen import Regimen

    return TrialDesign(name="user_compound", scale="MADRS", visits=[0, 1, 7], primary_day=7,
                       baseline=BaselineSeverity(scale="MADRS", mean=32, sd=5, minimum=20),
                       arms=[ArmSpec(name="drug", treatments=[TreatmentSpec(compound=compound,
                                                                            regimen=Regimen.single("25 mg"))]),
                             ArmSpec(name="placebo")])


def test_a_registered_compound_reaches_worker_processes(isolated_registry):
    from psilosim.clinical.trial import run_trial

    isolated_registry.register_compound(_psilocybin_copy())
    design = _design(COPY_NAME)
    sync = run_trial(design, n_patients=3, seed=4, backend="sync")
    spread = run_trial(design, n_patients=3, seed=4, workers=2, chunk_size=2)
    on_drug = sync["arm_index"].values == 0
    assert on_drug.any() and (sync["acute_effect_peak"].values[on_drug] > 0).all()  # the compound acted
    for name in sync.data_vars:
        np.testing.assert_array_equal(sync[name].values, spread[name].values, err_msg=name)


def test_a_registered_compound_is_carried_as_its_definition(isolated_registry):
    from psilosim.clinical.design import TrialDesign

    isolated_registry.register_compound(_psilocybin_copy())
    design = _design(COPY_NAME)
    isolated_registry._LIBRARY.pop(COPY_NAME.lower())  # another process: the registration is absent
    isolated_registry._ALIASES.pop(COPY_NAME.lower())
    treatment = design.arms[0].arm_treatments()[0]
    assert treatment.resolved().name == COPY_NAME
    again = TrialDesign.model_validate_json(design.model_dump_json())
    assert again.arms[0].arm_treatments()[0].resolved() == _psilocybin_copy()


def test_a_shipped_compound_stays_a_name_in_the_design():
    design = _design("Psilocybin")
    assert design.arms[0].treatments[0].compound == "psilocybin"


# ------------------------------------------------ finding 6: a full compound in a trial design
def _trial_yaml(tmp_path, compound) -> str:
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump({
        "name": "full", "scale": "MADRS", "visits": [0, 1, 7], "primary_day": 7,
        "baseline": {"scale": "MADRS", "mean": 32, "sd": 5, "minimum": 20},
        "arms": [{"name": "drug", "treatments": [{"compound": compound, "regimen": {"phases": [{"dose": "25 mg"}]}}]},
                 {"name": "placebo"}],
        "patients": 2}, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_a_trial_design_takes_a_full_compound_definition(tmp_path):
    from psilosim.clinical.design import load_design

    design = load_design(_trial_yaml(tmp_path, _psilocybin_copy().model_dump(mode="json")))
    assert design.arms[0].arm_treatments()[0].resolved() == _psilocybin_copy()


def test_a_bad_full_compound_in_a_trial_names_its_field(tmp_path):
    from psilosim.clinical.design import load_design
    from psilosim.errors import InputError

    data = _psilocybin_copy().model_dump(mode="json")
    data["analyte_molar_mas"] = data.pop("analyte_molar_mass")
    with pytest.raises(InputError) as info:
        load_design(_trial_yaml(tmp_path, data))
    assert info.value.field == "arms.0.treatments.0.compound.analyte_molar_mas"
    assert "analyte_molar_mass" in info.value.problem  # did you mean


def test_a_custom_compound_in_a_trial_still_names_its_typo(tmp_path):
    from psilosim.clinical.design import load_design
    from psilosim.errors import InputError

    with pytest.raises(InputError) as info:
        load_design(_trial_yaml(tmp_path, {"name": "x", "based_on": "psilocybin", "overides": {}}))
    assert info.value.field == "arms.0.treatments.0.compound.overides"
    with pytest.raises(InputError) as info:  # overrides without based_on: a custom compound missing its base
        load_design(_trial_yaml(tmp_path, {"name": "x", "overrides": {}}))
    assert info.value.field == "arms.0.treatments.0.compound.based_on"


def test_the_report_names_a_full_compound_by_its_name_not_its_fields():
    from psilosim.report.trial import _compound_text

    text = _compound_text(_psilocybin_copy())
    assert text == f"{_psilocybin_copy().name} (own definition)"
    assert _compound_text("psilocybin") == "psilocybin"


def _copy_file(tmp_path, folder="study"):
    """The library's psilosim compound copied to ``tmp_path/folder/copy.yaml`` (as a user's file)."""
    target = tmp_path / folder
    target.mkdir(exist_ok=True)
    path = target / "copy.yaml"
    path.write_text(yaml.safe_dump(_psilocybin_copy().model_dump(mode="json")), encoding="utf-8")
    return path


def test_a_scenario_names_a_compound_file_relative_to_itself(tmp_path, monkeypatch):
    from psilosim.scenario import load_scenario

    _copy_file(tmp_path)
    scenario = tmp_path / "study" / "s.yaml"
    scenario.write_text(yaml.safe_dump({"name": "s", "treatments": [
        {"compound": "copy.yaml", "regimen": {"phases": [{"dose": "25 mg"}]}}]}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the scenario's folder: the path is read from the scenario's
    treatment = load_scenario(scenario).treatments[0]
    assert treatment.resolve_compound() == _psilocybin_copy()


def test_a_trial_design_names_a_compound_file_relative_to_itself(tmp_path, monkeypatch):
    from psilosim.clinical.design import load_design

    _copy_file(tmp_path)
    path = _trial_yaml(tmp_path / "study", "copy.yaml")
    monkeypatch.chdir(tmp_path)
    design = load_design(path)
    assert design.arms[0].arm_treatments()[0].resolved() == _psilocybin_copy()


def test_a_missing_compound_file_in_a_scenario_is_named(tmp_path):
    from psilosim.errors import InputError
    from psilosim.scenario import load_scenario

    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"name": "s", "treatments": [
        {"compound": "nope.yaml", "regimen": {"phases": [{"dose": "25 mg"}]}}]}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(scenario)
    assert info.value.field == "treatments.0.compound" and "no such compound file" in info.value.problem


def test_a_design_reads_its_imaging_folder_from_its_own_folder(tmp_path, monkeypatch):
    from psilosim.clinical.design import load_design

    study = tmp_path / "study"
    (study / "brain").mkdir(parents=True)  # the loader checks the folder exists (its data are read at run time)
    path = study / "trial.yaml"
    path.write_text(yaml.safe_dump({
        "name": "img", "scale": "MADRS", "visits": [0, 7], "primary_day": 7,
        "baseline": {"scale": "MADRS", "mean": 32, "sd": 5, "minimum": 20},
        "arms": [{"name": "drug", "treatments": [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}]},
                 {"name": "placebo"}],
        "imaging": {"visits": [0, 7], "dataset": "brain"}, "patients": 2}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the design's folder: "brain" is not found from here
    assert load_design(path).imaging.dataset == str((study / "brain").resolve())
    path.write_text(path.read_text().replace("dataset: brain", "dataset: aal2"))
    assert load_design(path).imaging.dataset == "aal2"  # a built-in name stays a name
