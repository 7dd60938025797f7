"""``psilosim analyze`` / ``psilosim compare``: JSON contract, file formats, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from _metrics_data import planted_switching, region_table
from psilosim.cli import app
from psilosim.errors import InputError

ANALYZE_KEYS = {"modularity", "n_communities", "participation_mean", "flexibility_mean",
                "flexibility_by_region", "flexibility_by_network", "dmn_within", "dmn_between",
                "fc_by_network"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics_cli")
    values, _ = planted_switching(seed=2)
    regions = region_table(values.shape[0])
    regions.reset_index().to_csv(folder / "regions.csv", index=False)
    np.save(folder / "before.npy", values)
    np.savetxt(folder / "before_txr.csv", values.T, delimiter=",")
    np.savetxt(folder / "before_spaces.txt", values, delimiter=" ")
    np.savetxt(folder / "before_tabs.txt", values.T, delimiter="\t", fmt=" %.17g")   # leading blanks
    later, _ = planted_switching(seed=5, noise=1.2)
    np.save(folder / "after.npy", later)
    xr.Dataset({"bold": (("region", "time"), later)},
               coords={"region": list(regions.index), "time": np.arange(later.shape[1]) * 2.0}
               ).to_netcdf(folder / "after.nc", engine="h5netcdf")
    bad = values.copy()
    bad[1, 3] = np.nan
    np.save(folder / "nan.npy", bad)
    np.save(folder / "short.npy", values[:, :20])
    np.save(folder / "wrong.npy", values[:-1])
    return folder, list(regions.index)


def _json(args):
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_analyze_json_contract(files):
    folder, labels = files
    out = _json(["analyze", str(folder / "before.npy"), "--regions", str(folder / "regions.csv"), "--tr", "2"])
    assert ANALYZE_KEYS <= set(out)
    assert set(out["flexibility_by_region"]) == set(labels)
    assert set(out["flexibility_by_network"]) == set(out["fc_by_network"]) == {"Default", "Vis", "SomMot"}
    assert 0 <= out["flexibility_mean"] <= 1 and out["n_communities"] >= 2
    assert np.mean(list(out["flexibility_by_region"].values())) == pytest.approx(out["flexibility_mean"])


def test_orientation_is_detected_from_the_region_table(files):
    folder, _ = files
    args = ["--regions", str(folder / "regions.csv"), "--tr", "2", "--seed", "3"]
    a = _json(["analyze", str(folder / "before.npy"), *args])
    b = _json(["analyze", str(folder / "before_txr.csv"), *args])
    assert a["modularity"] == pytest.approx(b["modularity"], abs=1e-9)
    assert a["flexibility_by_region"] == pytest.approx(b["flexibility_by_region"], abs=1e-9)


def test_compare_reports_deltas_and_desynchronisation(files):
    folder, _ = files
    out = _json(["compare", str(folder / "before.npy"), str(folder / "after.nc"),
                 "--regions", str(folder / "regions.csv"), "--tr", "2"])
    assert ANALYZE_KEYS <= set(out["delta"])
    assert out["desync"]["mean_abs_diff"] > 0 and 0 < out["desync"]["corr_distance"] < 2
    assert set(out["desync"]["by_network"]["mean_abs_diff"]) == {"Default", "Vis", "SomMot"}
    assert 0 <= out["fcd_ks"] <= 1
    same = _json(["compare", str(folder / "before.npy"), str(folder / "before.npy"),
                  "--regions", str(folder / "regions.csv"), "--tr", "2"])
    assert same["desync"]["mean_abs_diff"] == 0 and same["delta"]["modularity"] == 0


@pytest.mark.parametrize(("name", "message"), [
    ("nan.npy", "NaN"), ("short.npy", "longer than the recording"), ("wrong.npy", "matches neither"),
    ("missing.npy", "no such file"),
])
def test_bad_files_raise_a_clear_input_error(files, name, message):
    folder, _ = files
    result = CliRunner().invoke(app, ["analyze", str(folder / name), "--regions",
                                      str(folder / "regions.csv"), "--tr", "2", "--json"])
    assert isinstance(result.exception, InputError)
    assert message in str(result.exception)


def test_missing_tr_and_unknown_regions_are_rejected(files):
    folder, _ = files
    result = CliRunner().invoke(app, ["analyze", str(folder / "before.npy"), "--regions", str(folder / "regions.csv")])
    assert isinstance(result.exception, InputError) and "--tr" in str(result.exception)
    result = CliRunner().invoke(app, ["analyze", str(folder / "before.npy"), "--regions", "atlas9", "--tr", "2"])
    assert isinstance(result.exception, InputError) and "built-in" in str(result.exception)


def test_the_command_exits_2_with_one_line_on_bad_input(files):
    folder, _ = files
    proc = subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", "analyze",
                           str(folder / "nan.npy"), "--regions", str(folder / "regions.csv"), "--tr", "2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "NaN" in proc.stderr and "Traceback" not in proc.stderr


def test_region_tables_name_the_dmn_whatever_its_case(tmp_path):
    """``--regions`` reads network names as the folder loader does: 'default' is the DMN."""
    import pandas as pd

    from psilosim.cli.metrics import load_regions

    path = tmp_path / "regions.csv"
    pd.DataFrame({"label": ["a", "b"], "network": ["default", "Vis"]}).to_csv(path, index=False)
    assert load_regions(str(path))["network"].tolist() == ["Default", "Vis"]


@pytest.mark.parametrize("rows, problem", [
    ({"label": ["a", "b"], "network": ["Default", ""]}, "no network"),
    ({"label": ["a", "b"], "network": ["Default", "Vis"], "index": [0, 0]}, "duplicated index"),
    ({"label": ["a", "b"]}, "missing column"),
])
def test_region_tables_are_checked_as_the_folder_loader_checks_them(tmp_path, rows, problem):
    """A blank network or a duplicated index in ``--regions`` is refused, naming the option;
    before, a blank network became a network called 'nan' and a duplicated index was kept."""
    import pandas as pd

    from psilosim.cli.metrics import load_regions

    path = tmp_path / "regions.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        load_regions(str(path))
    assert err.value.field == "--regions" and problem in str(err.value)


# Guards against whitespace-delimited .txt BOLD (accepted by the file-type check) failing as
# "not a numeric CSV matrix".
@pytest.mark.parametrize("name", ["before_spaces.txt", "before_tabs.txt"])
def test_whitespace_delimited_txt_reads_like_the_npy(files, name):
    from psilosim.cli.metrics import _read_matrix

    folder, _ = files
    reference = np.load(folder / "before.npy")
    values, header = _read_matrix(folder / name)
    assert header is None
    np.testing.assert_allclose(values if values.shape == reference.shape else values.T, reference, rtol=1e-15)


# Guards against a negative or zero --tr being reported as "the time coordinate must increase in
# equal steps" (a message about the data) instead of naming the option and saying it must be positive.
@pytest.mark.parametrize("command", ["analyze", "compare"])
@pytest.mark.parametrize("tr", ["-2", "0", "nan"])
def test_non_positive_tr_names_the_option(files, command, tr):
    folder, _ = files
    inputs = [str(folder / "before.npy")] + ([str(folder / "after.npy")] if command == "compare" else [])
    result = CliRunner().invoke(app, [command, *inputs, "--regions", str(folder / "regions.csv"), "--tr", tr])
    assert isinstance(result.exception, InputError)
    assert result.exception.field == "--tr" and "positive" in str(result.exception)
