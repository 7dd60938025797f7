"""``psilosim.io.prepare_out_dir``: the one place that creates (or refuses) an output folder."""

from __future__ import annotations

import pytest

from psilosim.errors import InputError
from psilosim.io import prepare_out_dir


def test_prepare_out_dir_creates_missing_parents(tmp_path):
    folder = prepare_out_dir(tmp_path / "a" / "b", option="--out")
    assert folder.is_dir() and folder == (tmp_path / "a" / "b").resolve()
    assert prepare_out_dir(folder) == folder  # an existing folder is fine


@pytest.mark.parametrize("relative,needle", [("regions.csv/out", "parent in the path is a file"),
                                             ("regions.csv", "exists as a file")])
def test_prepare_out_dir_refuses_a_file_in_the_way(tmp_path, relative, needle):
    (tmp_path / "regions.csv").write_text("x\n")
    with pytest.raises(InputError) as info:
        prepare_out_dir(tmp_path / relative, option="--out-dir")
    assert info.value.field == "--out-dir" and needle in info.value.problem


def test_prepare_out_dir_refuses_an_uncreatable_place():
    with pytest.raises(InputError) as info:
        prepare_out_dir("/proc/psilosim-test/out")
    assert info.value.field == "--out" and "cannot be created" in info.value.problem


def _dataset():
    import numpy as np
    import xarray as xr

    return xr.Dataset({"x": (("t",), np.arange(3.0), {"units": "1"})})


def test_a_run_does_not_replace_a_trial_folder(tmp_path):
    """A trial folder has a provenance record too, but replacing it would lose its report and chunks."""
    from psilosim.io import PROVENANCE_FILE, TRIAL_MANIFEST_FILE, write_run

    trial = tmp_path / "psilosim-out"
    trial.mkdir()
    for name in (PROVENANCE_FILE, TRIAL_MANIFEST_FILE, "report.html"):
        (trial / name).write_text("{}")
    with pytest.raises(InputError, match="virtual trial") as err:
        write_run(trial, dataset=_dataset(), provenance={}, field="--out")
    assert err.value.field == "--out"
    assert sorted(p.name for p in trial.iterdir()) == sorted([PROVENANCE_FILE, TRIAL_MANIFEST_FILE, "report.html"])


def test_a_run_folder_gets_the_permissions_of_a_new_folder(tmp_path):
    """The folder is filled privately (a temporary folder) but ends with mkdir's permissions."""
    import os

    from psilosim.io import write_run

    mask = os.umask(0o022)
    try:
        path = write_run(tmp_path / "out", dataset=_dataset(), provenance={})
        reference = tmp_path / "made_by_mkdir"
        reference.mkdir()
    finally:
        os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (reference.stat().st_mode & 0o777) == 0o755


def test_a_working_folder_that_cannot_be_made_names_the_callers_field(tmp_path, monkeypatch):
    """write_run's errors name its ``field`` (the scenario's outputs.folder or the command's --out)."""
    from pathlib import Path

    from psilosim.io import write_run

    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):  # every working-folder name is taken; other folders are made
        if ".partial-" in self.name:
            raise FileExistsError(self)
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(InputError) as err:
        write_run(tmp_path / "out", dataset=_dataset(), provenance={}, field="outputs.folder")
    assert err.value.field == "outputs.folder"
