"""Provenance and re-running from what was saved (reproducibility review, F14).

Each test pins one finding: the saved design/scenario holds the seed and patient count actually
used; ``psilosim run|trial OUT/provenance.json`` re-runs bit-identically and refuses the other
kind's record; ``run`` stores parameter values; the trial's parameter record (and so its resume
fingerprint) covers the binding link's sets; results files describe their units and carry
version, time and command line; ``outputs.folder`` records the folder used.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cli_helpers import run_cli
from psilosim.errors import InputError

#: A small variable population without a seed (the seed is drawn), 6 h on a 15-min grid: fast.
DRAWN_SEED_SCENARIO = ("name: drawn\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
                       "subject: {weight: 70 kg}\npopulation: {size: 2, variability: true}\n"
                       "simulation: {duration: 6 h, step: 15 min}\noutputs: {figures: []}\n")
TRIAL_ARGS = ("carhart2021", "--patients", "6", "--seed", "3", "--no-report", "--json")


def _open(path: Path) -> xr.Dataset:
    return xr.load_dataset(path, engine="h5netcdf")


def _same_numbers(a: xr.Dataset, b: xr.Dataset) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)  # bit for bit
    for name in a.coords:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """``psilosim run`` of a drawn-seed scenario into a folder named by --out."""
    base = tmp_path_factory.mktemp("run")
    scenario = base / "drawn.yaml"
    scenario.write_text(DRAWN_SEED_SCENARIO)
    mp = pytest.MonkeyPatch()
    try:
        code, out, err = _cli(mp, "run", str(scenario), "--out", str(base / "run1"), "--json")
    finally:
        mp.undo()
    assert code == 0, err
    return base / "run1"


@pytest.fixture(scope="module")
def first_trial(tmp_path_factory):
    """``psilosim trial carhart2021 --patients 6 --seed 3`` (the preset's defaults are 59 and 2021)."""
    out = tmp_path_factory.mktemp("trial") / "t1"
    mp = pytest.MonkeyPatch()
    try:
        code, _, err = _cli(mp, "trial", *TRIAL_ARGS, "--out", str(out))
    finally:
        mp.undo()
    assert code == 0, err
    return out


def _cli(mp, *args):
    """``run_cli`` for module fixtures (no capsys there): stdout/stderr captured by redirection."""
    import contextlib
    import io
    import sys

    from psilosim.cli import main

    mp.setattr(sys, "argv", ["psilosim", *args])
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- 1. the values used, in the saved block
def test_trial_provenance_design_holds_the_seed_and_patients_used(first_trial):
    record = json.loads((first_trial / "provenance.json").read_text())
    assert record["scenario"]["seed"] == 3 and record["scenario"]["patients"] == 6
    design = json.loads(_open(first_trial / "results.nc").attrs["design"])
    assert design["seed"] == 3 and design["patients"] == 6


def test_run_provenance_scenario_holds_the_drawn_seed(first_run):
    record = json.loads((first_run / "provenance.json").read_text())
    drawn = int(_open(first_run / "results.nc").attrs["seed"])
    assert record["scenario"]["seed"] == drawn == record["seed"]


# ---------------------------------------------------------------- 2. re-running from provenance.json
def test_run_reruns_bit_identically_from_its_provenance(first_run, monkeypatch, capsys):
    again = first_run.parent / "again"
    code, _, err = run_cli(monkeypatch, capsys, "run", str(first_run / "provenance.json"), "--out", str(again),
                           "--json")
    assert code == 0, err
    _same_numbers(_open(first_run / "results.nc"), _open(again / "results.nc"))


def test_run_refuses_to_replace_the_folder_it_reruns(first_run, monkeypatch, capsys):
    before = (first_run / "results.nc").stat().st_mtime_ns
    code, _, err = run_cli(monkeypatch, capsys, "run", str(first_run / "provenance.json"), "--json")
    assert code == 2 and "re-run" in err and len(err.strip().splitlines()) == 1
    assert (first_run / "results.nc").stat().st_mtime_ns == before


def test_trial_reruns_bit_identically_from_its_provenance(first_trial, monkeypatch, capsys):
    again = first_trial.parent / "again"
    code, out, err = run_cli(monkeypatch, capsys, "trial", str(first_trial / "provenance.json"), "--no-report",
                             "--json", "--out", str(again))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["patients"] == 6 and summary["seed"] == 3
    _same_numbers(_open(first_trial / "results.nc"), _open(again / "results.nc"))


def test_each_command_refuses_the_other_kinds_provenance(first_run, first_trial, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "run", str(first_trial / "provenance.json"), "--out",
                           str(first_trial.parent / "x"))
    assert code == 2 and "virtual trial" in err and "psilosim trial" in err
    code, _, err = run_cli(monkeypatch, capsys, "trial", str(first_run / "provenance.json"), "--out",
                           str(first_run.parent / "y"))
    assert code == 2 and "psilosim run" in err
    from psilosim.clinical.trial import design_from_provenance
    from psilosim.scenario import load_scenario

    with pytest.raises(InputError, match="virtual trial"):
        load_scenario(first_trial / "provenance.json")
    with pytest.raises(InputError, match="psilosim run"):
        design_from_provenance(first_run / "provenance.json")


def test_a_json_that_is_no_provenance_is_refused_clearly(tmp_path):
    from psilosim.clinical.trial import design_from_provenance

    path = tmp_path / "other.json"
    path.write_text(json.dumps({"psilosim_version": "0.1.0"}))
    with pytest.raises(InputError, match="not a psilosim provenance record"):
        design_from_provenance(path)


# ---------------------------------------------------------------- 3. run stores parameter values
def test_run_provenance_holds_the_parameter_values_used(first_run):
    from psilosim.binding import ACUTE_RESOLUTION, EFFECT_PARAMS
    from psilosim.pharmacokinetics import INTERACTION_PARAMS

    record = json.loads((first_run / "provenance.json").read_text())
    values = record["parameter_values"]
    assert values["binding.effect"] == EFFECT_PARAMS.model_dump(mode="json")
    assert values["binding.acute_resolution"] == ACUTE_RESOLUTION.model_dump(mode="json")
    assert values["interactions"] == INTERACTION_PARAMS.model_dump(mode="json")
    pk = values["compound.psilocybin"]
    assert {"value", "unit", "source", "kind"} <= set(values["binding.effect"]["emax"])
    assert pk["name"] == "psilocybin"
    assert record["parameter_sets"] == {"psilocybin": "holze2023"}  # the labels stay as they were


# ---------------------------------------------------------------- 4. the trial's record covers binding
@pytest.mark.parametrize(("module", "name", "field", "factor"), [
    ("psilosim.binding.params", "EFFECT_PARAMS", "drive_50", 1.1),
    ("psilosim.binding.params", "ACUTE_RESOLUTION", "max_internal_step", 0.5),
    ("psilosim.pharmacokinetics.interactions", "INTERACTION_PARAMS", "mao_inhibition_fraction", 0.5),
])
def test_trial_fingerprint_covers_the_binding_link(monkeypatch, module, name, field, factor):
    import importlib

    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import ModelSet

    design = get_preset("carhart2021")
    base = ModelSet().fingerprint(design=design)
    mod = importlib.import_module(module)
    params = getattr(mod, name)
    monkeypatch.setattr(mod, name, params.replace(**{field: getattr(params, field).value * factor}))
    assert ModelSet().fingerprint(design=design) != base
    assert name.split("_")[0].lower() in " ".join(ModelSet().parameter_sets(design=design)).lower()


def test_a_trial_is_not_resumed_after_a_binding_parameter_changed(monkeypatch, tmp_path):
    from psilosim.binding import params as bp
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import run_trial

    design = get_preset("carhart2021")
    assert run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync",
                     max_new_chunks=1) is None  # interrupted after one chunk
    monkeypatch.setattr(bp, "EFFECT_PARAMS", bp.EFFECT_PARAMS.replace(drive_50=bp.EFFECT_PARAMS.drive_50.value * 1.1))
    with pytest.raises(InputError, match="model parameters differ"):
        run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync")


