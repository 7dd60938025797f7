"""Calibration of the clinical layer on the slow chain (reproducible; run as a script).

Which parameter is fitted to which data (everything else is published, derived or assumed):

=============================================  ================================================
parameter                                      target
=============================================  ================================================
``SymptomParams.weight_circuit``               CL4 — ketamine vs saline at 24 h: standardised
                                               difference −1.0 (Hedges g at day 1, Kishimoto
                                               et al. 2016)
``PlasticityParams.gain_ssri_transcription``   CL1.escitalopram — QIDS-SR-16 change −6.0 at
(human set)                                    week 6
=============================================  ================================================

The first is the weight of the symptom model's circuit term; the second is the only cellular
parameter fitted to clinical data: no human measurement constrains how strongly chronic SERT blockade drives the
slow, transcriptional BDNF route (Nibuya 1995 is a rat mRNA study), so the escitalopram arm of
CL1 sets it. It changes both the SSRI's slow BDNF rise and, through it, how far the window
reopens over weeks (one mechanism, see ``docs/clinical.md``). CL1.psilocybin (−8.0 at week 6),
CL2 (gradual SSRI onset) and CL3 (microdosing ≈ placebo) are *checked*, not fitted. (Until
commit 366f65f the symptom model had separate window and spine weights and CL1.psilocybin fitted
the second; see ``docs/clinical.md``, "Circuit term".)

Every fit uses *virtual twins*: each of ``n`` patients is simulated in every arm (same traits)
on the noise-free latent severity, so the Monte-Carlo error of a contrast is small. The acute
pharmacology of each twin is solved once (:class:`TwinCohort` keeps the drives: they do not
depend on any fitted parameter), the slow chain is rerun only when a cellular parameter changes,
and the symptom model alone when a symptom weight changes. Fits are solved one after the other
with Brent's method: ``weight_circuit`` on the ketamine trial (which the SSRI gain does not touch),
then the SSRI gain given that weight, so one round reaches the fixed point (a second round moves
both by < 1e-5; ``rounds`` is kept for checking that).

``python -m psilosim.clinical.calibration`` prints the fitted values; they are copied into the
defaults (``kind="fitted"``) by hand, so that the package does not refit at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from ..errors import CalibrationError
from ..parameters import Param, ParameterSet
from ..plasticity import plasticity_params
from .biology import BiologyTrajectory, patient_biology, patient_drive
from .design import TrialDesign
from .identity import DEFAULT_MODELS, ModelSet
from .presets import carhart2021, ketamine_iv
from .scales import get_scale
from .symptoms import latent_course, rated_change_noise_variance
from .trial import check_arm_doses, draw


class CalibrationTargets(ParameterSet):
    """The published values the clinical layer is fitted to, with their uncertainty.

    The uncertainty is not used by :func:`fit` (which fits the central values); it is what
    :mod:`psilosim.clinical.uncertainty` propagates to the model's predictions.
    """

    cl4_hedges_g: Param
    cl4_hedges_g_ci_low: Param
    cl4_hedges_g_ci_high: Param
    cl1_escitalopram_change: Param
    cl1_escitalopram_se: Param
    normal_quantile_95: Param


KISHIMOTO = "Kishimoto et al. 2016 Psychol Med 46:1459, abstract (PMC5116384)"
CARHART = "Carhart-Harris et al. 2021 NEJM 384:1402 (REFERENCES CL1, 2°)"

TARGETS = CalibrationTargets(
    cl4_hedges_g=Param(value=-1.0, unit="", source=KISHIMOTO, kind="secondary",
                       note="ketamine − placebo at day 1, Hedges g of the random-effects meta-analysis "
                            "(9 ketamine RCTs, n = 234)"),
    cl4_hedges_g_ci_low=Param(value=-1.28, unit="", source=KISHIMOTO, kind="secondary",
                              note="lower end of the 95 % CI of the day-1 Hedges g"),
    cl4_hedges_g_ci_high=Param(value=-0.73, unit="", source=KISHIMOTO, kind="secondary",
                               note="upper end of the 95 % CI of the day-1 Hedges g"),
    cl1_escitalopram_change=Param(value=-6.0, unit="", source=CARHART, kind="secondary",
                                  note="QIDS-SR-16 points, change from baseline at week 6, escitalopram arm "
                                       "(reported as mean ± SE)"),
    cl1_escitalopram_se=Param(value=1.0, unit="", source=CARHART, kind="secondary",
                              note="QIDS-SR-16 points, the ± of the escitalopram arm's change (an SE)"),
    normal_quantile_95=Param(value=1.959964, unit="", source="standard normal distribution", kind="derived",
                             note="two-sided 95 % quantile, scipy.stats.norm.ppf(0.975): turns an SE into "
                                  "a 95 % interval"),
)

#: The scorecard target (``validation.targets`` id) each fitted parameter is fitted to, by parameter
#: name: the one list of what this module fits (reports mark these rows "fit, not an independent check").
FITTED_TARGETS = {"weight_circuit": "CL4", "gain_ssri_transcription": "CL1.escitalopram"}
#: Checked, not fitted: ``fit`` reports the misfit of the psilocybin arm.
TARGET_CL1_PSILOCYBIN = -8.0
TARGET_CL1_ESCITALOPRAM = TARGETS.cl1_escitalopram_change.value
TARGET_CL4_HEDGES_G = TARGETS.cl4_hedges_g.value
#: Brent brackets of the fitted parameters (search ranges, not model constants).
CIRCUIT_WEIGHT_RANGE = (0.0, 1.0)
SSRI_GAIN_RANGE = (0.0, 0.5)
#: Settings of the published fit.
FIT_N, FIT_SEED, FIT_ROUNDS = 200, 7, 1


@dataclass
class TwinCohort:
    """``n`` patients of a design, each simulated in every arm, with cached drives and biology."""

    design: TrialDesign
    n: int
    seed: int
    models: ModelSet = DEFAULT_MODELS
    patients: list = field(default_factory=list)
    drives: dict = field(default_factory=dict)
    biology: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        end = self.design.end_day
        check_arm_doses(self.design, models=self.models, stacklevel=3)  # once per arm, as a trial does
        self.patients = [draw(self.design, i, self.seed, models=self.models) for i in range(self.n)]
        for k, arm in enumerate(self.design.arms):
            treatments = arm.arm_treatments()
            for i, patient in enumerate(self.patients):
                self.drives[i, k] = patient_drive(treatments, patient, end, check_doses=False,
                                                  interactions=arm.interactions)
        self.rerun()

    def rerun(self, *, arms=None, plasticity=None) -> None:
        """(Re)simulate links 4–5 of ``arms`` (default all) with a human plasticity set."""
        grid = self.design.grid()
        for k, arm in enumerate(self.design.arms):
            if arms is not None and arm.name not in arms:
                continue
            treatments = arm.arm_treatments()
            for i, patient in enumerate(self.patients):
                self.biology[i, k] = patient_biology(
                    treatments, patient, grid, environment=arm.environment, mechanisms=arm.mechanisms,
                    interactions=arm.interactions,
                    params=self.models.biology, drive=self.drives[i, k], plasticity=plasticity)

    def latent(self, k: int, *, models: ModelSet | None = None) -> np.ndarray:
        """Noise-free latent severity (patient × visit) of arm ``k``."""
        models = models or self.models
        spec = self.design.arms[k]
        visits = np.asarray(self.design.visits)
        rows = []
        for i, patient in enumerate(self.patients):
            bio: BiologyTrajectory = self.biology[i, k]
            network = None if models.network_hook is None else models.network_hook(patient, bio)
            course = latent_course(bio, baseline=patient.baseline_severity,
                                   expectancy=patient.expectancy * spec.expectancy, therapy=spec.therapy,
                                   environment=spec.environment, params=models.symptoms, network_term=network)
            rows.append(np.interp(visits, course.time_d, course.latent))
        return np.array(rows)

    def change(self, day: float, *, models: ModelSet | None = None) -> dict[str, np.ndarray]:
        """Latent change from baseline at ``day``, per arm name."""
        v = self.design.visits.index(day)
        out = {}
        for k, arm in enumerate(self.design.arm_names):
            table = self.latent(k, models=models)
            out[arm] = table[:, v] - table[:, 0]
        return out


def twin_latent(design: TrialDesign, models: ModelSet, n: int, seed: int, day: float) -> dict[str, np.ndarray]:
    """Latent severity at ``day`` minus baseline, per arm, for the same ``n`` patients in every arm."""
    return TwinCohort(design, n, seed, models).change(day)


def effect_size_day1(cohort: TwinCohort, *, models: ModelSet | None = None) -> float:
    """Hedges' g of the day-1 change, first arm − second arm, as Kishimoto et al. 2016 pooled it.

    The difference of the two arms' mean latent change, over the pooled SD of the *rated* change:
    each arm's spread of latent change plus what a rated change adds to it (the patient's own
    fluctuation by day 1 and the error of two ratings, :func:`rated_change_noise_variance`). The
    small-sample factor J of Hedges' g is omitted: at the calibration's 200 twins per arm it is
    ≥ 0.998, and the target is the population effect.
    """
    models = models or cohort.models
    change = cohort.change(1.0, models=models)
    first, second = cohort.design.arm_names[:2]
    baselines = cohort.latent(0, models=models)[:, 0]  # the same twins in every arm
    noise = rated_change_noise_variance(baselines, 1.0, get_scale(cohort.design.scale), params=models.symptoms)
    pooled = np.sqrt(0.5 * (change[first].var(ddof=1) + change[second].var(ddof=1)) + noise)
    return float((change[first].mean() - change[second].mean()) / pooled)


def ketamine_effect_size(models: ModelSet, n: int, seed: int) -> float:
    """Standardised ketamine − saline difference at day 1 (see :func:`effect_size_day1`)."""
    return effect_size_day1(TwinCohort(ketamine_iv(), n, seed, models))


def _with_symptoms(models: ModelSet, **changes) -> ModelSet:
    return ModelSet(population=models.population, biology=models.biology,
                    symptoms=models.symptoms.replace(**changes), network_hook=models.network_hook,
                    label=models.label)


def _root(gap, bracket: tuple[float, float], name: str, clip: bool = False) -> float:
    lo, hi = bracket
    g_lo, g_hi = gap(lo), gap(hi)
    if g_lo * g_hi > 0:
        if clip:  # the end of the search range that comes closest
            return lo if abs(g_lo) <= abs(g_hi) else hi
        raise CalibrationError(f"{name}: the target is not reachable within {bracket} "
                           f"(misfit {g_lo:.3g} and {g_hi:.3g} at the ends); the conflict is reported, not forced")
    return brentq(gap, lo, hi, xtol=1e-4)


def _fit_circuit_weight(ket: TwinCohort, models: ModelSet, target: float = TARGET_CL4_HEDGES_G,
                        clip: bool = False) -> ModelSet:
    def gap(x: float) -> float:
        return effect_size_day1(ket, models=_with_symptoms(models, weight_circuit=x)) - target

    return _with_symptoms(models, weight_circuit=_root(gap, CIRCUIT_WEIGHT_RANGE, "weight_circuit", clip))


def _fit_ssri_gain(car: TwinCohort, models: ModelSet, plasticity, target: float = TARGET_CL1_ESCITALOPRAM,
                   clip: bool = False):
    def gap(g: float) -> float:
        car.rerun(arms=["escitalopram"], plasticity=plasticity.replace(gain_ssri_transcription=g))
        return float(car.change(car.design.primary_day, models=models)["escitalopram"].mean()) - target

    fitted = plasticity.replace(gain_ssri_transcription=_root(gap, SSRI_GAIN_RANGE, "gain_ssri_transcription", clip))
    car.rerun(arms=["escitalopram"], plasticity=fitted)
    return fitted


def fit_cohorts(ket: TwinCohort, car: TwinCohort, *, models: ModelSet = DEFAULT_MODELS,
                cl4_hedges_g: float = TARGET_CL4_HEDGES_G,
                cl1_escitalopram: float = TARGET_CL1_ESCITALOPRAM,
                rounds: int = FIT_ROUNDS, clip: bool = False):
    """Fit the two calibrated parameters on twin cohorts of ``ketamine_iv`` and ``carhart2021``.

    Returns the symptom-model set with the fitted ``weight_circuit`` and the human plasticity set
    with the fitted ``gain_ssri_transcription``. The targets default to the published central
    values; :mod:`psilosim.clinical.uncertainty` refits at the ends of their 95 % intervals. The
    ketamine cohort is left simulated with the fitted plasticity set, the Carhart cohort's
    escitalopram arm too (its psilocybin arm is not rerun: none of its compounds binds SERT,
    the only target through which the fitted gain acts). A target that no value in the search
    range reaches raises :class:`~psilosim.errors.CalibrationError`; with ``clip=True`` the range's closest end is taken
    instead (the caller then reports the target actually achieved).
    """
    plast = plasticity_params("human")
    current = models
    for _ in range(rounds):
        current = _fit_circuit_weight(ket, current, cl4_hedges_g, clip)
        plast = _fit_ssri_gain(car, current, plast, cl1_escitalopram, clip)
        ket.rerun(plasticity=plast)
    return current, plast


def fit(*, models: ModelSet = DEFAULT_MODELS, n: int = FIT_N, seed: int = FIT_SEED,
        rounds: int = FIT_ROUNDS) -> dict[str, float]:
    """Fit the two calibrated parameters (see module docstring); return them, the fitted targets
    and CL1.psilocybin (checked, not fitted)."""
    ket = TwinCohort(ketamine_iv(), n, seed, models)
    car = TwinCohort(carhart2021(), n, seed, models)
    current, plast = fit_cohorts(ket, car, models=models, rounds=rounds)
    achieved = {arm: float(c.mean()) for arm, c in car.change(car.design.primary_day, models=current).items()}
    return fit_record(weight_circuit=current.symptoms.weight_circuit.value,
                      gain_ssri_transcription=plast.gain_ssri_transcription.value,
                      cl4_hedges_g=effect_size_day1(ket, models=current), cl1_psilocybin=achieved["psilocybin"],
                      cl1_escitalopram=achieved["escitalopram"], n=n, seed=seed, rounds=rounds)


def fit_record(*, weight_circuit: float, gain_ssri_transcription: float, cl4_hedges_g: float,
               cl1_psilocybin: float, cl1_escitalopram: float, n: int, seed: int,
               rounds: int = FIT_ROUNDS, targets_reached: bool = True) -> dict[str, float]:
    """What a fit reports (:func:`fit`, and ``psilosim calibrate`` for the centre of the envelope):
    the two fitted values, the targets they achieved, CL1.psilocybin, checked, with its misfit, and
    ``targets_reached``: ``False`` when a clipped fit (the envelope's) stopped at the end of a search
    range short of a target (:func:`fit` itself raises instead, so it always reaches them)."""
    return {"weight_circuit": weight_circuit, "gain_ssri_transcription": gain_ssri_transcription,
            "cl4_hedges_g": cl4_hedges_g, "cl1_psilocybin": cl1_psilocybin, "cl1_escitalopram": cl1_escitalopram,
            "cl1_psilocybin_misfit": cl1_psilocybin - TARGET_CL1_PSILOCYBIN,
            "n": n, "seed": seed, "rounds": rounds, "targets_reached": bool(targets_reached)}


if __name__ == "__main__":  # pragma: no cover - a calibration script
    import json

    print(json.dumps(fit(), indent=2))
