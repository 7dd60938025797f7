"""Numba kernel of the batched Stuart–Landau network (Euler–Maruyama, per-member noise)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._rng import next_normal_pair


@njit(cache=True)
def _member(b, x, y, rng, conn, strength, a, omega, coupling, c, n_steps, every, out):
    """Advance member ``b``; ``c = (dt, noise·sqrt(dt))``; samples of x every ``every`` steps."""
    n = x.shape[1]
    dt, kick = c[0], c[1]
    xb, yb = x[b], y[b]
    cx = np.empty(n)
    cy = np.empty(n)
    for k in range(n_steps):
        cx[:] = 0.0
        cy[:] = 0.0
        for j in range(n):  # long-range input C·x, C·y (row j of Cᵀ)
            for i in range(n):
                cx[i] += conn[j, i] * xb[j]
                cy[i] += conn[j, i] * yb[j]
        for i in range(n):
            r2 = xb[i] * xb[i] + yb[i] * yb[i]
            local = a[b, i] - r2
            g = coupling[b]
            dx = local * xb[i] - omega[b, i] * yb[i] + g * (cx[i] - strength[i] * xb[i])
            dy = local * yb[i] + omega[b, i] * xb[i] + g * (cy[i] - strength[i] * yb[i])
            nx, ny = next_normal_pair(rng[b])
            xb[i] += dt * dx + kick * nx
            yb[i] += dt * dy + kick * ny
        if (k + 1) % every == 0:
            out[b, :, (k + 1) // every - 1] = xb


@njit(cache=True, parallel=True)
def run(x, y, rng, conn_t, strength, a, omega, coupling, c, n_steps, every, out):
    """Advance every member (in parallel) by ``n_steps`` steps, sampling x into ``out``."""
    for b in prange(x.shape[0]):
        _member(b, x, y, rng, conn_t, strength, a, omega, coupling, c, n_steps, every, out)


__all__ = ["run"]
