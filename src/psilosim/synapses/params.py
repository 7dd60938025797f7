"""Parameters of the dendritic-spine link, per species.

Spines are counted relative to the baseline density of their region (1 = baseline) in three
pools: baseline *labile* spines ``N`` (new, mostly transient), *plasticity-born* spines ``P``
(formed by the extra, TrkB-driven formation; labile until selected) and *persistent* spines ``S``.

What is fitted, and to what:

``formation_gain``  SP1 (Shao et al. 2021: +10 % frontal spine density 24 h after psilocybin
                     1 mg/kg i.p. in mouse)
``head_gain``       SP1 (spine head width ≈ +10 % at 24 h)

The baseline turnover constants are chosen so that the *imaging* observable (spines present at
the second of two sessions 14 days apart that were absent at the first) is ≈ 4 % (SP4) with no
net drift; they are checked, not fitted, by ``validation/checks_synapses.py``.
"""

from __future__ import annotations

from ..errors import InputError
from ..parameters import Param, ParameterSet

SHAO = "Shao et al. 2021 Neuron 109:2535"
ZUO = "Zuo et al. 2005 Neuron 46:181; Grutzendler et al. 2002 Nature 420:812"
HOLTMAAT = "Holtmaat et al. 2005 Neuron 45:279"
RADLEY = "Radley et al. 2006 Cereb Cortex 16:313"
MODA_SAVA = "Moda-Sava et al. 2019 Science 364:eaat8078"


class SpineParams(ParameterSet):
    """Spine turnover, stress, treatment and selection parameters for one species.

    Equations per connection ``k`` of region ``r`` (share ``φ_k`` of the region's spines,
    correlation ``c_k`` of activity during the window; see ``docs/plasticity.md``)::

        H_r    = exp(γ (1 − D_r))                           homeostatic factor
        m_r    = m0 · H_r                                   maturation of labile spines
        σ(t)   = 1 + g_s · stress(t)                       stress multiplies elimination
        dN/dt  = φ_k f0 − (e_N σ + m_r) N
        dP/dt  = φ_k f0 g_f T⁺ − (e_N σ + m_r + g_m w c_k H_r) P
        dS/dt  = m_r N − e_S σ S
        dC/dt  = (m_r + g_m w c_k H_r) P − e_C σ C           consolidated plasticity-born spines
        f0     = (e_N + m0) φ_N,   e_S = m0 φ_N / (1 − φ_N)  (steady state at D = 1)
        dh/dt  = g_h T⁺ − (h − 1) / τ_h                     spine head width, relative
    """

    labile_fraction: Param
    labile_loss_rate: Param
    maturation_rate: Param
    homeostatic_gain: Param
    formation_gain: Param
    stabilisation_rate: Param
    new_spine_loss_rate: Param
    default_correlation: Param
    stress_elimination_gain: Param
    head_gain: Param
    head_time: Param
    spines_per_segment: Param

    @property
    def baseline_formation_rate(self) -> float:
        """``f0`` in 1/day (fraction of baseline density formed per day), derived."""
        return (self.labile_loss_rate.to("1/day") + self.maturation_rate.to("1/day")) * self.labile_fraction.value

    @property
    def persistent_loss_rate(self) -> float:
        """``e_S`` in 1/day, derived from the steady state at baseline density."""
        phi = self.labile_fraction.value
        return self.maturation_rate.to("1/day") * phi / (1.0 - phi)


