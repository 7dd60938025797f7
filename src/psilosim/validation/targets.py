"""Literature targets (``REFERENCES.md``) as data.

Each :class:`Target` is one published value with the acceptance band that the scorecard uses.
Rows of REFERENCES.md that report several values (Cmax at three doses) become several targets
(``PK1.15``, ``PK1.25``, ``PK1.30``). Qualitative rows have no band: their check returns a
boolean, and a test with stated expectations covers them too.

Flags carried into the scorecard:

``secondary``   the value was read in a secondary source (REFERENCES "(2°)")
``unverified``  commonly quoted but not found in a primary text
``qualitative`` a direction or a rank order, not a number
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Flag = Literal["secondary", "unverified", "qualitative"]
Link = Literal[
    "pharmacokinetics", "binding", "plasticity", "synapses", "network", "metrics", "clinical"
]


class Target(BaseModel):
    """One literature target.

    ``low``/``high`` bound the simulated value in ``unit``; either may be ``None`` (one-sided).
    For a qualitative target both are ``None`` and the check returns ``True``/``False``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    quantity: str
    published: str
    source: str
    link: Link
    unit: str = ""
    low: float | None = None
    high: float | None = None
    flags: tuple[Flag, ...] = ()

    @property
    def qualitative(self) -> bool:
        return "qualitative" in self.flags


def _t(**kw) -> Target:
    return Target(**kw)


HOLZE = "Holze et al. 2023 Clin Pharmacol Ther 113:822"
BROWN = "Brown et al. 2017 Clin Pharmacokinet 56:1543"
OTTO = "Otto et al. 2025 Clin Pharmacokinet"
SHAO = "Shao et al. 2021 Neuron 109:2535"
SIEGEL = "Siegel et al. 2024 Nature 632:131"

