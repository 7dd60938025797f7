"""A parcellated brain: region table, connectivity, receptor maps and BOLD, all labelled.

Every array carries its region labels as coordinates, so no code ever has to remember a row
order. Matrices have dims ``("region_i", "region_j")``; time series ``("region", "time")`` with
``time`` in seconds; receptor maps ``("region", "receptor")``.

The on-disk format that :func:`load_parcellation_folder` reads (the shape of
``../shared/data/schaefer100``):

``regions.csv``     header ``index,label,hemisphere,network[,x_mni,y_mni,z_mni]``; one row a region
``sc.csv``          N×N structural connectivity (relative weights, used as given)
``lengths.csv``     optional N×N fibre lengths in mm
``fc.csv``          optional N×N empirical functional connectivity (Pearson r)
``receptors.csv``   optional: header ``index,<receptor>,...`` (or ``label,<receptor>,...``); one
                    density column per receptor; the 5-HT2A map (the drug's gain map) is the
                    column ``5HT2A``, also written ``5-HT2A`` (:func:`canonical_receptor`)

A matrix file is either bare numbers, rows and columns in ``index`` order, or carries region
labels: a header row of labels, a first column of labels, or both (top-left cell anything). With
labels it is realigned to the region table by label and a label the table lacks (or lacks in
the file) is refused by name; labels must not be plain numbers (those read as matrix values).
A ``receptors.csv`` with neither ``index`` nor ``label`` is matched by position, with a warning.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._labels import align_regions
from ..errors import DataError, DataWarning, InputError

#: A serotonin receptor column however it is written (``5HT2A``, ``5-HT2A``, ``5-ht2a``), for
#: :func:`canonical_receptor`.
_SEROTONIN_RECEPTOR = re.compile(r"5-?HT(\w+)", re.IGNORECASE)

#: Name of the default mode network in the region tables (Yeo-7 naming).
DMN = "Default"

MATRIX_DIMS = ("region_i", "region_j")

#: Slack on the [-1, 1] range of a correlation read from fc.csv: ``np.corrcoef`` can return
#: 1 + a few ulp on the diagonal, which is rounding, not bad data.
CORRELATION_ROUNDING = 1e-9


@dataclass(frozen=True)
class Parcellation:
    """A parcellated brain with labelled connectivity.

    Parameters
    ----------
    name
        Short name (``"aal2"``, ``"schaefer100"``, a folder name).
    regions
        Region table indexed by ``label`` with at least ``hemisphere`` and ``network`` columns;
        optional ``x_mni``, ``y_mni``, ``z_mni`` (mm).
    sc
        Structural connectivity, dims ``("region_i", "region_j")``.
    lengths
        Fibre lengths in mm, same dims as ``sc``, or ``None``.
    fc
        Group empirical FC, same dims as ``sc``, or ``None``.
    bold
        Empirical BOLD recordings, each dims ``("region", "time")`` with ``time`` in s and
        attribute ``tr_s``.
    receptors
        Receptor densities, dims ``("region", "receptor")``, or ``None``.
    provenance
        Where the data come from and under what terms.
    """

    name: str
    regions: pd.DataFrame
    sc: xr.DataArray
    lengths: xr.DataArray | None = None
    fc: xr.DataArray | None = None
    bold: tuple[xr.DataArray, ...] = field(default_factory=tuple)
    receptors: xr.DataArray | None = None
    provenance: str = ""

    def __post_init__(self) -> None:
        _check_region_table(self.regions, self.name)
        labels = list(self.regions.index)
        for attr in ("sc", "lengths", "fc"):
            arr = getattr(self, attr)
            if arr is not None:
                _check_matrix(arr, labels, f"{self.name}: {attr}")
        for k, ts in enumerate(self.bold):
            if ts.dims != ("region", "time") or list(ts["region"].values) != labels:
                raise DataError(f"{self.name}: bold[{k}] must have dims (region, time) in region order")
        if self.receptors is not None:
            if self.receptors.dims != ("region", "receptor") or list(self.receptors["region"].values) != labels:
                raise DataError(f"{self.name}: receptors must have dims (region, receptor) in region order")

    def __repr__(self) -> str:
        """A few lines (name, regions, networks, arrays, recordings), not every array's values."""
        arrays = [name for name in ("sc", "lengths", "fc") if getattr(self, name) is not None]
        if self.receptors is not None:
            arrays.append("receptors (" + ", ".join(str(r) for r in self.receptors["receptor"].values) + ")")
        return (f"<Parcellation {self.name!r}: {self.n_regions} regions>\n"
                f"  networks:   {', '.join(self.networks)}\n"
                f"  arrays:     {', '.join(arrays)}\n"
                f"  recordings: {len(self.bold)} BOLD")

    # ------------------------------------------------------------------ convenience
    @property
    def labels(self) -> list[str]:
        """Region labels in order."""
        return list(self.regions.index)

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def is_symmetric(self) -> bool:
        """Whether the structural connectivity is symmetric (undirected)."""
        return bool(np.allclose(self.sc.values, self.sc.values.T))

    @property
    def networks(self) -> list[str]:
        """Network names in order of first appearance."""
        return list(dict.fromkeys(self.regions["network"]))

    def in_network(self, network: str) -> list[str]:
        """Labels of the regions in ``network``."""
        if network not in set(self.regions["network"]):
            raise DataError(f"{self.name}: no network {network!r}; known: {self.networks}")
        return list(self.regions.index[self.regions["network"] == network])

    @property
    def dmn(self) -> list[str]:
        """Labels of the default mode network."""
        return self.in_network(DMN)

    def receptor_map(self, receptor: str, *, normalise: bool = True) -> xr.DataArray:
        """One receptor's density per region; normalised to a maximum of 1 by default.

        Dividing by the maximum follows Deco et al. 2018 (Curr Biol 28:3065), where the
        5-HT2A gain term uses the density scaled to [0, 1].
        """
        if self.receptors is None or receptor not in self.receptors["receptor"].values:
            have = [] if self.receptors is None else [str(r) for r in self.receptors["receptor"].values]
            raise DataError(f"{self.name}: no receptor map {receptor!r}; available: {have}")
        density = self.receptors.sel(receptor=receptor, drop=True)
        if normalise:
            peak = float(density.max())
            if not peak > 0:
                raise DataError(f"{self.name}: receptor map {receptor!r} has no positive density (maximum "
                                f"{peak:g}): it cannot be normalised to a maximum of 1")
            density = density / peak
            density.attrs = {"units": "1", "note": f"{receptor} density divided by its maximum over regions"}
        return density.rename(receptor)


