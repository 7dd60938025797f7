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
