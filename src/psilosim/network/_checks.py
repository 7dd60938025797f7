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


def checked_couplings(coupling, field: str = "coupling") -> np.ndarray:
    """One coupling or one per batch member as a 1-D float array, each as :func:`checked_coupling`
    requires (finite and non-negative)."""
    g = np.atleast_1d(np.asarray(coupling, dtype=float))
    if g.ndim != 1 or not np.isfinite(g).all() or (g < 0).any():
        raise InputError(field, f"G must be finite and non-negative, one value or one per member, got {coupling}")
    return g
