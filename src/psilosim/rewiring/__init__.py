"""Structural rewiring and the imaging signatures of treatment (the last part of link 6).

Connection weights change over days with the spines consolidated during the plasticity window,
by a covariance rule: how much each pair's correlation during the window (the acute 5-HT2A state
and the session's setting, from the pharmacology chain) deviates from the habitual one, under
synaptic scaling of every region's input strength.
The network starts in a documented depressed ("rigid") state; expected FC at imaging visits is
measured with :mod:`psilosim.metrics`. See ``docs/rewiring.md``.

The trial plug-in and one patient's imaging course use the clinical link (link 8), so they live
in :mod:`psilosim.clinical.imaging`; ``ImagingHook`` and ``patient_imaging`` are still reachable
here, imported from there on first use (this package imports nothing of the clinical link).
"""

from .model import (
    BASE_MEASURES,
    PatientNetwork,
    RewiringModel,
    model_for,
    patient_network,
    plasticity_from_biology,
)
from .params import ENVIRONMENT_NETWORKS, REWIRING, RewiringParams

__all__ = [
    "BASE_MEASURES", "ENVIRONMENT_NETWORKS", "REWIRING", "PatientNetwork", "RewiringModel",
    "RewiringParams", "model_for", "patient_network", "plasticity_from_biology",
]

#: Names that moved to :mod:`psilosim.clinical.imaging` (a later link), still importable from here.
_MOVED_TO_CLINICAL = ("ImagingHook", "patient_imaging")


def __getattr__(name: str):
    """``ImagingHook`` and ``patient_imaging`` from :mod:`psilosim.clinical.imaging`, imported on first use."""
    if name in _MOVED_TO_CLINICAL:
        from ..clinical import imaging

        return getattr(imaging, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
