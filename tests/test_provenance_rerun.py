"""Provenance and re-running from what was saved (reproducibility review, F14).

Each test pins one finding: the saved design/scenario holds the seed and patient count actually
used; ``psilosim run|trial OUT/provenance.json`` re-runs bit-identically and refuses the other
kind's record; ``run`` stores parameter values; the trial's parameter record (and so its resume
fingerprint) covers the binding link's sets; results files describe their units and carry
version, time and command line; ``outputs.folder`` records the folder used.
"""

from __future__ import annotations

import json
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
    base = ModelSet().fingerprint(design)
    mod = importlib.import_module(module)
    params = getattr(mod, name)
    monkeypatch.setattr(mod, name, params.replace(**{field: getattr(params, field).value * factor}))
    assert ModelSet().fingerprint(design) != base
    assert name.split("_")[0].lower() in " ".join(ModelSet().parameter_sets(design)).lower()


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
    for name in ("value", "target_cl1_escitalopram", "achieved_cl1_escitalopram", "published", "published_ci_low",
                 "published_ci_high"):
        assert "units" in ds[name].attrs, name
    assert ds["target_cl1_escitalopram"].attrs["units"] == "scale_point"
    assert set(ds["prediction_units"].values) <= {"scale_point", "1"}
    assert "psilosim_version" in ds.attrs and "command" in ds.attrs


def test_run_provenance_records_the_folder_used(first_run):
    record = json.loads((first_run / "provenance.json").read_text())
    assert Path(record["scenario"]["outputs"]["folder"]) == first_run.resolve()
