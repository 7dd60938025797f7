"""Symptom model: from the biological state to a score on a rating scale.

Latent severity ``S`` (in the trial scale's points) relaxes towards a target set by the
patient's baseline severity ``S0`` and a fractional improvement ``I(t)``::

    I(t)   = w_c·C(t) + w_ther·L(t) + w_pl·E·(1 − exp(−t/τ_pl)) + w_net·N(t)
    C(t)   = W(t) + (1 − W(t))·R(t)                           circuit repair: induced by the window,
                                                              maintained by persistent spines
    R(t)   = (σ(t) − σ0) / (1 − σ0)                           repaired share of the stable-spine deficit
    dL/dt  = k_T·(1 + g_TW·W(t))·(u − L)                      learning from therapy/experience
    u      = m_env · (1 if therapy else u_off)                 what the experience teaches
    dS/dt  = (S0·(1 − I(t)) − S) / τ_S
    score  = round(clip(S + F(t) + ε, scale range)),  ε ~ N(0, σ_scale²)

where ``F`` is the patient's own fluctuation of severity (life events, an Ornstein–Uhlenbeck
process with SD ``f·S0`` and correlation time ``τ_F``, starting at 0 at baseline).

* ``C`` is the circuit term, one form consistent with REFERENCES SP6 (Moda-Sava et al. 2019
  Science 364:eaat8078: ketamine's behavioural effect comes *before* its new spines, and the new
  spines are needed to *maintain* it, not to induce it). While the plasticity window ``W`` is
  open the circuit's function is restored (the rapid improvement); what remains when it closes is
  the share carried by *persistent* spines regained against the patient's own untreated level
  ``σ0`` (``R``; the spine link's stable pool, healthy = 1). ``W + (1 − W)·R`` combines the two
  as a probabilistic union: it saturates instead of adding, and it is symmetric in ``W`` and
  ``R``; the induce/maintain order comes from their time courses (the window opens within hours,
  persistent spines accumulate over days and outlast it), not from the formula. That a fully open
  window alone restores full circuit function is an assumption. Transient spines do not count: new spines carry synapses only once they
  persist (Knott et al. 2006 Nat Neurosci 9:1117; Holtmaat et al. 2005 Neuron 45:279). Psilocybin
  opens a window for weeks and its new spines are kept (durable benefit), ketamine's window closes
  within days with few persistent spines (rapid and fading, CL4), an SSRI regains persistent
  spines over weeks of transcriptional BDNF (gradual): the time courses come from the chain, not
  from a per-arm constant. One weight ``w_c``: a fully open window and a fully repaired deficit are
  assumed to restore the same circuit function.
* ``L`` is the psychotherapy term: learning is faster while the window is open (``g_TW``) and its
  sign follows the environment: supportive (+1), none (``m_none``), stressful (negative).
* the expectancy/placebo term scales with the patient's expectancy ``E`` (arm blinding included).
* ``N`` is the network hook (part B: change of network rigidity); **not used** by default.

Parameters fitted by :mod:`psilosim.clinical.calibration` carry ``kind="fitted"`` and name the
target ids in their note.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..parameters import Param, ParameterSet
from .biology import BiologyTrajectory, Environment
from .scales import Scale

#: Smallest stable-spine deficit a repaired share is taken of; below it a patient counts as having
#: no deficit (numerical guard against 0/0, not a model constant).
MIN_DEFICIT = 1e-6
#: Signature of the part-B hook: (patient, biology) -> network term N(t) on biology.time_d,
#: a fractional reduction of network rigidity (0 = baseline rigidity).
NetworkRigidityHook = Callable[[object, BiologyTrajectory], np.ndarray]


class SymptomParams(ParameterSet):
    """Parameters of the symptom model (see module docstring)."""

    weight_circuit: Param
    weight_therapy: Param
    weight_placebo: Param
    weight_network: Param
    therapy_rate: Param
    therapy_window_gain: Param
    therapy_off_level: Param
    environment_none_level: Param
    environment_stressful_level: Param
    placebo_tau: Param
    severity_tau: Param
    fluctuation_sd: Param
    fluctuation_tau: Param
    noise_qids: Param
    noise_madrs: Param
    noise_bdi2: Param
    noise_hrsd: Param


DEFAULT_SYMPTOMS = SymptomParams(
    weight_circuit=Param(value=0.2319, unit="", source="fitted by psilosim.clinical.calibration.fit (n=200 twins, seed 7)",
                         kind="fitted", note="CL4: ketamine − saline Hedges g −1.0 of the day-1 change (Kishimoto et "
                         "al. 2016), pooled SD of the rated change; CL1.psilocybin is then a check, not a fit",
                         low=0.0, high=1.0),
    weight_therapy=Param(value=0.15, unit="", source="psychological support in all arms", kind="assumed",
                         note="ceiling of the improvement learnt through therapy", low=0.0, high=1.0),
    weight_placebo=Param(value=0.15, unit="", source="placebo arms of antidepressant trials", kind="assumed",
                         note="≈ 15 % of baseline at full expectancy; cross-checked, not fitted, against Goodwin 2022 "
                              "1 mg (−5.4/32.5 MADRS at week 3) and Raison 2023 niacin (−6.8/35 at day 43)",
                         low=0.0, high=1.0),
    weight_network=Param(value=0.0, unit="", source="assumed off: hook for the rewiring layer's network term", kind="assumed",
                         note="network rigidity term not used until the rewiring layer supplies it"),
    therapy_rate=Param(value=1.0 / 42.0, unit="1/day", source="course of psychotherapy over months", kind="assumed",
                       note="learning time constant of ≈ 6 weeks without an open window"),
    therapy_window_gain=Param(value=8.0, unit="", source="window-accelerated learning", kind="assumed",
                              note="an open window multiplies the learning rate by up to 9 (critical-period "
                                   "reopening, SP7, as the reason therapy matters most during the window)"),
    therapy_off_level=Param(value=0.3, unit="", source="everyday experience without integration therapy", kind="assumed",
                            note="share of the window's learning kept without integration therapy: everyday "
                                 "experience still structures it, less than therapy does; no trial isolates it"),
    environment_none_level=Param(value=0.5, unit="", source="no supportive setting", kind="assumed",
                                 note="a neutral setting halfway between a supportive one (1) and none of its "
                                      "benefit (0); no trial varies the setting alone"),
    environment_stressful_level=Param(value=-0.5, unit="", source="stressful setting teaches threat", kind="assumed",
                                      note="negative: what is learnt during the window worsens symptoms"),
    placebo_tau=Param(value=7.0, unit="day", source="placebo response builds over the first weeks", kind="assumed",
                      note="time constant of the expectancy term: most of a placebo arm's change is reached "
                           "within 2–3 weeks (order of magnitude, not fitted)"),
    severity_tau=Param(value=0.5, unit="day", source="mood follows the circuit state within a day", kind="assumed",
                       note="short so ketamine can act by 24 h (CL4); makes psilocybin act by day 1–2 too "
                            "(Goodwin 2022: separation from day 2; Raison 2023: none at day 2) — see docs/clinical.md"),
    fluctuation_sd=Param(value=0.2, unit="", source="week-to-week course of depressive severity", kind="assumed",
                         note="fraction of baseline severity; brings the SD of the week-6 change towards the "
                              "≈ 5.4 QIDS points implied by CL1 (SE 1.0, n ≈ 30)"),
    fluctuation_tau=Param(value=14.0, unit="day", source="autocorrelation of severity between weekly ratings",
                          kind="assumed", note="weekly ratings of one patient are correlated over a few weeks; "
                                                "order of magnitude, not fitted"),
    noise_qids=Param(value=1.5, unit="", source="QIDS-SR-16 test–retest error", kind="assumed",
                     note="SD of one rating around the latent severity, scale points; order of the scale's "
                          "test–retest error, no specific reliability study"),
    noise_madrs=Param(value=3.0, unit="", source="MADRS inter-rater/test–retest error", kind="assumed",
                      note="SD of one rating, scale points (0–60 scale: twice the QIDS value); as noise_qids"),
    noise_bdi2=Param(value=3.5, unit="", source="BDI-II test–retest error", kind="assumed",
                     note="SD of one rating, scale points (0–63 scale); as noise_qids"),
    noise_hrsd=Param(value=2.0, unit="", source="HRSD-17 inter-rater error", kind="assumed",
                     note="SD of one rating, scale points (0–52 scale); as noise_qids"),
)


def measurement_noise_sd(scale: Scale, p: SymptomParams) -> float:
    """Measurement error SD of one scale, in its points."""
    return {"QIDS-SR-16": p.noise_qids, "MADRS": p.noise_madrs, "BDI-II": p.noise_bdi2,
            "HRSD-17": p.noise_hrsd}[scale.name].value


@dataclass(frozen=True)
class SymptomCourse:
    """Noise-free latent severity and its components on the biology grid."""

    time_d: np.ndarray
    latent: np.ndarray
    repaired: np.ndarray
    circuit: np.ndarray
    learning: np.ndarray
    placebo: np.ndarray
    network: np.ndarray


def _experience_level(therapy: bool, environment: Environment, p: SymptomParams) -> float:
    env = {"supportive": 1.0, "none": p.environment_none_level.value,
           "stressful": p.environment_stressful_level.value}[environment]
    return env * (1.0 if therapy else p.therapy_off_level.value)


def repaired_share(stable_rel: np.ndarray) -> np.ndarray:
    """``R``: share of the patient's own persistent-spine deficit regained (``stable_rel[0]`` = untreated).

    Negative when persistent spines are lost below the untreated level (a stressful setting).
    Normalised by each patient's own deficit, so a patient with a small deficit reaches ``R = 1``
    with a small gain; a patient without a deficit (``1 − stable_rel[0] < MIN_DEFICIT``) has
    nothing to repair and gets ``R = 0`` throughout.
    """
    stable = np.asarray(stable_rel, dtype=float)
    deficit = 1.0 - float(stable[0])
    if deficit < MIN_DEFICIT:
        return np.zeros_like(stable)
    return np.clip((stable - stable[0]) / deficit, -1.0, 1.0)


def circuit_repair(window: np.ndarray, repaired: np.ndarray) -> np.ndarray:
    """``C = W + (1 − W)·R``: induced by the open window, maintained by persistent spines (SP6).

    Parameters
    ----------
    window
        Open plasticity window ``W`` in [0, 1].
    repaired
        Repaired share ``R`` of the persistent-spine deficit, in [−1, 1].

    Returns
    -------
    numpy.ndarray
        ``C`` in [−1, 1]; equals ``R`` with the window closed and 1 with it fully open.
    """
    w = np.asarray(window, dtype=float)
    return w + (1.0 - w) * np.asarray(repaired, dtype=float)


def latent_course(biology: BiologyTrajectory, *, baseline: float, expectancy: float,
                  therapy: bool = True, environment: Environment = "supportive",
                  params: SymptomParams = DEFAULT_SYMPTOMS, network_term: np.ndarray | None = None,
                  ) -> SymptomCourse:
    """Latent severity over ``biology.time_d`` for one patient (noise-free).

    Parameters
    ----------
    biology
        The patient's slow biological state.
    baseline
        True baseline severity ``S0`` in scale points.
    expectancy
        Expectancy multiplier (patient × arm).
    therapy, environment
        Psychotherapy on/off and the setting during the window.
    params
        :class:`SymptomParams`.
    network_term
        Optional part-B term ``N(t)`` on ``biology.time_d`` (fractional reduction of rigidity).
    """
    p = params
    t = biology.time_d
    repaired = repaired_share(biology.stable_rel)
    placebo = expectancy * (1.0 - np.exp(-t / p.placebo_tau.to("day")))
    net = np.zeros_like(t) if network_term is None else np.asarray(network_term, dtype=float)
    u = _experience_level(therapy, environment, p)
    k_t, g_tw, tau_s = p.therapy_rate.to("1/day"), p.therapy_window_gain.value, p.severity_tau.to("day")
    circuit = circuit_repair(biology.window, repaired)
    w_c, w_ther, w_pl, w_net = (p.weight_circuit.value, p.weight_therapy.value, p.weight_placebo.value,
                                p.weight_network.value)
    learning = np.zeros_like(t)
    latent = np.empty_like(t)
    latent[0] = baseline
    s, lvl = baseline, 0.0
    window = biology.window
    for i in range(1, t.size):
        dt = t[i] - t[i - 1]
        rate = k_t * (1.0 + g_tw * window[i - 1])
        lvl = u + (lvl - u) * math.exp(-rate * dt)
        learning[i] = lvl
        improvement = w_c * circuit[i] + w_ther * lvl + w_pl * placebo[i] + w_net * net[i]
        target = max(0.0, baseline * (1.0 - improvement))
        s = target + (s - target) * math.exp(-dt / tau_s)
        latent[i] = s
    return SymptomCourse(t, latent, repaired, circuit, learning, placebo, net)


def fluctuation(visit_days, baseline: float, rng: np.random.Generator,
                *, params: SymptomParams = DEFAULT_SYMPTOMS) -> np.ndarray:
    """The patient's own severity fluctuation ``F`` at ``visit_days`` (exact OU sampling, F(0) = 0)."""
    days = np.asarray(visit_days, dtype=float)
    sd, tau = params.fluctuation_sd.value * baseline, params.fluctuation_tau.to("day")
    out = np.zeros_like(days)
    for i in range(1, days.size):
        decay = math.exp(-(days[i] - days[i - 1]) / tau)
        out[i] = out[i - 1] * decay + sd * math.sqrt(1.0 - decay * decay) * rng.normal()
    return out


