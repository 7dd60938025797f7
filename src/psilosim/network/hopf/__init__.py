"""Hopf (Stuart–Landau) whole-brain model: simulation and closed-form FC."""

from .model import HopfModel
from .params import FITTED_HOPF, HOPF, FittedHopf, HopfParams

__all__ = ["FITTED_HOPF", "HOPF", "FittedHopf", "HopfModel", "HopfParams"]