TARGETS: tuple[Target, ...] = (
    # ---------------------------------------------------------------- pharmacokinetics
    _t(id="PK1.15", quantity="psilocin Cmax after 15 mg oral psilocybin", published="11 (95% CI 10–13) ng/mL",
       source=HOLZE, link="pharmacokinetics", unit="ng/mL", low=9.0, high=13.5),
    _t(id="PK1.25", quantity="psilocin Cmax after 25 mg oral psilocybin", published="17 (16–19) ng/mL",
       source=HOLZE, link="pharmacokinetics", unit="ng/mL", low=14.0, high=20.0),
    _t(id="PK1.30", quantity="psilocin Cmax after 30 mg oral psilocybin", published="21 (19–24) ng/mL",
       source=HOLZE, link="pharmacokinetics", unit="ng/mL", low=17.5, high=25.0),
    _t(id="PK2", quantity="psilocin Tmax after oral psilocybin", published="≈ 2 h (1.7–2.2 h across studies)",
       source=HOLZE + "; scoping review 2024 Clin Neuropharmacol", link="pharmacokinetics", unit="h",
       low=1.5, high=2.5),
    _t(id="PK3", quantity="psilocin elimination half-life", published="1.4–1.8 h (Holze); 3 h (Brown); 1.23–4.72 h (Otto)",
       source=f"{HOLZE}; {BROWN}; {OTTO}", link="pharmacokinetics", unit="h", low=1.2, high=3.5),
    _t(id="PK4", quantity="psilocin Cmax per mg psilocybin (dose linearity 15–30 mg)", published="0.68–0.73 ng/mL per mg",
       source=f"{HOLZE}; {BROWN}", link="pharmacokinetics", unit="ng/mL/mg", low=0.6, high=0.8),
    _t(id="PK5", quantity="psilocin apparent volume V/F", published="505–1267 L", source=OTTO,
       link="pharmacokinetics", unit="L", low=400.0, high=1500.0),
    _t(id="PK6", quantity="AUC ratio 25 mg fixed dose / 0.3 mg/kg (70–85 kg adult)", published="≈ 1",
       source=BROWN, link="pharmacokinetics", unit="ratio", low=0.8, high=1.2),
    _t(id="PK9", quantity="unchanged psilocin excreted in urine, % of dose", published="1.5–3.4 %",
       source=f"{OTTO}; {BROWN}", link="pharmacokinetics", unit="percent", low=0.0, high=5.0),
    _t(id="PK10.15", quantity="duration of subjective effects after 15 mg", published="5.6 ± 2.2 h",
       source=HOLZE, link="pharmacokinetics", unit="h", low=4.0, high=7.0),
    _t(id="PK10.25", quantity="duration of subjective effects after 25 mg", published="5.5 ± 1.6 h",
       source=HOLZE, link="pharmacokinetics", unit="h", low=4.0, high=7.0),
    _t(id="PK10.30", quantity="duration of subjective effects after 30 mg", published="6.4 ± 2.2 h",
       source=HOLZE, link="pharmacokinetics", unit="h", low=4.0, high=7.0),
    _t(id="PK10.order", quantity="effect lasts longer after 30 mg than after 15 mg", published="6.4 vs 5.6 h",
       source=HOLZE, link="pharmacokinetics", flags=("qualitative",)),
    _t(id="PK11.15", quantity="peak 'any drug effect' after 15 mg", published="58 ± 25 % of scale",
       source=HOLZE, link="pharmacokinetics", unit="percent", low=43.0, high=73.0),
    _t(id="PK11.25", quantity="peak 'any drug effect' after 25 mg", published="73 ± 27 % of scale",
       source=HOLZE, link="pharmacokinetics", unit="percent", low=58.0, high=88.0),
    _t(id="PK11.30", quantity="peak 'any drug effect' after 30 mg", published="80 ± 18 % of scale",
       source=HOLZE, link="pharmacokinetics", unit="percent", low=65.0, high=95.0),
    _t(id="PK12", quantity="escitalopram half-life (single to multiple dose)", published="27–33 h",
       source="Søgaard et al. 2005 J Clin Pharmacol 45:1400; label", link="pharmacokinetics", unit="h",
       low=22.0, high=38.0),
    _t(id="PK13", quantity="ketamine half-life after IV dosing", published="≈ 2–3 h",
       source="Yanagihara 2003; Rolan et al. 2014 Br J Clin Pharmacol", link="pharmacokinetics",
       unit="h", low=1.5, high=3.5),
    # ---------------------------------------------------------------- receptor binding
    _t(id="RB1", quantity="peak cortical 5-HT2A occupancy after 30 mg psilocybin", published="up to 72 % (n=8)",
       source="Madsen et al. 2019 Neuropsychopharmacology 44:1328", link="binding", unit="percent",
       low=60.0, high=80.0),
    _t(id="RB2", quantity="EC50 of plasma psilocin for 5-HT2A occupancy", published="1.97 µg/L; Occmax 76.6 %",
       source="commonly cited from Madsen 2019", link="binding", unit="ng/mL",
       flags=("unverified",)),
    _t(id="RB3", quantity="subjective intensity tracks occupancy and plasma psilocin", published="qualitative",
       source="Madsen 2019; Stenbæk et al. 2021", link="binding", flags=("qualitative",)),
    _t(id="RB4.5", quantity="SERT occupancy 6 h after escitalopram 5 mg", published="60 ± 6 %",
       source="Klein et al. 2006 Psychopharmacology 188:263", link="binding", unit="percent",
       low=50.0, high=70.0),
    _t(id="RB4.10", quantity="SERT occupancy 6 h after escitalopram 10 mg", published="64 ± 6 %",
       source="Klein et al. 2006 Psychopharmacology 188:263", link="binding", unit="percent",
       low=54.0, high=74.0),
    _t(id="RB5", quantity="chronic SSRI SERT occupancy at 20 mg escitalopram (plateau)", published="≈ 80 % (76–85 %), plateau ≈ 85 %",
       source="Meyer et al. 2004 Am J Psychiatry 161:826", link="binding", unit="percent",
       low=70.0, high=90.0),
    _t(id="RB6", quantity="psilocin binds TrkB at concentrations far below other antidepressants", published="≈ 1000× higher affinity",
       source="Moliner et al. 2023 Nat Neurosci 26:1032", link="binding", flags=("qualitative",)),
    _t(id="RB7", quantity="serotonin (SSRI) reaches surface 5-HT2A only; psilocin reaches both pools", published="qualitative",
       source="Vargas et al. 2023 Science", link="binding", flags=("qualitative",)),
    _t(id="RB8", quantity="chronic SSRI blunts the response to psilocybin (5-HT2A down-regulation)", published="qualitative (named hypothesis)",
       source="clinical and preclinical reports", link="binding", flags=("qualitative",)),
    # ---------------------------------------------------------------- plasticity and synapses
    _t(id="SP1", quantity="mouse frontal spine density 24 h after psilocybin 1 mg/kg", published="≈ +10 %",
       source=SHAO, link="synapses", unit="percent", low=5.0, high=15.0),
    _t(id="SP2", quantity="spine density increase still present 34 days later", published="still elevated",
       source=SHAO, link="synapses", unit="percent", low=3.0),
    _t(id="SP3", quantity="spine elimination rate after psilocybin, % of baseline", published="unchanged",
       source=SHAO, link="synapses", unit="percent", low=80.0, high=120.0, flags=("secondary",)),
    _t(id="SP4", quantity="baseline spines formed per 2 weeks, adult mouse cortex", published="3–5 %",
       source="Zuo et al. 2005 Neuron 46:181; Grutzendler et al. 2002 Nature", link="synapses",
       unit="percent", low=2.0, high=7.0),
    _t(id="SP5", quantity="chronic stress removes spines, partial recovery after", published="loss, then partial recovery",
       source="Radley et al. 2006 Cereb Cortex", link="synapses", flags=("qualitative", "unverified")),
    _t(id="SP6", quantity="ketamine's behavioural effect precedes spine gain", published="qualitative",
       source="Moda-Sava et al. 2019 Science 364:eaat8078", link="synapses", flags=("qualitative",)),
    _t(id="SP7.order", quantity="window rank order psilocybin ≈ MDMA < LSD < ibogaine", published="2, 2, 3, 4 weeks",
       source="Nardou et al. 2023 Nature 618:790", link="plasticity", flags=("qualitative", "secondary")),
    _t(id="SP7.psilocybin", quantity="critical-period window after psilocybin", published="2 weeks",
       source="Nardou et al. 2023 Nature 618:790", link="plasticity", unit="day", low=7.0, high=21.0,
       flags=("secondary",)),
    _t(id="SP7.mdma", quantity="critical-period window after MDMA", published="2 weeks",
       source="Nardou et al. 2023 Nature 618:790", link="plasticity", unit="day", low=7.0, high=21.0,
       flags=("secondary",)),
    _t(id="SP7.lsd", quantity="critical-period window after LSD", published="3 weeks",
       source="Nardou et al. 2023 Nature 618:790", link="plasticity", unit="day", low=10.5, high=31.5,
       flags=("secondary",)),
    _t(id="SP7.ibogaine", quantity="critical-period window after ibogaine", published="4 weeks",
       source="Nardou et al. 2023 Nature 618:790", link="plasticity", unit="day", low=14.0, high=42.0,
       flags=("secondary",)),
    # Not a REFERENCES.md row: the fifth compound of the same Nardou experiment, checked (not
    # fitted); the 48 h is as reported in the Johns Hopkins news release of the paper (2°).
    _t(id="SP7.ketamine", quantity="critical-period window after ketamine", published="48 h",
       source="Nardou et al. 2023 Nature 618:790 (48 h as reported in the Johns Hopkins Medicine news release "
              "of the paper, June 2023)", link="plasticity", unit="day", low=1.0, high=3.0,
       flags=("secondary",)),
    _t(id="SP8", quantity="human plasma BDNF after psilocybin 20 mg", published="not changed",
       source="Ley et al. 2023 Neuropsychopharmacology", link="plasticity", flags=("qualitative",)),
    # ---------------------------------------------------------------- networks
    _t(id="NW1.ratio", quantity="acute FC change psilocybin 25 mg / methylphenidate 40 mg", published="> 3×",
       source=SIEGEL, link="network", unit="ratio", low=3.0),
    _t(id="NW1.dmn", quantity="DMN is the most desynchronised network under psilocybin", published="DMN strongest",
       source=SIEGEL, link="network", flags=("qualitative",)),
    _t(id="NW2", quantity="hippocampus–DMN FC decreased at 1–3 weeks, ≈ baseline at 6 months", published="qualitative",
       source=SIEGEL, link="network", flags=("qualitative",)),
    _t(id="NW3", quantity="modularity falls after psilocybin, not after escitalopram; fall ↔ improvement", published="signs",
       source="Daws et al. 2022 Nat Med 28:844", link="metrics", flags=("qualitative",)),
    _t(id="NW4", quantity="within-DMN FC increased 1 day after treatment", published="direction",
       source="Carhart-Harris et al. 2017 Sci Rep 7:13187", link="metrics", flags=("qualitative",)),
    _t(id="NW5.coupling", quantity="acute decrease of mPFC–PCC coupling", published="direction",
       source="Carhart-Harris et al. 2012 PNAS 109:2138", link="network", flags=("qualitative",)),
    _t(id="NW5.cbf", quantity="acute CBF/BOLD decreases, largest in hubs (thalamus, ACC, PCC)", published="direction",
       source="Carhart-Harris et al. 2012 PNAS 109:2138", link="network", flags=("qualitative",)),
    _t(id="NW6", quantity="receptor-weighted gain map differs from uniform and beats shuffled maps", published="model reference",
       source="Deco et al. 2018 Curr Biol 28:3065", link="network", flags=("qualitative",)),
    # ---------------------------------------------------------------- clinical
    _t(id="CL1.psilocybin", quantity="QIDS-SR-16 change at week 6, psilocybin 2 × 25 mg", published="−8.0 ± 1.0",
       source="Carhart-Harris et al. 2021 NEJM 384:1402", link="clinical", unit="QIDS-SR-16 points", low=-10.0, high=-6.0,
       flags=("secondary",)),
    _t(id="CL1.escitalopram", quantity="QIDS-SR-16 change at week 6, escitalopram 10→20 mg", published="−6.0 ± 1.0",
       source="Carhart-Harris et al. 2021 NEJM 384:1402", link="clinical", unit="QIDS-SR-16 points", low=-8.0, high=-4.0,
       flags=("secondary",)),
    _t(id="CL1.difference", quantity="|between-arm difference| at week 6 (checked: below 4 points, not a p-value)",
       published="−2.0 (95 % CI −5.0 to 0.9), not significant at n = 59",
       source="Carhart-Harris et al. 2021 NEJM 384:1402", link="clinical", unit="QIDS-SR-16 points", low=0.0, high=4.0,
       flags=("secondary",)),
    _t(id="CL2", quantity="SSRI: separation by week 1, improvement continues ≥ 6 weeks", published="gradual onset",
       source="Taylor et al. 2006 Arch Gen Psychiatry 63:1217", link="clinical", flags=("qualitative",)),
    _t(id="CL3", quantity="|microdose − placebo| QIDS difference after 4 weeks", published="no difference",
       source="Szigeti et al. 2021 eLife 10:e62878", link="clinical", unit="QIDS-SR-16 points", low=0.0, high=2.0),
    _t(id="CL4", quantity="ketamine response rapid at 24 h and fading over days", published="OR 9.87 at 24 h",
       source="NMDA antagonist meta-analysis 2015 Am J Psychiatry", link="clinical", flags=("qualitative",)),
    # The response itself (REFERENCES CL4's quantity): the share of ketamine patients with a ≥ 50 % MADRS
    # reduction at 24 h. Band: the pooled 52.2 % ± about a third (assumed; single trials spread widely).
    _t(id="CL4.response", quantity="ketamine responders (≥ 50 % MADRS reduction) at 24 h",
       published="52 % (placebo ≈ 10 %: OR 9.87)",
       source="Han et al. 2016 Neuropsychiatr Dis Treat 12:2859 (abstract: 52.2 % response, 20.6 % remission at "
              "24 h, 9 RCTs, n = 368); OR 9.87: NMDA antagonist meta-analysis 2015 Am J Psychiatry",
       link="clinical", unit="percent", low=35.0, high=70.0),
)

TARGETS_BY_ID: dict[str, Target] = {t.id: t for t in TARGETS}
