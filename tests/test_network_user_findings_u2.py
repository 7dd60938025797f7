"""Findings of a user test (u2): scan windows outside the occupancy series, the Python equivalent
of ``psilosim scan --at-hours``, what ``psilosim fit`` reports, and ``analyze`` of a scan file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from _metrics_data import planted_switching, region_table
from psilosim.cli import app
from psilosim.connectome import load_dataset
from psilosim.errors import InputError
from psilosim.network import scan as sc
from psilosim.network.settings import FIT
from psilosim.units import MINUTES_PER_HOUR

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def occ():
    # covers 2 h − 1 grid step … 2 h + 5 min + 1 grid step
    return sc.occupancy_window("psilocybin", "25 mg", 2.0, 5.0, seed=0)


# ---------------------------------------------------------------- 1. no extrapolated occupancy
# Guards against a scan window outside the occupancy series silently using an extrapolated
# occupancy (0.77 at 24 h where the truth is ≈ 0, 1.06 at 100 h).
@pytest.mark.parametrize("start_h", [24.0, 0.0, 100.0, 2.099])
def test_a_scan_window_outside_the_occupancy_series_is_refused_with_the_covered_range(aal2, occ, start_h):
    with pytest.raises(InputError, match="start_h") as err:
        sc.scan_session(aal2, occ, minutes=0.2, start_h=start_h)
    low, high = float(occ["time_h"].min()), float(occ["time_h"].max())
    assert f"{low:.3f}" in str(err.value) and f"{high:.3f}" in str(err.value)


def test_occupancy_at_and_window_mean_refuse_times_outside_the_series(occ):
    high = float(occ["time_h"].max())
    with pytest.raises(InputError, match="time_h"):
        sc.occupancy_at(occ, high + 0.01)
    with pytest.raises(InputError, match="start_h"):
        sc.window_mean_occupancy(occ, 24.0, 0.2)


def test_the_ends_of_the_series_are_covered_up_to_float_rounding(occ):
    times = occ["time_h"].values
    assert sc.occupancy_at(occ, times[-1] * (1 + 1e-13)) == pytest.approx(float(occ[-1]))
    assert sc.occupancy_at(occ, times[0] * (1 - 1e-13)) == pytest.approx(float(occ[0]))
    span_min = (times[-1] - times[0]) * MINUTES_PER_HOUR
    assert 0 < sc.window_mean_occupancy(occ, times[0], span_min) < 1


# ---------------------------------------------------------------- 2. Python = psilosim scan --at-hours
# Guards against the Python API having no documented way to scan at a time after a dose, or one
# that differs from the command line's.
def test_the_python_scan_after_a_dose_is_the_command_line_scan(aal2):
    minutes = 0.2
    cli = _json(["scan", "--at-hours", "2", "--minutes", str(minutes), "--seed", "0", "--json"])
    occupancy = sc.occupancy_window("psilocybin", "25 mg", 2.0, minutes, seed=0)
    assert occupancy.attrs["scan_start_h"] == 2.0
    session = sc.scan_session(aal2, occupancy, minutes=minutes, seed=0)  # start_h from the series
    assert session.attrs["mean_occupancy"] == pytest.approx(cli["occupancy"], rel=1e-12)
    python = sc.summarise(session, aal2)
    assert python["fc_change_global"] == pytest.approx(cli["fc_change_global"], rel=1e-12)
    # 25 mg at 2 h is near peak occupancy: tens of percent (Madsen et al. 2019: up to 72 %)
    assert 0.3 < session.attrs["mean_occupancy"] < 0.8


# ---------------------------------------------------------------- 3. what psilosim fit reports
@pytest.fixture(scope="module")
def fit_both():
    return _json(["fit", "--dataset", "aal2", "--points", "2", "--minutes", "2", "--json"])


def _upper_mean(fc) -> float:
    fc = np.asarray(fc)
    return float(fc[np.triu_indices(fc.shape[0], 1)].mean())


# Guards against a default fit whose top-level numbers belong to an unnamed family, whose JSON
# lacks the DMF sweep, and that reports no mean FC level and no FCD window count.
def test_fit_json_names_the_top_level_family_and_why_and_has_every_sweep(fit_both, aal2):
    out = fit_both
    assert out["top_level_family"] == out["model"]
    assert "fc_corr" in out["top_level_reason"]
    assert out["families"][out["model"]]["G"] == out["G"]
    assert out["used_by_scan_and_validate"] == "dmf"
    assert len(out["families"]["dmf"]["sweep"]["G"]) == 2
    assert {"fc_corr", "fcd_ks"} <= set(out["families"]["dmf"]["sweep"])
    assert len(out["families"]["hopf"]["sweep"]["G"]) == int(FIT.hopf_ratio_points.value)
    assert out["empirical_mean_fc"] == pytest.approx(_upper_mean(aal2.fc.values))
    for family in out["families"].values():
        assert -1 < family["mean_fc"] < 1 and family["empirical_mean_fc"] == out["empirical_mean_fc"]


def test_fit_reports_the_number_of_fcd_windows_behind_fcd_ks(fit_both, aal2):
    from psilosim.network.fit import dataset_tr

    dmf = fit_both["families"]["dmf"]
    tr = dataset_tr(aal2)
    n_tr = round(2 * 60 / tr)
    width, step = round(FIT.fcd_window.to("s") / tr), round(FIT.fcd_step.to("s") / tr)
    assert dmf["fcd_ks"] is not None
    assert dmf["fcd_windows"] == len(range(0, n_tr - width + 1, step))


def test_a_single_family_fit_keeps_its_keys_and_names_its_family():
    out = _json(["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "0.5", "--json"])
    assert out["model"] == "hopf" and out["top_level_family"] == "hopf"
    assert out["fcd_ks"] is None and out["fcd_windows"] is None  # shorter than two FCD windows
    assert out["used_by_scan_and_validate"] == "dmf"


def test_fit_table_says_which_family_scan_and_validate_use():
    result = runner.invoke(app, ["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "0.5"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "scan and validate use the dmf" in text
    assert "mean FC" in text and "empirical" in text


# ---------------------------------------------------------------- 5. analyze a scan results file
@pytest.fixture(scope="module")
def scan_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("u2_scan")
    first, _ = planted_switching(seed=2)
    second, _ = planted_switching(seed=5, noise=1.2)
    regions = region_table(first.shape[0])
    regions.reset_index().to_csv(folder / "regions.csv", index=False)
    bold = np.stack([[first, second], [second, first]])  # condition × session × region × time
    times = (np.arange(first.shape[1]) + 1) * 2.0
    xr.Dataset({"bold": (("condition", "session", "region", "time"), bold)},
               coords={"condition": ["baseline", "receptor"], "session": [0, 1],
                       "region": list(regions.index), "time": times}).to_netcdf(folder / "scan.nc", engine="h5netcdf")
    for name, values in (("first", first), ("second", second)):
        xr.Dataset({"bold": (("region", "time"), values)},
                   coords={"region": list(regions.index), "time": times}).to_netcdf(folder / f"{name}.nc",
                                                                                    engine="h5netcdf")
    return folder


# Guards against a scan results file that analyze/compare refuse with no way to pick a recording.
def test_analyze_picks_one_recording_of_a_scan_file(scan_file):
    regions = ["--regions", str(scan_file / "regions.csv")]
    picked = _json(["analyze", str(scan_file / "scan.nc"), *regions, "--condition", "receptor", "--session", "1",
                    "--json"])
    alone = _json(["analyze", str(scan_file / "first.nc"), *regions, "--json"])
    assert picked["modularity"] == pytest.approx(alone["modularity"], abs=1e-12)
    assert picked["flexibility_by_region"] == pytest.approx(alone["flexibility_by_region"], abs=1e-12)


def test_compare_picks_a_condition_for_each_file(scan_file):
    regions = ["--regions", str(scan_file / "regions.csv")]
    scan = str(scan_file / "scan.nc")
    picked = _json(["compare", scan, scan, *regions, "--condition", "baseline", "--condition", "receptor",
                    "--session", "0", "--json"])
    alone = _json(["compare", str(scan_file / "first.nc"), str(scan_file / "second.nc"), *regions, "--json"])
    assert picked["desync"]["mean_abs_diff"] == pytest.approx(alone["desync"]["mean_abs_diff"], abs=1e-12)
    assert picked["desync"]["mean_abs_diff"] > 0


def test_compare_a_scan_file_with_a_single_recording_uses_dash_for_no_pick(scan_file):
    """``-`` stands for "no pick" on the file that has no such axis (a scan file against a plain file)."""
    regions = ["--regions", str(scan_file / "regions.csv")]
    scan, second = str(scan_file / "scan.nc"), str(scan_file / "second.nc")
    mixed = _json(["compare", scan, second, *regions, "--condition", "baseline", "--condition", "-",
                   "--session", "0", "--session", "-", "--json"])
    alone = _json(["compare", str(scan_file / "first.nc"), second, *regions, "--json"])
    assert mixed["desync"]["mean_abs_diff"] == pytest.approx(alone["desync"]["mean_abs_diff"], abs=1e-12)
    result = runner.invoke(app, ["compare", scan, second, *regions, "--condition", "baseline",
                                 "--session", "zero", "--json"])
    assert isinstance(result.exception, InputError) and "--session" in str(result.exception)


@pytest.mark.parametrize(("options", "needles"), [
    ([], ["--condition", "baseline", "receptor"]),
    (["--condition", "receptor"], ["--session", "0", "1"]),
    (["--condition", "uniform", "--session", "0"], ["--condition", "uniform", "baseline, receptor"]),
    (["--condition", "receptor", "--session", "7"], ["--session", "7", "0, 1"]),
])
def test_a_missing_or_unknown_pick_is_one_line_listing_what_the_file_has(scan_file, options, needles):
    result = runner.invoke(app, ["analyze", str(scan_file / "scan.nc"), "--regions",
                                 str(scan_file / "regions.csv"), *options, "--json"])
    assert isinstance(result.exception, InputError)  # the command prints it as one line and exits 2
    for needle in needles:
        assert needle in str(result.exception)


def test_a_pick_in_a_file_without_conditions_is_refused(scan_file):
    result = runner.invoke(app, ["analyze", str(scan_file / "first.nc"), "--regions", str(scan_file / "regions.csv"),
                                 "--condition", "receptor", "--json"])
    assert isinstance(result.exception, InputError) and "--condition" in str(result.exception)


def test_compare_refuses_more_than_two_conditions(scan_file):
    scan = str(scan_file / "scan.nc")
    result = runner.invoke(app, ["compare", scan, scan, "--regions", str(scan_file / "regions.csv"),
                                 "--condition", "baseline", "--condition", "receptor", "--condition", "baseline",
                                 "--session", "0", "--json"])
    assert isinstance(result.exception, InputError) and "--condition" in str(result.exception)


def test_fit_says_where_the_scan_coupling_comes_from():
    """A built-in connectome has a stored fit; the same name with another SC does not (scan.coupling_for)."""
    import dataclasses

    from psilosim.connectome import load_dataset
    from psilosim.network.scan import coupling_source as _coupling_source

    aal2 = load_dataset("aal2")
    assert _coupling_source(aal2) == "stored fit for aal2"
    changed = dataclasses.replace(aal2, sc=aal2.sc * 1.01)
    assert _coupling_source(changed).startswith("no stored fit for this connectome")
