"""Numerics of the rewiring layer (plain numpy on region × region arrays, no labels).

* :func:`scale_inputs` — synaptic scaling: each region's total input strength back to its set point.
* :func:`rigid_structure` — the depressed baseline: within-DMN weights raised, then scaled.
* :func:`input_covariance` — intrinsic noise plus common inputs to groups of regions.
* :func:`hopf_covariance` — stationary covariance of the linearised Hopf network driven by an input
  covariance, in closed form when the coupling is symmetric (one symmetric eigendecomposition),
  else from the Lyapunov equation of the full Jacobian.
* :func:`simulate_linear_hopf` — a short Euler–Maruyama scan of the same linear system.
* :func:`spine_factor` — relative change of each connection's synapses from the spine link.

Linearised Hopf network (Deco et al. 2017; Ponce-Alvarez et al. 2015): with z = x + iy,
``dz = (B + iω) z dt + dη``, ``B = diag(a − G Σ_j C_ij) + G C``. For a symmetric ``B`` and an input
with covariance ``Q`` on x and on y (uncorrelated between them) the complex covariance
``K = E[z z^H]`` solves ``B K + K B = −2Q`` (the ``iω`` terms cancel because ω is the same in every
region), so ``K = U (−2 Uᵀ Q U / (λ_k + λ_l)) Uᵀ`` and ``cov(x) = K / 2``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_continuous_lyapunov

#: Relative asymmetry below which a coupling block counts as symmetric (numerical, not a model constant).
SYMMETRY_TOLERANCE = 1e-10


def scale_inputs(weights: np.ndarray, target_strength: np.ndarray) -> np.ndarray:
    """Multiply each row (a region's inputs) so that it sums to ``target_strength``.

    Rows with no input stay zero. Non-negative weights stay non-negative; relative weights within
    a row are unchanged (synaptic scaling is multiplicative).
    """
    strength = weights.sum(axis=1)
    # a subnormal total counts as no input (its reciprocal overflows); the smallest normal does not
    factor = np.divide(target_strength, strength, out=np.zeros_like(strength), where=strength >= np.finfo(float).tiny)
    return weights * factor[:, None]


def rigid_structure(weights: np.ndarray, group: np.ndarray, excess: float) -> np.ndarray:
    """Weights inside ``group`` × (1 + ``excess``), then every region's input strength restored."""
    boost = 1.0 + excess * np.outer(group, group)
    np.fill_diagonal(boost, 1.0)
    return scale_inputs(weights * boost, weights.sum(axis=1))


def input_covariance(n: int, noise_var: float, groups: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """``noise_var · (I + Σ_g r_g v_g v_gᵀ)`` for groups (boolean mask ``v_g``, relative variance ``r_g``)."""
    q = np.eye(n)
    for mask, ratio in groups:
        v = np.asarray(mask, dtype=float)
        q = q + ratio * np.outer(v, v)
    return noise_var * q


def hopf_covariance(block: np.ndarray, q: np.ndarray, omega: float) -> np.ndarray:
    """Stationary covariance of x for ``dz = (B + iω) z dt + dη`` with input covariance ``q`` on x and y.

    Parameters
    ----------
    block
        ``B`` (N × N): the x–x block of the Hopf Jacobian.
    q
        Input covariance (N × N), the same on x and y, none between them.
    omega
        Angular frequency (rad/s), the same in every region.
    """
    if np.abs(block - block.T).max() <= SYMMETRY_TOLERANCE * max(np.abs(block).max(), 1.0):
        lam, u = np.linalg.eigh(0.5 * (block + block.T))
        if lam.max() >= 0:
            raise ValueError("the linearised network is unstable (an eigenvalue ≥ 0)")
        # B P + P B + Q = 0 is diagonal in B's eigenbasis: P_ij = −Q_ij / (λ_i + λ_j). The
        # rotation ω couples x and y identically in every region, so it drops out of the x–x block.
        q_eig = u.T @ q @ u
        k = u @ (-q_eig / (lam[:, None] + lam[None, :])) @ u.T
        return 0.5 * (k + k.T)
    n = block.shape[0]
    jac = np.block([[block, -omega * np.eye(n)], [omega * np.eye(n), block]])
    if np.linalg.eigvals(jac).real.max() >= 0:
        raise ValueError("the linearised network is unstable (an eigenvalue ≥ 0)")
    big_q = np.block([[q, np.zeros_like(q)], [np.zeros_like(q), q]])
    return solve_continuous_lyapunov(jac, -big_q)[:n, :n]


def correlation(cov: np.ndarray) -> np.ndarray:
    """Correlation matrix of a covariance (unit diagonal)."""
    sd = np.sqrt(np.diag(cov))
    out = cov / np.outer(sd, sd)
    np.fill_diagonal(out, 1.0)
    return out


def simulate_linear_hopf(block: np.ndarray, q: np.ndarray, omega: float, *, dt: float, n_samples: int,
                         every: int, warmup: int, rng: np.random.Generator) -> np.ndarray:
    """x of the linearised Hopf network sampled every ``every`` steps (N × n_samples).

    Euler–Maruyama with step ``dt``; the input ``q`` enters x and y independently.
    """
    n = block.shape[0]
    chol = np.linalg.cholesky(q)
    x = np.zeros(n)
    y = np.zeros(n)
    out = np.empty((n, n_samples))
    root_dt = np.sqrt(dt)
    total = warmup + n_samples * every
    noise = rng.standard_normal((total, 2, n)) @ chol.T * root_dt
    k = 0
    for step in range(total):
        dx = block @ x - omega * y
        dy = block @ y + omega * x
        x = x + dt * dx + noise[step, 0]
        y = y + dt * dy + noise[step, 1]
        if step >= warmup and (step - warmup + 1) % every == 0:
            out[:, k] = x
            k += 1
    return out


def spine_factor(density: np.ndarray, exponent: float) -> np.ndarray:
    """(density / density at the first time point)^exponent, per connection (time × connection)."""
    return (density / density[0]) ** exponent