# ---------------------------------------------------------------- 5. self-description of outputs
def test_trial_results_name_the_units_of_scale_points(first_trial):
    from psilosim.units import ureg

    ds = _open(first_trial / "results.nc")
    assert ds["baseline_severity"].attrs["units"] == "scale_point"
    ureg.Unit(ds["baseline_severity"].attrs["units"])  # the project registry reads it
    units = dict(zip(ds["measure"].values, ds["measure_units"].values, strict=True))
    assert units["score"] == units["latent"] == "scale_point" and units["window"] == "1"
    course = dict(zip(ds["quantity"].values, ds["quantity_units"].values, strict=True))
    assert course["latent"] == "scale_point" and course["density_rel"] == "1"
    assert ds["outcome"].attrs["units_coordinate"] == "measure_units"
    # a mixed-unit variable carries no single units a reader would apply to every row
    assert "units" not in ds["outcome"].attrs and "units" not in ds["course"].attrs


@pytest.mark.parametrize("kind", ["run", "trial"])
def test_results_files_are_stamped_with_version_time_and_command(kind, first_run, first_trial):
    from psilosim import __version__

    ds = _open((first_run if kind == "run" else first_trial) / "results.nc")
    assert ds.attrs["psilosim_version"] == __version__
    assert ds.attrs["created_utc"].endswith("+00:00")
    assert ds.attrs["command"].split()[1] == kind