def _mouse() -> SpineParams:
    return SpineParams(
        labile_fraction=Param(
            value=0.035, unit="", source=HOLTMAAT + "; " + ZUO, kind="assumed",
            note="share of spines that are new and transient at any time; with the loss and "
                 "maturation rates it gives ≈ 4 % imaged formation per 2 weeks (SP4) and ≈ 2 % per "
                 "day, the order of daily imaging in frontal cortex", low=0.0, high=0.5),
        labile_loss_rate=Param(
            value=0.5, unit="1/day", source=HOLTMAAT, kind="assumed",
            note="most new spines are transient (lifetime ≤ 4 days); half-life ≈ 1.4 days",
            low=0.01, high=10.0),
        maturation_rate=Param(
            value=0.02, unit="1/day", source=HOLTMAAT + "; " + ZUO, kind="assumed",
            note="≈ 4 % of new spines become persistent at baseline, so ≈ 96 % of spines are stable "
                 "over a month", low=0.0, high=1.0),
        homeostatic_gain=Param(
            value=10.0, unit="", source=RADLEY + "; " + MODA_SAVA, kind="assumed",
            note="maturation and selection speed up below the set-point density and slow down above "
                 "it, so that stress-induced loss recovers over months (slow, partial at weeks, SP5) "
                 "and sustained treatment cannot grow spines without bound", low=0.0),
        formation_gain=Param(
            value=40.9, unit="", source=SHAO, kind="fitted",
            note="SP1: +10 % frontal spine density 24 h after psilocybin 1 mg/kg i.p. (mouse)",
            low=0.0),
        stabilisation_rate=Param(
            value=1.0, unit="1/day", source="Nardou et al. 2023 Nature 618:790; " + SHAO,
            kind="assumed",
            note="maturation of plasticity-born spines on a fully correlated connection while the "
                 "window is fully open (critical-period learning); gives persistence at 34 d (SP2)",
            low=0.0),
        new_spine_loss_rate=Param(
            value=0.005, unit="1/day", source=HOLTMAAT + "; " + SHAO, kind="assumed",
            note="loss of consolidated plasticity-born spines (C). Holtmaat 2005: newly formed spines "
                 "that persist are less stable than old persistent ones (whose loss e_S is derived, "
                 "≈ 0.0007/day, half-life ≈ 2.6 years); Shao 2021: the psilocybin-induced density gain "
                 "declines from day 1 to day 34 but is still present (SP2). 0.005/day (half-life ≈ 140 "
                 "days) is about the fastest loss that keeps SP2 at ≥ 3 % at day 34 (0.006 gives 2.97 %); a drug-induced "
                 "gain then fades over months instead of years", low=0.0),
        default_correlation=Param(
            value=0.5, unit="", kind="assumed",
            source="assumed for ordinary housing, see docs/plasticity.md#equations and docs/clinical.md#one-causal-chain",
            note="activity correlation during the window when no experience is supplied "
                 "(ordinary housing); a later layer supplies per-connection values", low=0.0, high=1.0),
        stress_elimination_gain=Param(
            value=7.5, unit="", source=RADLEY + " (≈ 16 % loss, unverified)", kind="assumed",
            note="3 weeks at intensity 1 remove ≈ 15 % of medial prefrontal spines, the order of "
                 "the commonly quoted (unverified) figure", low=0.0),
        head_gain=Param(
            value=0.766, unit="1/day", source=SHAO, kind="fitted",
            note="SP1: spine head width ≈ +10 % at 24 h after psilocybin 1 mg/kg", low=0.0),
        head_time=Param(
            value=2.0, unit="day", source=SHAO, kind="assumed",
            note="head enlargement outlasts the TrkB pulse by days", low=0.05),
        spines_per_segment=Param(
            value=100.0, unit="", source=ZUO, kind="assumed",
            note="≈ 1 spine/µm on a 100 µm imaged segment; sets the counts of the stochastic option",
            low=1.0),
    )


def _human() -> SpineParams:
    """The human spine set: mouse constants with every *rate* divided by the human cellular tempo.

    There is no in-vivo imaging of human spines: the human values are the mouse ones with the
    turnover slowed by the ≈ two-fold slower protein turnover of human cells
    (:data:`psilosim.species.SPECIES`, Rayon 2020, Matsuda 2020), an assumption stated on every
    parameter. Fractions and dimensionless gains are kept. Consequences (predictions, not
    calibrations): human baseline turnover is ≈ 2 % per 2 weeks, and the day-1 spine gain after
    psilocybin 25 mg is ≈ half of what the mouse rates would give.
    """
    from ..plasticity.params import human_tempo, same_in_human, slower_in_human

    m = _mouse()
    tempo = human_tempo()

    def rate(p: Param, what: str) -> Param:
        return slower_in_human(p, tempo, what, is_rate=True)

    def time(p: Param, what: str) -> Param:
        return slower_in_human(p, tempo, what)

    return SpineParams(
        labile_fraction=same_in_human(m.labile_fraction, "a fraction of spines, not a rate"),
        labile_loss_rate=rate(m.labile_loss_rate, "loss of new, transient spines"),
        maturation_rate=rate(m.maturation_rate, "maturation of new spines into persistent ones"),
        homeostatic_gain=same_in_human(m.homeostatic_gain, "a dimensionless sensitivity to the density deficit"),
        formation_gain=same_in_human(m.formation_gain,
                                     "a dimensionless multiplier of baseline formation per unit TrkB signal; the "
                                     "human formation it drives is slower because baseline formation is"),
        stabilisation_rate=rate(m.stabilisation_rate, "selection of plasticity-born spines in an open window"),
        new_spine_loss_rate=rate(m.new_spine_loss_rate, "loss of consolidated plasticity-born spines"),
        default_correlation=same_in_human(m.default_correlation, "a correlation coefficient"),
        stress_elimination_gain=same_in_human(m.stress_elimination_gain,
                                              "a dimensionless multiplier of elimination per unit stress"),
        head_gain=rate(m.head_gain, "spine head enlargement per unit TrkB signal"),
        head_time=time(m.head_time, "relaxation of spine head size"),
        spines_per_segment=same_in_human(m.spines_per_segment, "a counting convention"),
    )


_BUILDERS = {"mouse": _mouse, "human": _human}


def spine_params(species: str) -> SpineParams:
    """The spine parameter set of ``species`` (``"mouse"`` or ``"human"``, case-insensitive)."""
    key = str(species).strip().lower()
    if key not in _BUILDERS:
        raise InputError("species", f"unknown species {species!r}; known: {sorted(_BUILDERS)}")
    return _BUILDERS[key]()
