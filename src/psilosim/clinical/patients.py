"""Virtual patients: a population drawn from a seed, screened as the trials screened.

Each patient is a frozen record of the quantities in which people differ and that the chain
uses (see :mod:`psilosim.clinical.biology` for where each enters links 1–5): a PK seed (the PK
link draws the patient's random effects on CL, V and ka from it, with each compound's own ω),
5-HT2A receptor density, the spine deficit left by their stress history, plasticity
responsiveness, body weight, baseline severity on the trial's scale (matching its inclusion
criteria), expectancy, and SSRI status at screening.

Determinism: patient ``i`` of a run with seed ``s`` is drawn from its own random stream,
``SeedSequence(entropy=s, spawn_key=(i, stream))``, so it is the same patient whatever the chunking,
the number of workers or the execution backend, and whatever arm randomisation gives it.

Screening (the trials' exclusion rules): a candidate with a history of psychosis or of bipolar
disorder is excluded and another candidate is screened (the count is kept as ``n_screened``). A
candidate on an SSRI at screening is washed out when the trial requires it; otherwise they stay
on it (``ssri_blunted=True``) and the binding link applies the RB8 hypothesis (chronic SSRI
down-regulates 5-HT2A) through the co-medication ``ssri``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import InputError
from ..parameters import Param, ParameterSet
from ._models import SpecModel
from .scales import convert, get_scale

#: Independent random streams of one patient (spawn_key second element).
STREAM_TRAITS = 0
STREAM_MEASUREMENT = 1
#: Upper bound on candidates screened per enrolled patient before the criteria are declared
#: impossible to meet (a safeguard against an infinite loop, not a model constant).
MAX_SCREENED = 10_000


def patient_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of one patient's ``stream`` (see module docstring)."""
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(int(index), int(stream))))


class PopulationParams(ParameterSet):
    """Between-patient variability and screening prevalences."""

    receptor_density_cv: Param
    stress_deficit_mean: Param
    stress_deficit_sd: Param
    stress_deficit_min: Param
    stress_deficit_max: Param
    expectancy_cv: Param
    plasticity_responsiveness_cv: Param
    body_weight_mean: Param
    body_weight_sd: Param
    body_weight_truncation: Param
    prevalence_bipolar: Param
    prevalence_psychosis: Param
    fraction_on_ssri_at_screening: Param


DEFAULT_POPULATION = PopulationParams(
    receptor_density_cv=Param(
        value=0.15, unit="", source="inter-individual spread of cortical 5-HT2A PET binding", kind="assumed",
        note="order of magnitude of between-subject CV of [11C]Cimbi-36 binding; not read in a primary text; "
             "enters the binding link as Subject.ht2a_density"),
    stress_deficit_mean=Param(
        value=0.16, unit="", source="REFERENCES SP5 (≈ 16 % mPFC spine loss after chronic stress; unverified)",
        kind="unverified", note="rodent figure used as the mean human prefrontal spine deficit in MDD; the spine "
        "link produces it from an ongoing background stress (synapses.model.stress_for_deficit)"),
    stress_deficit_sd=Param(value=0.05, unit="", source="spread of stress histories", kind="assumed",
                            note="chosen so that 95 % of patients lie between ≈ 6 and 26 % deficit"),
    stress_deficit_min=Param(value=0.02, unit="", source="assumed truncation of the deficit distribution", kind="assumed",
                             note="every included patient carries some deficit"),
    stress_deficit_max=Param(value=0.40, unit="", source="assumed truncation of the deficit distribution", kind="assumed",
                             note="keeps the deficit inside the range reported for chronic stress"),
    expectancy_cv=Param(value=0.30, unit="", source="spread of expectancy", kind="assumed",
                        note="expectancy multiplies the placebo term; mean 1 by construction"),
    plasticity_responsiveness_cv=Param(
        value=0.5, unit="", source="why plasticity differs between people: BDNF Val66Met impairs activity-dependent "
        "BDNF secretion (Egan et al. 2003 Cell 112:257)", kind="assumed",
        note="multiplies the gain of every route to BDNF/TrkB signalling (psychedelic, ketamine and SSRI alike); "
             "size chosen so the SD of the week-6 change approaches the ≈ 5.4 QIDS points implied by CL1's SE "
             "of 1.0 with n ≈ 30"),
    body_weight_mean=Param(value=75.0, unit="kg", source="adult trial populations", kind="assumed",
                           note="order of the mean adult body weight in antidepressant trials, not read from "
                                "one trial's table; only mg/kg-dosed regimens and weight-scaled PK depend on it"),
    body_weight_sd=Param(value=13.0, unit="kg", source="adult trial populations", kind="assumed",
                         note="between-patient spread of adult body weight (same caveat as the mean)"),
    body_weight_truncation=Param(value=2.0, unit="", source="assumed truncation of the weight distribution", kind="assumed",
                                 low=1.0,
                                 note="weights are drawn within [mean / f, mean · f], excluding implausible "
                                      "adult weights that a normal tail would give"),
    prevalence_bipolar=Param(
        value=0.024, unit="", source="Merikangas et al. 2011 Arch Gen Psychiatry 68:241 (lifetime bipolar spectrum, World Mental Health Survey)",
        kind="published", note="general-population lifetime prevalence; higher among depressed help-seekers"),
    prevalence_psychosis=Param(
        value=0.0306, unit="", source="Perälä et al. 2007 Arch Gen Psychiatry 64:19 (lifetime psychotic disorders)",
        kind="published"),
    fraction_on_ssri_at_screening=Param(
        value=0.5, unit="", source="trial candidates with MDD", kind="assumed",
        note="share of candidates taking an SSRI when screened; only matters when washout is off"),
)


