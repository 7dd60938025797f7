"""Numba kernel of the batched Stuart–Landau network (Euler–Maruyama, per-member noise).

Arguments travel in three named groups, as in the DMF kernel: what the integration changes
(:data:`State`), what drives each member (:data:`Drive`) and the step (:data:`Step`).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._rng import next_normal_pair

#: Mutable state of a batch: real and imaginary parts x, y (B, N) and generator words (B, 4).
State = namedtuple("State", "x y rng")
#: What drives each member: transposed connectome Cᵀ (N, N, C-contiguous), its row sums
#: (in-strength, N), bifurcation parameters a (B, N, 1/s), angular frequencies ω (B, N, rad/s)
#: and global couplings G (B,).
Drive = namedtuple("Drive", "conn_t strength a omega coupling")
#: Integration step dt (s) and the noise increment of one step, noise·sqrt(dt).
Step = namedtuple("Step", "dt kick")


@njit(cache=True)
def _member(b, state, drive, step, n_steps, every, out):
    """Advance member ``b`` by ``n_steps`` steps; samples of x every ``every`` steps into ``out[b]``."""
    n = state.x.shape[1]
    dt, kick = step.dt, step.kick
    xb, yb, rng = state.x[b], state.y[b], state.rng[b]
    conn, strength = drive.conn_t, drive.strength
    a, omega, g = drive.a[b], drive.omega[b], drive.coupling[b]
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
            local = a[i] - r2
            dx = local * xb[i] - omega[i] * yb[i] + g * (cx[i] - strength[i] * xb[i])
            dy = local * yb[i] + omega[i] * xb[i] + g * (cy[i] - strength[i] * yb[i])
            nx, ny = next_normal_pair(rng)
            xb[i] += dt * dx + kick * nx
            yb[i] += dt * dy + kick * ny
        if (k + 1) % every == 0:
            out[b, :, (k + 1) // every - 1] = xb


@njit(cache=True, parallel=True)
def run(state, drive, step, n_steps, every, out):
    """Advance every member (in parallel) by ``n_steps`` steps, sampling x into ``out`` (B, N, samples)."""
    for b in prange(state.x.shape[0]):
        _member(b, state, drive, step, n_steps, every, out)


__all__ = ["Drive", "State", "Step", "run"]
