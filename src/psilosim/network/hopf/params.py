"""Parameters of the Stuart–Landau (Hopf) whole-brain model.

Deco et al. 2017 (Sci Rep 7:3095, "The dynamics of resting fluctuations in the brain:
metastability and its dynamical cortical core"): each region is a Stuart–Landau oscillator near
its Hopf bifurcation whose real part stands directly for the band-passed BOLD signal.
"""

from __future__ import annotations

from ...parameters import Param, ParameterSet

D2017 = "Deco et al. 2017 Sci Rep 7:3095"


class HopfParams(ParameterSet):
    """Constants of the Hopf model (time in seconds)."""

    bifurcation: Param
    frequency: Param
    noise: Param
    dt: Param
    drug_shift: Param


HOPF = HopfParams(
    bifurcation=Param(value=-0.02, unit="1/s", source=D2017, kind="published",
                      note="local bifurcation parameter a (just below the Hopf bifurcation)"),
    frequency=Param(value=0.05, unit="Hz", source=D2017, kind="published",
                    note="intrinsic frequency: peak of the 0.04–0.07 Hz band-passed BOLD spectrum"),
    noise=Param(value=0.02, unit="", source=D2017, kind="published", note="noise amplitude β"),
    dt=Param(value=0.1, unit="s", source=D2017, kind="published", note="Euler–Maruyama step"),
    drug_shift=Param(
        value=0.02, unit="1/s", source="psilosim", kind="assumed",
        note="5-HT2A moves a region towards the bifurcation: a_i = a + shift·R_i·occupancy "
             "(the Hopf analogue of the DMF gain term; a full shift reaches a = 0 where R = 1)",
    ),
)
