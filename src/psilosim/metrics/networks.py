"""FC summarised by resting-state network: DMN, every network of the region table, hippocampus.

Definitions (all on an FC matrix; self-connections excluded)
------------------------------------------------------------
within(n)
    Mean FC over the unordered pairs of distinct regions that are both in network ``n``.
between(n)
    Mean FC over the pairs with one region in ``n`` and the other outside it ("n–rest").
dmn_within, dmn_between
    ``within`` and ``between`` for the default mode network (named ``"Default"``).
hippocampus–DMN
    Mean FC between the hippocampal regions (label containing "hippocamp", e.g. AAL2
    ``Hippocampus_L/R``) and the DMN regions that are not hippocampal, the quantity whose
    decrease after psilocybin Siegel et al. 2024 (Nature 632:131) report; NaN when the
    parcellation has no hippocampus.

A network with a single region has no within-network pair: its ``within`` is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..connectome.parcellation import DMN
from ._inputs import as_fc

#: Substring (case-insensitive) that marks a hippocampal region label.
HIPPOCAMPUS_KEY = "hippocamp"


def _mean_block(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> float:
    """Mean over the pairs (rows × cols), excluding i == j pairs."""
    if not rows.any() or not cols.any():
        return float("nan")
    block = values[np.ix_(rows, cols)]
    if (rows & cols).any():
        same = np.equal.outer(np.flatnonzero(rows), np.flatnonzero(cols))
        block = block[~same]
    return float(np.mean(block)) if block.size else float("nan")


def network_names(regions: pd.DataFrame) -> list[str]:
    """Networks in order of first appearance in the region table."""
    return [str(n) for n in dict.fromkeys(regions["network"])]


def network_fc(fc: xr.DataArray, regions: pd.DataFrame) -> xr.Dataset:
    """Within- and between-network mean FC for every network of the region table.

    Returns
    -------
    xarray.Dataset
        Variables ``within`` and ``between`` over dim ``network``.
    """
    fc = as_fc(fc, regions)
    values = np.asarray(fc.values)
    networks = network_names(regions)
    member = regions["network"].astype(str).to_numpy()
    within, between = [], []
    for name in networks:
        inside = member == name
        within.append(_mean_block(values, inside, inside))
        between.append(_mean_block(values, inside, ~inside))
    return xr.Dataset({"within": ("network", within), "between": ("network", between)},
                      coords={"network": networks}, attrs={"measure": fc.attrs.get("measure", "")})


def network_matrix(fc: xr.DataArray, regions: pd.DataFrame) -> xr.DataArray:
    """Mean FC between every pair of networks (diagonal: within-network mean)."""
    fc = as_fc(fc, regions)
    values = np.asarray(fc.values)
    networks = network_names(regions)
    member = regions["network"].astype(str).to_numpy()
    out = np.array([[_mean_block(values, member == a, member == b) for b in networks]
                    for a in networks])
    return xr.DataArray(out, dims=("network_i", "network_j"),
                        coords={"network_i": networks, "network_j": networks}, name="network_fc")


def dmn_fc(fc: xr.DataArray, regions: pd.DataFrame) -> dict[str, float]:
    """``{"within": ..., "between": ...}`` for the DMN (NaN if the table has no DMN)."""
    fc = as_fc(fc, regions)
    inside = regions["network"].astype(str).to_numpy() == DMN
    values = np.asarray(fc.values)
    return {"within": _mean_block(values, inside, inside), "between": _mean_block(values, inside, ~inside)}


def hippocampus_mask(regions: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the hippocampal regions (by label)."""
    return np.array([HIPPOCAMPUS_KEY in str(label).lower() for label in regions.index])


def hippocampus_dmn_fc(fc: xr.DataArray, regions: pd.DataFrame) -> float:
    """Mean FC between hippocampal and (non-hippocampal) DMN regions; NaN if either is absent."""
    fc = as_fc(fc, regions)
    hippo = hippocampus_mask(regions)
    dmn = (regions["network"].astype(str).to_numpy() == DMN) & ~hippo
    return _mean_block(np.asarray(fc.values), hippo, dmn)
