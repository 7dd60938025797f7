"""Species as data: default body weight, extra PK files, and the published experimental doses.

A species is a parameter set, not a code path. This module holds what the PK/binding and the
cellular links share about a species:

- :data:`SPECIES` default body weights (so ``"1 mg/kg"`` needs no ``--weight`` in a mouse);
- species-specific PK lives with the compounds, in ``compounds/library/species/<species>/``
  (mouse PK of psilocybin, ketamine, escitalopram), merged by the compound registry;
- :data:`EXPERIMENTAL_DOSES` the dose, route and schedule each compound was given in the
  experiments the model is checked against, used when a command is given no dose.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .parameters import Param, ParameterSet


class SpeciesDefaults(ParameterSet):
    """What a species contributes outside the compound files.

    ``cellular_tempo`` is how much slower the species' cellular biochemistry runs than the
    mouse's (1 = mouse). The human cellular parameter sets of the plasticity and spine links
    divide the mouse *rates* by it (``psilosim.plasticity.params``, ``psilosim.synapses.params``).
    """

    name: str
    body_weight: Param
    cellular_tempo: Param


RAYON_MATSUDA = ("Rayon et al. 2020 Science 369:eaba7667; Matsuda et al. 2020 Science 369:1450")

SPECIES: dict[str, SpeciesDefaults] = {
    "mouse": SpeciesDefaults(
        name="mouse",
        body_weight=Param(value=0.025, unit="kg", kind="assumed",
                          source="adult male C57BL/6J (Jackson Laboratory body-weight chart, 10–16 weeks)",
                          note="the strain of Shao 2021, Moda-Sava 2019 and Nardou 2023"),
        cellular_tempo=Param(value=1.0, unit="", kind="assumed", source="definition: mouse is the reference species",
                             note="the cellular constants were calibrated in mouse (Shao 2021, Nardou 2023)")),
    "human": SpeciesDefaults(
        name="human",
        body_weight=Param(value=70.0, unit="kg", kind="assumed", source="conventional reference adult",
                          note="default body weight of a typical subject (each PK set has its own "
                               "reference_weight, equal here); virtual patients draw their own weights"),
        cellular_tempo=Param(
            value=2.0, unit="", kind="published", source=RAYON_MATSUDA,
            note="≈ two-fold longer protein half-lives and slower biochemical reactions in human than in "
                 "mouse cells (motor-neuron differentiation > 2× slower, Rayon 2020; segmentation clock "
                 "5–6 h vs 2–3 h, Matsuda 2020). Applying it to spine turnover and TrkB signalling is an "
                 "assumption: there is no in-vivo human spine imaging")),
}


def species_defaults(species: str) -> SpeciesDefaults:
    """Defaults of ``species`` (case-insensitive)."""
    key = str(species).strip().lower()
    if key not in SPECIES:
        raise InputError("species", f"unknown species {species!r}; known: {sorted(SPECIES)}")
    return SPECIES[key]


#: Species whose per-weight doses need the individual's own weight: a human dose in mg/kg is
#: computed from that person's weight (``psilosim pk`` asks for ``--weight``), whereas a
#: laboratory animal is dosed per kg of its strain's standard weight.
INDIVIDUAL_WEIGHT_SPECIES = frozenset({"human"})


def default_weight_kg(species: str) -> float | None:
    """Standard body weight (kg) used when a subject of ``species`` has none given.

    ``None`` for a species in :data:`INDIVIDUAL_WEIGHT_SPECIES` and for a species without
    defaults here (its PK, if any, then decides).
    """
    key = str(species).strip().lower()
    if key in INDIVIDUAL_WEIGHT_SPECIES or key not in SPECIES:
        return None
    return SPECIES[key].body_weight.to("kg")


def default_subject(species: str):
    """A typical subject of ``species`` with its default body weight."""
    from .pharmacokinetics.subject import Subject

    d = species_defaults(species)
    return Subject(species=d.name, weight_kg=d.body_weight.to("kg"))


@dataclass(frozen=True)
class ExperimentalDose:
    """A published experimental dose: amount, route, schedule and where it comes from."""

    dose: str
    route: str
    source: str
    every: str | None = None
    duration: str | None = None
    kind: str = "published"
    infusion: str | None = None

    def describe(self) -> str:
        sched = f" every {self.every} for {self.duration}" if self.every else " once"
        over = f" over {self.infusion}" if self.infusion else ""
        return f"{self.dose} {self.route}{over}{sched} ({self.source}; {self.kind})"


NARDOU = "Nardou et al. 2023 Nature 618:790"

#: (species, compound) -> the experimental dose used when none is given. Nardou 2023 doses were
#: not read in a primary text in this session: they are marked unverified.
EXPERIMENTAL_DOSES: dict[tuple[str, str], ExperimentalDose] = {
    ("mouse", "psilocybin"): ExperimentalDose("1 mg/kg", "ip", "Shao et al. 2021 Neuron 109:2535"),
    ("mouse", "ketamine"): ExperimentalDose("10 mg/kg", "ip", "Moda-Sava et al. 2019 Science 364:eaat8078"),
    ("mouse", "mdma"): ExperimentalDose("7.8 mg/kg", "ip", f"{NARDOU}; Nardou et al. 2019 Nature 569:116",
                                        kind="unverified"),
    ("mouse", "lsd"): ExperimentalDose("0.05 mg/kg", "ip", NARDOU, kind="unverified"),
    ("mouse", "ibogaine"): ExperimentalDose("40 mg/kg", "ip", NARDOU, kind="unverified"),
    ("mouse", "escitalopram"): ExperimentalDose("10 mg/kg", "ip", "typical chronic rodent SSRI protocol",
                                                every="1 day", duration="28 days", kind="assumed"),
    ("human", "psilocybin"): ExperimentalDose("25 mg", "oral", "Carhart-Harris et al. 2021 NEJM 384:1402"),
    ("human", "ketamine"): ExperimentalDose("0.5 mg/kg", "iv", "standard antidepressant infusion (40 min)",
                                            infusion="40 min"),
    ("human", "escitalopram"): ExperimentalDose("10 mg", "oral", "Carhart-Harris et al. 2021 NEJM 384:1402",
                                                every="1 day", duration="6 weeks"),
    ("human", "lsd"): ExperimentalDose("0.1 mg", "oral", "Ley et al. 2023 Neuropsychopharmacology"),
    ("human", "mdma"): ExperimentalDose("125 mg", "oral", "Mas et al. 1999 J Pharmacol Exp Ther 290:136"),
    ("human", "ibogaine"): ExperimentalDose("10 mg/kg", "oral", "observational ibogaine treatment reports", kind="assumed"),
}


def experimental_dose(species: str, compound: str) -> ExperimentalDose:
    """The published experimental dose of ``compound`` in ``species`` (InputError if none)."""
    key = (species_defaults(species).name, str(compound).strip().lower())
    if key not in EXPERIMENTAL_DOSES:
        known = sorted(c for s, c in EXPERIMENTAL_DOSES if s == key[0])
        raise InputError("--dose", f"no published {key[0]} dose of {compound!r} is known; give --dose "
                                   f"(compounds with a default: {', '.join(known)})")
    return EXPERIMENTAL_DOSES[key]