def test_calibration_envelope_file_has_units_and_stamp(tmp_path):
    from psilosim.clinical.uncertainty import PREDICTIONS, _as_dataset
    from psilosim.io import write_results

    points = [(-1.0, -6.0), (-0.8, -5.0)]
    fitted = [[0.5, 0.4, -1.0, -6.0], [0.4, 0.3, -0.8, -5.0]]
    rows = [[float(i) for i in range(len(PREDICTIONS))]] * 2
    ds = _open(write_results(_as_dataset(points, fitted, rows, PREDICTIONS, n=2, seed=1), tmp_path / "e.nc"))
    for name in ("target_cl1_escitalopram", "achieved_cl1_escitalopram"):
        assert "units" in ds[name].attrs, name
    for name in ("value", "published", "published_ci_low", "published_ci_high"):  # rows differ in unit
        assert "units" not in ds[name].attrs and ds[name].attrs["units_coordinate"] == "prediction_units", name
    assert ds["target_cl1_escitalopram"].attrs["units"] == "scale_point"
    assert set(ds["prediction_units"].values) <= {"scale_point", "1"}
    assert "psilosim_version" in ds.attrs and "command" in ds.attrs


def test_run_provenance_records_the_folder_used(first_run):
    record = json.loads((first_run / "provenance.json").read_text())
    assert Path(record["scenario"]["outputs"]["folder"]) == first_run.resolve()


def test_run_rerun_of_a_copied_record_does_not_overwrite_the_original(first_run, tmp_path, monkeypatch, capsys):
    # the record still names the original folder: a re-run needs --out, and not that folder
    copy = tmp_path / "saved" / "provenance.json"
    copy.parent.mkdir()
    copy.write_text((first_run / "provenance.json").read_text())
    before = (first_run / "results.nc").stat().st_mtime_ns
    for extra in ([], ["--out", str(first_run)]):
        code, _, err = run_cli(monkeypatch, capsys, "run", str(copy), "--json", *extra)
        assert code == 2 and "--out" in err, err
    assert (first_run / "results.nc").stat().st_mtime_ns == before
    code, _, err = run_cli(monkeypatch, capsys, "run", str(copy), "--json", "--out", str(tmp_path / "new"))
    assert code == 0, err
    _same_numbers(_open(first_run / "results.nc"), _open(tmp_path / "new" / "results.nc"))


