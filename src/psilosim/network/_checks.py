"""Input checks shared by the network models and sessions."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._labels import SHOWN_LABELS, align_regions
from ..errors import InputError

#: The dims of a structural connectivity: ``sc[i, j]`` is the input that region i receives from j.
SC_DIMS = ("region_i", "region_j")


def checked_coupling(coupling: float, *, field: str = "coupling") -> float:
    """``coupling`` as a float, or an :class:`InputError` on ``field`` if it is negative or not finite.

    A global coupling G scales long-range excitation: G < 0 would make every structural connection
    inhibitory (no model here is defined there), and G = 0 is the uncoupled network.
    """
    try:
        value = float(coupling)
    except (TypeError, ValueError):
        raise InputError(field, f"must be a finite number >= 0, got {coupling!r}") from None
    if not (np.isfinite(value) and value >= 0.0):
        raise InputError(field, f"G must be finite and non-negative, got {coupling}")
    return value


def checked_couplings(coupling, *, field: str = "coupling") -> np.ndarray:
    """One coupling or one per batch member as a 1-D float array, each as :func:`checked_coupling`
    requires (finite and non-negative)."""
    g = np.atleast_1d(np.asarray(coupling, dtype=float))
    if g.ndim != 1 or not np.isfinite(g).all() or (g < 0).any():
        raise InputError(field, f"G must be finite and non-negative, one value or one per member, got {coupling}")
    return g


def checked_sc(sc) -> tuple[np.ndarray, list[str]]:
    """The weights (``region_i`` × ``region_j``) and region labels of a structural connectivity.

    The SC must be a labelled ``xarray.DataArray`` with dims ``("region_i", "region_j")`` (in
    either storage order: it is read by dim name) whose two dims list the same regions in the
    same order, so that row k and column k are one region. A bare array carries no regions to
    check and is refused, as every network entry point takes a labelled connectome
    (``Parcellation.sc``, or :func:`psilosim.connectome.labelled_matrix` for your own weights).

    Raises
    ------
    InputError
        On ``"sc"``: not a labelled DataArray with those dims, row and column labels that differ
        (names the first few), a matrix that is not square, or weights that are negative or not
        finite.
    """
    if not isinstance(sc, xr.DataArray) or set(sc.dims) != set(SC_DIMS) or sc.ndim != 2:
        found = f"dims {sc.dims}" if isinstance(sc, xr.DataArray) else type(sc).__name__
        raise InputError("sc", f"expected a labelled DataArray with dims {SC_DIMS} (e.g. a dataset's .sc, or "
                               f"psilosim.connectome.labelled_matrix(weights, labels)), got {found}")
    sc = sc.transpose(*SC_DIMS)
    rows, cols = ([str(v) for v in sc[dim].values] for dim in SC_DIMS)
    align_regions(cols, rows, field="sc", found_in="region_j", wanted_in="region_i",
                  hint="the rows (region_i) and columns (region_j) must be the same regions")
    if rows != cols:
        moved = [k for k, (r, c) in enumerate(zip(rows, cols, strict=True)) if r != c]
        shown = ", ".join(f"{k}: {rows[k]!r} vs {cols[k]!r}" for k in moved[:SHOWN_LABELS])
        raise InputError("sc", f"region_i and region_j list the same regions in another order ({len(moved)} "
                               f"positions differ; {shown}): reorder one, e.g. sc.sel(region_j=sc.region_i.values)")
    values = np.asarray(sc.values, dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise InputError("sc", "must be a square matrix of finite, non-negative weights")
    return values, rows
