"""Synthetic recordings with known structure, shared by the metrics tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr


def region_table(n: int, networks: list[str] | None = None) -> pd.DataFrame:
    """A region table of ``n`` regions cycling through ``networks``."""
    networks = networks or ["Default", "Vis", "SomMot"]
    return pd.DataFrame({"hemisphere": ["L"] * n,
                         "network": [networks[i % len(networks)] for i in range(n)]},
                        index=pd.Index([f"r{i:02d}" for i in range(n)], name="label"))


def bold(values: np.ndarray, regions: pd.DataFrame, tr_s: float) -> xr.DataArray:
    return xr.DataArray(values, dims=("region", "time"),
                        coords={"region": list(regions.index), "time": np.arange(values.shape[1]) * tr_s})


def planted_switching(seed: int = 0, n_per: int = 15, n_blocks: int = 12, block_len: int = 30,
                      switchers: int = 4, noise: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Two communities driven by two latent signals; ``switchers`` regions of community A
    follow B's signal in every other block of ``block_len`` samples.

    Returns the regions × time array and the indices of the switching regions.
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_per
    total = n_blocks * block_len
    latent = rng.standard_normal((2, total))
    owner = np.repeat([0] * n_per + [1] * n_per, 1)[:, None].repeat(total, axis=1)
    switching = np.arange(switchers)
    for b in range(1, n_blocks, 2):
        owner[switching, b * block_len:(b + 1) * block_len] = 1
    signal = latent[owner, np.arange(total)[None, :]]
    return signal + noise * rng.standard_normal((n, total)), switching
