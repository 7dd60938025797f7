"""Modularity, consensus communities, participation and global integration of a static FC graph.

Negative-weight policy
----------------------
FC has negative entries, whose meaning for communities is debated. Two policies are offered:

``"positive"`` (default)
    Negative correlations are set to 0 and Newman's modularity is computed on the remaining
    weights: ``Q = (1/s) sum_ij (W+_ij - gamma k_i k_j / s) delta(c_i, c_j)`` with
    ``s = sum_ij W+_ij`` (Newman 2006 PNAS 103:8577; weighted form as in the Brain Connectivity
    Toolbox). The common choice in the psilocybin imaging literature.
``"signed"``
    The asymmetric signed modularity of Rubinov & Sporns 2011 (NeuroImage 56:2068):
    ``Q = Q+ / s+ - Q- / (s+ + s-)`` with ``Q± = sum_ij (W±_ij - k±_i k±_j / s±) delta``. Negative
    weights push regions apart but count less than positive ones pull them together.

Self-connections (the diagonal) are never edges.

Community detection
-------------------
Leiden (Traag et al. 2019 Sci Rep 9:5233, ``leidenalg``) maximises the chosen Q with
``RBConfigurationVertexPartition`` (one layer for "positive"; two layers weighted ``1/s+`` and
``-1/(s+ + s-)`` for "signed"). It is run ``n_runs`` times from seeds drawn from one seed, and
the runs are merged by consensus clustering (Lancichinetti & Fortunato 2012 Sci Rep 2:336):
co-assignment frequencies below ``tau`` are dropped and the frequency graph is re-clustered
until all runs agree. The reported partition is the consensus; ``q_best`` is the best single run.

Participation coefficient
-------------------------
``P_i = 1 - sum_c (k_ic / k_i)^2`` on positive weights (Guimerà & Amaral 2005 Nature 433:895),
0 for a region with no positive connection. Global integration summaries: mean and standard
deviation of ``P``, mean off-diagonal FC, and system segregation
``(mean within-network FC - mean between-network FC) / mean within-network FC`` over the region
table's networks, negative FC set to 0 (Chan et al. 2014 PNAS 111:E4997).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import igraph as ig
import leidenalg as la
import numpy as np
import pandas as pd
import xarray as xr

from .._labels import align_regions
from .._seeds import checked_seed
from ..errors import InputError
from ._inputs import as_fc, offdiag
from .kernel import first_appearance_labels
from .networks import network_names
from .params import DEFAULT_METRICS

Policy = Literal["positive", "signed"]
POLICIES = ("positive", "signed")

#: Upper bound on consensus iterations; agreement is usually reached in 1–3.
_MAX_CONSENSUS_ROUNDS = 10


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise InputError("policy", f"unknown negative-weight policy {policy!r}; use one of {POLICIES}")


def split_signs(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive part and magnitude of the negative part of a zero-diagonal matrix."""
    return np.where(weights > 0, weights, 0.0), np.where(weights < 0, -weights, 0.0)


def _null_removed(weights: np.ndarray, gamma: float) -> tuple[np.ndarray, float]:
    strength = weights.sum(axis=1)
    total = float(strength.sum())
    if total == 0:
        return np.zeros_like(weights), 0.0
    return weights - gamma * np.outer(strength, strength) / total, total


def modularity_matrix(fc: np.ndarray, *, gamma: float = 1.0, policy: Policy = "positive") -> np.ndarray:
    """Normalised quality matrix ``B`` such that ``Q = sum_ij B_ij delta(c_i, c_j)``."""
    _check_policy(policy)
    pos, neg = split_signs(offdiag(fc))
    b_pos, s_pos = _null_removed(pos, gamma)
    if s_pos == 0:
        raise InputError("fc", "has no positive off-diagonal weight; modularity is undefined")
    if policy == "positive":
        return b_pos / s_pos
    b_neg, s_neg = _null_removed(neg, gamma)
    return b_pos / s_pos - b_neg / (s_pos + s_neg)