def test_trial_rerun_needs_out_and_never_resumes_the_recorded_folder(first_trial, monkeypatch, capsys):
    # without the guard, the default folder is the recorded one and the manifest matches: the
    # "re-run" would resume the old chunks and simulate nothing
    monkeypatch.chdir(first_trial.parent)
    chunks = sorted((first_trial / "chunks").iterdir())
    stamps = [c.stat().st_mtime_ns for c in chunks]
    for extra in ([], ["--out", str(first_trial)]):
        code, _, err = run_cli(monkeypatch, capsys, "trial", str(first_trial / "provenance.json"), "--no-report",
                               "--json", *extra)
        assert code == 2 and "--out" in err, err
    assert [c.stat().st_mtime_ns for c in chunks] == stamps


def test_trial_reads_a_design_written_as_json(tmp_path, monkeypatch, capsys):
    from psilosim.clinical.presets import get_preset

    path = tmp_path / "design.json"
    path.write_text(get_preset("daws2022").model_dump_json())
    code, out, err = run_cli(monkeypatch, capsys, "trial", str(path), "--patients", "4", "--no-report", "--json",
                             "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert json.loads(out)["patients"] == 4
    code, _, err = run_cli(monkeypatch, capsys, "trial", str(tmp_path / "provenanc.json"), "--json")
    assert code == 2 and "no such" in err, err


def test_trial_json_carries_the_commands_warnings(tmp_path, monkeypatch, capsys):
    # 40 mg is above the studied psilocybin doses: its warning reaches stderr and the JSON alike
    design = (resources.files("psilosim") / "scenarios" / "trials" / "whatif_environment.yaml").read_text()
    path = tmp_path / "high.yaml"
    path.write_text(design.replace("dose: 25 mg", "dose: 40 mg"))
    code, out, err = run_cli(monkeypatch, capsys, "trial", str(path), "--patients", "4", "--no-report", "--json",
                             "--out", str(tmp_path / "out"))
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert warnings and any("40" in w for w in warnings), warnings


def test_a_trial_identity_follows_parameter_values_not_their_prose():
    # a corrected citation or note must not stop a resume; a changed value must
    import dataclasses

    from psilosim.clinical.identity import DEFAULT_MODELS
    from psilosim.clinical.presets import get_preset
    from psilosim.parameters import Param

    design = get_preset("carhart2021")
    bio = DEFAULT_MODELS.biology
    name, old = next((n, p) for n, p in bio if isinstance(p, Param) and p.value != 0)
    reworded = Param(**{**old.model_dump(), "source": "a corrected citation, 2026", "note": "reworded"})
    revalued = Param(**{**old.model_dump(), "value": old.value * 1.01})
    base = DEFAULT_MODELS.fingerprint(design=design)
    assert dataclasses.replace(DEFAULT_MODELS, biology=bio.replace(**{name: reworded})).fingerprint(design=design) == base
    assert dataclasses.replace(DEFAULT_MODELS, biology=bio.replace(**{name: revalued})).fingerprint(design=design) != base


# ---------------------------------------------------------------- 6. a re-run names what differs (F24)
def _tampered(record_path: Path, dest: Path, edit) -> Path:
    """A copy of the provenance record at ``record_path`` in ``dest``, changed by ``edit(record)``."""
    record = json.loads(record_path.read_text())
    edit(record)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "provenance.json").write_text(json.dumps(record))
    return dest / "provenance.json"


def _other_value(param: dict) -> float:
    """A value inside ``param``'s bounds that is not its own (0 unless it is 0)."""
    return 0.0 if param["value"] != 0 else 0.5


