"""FC change between two conditions, as the psilocybin imaging study measured it.

Siegel et al. 2024 (Nature 632:131, "Psilocybin desynchronizes the human brain") quantified the
acute effect as a *distance between functional connectivity maps*: for each cortical location,
how far its whole-brain connectivity profile (its seed map, one row of the Fisher-z FC matrix)
moved from the participant's baseline, summarised per network as the mean over the network's
locations; and they described the change as desynchronisation that "dissolved network
distinctions by reducing correlations within and anticorrelations between networks". psilosim
implements both readings on parcellated FC:

``region_fc_distance``
    d_i = sqrt( mean_j (z_ij^drug − z_ij^base)² ), j ≠ i, with z = arctanh(FC): the
    root-mean-square change of region i's Fisher-z seed map (a Euclidean distance divided by
    sqrt(N − 1), so parcellations of different size give comparable numbers).
``network_fc_distance``
    The mean of d_i over the network's regions. Each region counts once whatever the network's
    size, as a vertex-wise map averaged within a network does; small networks are not favoured
    by the average itself (but their means are noisier, which matters only for noisy FC).
``within_network_change``
    Change of the mean within-network FC (the network's "integrity"), drug − baseline.
``split_half_fc_change``
    Mean absolute FC difference between the two halves of one recording: the sampling noise of
    FC at half its length, measured the same way on real and on simulated BOLD (how large a
    noise floor the model's scans have compared with real ones: docs/network.md#noise-floor-realism).

Fisher z is applied because correlations are not additive (Siegel et al. average and compare
Fisher-z FC; so do group FC pipelines such as the HCP group averages). ``group_fc`` averages
several sessions the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from .._labels import align_regions
from ..connectome import Parcellation
from ..errors import DataError
from .settings import SCAN

#: Correlations are clipped to ±(1 − this) before arctanh, so the diagonal and numerically
#: perfect correlations stay finite (a numerical guard, not a physical quantity).
Z_CLIP = 1e-7


def fisher_z(fc: np.ndarray) -> np.ndarray:
    """``arctanh`` of a correlation matrix, with the diagonal set to 0."""
    fc = np.asarray(fc, dtype=float)
    if not np.isfinite(fc).all():
        raise DataError("FC contains NaN or non-finite values")
    z = np.arctanh(np.clip(fc, -1.0 + Z_CLIP, 1.0 - Z_CLIP))
    np.fill_diagonal(z, 0.0)
    return z


def group_fc(fcs: np.ndarray) -> np.ndarray:
    """Average FC over sessions (first axis) in Fisher-z space, returned as correlations."""
    fcs = np.asarray(fcs, dtype=float)
    if fcs.ndim != 3 or fcs.shape[1] != fcs.shape[2]:
        raise DataError(f"expected sessions × N × N FC, got shape {fcs.shape}")
    mean_z = np.mean([fisher_z(f) for f in fcs], axis=0)
    out = np.tanh(mean_z)
    np.fill_diagonal(out, 1.0)
    return out


def region_fc_distance(fc_a: xr.DataArray | np.ndarray, fc_b: xr.DataArray | np.ndarray,
                       *, labels: Sequence[str] | None = None) -> xr.DataArray:
    """Per-region RMS change of the Fisher-z seed map between two FC matrices.

    Parameters
    ----------
    fc_a, fc_b
        Square FC matrices of the same regions in the same order.
    labels
        Region labels; by default the ``region_i`` coordinate of ``fc_a`` (an xarray FC), else
        the row numbers. A labelled FC is read by these labels (rows and columns selected by
        name, whatever its own order); an unlabelled one must already be in their order.

    Returns
    -------
    xarray.DataArray
        ``d_i`` over dimension ``region`` (Fisher-z units, dimensionless).

    Raises
    ------
    InputError
        ``labels`` names a region a labelled FC does not have.
    """
    if labels is not None:
        labels = list(labels)
        fc_a, fc_b = _select_regions(fc_a, labels), _select_regions(fc_b, labels)
    _require_same_regions(fc_a, fc_b)
    delta = fisher_z(fc_a) - fisher_z(fc_b)
    n = delta.shape[0]
    if n < 2:
        raise DataError("need at least two regions")
    if labels is None:
        labels = (fc_a["region_i"].values if isinstance(fc_a, xr.DataArray) and "region_i" in fc_a.dims
                  else np.arange(n))
    return xr.DataArray(np.sqrt((delta**2).sum(axis=1) / (n - 1)), dims=("region",),
                        coords={"region": np.asarray(labels)},
                        attrs={"units": "1", "long_name": "RMS change of the Fisher-z seed map"})


def _is_labelled(fc) -> bool:
    return isinstance(fc, xr.DataArray) and {"region_i", "region_j"} <= set(fc.dims)


def _select_regions(fc, labels: list[str]):
    """A labelled FC's rows and columns of ``labels``, in that order (an unlabelled FC unchanged)."""
    if not _is_labelled(fc):
        return fc
    rows, cols = (align_regions(fc[dim].values, labels, field="labels", found_in=f"the FC's {dim}",
                                wanted_in="labels", subset=True, hint="is it of another parcellation?")
                  for dim in ("region_i", "region_j"))
    return fc.isel(region_i=rows, region_j=cols)