def partition_for(fc: xr.DataArray | np.ndarray, labels: xr.DataArray | np.ndarray,
                  *, field: str = "labels") -> np.ndarray:
    """One community label per region of ``fc``, in the order of its rows.

    Labels carrying a ``region`` coordinate are matched to a labelled ``fc`` by region label;
    bare labels must be one per row of ``fc``, in its order.

    Raises
    ------
    InputError
        ``labels`` not 1-D, of another length than ``fc`` has regions, or labelled with other
        regions than ``fc``'s (:func:`psilosim._labels.align_regions` names them).
    """
    n = np.shape(fc)[0]
    if isinstance(labels, xr.DataArray) and "region" in labels.dims and isinstance(fc, xr.DataArray) \
            and "region_i" in fc.coords:
        labels = labels.isel(region=align_regions(labels["region"].values, fc["region_i"].values, field=field,
                                                  found_in=field, wanted_in="the FC"))
    values = np.asarray(getattr(labels, "values", labels))
    if values.ndim != 1 or values.size != n:
        raise InputError(field, f"needs one community label per region ({n}), got shape {values.shape}")
    return values


def modularity_q(fc: xr.DataArray | np.ndarray, labels: np.ndarray, *, gamma: float = 1.0,
                 policy: Policy = "positive") -> float:
    """Modularity ``Q`` of a given partition (see the module docstring for the policies).

    Raises
    ------
    InputError
        ``labels`` is not one label per region of ``fc`` (:func:`partition_for`).
    """
    labels = partition_for(fc, labels)
    matrix = modularity_matrix(np.asarray(getattr(fc, "values", fc)), gamma=gamma, policy=policy)
    return float(matrix[np.equal.outer(labels, labels)].sum())


