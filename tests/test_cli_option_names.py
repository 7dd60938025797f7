"""One map from library field names to command-line options (``cli._app.CLI_OPTIONS``), the
dose check of ``psilosim run`` made once, and the reason for a missing FCD KS from the library.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer

from cli_helpers import run_cli
from psilosim.cli._app import as_option_error, command_options, named_as_options
from psilosim.errors import InputError


# ---------------------------------------------------------------- the mechanism
def _command(error: InputError):
    @named_as_options
    def command(dose: str = typer.Option("1 mg", "--dose"), tr: float = typer.Option(None, "--tr")) -> None:
        raise error

    return command


def test_command_options_lists_the_declared_long_options():
    from psilosim.cli.plasticity import window

    assert command_options(_command(InputError("x", "y"))) == {"--dose", "--tr"}
    assert {"--species", "--compound", "--dose", "--route"} <= command_options(window)
    assert "--days" not in command_options(window)  # window simulates a fixed horizon


@pytest.mark.parametrize(("field", "option"), [
    ("dose", "--dose"), ("regimen.phases.0.dose", "--dose"), ("treatments.0.regimen.dose", "--dose"),
    ("tr_s", "--tr"),
])
def test_a_library_field_is_renamed_to_the_option_that_carries_it(field, option):
    with pytest.raises(InputError) as err:
        _command(InputError(field, "must be positive"))()
    assert err.value.field == option and str(err.value) == f"{option}: must be positive"


@pytest.mark.parametrize("field", [
    "route",                 # a known library field, but this command has no --route
    "duration",              # seconds: not the same quantity as any option
    "data/bold.dose",        # a file path is never renamed
    "--dose",                # already an option
])
def test_a_field_the_command_does_not_expose_keeps_its_name(field):
    error = InputError(field, "problem")
    with pytest.raises(InputError) as err:
        _command(error)()
    assert err.value is error
    assert as_option_error(error, {"--dose", "--route"}).field == ("--route" if field == "route" else field)


# ---------------------------------------------------------------- one command per module
# Each raised by the library under its own name and shown under the option.
@pytest.mark.parametrize(("args", "option", "problem"), [
    # pharmacology: Regimen.repeated names its "every"
    (["pk", "--compound", "psilocybin", "--dose", "1 mg", "--doses", "2", "--interval", "soon"],
     "--interval", ""),
    # plasticity: the species table names "species"
    (["spines", "--species", "rat", "--days", "1"], "--species", "rat"),
    # network: the dose guard of the pharmacology chain names "treatments.0.regimen.phases.0.dose"
    (["scan", "--dose", "25 g", "--method", "linear"], "--dose", "30 mg"),
    # network: g_grid names "points"
    (["fit", "--model", "dmf", "--points", "0", "--minutes", "1"], "--points", "at least one"),
])
def test_library_errors_appear_under_the_option(monkeypatch, capsys, args, option, problem):
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 2 and out == ""
    assert err.startswith(f"error: {option}:") and problem in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def bold_files(tmp_path_factory):
    from _metrics_data import planted_switching, region_table

    folder = tmp_path_factory.mktemp("option_names")
    values, _ = planted_switching(seed=2)
    region_table(values.shape[0]).reset_index().to_csv(folder / "regions.csv", index=False)
    np.save(folder / "short.npy", values[:, :20])
    np.save(folder / "bold.npy", values)
    return folder


def test_metrics_window_error_names_the_window_option(monkeypatch, capsys, bold_files):
    """The analysis' ``window_s`` (a window longer than the recording) is ``--window-s``."""
    code, _, err = run_cli(monkeypatch, capsys, "analyze", str(bold_files / "short.npy"),
                           "--regions", str(bold_files / "regions.csv"), "--tr", "2", "--json")
    assert code == 2 and err.startswith("error: --window-s:") and "longer than the recording" in err


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_a_bad_seed_of_the_metrics_is_one_line_under_the_option(monkeypatch, capsys, bold_files, command):
    """The metrics check their seed as every link does (``_seeds``); numpy's bare ValueError never shows."""
    files = [str(bold_files / "bold.npy")] * (2 if command == "compare" else 1)
    code, _, err = run_cli(monkeypatch, capsys, command, *files, "--regions", str(bold_files / "regions.csv"),
                           "--tr", "2", "--seed", "-1", "--json")
    assert code == 2 and err.startswith("error: --seed:") and "non-negative integer" in err


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_the_metrics_library_refuses_a_bad_seed_naming_it(seed):
    from psilosim.metrics.flexibility import multilayer_partitions
    from psilosim.metrics.modularity import detect_communities

    rng = np.random.default_rng(0)
    fc = np.corrcoef(rng.normal(size=(6, 40)))
    import pandas as pd
    import xarray as xr

    regions = pd.DataFrame({"network": ["A"] * 3 + ["B"] * 3}, index=[f"r{k}" for k in range(6)])
    labelled = xr.DataArray(fc, dims=("region_i", "region_j"),
                            coords={"region_i": list(regions.index), "region_j": list(regions.index)})
    with pytest.raises(InputError) as info:
        detect_communities(labelled, regions, seed=seed)
    assert info.value.field == "seed"
    with pytest.raises(InputError) as info:
        multilayer_partitions(np.stack([fc, fc]), omega=1.0, gamma=1.0, n_runs=1, seed=seed)
    assert info.value.field == "seed"