def rated_change_noise_variance(baselines, day: float, scale: Scale,
                                *, params: SymptomParams = DEFAULT_SYMPTOMS) -> float:
    """Variance a *rated* change from day 0 to ``day`` adds to the latent change (scale points²).

    The patient's fluctuation ``F`` starts at 0 (:func:`fluctuation`), so by ``day`` it has the
    variance ``(f·S0)² (1 − e^(−2·day/τ_F))`` (an Ornstein–Uhlenbeck process), averaged over the
    patients' baselines ``S0``; each of the two ratings adds its error variance. (Rounding to
    whole points adds 1/12 per rating, ignored.)
    """
    base = np.asarray(baselines, dtype=float)
    growth = 1.0 - math.exp(-2.0 * day / params.fluctuation_tau.to("day"))
    fluct = float(np.mean((params.fluctuation_sd.value * base) ** 2)) * growth
    return fluct + 2.0 * measurement_noise_sd(scale, params) ** 2


def observed_scores(course: SymptomCourse, visit_days, scale: Scale, rng: np.random.Generator,
                    *, params: SymptomParams = DEFAULT_SYMPTOMS) -> np.ndarray:
    """Integer scale scores at ``visit_days``: latent severity + fluctuation + measurement error, clipped.

    ``visit_days[0]`` must be the baseline (day 0).
    """
    days = np.asarray(visit_days, dtype=float)
    latent = np.interp(days, course.time_d, course.latent)
    drift = fluctuation(days, float(course.latent[0]), rng, params=params)
    noisy = latent + drift + rng.normal(0.0, measurement_noise_sd(scale, params), size=latent.shape)
    return scale.clip(np.rint(noisy))