def participation(fc: xr.DataArray | np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Participation coefficient per region on positive weights (0 for isolated regions).

    Raises
    ------
    InputError
        ``labels`` is not one label per region of ``fc`` (:func:`partition_for`).
    """
    labels = partition_for(fc, labels)
    pos, _ = split_signs(offdiag(np.asarray(getattr(fc, "values", fc))))
    _, codes = np.unique(labels, return_inverse=True)
    member = np.zeros((codes.size, codes.max() + 1))
    member[np.arange(codes.size), codes] = 1.0
    to_community = pos @ member
    strength = to_community.sum(axis=1)
    safe = np.where(strength > 0, strength, 1.0)
    coeff = 1.0 - np.sum((to_community / safe[:, None]) ** 2, axis=1)
    return np.where(strength > 0, coeff, 0.0)


def _graph(weights: np.ndarray) -> ig.Graph:
    rows, cols = np.nonzero(np.triu(weights, k=1))
    graph = ig.Graph(n=weights.shape[0], edges=np.column_stack([rows, cols]))
    graph.es["weight"] = weights[rows, cols]
    return graph


def _leiden_once(pos: ig.Graph, neg: ig.Graph | None, layer_weights: list[float], gamma: float,
                 seed: int) -> np.ndarray:
    optimiser = la.Optimiser()
    optimiser.set_rng_seed(seed)
    parts = [la.RBConfigurationVertexPartition(pos, weights="weight", resolution_parameter=gamma)]
    if neg is None:
        optimiser.optimise_partition(parts[0], n_iterations=-1)
    else:
        parts.append(la.RBConfigurationVertexPartition(neg, weights="weight", resolution_parameter=gamma))
        optimiser.optimise_partition_multiplex(parts, layer_weights=layer_weights, n_iterations=-1)
    return np.asarray(parts[0].membership)


def _leiden_runs(weights: np.ndarray, policy: Policy, gamma: float, seeds: list[int]) -> np.ndarray:
    pos, neg = split_signs(weights)
    s_pos, s_neg = pos.sum(), neg.sum()
    signed = policy == "signed" and s_neg > 0
    g_pos = _graph(pos)
    g_neg = _graph(neg) if signed else None
    layer_weights = [1.0 / s_pos, -1.0 / (s_pos + s_neg)] if signed else [1.0]
    return np.array([_leiden_once(g_pos, g_neg, layer_weights, gamma, s) for s in seeds])


def consensus_partition(partitions: np.ndarray, *, threshold: float, seeds: list[int]) -> np.ndarray:
    """Consensus of several partitions (rows) by iterated co-assignment clustering.

    Lancichinetti & Fortunato 2012: build the co-assignment frequency matrix, drop entries below
    ``threshold``, re-cluster it ``len(seeds)`` times with Leiden (modularity), repeat until all
    re-clusterings agree.
    """
    current = np.asarray(partitions)
    for _ in range(_MAX_CONSENSUS_ROUNDS):
        if (current == current[0]).all():
            break
        agreement = np.mean(current[:, :, None] == current[:, None, :], axis=0)
        np.fill_diagonal(agreement, 0.0)
        agreement[agreement < threshold] = 0.0
        if not agreement.any():
            return np.arange(current.shape[1])
        current = _leiden_runs(agreement, "positive", 1.0, seeds)
        current = np.array([first_appearance_labels(p) for p in current])
    return first_appearance_labels(current[0])


@dataclass(frozen=True)
class Communities:
    """Result of :func:`detect_communities`.

    Attributes
    ----------
    labels
        Consensus community per region (dim ``region``), labelled 0.. in order of appearance.
    q
        Modularity of the consensus partition.
    q_best
        Highest modularity among the individual runs.
    q_runs
        Modularity of every run.
    policy, gamma
        Settings used.
    """

    labels: xr.DataArray
    q: float
    q_best: float
    q_runs: np.ndarray
    policy: str
    gamma: float

    @property
    def n_communities(self) -> int:
        return int(np.unique(self.labels.values).size)


def detect_communities(fc: xr.DataArray, regions: pd.DataFrame, *, policy: Policy = "positive",
                       gamma: float = DEFAULT_METRICS.resolution.value,
                       n_runs: int = int(DEFAULT_METRICS.n_runs_static.value),
                       consensus_threshold: float = DEFAULT_METRICS.consensus_threshold.value,
                       seed: int | None = 0) -> Communities:
    """Leiden communities of an FC matrix with a consensus over repeated runs.

    Parameters
    ----------
    fc
        FC matrix, dims ``("region_i", "region_j")``.
    regions
        Region table indexed by label.
    policy
        Negative-weight policy, ``"positive"`` or ``"signed"`` (module docstring).
    gamma
        Resolution parameter (1: Newman modularity).
    n_runs
        Leiden runs before the consensus.
    consensus_threshold
        ``tau`` of the consensus clustering.
    seed
        Seed of all randomness (``None``: fresh entropy).
    """
    _check_policy(policy)
    if n_runs < 1:
        raise InputError("n_runs", f"must be at least 1, got {n_runs}")
    fc = as_fc(fc, regions)
    weights = offdiag(fc)
    matrix = modularity_matrix(weights, gamma=gamma, policy=policy)
    seeds = [int(s) for s in np.random.SeedSequence(checked_seed(seed)).generate_state(2 * n_runs)]
    runs = _leiden_runs(weights, policy, gamma, seeds[:n_runs])
    q_runs = np.array([matrix[np.equal.outer(r, r)].sum() for r in runs])
    labels = consensus_partition(runs, threshold=consensus_threshold, seeds=seeds[n_runs:])
    q = float(matrix[np.equal.outer(labels, labels)].sum())
    return Communities(
        labels=xr.DataArray(labels, dims="region", coords={"region": list(fc["region_i"].values)},
                            name="community"),
        q=q, q_best=float(q_runs.max()), q_runs=q_runs, policy=policy, gamma=float(gamma),
    )


def system_segregation(fc: xr.DataArray, regions: pd.DataFrame) -> float:
    """Chan et al. 2014 system segregation over the region table's networks (negatives → 0)."""
    fc = as_fc(fc, regions)
    pos, _ = split_signs(offdiag(fc))
    member = regions["network"].astype(str).to_numpy()
    rows, cols = np.triu_indices(pos.shape[0], k=1)
    same = member[rows] == member[cols]
    if not same.any() or same.all():
        return float("nan")
    within, between = pos[rows[same], cols[same]].mean(), pos[rows[~same], cols[~same]].mean()
    return float((within - between) / within) if within > 0 else float("nan")


def integration_summary(fc: xr.DataArray, regions: pd.DataFrame, communities: Communities) -> dict[str, float]:
    """Global integration: participation mean/sd, mean FC and system segregation."""
    fc = as_fc(fc, regions)
    coeff = participation(fc, partition_for(fc, communities.labels, field="communities"))
    rows, cols = np.triu_indices(fc.shape[0], k=1)
    return {
        "participation_mean": float(coeff.mean()),
        "participation_sd": float(coeff.std()),
        "mean_fc": float(np.asarray(fc.values)[rows, cols].mean()),
        "system_segregation": system_segregation(fc, regions),
        "n_networks": len(network_names(regions)),
    }
