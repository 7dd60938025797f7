"""Checks and conversions shared by the metrics: labelled inputs in, clear errors out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .._labels import align_regions
from ..connectome.parcellation import MATRIX_DIMS, TIMESERIES_TIME_NAME, canonical_network
from ..errors import InputError

#: Fewest samples from which a Pearson correlation of a window is meaningful at all.
MIN_WINDOW_SAMPLES = 3
#: Relative tolerance when a given TR is compared with the step of the time axis (float noise of
#: a coordinate built as ``arange(n) * tr``, not a physical tolerance).
TR_RTOL = 1e-6


def check_region_table(regions: pd.DataFrame) -> pd.DataFrame:
    """Validate a region table (indexed by label, with a ``network`` column).

    Returns a copy with its labels as strings (the labels every metric attaches to its arrays) and
    the default mode network spelt ``Default`` whatever its case, as the dataset reader spells it
    (:func:`~psilosim.connectome.parcellation.canonical_network`), so the DMN measures find it.
    """
    if not isinstance(regions, pd.DataFrame):
        raise InputError("regions", "expected a pandas DataFrame indexed by region label")
    if "network" not in regions.columns:
        raise InputError("regions", "the region table needs a 'network' column")
    regions = regions.set_axis(regions.index.map(str).rename(regions.index.name), axis=0)
    regions = regions.assign(network=regions["network"].map(lambda n: canonical_network(n) if isinstance(n, str) else n))
    if regions.index.has_duplicates:
        dups = sorted(set(map(str, regions.index[regions.index.duplicated()])))
        raise InputError("regions", f"duplicated region label(s) {dups[:5]}")
    if len(regions) < 2:
        raise InputError("regions", f"needs at least 2 regions, got {len(regions)}")
    return regions


def _table_order(found, labels: list[str], field: str) -> np.ndarray:
    """Positions of the region table's labels among an input's (refused by name if they differ)."""
    return align_regions(found, labels, field=field, found_in=field, wanted_in="the region table")


def _bare_shape_problem(shape: tuple[int, int], n_regions: int, field: str) -> str:
    """Why a bare array's rows do not match the region table; when its columns do, it is most
    likely time × region, and the fix (never guessed here: a square array would be ambiguous) is
    to transpose it."""
    problem = f"has {shape[0]} rows but the region table has {n_regions} regions (expected regions × time)"
    if shape[1] == n_regions:
        problem += f"; its {shape[1]} columns match the regions, so it looks like time × region: transpose it " \
                   f"({field}.T)"
    return problem


def as_timeseries(bold: xr.DataArray | np.ndarray, regions: pd.DataFrame, *,
                  tr_s: float | None = None,
                  field: str = "bold") -> xr.DataArray:
    """Return ``bold`` as a checked DataArray ``(region, time)`` in region-table order.

    A bare ``numpy`` array is accepted as regions × time in region-table order. The sampling
    interval comes from ``tr_s`` or, if that is ``None``, from the ``time`` coordinate.

    Raises
    ------
    InputError
        Wrong dims or shape, labels that differ from the table, NaN/inf, a constant region,
        a missing or non-positive TR, or a time coordinate that contradicts ``tr_s``.
    """
    regions = check_region_table(regions)
    labels = [str(x) for x in regions.index]
    if isinstance(bold, np.ndarray):
        if bold.ndim != 2:
            raise InputError(field, f"expected a 2-D regions × time array, got shape {bold.shape}")
        if tr_s is None or not np.isfinite(tr_s) or tr_s <= 0:
            raise InputError("tr_s", f"a bare array needs a positive repetition time in s, got {tr_s}")
        if bold.shape[0] != len(labels):
            raise InputError(field, _bare_shape_problem(bold.shape, len(labels), field))
        bold = xr.DataArray(bold, dims=("region", "time"), coords={"region": labels})
    if not isinstance(bold, xr.DataArray):
        raise InputError(field, "expected an xarray DataArray with dims ('region', 'time')")
    if set(bold.dims) != {"region", "time"} or bold.ndim != 2:
        raise InputError(field, f"dims {bold.dims}, expected ('region', 'time')")
    bold = bold.transpose("region", "time")
    bold = bold.isel(region=_table_order(bold["region"].values, labels, field)).assign_coords(region=labels)
    tr = _sampling_interval(bold, tr_s, field)
    values = np.asarray(bold.values, dtype=float)
    if not np.isfinite(values).all():
        bad = [labels[i] for i in np.flatnonzero(~np.isfinite(values).all(axis=1))]
        raise InputError(field, f"contains NaN or infinite values (regions {bad[:5]})")
    if values.shape[1] < MIN_WINDOW_SAMPLES:
        raise InputError(field, f"only {values.shape[1]} time points; need at least {MIN_WINDOW_SAMPLES}")
    flat = np.ptp(values, axis=1) == 0
    if flat.any():
        raise InputError(field, f"constant signal in region(s) {[labels[i] for i in np.flatnonzero(flat)][:5]}"
                                " (correlation undefined)")
    return xr.DataArray(values, dims=("region", "time"),
                        coords={"region": labels, "time": ("time", _time_axis(bold, tr),
                                                           {"units": "s", "long_name": TIMESERIES_TIME_NAME})},
                        attrs={**bold.attrs, "tr_s": tr}, name=bold.name or "bold")


def _time_axis(bold: xr.DataArray, tr: float) -> np.ndarray:
    """The recording's own times in s, or psilosim's axis (docs/network.md#time-axis) when it has none.

    Sample m (1-based) of a series without a ``time`` coordinate is stamped m·TR, as every
    psilosim BOLD series is; a given coordinate is kept, so window centres stay on its clock.
    """
    if "time" in bold.coords:
        return np.asarray(bold["time"].values, dtype=float)
    return np.arange(1, bold.sizes["time"] + 1) * tr


def _sampling_interval(bold: xr.DataArray, tr_s: float | None, field: str) -> float:
    coord_tr = None
    if "time" in bold.coords and bold.sizes["time"] > 1:
        steps = np.diff(np.asarray(bold["time"].values, dtype=float))
        if not (steps > 0).all() or not np.allclose(steps, steps[0], rtol=1e-6):
            raise InputError(field, "the time coordinate must increase in equal steps (seconds)")
        coord_tr = float(steps[0])
    if tr_s is None:
        tr_s = bold.attrs.get("tr_s", coord_tr)
    if tr_s is None or not np.isfinite(tr_s) or tr_s <= 0:
        raise InputError("tr_s", f"repetition time must be a positive number of seconds, got {tr_s}")
    if coord_tr is not None and not np.isclose(coord_tr, tr_s, rtol=TR_RTOL, atol=0.0):
        raise InputError("tr_s", f"{float(tr_s):g} s contradicts the {field} time axis, which steps by "
                                 f"{coord_tr:g} s; pass the TR of the recording or fix its time coordinate")
    return float(tr_s)


def as_fc(fc: xr.DataArray, regions: pd.DataFrame, *, field: str = "fc") -> xr.DataArray:
    """Return ``fc`` as a checked symmetric ``(region_i, region_j)`` matrix in table order.

    The diagonal is not checked (it may hold 1, 0 or NaN for Fisher z).
    """
    regions = check_region_table(regions)
    labels = [str(x) for x in regions.index]
    if not isinstance(fc, xr.DataArray) or fc.dims != MATRIX_DIMS:
        raise InputError(field, f"expected a DataArray with dims {MATRIX_DIMS}")
    fc = fc.isel(region_i=_table_order(fc["region_i"].values, labels, field),
                 region_j=_table_order(fc["region_j"].values, labels, field))
    fc = fc.assign_coords(region_i=labels, region_j=labels)
    values = np.array(fc.values, dtype=float)
    off = ~np.eye(len(labels), dtype=bool)
    if not np.isfinite(values[off]).all():
        raise InputError(field, "contains NaN or infinite off-diagonal values")
    if not np.allclose(values[off], values.T[off], atol=1e-8):
        raise InputError(field, "matrix is not symmetric")
    return fc.copy(data=values)


def offdiag(fc: xr.DataArray | np.ndarray) -> np.ndarray:
    """The matrix as float64 with a zero diagonal (self-connections are not edges)."""
    values = np.array(fc.values if isinstance(fc, xr.DataArray) else fc, dtype=float)
    np.fill_diagonal(values, 0.0)
    return values


def window_samples(window_s: float, step_s: float, tr_s: float, n_time: int) -> tuple[int, int]:
    """Window and step lengths in samples for windows set in seconds.

    Raises
    ------
    InputError
        A non-positive window or step, a window shorter than 3 samples, or a recording shorter
        than one window.
    """
    if not window_s > 0:
        raise InputError("window_s", f"must be positive, got {window_s}")
    if not step_s > 0:
        raise InputError("step_s", f"must be positive, got {step_s}")
    width = int(round(window_s / tr_s))
    step = max(1, int(round(step_s / tr_s)))
    if width < MIN_WINDOW_SAMPLES:
        raise InputError("window_s", f"{window_s} s is {width} samples at TR {tr_s} s; "
                                     f"need at least {MIN_WINDOW_SAMPLES}")
    if width > n_time:
        raise InputError("window_s", f"{window_s} s ({width} samples) is longer than the recording "
                                     f"({n_time} time points = {n_time * tr_s:g} s)")
    return width, step
