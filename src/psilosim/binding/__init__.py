"""Receptor binding and acute effect: occupancy per target with effect compartments, 5-HT2A
surface/intracellular pools, TrkB, SERT, NMDA, and the subjective "any drug effect".

Entry point: :func:`simulate_acute` (the contract later links use).
"""

from .model import POOLS, TARGETS, acute_pharmacodynamics, effect_duration_h, simulate_acute
from .params import EFFECT_PARAMS, EffectParams

__all__ = ["EFFECT_PARAMS", "POOLS", "TARGETS", "EffectParams", "acute_pharmacodynamics",
           "effect_duration_h", "simulate_acute"]