def test_run_rerun_names_each_changed_parameter_value_and_still_runs(first_run, tmp_path, monkeypatch, capsys):
    recorded = {}

    def edit(record):
        param = record["parameter_values"]["interactions"]["downregulation_max"]
        recorded["value"] = param["value"] = _other_value(param)
        record["parameter_values"]["binding.effect"]["emax"]["source"] = "a reworded citation"  # prose: not named

    copy = _tampered(first_run / "provenance.json", tmp_path / "saved", edit)
    code, out, err = run_cli(monkeypatch, capsys, "run", str(copy), "--json", "--out", str(tmp_path / "new"))
    assert code == 0, err
    from psilosim.pharmacokinetics import INTERACTION_PARAMS

    named = f"interactions.downregulation_max {json.dumps(recorded['value'])} → " \
            f"{json.dumps(INTERACTION_PARAMS.downregulation_max.value)}"
    warnings = json.loads(out)["warnings"]
    assert any(named in w for w in warnings), warnings
    assert named in " ".join(err.split())
    assert not any("binding.effect" in w for w in warnings), warnings


def test_trial_rerun_names_each_changed_parameter_value(first_trial, tmp_path, monkeypatch, capsys):
    def edit(record):
        param = record["parameter_sets"]["biology"]["correlation_supportive"]
        param["value"] = _other_value(param)

    copy = _tampered(first_trial / "provenance.json", tmp_path / "saved", edit)
    code, out, err = run_cli(monkeypatch, capsys, "trial", str(copy), "--no-report", "--json", "--out",
                             str(tmp_path / "new"))
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any("biology.correlation_supportive" in w for w in warnings), warnings
    assert "biology.correlation_supportive" in " ".join(err.split())


def test_an_unchanged_record_reruns_without_a_warning(first_run, first_trial):
    import warnings

    from psilosim.clinical.trial import design_from_provenance
    from psilosim.errors import RerunChangedWarning
    from psilosim.scenario import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("error", RerunChangedWarning)
        load_scenario(first_run / "provenance.json")
        design_from_provenance(first_trial / "provenance.json")


def test_a_record_of_another_psilosim_version_is_named(first_run, first_trial, tmp_path):
    from psilosim import __version__
    from psilosim.clinical.trial import design_from_provenance
    from psilosim.errors import RerunChangedWarning
    from psilosim.scenario import load_scenario

    def edit(record):
        record["psilosim_version"] = "0.0.1-older"

    for kind, folder, load in (("run", first_run, load_scenario), ("trial", first_trial, design_from_provenance)):
        copy = _tampered(folder / "provenance.json", tmp_path / kind, edit)
        with pytest.warns(RerunChangedWarning, match=rf"psilosim 0\.0\.1-older, this is psilosim {__version__}"):
            load(copy)


def test_the_rerun_warning_lists_ten_changes_then_says_how_many_more():
    from psilosim.io import CHANGES_LISTED, parameter_changes, rerun_differences

    def param(value, source="s"):
        return {"value": value, "unit": "h", "source": source, "kind": "assumed", "note": "n"}

    saved = {"a": {f"p{i:02d}": param(float(i)) for i in range(CHANGES_LISTED + 3)}, "gone": {"x": param(1.0)},
             "same": {"x": param(2.0, source="old citation")}}
    current = {"a": {f"p{i:02d}": param(i + 0.5) for i in range(CHANGES_LISTED + 3)}, "new": {"x": param(1.0)},
               "same": {"x": param(2.0, source="corrected citation")}}
    changes = parameter_changes(saved, current)
    assert "a.p00 0.0 → 0.5" in changes and "new (not in the record)" in changes and "gone (no longer used)" in changes
    assert not any(c.startswith("same") for c in changes)  # a reworded source is not a change
    from psilosim import __version__

    (reason,) = rerun_differences({"psilosim_version": __version__, "parameter_sets": saved}, "parameter_sets",
                                  current)
    assert f"{CHANGES_LISTED + 5} parameter value(s) differ" in reason
    assert reason.count("→") == CHANGES_LISTED + 1  # ten listed, plus the header's "recorded → current"
    assert reason.endswith("and 5 more")


