"""Link 5 of the chain: dendritic spine density and turnover, mean field and stochastic.

:func:`simulate_slow_chain` runs links 1–5 (dose → occupancy → BDNF/TrkB and window → spines);
:func:`simulate_spines` runs link 5 alone on a plasticity result.
"""

from .model import (
    DEFAULT_REGIONS,
    SpineLayout,
    StressInput,
    chronic_stress,
    imaging_turnover,
    simulate_spines,
)
from .params import SpineParams, spine_params

__all__ = [
    "DEFAULT_REGIONS",
    "SpineLayout",
    "SpineParams",
    "StressInput",
    "chronic_stress",
    "imaging_turnover",
    "simulate_spines",
    "spine_params",
]

from .chain import density_change_pct, simulate_slow_chain  # noqa: E402

__all__ += ["density_change_pct", "simulate_slow_chain"]
