"""A small DMF fit result built by hand, for tests of what the CLI and the figures make of it."""

from __future__ import annotations

import numpy as np
import xarray as xr

from psilosim.network.fit import FitResult


def dmf_fit_result(min_rates, max_rates, ks) -> FitResult:
    """Three G values (0.5, 1, 1.5) with fc_corr 0.2/0.3/0.4, the given regional rate extremes
    (Hz) and FCD KS distances; G = 1 is the reported best."""
    g = np.array([0.5, 1.0, 1.5])
    sweep = xr.Dataset({"fc_corr": ("G", [0.2, 0.3, 0.4]), "fcd_ks": ("G", ks), "mean_rate": ("G", [3.0, 3.0, 3.0]),
                        "min_rate": ("G", min_rates), "max_rate": ("G", max_rates)}, coords={"G": g})
    return FitResult(G=1.0, fc_corr=0.3, fcd_ks=None, sc_fc_corr=0.25, sweep=sweep, j_fic=None)
