"""The one check of a random seed, shared by every link that draws random numbers.

numpy refuses a negative seed with a bare ``ValueError`` and would take ``True`` as 1 or truncate
``1.5`` silently (through ``int``); a seed is therefore checked here, once, and a bad one is an
:class:`~psilosim.errors.InputError` naming the field it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError


def checked_seed_entry(value: Any, *, field: str = "seed") -> int:
    """``value`` as a non-negative ``int``: a seed that must be given, or one spawn-key entry.

    numpy integers are accepted; ``bool`` (numpy's too), floats (even whole ones), strings and
    ``None`` are not.

    Raises
    ------
    InputError
        On ``field`` when ``value`` is not a non-negative integer.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(field, f"must be a non-negative integer, got {value!r}")
    return int(value)


def checked_seed(seed: Any, *, field: str = "seed") -> int | None:
    """``seed`` as a non-negative ``int`` (``None`` stays ``None``: no fixed seed).

    Raises
    ------
    InputError
        On ``field`` (a CLI passes its option, ``--seed``) when ``seed`` is negative or not an
        integer (:func:`checked_seed_entry`).
    """
    return None if seed is None else checked_seed_entry(seed, field=field)


__all__ = ["checked_seed", "checked_seed_entry"]
