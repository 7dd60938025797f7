"""Structural rewiring and the imaging signatures of treatment (the last part of link 6).

Connection weights change over days with the spines consolidated during the plasticity window,
by a covariance rule: how much each pair's correlation during the window (the acute 5-HT2A state
and the session's setting, from the pharmacology chain) deviates from the habitual one, under
synaptic scaling of every region's input strength.
The network starts in a documented depressed ("rigid") state; expected FC at imaging visits is
measured with :mod:`psilosim.metrics`. See ``docs/rewiring.md``.
"""

from .model import (
    BASE_MEASURES,
    ImagingHook,
    PatientNetwork,
    RewiringModel,
    model_for,
    patient_network,
    plasticity_from_biology,
)
from .params import ENVIRONMENT_NETWORKS, REWIRING, RewiringParams
from .report import patient_imaging

__all__ = [
    "BASE_MEASURES", "ENVIRONMENT_NETWORKS", "REWIRING", "ImagingHook", "PatientNetwork", "RewiringModel",
    "RewiringParams", "model_for", "patient_imaging", "patient_network", "plasticity_from_biology",
]
