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

mPFC–PCC
    Mean FC between the regions that represent two DMN seeds (:func:`dmn_seed_mask`), the
    coupling whose acute decrease under psilocybin Carhart-Harris et al. 2012 report.

A network with a single region has no within-network pair: its ``within`` is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..connectome.parcellation import DMN, network_order  # noqa: F401 (network_order: also public here)
from ..errors import DataError, InputError
from ..parameters import Param, ParameterSet
from ._inputs import as_fc, check_region_table

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
    regions = check_region_table(regions)  # 'default' in any case is the DMN, as analyze() reads it
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
    regions = check_region_table(regions)  # 'default' in any case is the DMN, as analyze() reads it
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
    regions = check_region_table(regions)  # 'default' in any case is the DMN, as analyze() reads it
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


# ------------------------------------------------------------------ DMN seed regions (mPFC, PCC)
#: Canonical DMN seeds (MNI, mm) as commonly cited from Fox et al. 2005 PNAS 102:9673
#: (**unverified** in this project: the paper's seed list was not reached; third-party seed lists
#: give the PCC triple in MNI space; no source for the mPFC triple was found; see docs/network.md): posterior cingulate/precuneus and medial prefrontal cortex,
#: the pair whose acute decoupling Carhart-Harris et al. 2012 (PNAS 109:2138) report. A table of
#: coordinates (data, like a region table), not model constants.
DMN_SEEDS_MNI: dict[str, tuple[float, float, float]] = {"PCC": (-5.0, -49.0, 40.0), "mPFC": (-1.0, 47.0, -4.0)}
#: Where a parcellation has no centroids: the label stems (hemisphere suffix removed) that cover
#: each seed's anatomy in the built-in AAL2 (Rolls et al. 2015 names) and TVB-76 (Kötter & Wanke 2005).
DMN_SEED_STEMS: dict[str, tuple[str, ...]] = {
    "PCC": ("Cingulate_Post", "CCP"),
    "mPFC": ("Frontal_Sup_Medial", "Frontal_Med_Orb", "PFCM"),
}


class SeedMatch(ParameterSet):
    """How far a region's centroid may lie from a seed and still represent it."""

    max_distance: Param


SEED_MATCH = SeedMatch(max_distance=Param(
    value=20.0, unit="mm", kind="assumed", source="assumed matching radius, see docs/network.md#nw1dmn-how-the-change-per-network-is-measured-and-why-the-dmn-is-not-first",
    note="a region farther than this from a DMN seed is not that seed's anatomy; on Schaefer-100 the "
         "matches are 7–10 mm away, and two neighbouring Schaefer-100 parcels are ≈ 15–25 mm apart"))
_CENTROID_COLUMNS = ("x_mni", "y_mni", "z_mni")


def dmn_seed_mask(regions: pd.DataFrame, seed: str, *, max_distance_mm: float | None = None) -> np.ndarray:
    """Boolean mask of the DMN regions that represent a seed (``"PCC"`` or ``"mPFC"``).

    Parameters
    ----------
    regions
        Region table (index: labels; columns ``network`` and, when known, ``x_mni``, ``y_mni``,
        ``z_mni``).
    seed
        A key of :data:`DMN_SEEDS_MNI`.
    max_distance_mm
        Farthest centroid that may represent the seed (default :data:`SEED_MATCH`).

    Returns
    -------
    numpy.ndarray
        With centroids: for the seed and its mirror image in the other hemisphere, the nearest
        DMN region within ``max_distance_mm`` (one or two regions). Without centroids: the
        regions whose label stem is listed in :data:`DMN_SEED_STEMS`.

    Raises
    ------
    InputError
        For an unknown seed name.
    DataError
        When no region represents the seed.
    """
    if seed not in DMN_SEEDS_MNI:
        raise InputError("seed", f"unknown DMN seed {seed!r}; known: {', '.join(DMN_SEEDS_MNI)}")
    if all(c in regions.columns for c in _CENTROID_COLUMNS) and regions[list(_CENTROID_COLUMNS)].notna().all().all():
        cap = SEED_MATCH.max_distance.to("mm") if max_distance_mm is None else float(max_distance_mm)
        mask = _nearest_dmn_regions(regions, np.asarray(DMN_SEEDS_MNI[seed]), cap)
        where = f"no DMN region within {cap:g} mm of the {seed} seed {DMN_SEEDS_MNI[seed]}"
    else:
        stems = np.array([str(label).rsplit("_", 1)[0] for label in regions.index])
        mask = np.isin(stems, DMN_SEED_STEMS[seed])
        where = f"no centroids and no label stem in {DMN_SEED_STEMS[seed]} for the {seed} seed"
    if not mask.any():
        raise DataError(where)
    return mask


def _nearest_dmn_regions(regions: pd.DataFrame, seed: np.ndarray, cap_mm: float) -> np.ndarray:
    """The nearest DMN region to the seed and to its mirror image (x → −x), each within the cap."""
    xyz = regions[list(_CENTROID_COLUMNS)].to_numpy(dtype=float)
    dmn = np.flatnonzero(regions["network"].astype(str).to_numpy() == DMN)
    mask = np.zeros(len(regions), dtype=bool)
    if dmn.size == 0:
        return mask
    for target in (seed, seed * np.array([-1.0, 1.0, 1.0])):
        distance = np.linalg.norm(xyz[dmn] - target, axis=1)
        if distance.min() <= cap_mm:
            mask[dmn[np.argmin(distance)]] = True
    return mask


def seed_pair_fc(fc: xr.DataArray, regions: pd.DataFrame, *, seed_a: str = "mPFC",
                 seed_b: str = "PCC") -> float:
    """Mean FC between the regions of two DMN seeds.

    Parameters
    ----------
    fc
        FC matrix (region × region, labelled as ``regions``).
    regions
        Region table.
    seed_a, seed_b
        Seed names (:func:`dmn_seed_mask`).

    Returns
    -------
    float
        Mean FC over the pairs (seed_a region, seed_b region).

    Raises
    ------
    InputError, DataError
        As :func:`dmn_seed_mask`.
    """
    fc = as_fc(fc, regions)
    return _mean_block(np.asarray(fc.values), dmn_seed_mask(regions, seed_a), dmn_seed_mask(regions, seed_b))
