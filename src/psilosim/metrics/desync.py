"""Desynchronisation: how much FC changed between two conditions, globally and per network.

Definitions (on the upper triangle, each pair once)
---------------------------------------------------
mean absolute difference
    ``mean |FC_after - FC_before|`` over the pairs considered.
correlation distance
    ``1 - pearson(FC_before, FC_after)`` over the same pairs (0: same pattern; 1: unrelated).
per network
    Over every pair with at least one region in the network (its within- and between-network
    connections), the per-vertex convention of Siegel et al. 2024 Nature 632:131, where the
    change of a network is the change of all its regions' connections.
per region
    Mean absolute change over all connections of the region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ._inputs import as_fc
from .networks import network_names


def _corr_distance(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(1.0 - np.corrcoef(a, b)[0, 1])


def fc_change(fc_before: xr.DataArray, fc_after: xr.DataArray, regions: pd.DataFrame) -> xr.Dataset:
    """FC change between two conditions.

    Returns
    -------
    xarray.Dataset
        Scalars ``mean_abs_diff``, ``corr_distance``; ``network_mean_abs_diff`` and
        ``network_corr_distance`` over dim ``network``; ``region_mean_abs_diff`` over ``region``.
    """
    before = np.asarray(as_fc(fc_before, regions, field="fc_before").values)
    after = np.asarray(as_fc(fc_after, regions, field="fc_after").values)
    n = before.shape[0]
    rows, cols = np.triu_indices(n, k=1)
    diff = np.abs(after - before)
    np.fill_diagonal(diff, np.nan)
    member = regions["network"].astype(str).to_numpy()
    networks = network_names(regions)
    net_mad, net_cd = [], []
    for name in networks:
        touches = (member[rows] == name) | (member[cols] == name)
        net_mad.append(float(np.mean(diff[rows[touches], cols[touches]])))
        net_cd.append(_corr_distance(before[rows[touches], cols[touches]],
                                     after[rows[touches], cols[touches]]))
    labels = [str(x) for x in regions.index]
    return xr.Dataset(
        {
            "mean_abs_diff": float(np.mean(diff[rows, cols])),
            "corr_distance": _corr_distance(before[rows, cols], after[rows, cols]),
            "network_mean_abs_diff": ("network", net_mad),
            "network_corr_distance": ("network", net_cd),
            "region_mean_abs_diff": ("region", np.nanmean(diff, axis=1)),
        },
        coords={"network": networks, "region": labels},
    )
