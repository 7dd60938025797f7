"""A user's own parcellation on the command line: the receptor column spelled as the docs write it
(``5-HT2A``), a dataset folder given to ``analyze --regions``, and ``scan --coupling`` (audit s4 U6
findings 7–9)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from _metrics_data import planted_switching, region_table
from cli_helpers import run_cli


def _json(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _folder_with_receptor_column(source, target, column: str):
    """A copy of the reference folder ``source`` whose 5-HT2A column is headed ``column``."""
    shutil.copytree(source, target)
    receptors = pd.read_csv(target / "receptors.csv")
    receptors.rename(columns={"5HT2A": column}).to_csv(target / "receptors.csv", index=False)
    return target


# ------------------------------------------------------ finding 7: the 5-HT2A column's spelling
@pytest.mark.parametrize("column", ["5-HT2A", "5-ht2a"])
def test_a_receptor_column_spelled_5_ht2a_is_the_5ht2a_map(schaefer100_dir, tmp_path, column):
    from psilosim.connectome import load_dataset
    from psilosim.connectome.builtin import HT2A

    reference = load_dataset(schaefer100_dir)
    mine = load_dataset(_folder_with_receptor_column(schaefer100_dir, tmp_path / "mine", column))
    assert list(mine.receptors["receptor"].values) == list(reference.receptors["receptor"].values)
    np.testing.assert_array_equal(mine.receptor_map(HT2A).values, reference.receptor_map(HT2A).values)


def test_scan_of_a_folder_with_a_5_ht2a_column(schaefer100_dir, tmp_path, monkeypatch, capsys):
    # the same folder name: a stored fit of G is found by the dataset's name (and its SC)
    folder = _folder_with_receptor_column(schaefer100_dir, tmp_path / schaefer100_dir.name, "5-HT2A")
    options = ["--method", "linear", "--occupancy", "0.6"]
    mine = _json(monkeypatch, capsys, "scan", "--dataset", str(folder), *options)
    reference = _json(monkeypatch, capsys, "scan", "--dataset", str(schaefer100_dir), *options)
    assert mine["fc_change_global"] == pytest.approx(reference["fc_change_global"], rel=1e-12)
    assert mine["fc_change_global"] > 0


def test_two_spellings_of_one_receptor_are_refused(schaefer100_dir, tmp_path):
    from psilosim.connectome import load_dataset
    from psilosim.errors import DataError

    folder = _folder_with_receptor_column(schaefer100_dir, tmp_path / "both", "5HT2A")
    receptors = pd.read_csv(folder / "receptors.csv")
    receptors["5-HT2A"] = receptors["5HT2A"]
    receptors.to_csv(folder / "receptors.csv", index=False)
    with pytest.raises(DataError, match="5-HT2A"):
        load_dataset(folder)


# ------------------------------------------------- finding 8: analyze --regions takes a folder
@pytest.fixture
def bold_and_folder(tmp_path):
    values, _ = planted_switching(seed=2)
    folder = tmp_path / "brain"
    folder.mkdir()
    regions = region_table(values.shape[0])
    regions.reset_index().to_csv(folder / "regions.csv", index=False)
    np.save(tmp_path / "bold.npy", values)
    return tmp_path / "bold.npy", folder


def test_analyze_takes_a_dataset_folder_as_its_region_table(bold_and_folder, monkeypatch, capsys):
    bold, folder = bold_and_folder
    by_folder = _json(monkeypatch, capsys, "analyze", str(bold), "--regions", str(folder), "--tr", "2")
    by_file = _json(monkeypatch, capsys, "analyze", str(bold), "--regions", str(folder / "regions.csv"), "--tr", "2")
    assert by_folder == by_file
    assert set(by_folder["flexibility_by_region"]) == {f"r{i:02d}" for i in range(30)}


def test_analyze_refuses_a_folder_without_a_region_table(bold_and_folder, monkeypatch, capsys, tmp_path):
    bold, _ = bold_and_folder
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(monkeypatch, capsys, "analyze", str(bold), "--regions", str(empty), "--tr", "2")
    assert code == 2
    assert "--regions" in err and "regions.csv" in err


# ------------------------------------------------------------- finding 9: scan --coupling
def test_scan_runs_at_the_coupling_given(monkeypatch, capsys):
    options = ["--method", "linear", "--occupancy", "0.6"]
    default = _json(monkeypatch, capsys, "scan", *options)
    weaker = _json(monkeypatch, capsys, "scan", *options, "--coupling", "0.1")
    assert weaker["G_requested"] == 0.1 and weaker["G"] <= 0.1
    assert default["G_requested"] > 0.1
    assert weaker["baseline_mean_fc"] < default["baseline_mean_fc"]  # weaker coupling, weaker correlation


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_scan_refuses_a_bad_coupling(monkeypatch, capsys, value):
    code, _, err = run_cli(monkeypatch, capsys, "scan", "--method", "linear", "--occupancy", "0.6",
                           "--coupling", value)
    assert code == 2
    assert "--coupling" in err and "non-negative" in err
