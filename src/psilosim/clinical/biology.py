"""The biological state a symptom model reads: window, spine density, BDNF, over study days.

:class:`BiologyTrajectory` is the typed interface between the slow chain (links 1–5) and the
clinical layer. Anything that produces one can drive the symptom model:

* :func:`reduced_chain` (default, built in): a per-patient *reduced* slow chain that is fast
  enough for trials of thousands of patients. It keeps the chain's causal order — dose → exposure
  (PK, with the patient's random effect) → receptor occupancy → plasticity window / slow BDNF →
  spine formation against a stress-raised elimination — but each link in closed form:

  - psilocybin (oral): psilocin Cmax = ``cmax_per_mg`` · dose · exposure (PK4); intracellular
    5-HT2A occupancy = Occmax·C/(C + EC50) (RB1/RB2) × the patient's receptor density (RB8
    blunting included); the window opens with a steep Hill function of that occupancy and closes
    exponentially with a time constant proportional to the acute-effect duration (SP7: window
    length scales with acute-effect duration; psilocybin ≈ 2 weeks).
  - ketamine (IV): NMDA blockade opens a window whose amplitude scales with dose per kg and
    whose length follows from ketamine's short acute effect (same SP7 scaling).
  - escitalopram (daily): the daily-average plasma concentration by superposition of doses
    (PK12: CL, F, t½) gives SERT occupancy (RB5); serotonin reaches only surface 5-HT2A (RB7), so
    there is no window; instead BDNF rises slowly, dB/dt = (1 + g·occ − B)/τ_B (issue 3: "SSRIs
    raise BDNF slowly over weeks").
  - spines (density relative to the healthy, unstressed level):
    dρ/dt = k·(1 + r·g_W·W + r·g_B·(B − 1)) − k/(1 − d)·(1 + s_env·W)·ρ, so the untreated patient sits
    at ρ = 1 − d (the stress deficit ``d``); a stressful setting raises elimination during the
    window (``s_env``); ``r`` is the patient's plasticity responsiveness.

* the full slow chain of issues 2–3 (``psilosim.synapses.simulate_slow_chain``), through
  :func:`from_dataset`, once it exists; it is much slower per patient.

Windows of several doses combine as independent fractions, W = 1 − Π(1 − W_j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr

from ..errors import InputError
from ..parameters import Param, ParameterSet
from ..regimen import Regimen

Environment = Literal["supportive", "none", "stressful"]
#: Compounds the reduced chain knows. "placebo" and "niacin" (active placebo) do nothing here.
REDUCED_CHAIN_COMPOUNDS = ("psilocybin", "escitalopram", "ketamine", "placebo", "niacin")
#: Unit conversion: 1 mg/L = 1000 ng/mL.
NG_PER_ML_PER_MG_PER_L = 1000.0


@dataclass(frozen=True)
class BiologyTrajectory:
    """Slow biological state of one patient on a study-day grid.

    Attributes
    ----------
    time_d
        Strictly increasing study days (0 = first dose).
    window
        Plasticity window, 0 (closed) – 1 (fully open).
    density_rel
        Spine density relative to the healthy, unstressed level (1 = healthy).
    bdnf_rel
        BDNF/TrkB signalling relative to the untreated level (1 = untreated).
    """

    time_d: np.ndarray
    window: np.ndarray
    density_rel: np.ndarray
    bdnf_rel: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.time_d, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError("biology.time_d", "must be a strictly increasing 1-D array of ≥ 2 days")
        object.__setattr__(self, "time_d", t)
        for name in ("window", "density_rel", "bdnf_rel"):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.shape != t.shape or not np.all(np.isfinite(a)):
                raise InputError(f"biology.{name}", f"must be finite with shape {t.shape}, got {a.shape}")
            if name == "window" and (np.any(a < -1e-9) or np.any(a > 1 + 1e-9)):
                raise InputError("biology.window", "must lie between 0 and 1")
            if name != "window" and np.any(a <= 0):
                raise InputError(f"biology.{name}", "must be positive (a relative level)")
            object.__setattr__(self, name, a)

    def at(self, days) -> dict[str, np.ndarray]:
        """Linear interpolation of every series at ``days``."""
        return {n: np.interp(days, self.time_d, getattr(self, n))
                for n in ("window", "density_rel", "bdnf_rel")}


def from_dataset(ds: xr.Dataset) -> BiologyTrajectory:
    """A trajectory from the slow chain's Dataset (``time_d``, ``window``, ``density_rel``, ``bdnf_rel``).

    Region-resolved densities are averaged over regions (prefrontal first when labelled).
    """
    missing = [n for n in ("window", "density_rel", "bdnf_rel") if n not in ds]
    if "time_d" not in ds.coords or missing:
        raise InputError("biology", f"slow-chain result lacks time_d or {missing}")

    def series(name: str) -> np.ndarray:
        da = ds[name]
        extra = [d for d in da.dims if d != "time_d"]
        return da.mean(extra).values if extra else da.values

    return BiologyTrajectory(ds["time_d"].values, np.clip(series("window"), 0, 1),
                             series("density_rel"), series("bdnf_rel"))


class ReducedChainParams(ParameterSet):
    """Parameters of :func:`reduced_chain` (see module docstring for the equations)."""

    psilocin_cmax_per_mg: Param
    ht2a_occmax: Param
    ht2a_ec50: Param
    window_occupancy_half: Param
    window_hill: Param
    psilocybin_window_days: Param
    window_closed_fraction: Param
    psilocybin_effect_duration: Param
    ketamine_effect_duration: Param
    ketamine_reference_dose: Param
    ketamine_window_amplitude: Param
    escitalopram_clearance: Param
    escitalopram_bioavailability: Param
    escitalopram_half_life: Param
    sert_occmax: Param
    sert_ec50: Param
    bdnf_ssri_gain: Param
    bdnf_tau: Param
    spine_turnover_rate: Param
    spine_window_formation_gain: Param
    spine_bdnf_formation_gain: Param
    stress_elimination_gain: Param


DEFAULT_REDUCED_CHAIN = ReducedChainParams(
    psilocin_cmax_per_mg=Param(value=0.70, unit="ng/mL/mg", source="Holze et al. 2023 Clin Pharmacol Ther 113:822 (REFERENCES PK4)",
                               kind="published", note="psilocin Cmax per mg oral psilocybin, 15–30 mg"),
    ht2a_occmax=Param(value=0.766, unit="", source="Madsen et al. 2019 Neuropsychopharmacology 44:1328 (REFERENCES RB2)",
                      kind="unverified", note="Occmax commonly cited from Madsen 2019"),
    ht2a_ec50=Param(value=1.97, unit="ng/mL", source="Madsen et al. 2019 (REFERENCES RB2)", kind="unverified",
                    note="EC50 of plasma psilocin for cortical 5-HT2A occupancy"),
    window_occupancy_half=Param(value=0.62, unit="", source="set by hand against CL3", kind="fitted",
                                note="CL3: occupancy at half-maximal opening, high enough that a 2 mg microdose "
                                     "(≈ 32 % occupancy) barely opens the window while 25 mg (≈ 69 %) does"),
    window_hill=Param(value=6.0, unit="", source="steep threshold of opening", kind="assumed",
                      note="sub-hallucinogenic exposures barely open the window (CL3); Goodwin 2022 10 mg is a prediction"),
    psilocybin_window_days=Param(value=14.0, unit="day", source="Nardou et al. 2023 Nature 618:790 (REFERENCES SP7, 2°)",
                                 kind="secondary", note="mouse critical-period window after psilocybin, taken for humans"),
    window_closed_fraction=Param(value=0.1, unit="", source="definition of 'closed'", kind="assumed",
                                 note="the window counts as closed at 10 % of its opening"),
    psilocybin_effect_duration=Param(value=5.5, unit="h", source="Holze et al. 2023 (REFERENCES PK10, 25 mg)",
                                     kind="published"),
    ketamine_effect_duration=Param(value=1.5, unit="h", source="dissociative effects of a 40-min 0.5 mg/kg infusion",
                                   kind="assumed", note="effects end within ~1 h of the end of infusion"),
    ketamine_reference_dose=Param(value=0.5, unit="mg/kg", source="standard antidepressant IV dose (Kishimoto et al. 2016 Psychol Med 46:1459)",
                                  kind="published"),
    ketamine_window_amplitude=Param(value=1.0, unit="", source="window opening at the reference dose", kind="assumed",
                                    note="NMDA blockade at 0.5 mg/kg opens the window fully; scales with dose per kg"),
    escitalopram_clearance=Param(value=31.0, unit="L/h", source="Søgaard et al. 2005 J Clin Pharmacol 45:1400 (REFERENCES PK12)",
                                 kind="published"),
    escitalopram_bioavailability=Param(value=0.8, unit="", source="Søgaard 2005; label (PK12)", kind="published"),
    escitalopram_half_life=Param(value=30.0, unit="h", source="Søgaard 2005 (PK12: 27–33 h)", kind="published"),
    sert_occmax=Param(value=0.85, unit="", source="Meyer et al. 2004 Am J Psychiatry 161:826 (REFERENCES RB5)",
                      kind="published", note="plateau of SERT occupancy"),
    sert_ec50=Param(value=0.67, unit="ng/mL", source="derived from RB5 and PK12", kind="derived",
                    note="80 % occupancy at the 10 mg/day steady-state average (F·dose/(CL·24 h) = 10.8 ng/mL)"),
    bdnf_ssri_gain=Param(value=0.5, unit="", source="BDNF rise under chronic SSRI", kind="assumed",
                         note="scale only: enters density through the product with spine_bdnf_formation_gain"),
    bdnf_tau=Param(value=21.0, unit="day", source="slow transcriptional BDNF rise over weeks (Nibuya et al. 1995 J Neurosci 15:7539, rat)",
                   kind="assumed", note="weeks-scale rise; the exact value is not measured in humans"),
    spine_turnover_rate=Param(value=1.0 / 45.0, unit="1/day", source="human prefrontal spine turnover", kind="assumed",
                              note="no human measurement; sets how fast treatment-gained spines relax back to the "
                                   "stressed set point (fade after one dose, Goodwin 2022 week 12 is a prediction)"),
    spine_window_formation_gain=Param(value=1.5, unit="", source="size of the spine gain after one dose", kind="assumed",
                                      note="formation multiplier per unit open window: one 25 mg dose regains ≈ 10 % "
                                           "density over the window (order of SP1's +10 % in mouse); CL1.psilocybin "
                                           "is then met through weight_biology"),
    spine_bdnf_formation_gain=Param(value=0.453, unit="", source="fitted by psilosim.clinical.calibration.fit (n=200, seed 7)",
                                    kind="fitted",
                                    note="formation multiplier per unit BDNF rise; fitted to CL1.escitalopram"),
    stress_elimination_gain=Param(value=1.0, unit="", source="stressful setting during the window", kind="assumed",
                                  note="elimination raised by (1 + gain·W) in a stressful environment (what-if)"),
)


@dataclass(frozen=True)
class ArmTreatment:
    """One compound given on a regimen, starting at ``start_day`` of the study."""

    compound: str
    regimen: Regimen
    start_day: float = 0.0

    def __post_init__(self) -> None:
        name = self.compound.strip().lower()
        if name not in REDUCED_CHAIN_COMPOUNDS:
            raise InputError("treatments.compound", f"unknown compound {self.compound!r}; the clinical "
                                                     f"layer knows {list(REDUCED_CHAIN_COMPOUNDS)}")
        object.__setattr__(self, "compound", name)
        if not (np.isfinite(self.start_day) and self.start_day >= 0):
            raise InputError("treatments.start_day", f"must be ≥ 0, got {self.start_day}")


def _hill(x: float, half: float, n: float) -> float:
    if x <= 0:
        return 0.0
    r = (x / half) ** n
    return r / (1.0 + r)


def _window_tau_d(effect_duration_h: float, p: ReducedChainParams) -> float:
    """Exponential closing time constant: window length ∝ acute-effect duration (SP7)."""
    days = p.psilocybin_window_days.to("day") * effect_duration_h / p.psilocybin_effect_duration.to("h")
    return days / math.log(1.0 / p.window_closed_fraction.value)


def _window_openings(treatments, patient, p: ReducedChainParams) -> list[tuple[float, float, float]]:
    """(start day, amplitude, closing time constant in days) of every dose that opens a window."""
    openings = []
    for tr in treatments:
        if tr.compound == "psilocybin":
            events = tr.regimen.events(patient.body_weight_kg)
            tau = _window_tau_d(p.psilocybin_effect_duration.to("h"), p)
            for t_h, mg in zip(events.time_h, events.amount_mg, strict=True):
                conc = p.psilocin_cmax_per_mg.value * mg * patient.psilocin_exposure
                occ = p.ht2a_occmax.value * conc / (conc + p.ht2a_ec50.to("ng/mL"))
                drive = min(1.0, occ * patient.receptor_density)
                amp = _hill(drive, p.window_occupancy_half.value, p.window_hill.value)
                openings.append((tr.start_day + t_h / 24.0, amp, tau))
        elif tr.compound == "ketamine":
            events = tr.regimen.events(patient.body_weight_kg)
            tau = _window_tau_d(p.ketamine_effect_duration.to("h"), p)
            for t_h, mg in zip(events.time_h, events.amount_mg, strict=True):
                rel = mg / patient.body_weight_kg * patient.ketamine_exposure / p.ketamine_reference_dose.to("mg/kg")
                openings.append((tr.start_day + t_h / 24.0, p.ketamine_window_amplitude.value * min(1.0, rel), tau))
    return openings


def window_series(treatments, patient, time_d: np.ndarray, p: ReducedChainParams = DEFAULT_REDUCED_CHAIN) -> np.ndarray:
    """The plasticity window on ``time_d`` (see module docstring)."""
    closed = np.ones_like(time_d)
    for start, amp, tau in _window_openings(treatments, patient, p):
        after = time_d >= start - 1e-9
        w = np.zeros_like(time_d)
        w[after] = amp * np.exp(-(time_d[after] - start) / tau)
        closed *= 1.0 - w
    return 1.0 - closed


def sert_occupancy_series(treatments, patient, time_d: np.ndarray,
                          p: ReducedChainParams = DEFAULT_REDUCED_CHAIN) -> np.ndarray:
    """SERT occupancy from the escitalopram concentration averaged over each dosing day."""
    k_per_d = math.log(2.0) / p.escitalopram_half_life.to("day")
    cl_l_per_d = p.escitalopram_clearance.to("L/day")
    conc = np.zeros_like(time_d)
    for tr in treatments:
        if tr.compound != "escitalopram":
            continue
        events = tr.regimen.events(patient.body_weight_kg)
        dose_days = tr.start_day + events.time_h / 24.0
        # a dose's exposure spread over the day it is given, then decaying (daily-average PK)
        for day, mg in zip(dose_days, events.amount_mg, strict=True):
            after = time_d >= day - 1e-9
            auc_ng_d_per_ml = p.escitalopram_bioavailability.value * mg * NG_PER_ML_PER_MG_PER_L / cl_l_per_d * patient.escitalopram_exposure
            conc[after] += auc_ng_d_per_ml * k_per_d * np.exp(-k_per_d * (time_d[after] - day))
    ec50 = p.sert_ec50.to("ng/mL")
    return p.sert_occmax.value * conc / (conc + ec50)


def reduced_chain(treatments, patient, time_d: np.ndarray, *, environment: Environment = "supportive",
                  params: ReducedChainParams = DEFAULT_REDUCED_CHAIN) -> BiologyTrajectory:
    """The reduced slow chain for one patient (see module docstring).

    Parameters
    ----------
    treatments
        :class:`ArmTreatment` objects of the patient's arm.
    patient
        A :class:`~psilosim.clinical.patients.VirtualPatient`.
    time_d
        Study-day grid, starting at 0 (the untreated steady state).
    environment
        ``"stressful"`` raises spine elimination while the window is open.
    params
        :class:`ReducedChainParams`.

    Returns
    -------
    BiologyTrajectory
    """
    p = params
    time_d = np.asarray(time_d, dtype=float)
    window = window_series(treatments, patient, time_d, p)
    sert = sert_occupancy_series(treatments, patient, time_d, p)
    k = p.spine_turnover_rate.to("1/day")
    deficit = patient.stress_deficit
    stress_gain = p.stress_elimination_gain.value if environment == "stressful" else 0.0
    tau_b = p.bdnf_tau.to("day")
    responsiveness = patient.plasticity_responsiveness
    g_w = p.spine_window_formation_gain.value * responsiveness
    g_b = p.spine_bdnf_formation_gain.value * responsiveness
    g_ssri = p.bdnf_ssri_gain.value
    bdnf = np.ones_like(time_d)
    rho = np.empty_like(time_d)
    rho[0] = 1.0 - deficit
    b = 1.0
    for i in range(1, time_d.size):
        dt = time_d[i] - time_d[i - 1]
        w, occ = window[i - 1], sert[i - 1]
        # exact step of the linear BDNF and density equations with inputs held over the step
        b_inf = 1.0 + g_ssri * occ
        b = b_inf + (b - b_inf) * math.exp(-dt / tau_b)
        formation = k * (1.0 + g_w * w + g_b * (b - 1.0))
        elimination = k / (1.0 - deficit) * (1.0 + stress_gain * w)
        rho_inf = formation / elimination
        rho[i] = rho_inf + (rho[i - 1] - rho_inf) * math.exp(-elimination * dt)
        bdnf[i] = b
    return BiologyTrajectory(time_d, window, rho, bdnf)


# --------------------------------------------------------------------------- the full slow chain
def _treatments_key(treatments) -> str:
    return "|".join(f"{t.compound}@{t.start_day}:{t.regimen.model_dump_json()}" for t in treatments)


_SLOW_CHAIN_CACHE: dict[tuple[str, float], xr.Dataset] = {}


def slow_chain_biology(treatments, patient, time_d: np.ndarray, environment: Environment = "supportive"
                       ) -> BiologyTrajectory:
    """Biology from the full slow chain of issues 2–3 (``psilosim.synapses.simulate_slow_chain``).

    Opt-in (``ModelSet(biology_fn=slow_chain_biology, label="slow_chain")``). The chain is run
    once per arm (human parameter set, typical subject) and cached; the patient enters through
    the stress deficit only (density scaled by ``1 − d``), so PK, receptor and responsiveness
    variability are **not** individualised on this path, and ``environment`` is ignored. The
    symptom weights were fitted on :func:`reduced_chain`; they must be refitted
    (:mod:`psilosim.clinical.calibration`) before this path is used for CL1–CL4.
    """
    from ..synapses import simulate_slow_chain

    time_d = np.asarray(time_d, dtype=float)
    if any(t.start_day for t in treatments):
        raise InputError("treatments.start_day", "the slow-chain path needs every treatment to start on day 0")
    key = (_treatments_key(treatments), float(time_d[-1]))
    if key not in _SLOW_CHAIN_CACHE:
        pairs = [(t.compound, t.regimen) for t in treatments if t.compound not in ("placebo", "niacin")]
        _SLOW_CHAIN_CACHE[key] = simulate_slow_chain(pairs, species="human", days=float(time_d[-1]))
    typical = from_dataset(_SLOW_CHAIN_CACHE[key].sel(time_d=slice(0, None)))
    at = typical.at(time_d)
    return BiologyTrajectory(time_d, np.clip(at["window"], 0, 1),
                             at["density_rel"] * (1.0 - patient.stress_deficit), at["bdnf_rel"])
