"""Which parcellation the connectome rows of the scorecard run on, and that the scorecard says so.

The Schaefer-100 reference folder is not shipped: whether it is found used to depend on the working
directory, and a fresh install reproduced another scorecard than the README's without saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

from psilosim.validation import checks_network as cn
from psilosim.validation.registry import TargetResult


def _reference_folder(root: Path) -> Path:
    folder = root / "schaefer100"
    folder.mkdir(parents=True)
    (folder / "regions.csv").write_text("label\n")
    return folder


def test_the_variable_alone_decides_when_set(monkeypatch, tmp_path):
    folder = _reference_folder(tmp_path / "data")
    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, str(tmp_path / "data"))
    assert cn.shared_schaefer100() == folder
    assert str(folder) in cn.network_dataset_note()
    # empty: the built-in AAL2, wherever we are, even where a reference folder sits beside the
    # working directory (which is looked at when the variable is unset)
    planted = _reference_folder(tmp_path / "shared" / "data")
    (tmp_path / "x").mkdir()
    monkeypatch.chdir(tmp_path / "x")
    assert (Path.cwd().parent / "shared" / "data" / "schaefer100") == planted
    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    assert cn.shared_schaefer100() is None
    assert "built-in AAL2" in cn.network_dataset_note() and cn.SHARED_DATA_VARIABLE in cn.network_dataset_note()


def _result(target_id: str, passed: bool | None) -> TargetResult:
    return TargetResult(id=target_id, quantity="q", source="s", published="p", simulated=passed, unit="",
                        low=None, high=None, passed=passed, flags=[])


def test_the_scorecard_names_the_dataset_only_when_a_connectome_row_ran(monkeypatch):
    from psilosim.cli.validate import _network_dataset

    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    other, unmodelled = _result("PK1.25", True), _result("NW1.ratio", None)
    for target_id in ("NW1.dmn", "NW5.coupling", "NW6"):
        assert "built-in AAL2" in _network_dataset([other, _result(target_id, True)]), target_id
    assert _network_dataset([other, unmodelled]) is None


def test_the_connectome_rows_are_the_checks_that_run_on_the_session(monkeypatch):
    """Each check of this module that runs on the connectome session is named a connectome row."""
    from psilosim.validation.registry import load_checks

    class UsedSession(Exception):
        pass

    def spy():
        raise UsedSession  # stop there: the session itself is not needed to know who asks for it

    monkeypatch.setattr(cn, "_session", spy)
    on_session = set()
    for target_id, fn in load_checks().items():
        if fn.__module__ == cn.__name__:
            try:
                fn()
            except UsedSession:
                on_session.add(target_id)
    assert on_session == set(cn.CONNECTOME_TARGETS) == {"NW1.dmn", "NW5.coupling", "NW6"}


def test_the_scorecard_text_names_every_connectome_row(monkeypatch, capsys):
    from cli_helpers import run_cli

    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--only", "NW5.coupling", "--json")
    assert code in (0, 1), err
    assert "built-in AAL2" in json.loads(out)["network_dataset"]
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--only", "NW5.coupling")
    line = next(line for line in out.splitlines() if "ran on the" in line)
    assert "NW5.coupling" in line and "built-in AAL2" in line


def test_the_note_says_why_the_reference_folder_was_not_used(monkeypatch, tmp_path):
    """A variable set to the wrong folder is named, not answered with advice to set it."""
    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, str(tmp_path / "nowhere"))
    note = cn.network_dataset_note()
    assert "built-in AAL2" in note and str(tmp_path / "nowhere") in note and "set " not in note
    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    assert "is empty" in cn.network_dataset_note()


def test_the_scorecard_lists_only_the_connectome_rows_that_ran(monkeypatch):
    from psilosim.cli.validate import _connectome_rows

    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    rows = [_result("NW5.coupling", True), _result("PK1.25", True), _result("NW6", None)]
    assert _connectome_rows(rows) == ["NW5.coupling"]
