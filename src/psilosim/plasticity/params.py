"""Parameters of the cellular-plasticity link (BDNF/TrkB signalling and the plasticity window).

One :class:`PlasticityParams` per species. The slow chain's base time unit is the day; time
constants that are naturally quoted in hours carry the unit ``h`` and are converted at the edge.

What is fitted, and to what (nothing is fitted to a human plasma BDNF rise, REFERENCES SP8):

``window_decay_d`` and ``window_threshold_h``
    fitted *jointly* to the four Nardou et al. 2023 windows (SP7.psilocybin, SP7.mdma,
    SP7.lsd, SP7.ibogaine) in mouse. No compound has a window constant of its own: a window is
    long because the compound engaged its receptors for long (through the PK/binding chain).

Everything else is assumed (with the reason in ``note``) or read from a source.
"""

from __future__ import annotations

from ..errors import InputError
from ..parameters import Param, ParameterSet

NARDOU = "Nardou et al. 2023 Nature 618:790"
AUTRY = "Autry et al. 2011 Nature 475:91"
NIBUYA = "Nibuya, Morinobu & Duman 1995 J Neurosci 15:7539"
MAYA = "Maya Vetencourt et al. 2008 Science 320:385"
MOLINER = "Moliner et al. 2023 Nat Neurosci 26:1032"
VARGAS = "Vargas et al. 2023 Science 379:700"

#: Names of the switchable routes from receptors to BDNF/TrkB signalling.
MECHANISMS: tuple[str, ...] = (
    "intracellular_5ht2a",
    "trkb_direct",
    "nmda_blockade",
    "ssri_transcription",
)


class PlasticityParams(ParameterSet):
    """BDNF/TrkB signalling and plasticity-window parameters for one species.

    Equations (time ``t`` in days; see ``docs/plasticity.md``)::

        u(t)   = g_int·occ_5HT2A_intracellular + g_trkb·occ_TrkB + g_nmda·occ_NMDA
        dX/dt  = (g_ssri·occ_SERT − X) / tau_ssri          slow transcriptional route (SSRIs)
        dT/dt  = (u + X − T) / tau_trkb                    TrkB signalling above baseline
        bdnf_rel = 1 + T
        E(t)   = 1 − (1 − H(effect; θ_eff)) (1 − H(occ_NMDA; θ_nmda))   acute engagement, 0–1
        dM/dt  = 24 h/d · E + kappa · X − M / tau_window   engagement memory (hours)
        window = M^n / (M^n + θ_w^n)
    """

    # -------------------------------------------------------------- BDNF/TrkB signalling
    tau_trkb: Param
    gain_intracellular_5ht2a: Param
    gain_trkb_direct: Param
    gain_nmda_blockade: Param
    gain_ssri_transcription: Param
    tau_ssri: Param
    # -------------------------------------------------------------- acute engagement
    effect_threshold: Param
    nmda_threshold: Param
    engagement_hill: Param
    # -------------------------------------------------------------- plasticity window
    window_decay: Param
    window_threshold: Param
    window_hill: Param
    trkb_to_window: Param
    window_closed_level: Param