def test_a_unit_change_is_named_and_a_long_value_is_shortened():
    from psilosim.io import VALUE_SHOWN_CHARS, parameter_changes

    saved = {"s": {"k": {"value": 1.0, "unit": "h", "source": "x"}, "hook": {"identity": "f" * 200}}}
    current = {"s": {"k": {"value": 1.0, "unit": "min", "source": "x"}, "hook": {"identity": "g" * 200}}}
    changes = parameter_changes(saved, current)
    assert "s.k.unit h → min" in changes
    (hook,) = [c for c in changes if c.startswith("s.hook.identity")]
    assert len(hook) < len("s.hook.identity") + 2 * VALUE_SHOWN_CHARS + 8


def test_identity_and_rerun_comparison_ignore_kind_bounds_and_descriptions():
    # only what decides the numbers: a re-labelled evidence kind, a new bound or a corrected
    # description neither stops a resume nor warns on a re-run
    import dataclasses

    from psilosim.clinical.identity import DEFAULT_MODELS
    from psilosim.clinical.presets import get_preset
    from psilosim.compounds import get_compound
    from psilosim.io import numbers_only, parameter_changes
    from psilosim.parameters import Param

    design = get_preset("carhart2021")
    symptoms = DEFAULT_MODELS.symptoms
    name, old = next((n, p) for n, p in symptoms if isinstance(p, Param) and p.value != 0)
    relabelled = symptoms.replace(**{name: Param(**{**old.model_dump(), "kind": "override",
                                                    "high": abs(old.value) * 1e6})})
    models = dataclasses.replace(DEFAULT_MODELS, symptoms=relabelled)
    assert models.fingerprint(design=design) == DEFAULT_MODELS.fingerprint(design=design)
    assert parameter_changes(DEFAULT_MODELS.parameter_sets(design=design), models.parameter_sets(design=design)) == []
    compound = get_compound("psilocybin").model_dump(mode="json")
    assert numbers_only({**compound, "description": "reworded"}) == numbers_only(compound)


def test_a_refused_resume_names_a_changed_network_hook(tmp_path):
    import dataclasses

    from psilosim.clinical.identity import DEFAULT_MODELS
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import run_trial
    from psilosim.errors import InputError

    design = get_preset("carhart2021")
    run_trial(design, n_patients=4, seed=1, out=tmp_path, chunk_size=2, backend="sync")
    hooked = dataclasses.replace(DEFAULT_MODELS, network_hook=_rigidity_hook)
    with pytest.raises(InputError, match="network_hook"):
        run_trial(design, n_patients=4, seed=1, out=tmp_path, chunk_size=2, backend="sync", models=hooked)


def _rigidity_hook(*args, **kwargs):
    """A network hook (module-level, so its identity is stable); never called before the refusal."""
    raise AssertionError("not reached")


# ---------------------------------------------------------------- 7. a refused resume names what differs (F24)
def _interrupted_trial(out: Path):
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import run_trial

    design = get_preset("carhart2021")
    assert run_trial(design, n_patients=2, seed=1, out=out, chunk_size=1, backend="sync", max_new_chunks=1) is None
    return design


def test_a_refused_resume_names_the_changed_parameter(monkeypatch, tmp_path):
    from psilosim.binding import params as bp
    from psilosim.clinical.trial import run_trial

    design = _interrupted_trial(tmp_path)
    old = bp.EFFECT_PARAMS.drive_50.value
    monkeypatch.setattr(bp, "EFFECT_PARAMS", bp.EFFECT_PARAMS.replace(drive_50=old * 1.1))
    with pytest.raises(InputError) as caught:
        run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync")
    message = str(caught.value)
    assert "model parameters differ " in message and "differs" not in message
    assert f"binding.effect.drive_50 {json.dumps(old)} → {json.dumps(old * 1.1)}" in message


def test_a_refused_resume_without_readable_differences_names_another_model_version(tmp_path):
    from psilosim.clinical.trial import MANIFEST_FILE, run_trial

    design = _interrupted_trial(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["models"] = "0123456789abcdef"  # the hash of an older identity rule, the same values
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="another psilosim model version") as caught:
        run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync")
    assert "→" not in str(caught.value)
    del manifest["parameter_sets"]  # a folder of before the values were kept: the general hint
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="a hash of every parameter value"):
        run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync")


