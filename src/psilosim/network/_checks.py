"""Input checks shared by the network models and sessions."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def checked_coupling(coupling: float, field: str = "coupling") -> float:
    """``coupling`` as a float, or an :class:`InputError` on ``field`` if it is negative or not finite.

    A global coupling G scales long-range excitation: G < 0 would make every structural connection
    inhibitory (no model here is defined there), and G = 0 is the uncoupled network.
    """
    try:
        value = float(coupling)
    except (TypeError, ValueError):
        raise InputError(field, f"must be a finite number >= 0, got {coupling!r}") from None
    if not (np.isfinite(value) and value >= 0.0):
        raise InputError(field, f"G must be finite and non-negative, got {coupling}")
    return value
