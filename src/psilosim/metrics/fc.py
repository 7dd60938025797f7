"""Functional connectivity: static FC, sliding-window FC and FC dynamics (FCD).

Definitions
-----------
Static FC
    Pearson correlation of every pair of regional BOLD signals over the whole recording;
    optionally Fisher z-transformed (``arctanh r``), whose diagonal is NaN (``arctanh 1`` is
    infinite).
Sliding-window FC
    The same correlation inside windows of ``window_s`` seconds moved by ``step_s`` seconds;
    lengths are converted to samples with the recording's TR, so datasets with different TRs
    share one definition.
FCD
    The matrix of Pearson correlations between the upper triangles of every pair of window FCs
    (Hansen et al. 2015 NeuroImage 105:525); two recordings are compared by the
    Kolmogorov–Smirnov distance between the distributions of their FCD upper triangles
    (Deco et al. 2018 Curr Biol 28:3065).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import ks_2samp

from ..connectome.parcellation import MATRIX_DIMS
from ._inputs import as_timeseries, window_samples
from .params import DEFAULT_METRICS


def correlation_matrix(values: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows of a regions × samples array (exactly symmetric)."""
    centred = values - values.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    unit = centred / np.where(norms > 0, norms, np.inf)[:, None]
    corr = unit @ unit.T
    corr = np.clip((corr + corr.T) / 2, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def static_fc(bold: xr.DataArray, regions: pd.DataFrame, *, fisher_z: bool = False,
              tr_s: float | None = None) -> xr.DataArray:
    """Static FC of a recording.

    Parameters
    ----------
    bold
        BOLD, dims ``("region", "time")`` with ``time`` in seconds.
    regions
        Region table indexed by label (``network`` column).
    fisher_z
        Return ``arctanh(r)`` (diagonal NaN) instead of ``r``.
    tr_s
        Repetition time in s; taken from the time coordinate when ``None``.

    Returns
    -------
    xarray.DataArray
        Dims ``("region_i", "region_j")`` in region-table order.
    """
    ts = as_timeseries(bold, regions, tr_s=tr_s)
    corr = correlation_matrix(ts.values)
    if fisher_z:
        corr = fisher(corr)
    labels = list(ts["region"].values)
    return xr.DataArray(corr, dims=MATRIX_DIMS, coords={"region_i": labels, "region_j": labels},
                        name="fc_z" if fisher_z else "fc",
                        attrs={"units": "1", "measure": "Fisher z" if fisher_z else "Pearson r"})


def fisher(corr: np.ndarray) -> np.ndarray:
    """Fisher z (``arctanh r``); entries with ``|r| = 1`` (the diagonal) become NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.arctanh(corr)
    z[~np.isfinite(z)] = np.nan
    return z


def window_starts(n_time: int, width: int, step: int) -> np.ndarray:
    """Start samples of the windows that fit entirely in the recording."""
    return np.arange(0, n_time - width + 1, step)


def windowed_correlations(values: np.ndarray, width: int, step: int) -> np.ndarray:
    """Window FCs, shape (windows, regions, regions), vectorised over windows.

    A region that is flat inside one window (possible in synthetic data) gets zero correlation
    there instead of NaN.
    """
    starts = window_starts(values.shape[1], width, step)
    segments = np.stack([values[:, s:s + width] for s in starts])
    centred = segments - segments.mean(axis=2, keepdims=True)
    norms = np.sqrt(np.einsum("wrt,wrt->wr", centred, centred))
    unit = centred / np.where(norms > 0, norms, np.inf)[:, :, None]
    corr = np.einsum("wit,wjt->wij", unit, unit)
    corr = np.clip((corr + corr.transpose(0, 2, 1)) / 2, -1.0, 1.0)
    idx = np.arange(values.shape[0])
    corr[:, idx, idx] = 1.0
    return corr


def sliding_window_fc(bold: xr.DataArray, regions: pd.DataFrame, *,
                      window_s: float = DEFAULT_METRICS.window_s.value,
                      step_s: float = DEFAULT_METRICS.step_s.value,
                      tr_s: float | None = None) -> xr.DataArray:
    """FC in sliding windows set in seconds.

    Returns
    -------
    xarray.DataArray
        Dims ``("window", "region_i", "region_j")``; coordinate ``window`` holds each window's
        centre time in s on the recording's own time axis (docs/network.md#time-axis).

    Raises
    ------
    InputError
        If the recording is shorter than one window (and on any bad BOLD input).
    """
    ts = as_timeseries(bold, regions, tr_s=tr_s)
    tr = ts.attrs["tr_s"]
    width, step = window_samples(window_s, step_s, tr, ts.sizes["time"])
    corr = windowed_correlations(ts.values, width, step)
    centres = float(ts["time"].values[0]) + (window_starts(ts.sizes["time"], width, step) + (width - 1) / 2) * tr
    labels = list(ts["region"].values)
    return xr.DataArray(corr, dims=("window",) + MATRIX_DIMS,
                        coords={"window": centres, "region_i": labels, "region_j": labels},
                        name="window_fc", attrs={"window_s": width * tr, "step_s": step * tr,
                                                 "units": "1"})


def upper_triangle(matrix: np.ndarray) -> np.ndarray:
    """Entries above the diagonal (each unordered pair once)."""
    rows, cols = np.triu_indices(matrix.shape[-1], k=1)
    return matrix[..., rows, cols]


def fcd_matrix(window_fc: xr.DataArray) -> xr.DataArray:
    """FCD: correlation between the upper triangles of every pair of window FCs."""
    edges = upper_triangle(np.asarray(window_fc.values))
    fcd = correlation_matrix(edges) if edges.shape[0] > 1 else np.ones((1, 1))
    centres = window_fc["window"].values
    return xr.DataArray(fcd, dims=("window_a", "window_b"),
                        coords={"window_a": centres, "window_b": centres}, name="fcd",
                        attrs={"units": "1"})


def fcd(bold: xr.DataArray, regions: pd.DataFrame, *,
        window_s: float = DEFAULT_METRICS.window_s.value,
        step_s: float = DEFAULT_METRICS.step_s.value, tr_s: float | None = None) -> xr.DataArray:
    """FCD matrix of a recording (see the module docstring)."""
    return fcd_matrix(sliding_window_fc(bold, regions, window_s=window_s, step_s=step_s, tr_s=tr_s))


def fcd_ks_distance(fcd_a: xr.DataArray, fcd_b: xr.DataArray) -> float:
    """Kolmogorov–Smirnov distance between the FCD upper-triangle distributions of two recordings.

    Raises
    ------
    InputError
        If either FCD has fewer than two windows (no off-diagonal values).
    """
    from ..errors import InputError

    values = []
    for name, matrix in (("fcd_a", fcd_a), ("fcd_b", fcd_b)):
        tri = upper_triangle(np.asarray(matrix.values))
        if tri.size == 0:
            raise InputError(name, "needs at least two windows for an FCD distribution")
        values.append(tri)
    return float(ks_2samp(values[0], values[1]).statistic)
