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

Fisher z is applied because correlations are not additive (Siegel et al. average and compare
Fisher-z FC; so do group FC pipelines such as the HCP group averages). ``group_fc`` averages
several sessions the same way.
"""

from __future__ import annotations

import numpy as np

from ..connectome import Parcellation
from ..errors import DataError

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


def region_fc_distance(fc_a: np.ndarray, fc_b: np.ndarray) -> np.ndarray:
    """Per-region RMS change of the Fisher-z seed map between two FC matrices."""
    delta = fisher_z(fc_a) - fisher_z(fc_b)
    n = delta.shape[0]
    if n < 2:
        raise DataError("need at least two regions")
    return np.sqrt((delta**2).sum(axis=1) / (n - 1))


def _network_labels(parcellation: Parcellation) -> np.ndarray:
    return np.asarray(parcellation.regions["network"].to_numpy(), dtype=str)


def network_fc_distance(fc_a: np.ndarray, fc_b: np.ndarray, parcellation: Parcellation) -> dict[str, float]:
    """Mean :func:`region_fc_distance` over each network's regions (Siegel et al. 2024)."""
    per_region = region_fc_distance(fc_a, fc_b)
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
