"""The built-in AAL2 dataset and the ``load_dataset`` entry point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psilosim.connectome import BUILTIN, DMN, load_dataset
from psilosim.connectome.builtin import AAL2_DATA, HT2A, aal2_region_table, group_fc
from psilosim.errors import DataError, InputError


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def test_aal2_has_80_labelled_regions_in_both_hemispheres(aal2):
    assert aal2.n_regions == 80
    assert aal2.regions["hemisphere"].value_counts().to_dict() == {"L": 40, "R": 40}
    assert list(aal2.sc["region_i"].values) == aal2.labels
    assert all(label.endswith(("_L", "_R")) for label in aal2.labels)


def test_aal2_networks_are_yeo7_and_dmn_is_the_buckner_core(aal2):
    assert set(aal2.networks) == {"Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", DMN}
    dmn = set(aal2.dmn)
    for core in ("Cingulate_Post", "Precuneus", "Angular", "Frontal_Sup_Medial"):
        assert {f"{core}_L", f"{core}_R"} <= dmn
    for not_dmn in ("Calcarine_L", "Precentral_R", "Insula_L"):
        assert not_dmn not in dmn


def test_sc_and_lengths_symmetric_nonnegative_without_self_loops(aal2):
    for m in (aal2.sc.values, aal2.lengths.values):
        assert np.allclose(m, m.T)
        assert (m >= 0).all() and np.all(np.diag(m) == 0)


def test_group_fc_is_a_correlation_matrix_related_to_sc(aal2):
    fc = aal2.fc.values
    assert np.allclose(fc, fc.T) and np.allclose(np.diag(fc), 1.0)
    assert fc.min() >= -1 and fc.max() <= 1
    iu = np.triu_indices(80, 1)
    # Structure predicts function only partly: a positive but far-from-perfect correlation.
    r = np.corrcoef(aal2.sc.values[iu], fc[iu])[0, 1]
    assert 0.1 < r < 0.8


def test_bold_per_subject_is_labelled_with_tr(aal2):
    assert len(aal2.bold) == 5
    tr = AAL2_DATA.tr.to("s")
    for ts in aal2.bold:
        assert ts.dims == ("region", "time") and ts.sizes["region"] == 80
        assert ts.attrs["tr_s"] == tr and float(ts["time"][1] - ts["time"][0]) == tr
        assert np.isfinite(ts.values).all() and ts.attrs["subject"].startswith("NAP_")


def test_ht2a_approximation_is_normalised_and_ordered(aal2):
    r = aal2.receptor_map(HT2A)
    assert float(r.max()) == pytest.approx(1.0) and float(r.min()) > 0
    # Posterior association cortex above primary sensorimotor and paralimbic cortex (Beliveau 2017).
    assert float(r.sel(region="Calcarine_L")) > float(r.sel(region="Precentral_L"))
    assert float(r.sel(region="Precuneus_R")) > float(r.sel(region="OFCmed_R"))
    assert "note" in aal2.receptors.attrs


def test_group_fc_of_identical_recordings_is_their_fc():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((4, 200))
    assert np.allclose(group_fc([b, b]), np.corrcoef(b), atol=1e-6)
    with pytest.raises(DataError):
        group_fc([])


def test_region_table_covers_every_neurolib_name():
    table = aal2_region_table()
    assert table.index.is_unique and len(table) == 80
    assert table["network"].notna().all() and table[HT2A].between(0, 1).all()


def test_unknown_name_lists_valid_names(tmp_path):
    with pytest.raises(InputError, match="aal2") as err:
        load_dataset("aal3")
    assert err.value.field == "dataset"
    assert set(BUILTIN) == {"aal2", "tvb76"}
    assert "tvb76" in str(err.value)
    with pytest.raises(InputError):
        load_dataset(tmp_path / "does-not-exist")


def test_name_is_case_insensitive(aal2):
    assert load_dataset("AAL2") is aal2


# ---------------------------------------------------------------- user folders
def _write_folder(path, n=4, *, sc=None, labels=None, receptors=None):
    path.mkdir()
    labels = labels if labels is not None else [f"r{i}" for i in range(n)]
    pd.DataFrame({
        "index": range(len(labels)), "label": labels, "hemisphere": ["L", "R"] * (len(labels) // 2),
        "network": ["Default", "Vis"] * (len(labels) // 2),
    }).to_csv(path / "regions.csv", index=False)
    sc = sc if sc is not None else np.ones((n, n)) - np.eye(n)
    np.savetxt(path / "sc.csv", sc, delimiter=",")
    if receptors is not None:
        receptors.to_csv(path / "receptors.csv", index=False)
    return path


def test_folder_loads_through_load_dataset(tmp_path):
    folder = _write_folder(tmp_path / "mine")
    p = load_dataset(str(folder))
    assert p.name == "mine" and p.labels == ["r0", "r1", "r2", "r3"] and p.dmn == ["r0", "r2"]


def test_folder_with_mismatched_sc_size_is_rejected(tmp_path):
    folder = _write_folder(tmp_path / "bad", sc=np.ones((3, 3)))
    with pytest.raises(DataError, match=r"sc.csv: shape \(3, 3\) does not match 4 regions"):
        load_dataset(folder)


def test_folder_with_missing_label_is_rejected(tmp_path):
    folder = _write_folder(tmp_path / "bad", labels=["a", "", "c", "d"])
    with pytest.raises(DataError, match="no label"):
        load_dataset(folder)


def test_folder_with_nan_in_sc_is_rejected(tmp_path):
    sc = np.ones((4, 4))
    sc[1, 2] = np.nan
    folder = _write_folder(tmp_path / "bad", sc=sc)
    with pytest.raises(DataError, match="NaN"):
        load_dataset(folder)


def test_folder_with_wrong_receptor_rows_is_rejected(tmp_path):
    rec = pd.DataFrame({"index": range(3), "5HT2A": [1.0, 2.0, 3.0]})
    folder = _write_folder(tmp_path / "bad", receptors=rec)
    with pytest.raises(DataError, match="receptors.csv: 3 rows"):
        load_dataset(folder)


def test_receptor_rows_are_matched_to_regions_by_index(tmp_path):
    rec = pd.DataFrame({"index": [2, 0, 3, 1], "5HT2A": [30.0, 10.0, 40.0, 20.0]})  # shuffled rows
    p = load_dataset(_write_folder(tmp_path / "ok", receptors=rec))
    assert p.receptors.sel(receptor="5HT2A").values.tolist() == [10.0, 20.0, 30.0, 40.0]
    assert p.receptors["region"].values.tolist() == ["r0", "r1", "r2", "r3"]


@pytest.mark.parametrize(("receptors", "message"), [
    (pd.DataFrame({"index": [0, 1, 2, 0], "5HT2A": [1.0, 2.0, 3.0, 4.0]}), "duplicated index"),
    (pd.DataFrame({"index": [0, 1, 2, 7], "5HT2A": [1.0, 2.0, 3.0, 4.0]}), "does not match regions.csv"),
    (pd.DataFrame({"index": range(4), "5HT2A": [0.0] * 4}), "no positive density"),
    (pd.DataFrame({"index": range(4), "5HT2A": [1.0, -2.0, 3.0, 4.0]}), "negative"),
    (pd.DataFrame({"index": range(4), "name": list("abcd"), "5HT2A": [1.0, 2.0, 3.0, 4.0]}), "not numeric"),
    # a 'label' column is a key (matched to regions.csv), so labels of another table are refused by name
    (pd.DataFrame({"index": range(4), "label": list("abcd"), "5HT2A": [1.0, 2.0, 3.0, 4.0]}), "missing \\['r0'"),
])
def test_bad_receptor_tables_are_rejected_naming_the_file(tmp_path, receptors, message):
    folder = _write_folder(tmp_path / "bad", receptors=receptors)
    with pytest.raises(DataError, match=f"receptors.csv: .*{message}"):
        load_dataset(folder)


def test_region_table_needs_unique_index_and_a_network_for_every_region(tmp_path):
    folder = _write_folder(tmp_path / "dup")
    table = pd.read_csv(folder / "regions.csv")
    table.loc[3, "index"] = 2
    table.to_csv(folder / "regions.csv", index=False)
    with pytest.raises(DataError, match="duplicated index"):
        load_dataset(folder)
    folder = _write_folder(tmp_path / "nonet")
    table = pd.read_csv(folder / "regions.csv")
    table.loc[1, "network"] = None
    table.to_csv(folder / "regions.csv", index=False)
    with pytest.raises(DataError, match="has no network"):
        load_dataset(folder)


def test_network_names_are_matched_to_the_dmn_whatever_their_case(tmp_path):
    folder = _write_folder(tmp_path / "lower")
    table = pd.read_csv(folder / "regions.csv")
    table["network"] = table["network"].str.lower()
    table.to_csv(folder / "regions.csv", index=False)
    assert load_dataset(folder).dmn == ["r0", "r2"]


def test_schaefer_folder_loads_by_path(schaefer100_dir):
    p = load_dataset(schaefer100_dir)
    assert p.n_regions == 100 and HT2A in p.receptors["receptor"].values