@pytest.mark.parametrize("tr", ["-2", "0", "nan"])
def test_a_bad_tr_is_refused_by_the_library_under_the_option(monkeypatch, capsys, bold_files, tr):
    """``--tr`` is checked once, by the analysis (its ``tr_s``), with the option's name and the value."""
    code, _, err = run_cli(monkeypatch, capsys, "compare", str(bold_files / "bold.npy"), str(bold_files / "bold.npy"),
                           "--regions", str(bold_files / "regions.csv"), "--tr", tr, "--json")
    assert code == 2 and err.startswith("error: --tr:") and "positive number of seconds" in err and tr in err


def test_a_netcdf_time_axis_is_replaced_by_the_given_tr(bold_files, tmp_path):
    """With ``--tr`` a file's own time axis is dropped (the TR given wins), as before the check moved."""
    import xarray as xr

    from psilosim.cli.metrics import load_bold, load_regions

    values = np.load(bold_files / "bold.npy")
    regions = load_regions(str(bold_files / "regions.csv"))
    path = tmp_path / "bold.nc"
    xr.Dataset({"bold": (("region", "time"), values)},
               coords={"region": list(regions.index), "time": np.arange(values.shape[1]) * 0.5}
               ).to_netcdf(path, engine="h5netcdf")
    assert "time" not in load_bold(str(path), regions, 2.0).coords
    assert load_bold(str(path), regions, None)["time"].values[1] == 0.5


# ---------------------------------------------------------------- run: the dose check once
def _scenario(tmp_path, dose: str, size: int) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(f"seed: 3\ntreatments:\n  - compound: psilocybin\n    regimen: {{phases: [{{dose: {dose}}}]}}\n"
                    f"population: {{size: {size}, variability: true}}\n"
                    "simulation: {duration: 6 h, step: 15 min}\noutputs: {figures: []}\n")
    return str(path)


def test_run_checks_the_doses_once_for_the_whole_population(monkeypatch, capsys, tmp_path):
    import psilosim.pharmacokinetics.dose_guard as dose_guard

    checked = []
    original = dose_guard.check_studied_dose

    def counting(*args, **kwargs):
        checked.append(kwargs.get("field"))
        return original(*args, **kwargs)

    monkeypatch.setattr(dose_guard, "check_studied_dose", counting)
    code, out, err = run_cli(monkeypatch, capsys, "run", _scenario(tmp_path, "40 mg", 3),
                             "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    assert checked == ["treatments.0.regimen.phases.0.dose"]  # not again for each of the 3 subjects
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: treatments.0.regimen.phases.0.dose") and "30 mg" in lines[0]
    assert json.loads(out)["summary"]


def test_run_refusing_a_dose_leaves_an_existing_output_folder_untouched(monkeypatch, capsys, tmp_path):
    out = tmp_path / "out"
    code, _, _ = run_cli(monkeypatch, capsys, "run", _scenario(tmp_path, "40 mg", 1), "--out", str(out), "--json")
    assert code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    code, stdout, err = run_cli(monkeypatch, capsys, "run", _scenario(tmp_path, "25 g", 1), "--out", str(out), "--json")
    assert code == 2 and stdout == "" and err.startswith("error: treatments.0.regimen.phases.0.dose:")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


# ---------------------------------------------------------------- fit: why FCD KS is missing
@pytest.fixture(scope="module")
def aal2():
    from psilosim.connectome import load_dataset

    return load_dataset("aal2")


def test_fit_gives_the_reason_for_a_missing_fcd_ks(aal2):
    from psilosim.network.fit import fit_hopf
    from psilosim.network.settings import FIT

    short = fit_hopf(aal2, duration_s=30.0)
    assert short.fcd_ks is None
    assert "two FCD windows" in short.fcd_ks_missing_reason and f"{FIT.fcd_window.to('s'):g} s" in short.fcd_ks_missing_reason
    scored = fit_hopf(aal2, duration_s=2 * FIT.fcd_window.to("s"))
    assert scored.fcd_ks is not None and scored.fcd_ks_missing_reason is None


def _brain_without_bold(folder):
    """A six-region dataset folder with SC and FC but no BOLD recordings."""
    import pandas as pd

    n = 6
    folder.mkdir()
    pd.DataFrame({"index": range(n), "label": [f"r{i}" for i in range(n)], "hemisphere": ["L", "R"] * 3,
                  "network": ["Default", "Vis", "SomMot"] * 2}).to_csv(folder / "regions.csv", index=False)
    rng = np.random.default_rng(0)
    sc = rng.uniform(0.2, 1.0, (n, n))
    sc = (sc + sc.T) / 2
    np.fill_diagonal(sc, 0.0)
    np.savetxt(folder / "sc.csv", sc, delimiter=",")
    np.savetxt(folder / "fc.csv", np.corrcoef(rng.normal(size=(n, 200))), delimiter=",")
    pd.DataFrame({"index": range(n), "5HT2A": np.linspace(1.0, 2.0, n)}).to_csv(folder / "receptors.csv", index=False)
    return folder


def test_a_dmf_fit_without_bold_says_so(tmp_path):
    from psilosim.connectome import load_dataset
    from psilosim.network.fit import fit, g_grid

    brain = load_dataset(_brain_without_bold(tmp_path / "mine"))
    assert not brain.bold
    result = fit(brain, g_values=g_grid(brain, points=2), duration_s=60.0)
    assert result.fcd_ks is None and result.fcd_ks_missing_reason == "no BOLD in the dataset"
    assert "fcd_ks_missing_reason" not in result.as_dict()  # the --json contract is unchanged


def test_fit_prints_the_library_reason(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "0.5")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("best:"))
    assert "FCD KS n/a (the simulated BOLD (30 s) is shorter than two FCD windows" in " ".join(line.split())
