"""User-test findings (u2) on the connectome link: labelled matrices in user folders, receptor
tables matched by position, a short ``repr`` and the units of every array.

Folders are small synthetic ones written to ``tmp_path`` (no reference data copied)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pint
import pytest

from psilosim.connectome import load_dataset, load_parcellation_folder
from psilosim.errors import DataError

LABELS = ["A_L", "B_L", "A_R", "B_R"]
NETWORKS = ["Default", "Vis", "Default", "Vis"]


def _sc() -> np.ndarray:
    """An asymmetric SC whose every off-diagonal entry is distinct, so any mis-ordering, and a
    transposed read (inputs taken as outputs), changes it."""
    sc = np.arange(1.0, 17.0).reshape(4, 4) / 16.0
    np.fill_diagonal(sc, 0.0)
    return sc


def _fc() -> np.ndarray:
    """Asymmetric too (the loader does not require symmetry), so a transposed read shows."""
    fc = 0.1 * _sc()
    np.fill_diagonal(fc, 1.0)
    return fc


def _folder(tmp_path, name="brain"):
    folder = tmp_path / name
    folder.mkdir()
    pd.DataFrame({"index": range(4), "label": LABELS, "hemisphere": [x[-1] for x in LABELS],
                  "network": NETWORKS}).to_csv(folder / "regions.csv", index=False)
    return folder


def _write_labelled(path, values: np.ndarray, order: list[int], *, header: bool, label_column: bool,
                    labels: list[str] = LABELS) -> None:
    """Write ``values`` with rows and columns permuted by ``order``, labelled as asked."""
    permuted = values[np.ix_(order, order)]
    names = [labels[k] for k in order]
    table = pd.DataFrame(permuted, index=names if label_column else None, columns=names if header else None)
    table.to_csv(path, header=header, index=label_column)


ORDER = [2, 0, 3, 1]


@pytest.mark.parametrize(("header", "label_column"), [(True, True), (True, False), (False, True)])
def test_labelled_matrices_are_realigned_to_the_region_table(tmp_path, header, label_column):
    folder = _folder(tmp_path)
    _write_labelled(folder / "sc.csv", _sc(), ORDER, header=header, label_column=label_column)
    _write_labelled(folder / "fc.csv", _fc(), ORDER, header=header, label_column=label_column)
    brain = load_parcellation_folder(folder)
    assert brain.labels == LABELS
    np.testing.assert_array_equal(brain.sc.values, _sc())
    np.testing.assert_array_equal(brain.fc.values, _fc())


@pytest.mark.parametrize(("header", "label_column"), [(True, True), (True, False), (False, True)])
def test_a_labelled_row_is_the_target_and_a_column_the_source(tmp_path, header, label_column):
    # docs/network.md: sc[i, j] is the input region i receives from region j, so the file's row
    # labelled B_R, column labelled A_L is B_R's input from A_L, not the other way round
    folder = _folder(tmp_path)
    only = np.zeros((4, 4))
    only[LABELS.index("B_R"), LABELS.index("A_L")] = 0.5
    _write_labelled(folder / "sc.csv", only, ORDER, header=header, label_column=label_column)
    sc = load_parcellation_folder(folder).sc
    assert float(sc.sel(region_i="B_R", region_j="A_L")) == 0.5
    assert float(sc.sel(region_i="A_L", region_j="B_R")) == 0.0
    assert float(sc.sum()) == 0.5


def test_unlabelled_matrix_is_still_read_by_position(tmp_path):
    folder = _folder(tmp_path)
    np.savetxt(folder / "sc.csv", _sc(), delimiter=",")
    brain = load_parcellation_folder(folder)
    np.testing.assert_array_equal(brain.sc.values, _sc())


def test_a_label_the_region_table_lacks_is_refused_by_name(tmp_path):
    folder = _folder(tmp_path)
    wrong = ["A_L", "B_L", "A_R", "C_R"]
    _write_labelled(folder / "sc.csv", _sc(), [0, 1, 2, 3], header=True, label_column=False, labels=wrong)
    with pytest.raises(DataError, match=r"sc\.csv.*'C_R'.*'B_R'|sc\.csv.*'B_R'.*'C_R'"):
        load_parcellation_folder(folder)


def test_row_labels_that_differ_from_the_header_are_refused(tmp_path):
    folder = _folder(tmp_path)
    table = pd.DataFrame(_fc(), index=["A_L", "B_L", "A_R", "X"], columns=LABELS)
    np.savetxt(folder / "sc.csv", _sc(), delimiter=",")
    table.to_csv(folder / "fc.csv")
    with pytest.raises(DataError, match=r"fc\.csv.*'X'"):
        load_parcellation_folder(folder)


def test_text_inside_a_labelled_matrix_is_still_refused(tmp_path):
    folder = _folder(tmp_path)
    table = pd.DataFrame(_sc(), index=LABELS, columns=LABELS).astype(object)
    table.iloc[1, 2] = "oops"
    table.to_csv(folder / "sc.csv")
    with pytest.raises(DataError, match=r"sc\.csv: not a numeric matrix"):
        load_parcellation_folder(folder)


@pytest.mark.parametrize(("text", "cell"), [
    ("0,,2\n1,0,3\n2,3,0\n", r"empty cell.*line 1, column 2"),
    ("0,NA,2\n1,0,3\n2,3,0\n", r"'NA'.*line 1, column 2"),
    ("0,1,x\n1,0,3\n2,3,0\n", r"'x'.*line 1, column 3"),
    ("0,1,2\n,0,3\n2,3,0\n", r"empty cell.*line 2, column 1"),
])
def test_a_missing_or_text_value_in_a_bare_matrix_is_named_not_read_as_labels(tmp_path, text, cell):
    folder = tmp_path / "small"
    folder.mkdir()
    pd.DataFrame({"index": range(3), "label": ["A_L", "B_L", "C_L"], "hemisphere": ["L"] * 3,
                  "network": ["Default", "Vis", "Vis"]}).to_csv(folder / "regions.csv", index=False)
    (folder / "sc.csv").write_text(text)
    with pytest.raises(DataError, match=r"sc\.csv: not a numeric matrix.*" + cell) as info:
        load_parcellation_folder(folder)
    assert "labels" not in str(info.value)


def _receptors(folder, table: pd.DataFrame) -> None:
    np.savetxt(folder / "sc.csv", _sc(), delimiter=",")
    table.to_csv(folder / "receptors.csv", index=False)


def test_receptors_without_index_or_label_warn_that_they_are_matched_by_position(tmp_path):
    folder = _folder(tmp_path)
    _receptors(folder, pd.DataFrame({"5HT2A": [1.0, 2.0, 3.0, 4.0]}))
    from psilosim.errors import DataWarning, PsilosimWarning

    with pytest.warns(DataWarning, match=r"receptors\.csv.*by position.*(index|label)"):  # one line on the CLI
        brain = load_parcellation_folder(folder)
    assert issubclass(DataWarning, PsilosimWarning)
    np.testing.assert_array_equal(brain.receptors.sel(receptor="5HT2A").values, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("key", ["index", "label"])
def test_receptors_with_index_or_label_are_matched_silently_by_key(tmp_path, key):
    folder = _folder(tmp_path)
    keys = [2, 0, 3, 1] if key == "index" else [LABELS[k] for k in (2, 0, 3, 1)]
    _receptors(folder, pd.DataFrame({key: keys, "5HT2A": [30.0, 10.0, 40.0, 20.0]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        brain = load_parcellation_folder(folder)
    np.testing.assert_array_equal(brain.receptors.sel(receptor="5HT2A").values, [10.0, 20.0, 30.0, 40.0])


def test_receptors_with_label_and_index_that_agree_are_matched(tmp_path):
    folder = _folder(tmp_path)
    order = [2, 0, 3, 1]
    _receptors(folder, pd.DataFrame({"index": order, "label": [LABELS[k] for k in order],
                                     "5HT2A": [30.0, 10.0, 40.0, 20.0]}))
    brain = load_parcellation_folder(folder)
    np.testing.assert_array_equal(brain.receptors.sel(receptor="5HT2A").values, [10.0, 20.0, 30.0, 40.0])


def test_receptors_whose_index_contradicts_their_label_are_refused(tmp_path):
    # regions.csv has A_L at index 0; a receptor row labelled A_L with index 2 (C's index) is
    # either a shuffled label or a shuffled index, and which one is unknowable
    folder = _folder(tmp_path)
    _receptors(folder, pd.DataFrame({"index": [2, 1, 0, 3], "label": LABELS, "5HT2A": [1.0, 2.0, 3.0, 4.0]}))
    with pytest.raises(DataError, match=r"receptors\.csv.*index.*'A_L'.*2.*0") as info:
        load_parcellation_folder(folder)
    assert "'B_L'" not in str(info.value)  # only the contradicting rows are listed


def test_receptor_labels_that_do_not_match_are_refused(tmp_path):
    folder = _folder(tmp_path)
    _receptors(folder, pd.DataFrame({"label": ["A_L", "B_L", "A_R", "Z"], "5HT2A": [1.0, 2.0, 3.0, 4.0]}))
    with pytest.raises(DataError, match=r"receptors\.csv.*'Z'"):
        load_parcellation_folder(folder)


# ---------------------------------------------------------------------- repr and units
def test_repr_is_short_and_says_what_the_dataset_holds():
    aal2 = load_dataset("aal2")
    text = repr(aal2)
    assert len(text.splitlines()) <= 8
    for part in ("aal2", "80 regions", "Default", "sc", "lengths", "fc", "5HT2A", "5 BOLD"):
        assert part in text


UREG = pint.UnitRegistry()


@pytest.mark.parametrize("name", ["aal2", "tvb76"])
def test_builtin_arrays_carry_parseable_units_and_a_normalisation_note(name):
    brain = load_dataset(name)
    arrays = {"sc": brain.sc, "lengths": brain.lengths, "receptors": brain.receptors}
    if brain.fc is not None:
        arrays["fc"] = brain.fc
    for what, arr in arrays.items():
        assert "units" in arr.attrs, what
        UREG.parse_units(arr.attrs["units"])
    assert UREG.parse_units(brain.lengths.attrs["units"]) == UREG.mm
    assert brain.sc.attrs["units"] == "1" and brain.sc.attrs.get("note")
    assert brain.receptors.attrs["units"] == "1"  # relative map, max 1
    assert brain.receptor_map("5HT2A").attrs["units"] == "1"


def test_folder_arrays_carry_units(tmp_path):
    folder = _folder(tmp_path)
    np.savetxt(folder / "sc.csv", _sc(), delimiter=",")
    np.savetxt(folder / "fc.csv", _fc(), delimiter=",")
    np.savetxt(folder / "lengths.csv", 10 * _sc(), delimiter=",")
    pd.DataFrame({"index": range(4), "5HT2A": [1.0, 2.0, 3.0, 4.0]}).to_csv(folder / "receptors.csv", index=False)
    brain = load_parcellation_folder(folder)
    assert brain.sc.attrs["units"] == "1" and "sc.csv" in brain.sc.attrs["note"]
    assert brain.fc.attrs["units"] == "1"
    assert brain.lengths.attrs["units"] == "mm"
    assert "receptors.csv" in brain.receptors.attrs["note"]
    normalised = brain.receptor_map("5HT2A")
    assert normalised.attrs["units"] == "1" and float(normalised.max()) == 1.0


def test_a_text_index_is_compared_as_text(tmp_path):
    """regions.csv may use text indices (r0, r1, …): label and index are then compared as text."""
    folder = tmp_path / "text_index"
    folder.mkdir()
    pd.DataFrame({"index": [f"r{k}" for k in range(4)], "label": LABELS, "hemisphere": [x[-1] for x in LABELS],
                  "network": NETWORKS}).to_csv(folder / "regions.csv", index=False)
    order = [2, 0, 3, 1]
    _receptors(folder, pd.DataFrame({"index": [f"r{k}" for k in order], "label": [LABELS[k] for k in order],
                                     "5HT2A": [30.0, 10.0, 40.0, 20.0]}))
    brain = load_parcellation_folder(folder)
    np.testing.assert_array_equal(brain.receptors.sel(receptor="5HT2A").values, [10.0, 20.0, 30.0, 40.0])
    _receptors(folder, pd.DataFrame({"index": ["r1", "r0", "r2", "r3"], "label": LABELS, "5HT2A": [1.0, 2.0, 3.0, 4.0]}))
    with pytest.raises(DataError, match=r"index.*'A_L'.*r1.*r0"):
        load_parcellation_folder(folder)
