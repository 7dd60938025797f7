"""Numba kernel of the dynamic mean field with Balloon–Windkessel BOLD, batched over members.

A *member* is one subject or condition: its own coupling G, per-region gain and FIC weights, its
own noise stream. All members share the connectome, so the long-range input of a block of
members is one matrix–matrix product ``S_E (members × N) · Cᵀ (N × N)`` per network step. The
batch is cut into blocks, and blocks run in parallel (``prange``), each over the whole chunk of
time: threads meet once per chunk, not once per step, which keeps the kernel fast when other
processes share the cores.

Numerical scheme (per network step Δ = ``network_step``, default 1 ms):

1. long-range input ``C S_E`` from the state at the start of the step (held for Δ);
2. Wiener increments ``σ sqrt(Δ/ms) ξ`` added to S_E and S_I (additive noise, Euler–Maruyama
   at Δ);
3. ``n_inner`` Euler steps of dt (0.1 ms) of the deterministic local dynamics;
4. one Euler step of Δ of the Balloon–Windkessel model driven by the mean rate over Δ;
5. a BOLD sample every ``sample_every`` network steps.

Every member's arithmetic is the same whatever block it is in (the product is written out, row by
row, in a fixed order), and the generator state travels with the simulation state, so a member
run alone, in any batch, on any number of threads, or cut into chunks at network-step
boundaries gives bit-identical results.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

from .._rng import next_normal_pair
from ..bold import EFFICACY, balloon_signal, balloon_step

#: Mutable simulation state of a batch: gating variables (B, N), haemodynamics (B, 4, N),
#: generator words (B, 4) and the network-step counter (1,).
State = namedtuple("State", "se si hemo rng step")
#: What drives each member: transposed connectome Cᵀ (N, N, C-contiguous), coupling G (B,), E gain (B, N), FIC weights (B, N).
Drive = namedtuple("Drive", "conn_t coupling gain j_fic")
#: What a chunk records: BOLD samples that fall in it (B, N, n_samples) and the sum over its
#: network steps of each region's mean excitatory rate (B, N, Hz).
Record = namedtuple("Record", "bold rate_sum")

_HZ_TO_PER_MS = 1e-3  # unit conversion: a rate in Hz is 1e-3 events per ms


@njit(cache=True, inline="always")
def transfer(current, a, b, d, gain):
    """Population rate (Hz) for an input current (nA): ``x / (1 − exp(−d x))``, ``x = g (a I − b)``."""
    x = gain * (a * current - b)
    if abs(x) < 1e-9:  # removable singularity: the limit is 1/d
        return 1.0 / d
    return x / (1.0 - math.exp(-d * x))


@njit(cache=True)
def _member_step(b, state, drive, net, c, bc, rate_sum, work):
    """Advance member ``b`` by one network step (see the module docstring)."""
    n = net.shape[1]
    se = state.se[b]
    si = state.si[b]
    rng = state.rng[b]
    gain = drive.gain[b]
    j_fic = drive.j_fic[b]
    long_range = drive.coupling[b] * c.j_nmda
    rate_acc = work[b, 0]
    for i in range(n):
        xi_e, xi_i = next_normal_pair(rng)
        se[i] = min(1.0, max(0.0, se[i] + c.noise_step * xi_e))
        si[i] = min(1.0, max(0.0, si[i] + c.noise_step * xi_i))
        rate_acc[i] = 0.0
    for _ in range(c.n_inner):
        for i in range(n):
            i_e = c.ext_e + c.w_plus_j * se[i] + long_range * net[b, i] - j_fic[i] * si[i]
            i_i = c.ext_i + c.j_nmda * se[i] - si[i]
            r_e = transfer(i_e, c.a_e, c.b_e, c.d_e, gain[i])
            r_i = transfer(i_i, c.a_i, c.b_i, c.d_i, 1.0)
            se[i] += c.dt * (-se[i] * c.inv_tau_e + (1.0 - se[i]) * c.gamma_per_ms * r_e)
            si[i] += c.dt * (-si[i] * c.inv_tau_i + r_i * _HZ_TO_PER_MS)
            rate_acc[i] += r_e
    drive_bold = work[b, 1]
    for i in range(n):
        mean_rate = rate_acc[i] / c.n_inner
        rate_sum[b, i] += mean_rate
        drive_bold[i] = bc[EFFICACY] * (mean_rate / c.r_ref - 1.0)
    balloon_step(state.hemo[b], drive_bold, c.dt_network_s, bc)


@njit(cache=True)
def _block_input(lo, hi, se, conn_t, net):
    """``net[b] = Cᵀ-weighted sum of se[b]`` for members lo..hi-1: a block matrix product."""
    n = se.shape[1]
    for b in range(lo, hi):
        row = net[b]
        row[:] = 0.0
        for j in range(n):
            weight = se[b, j]
            if weight != 0.0:
                conn_row = conn_t[j]
                for i in range(n):
                    row[i] += weight * conn_row[i]


@njit(cache=True)
def _run_block(lo, hi, state, drive, c, bc, n_steps, sample_every, record, work):
    """Advance members lo..hi-1 over the whole chunk."""
    start = state.step[0]
    first_sample = start // sample_every
    net = work[:, 2]
    for k in range(n_steps):
        _block_input(lo, hi, state.se, drive.conn_t, net)
        for b in range(lo, hi):
            _member_step(b, state, drive, net, c, bc, record.rate_sum, work)
        global_step = start + k + 1
        if global_step % sample_every == 0:
            sample = global_step // sample_every - first_sample - 1  # m-th sample, 1-based m
            for b in range(lo, hi):
                balloon_signal(state.hemo[b], record.bold[b, :, sample], bc)


def block_edges(batch: int, n_threads: int) -> np.ndarray:
    """Block edges: about two blocks per thread so a slow core does not hold the others."""
    n_blocks = max(1, min(batch, 2 * n_threads))
    return np.linspace(0, batch, n_blocks + 1).round().astype(np.int64)


@njit(cache=True, parallel=True)
def run_parallel(state, drive, c, bc, n_steps, sample_every, record, edges):
    """Advance a batch by ``n_steps`` network steps, blocks of members in parallel.

    ``record.bold`` (B, N, n_samples) receives the samples that fall in this chunk,
    ``record.rate_sum`` (B, N) accumulates the mean excitatory rate of every network step,
    ``edges`` are the block boundaries (see :func:`block_edges`).
    """
    work = np.empty((state.se.shape[0], 3, state.se.shape[1]))
    for blk in prange(len(edges) - 1):
        _run_block(edges[blk], edges[blk + 1], state, drive, c, bc, n_steps, sample_every, record, work)
    state.step[0] += n_steps


@njit(cache=True)
def run_serial(state, drive, c, bc, n_steps, sample_every, record, edges):
    """Same as :func:`run_parallel` on one thread (``edges`` is ignored: one block)."""
    work = np.empty((state.se.shape[0], 3, state.se.shape[1]))
    _run_block(0, state.se.shape[0], state, drive, c, bc, n_steps, sample_every, record, work)
    state.step[0] += n_steps