class BaselineSeverity(SpecModel):
    """Baseline severity of the enrolled population on the trial's scale.

    ``minimum``/``maximum`` are the inclusion criteria; ``criterion_scale`` says on which scale
    they are written (e.g. HRSD-17 ≥ 17 for a QIDS-SR-16 trial) and they are converted with
    :func:`psilosim.clinical.scales.convert`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scale: str
    mean: float
    sd: float
    minimum: float | None = None
    maximum: float | None = None
    criterion_scale: str | None = None

    @model_validator(mode="after")
    def _check(self) -> BaselineSeverity:
        # fields relative to this model: validation errors are reported at its location (``baseline.mean``)
        sc = get_scale(self.scale, field="scale")
        sc.check_score(self.mean, field="mean")
        if not np.isfinite(self.sd) or self.sd <= 0:
            raise InputError("sd", f"must be a positive number, got {self.sd}")
        # the inclusion bounds are scores on the criterion scale: checked there, under their own names
        crit = get_scale(self.criterion_scale or sc.name, field="criterion_scale")
        for name in ("minimum", "maximum"):
            if getattr(self, name) is not None:
                crit.check_score(getattr(self, name), field=name)
        lo, hi = self.bounds()
        if lo >= hi:
            raise InputError("minimum", f"inclusion range is empty ({lo:g} ≥ {hi:g} on {sc.name})")
        return self

    def bounds(self) -> tuple[float, float]:
        """Inclusion bounds on the trial's scale."""
        sc = get_scale(self.scale)
        crit = self.criterion_scale or sc.name
        lo = sc.minimum if self.minimum is None else convert(self.minimum, crit, sc.name)
        hi = sc.maximum if self.maximum is None else convert(self.maximum, crit, sc.name)
        return float(lo), float(hi)