def _mouse() -> PlasticityParams:
    return PlasticityParams(
        tau_trkb=Param(
            value=6.0, unit="h", source=AUTRY + "; Ly et al. 2018 Cell Rep 23:3170", kind="assumed",
            note="BDNF protein rises within 30 min of ketamine and structural effects need hours of "
                 "signalling (Ly 2018); a 6 h relaxation keeps the TrkB pulse within the first day",
            low=0.5, high=48.0),
        gain_intracellular_5ht2a=Param(
            value=0.6, unit="", source=VARGAS, kind="assumed",
            note="scale of T is relative; chosen with gain_trkb_direct so that each route alone can "
                 "drive plasticity (Vargas 2023 vs Moliner 2023) and together give bdnf_rel ≈ 1.5–2 at "
                 "the psilocybin peak; not fitted to any BDNF measurement (SP8)", low=0.0),
        gain_trkb_direct=Param(
            value=0.6, unit="", source=MOLINER, kind="assumed",
            note="equal weight to the intracellular 5-HT2A route: the literature argues for each",
            low=0.0),
        gain_nmda_blockade=Param(
            value=1.2, unit="", source=AUTRY + "; Moda-Sava et al. 2019 Science 364:eaat8078",
            kind="assumed",
            note="NMDA block at rest → eEF2 dephosphorylation → rapid BDNF translation; set so that "
                 "ketamine's TrkB pulse is of the same order as psilocybin's (both raise spine "
                 "formation within a day in mouse frontal cortex)", low=0.0),
        gain_ssri_transcription=Param(
            value=0.03, unit="", source=NIBUYA, kind="assumed",
            note="chronic (not acute) antidepressants raise cortical/hippocampal BDNF mRNA; gives "
                 "T ≈ 0.024 at 80 % SERT occupancy, so that 6 weeks of escitalopram 10 mg raise "
                 "spine density by ≈ 10 % (assumed order; no quantitative target)", low=0.0),
        tau_ssri=Param(
            value=10.0, unit="day", source=NIBUYA, kind="assumed",
            note="BDNF mRNA unchanged after a single dose, raised after 10–21 days of daily dosing",
            low=1.0, high=60.0),
        effect_threshold=Param(
            value=0.1, unit="", source="Holze et al. 2023 Clin Pharmacol Ther 113:822", kind="assumed",
            note="acute-effect duration is the time subjective intensity exceeds 10 % of the scale, "
                 "the convention of the binding link's effect_duration_h", low=0.0, high=1.0),
        nmda_threshold=Param(
            value=0.6, unit="", source="Moda-Sava et al. 2019 Science 364:eaat8078", kind="assumed",
            note="dissociative engagement when ≥ 60 % of NMDA receptors are blocked: the "
                 "dissociative state needs a high block, antidepressant doses are sub-anaesthetic", low=0.0, high=1.0),
        engagement_hill=Param(
            value=4.0, unit="", source="assumed switch steepness, see docs/plasticity.md#equations", kind="assumed",
            note="steep threshold so that E ≈ 1 while engaged and the integral of E is the engagement "
                 "duration", low=1.0),
        window_decay=Param(
            value=7.35, unit="day", source=NARDOU, kind="fitted",
            note="fitted jointly with window_threshold to SP7.psilocybin, SP7.mdma, SP7.lsd, "
                 "SP7.ibogaine (mouse; python -m psilosim.synapses.calibrate, the same optimum from four "
                 "starts); exponential forgetting of engagement makes the window grow with the logarithm "
                 "of engagement duration, as Nardou's 2/2/3/4 weeks do. SP7.ketamine (48 h) is checked, "
                 "not fitted: with it the fit moves to 9.44 d / 0.712 h (docs/plasticity.md)",
            low=0.5, high=60.0),
        window_threshold=Param(
            value=0.420, unit="h", source=NARDOU, kind="fitted",
            note="hours of full engagement that keep the window half open; fitted jointly with "
                 "window_decay to the four SP7 windows (SP7.psilocybin, SP7.mdma, SP7.lsd, "
                 "SP7.ibogaine; mouse)", low=1e-3),
        window_hill=Param(
            value=4.0, unit="", source="assumed switch steepness, see docs/plasticity.md#equations", kind="assumed",
            note="sharp closing so that a window has a well-defined end", low=1.0),
        trkb_to_window=Param(
            value=1.0, unit="h/day", source=MAYA, kind="assumed",
            note="sustained, transcriptional BDNF signalling X (chronic SSRI) reopens juvenile-like "
                 "plasticity over weeks (Maya Vetencourt 2008; Karpova et al. 2011 Science 334:1731); "
                 "only X feeds the window, so brief TrkB pulses (a psychedelic's, a microdose's) raise "
                 "spine formation but do not open it; with X ≈ 0.024 (escitalopram 10 mg) the window "
                 "only starts to open after weeks", low=0.0),
        window_closed_level=Param(
            value=0.5, unit="", source="definition of a closed window, see docs/plasticity.md#equations", kind="assumed",
            note="the window counts as closed once the window state falls below this level",
            low=0.0, high=1.0),
    )


#: Fitted human value of gain_ssri_transcription (see psilosim.clinical.calibration).
HUMAN_SSRI_GAIN = 0.0568
HUMAN_NO_DATA = ("there is no human measurement of cortical TrkB signalling or spines; SP8: nothing is "
                 "calibrated to human plasma BDNF (unchanged after psilocybin 20 mg, Ley 2023)")


def human_tempo() -> Param:
    """How much slower human cellular biochemistry runs than mouse (``species`` ``cellular_tempo``)."""
    from ..species import species_defaults

    return species_defaults("human").cellular_tempo


def slower_in_human(p: Param, tempo: Param, what: str, *, is_rate: bool = False) -> Param:
    """A mouse time constant lengthened (or, with ``is_rate``, a mouse rate divided) by the human
    cellular tempo (kind ``derived``; the source and note say how)."""
    op, value = ("÷", p.value / tempo.value) if is_rate else ("×", p.value * tempo.value)
    return p.model_copy(update={
        "value": value, "kind": "derived",
        "source": f"{p.source}; {op} human cellular tempo {tempo.value:g} ({tempo.source})",
        "note": f"{what}; mouse {p.value:g} {p.unit} {op} {tempo.value:g}; {HUMAN_NO_DATA}"})


def same_in_human(p: Param, why: str) -> Param:
    """The mouse value ``p`` used unchanged in human (kind ``assumed``, the reason ``why`` in its note)."""
    return p.model_copy(update={"kind": "assumed",
                                "note": f"human = mouse ({p.kind} in mouse): {why}; mouse note: {p.note}"})