def test_a_refused_resume_reads_the_values_of_the_folders_provenance(tmp_path):
    # a finished folder of before run.json kept the values: its provenance.json holds them
    from psilosim.clinical.trial import MANIFEST_FILE, run_trial

    design = _interrupted_trial(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    sets = manifest.pop("parameter_sets")
    manifest["models"] = "0123456789abcdef"
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    sets["symptoms"] = {**sets["symptoms"]}
    name = next(k for k, v in sets["symptoms"].items() if isinstance(v, dict) and "value" in v)
    sets["symptoms"][name] = {**sets["symptoms"][name], "value": _other_value(sets["symptoms"][name])}
    (tmp_path / "provenance.json").write_text(json.dumps({"parameter_sets": sets}))
    with pytest.raises(InputError, match=rf"symptoms\.{name} "):
        run_trial(design, n_patients=2, seed=1, out=tmp_path, chunk_size=1, backend="sync")


def test_a_copied_trial_record_cannot_resume_its_original_folder(first_trial, tmp_path, monkeypatch, capsys):
    copy = tmp_path / "copy.json"
    copy.write_text((first_trial / "provenance.json").read_text())
    stamps = [c.stat().st_mtime_ns for c in sorted((first_trial / "chunks").iterdir())]
    code, _, err = run_cli(monkeypatch, capsys, "trial", str(copy), "--no-report", "--json", "--out", str(first_trial))
    assert code == 2 and "re-run" in err, err
    assert [c.stat().st_mtime_ns for c in sorted((first_trial / "chunks").iterdir())] == stamps


def test_a_record_saved_under_another_name_is_still_guarded(first_run, tmp_path, monkeypatch, capsys):
    copy = tmp_path / "rec.yaml"  # a record is read by content, whatever the file is called
    copy.write_text((first_run / "provenance.json").read_text())
    before = (first_run / "results.nc").stat().st_mtime_ns
    code, _, err = run_cli(monkeypatch, capsys, "run", str(copy), "--json")
    assert code == 2 and "--out" in err, err
    assert (first_run / "results.nc").stat().st_mtime_ns == before


def test_a_hand_edited_record_with_odd_outputs_is_not_a_crash(first_run, tmp_path, monkeypatch, capsys):
    record = json.loads((first_run / "provenance.json").read_text())
    record["outputs"] = "somewhere"
    record["scenario"]["outputs"] = ["not", "a", "mapping"]
    copy = tmp_path / "odd.json"
    copy.write_text(json.dumps(record))
    from psilosim.io import check_rerun_target

    check_rerun_target(copy, tmp_path / "new", out_given=True)  # no AttributeError: nothing recorded to refuse


def test_small_numbers_in_a_record_are_no_change(tmp_path, monkeypatch, capsys):
    # read as YAML, a saved 5e-05 became the string "5e-05" and a re-run warned "5e-05 → 5e-05"
    import warnings

    import yaml

    from psilosim.errors import RerunChangedWarning
    from psilosim.scenario import load_scenario

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump({"name": "tiny", "seed": 1, "treatments": [
        {"compound": {"name": "tiny", "based_on": "psilocybin", "overrides": {"hallucinogenic_efficacy": 5e-05}},
         "regimen": {"phases": [{"dose": "25 mg"}]}}], "simulation": {"duration": "6 h"}}))
    code, _, err = run_cli(monkeypatch, capsys, "run", str(scenario), "--json", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert "5e-05" in (tmp_path / "r" / "provenance.json").read_text()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_scenario(tmp_path / "r" / "provenance.json")
    assert [str(w.message) for w in caught if issubclass(w.category, RerunChangedWarning)] == []


def test_trial_reruns_a_record_saved_under_a_yaml_name(first_trial, tmp_path):
    from psilosim.cli.trial import _load

    copy = tmp_path / "rec.yaml"
    copy.write_text((first_trial / "provenance.json").read_text())
    design = _load(str(copy))
    assert design.patients == 6 and design.seed == 3
