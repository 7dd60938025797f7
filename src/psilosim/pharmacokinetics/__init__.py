"""Pharmacokinetics: compartmental models, dosing events, variability, interactions, NCA.

Base units: hours, litres, mg, ng/mL. Entry points: :func:`simulate_pk` (concentrations of one
compound), :class:`Subject`, :func:`nca`.
"""

from .interactions import INTERACTION_PARAMS, INTERACTIONS, InteractionParams, enabled_interactions
from .model import METHODS, compound_profiles, individual_pk, simulate_pk, time_grid
from .nca import NCAResult, nca
from .params import PKParameters, RouteParams
from .subject import ETA_NAMES, Subject, as_subject

__all__ = [
    "ETA_NAMES",
    "INTERACTIONS",
    "INTERACTION_PARAMS",
    "METHODS",
    "InteractionParams",
    "NCAResult",
    "PKParameters",
    "RouteParams",
    "Subject",
    "as_subject",
    "compound_profiles",
    "enabled_interactions",
    "individual_pk",
    "nca",
    "simulate_pk",
    "time_grid",
]