# ---------------------------------------------------------------------- constructors
def labelled_matrix(values: np.ndarray, labels: list[str], *, name: str = "",
                    attrs: dict | None = None) -> xr.DataArray:
    """Wrap an N×N array with region labels on both dims (``attrs``: e.g. ``units`` and ``note``)."""
    return xr.DataArray(
        np.asarray(values, dtype=float), dims=MATRIX_DIMS,
        coords={"region_i": labels, "region_j": labels}, name=name or None, attrs=dict(attrs or {}),
    )


#: Units and meaning of a user folder's matrices (psilosim uses the values as given).
FOLDER_MATRIX_ATTRS = {
    "sc.csv": {"units": "1", "note": "relative connection weights as given in sc.csv (not rescaled by psilosim; "
                                     "the network couplings G are fitted to this scale)"},
    "lengths.csv": {"units": "mm", "note": "fibre lengths as given in lengths.csv"},
    "fc.csv": {"units": "1", "note": "Pearson correlation as given in fc.csv"},
}


#: ``long_name`` of the ``time`` coordinate of every BOLD series psilosim returns, simulated or
#: recorded (docs/network.md#time-axis); :data:`psilosim.network.bold.TIME_LONG_NAME` is this.
TIMESERIES_TIME_NAME = ("time since the recording started (after any warm-up); each sample stamped at the "
                        "instant it was read, the end of its TR")


def labelled_timeseries(values: np.ndarray, labels: list[str], tr_s: float, *,
                        name: str = "bold") -> xr.DataArray:
    """Wrap a regions × time array with region labels and a time axis in seconds.

    The axis is the one of every psilosim BOLD series, simulated or recorded
    (docs/network.md#time-axis): s since the recording started, volume m (1-based) stamped at
    ``m · tr_s``, the end of its acquisition, so a recording and a simulation of the same length
    and TR share their time coordinate. A volume is acquired over the TR before its stamp (its
    content is centred half a TR earlier, where a simulated sample is the instant of its stamp);
    FC and FCD use sample order only and are unaffected.
    """
    values = np.asarray(values, dtype=float)
    times = np.arange(1, values.shape[1] + 1) * tr_s
    return xr.DataArray(
        values, dims=("region", "time"),
        coords={"region": labels, "time": ("time", times, {"units": "s", "long_name": TIMESERIES_TIME_NAME})},
        attrs={"tr_s": float(tr_s), "units": "a.u."}, name=name,
    )


