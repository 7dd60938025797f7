"""The biology of a virtual patient: links 1–5 of the chain, run for that patient.

There is one model of the biology: :func:`psilosim.synapses.simulate_slow_chain` (regimen → PK →
binding → BDNF/TrkB and the plasticity window → spines), with the **human** parameter sets of
every link. This module only translates a virtual patient and a trial arm into that chain's
inputs (:func:`chain_inputs`) and reads the chain's output onto the study-day grid
(:class:`BiologyTrajectory`). What differs between patients enters the chain where the chain
has it:

============================  =================================================================
patient trait                 enters the chain as
============================  =================================================================
PK random effects             η on CL, V and ka drawn by the PK link itself
                              (:meth:`~psilosim.pharmacokinetics.Subject.with_random_effects`,
                              the compound's own ω) from the patient's ``pk_seed``
body weight                   the PK subject's weight (mg/kg doses, weight covariates)
5-HT2A density                ``Subject.ht2a_density``: scales 5-HT2A availability in the
                              binding link (activation, the intracellular route, the trip)
chronic SSRI not washed out   co-medication ``ssri`` of the binding link: RB8 down-regulation
                              of 5-HT2A and serotonin at the surface pool
stress history                a background (ongoing) stress intensity in the spine link, chosen
                              so that its rest state lacks the patient's spine deficit
                              (:func:`~psilosim.synapses.model.stress_for_deficit`)
plasticity responsiveness     multiplies the gains of every route to BDNF/TrkB signalling
                              (BDNF Val66Met-like differences in activity-dependent BDNF)
environment of the arm        the activity correlation during the window (experience hook of
                              the spine link) and, for a stressful setting, extra stress
mechanisms of the arm         the plasticity link's switchable routes
============================  =================================================================

The symptom model reads :class:`BiologyTrajectory`: the window, total and stable (persistent)
spine density and BDNF signalling on the study-day grid, and the peak acute ("trip") effect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import xarray as xr

from ..errors import InputError
from ..parameters import Param, ParameterSet
from ..regimen import Regimen
from ..units import HOURS_PER_DAY

Environment = Literal["supportive", "none", "stressful"]
#: Inert comparators: given on a regimen, but nothing reaches any receptor.
INERT_COMPOUNDS = ("placebo", "niacin")
#: Species of every virtual patient.
SPECIES = "human"
#: Region of the spine link read by the symptom model (the region the rodent data come from).
REGION = "PFC"
#: Series a trajectory carries on its day grid.
SERIES = ("window", "density_rel", "bdnf_rel", "stable_rel")


@dataclass(frozen=True)
class BiologyTrajectory:
    """Slow biological state of one patient on a study-day grid.

    Attributes
    ----------
    time_d
        Strictly increasing study days (0 = the baseline visit, before the first dose).
    window
        Plasticity window, 0 (closed) – 1 (fully open).
    density_rel
        Spine density relative to the healthy, unstressed level (1 = healthy).
    bdnf_rel
        BDNF/TrkB signalling relative to the untreated level (1 = untreated).
    stable_rel
        Persistent (stable) spines relative to the healthy level; defaults to ``density_rel``.
    acute_effect_peak
        Peak subjective "any drug effect" (0–1) of the patient's doses.
    drive
        The receptor drive (occupancy and acute effect over hours) that produced it, when known;
        the rewiring layer reads the acute 5-HT2A state from it.
    """

    time_d: np.ndarray
    window: np.ndarray
    density_rel: np.ndarray
    bdnf_rel: np.ndarray
    stable_rel: np.ndarray | None = None
    acute_effect_peak: float = 0.0
    drive: object | None = None

    def __post_init__(self) -> None:
        t = np.asarray(self.time_d, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError("biology.time_d", "must be a strictly increasing 1-D array of ≥ 2 days")
        object.__setattr__(self, "time_d", t)
        if self.stable_rel is None:
            object.__setattr__(self, "stable_rel", self.density_rel)
        for name in SERIES:
            a = np.asarray(getattr(self, name), dtype=float)
            if a.shape != t.shape or not np.all(np.isfinite(a)):
                raise InputError(f"biology.{name}", f"must be finite with shape {t.shape}, got {a.shape}")
            if name == "window" and (np.any(a < -1e-9) or np.any(a > 1 + 1e-9)):
                raise InputError("biology.window", "must lie between 0 and 1")
            if name != "window" and np.any(a <= 0):
                raise InputError(f"biology.{name}", "must be positive (a relative level)")
            object.__setattr__(self, name, a)
        if not 0.0 <= self.acute_effect_peak <= 1.0 + 1e-9:
            raise InputError("biology.acute_effect_peak", "must lie between 0 and 1")

    def at(self, days) -> dict[str, np.ndarray]:
        """Linear interpolation of every series at ``days``."""
        return {n: np.interp(days, self.time_d, getattr(self, n)) for n in SERIES}


class ClinicalBiologyParams(ParameterSet):
    """How a trial arm's setting enters the chain (everything else is the chain's own parameters)."""

    correlation_supportive: Param
    correlation_none: Param
    correlation_stressful: Param
    stressful_setting_stress: Param


DEFAULT_BIOLOGY = ClinicalBiologyParams(
    correlation_supportive=Param(
        value=0.8, unit="", kind="assumed",
        source="Carhart-Harris & Friston 2019 Pharmacol Rev 71:316 (REBUS); Nardou et al. 2023 Nature 618:790",
        note="activity correlation on the connections being reworked during the window (experience hook of the "
             "spine link) in a supportive, structured setting with integration: higher than ordinary life "
             "(social reward learning in Nardou needs the right context in the open window)", low=0.0, high=1.0),
    correlation_none=Param(
        value=0.5, unit="", kind="assumed", source="= spine link default_correlation (ordinary housing)",
        note="no particular setting: the synapse link's default correlation", low=0.0, high=1.0),
    correlation_stressful=Param(
        value=0.2, unit="", kind="assumed", source="assumed, see docs/clinical.md#one-causal-chain",
        note="a stressful setting drives threat/negative-affect circuits rather than the prefrontal connections "
             "that depression weakened; few of the new prefrontal spines are selected", low=0.0, high=1.0),
    stressful_setting_stress=Param(
        value=0.2, unit="", kind="assumed", source="Radley et al. 2006 Cereb Cortex 16:313 (stress removes spines)",
        note="extra stress intensity during the study in a stressful setting, ≈ the ongoing stress of a patient "
             "with a 16 % spine deficit (0.18), i.e. roughly doubling it", low=0.0),
)

_CORRELATION = {"supportive": "correlation_supportive", "none": "correlation_none",
                "stressful": "correlation_stressful"}


@dataclass(frozen=True)
class ArmTreatment:
    """One compound given on a regimen, starting at ``start_day`` of the study.

    ``compound`` is a library name (case-insensitive), an inert comparator
    (:data:`INERT_COMPOUNDS`), or a :class:`~psilosim.compounds.Compound` (e.g. a custom
    non-hallucinogenic analogue).
    """

    compound: Any
    regimen: Regimen
    start_day: float = 0.0

    def __post_init__(self) -> None:
        from ..compounds import Compound, get_compound

        if isinstance(self.compound, str):
            name = self.compound.strip().lower()
            if name not in INERT_COMPOUNDS:
                get_compound(name)  # raises InputError naming the known compounds
            object.__setattr__(self, "compound", name)
        elif not isinstance(self.compound, Compound):
            raise InputError("treatments.compound", f"expected a compound name or Compound, got {self.compound!r}")
        if not (np.isfinite(self.start_day) and self.start_day >= 0):
            raise InputError("treatments.start_day", f"must be ≥ 0, got {self.start_day}")

    @property
    def inert(self) -> bool:
        return isinstance(self.compound, str) and self.compound in INERT_COMPOUNDS

    @property
    def name(self) -> str:
        return self.compound if isinstance(self.compound, str) else self.compound.name.lower()

    def resolved(self):
        """The :class:`~psilosim.compounds.Compound` (``None`` for an inert comparator)."""
        from ..compounds import get_compound

        return None if self.inert else get_compound(self.compound)

    def shifted_regimen(self) -> Regimen:
        """The regimen with its first dose moved to ``start_day`` (study time 0 = baseline)."""
        return shift_regimen(self.regimen, self.start_day)


def shift_regimen(regimen: Regimen, days: float) -> Regimen:
    """``regimen`` starting ``days`` later (explicit phase starts move with it)."""
    if days == 0:
        return regimen
    hours = days * HOURS_PER_DAY
    phases = []
    for i, phase in enumerate(regimen.phases):
        data = phase.model_dump(exclude_none=True)
        if phase.start is not None:
            data["start"] = f"{phase.start_h + hours} h"
        elif i == 0:
            data["start"] = f"{hours} h"
        phases.append(data)
    return Regimen.build(route=regimen.route.value, phases=phases)


def chain_inputs(treatments: list[ArmTreatment], patient, *,
                 environment: Environment = "supportive", mechanisms=None,
                 params: ClinicalBiologyParams = DEFAULT_BIOLOGY,
                 plasticity=None, interactions: dict[str, bool] | None = None) -> dict[str, Any]:
    """Keyword arguments of :func:`~psilosim.synapses.simulate_slow_chain` for one patient and arm.

    ``treatments`` becomes the chain's ``(Compound, Regimen)`` pairs (inert comparators dropped,
    start days folded into the regimens); see the module docstring for the patient's traits.
    ``plasticity`` replaces the human plasticity parameter set (used by the calibration);
    ``interactions`` switches drug interactions off by name (the arm's ``interactions``).
    """
    from ..plasticity import plasticity_params
    from ..synapses import spine_params
    from ..synapses.model import StressInput, stress_for_deficit

    compounds, pairs = {}, []
    for tr in treatments:
        comp = tr.resolved()
        if comp is None:
            continue
        compounds[comp.name.lower()] = comp
        pairs.append((comp, tr.shifted_regimen()))
    subject = patient_subject(patient, list(compounds.values()), interactions=interactions)
    spines = spine_params(SPECIES)
    plast = responsive_plasticity(plasticity or plasticity_params(SPECIES), patient.plasticity_responsiveness)
    background = stress_for_deficit(patient.stress_deficit, spines)
    stress = None
    if environment == "stressful":
        stress = StressInput(start_d=0.0, duration_d=_FOREVER_D, intensity=params.stressful_setting_stress.value)
    return {"treatments": pairs, "species": SPECIES, "subject": subject, "background_stress": background,
            "stress": stress, "experience": {REGION: getattr(params, _CORRELATION[environment]).value},
            "regions": (REGION,), "mechanisms": mechanisms, "plasticity_params": plast, "spine_params": spines}


#: A stress block that lasts beyond any study (numerical stand-in for "until the end").
_FOREVER_D = 1e6


def patient_subject(patient, compounds, *, interactions: dict[str, bool] | None = None):
    """The binding link's subject for ``patient`` with PK random effects for ``compounds`` (and
    the drug interactions ``interactions`` switches off, default all on)."""
    from ..pharmacokinetics import Subject

    subject = Subject(species=SPECIES, weight_kg=patient.body_weight_kg,
                      comedication=("ssri",) if patient.ssri_blunted else (),
                      ht2a_density=patient.receptor_density, interactions=interactions or {})
    return subject.with_random_effects(compounds, seed=patient.pk_seed) if compounds else subject


def responsive_plasticity(params, responsiveness: float):
    """The plasticity parameter set with every route gain multiplied by ``responsiveness``."""
    if responsiveness == 1.0:
        return params
    gains = ("gain_intracellular_5ht2a", "gain_trkb_direct", "gain_nmda_blockade", "gain_ssri_transcription")
    return params.replace(**{g: getattr(params, g).value * responsiveness for g in gains})


def patient_drive(treatments: list[ArmTreatment], patient, days: float, *, inputs: dict | None = None,
                  check_doses: bool = True, interactions: dict[str, bool] | None = None):
    """The receptor drive (link 3 output) of ``patient`` under ``treatments`` over ``days``.

    ``inputs`` reuses a :func:`chain_inputs` result (the drive depends only on its
    ``treatments`` and ``subject``). ``check_doses=False`` skips the studied-dose check for this
    patient (a trial checks each arm once, :func:`psilosim.clinical.trial.check_arm_doses`).
    """
    from ..plasticity import Drive
    from ..synapses.chain import acute_drive

    kw = inputs or chain_inputs(treatments, patient, interactions=interactions)
    if not kw["treatments"]:
        return Drive.none()
    return acute_drive(kw["treatments"], species=SPECIES, days=days, subject=kw["subject"], check_doses=check_doses)


def patient_biology(treatments: list[ArmTreatment], patient, time_d: np.ndarray, *,
                    environment: Environment = "supportive", mechanisms=None,
                    params: ClinicalBiologyParams = DEFAULT_BIOLOGY, drive=None,
                    plasticity=None, check_doses: bool = True,
                    interactions: dict[str, bool] | None = None) -> BiologyTrajectory:
    """Run links 1–5 for one patient and read them onto the study-day grid ``time_d``.

    Parameters
    ----------
    treatments
        :class:`ArmTreatment` objects of the patient's arm.
    patient
        A :class:`~psilosim.clinical.patients.VirtualPatient`.
    time_d
        Study-day grid starting at 0.
    environment, mechanisms, interactions
        The arm's setting, the plasticity routes that are on and the drug interactions it
        switches off (``None``: all on).
    params
        :class:`ClinicalBiologyParams`.
    drive
        A precomputed :func:`patient_drive` (the acute solution does not depend on the cellular
        parameters, so calibrations reuse it).
    plasticity
        A human plasticity parameter set replacing the default (calibration only).
    check_doses
        Compare the doses with the compounds' largest studied doses (as
        :func:`~psilosim.binding.simulate_acute`); ``False`` when the caller has checked them.

    Returns
    -------
    BiologyTrajectory
    """
    from ..synapses import simulate_slow_chain

    time_d = np.asarray(time_d, dtype=float)
    days = float(time_d[-1])
    kw = chain_inputs(treatments, patient, environment=environment, mechanisms=mechanisms, params=params,
                      plasticity=plasticity, interactions=interactions)
    if drive is None:
        drive = patient_drive(treatments, patient, days, inputs=kw, check_doses=check_doses)
    kw["treatments"] = drive
    ds = simulate_slow_chain(days=days, **kw)
    bio = from_dataset(ds, time_d=time_d, spines=kw["spine_params"],
                       acute_effect_peak=float(np.max(drive.effect_or_zero())))
    return replace(bio, drive=drive)


def from_dataset(ds: xr.Dataset, *, time_d: np.ndarray | None = None, spines=None,
                 acute_effect_peak: float = 0.0) -> BiologyTrajectory:
    """A trajectory from the slow chain's Dataset, interpolated onto ``time_d`` (default: its own days ≥ 0).

    Region-resolved series are read in :data:`REGION` when present, else averaged over regions.
    ``stable_rel`` is the persistent pool relative to its healthy level ``1 − labile_fraction``.
    """
    missing = [n for n in ("window", "density_rel", "bdnf_rel") if n not in ds]
    if "time_d" not in ds.coords or missing:
        raise InputError("biology", f"slow-chain result lacks time_d or {missing}")
    t = ds["time_d"].values
    time_d = t[t >= 0] if time_d is None else np.asarray(time_d, dtype=float)
    if time_d[0] < t[0] - 1e-9 or time_d[-1] > t[-1] + 1e-9:
        raise InputError("biology.time_d", f"grid {time_d[0]:g}–{time_d[-1]:g} d outside the chain's {t[0]:g}–{t[-1]:g} d")

    def series(name: str) -> np.ndarray:
        da = ds[name]
        if "region" in da.dims:
            da = da.sel(region=REGION) if REGION in da["region"].values else da.mean("region")
        return np.interp(time_d, t, da.values)

    stable = None
    if "persistent" in ds:
        from ..synapses import spine_params

        p = spines or spine_params(ds.attrs.get("species", SPECIES))
        stable = series("persistent") / (1.0 - p.labile_fraction.value)
    return BiologyTrajectory(time_d, np.clip(series("window"), 0, 1), series("density_rel"), series("bdnf_rel"),
                             stable_rel=stable, acute_effect_peak=min(1.0, acute_effect_peak))
