"""Receptor binding and acute effect: occupancy per target with effect compartments, 5-HT2A
surface/intracellular pools, TrkB, SERT, NMDA, and the subjective "any drug effect".

Entry point: :func:`simulate_acute` (the contract later links use).
"""

from .model import (
    POOLS,
    TARGETS,
    CoarseOutputStepWarning,
    acute_pharmacodynamics,
    acute_summary,
    effect_duration_h,
    internal_split,
    is_sub_psychedelic,
    simulate_acute,
)
from .params import ACUTE_RESOLUTION, EFFECT_PARAMS, EffectParams, ResolutionParams

__all__ = ["ACUTE_RESOLUTION", "EFFECT_PARAMS", "POOLS", "TARGETS", "CoarseOutputStepWarning", "EffectParams",
           "ResolutionParams", "acute_pharmacodynamics", "acute_summary",
           "effect_duration_h", "internal_split", "is_sub_psychedelic",
           "simulate_acute"]