def load_parcellation_folder(path: str | Path, *, name: str | None = None) -> Parcellation:
    """Load a parcellation in the folder format described in this module's docstring.

    Raises
    ------
    DataError
        On a missing, empty or malformed file, a missing or duplicated label, a size mismatch,
        non-finite values, negative structural weights or FC values outside [-1, 1], with a
        message naming the file.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected regions.csv, sc.csv, ...)")
    regions, region_index = read_region_table(folder / "regions.csv")
    labels = list(regions.index)

    def matrix(fname: str, required: bool) -> xr.DataArray | None:
        f = folder / fname
        if not f.exists():
            if required:
                raise DataError(f"{f}: missing (structural connectivity is required)")
            return None
        values = _read_matrix_csv(f, labels)
        if values.shape != (len(labels), len(labels)):
            raise DataError(f"{f}: shape {values.shape} does not match {len(labels)} regions in regions.csv")
        if fname in _MATRIX_RANGE_CHECKS:
            _MATRIX_RANGE_CHECKS[fname](values, f)
        return labelled_matrix(values, labels, name=fname.removesuffix(".csv"), attrs=FOLDER_MATRIX_ATTRS[fname])

    receptors = None
    if (folder / "receptors.csv").exists():
        rec = _read_receptor_table(folder / "receptors.csv", region_index, labels)
        receptors = xr.DataArray(
            rec.to_numpy(dtype=float), dims=("region", "receptor"),
            coords={"region": labels, "receptor": [str(c) for c in rec.columns]}, name="density",
            attrs={"note": "densities as given in receptors.csv, in the unit of the source data (unknown to "
                           "psilosim, so no 'units'); receptor_map() divides each map by its maximum (units 1)"},
        )
    return Parcellation(
        name=name or folder.name, regions=regions, sc=matrix("sc.csv", True),
        lengths=matrix("lengths.csv", False), fc=matrix("fc.csv", False), receptors=receptors,
        provenance=f"loaded from {folder}",
    )


# ---------------------------------------------------------------------- validation helpers
REQUIRED_REGION_COLUMNS = ("label", "hemisphere", "network")


def read_region_table(path: Path, *, required: tuple[str, ...] = REQUIRED_REGION_COLUMNS
                       ) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The region table indexed by label, in ``index`` order, and that index (``None`` without one).

    ``required`` are the columns that must be present and filled in every row: a dataset folder
    needs the hemisphere too, a region table given to the metrics commands only label and network.
    """
    if not path.exists():
        raise DataError(f"{path}: missing (the region table is required)")
    table = _read_table(path)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; expected {list(required)}")
    for col in required:
        if table[col].isna().any() or (table[col].astype(str).str.strip() == "").any():
            raise DataError(f"{path}: a region has no {col}")
    index = None
    if "index" in table.columns:
        _require_unique_index(table["index"], path, ": each region needs its own index (it orders the rows of the other files)")
        table = table.sort_values("index")
        index = table["index"].to_numpy()
    table["label"] = table["label"].astype(str)
    table["network"] = table["network"].astype(str).map(canonical_network)
    return table.set_index("label").drop(columns=["index"], errors="ignore"), index


def _require_unique_index(index: pd.Series, path: Path, consequence: str = "") -> None:
    if index.duplicated().any():
        raise DataError(f"{path}: duplicated index {sorted(set(index[index.duplicated()]))[:5]}{consequence}")


def canonical_network(name: str) -> str:
    """The Yeo-7 spelling of the default mode network whatever its case (``default`` → ``Default``),
    so that the DMN measures find it; other names are kept as written."""
    return DMN if name.strip().lower() == DMN.lower() else name.strip()


def _read_receptor_table(path: Path, region_index: np.ndarray | None, labels: list[str]) -> pd.DataFrame:
    """Receptor densities in region order: rows matched to regions by ``label``, or by ``index``
    when both files have one, else by position (with a warning); numeric, finite and non-negative,
    each map with a positive maximum."""
    rec = _read_table(path)
    n_regions = len(labels)
    if len(rec) != n_regions:
        raise DataError(f"{path}: {len(rec)} rows, expected {n_regions} regions")
    if "label" in rec.columns:
        order = _aligned(rec["label"].astype(str), labels, path, "its label column")
        rec = rec.iloc[order]
        if "index" in rec.columns and region_index is not None:
            _require_index_matches_label(rec, region_index, path)
        rec = rec.drop(columns=["label", "index"], errors="ignore")
    elif "index" in rec.columns:
        _require_unique_index(rec["index"], path)
        rec = rec.set_index("index")
        if region_index is not None:
            missing = sorted(set(region_index) - set(rec.index))
            extra = sorted(set(rec.index) - set(region_index))
            if missing or extra:
                raise DataError(f"{path}: index does not match regions.csv (missing {missing[:5]}, extra {extra[:5]})")
            rec = rec.loc[region_index]
        else:
            rec = rec.sort_index()
    else:
        warnings.warn(f"{path}: no 'index' or 'label' column, so rows are matched to regions.csv by position "
                      "(row k = region k); add a first column 'index' (the index of regions.csv) or 'label' "
                      "(the region label) to have them matched by key", DataWarning, stacklevel=4)
    rec = _canonical_receptor_columns(rec, path)
    text = [str(c) for c in rec.columns if not pd.api.types.is_numeric_dtype(rec[c])]
    if text:
        raise DataError(f"{path}: column(s) {text} are not numeric (one density column per receptor)")
    values = rec.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise DataError(f"{path}: contains NaN or non-finite values")
    if (values < 0).any():
        raise DataError(f"{path}: contains negative densities")
    empty = [str(c) for c, peak in zip(rec.columns, values.max(axis=0), strict=True) if not peak > 0]
    if empty:
        raise DataError(f"{path}: column(s) {empty} have no positive density")
    return rec


