"""Which parcellation the connectome rows of the scorecard run on, and that the scorecard says so.

The Schaefer-100 reference folder is not shipped: whether it is found used to depend on the working
directory, and a fresh install reproduced another scorecard than the README's without saying why.
"""

from __future__ import annotations

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
    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")  # empty: the built-in AAL2, wherever we are
    monkeypatch.chdir(tmp_path / "data")
    assert cn.shared_schaefer100() is None
    assert "built-in AAL2" in cn.network_dataset_note() and cn.SHARED_DATA_VARIABLE in cn.network_dataset_note()


def _result(target_id: str, passed: bool | None) -> TargetResult:
    return TargetResult(id=target_id, quantity="q", source="s", published="p", simulated=passed, unit="",
                        low=None, high=None, passed=passed, flags=[])


def test_the_scorecard_names_the_dataset_only_when_a_connectome_row_ran(monkeypatch):
    from psilosim.cli.validate import _network_dataset

    monkeypatch.setenv(cn.SHARED_DATA_VARIABLE, "")
    ran, other, unmodelled = (_result("NW6", True), _result("PK1.25", True), _result("NW1.ratio", None))
    assert "built-in AAL2" in _network_dataset([other, ran])
    assert _network_dataset([other, unmodelled]) is None
