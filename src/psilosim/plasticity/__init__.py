"""Link 4 of the chain: BDNF/TrkB signalling and the plasticity window.

Inputs are receptor drives (:class:`Drive`, occupancy and acute effect over hours), so the link
works on any source of occupancy: the binding link, synthetic pulses, or user data.
"""

from .drive import TARGETS, Drive, combine
from .model import engagement_hours, simulate_plasticity, time_grid, window_close_day, window_days
from .params import MECHANISMS, PlasticityParams, plasticity_params, resolve_mechanisms

__all__ = [
    "MECHANISMS",
    "TARGETS",
    "Drive",
    "PlasticityParams",
    "combine",
    "engagement_hours",
    "plasticity_params",
    "resolve_mechanisms",
    "simulate_plasticity",
    "time_grid",
    "window_close_day",
    "window_days",
]