def canonical_receptor(name: str) -> str:
    """A serotonin receptor as psilosim spells it (``5HT2A``), whichever way it is written: the
    docs' ``5-HT2A``, ``5-ht2a``; any other name is kept as written."""
    match = _SEROTONIN_RECEPTOR.fullmatch(str(name).strip())
    return f"5HT{match.group(1).upper()}" if match else str(name).strip()


def _canonical_receptor_columns(rec: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``rec`` with its receptor columns named by :func:`canonical_receptor`; two columns for one
    receptor (``5HT2A`` and ``5-HT2A``) are refused by name."""
    names = [canonical_receptor(c) for c in rec.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        spellings = [str(c) for c, n in zip(rec.columns, names, strict=True) if n in twice]
        raise DataError(f"{path}: columns {spellings} are the same receptor; keep one")
    return rec.set_axis(names, axis=1)


def _require_index_matches_label(rec: pd.DataFrame, region_index: np.ndarray, path: Path) -> None:
    """Refuse receptor rows (already in region order) whose ``index`` is not regions.csv's index for
    their ``label``: one of the two columns is shuffled, and which one cannot be told."""
    wrong = np.flatnonzero(_index_text(rec["index"]) != _index_text(region_index))
    if wrong.size:
        rows = [f"{rec['label'].iloc[k]!r}: {rec['index'].iloc[k]} (regions.csv: {region_index[k]})" for k in wrong[:3]]
        raise DataError(f"{path}: index does not match regions.csv's index for the label in {wrong.size} row(s), "
                        f"e.g. {'; '.join(rows)}: is one of the two columns shuffled?")


def _index_text(values) -> np.ndarray:
    """Index values as text, so ``3``, ``3.0`` and ``"3"`` agree and text indices (``r0``) compare too."""
    raw = list(np.asarray(values, dtype=object))
    numbers = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce")
    return np.array([f"{float(n):g}" if pd.notna(n) else str(v).strip() for v, n in zip(raw, numbers, strict=True)],
                    dtype=object)


def _read_table(path: Path) -> pd.DataFrame:
    """A CSV table with a header; an empty or malformed file is a :class:`DataError` naming it."""
    try:
        return pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError, ParserError, bad encoding
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable CSV table ({problem})") from None


def _require_nonnegative_weights(values: np.ndarray, path: Path) -> None:
    if (values < 0).any():
        raise DataError(f"{path}: contains negative connection weights (structural connectivity is >= 0)")


def _require_correlations(values: np.ndarray, path: Path) -> None:
    if (np.abs(values) > 1.0 + CORRELATION_ROUNDING).any():
        raise DataError(f"{path}: contains values outside [-1, 1] (expected correlations, "
                        f"got {values.min():g} to {values.max():g})")


#: What each matrix file's values must satisfy beyond being finite, checked at load so that the
#: error names the file (not a model that meets the matrix later).
_MATRIX_RANGE_CHECKS = {"sc.csv": _require_nonnegative_weights, "fc.csv": _require_correlations}


def _read_numeric_csv(path: Path) -> np.ndarray:
    try:
        values = np.loadtxt(path, delimiter=",", dtype=float, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path}: not a numeric matrix ({exc})") from None
    if not np.isfinite(values).all():
        raise DataError(f"{path}: contains NaN or non-finite values")
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _are_labels(cells: np.ndarray) -> bool:
    """Whether a row or column of cells is region labels: every one filled in and not a number.

    A single empty, "NA" or stray text cell among numbers is a bad value of a bare matrix (named by
    :func:`_numeric_cells`), not a header that would then fail to match the region table."""
    return cells.size > 0 and all(c.strip() != "" and not _is_number(c) for c in cells)


def _numeric_cells(cells: np.ndarray, path: Path, first_line: int, first_column: int) -> np.ndarray:
    """``cells`` as floats; the first cell that is not a number is named with its place in the file
    (1-based line and column, ``first_line``/``first_column`` being those of ``cells[0, 0]``)."""
    try:
        values = cells.astype(float)
    except ValueError:  # only then look for the cell to name (one pass over a valid file)
        for (i, j), cell in np.ndenumerate(cells):
            if not _is_number(cell):
                what = "an empty cell" if cell.strip() == "" else repr(cell)
                raise DataError(f"{path}: not a numeric matrix (found {what} at line {first_line + i}, "
                                f"column {first_column + j})") from None
        raise
    if not np.isfinite(values).all():
        raise DataError(f"{path}: contains NaN or non-finite values")
    return values


def _read_matrix_csv(path: Path, labels: list[str]) -> np.ndarray:
    """An N×N matrix in region-table order: bare numbers by position, or realigned by the labels of
    a header row and/or a first column (the module docstring); row i is the target region, column j
    the source (``sc[i, j]`` is the input i receives from j)."""
    try:
        cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False).to_numpy()
    except (ValueError, pd.errors.ParserError):
        cells = None
    if cells is None or cells.size == 0 or cells.ndim != 2:
        return _read_numeric_csv(path)
    header = cells.shape[1] > 1 and _are_labels(cells[0, 1:])
    label_column = cells.shape[0] > 1 and _are_labels(cells[int(header):, 0])
    values = _numeric_cells(cells[int(header):, int(label_column):], path, 1 + int(header), 1 + int(label_column))
    if not header and not label_column:
        return values
    column_labels = cells[0, int(label_column):] if header else None
    row_labels = cells[int(header):, 0] if label_column else None
    cols = _aligned(column_labels if header else row_labels, labels, path, "its header" if header else "its first column")
    rows = _aligned(row_labels if label_column else column_labels, labels, path,
                    "its first column" if label_column else "its header")
    return values[np.ix_(rows, cols)]


def _aligned(found, labels: list[str], path: Path, where: str) -> np.ndarray:
    """Positions of the region table's labels in ``found`` (a file's labels), refused by name on a mismatch."""
    try:
        return align_regions(found, labels, field=str(path), found_in=f"{path.name} ({where})",
                             wanted_in="regions.csv", hint="are the files of the same parcellation?")
    except InputError as exc:
        raise DataError(str(exc)) from None


def _check_region_table(regions: pd.DataFrame, name: str) -> None:
    if regions.index.has_duplicates:
        dups = sorted(set(regions.index[regions.index.duplicated()]))
        raise DataError(f"{name}: duplicated region label(s) {dups[:5]}")
    for col in ("hemisphere", "network"):
        if col not in regions.columns:
            raise DataError(f"{name}: region table needs a {col!r} column")


def _check_matrix(arr: xr.DataArray, labels: list[str], what: str) -> None:
    if arr.dims != MATRIX_DIMS:
        raise DataError(f"{what}: dims {arr.dims}, expected {MATRIX_DIMS}")
    if arr.shape != (len(labels), len(labels)):
        raise DataError(f"{what}: shape {arr.shape} does not match {len(labels)} regions")
    if list(arr["region_i"].values) != labels or list(arr["region_j"].values) != labels:
        raise DataError(f"{what}: region labels differ from the region table")
    if not np.isfinite(arr.values).all():
        raise DataError(f"{what}: contains NaN or non-finite values")


def network_order(regions: pd.DataFrame) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Region labels ordered by network (first appearance in the table), then hemisphere, and the
    network blocks as ``(network, first row, last row + 1)``: AAL2's own order alternates
    hemispheres, which draws a checkerboard instead of network blocks. A table without a
    ``hemisphere`` column (user folders, CSV region tables) is ordered by network only. Plain
    pandas: the figures of every link use it without importing the models.
    """
    if "hemisphere" not in regions.columns:
        regions = regions.assign(hemisphere="")
    networks = list(dict.fromkeys(regions["network"]))
    table = regions.assign(_net=regions["network"].map(networks.index), _row=np.arange(len(regions)))
    ordered = table.sort_values(["_net", "hemisphere", "_row"], kind="stable")
    blocks, start = [], 0
    for name, group in ordered.groupby("_net", sort=True):
        blocks.append((networks[name], start, start + len(group)))
        start += len(group)
    return list(ordered.index), blocks