def _human() -> PlasticityParams:
    """The human cellular set: mouse constants, with time constants of molecular turnover
    lengthened by the species' cellular tempo and the behavioural window kept in days.

    Every parameter says which of the two it is and why. No human measurement constrains any of
    them; the human spine and window time courses are predictions of the chain.
    """
    m = _mouse()
    tempo = human_tempo()
    scale_free = "a dimensionless gain of the relative TrkB signal, assumed species-invariant"
    return PlasticityParams(
        tau_trkb=slower_in_human(m.tau_trkb, tempo, "BDNF/TrkB signalling relaxes as fast as its proteins turn over"),
        gain_intracellular_5ht2a=same_in_human(m.gain_intracellular_5ht2a, scale_free),
        gain_trkb_direct=same_in_human(m.gain_trkb_direct, scale_free),
        gain_nmda_blockade=same_in_human(m.gain_nmda_blockade, scale_free),
        gain_ssri_transcription=m.gain_ssri_transcription.model_copy(update={
            "value": HUMAN_SSRI_GAIN, "kind": "fitted",
            "source": "psilosim.clinical.calibration.fit (n=200 virtual twins, seed 7)",
            "note": "CL1.escitalopram (QIDS-SR-16 −6.0 at week 6, Carhart-Harris 2021): the only cellular "
                    f"parameter fitted to clinical data; how strongly chronic SERT blockade drives slow "
                    f"transcriptional BDNF in human cortex is not measured (Nibuya 1995 is rat mRNA); "
                    f"mouse {m.gain_ssri_transcription.value:g} (assumed); fitted to a rating-scale change, "
                    "never to a blood BDNF level"}),
        tau_ssri=slower_in_human(m.tau_ssri, tempo,
                         "transcriptional BDNF rise under chronic SSRI (rat: 10–21 days, Nibuya 1995) runs at "
                         "the cell's tempo; gives a human rise over ≈ 3–6 weeks, the gradual SSRI onset of CL2 "
                         "(checked, not fitted)"),
        effect_threshold=same_in_human(m.effect_threshold, "defined on the human subjective-effect scale (Holze 2023)"),
        nmda_threshold=same_in_human(m.nmda_threshold, "a fraction of receptors blocked; no species difference known"),
        engagement_hill=same_in_human(m.engagement_hill, "shape of a threshold"),
        window_decay=same_in_human(m.window_decay,
                                   "the window is a behavioural (circuit) memory of engagement fitted in days; it is "
                                   "not a protein turnover and is not tempo-scaled. Human windows come out longer than "
                                   "mouse ones only because human engagement lasts longer (a prediction; scaling it by "
                                   "the tempo would give ≈ 6-week windows after 25 mg)"),
        window_threshold=same_in_human(m.window_threshold, "hours of engagement, the same currency in both species"),
        window_hill=same_in_human(m.window_hill, "shape of the closing"),
        trkb_to_window=same_in_human(m.trkb_to_window,
                                     "sustained TrkB signalling feeds the window as in mouse (Maya Vetencourt 2008); "
                                     "the SSRI's slow BDNF rise is the only route by which it opens the window"),
        window_closed_level=same_in_human(m.window_closed_level, "definition"),
    )


_BUILDERS = {"mouse": _mouse, "human": _human}


def plasticity_params(species: str) -> PlasticityParams:
    """The plasticity parameter set of ``species`` (``"mouse"`` or ``"human"``, case-insensitive).

    Raises
    ------
    InputError
        For an unknown species.
    """
    key = str(species).strip().lower()
    if key not in _BUILDERS:
        raise InputError("species", f"unknown species {species!r}; known: {sorted(_BUILDERS)}")
    return _BUILDERS[key]()


def resolve_mechanisms(mechanisms) -> dict[str, bool]:
    """Normalise a mechanism switch to ``{name: on}`` over :data:`MECHANISMS`.

    Parameters
    ----------
    mechanisms
        ``None`` or ``"all"`` (all on), an iterable of names to switch on (others off), or a
        mapping ``{name: bool}`` (names not given stay on).
    """
    if mechanisms is None or mechanisms == "all":
        return dict.fromkeys(MECHANISMS, True)
    if isinstance(mechanisms, str):
        mechanisms = [mechanisms]
    if isinstance(mechanisms, dict):
        unknown = set(mechanisms) - set(MECHANISMS)
        out = dict.fromkeys(MECHANISMS, True)
        out.update({k: bool(v) for k, v in mechanisms.items() if k in MECHANISMS})
    else:
        names = [str(m) for m in mechanisms]
        unknown = set(names) - set(MECHANISMS)
        out = {m: m in names for m in MECHANISMS}
    if unknown:
        raise InputError("mechanisms", f"unknown mechanism(s) {sorted(unknown)}; known: {list(MECHANISMS)}")
    return out
