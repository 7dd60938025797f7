"""Hopf (Stuart–Landau) whole-brain model: simulation and closed-form FC."""

from .model import HopfModel
from .params import HOPF, HopfParams

__all__ = ["HOPF", "HopfModel", "HopfParams"]
