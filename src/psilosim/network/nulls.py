"""Null brain maps that keep spatial autocorrelation: variogram-matched surrogates.

A receptor density map is smooth over the cortex; a random permutation of its regions is not,
so a permutation test against it is anti-conservative (Alexander-Bloch et al. 2018 NeuroImage
178:540; Markello & Mišić 2021 NeuroImage 236:118052). psilosim uses the variogram-matching
method of Burt et al. 2020 (NeuroImage 220:117038, "BrainSMASH"), which needs only a distance
matrix between regions (here Euclidean distances between MNI centroids), so it works on any
parcellated map with coordinates:

1. the empirical semivariogram of the map, γ(h) = ½ ⟨(x_i − x_j)²⟩ over pairs at distance ≈ h
   (Gaussian-kernel average, distances up to a percentile of all pair distances);
2. a surrogate starts as a random permutation of the map; it is smoothed with an exponential
   kernel over each region's k nearest neighbours, for several k;
3. for each k, the smoothed map's variogram is regressed on the empirical one
   (γ_emp ≈ α + β γ_smooth) and the surrogate is ``sqrt|β| · smooth + sqrt|α| · noise``; the k
   with the smallest squared error wins;
4. the surrogate's ranks reorder the original values, so each null has exactly the map's values
   (same mean and distribution: for a gain map, the same total gain); the error of step 3 is
   measured after this reordering, since that is the map returned.

Constants below are the defaults of Burt et al. 2020 (their Table 1 / software defaults).
"""

from __future__ import annotations

import numpy as np

from .._frozen import Frozen
from ..errors import DataError, InputError
from ..parameters import Param, ParameterSet

BURT2020 = "Burt et al. 2020 NeuroImage 220:117038 (variogram-matched surrogate maps; BrainSMASH defaults)"


class VariogramParams(ParameterSet):
    """Settings of the variogram-matching surrogates."""

    distance_percentile: Param
    n_lags: Param
    neighbour_low: Param
    neighbour_high: Param
    neighbour_steps: Param
    bandwidth_lags: Param


VARIOGRAM = VariogramParams(
    distance_percentile=Param(value=25.0, unit="", source=BURT2020, kind="published",
                              note="pairs up to this percentile of all distances enter the variogram"),
    n_lags=Param(value=25, unit="", source=BURT2020, kind="published",
                 note="number of distances at which the variogram is evaluated"),
    neighbour_low=Param(value=0.1, unit="", source=BURT2020, kind="published",
                        note="smallest fraction of regions used as nearest neighbours in the smoothing step"),
    neighbour_high=Param(value=0.9, unit="", source=BURT2020, kind="published",
                         note="largest fraction of regions used as nearest neighbours"),
    neighbour_steps=Param(value=9, unit="", source=BURT2020, kind="published",
                          note="fractions tried, evenly spaced from low to high"),
    bandwidth_lags=Param(value=3.0, unit="", source=BURT2020, kind="published",
                         note="Gaussian kernel width of the variogram, in units of the lag spacing"),
)


def centroid_distances(xyz: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix (mm) between region centroids (N × 3)."""
    xyz = np.asarray(xyz, dtype=float)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or not np.isfinite(xyz).all():
        raise DataError("centroids must be a finite N × 3 array (MNI mm)")
    return np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)


class VariogramNulls(Frozen):
    """Generator of variogram-matched surrogates of one map on one distance matrix."""

    def __init__(self, values: np.ndarray, distances: np.ndarray, *,
                 p: VariogramParams = VARIOGRAM):
        self.values = np.asarray(values, dtype=float)
        dist = np.asarray(distances, dtype=float)
        n = self.values.size
        if dist.shape != (n, n):
            raise InputError("distances", f"shape {dist.shape} does not match {n} regions")
        if n < 10:
            raise InputError("values", f"need at least 10 regions for a variogram, got {n}")
        iu = np.triu_indices(n, 1)
        self._pair_d = dist[iu]
        self._pairs = iu
        cutoff = np.percentile(self._pair_d, p.distance_percentile.value)
        self._keep = self._pair_d <= cutoff
        self.lags = np.linspace(self._pair_d[self._keep].min(), cutoff, int(p.n_lags.value))
        self._bandwidth = p.bandwidth_lags.value * (self.lags[1] - self.lags[0])
        order = np.argsort(dist, axis=1)[:, 1:]  # neighbours, nearest first, self excluded
        self._neigh = order
        self._neigh_d = np.take_along_axis(dist, order, axis=1)
        self._ks = sorted({max(2, int(f * n)) for f in np.linspace(p.neighbour_low.value, p.neighbour_high.value,
                                                                   int(p.neighbour_steps.value))})
        self.target = self.variogram(self.values - self.values.mean())

    def variogram(self, x: np.ndarray) -> np.ndarray:
        """Gaussian-kernel smoothed semivariogram of ``x`` at :attr:`lags`."""
        i, j = self._pairs
        half_sq = 0.5 * (x[i] - x[j]) ** 2
        d = self._pair_d[self._keep]
        v = half_sq[self._keep]
        w = np.exp(-0.5 * ((d[None, :] - self.lags[:, None]) / self._bandwidth) ** 2)
        return (w * v).sum(axis=1) / w.sum(axis=1)

    def _smooth(self, x: np.ndarray, k: int) -> np.ndarray:
        d = self._neigh_d[:, :k]
        w = np.exp(-d / d[:, -1:])
        return (w * x[self._neigh[:, :k]]).sum(axis=1) / w.sum(axis=1)

    def one(self, rng: np.random.Generator) -> np.ndarray:
        """One surrogate with the original values reordered (see the module docstring)."""
        centred = self.values - self.values.mean()
        perm = rng.permutation(centred)
        best, best_err = None, np.inf
        for k in self._ks:
            smooth = self._smooth(perm, k)
            gamma = self.variogram(smooth)
            design = np.column_stack([np.ones_like(gamma), gamma])
            (alpha, beta), *_ = np.linalg.lstsq(design, self.target, rcond=None)
            candidate = np.sqrt(abs(beta)) * smooth + np.sqrt(abs(alpha)) * rng.standard_normal(smooth.size)
            candidate = self._with_original_values(candidate)
            err = float(((self.variogram(candidate) - self.target) ** 2).sum())
            if err < best_err:
                best, best_err = candidate, err
        return best

    def _with_original_values(self, surrogate: np.ndarray) -> np.ndarray:
        """The map's own values, placed in the order of ``surrogate``'s ranks."""
        out = np.empty_like(self.values)
        out[np.argsort(surrogate)] = np.sort(self.values)
        return out

    def draw(self, n_maps: int, *, seed: int | np.random.SeedSequence = 0) -> np.ndarray:
        """``n_maps`` surrogates (n_maps × N), deterministic for a seed."""
        if n_maps < 1:
            raise InputError("n_maps", f"need at least one surrogate, got {n_maps}")
        rng = np.random.default_rng(seed)
        return np.stack([self.one(rng) for _ in range(n_maps)])


def morans_i(x: np.ndarray, distances: np.ndarray) -> float:
    """Moran's I with inverse-distance weights: spatial autocorrelation of a map (0 ≈ none)."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    d = np.asarray(distances, dtype=float)
    w = np.zeros_like(d)
    off = d > 0
    w[off] = 1.0 / d[off]
    return float(x.size / w.sum() * (x @ w @ x) / (x @ x))
