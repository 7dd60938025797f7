"""Dynamic mean field (reduced Wong–Wang E–I with feedback inhibition control)."""

from .model import DMFModel, DMFRun, WorkingPoint
from .params import DMF, FITTED_G, DMFParams, FittedCoupling

__all__ = ["DMF", "DMFModel", "DMFParams", "DMFRun", "FITTED_G", "FittedCoupling", "WorkingPoint"]
