"""Assumptions a result rests on, shown where the result is shown.

One small table, :data:`CAVEATS`, holds every assumption caveat: its id, when it applies and its
text, which says what is assumed and where the alternative is documented. The trial report, the
``psilosim trial`` table and the commands that show such a result (``run``, ``pk``, ``spines``,
``window``) all read it, so a caveat is written once.

A *named hypothesis* is stronger than a caveat: the model can compute the result without it.
RB8 (chronic SERT occupancy down-regulates 5-HT2A, REFERENCES RB8) is the one such hypothesis:
wherever it is active in a result (5-HT2A availability below the subject's own receptor density,
1 for the typical subject, at a psychedelic's peak effect:
SERT occupied before or at the dose, or co-medication ``ssri``), the result is shown with the
same quantity computed with the interaction ``ssri_5ht2a_downregulation`` off
(:func:`rb8_hypothesis`; JSON: ``hypotheses``: ``[{id, text, with, without, ...}]``).

JSON shape of a caveat: ``{"id", "text"}`` (and ``"arms"`` for a trial's).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..clinical.design import ArmSpec, TrialDesign

__all__ = [
    "CAVEATS",
    "Caveat",
    "acute_caveats",
    "acute_hypotheses",
    "assumption_lines",
    "caveat_line",
    "caveat_json",
    "compound_caveats",
    "hypothesis_line",
    "is_non_hallucinogenic_agonist",
    "rb8_active",
    "rb8_hypothesis",
    "peak_while_down_regulated",
    "rb8_without_effect",
    "scenario_hypotheses",
    "trial_assumptions",
    "trial_caveats",
    "trial_hypotheses",
]

#: Where the documentation explains the low-dose TrkB binding (section and bullet of docs/pharmacology.md).
LOW_DOSE_DOCS = ("docs/pharmacology.md#validation-psilosim-validate-typical-subject "
                 "(“TrkB affinities are assumptions”)")
#: Where the what-ifs, their assumptions and the alternatives are documented.
WHATIF_DOCS = "docs/clinical.md#the-what-ifs-scenario-options-example-files-in-srcpsilosimscenariostrials"
#: Where the model's known misses against published trials are listed.
DISCREPANCY_DOCS = "docs/clinical.md#known-discrepancies-left-visible-not-tuned-away"
#: Where RB8, its size and the evidence on it are documented.
RB8_DOCS = "docs/pharmacology.md#equations (“Receptor availability”)"

#: The interaction that is the RB8 hypothesis, and how a scenario or trial arm switches it off.
RB8_INTERACTION = "ssri_5ht2a_downregulation"
RB8_SWITCH = f"interactions: {{{RB8_INTERACTION}: false}}"
#: Fraction of 5-HT2A receptors lost below which availability counts as not down-regulated (a
#: display threshold for floating-point residue, not a physiological quantity).
AVAILABILITY_TOLERANCE = 1e-3
#: A peak subjective effect at or below this (0-1) is none: no psychedelic acts in the result.
NO_EFFECT = 1e-9
#: Smallest dose (mg) at which two dose arms fall in the range where the model's dose–response is
#: flatter than Goodwin et al. 2022 found (their 10 and 25 mg arms).
DOSE_RESPONSE_MIN_MG = 10.0
#: Output step (h) of the typical-patient acute run behind a trial's RB8 line (the ``pk`` series step).
TRIAL_ACUTE_STEP_H = 0.25
HOURS_PER_DAY = 24.0
#: What a trial's RB8 line does not say: the peak is acute, the outcome needs a run of its own.
TRIAL_RB8_SCOPE = (". This is the acute peak of one typical patient; how far RB8 moves the trial's outcome shows "
                   f"only in a second run with the arm set to `{RB8_SWITCH}`.")


def _stressful_text() -> str:
    """The stressful-setting caveat, with the assumed values it rests on (read from their Params)."""
    from ..clinical.biology import DEFAULT_BIOLOGY as B
    from ..clinical.symptoms import DEFAULT_SYMPTOMS as S

    return (f"every parameter of the stressful setting is assumed (activity correlation during the window "
            f"{B.correlation_stressful.value:g}, +{B.stressful_setting_stress.value:g} stress intensity, learning "
            f"level {S.environment_stressful_level.value:g}; none is a published measurement), so a stressful arm "
            f"doing worse than placebo is a consequence of those assumptions, not evidence; see {WHATIF_DOCS}")


@dataclass(frozen=True)
class Caveat:
    """An assumption a result rests on.

    Attributes
    ----------
    id
        Short identifier (JSON ``id``).
    applies
        When it applies, in words (the functions below decide it).
    text
        What is assumed and where the alternative is documented.
    """

    id: str
    applies: str
    text: str


CAVEATS: dict[str, Caveat] = {c.id: c for c in (
    Caveat("trkb_subpsychedelic",
           "a dose of a psychedelic that binds TrkB directly (psilocybin, LSD) stays sub-psychedelic "
           "(peak effect below the effect-duration threshold)",
           "sub-psychedelic doses raise spines mostly through the assumed TrkB affinity (psilocin and LSD at "
           "1 nM, an assumption), and any window they open comes from acute engagement below the "
           "subjective-effect threshold (assumed engagement threshold); see docs/plasticity.md#honest-limits "
           "and " + LOW_DOSE_DOCS),
    Caveat("trkb_affinity",
           "a result shows the TrkB occupancy of a psychedelic that binds TrkB directly",
           "TrkB occupancy of psilocin and LSD rests on an assumed 1 nM affinity (≈ 1000× the "
           "antidepressants', after Moliner et al. 2023, whose numeric Kd was not available), so a near-full TrkB "
           "occupancy is an assumption, not a measurement, and a weaker affinity would give far less (a trial arm "
           "can switch the route off, `mechanisms: {trkb_direct: false}`, to see what depends on it); see "
           + LOW_DOSE_DOCS),
    Caveat("stressful_environment",
           "an arm's setting is `environment: stressful`",
           _stressful_text()),
    Caveat("hallucinogenic_efficacy",
           "a compound's hallucinogenic_efficacy is set by the user (a non-hallucinogenic analogue)",
           "a compound without the acute experience opens no plasticity window here because the model assumes "
           "window reopening needs acute engagement (SP7); this is contested: if 5-HT2A activation alone reopened "
           "it, the analogue would match psilocybin, and tabernanthalog-type mouse data point that way; see "
           + WHATIF_DOCS + " (“Non-hallucinogenic analogue”)"),
    Caveat("dose_response_above_10mg",
           "two arms differ only in the dose of the same psychedelic, both doses at least 10 mg",
           "the model assumes the window opens fully once acute engagement passes its threshold, which 10 mg "
           "already does, so its dose–response above 10 mg is flatter than Goodwin et al. 2022 found (10 mg is "
           "over-predicted and the difference to a higher dose too small), a known miss; see " + DISCREPANCY_DOCS),
)}


def caveat_json(caveat_id: str, *, arms: list[str] | None = None,
                given: dict[str, str] | None = None) -> dict:
    """A caveat as the JSON outputs give it: ``{"id", "text"}`` (and ``"arms"``, ``"given"`` when given).

    Parameters
    ----------
    caveat_id
        A key of :data:`CAVEATS`.
    arms
        The trial arms it applies to (omitted for a single run).
    given
        What each of those arms is given that the caveat is about (``{"escitalopram": "psilocybin
        1 mg"}``), for an arm named after another drug.
    """
    out = {"id": caveat_id, "text": CAVEATS[caveat_id].text}
    if arms is not None:
        out["arms"] = list(arms)
    if given:
        out["given"] = dict(given)
    return out


def caveat_line(caveat: dict) -> str:
    """One printed line: ``caveat (arms a, b): text``."""
    arms, given = caveat.get("arms"), caveat.get("given") or {}
    named = [f"{a}: {given[a]}" if a in given else a for a in arms or []]
    where = f" (arm{'s' if len(named) > 1 else ''} {'; '.join(named)})" if named else ""
    return f"caveat{where}: {caveat['text']}"


# ------------------------------------------------------------------ RB8, the named hypothesis
def _rb8_head() -> str:
    """``RB8 (named hypothesis; size assumed: downregulation_max 0.2, time constant 7 d)``."""
    from ..pharmacokinetics.interactions import INTERACTION_PARAMS as P

    return (f"RB8 (named hypothesis; size assumed: downregulation_max {P.downregulation_max.value:g}, "
            f"time constant {P.downregulation_time.to('day'):g} d)")


def hypothesis_line(hypothesis: dict) -> str:
    """The printed line of a named hypothesis: ``hypothesis: RB8 (...): peak effect ...``."""
    return f"hypothesis: {hypothesis['text']}"


def assumption_lines(payload: dict) -> list[str]:
    """The printed lines of a result's ``hypotheses`` and ``caveats`` (JSON keys), hypotheses first."""
    return ([hypothesis_line(h) for h in payload.get("hypotheses") or []]
            + [caveat_line(c) for c in payload.get("caveats") or []])


def rb8_hypothesis(with_pct: float, without_pct: float, *, who: str | None = None) -> dict:
    """The RB8 line of a result: the peak effect with the hypothesis and without it.

    Parameters
    ----------
    with_pct, without_pct
        The peak subjective effect (% of scale) with RB8 (as shown) and with the interaction off.
    who
        Whom it is computed for, when not the result's own subject (a trial arm's typical patient).

    Returns
    -------
    dict
        ``{"id": "RB8", "text", "quantity", "unit", "with", "without", "switch_off", "docs"}``.
    """
    subject = f" for {who}:" if who else ":"
    text = (f"{_rb8_head()}{subject} peak effect {with_pct:.1f} %; without it {without_pct:.1f} % "
            f"(switch it off with `{RB8_SWITCH}`; Becker et al. 2022 found psilocybin's positive mood effects "
            f"intact after 2 weeks of escitalopram in healthy subjects; see {RB8_DOCS})")
    return {"id": "RB8", "text": text, "quantity": "peak subjective effect", "unit": "% of scale",
            "with": float(with_pct), "without": float(without_pct), "switch_off": RB8_SWITCH, "docs": RB8_DOCS}


def _down_regulated(ds: xr.Dataset, density: float = 1.0) -> xr.DataArray:
    """Where 5-HT2A availability is below the subject's receptor density (RB8 acting), per time
    (and subject): availability is density × the fraction RB8 leaves, so a density below 1 alone
    is not down-regulation."""
    return ds["receptor_availability"] < density * (1.0 - AVAILABILITY_TOLERANCE)


def rb8_active(ds: xr.Dataset, *, density: float = 1.0) -> bool:
    """Whether RB8 shapes an acute result: a psychedelic acts (subjective effect above zero) while
    5-HT2A availability is below the subject's receptor density (SERT occupied before or at the
    dose, or co-medication ``ssri``).

    Parameters
    ----------
    ds
        :func:`psilosim.binding.simulate_acute`'s result (one subject), or such results along a
        ``subject`` dimension (all of one receptor density).
    density
        The subject's 5-HT2A density (``Subject.ht2a_density``; 1 = the typical subject), which
        scales availability whether or not RB8 acts.
    """
    return bool(((ds["effect"] > NO_EFFECT) & _down_regulated(ds, density)).any())


def peak_while_down_regulated(ds: xr.Dataset, *, effect: xr.DataArray | np.ndarray | None = None,
                              density: float = 1.0) -> float:
    """The peak subjective effect (% of scale) over the times RB8 acts in ``ds`` (availability
    below ``density``, the subject's receptor density), the median over subjects; ``effect``
    replaces ``ds``'s own (the same run without RB8).

    Restricting to those times compares the doses RB8 acts on: a dose before the SSRI (carhart2021's
    escitalopram arm, 1 mg on day 0) would otherwise set both peaks.
    """
    values = ds["effect"] if effect is None else xr.DataArray(np.asarray(effect), dims=ds["effect"].dims)
    peaks = values.where(_down_regulated(ds, density)).max("time_h").values
    return 100 * float(np.nanmedian(np.atleast_1d(peaks)))


def rb8_without_effect(ds: xr.Dataset, compounds, subject) -> np.ndarray:
    """The subjective effect (0-1) of a one-subject acute result recomputed with RB8 off.

    The pharmacodynamics are instantaneous in the effect-site concentrations, which RB8 does not
    change, so they are recomputed from ``ds``'s concentrations on its own (uniform) time grid.

    Parameters
    ----------
    ds
        :func:`psilosim.binding.simulate_acute`'s result for one subject.
    compounds
        The :class:`~psilosim.compounds.Compound` objects it was simulated with, in any order and
        with repeats (a compound given on two regimens, which the run merges into one row): each
        of ``ds``'s compounds is matched by name.
    subject
        The :class:`~psilosim.pharmacokinetics.Subject` it was simulated for.
    """
    from ..binding.model import acute_pharmacodynamics

    off = subject.model_copy(update={"interactions": {**subject.interactions, RB8_INTERACTION: False}})
    pd = acute_pharmacodynamics(_run_compounds(ds, compounds), ds["effect_site_concentration"].values,
                                ds["time_h"].values, off)
    return np.asarray(pd["effect"])


def _run_compounds(ds: xr.Dataset, compounds) -> list:
    """The Compound of each of ``ds``'s compound rows, in its order: the first given of each name
    (names are case-insensitive, as :func:`psilosim.binding.simulate_acute` groups them)."""
    by_name: dict = {}
    for compound in compounds:
        by_name.setdefault(compound.name.lower(), compound)
    return [by_name[str(name).lower()] for name in ds["compound"].values]


def _if_psychedelic(with_pct: float, without_pct: float, *, who: str | None = None) -> list[dict]:
    """``[rb8_hypothesis(...)]`` when the dose RB8 acts on is a psychedelic one without it (peak effect
    not sub-psychedelic, :func:`psilosim.binding.is_sub_psychedelic`), else ``[]``: a microdose's
    peak is near 0 either way, and the line would print 0.0 % against 0.0 %."""
    from ..binding import is_sub_psychedelic

    if is_sub_psychedelic(without_pct / 100):
        return []
    return [rb8_hypothesis(with_pct, without_pct, who=who)]


def acute_hypotheses(ds: xr.Dataset, compounds, subject) -> list[dict]:
    """``[RB8 line]`` for one subject's acute result where RB8 is active, else ``[]``."""
    density = subject.ht2a_density
    if not rb8_active(ds, density=density):
        return []
    without = rb8_without_effect(ds, compounds, subject)
    return _if_psychedelic(peak_while_down_regulated(ds, density=density),
                           peak_while_down_regulated(ds, effect=without, density=density))


def scenario_hypotheses(scenario, fine: xr.Dataset) -> list[dict]:
    """``[RB8 line]`` of a ``psilosim run`` result where RB8 is active (the scenario re-simulated
    with the interaction off; the median subject as the run's summary), else ``[]``.

    Parameters
    ----------
    scenario
        The :class:`~psilosim.scenario.Scenario` run.
    fine
        Its result on the fine grid (:func:`psilosim.scenario.simulate_with_summary`'s second).
    """
    from ..scenario import simulate_with_summary

    density = scenario.subject.to_subject().ht2a_density
    if not rb8_active(fine, density=density):
        return []
    subject = scenario.subject.model_copy(
        update={"interactions": {**scenario.subject.interactions, RB8_INTERACTION: False}})
    _, off = simulate_with_summary(scenario.model_copy(update={"subject": subject}), check_doses=False)
    return _if_psychedelic(peak_while_down_regulated(fine, density=density),
                           peak_while_down_regulated(fine, effect=off["effect"].values, density=density))


# ------------------------------------------------------------------ single runs (pk, run)
def binds_trkb_as_psychedelic(compound) -> bool:
    """Whether a compound (a library name or a :class:`~psilosim.compounds.Compound`) is a
    hallucinogen with a direct TrkB binding entry (psilocybin, LSD: the assumed 1 nM): a TrkB
    binding entry and a hallucinogenic efficacy above 0.

    Raises
    ------
    InputError
        When a name is not in the library.
    """
    from ..compounds import get_compound

    compound = get_compound(compound)
    return "TrkB" in compound.binding and compound.hallucinogenic_efficacy.value > 0


def is_non_hallucinogenic_agonist(compound) -> bool:
    """A 5-HT2A agonist whose hallucinogenic efficacy is below its agonist efficacy (a
    non-hallucinogenic analogue such as ``scenarios/non_hallucinogenic_analogue.yaml``'s; no library
    compound is one)."""
    return compound.hallucinogenic_efficacy.value < compound.agonist_efficacy.value


def acute_caveats(compounds, *, ds: xr.Dataset | None = None) -> list[dict]:
    """The caveats of a single acute result (``pk``, ``run``).

    Parameters
    ----------
    compounds
        The :class:`~psilosim.compounds.Compound` objects simulated.
    ds
        The result; ``trkb_affinity`` applies when it shows TrkB occupied by a psychedelic that
        binds TrkB directly (default: whenever such a compound is given). ``hallucinogenic_efficacy``
        applies to a non-hallucinogenic agonist (:func:`is_non_hallucinogenic_agonist`).
    """
    out = []
    trkb = any(binds_trkb_as_psychedelic(c) for c in compounds)
    if trkb and ds is not None and "occupancy" in ds:
        trkb = float(ds["occupancy"].sel(target="TrkB").max()) > NO_EFFECT
    if trkb:
        out.append(caveat_json("trkb_affinity"))
    return out + compound_caveats(compounds)


def compound_caveats(compounds) -> list[dict]:
    """The caveats a result has for its compounds alone, whatever it shows: ``hallucinogenic_efficacy``
    for a non-hallucinogenic agonist (:func:`is_non_hallucinogenic_agonist`). ``spines`` and
    ``window`` add these to their own (they show no TrkB occupancy, so not ``trkb_affinity``).

    Parameters
    ----------
    compounds
        The :class:`~psilosim.compounds.Compound` objects simulated.
    """
    return [caveat_json("hallucinogenic_efficacy")] if any(is_non_hallucinogenic_agonist(c) for c in compounds) else []


# ------------------------------------------------------------------ trials
def _library_compound(treatment):
    """The library Compound of a treatment (``None`` for an inert comparator or a custom compound)."""
    from ..clinical.biology import INERT_COMPOUNDS
    from ..compounds import get_compound

    if not isinstance(treatment.compound, str) or treatment.compound in INERT_COMPOUNDS:
        return None
    return get_compound(treatment.compound)


def _is_psychedelic(treatment) -> bool:
    comp = _library_compound(treatment)
    return comp is not None and comp.hallucinogenic_efficacy.value > 0


def _dose_mg(phase) -> float | None:
    q = phase.dose_quantity
    return float(q.to("mg").magnitude) if q.check("[mass]") else None


def _without_doses(arm: ArmSpec) -> dict:
    """An arm as data with its name, description, allocation and doses left out."""
    data = arm.model_dump(mode="json", exclude={"name", "description", "allocation"})
    for treatment in data["treatments"]:
        for phase in treatment["regimen"]["phases"]:
            phase.pop("dose", None)
    return data


def _dose_pairs(design: TrialDesign) -> list[tuple[str, str]]:
    """Pairs of arms that differ only in the dose of the same psychedelic, every dose >= 10 mg."""
    candidates = []
    for arm in design.arms:
        if not arm.treatments or not all(_is_psychedelic(t) for t in arm.treatments):
            continue
        doses = [_dose_mg(p) for t in arm.treatments for p in t.regimen.phases]
        if all(d is not None and d >= DOSE_RESPONSE_MIN_MG for d in doses):
            candidates.append((arm, doses))
    pairs = []
    for i, (a, doses_a) in enumerate(candidates):
        for b, doses_b in candidates[i + 1:]:
            if doses_a != doses_b and _without_doses(a) == _without_doses(b):
                pairs.append((a.name, b.name))
    return pairs


def trial_caveats(design: TrialDesign, *, summary: dict | None = None) -> list[dict]:
    """The assumption caveats of a trial's result, each naming the arms it applies to.

    Parameters
    ----------
    design
        The trial design.
    summary
        Its run's :func:`psilosim.clinical.stats.summarize` output: the sub-psychedelic TrkB
        caveat judges an arm by its trip peak there (:func:`psilosim.report.trial.biology_notes`'s
        rule) and is left out without it.

    Returns
    -------
    list of dict
        ``{"id", "text", "arms"}`` per caveat that applies (ids of :data:`CAVEATS`).
    """
    from .trial import sub_psychedelic_trkb_doses

    out = []
    if summary is not None:
        given = sub_psychedelic_trkb_doses(design, summary)
        if given:
            out.append(caveat_json("trkb_subpsychedelic", arms=list(given), given=given))
    stressful = [a.name for a in design.arms if a.environment == "stressful"]
    if stressful:
        out.append(caveat_json("stressful_environment", arms=stressful))
    analogues = [a.name for a in design.arms
                 if any(not t.inert and is_non_hallucinogenic_agonist(t.resolved()) for t in a.arm_treatments())]
    if analogues:
        out.append(caveat_json("hallucinogenic_efficacy", arms=analogues))
    pairs = _dose_pairs(design)
    if pairs:
        out.append(caveat_json("dose_response_above_10mg", arms=list(dict.fromkeys(n for pair in pairs for n in pair))))
    return out


def _rb8_candidate(design: TrialDesign, arm: ArmSpec) -> bool:
    """An arm in which RB8 can act: a psychedelic and either a SERT blocker or patients kept on an SSRI,
    with the interaction not switched off."""
    if (arm.interactions or {}).get(RB8_INTERACTION, True) is False:
        return False
    compounds = [t.resolved() for t in arm.arm_treatments() if not t.inert]
    if not any(c.hallucinogenic_efficacy.value > 0 for c in compounds):
        return False
    return any("SERT" in c.binding for c in compounds) or _patients_on_ssri(design)


def _patients_on_ssri(design: TrialDesign) -> bool:
    return not design.ssri_washout and design.ssri_fraction_at_screening != 0


def _typical_patient_run(design: TrialDesign, arm: ArmSpec):
    """The acute run of the arm's treatments in a typical patient (on an SSRI when not washed out)."""
    from ..binding import simulate_acute
    from ..pharmacokinetics import Subject

    pairs = [(t.resolved(), t.shifted_regimen()) for t in arm.arm_treatments() if not t.inert]
    subject = Subject(species="human", comedication=("ssri",) if _patients_on_ssri(design) else (),
                      interactions=arm.interactions or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a coarse-step note is not the point here; doses are checked by the trial
        ds = simulate_acute(pairs, subject=subject, t_end_h=design.end_day * HOURS_PER_DAY,
                            dt_h=TRIAL_ACUTE_STEP_H, check_doses=False)
    return ds, [c for c, _ in pairs], subject


def trial_hypotheses(design: TrialDesign) -> list[dict]:
    """RB8 lines of a trial: per arm where it acts, a typical patient's peak effect with and without.

    Parameters
    ----------
    design
        The trial design.

    Returns
    -------
    list of dict
        :func:`rb8_hypothesis` records with an ``"arm"`` key; empty when RB8 acts in no arm.
    """
    out = []
    for arm in design.arms:
        if not _rb8_candidate(design, arm):
            continue
        ds, compounds, subject = _typical_patient_run(design, arm)
        density = subject.ht2a_density
        if not rb8_active(ds, density=density):
            continue
        who = f"arm {arm.name}, a typical patient" + (" on an SSRI" if _patients_on_ssri(design) else "")
        without = rb8_without_effect(ds, compounds, subject)
        records = _if_psychedelic(peak_while_down_regulated(ds, density=density),
                                  peak_while_down_regulated(ds, effect=without, density=density), who=who)
        out += [{**record, "arm": arm.name, "text": record["text"] + TRIAL_RB8_SCOPE} for record in records]
    return out


def trial_assumptions(design: TrialDesign, *, summary: dict | None = None) -> dict[str, list[dict]]:
    """``{"caveats": trial_caveats(...), "hypotheses": trial_hypotheses(...)}`` of a trial's result."""
    return {"caveats": trial_caveats(design, summary=summary), "hypotheses": trial_hypotheses(design)}