def _require_same_regions(fc_a, fc_b) -> None:
    """Two labelled FC matrices are compared row by row only if they list the same regions in order."""
    if all(_is_labelled(f) for f in (fc_a, fc_b)):
        for dim in ("region_i", "region_j"):
            if list(fc_a[dim].values) != list(fc_b[dim].values):
                raise DataError("the two FC matrices are labelled with other regions (or another order)")


def _network_labels(parcellation: Parcellation) -> np.ndarray:
    return np.asarray(parcellation.regions["network"].to_numpy(), dtype=str)


def network_fc_distance(fc_a: np.ndarray, fc_b: np.ndarray, parcellation: Parcellation) -> dict[str, float]:
    """Mean :func:`region_fc_distance` over each network's regions (Siegel et al. 2024)."""
    per_region = region_fc_distance(fc_a, fc_b, labels=parcellation.labels).values
    nets = _network_labels(parcellation)
    return {net: float(per_region[nets == net].mean()) for net in parcellation.networks}


def within_network_fc(fc: np.ndarray, parcellation: Parcellation) -> dict[str, float]:
    """Mean FC over the pairs inside each network (NaN for a one-region network)."""
    fc = np.asarray(fc, dtype=float)
    nets = _network_labels(parcellation)
    out = {}
    for net in parcellation.networks:
        idx = np.flatnonzero(nets == net)
        block = fc[np.ix_(idx, idx)]
        out[net] = float(block[np.triu_indices(len(idx), 1)].mean()) if len(idx) > 1 else float("nan")
    return out


def within_network_change(fc_drug: np.ndarray, fc_base: np.ndarray, parcellation: Parcellation) -> dict[str, float]:
    """Change of mean within-network FC, drug − baseline (negative: desynchronised)."""
    drug = within_network_fc(fc_drug, parcellation)
    base = within_network_fc(fc_base, parcellation)
    return {net: drug[net] - base[net] for net in drug}


def nonfluctuating(values: np.ndarray) -> np.ndarray:
    """Which series (last axis = time) are constant or hold a non-finite value: FC is undefined there.

    Exact: a range of 0, not a small standard deviation (the std of a constant row is ≈ 1e-17).
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf are what is being looked for
        flat = ~(np.ptp(values, axis=-1) > 0.0)
    return flat | ~np.isfinite(values).all(axis=-1)


def mean_abs_fc_difference(fc_a: np.ndarray, fc_b: np.ndarray) -> float:
    """Mean ``|FC_a − FC_b|`` over the upper triangle (the scan's ``fc_change_global``)."""
    fc_a, fc_b = np.asarray(fc_a, dtype=float), np.asarray(fc_b, dtype=float)
    if fc_a.shape != fc_b.shape or fc_a.ndim != 2 or fc_a.shape[0] != fc_a.shape[1]:
        raise DataError(f"FC matrices must be square and of one shape, got {fc_a.shape} and {fc_b.shape}")
    upper = np.triu_indices(fc_a.shape[0], 1)
    return float(np.abs(fc_a[upper] - fc_b[upper]).mean())


def split_half_fc_change(bold: xr.DataArray) -> float:
    """Mean absolute FC difference between the first and the second half of one recording.

    Parameters
    ----------
    bold
        One recording with dimensions ``region`` and ``time`` (any order). An odd last sample
        is dropped so that both halves have the same length.

    Returns
    -------
    float
        Mean ``|FC_first − FC_second|`` over region pairs (Pearson FC of each half): the
        test–retest noise of FC at half the recording's length. On a stationary model it is pure
        sampling noise; on real data it also holds any change of state within the scan.

    Raises
    ------
    DataError
        Missing ``region``/``time`` dimensions, fewer samples per half than a scan's minimum
        (``SCAN.min_samples``), non-finite values, or a region constant within a half.
    """
    if set(bold.dims) != {"region", "time"}:
        raise DataError(f"BOLD needs dimensions ('region', 'time'), got {bold.dims}")
    values = bold.transpose("region", "time").values
    half, need = values.shape[1] // 2, int(SCAN.min_samples.value)
    if half < need:
        raise DataError(f"{values.shape[1]} BOLD samples give halves of {half}; need at least {need} per half")
    if not np.isfinite(values).all():
        raise DataError("BOLD contains NaN or non-finite values")
    halves = (values[:, :half], values[:, half:2 * half])
    for name, part in zip(("first", "second"), halves, strict=True):
        flat = np.flatnonzero(nonfluctuating(part))
        if flat.size:
            raise DataError(f"BOLD is constant in the {name} half for region(s) "
                            f"{', '.join(str(r) for r in bold['region'].values[flat][:5])}: FC is undefined")
    return mean_abs_fc_difference(np.corrcoef(halves[0]), np.corrcoef(halves[1]))


__all__ = ["fisher_z", "group_fc", "mean_abs_fc_difference", "network_fc_distance",
           "nonfluctuating", "region_fc_distance", "split_half_fc_change", "within_network_change",
           "within_network_fc"]
