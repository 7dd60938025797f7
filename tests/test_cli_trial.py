"""``psilosim trial``: the JSON contract, the report, and clear errors with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cli_helpers import run_cli
from psilosim import DISCLAIMER
from psilosim.cli import main


@pytest.fixture(scope="module")
def carhart_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("trial")
    mp = pytest.MonkeyPatch()
    mp.setattr(sys, "argv", ["psilosim", "trial", "carhart2021", "--patients", "30", "--seed", "4",
                             "--out", str(out), "--json", "--chunk-size", "10"])
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main()
        except SystemExit as exc:
            assert not exc.code
    mp.undo()
    return json.loads(buf.getvalue()), out


def test_json_contract(carhart_json):
    data, _ = carhart_json
    assert set(data["arms"]) == {"psilocybin", "escitalopram"}
    assert sum(a["n"] for a in data["arms"].values()) == 30
    for arm in data["arms"].values():
        for key in ("n", "baseline_mean", "change_mean", "change_ci", "response_rate", "remission_rate", "by_visit"):
            assert key in arm
        assert len(arm["change_ci"]) == 2 and arm["change_ci"][0] <= arm["change_mean"] <= arm["change_ci"][1]
        assert list(arm["by_visit"]) == ["1", "7", "14", "21", "28", "35", "42"]
        assert arm["by_visit"]["42"] == pytest.approx(arm["change_mean"])
        assert 0 <= arm["response_rate"] <= 1 and 0 <= arm["remission_rate"] <= 1
    diff = data["difference"]
    assert diff["arm"] == "psilocybin" and diff["reference"] == "escitalopram"
    assert diff["estimate"] == pytest.approx(data["arms"]["psilocybin"]["change_mean"]
                                             - data["arms"]["escitalopram"]["change_mean"])
    assert 0 <= diff["p"] <= 1
    assert "density_change_vs_improvement" in data["correlations"]


def test_outputs_and_report_carry_the_disclaimer(carhart_json):
    _, out = carhart_json
    assert (out / "results.nc").exists() and (out / "run.json").exists()
    html = (out / "report.html").read_text()
    assert DISCLAIMER in html
    assert html.count("data:image/png;base64,") >= 3
    assert "CL1.psilocybin" in html
    # no rewiring layer in this run: the imaging section is omitted, not faked
    assert "Functional connectivity before and after" not in html and "omitted rather than estimated" in html


def test_scenario_yaml_runs(tmp_path: Path, monkeypatch, capsys):
    scenario = tmp_path / "t.yaml"
    scenario.write_text(
        "name: mini\nscale: MADRS\nvisits: [0, 7, 21]\nprimary_day: 21\n"
        "baseline: {scale: MADRS, mean: 30, sd: 5, minimum: 20}\n"
        "arms:\n"
        "  - name: psilocybin\n    treatments:\n      - compound: psilocybin\n"
        "        regimen: {phases: [{dose: 25 mg}]}\n"
        "  - name: placebo\n    treatments: []\n")
    code, out, _ = run_cli(monkeypatch, capsys, "trial", str(scenario), "--patients", "8", "--out",
                        str(tmp_path / "o"), "--json", "--no-report")
    assert code == 0
    assert json.loads(out)["arms"]["psilocybin"]["n"] == 4


@pytest.mark.parametrize("args,message", [
    (["trial", "nosuchtrial"], "unknown trial preset"),
    (["trial", "carhart2021", "--patients", "0"], "--patients"),
    (["trial", "carhart2021", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "exclusive"),
])
def test_bad_inputs_exit_2_with_one_line(monkeypatch, capsys, tmp_path, args, message):
    code, _, err = run_cli(monkeypatch, capsys, *args, "--out", str(tmp_path / "x"))
    assert code == 2
    assert message in err and "Traceback" not in err


def test_bad_scenario_exits_2_naming_the_field(tmp_path: Path, monkeypatch, capsys):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nscale: MADRS\nvisits: [0, 7]\nprimary_day: 14\n"
                        "baseline: {scale: MADRS, mean: 30, sd: 5}\narms: [{name: a}]\n")
    code, _, err = run_cli(monkeypatch, capsys, "trial", str(scenario), "--out", str(tmp_path / "y"))
    assert code == 2 and "primary_day" in err


# ---------------------------------------------------------------- errors before any work
# Guards against an unreachable scheduler or an --out that is a file ending in a traceback, and
# against too few patients for the reported difference being found only after simulating.
def test_unreachable_scheduler_is_one_line(monkeypatch, capsys, tmp_path: Path):
    monkeypatch.setattr("psilosim.clinical.trial.SCHEDULER_TIMEOUT", "2s")  # a refused port fails at once or by then
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--scheduler",
                        "tcp://127.0.0.1:1", "--out", str(tmp_path / "o"), "--no-report")
    assert code == 2 and "--scheduler" in err and "Traceback" not in err


def test_out_pointing_at_a_file_is_one_line(monkeypatch, capsys, tmp_path: Path):
    target = tmp_path / "a_file"
    target.write_text("x")
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--out", str(target))
    assert code == 2 and "--out" in err and "Traceback" not in err


def test_too_few_patients_for_the_difference_fail_before_running(monkeypatch, capsys, tmp_path: Path):
    out = tmp_path / "o"
    code, _, err = run_cli(monkeypatch, capsys, "trial", "raison2023", "--patients", "3", "--out", str(out))
    assert code == 2 and "--patients" in err
    assert not (out / "chunks").exists()  # nothing was simulated


# ---------------------------------------------------------------- --out folders that cannot be made
# Guards against an --out whose parent is a file, or under a folder nobody may write, ending in a
# NotADirectoryError/FileNotFoundError traceback instead of one line naming --out (also with --json).
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_trial_out_that_cannot_be_created_is_one_line(monkeypatch, capsys, tmp_path: Path, where, json_flag):
    parent = tmp_path / "regions.csv"
    parent.write_text("x")
    out = parent / "out" if where == "under_a_file" else Path("/proc/psilosim-nope")
    code, stdout, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "-n", "10", "--out", str(out),
                                "--no-report", *json_flag)
    assert code == 2 and "Traceback" not in err and stdout == ""
    assert err.strip().startswith("error: --out:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_calibrate_out_that_cannot_be_created_is_one_line_before_any_refit(monkeypatch, capsys, tmp_path: Path,
                                                                          where):
    import psilosim.clinical.uncertainty as uncertainty

    def refit(*args, **kwargs):
        raise AssertionError("the refits started before --out was checked")

    monkeypatch.setattr(uncertainty, "calibration_envelope", refit)
    parent = tmp_path / "a_file"
    parent.write_text("x")
    out = parent / "sub" / "envelope.nc" if where == "under_a_file" else Path("/proc/psilosim-nope/envelope.nc")
    code, _, err = run_cli(monkeypatch, capsys, "calibrate", "--uncertainty", "--out", str(out))
    assert code == 2 and "Traceback" not in err
    assert err.strip().startswith("error: --out:") and len(err.strip().splitlines()) == 1


def test_calibrate_out_creates_its_missing_folder(monkeypatch, capsys, tmp_path: Path):
    import psilosim.clinical.uncertainty as uncertainty

    class _Stop(Exception):
        pass

    def refit(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(uncertainty, "calibration_envelope", refit)
    out = tmp_path / "new" / "deeper" / "envelope.nc"
    with pytest.raises(_Stop):
        run_cli(monkeypatch, capsys, "calibrate", "--uncertainty", "--out", str(out))
    assert out.parent.is_dir()


def test_out_help_says_the_folder_is_created(monkeypatch, capsys):
    for command in ("trial", "calibrate"):
        _, out, _ = run_cli(monkeypatch, capsys, command, "--help")
        assert "created if missing" in " ".join(out.replace("│", " ").split()), command


# Guards against the trial table's change column having no unit (points of the design's scale).
def test_trial_table_change_column_names_the_scale_points():
    from rich.console import Console

    from psilosim.cli.trial import _table

    arm = {"n": 5, "baseline_mean": 30.0, "change_mean": -10.0, "change_ci": [-12.0, -8.0],
           "response_rate": 0.4, "remission_rate": 0.2}
    console = Console(width=240, record=True)  # wide enough for every header on one line
    console.print(_table({"trial": "mini", "scale": "MADRS", "primary_day": 21.0, "arms": {"a": arm}}))
    text = console.export_text()
    assert "change (MADRS points, 95% CI)" in text and "baseline (MADRS)" in text


# ---------------------------------------------------------------- results as Zarr
# Guards against --format zarr writing something other than the NetCDF results (values, dims,
# attrs), against an unknown format being found only after simulating, and against a rerun into
# the same folder failing because a Zarr store (a folder) cannot be replaced by a rename.
def test_zarr_results_hold_the_same_dataset_as_netcdf(monkeypatch, capsys, tmp_path: Path):
    pytest.importorskip("zarr")
    import xarray as xr

    runs = {}
    for fmt in ("netcdf", "zarr"):
        out = tmp_path / fmt
        code, stdout, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "-n", "6", "--seed", "2",
                                    "--out", str(out), "--no-report", "--json", "--format", fmt)
        assert code == 0, err
        runs[fmt] = json.loads(stdout)["output"]["results"]
    assert runs["zarr"].endswith("results.zarr") and runs["netcdf"].endswith("results.nc")
    with xr.open_dataset(runs["netcdf"], engine="h5netcdf") as nc, xr.open_zarr(runs["zarr"]) as zr:
        # values, coordinates and every attribute: the Dataset's (design, seed, fingerprint) and each
        # variable's (units, long_name), so a store that lost a unit would fail here; but when and by
        # which command line each was written (io.stamp), which differ between the two runs
        for ds in (nc, zr):
            ds.attrs.pop("created_utc"), ds.attrs.pop("command")
        xr.testing.assert_identical(nc.load(), zr.load())
        assert zr["baseline_severity"].attrs["units"] == nc["baseline_severity"].attrs["units"] == "scale_point"
    # a finished run resumed into the same folder rewrites its store
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "-n", "6", "--seed", "2",
                           "--out", str(tmp_path / "zarr"), "--no-report", "--json", "--format", "zarr")
    assert code == 0, err


def test_unknown_results_format_is_one_line_before_any_work(monkeypatch, capsys, tmp_path: Path):
    out = tmp_path / "o"
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "-n", "4", "--out", str(out),
                           "--format", "parquet")
    assert code == 2 and err.strip().startswith("error: --format:") and "netcdf, zarr" in err
    assert not out.exists()


# Guards against the trial tables splitting numbers mid-digit on an 80-column terminal ("-8.|47").
def test_trial_tables_keep_every_value_whole_at_80_columns():
    from rich.console import Console

    from psilosim.cli.trial import _tables

    bio = {"trip_peak": 0.73, "window_peak": 0.97, "window_days_open": 19.5, "window_open_at_day_n": 3,
           "window_patients": 150, "spine_change": 0.115}
    arms = {name: {"n": 150, "baseline_mean": 16.3, "change_mean": -8.47, "change_ci": [-9.31, -7.63],
                   "response_rate": 0.62, "response_ci": [0.54, 0.69], "remission_rate": 0.41,
                   "remission_ci": [0.33, 0.49], "biology": bio} for name in ("psilocybin", "escitalopram")}
    summary = {"trial": "carhart2021", "scale": "QIDS-SR-16", "primary_day": 42.0, "arms": arms}
    console = Console(width=80, record=True)
    for table in _tables(summary):
        console.print(table)
    text = console.export_text()
    for value in ("16.3", "-8.47", "(-9.31,", "-7.63)", "62%", "(54–69)", "41%", "(33–49)"):
        assert value in text, value
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "trip peak" in text  # the biology is shown, in a table of its own


# Guards against an unknown preset being reported under a name the command does not show ("preset").
def test_an_unknown_target_is_named_as_the_argument(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "trial", "nope")
    assert code == 2 and out == ""
    assert err.strip().startswith("error: TARGET:") and "unknown trial preset" in err
