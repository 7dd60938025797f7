"""Numerical kernel: Louvain optimisation of a quality matrix ``B`` (generalised Louvain).

Maximises ``Q(g) = sum_ij B_ij delta(g_i, g_j)`` for a symmetric sparse ``B`` with signed
entries, which covers Newman modularity (``B = A - gamma k k^T / 2m``), the signed Rubinov &
Sporns (2011) matrix and the multislice modularity matrix of Mucha et al. (2010) alike. The
algorithm is Louvain (Blondel et al. 2008) in the "generalised" form of Jutla, Jeub & Mucha's
GenLouvain, which Bassett et al. (2011) used for flexibility: local moves of single nodes to the
community that raises ``Q`` most, then aggregation of communities into super-nodes
(``B' = P^T B P``), until no move helps.

Numbers here are algorithmic tolerances, not physical quantities.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

#: Smallest gain that counts as an improvement (guards against float round-off loops).
_GAIN_TOL = 1e-12
#: Upper bound on local-move sweeps per level; Louvain converges in far fewer on brain graphs.
_MAX_SWEEPS = 1000


@njit(cache=True)
def _local_moves(indptr, indices, data, start, order, max_sweeps, tol):  # pragma: no cover - numba
    """One Louvain level from the partition ``start``; return the membership."""
    n = indptr.shape[0] - 1
    membership = start.copy()
    size = np.zeros(n, dtype=np.int64)
    for u in range(n):
        size[membership[u]] += 1
    empty = np.empty(n, dtype=np.int64)
    n_empty = 0
    for c in range(n):
        if size[c] == 0:
            empty[n_empty] = c
            n_empty += 1
    weight_to = np.zeros(n)
    seen = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    for _ in range(max_sweeps):
        moved = 0
        for u in order:
            own = membership[u]
            n_touched = 0
            for p in range(indptr[u], indptr[u + 1]):
                j = indices[p]
                if j == u:
                    continue
                c = membership[j]
                if not seen[c]:
                    seen[c] = True
                    touched[n_touched] = c
                    n_touched += 1
                weight_to[c] += data[p]
            w_own = weight_to[own] if seen[own] else 0.0
            best = own
            best_gain = 0.0
            for t in range(n_touched):
                c = touched[t]
                if c != own and weight_to[c] - w_own > best_gain + tol:
                    best = c
                    best_gain = weight_to[c] - w_own
            # Leaving for an empty community gains -w_own (helps when u is anti-correlated).
            if size[own] > 1 and -w_own > best_gain + tol:
                n_empty -= 1
                best = empty[n_empty]
            for t in range(n_touched):
                weight_to[touched[t]] = 0.0
                seen[touched[t]] = False
            if best != own:
                size[own] -= 1
                if size[own] == 0:
                    empty[n_empty] = own
                    n_empty += 1
                size[best] += 1
                membership[u] = best
                moved += 1
        if moved == 0:
            break
    return membership


def louvain(B: sp.csr_matrix, rng: np.random.Generator, *, max_passes: int = 20) -> np.ndarray:
    """Maximise ``sum_ij B_ij delta(g_i, g_j)`` by iterated multi-level Louvain.

    One pass is classic Louvain (local moves, aggregate, repeat). Further passes restart the
    node-level moves from the previous pass's partition, so single nodes can still leave a
    community that an aggregation step merged too early (as leidenalg does with
    ``n_iterations=-1``); passes stop when the quality no longer rises.

    Parameters
    ----------
    B
        Symmetric quality matrix (CSR, float64). Entries absent from the sparsity pattern are 0.
    rng
        Source of the random node orders (the only randomness).
    max_passes
        Upper bound on passes.

    Returns
    -------
    numpy.ndarray
        Community label per node, 0..k-1, in order of first appearance.
    """
    matrix = B.tocsr().astype(float)
    matrix.sort_indices()
    labels = np.arange(matrix.shape[0])
    best = -np.inf
    for _ in range(max_passes):
        labels = _one_pass(matrix, labels, rng)
        quality = partition_quality(matrix, labels)
        if quality <= best + _GAIN_TOL * max(1.0, abs(best)):
            break
        best = quality
    return first_appearance_labels(labels)


def _one_pass(matrix: sp.csr_matrix, start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Louvain levels from ``start`` at node level, then from singletons on aggregates."""
    current = matrix
    labels = np.arange(matrix.shape[0])
    level_start = np.asarray(start, dtype=np.int64)
    while True:
        n = current.shape[0]
        order = rng.permutation(n).astype(np.int64)
        level = _local_moves(current.indptr.astype(np.int64), current.indices.astype(np.int64),
                             current.data, level_start, order, _MAX_SWEEPS, _GAIN_TOL)
        _, level = np.unique(level, return_inverse=True)
        k = int(level.max()) + 1
        labels = level[labels]
        if k == n:
            break
        collapse = sp.csr_matrix((np.ones(n), (np.arange(n), level)), shape=(n, k))
        current = (collapse.T @ current @ collapse).tocsr()
        level_start = np.arange(k, dtype=np.int64)
    return labels


def first_appearance_labels(labels: np.ndarray) -> np.ndarray:
    """Relabel communities 0, 1, ... in order of first appearance (canonical form)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse]


def partition_quality(B: sp.csr_matrix | np.ndarray, labels: np.ndarray) -> float:
    """``sum_ij B_ij delta(g_i, g_j)`` for a given partition."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    member = sp.csr_matrix((np.ones(labels.size), (np.arange(labels.size), labels)),
                           shape=(labels.size, k))
    within = member.T @ sp.csr_matrix(B) @ member
    return float(within.diagonal().sum())