class VirtualPatient(BaseModel):
    """One enrolled virtual patient (immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    n_screened: int
    baseline_severity: float
    #: Seed from which the PK link draws this patient's random effects (per compound).
    pk_seed: int
    body_weight_kg: float
    #: 5-HT2A density relative to the typical subject (mean 1); RB8 is applied by the binding link.
    receptor_density: float
    stress_deficit: float
    expectancy: float
    plasticity_responsiveness: float
    on_ssri_at_screening: bool
    ssri_blunted: bool


def _lognormal_mean_one(rng: np.random.Generator, cv: float) -> float:
    """A log-normal factor with mean 1 and coefficient of variation ``cv``."""
    sigma = np.sqrt(np.log1p(cv * cv))
    return float(np.exp(rng.normal(-0.5 * sigma * sigma, sigma)))


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float,
                      *, field: str) -> float:
    for _ in range(MAX_SCREENED):
        x = rng.normal(mean, sd)
        if lo <= x <= hi:
            return float(x)
    raise InputError(field, f"a normal({mean:g}, {sd:g}) almost never falls in [{lo:g}, {hi:g}]")


def _screen_history(rng: np.random.Generator, pop: PopulationParams, exclude: bool) -> int:
    """Number of candidates screened until one without psychosis/bipolar history is found."""
    if not exclude:
        return 1
    p_excluded = 1.0 - (1.0 - pop.prevalence_bipolar.value) * (1.0 - pop.prevalence_psychosis.value)
    for n in range(1, MAX_SCREENED + 1):
        if rng.random() >= p_excluded:
            return n
    raise InputError("population.prevalence", "no candidate passes the psychosis/bipolar screening")


def weight_range_kg(*, population: PopulationParams = DEFAULT_POPULATION) -> tuple[float, float]:
    """The lightest and heaviest body weight (kg) a patient of ``population`` can be drawn with.

    Weights are drawn from a normal distribution truncated to ``[mean / f, mean · f]``
    (``f = body_weight_truncation``); a trial checks weight-dependent doses at both ends.

    Raises
    ------
    InputError
        On ``population.body_weight_truncation`` when ``f`` is not above 1.
    """
    f = population.body_weight_truncation.value
    if not f > 1.0:
        raise InputError("population.body_weight_truncation", f"must be > 1 (draws lie in [mean / f, mean · f]), got {f}")
    return population.body_weight_mean.value / f, population.body_weight_mean.value * f


def draw_patient(index: int, seed: int, baseline: BaselineSeverity, *,
                 population: PopulationParams = DEFAULT_POPULATION,
                 exclude_psychosis_bipolar: bool = True, ssri_washout: bool = True) -> VirtualPatient:
    """Draw and screen patient ``index`` of a run with ``seed``.

    Parameters
    ----------
    index, seed
        Identify the patient's random stream (see module docstring).
    baseline
        The trial's baseline severity distribution and inclusion range.
    population
        Variability and prevalences.
    exclude_psychosis_bipolar
        Apply the trials' exclusion of a psychosis or bipolar history.
    ssri_washout
        ``True``: SSRIs are tapered before dosing; ``False``: candidates on an SSRI stay on it
        (``ssri_blunted``) and the binding link applies RB8.

    Returns
    -------
    VirtualPatient
    """
    if index < 0:
        raise InputError("patient index", f"must be ≥ 0, got {index}")
    rng = patient_rng(seed, index, STREAM_TRAITS)
    pop = population
    n_screened = _screen_history(rng, pop, exclude_psychosis_bipolar)
    lo, hi = baseline.bounds()
    severity = _truncated_normal(rng, baseline.mean, baseline.sd, lo, hi, field="baseline")
    deficit = _truncated_normal(rng, pop.stress_deficit_mean.value, pop.stress_deficit_sd.value,
                                pop.stress_deficit_min.value, pop.stress_deficit_max.value,
                                field="population.stress_deficit")
    on_ssri = bool(rng.random() < pop.fraction_on_ssri_at_screening.value)
    receptor = _lognormal_mean_one(rng, pop.receptor_density_cv.value)
    blunted = on_ssri and not ssri_washout
    weight = _truncated_normal(rng, pop.body_weight_mean.value, pop.body_weight_sd.value, *weight_range_kg(population=pop),
                               field="population.body_weight")
    return VirtualPatient(
        index=index, n_screened=n_screened, baseline_severity=severity,
        pk_seed=int(rng.integers(0, 2**62)),
        body_weight_kg=weight, receptor_density=receptor, stress_deficit=deficit,
        expectancy=_lognormal_mean_one(rng, pop.expectancy_cv.value),
        plasticity_responsiveness=_lognormal_mean_one(rng, pop.plasticity_responsiveness_cv.value),
        on_ssri_at_screening=on_ssri, ssri_blunted=blunted,
    )
