"""A small per-stream random generator for numba kernels (xoshiro256+ with Box–Muller).

Each batch member owns one stream (four uint64 words), so its noise does not depend on how
members are spread over threads, on the batch size, or on how a run is cut into chunks: that is
what makes "batch equals sequential" and "a long run equals the same run in chunks" exact.
Generator: Blackman & Vigna 2021 (ACM TOMS 47:36), xoshiro256+ for doubles; streams seeded by
numpy.random.SeedSequence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from .._seeds import checked_seed, checked_seed_entry
from ..errors import InputError

_STATE_WORDS = 4


def seed_streams(seed: int | None | Sequence[int], n_streams: int) -> np.ndarray:
    """Independent generator states for ``n_streams`` members.

    ``seed`` is either one integer (or ``None``), from which the member streams are spawned with
    :class:`numpy.random.SeedSequence` (stream ``k`` is the same whatever ``n_streams`` is), or
    one entry per member (member ``k`` then runs exactly as a single run with ``seed[k]``
    would). An entry is an integer or a tuple ``(seed, *key)``, the stream
    ``SeedSequence(seed, spawn_key=key)``: a child of ``seed`` that shares no stream with any
    other key or plain integer seed (how scan sessions name a scan by seed, role and index).
    """
    if isinstance(seed, Sequence) or isinstance(seed, np.ndarray):
        if len(seed) != n_streams:  # an InputError is a ValueError too
            raise InputError("seed", f"{len(seed)} seeds for a batch of {n_streams}")
        sequences = [member_sequence(s) for s in seed]
    else:
        sequences = np.random.SeedSequence(checked_seed(seed)).spawn(n_streams)
    states = np.empty((n_streams, _STATE_WORDS), dtype=np.uint64)
    for k, sequence in enumerate(sequences):
        words = sequence.generate_state(_STATE_WORDS, dtype=np.uint64)
        if not words.any():  # the all-zero state is the one forbidden state
            words[0] = np.uint64(1)
        states[k] = words
    return states


def member_sequence(entry: int | Sequence[int]) -> np.random.SeedSequence:
    """The seed sequence of one member: an integer, or ``(seed, *spawn_key)``.

    Every number is checked as a seed is (:func:`psilosim._seeds.checked_seed_entry`): a
    non-negative integer, numpy's included; a float, a bool or ``None`` is refused.
    """
    if isinstance(entry, (tuple, list)):
        if not entry:
            raise InputError("seed", "an empty seed tuple; give (seed, *spawn_key)")
        seed, *key = (checked_seed_entry(k) for k in entry)
        return np.random.SeedSequence(seed, spawn_key=tuple(key))
    return np.random.SeedSequence(checked_seed_entry(entry))


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def next_uniform(state):
    """One double in (0, 1) from ``state`` (advanced in place)."""
    result = state[0] + state[3]
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = _rotl(state[3], 45)
    # top 53 bits -> [0, 1); shift by half an ulp so the value is never exactly 0
    return ((result >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def next_normal_pair(state):
    """Two independent standard normal numbers (Box–Muller)."""
    u1 = next_uniform(state)
    u2 = next_uniform(state)
    radius = math.sqrt(-2.0 * math.log(u1))
    angle = 2.0 * math.pi * u2
    return radius * math.cos(angle), radius * math.sin(angle)
