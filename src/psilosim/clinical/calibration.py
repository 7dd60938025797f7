"""Calibration of the symptom model on CL1 and CL4 (reproducible; run as a script).

Which parameter is fitted to which data:

=================================  ==========================================================
parameter                          target
=================================  ==========================================================
``SymptomParams.weight_window``    CL4 — ketamine vs saline at 24 h: standardised difference
                                   −1.0 (Hedges g at day 1, Kishimoto et al. 2016)
``SymptomParams.weight_biology``   CL1.psilocybin — QIDS-SR-16 change −8.0 at week 6
``ReducedChainParams.spine_bdnf_   CL1.escitalopram — QIDS-SR-16 change −6.0 at week 6
formation_gain``
``ReducedChainParams.window_       CL3 — set by hand (not a root find) so that a 2 mg
occupancy_half``                   microdose barely opens the window while 25 mg opens it
=================================  ==========================================================

Every fit uses *virtual twins*: each of ``n`` patients is simulated in every arm (same traits),
on the noise-free latent severity, so the Monte-Carlo error of a contrast is small. The fits are
solved one after the other with Brent's method and the sequence is repeated, because the window
weight also moves the psilocybin arm and the biology weight moves the others a little.

``python -m psilosim.clinical.calibration`` prints the fitted values; they are copied into the
defaults (``kind="fitted"``) by hand, so that the package does not refit at import time.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from .design import TrialDesign
from .presets import carhart2021, ketamine_iv
from .scales import get_scale
from .symptoms import measurement_noise_sd
from .trial import DEFAULT_MODELS, MEASURES, ModelSet, simulate_patient

LATENT = MEASURES.index("latent")
TARGET_CL1_PSILOCYBIN = -8.0
TARGET_CL1_ESCITALOPRAM = -6.0
TARGET_CL4_HEDGES_G = -1.0


def twin_latent(design: TrialDesign, models: ModelSet, n: int, seed: int, day: float) -> dict[str, np.ndarray]:
    """Latent severity at ``day`` minus baseline, per arm, for the same ``n`` patients in every arm."""
    v = design.visits.index(day)
    out = {}
    for k, arm in enumerate(design.arm_names):
        rows = [simulate_patient(design, i, seed, arm=k, models=models).visits[:, LATENT] for i in range(n)]
        table = np.array(rows)
        out[arm] = table[:, v] - table[:, 0]
    return out


def ketamine_effect_size(models: ModelSet, n: int, seed: int) -> float:
    """Standardised ketamine − saline difference at day 1 (latent change over score SD)."""
    design = ketamine_iv()
    change = twin_latent(design, models, n, seed, 1.0)
    v = design.visits.index(1.0)
    saline_day1 = np.array([simulate_patient(design, i, seed, arm=1, models=models).visits[v, LATENT]
                            for i in range(n)])
    sd = np.sqrt(saline_day1.var(ddof=1) + measurement_noise_sd(get_scale(design.scale), models.symptoms) ** 2)
    return float((change["ketamine"].mean() - change["saline"].mean()) / sd)


def carhart_changes(models: ModelSet, n: int, seed: int) -> dict[str, float]:
    """Mean week-6 latent change per arm of carhart2021."""
    return {arm: float(c.mean()) for arm, c in twin_latent(carhart2021(), models, n, seed, 42.0).items()}


def _with(models: ModelSet, *, symptoms=None, biology=None) -> ModelSet:
    return ModelSet(population=models.population, biology=biology or models.biology,
                    symptoms=symptoms or models.symptoms, biology_fn=models.biology_fn,
                    network_hook=models.network_hook, label=models.label)


def _fit_window_weight(models: ModelSet, n: int, seed: int) -> ModelSet:
    def gap(x: float) -> float:
        trial = _with(models, symptoms=models.symptoms.replace(weight_window=x))
        return ketamine_effect_size(trial, n, seed) - TARGET_CL4_HEDGES_G

    return _with(models, symptoms=models.symptoms.replace(weight_window=brentq(gap, 0.01, 1.0, xtol=1e-3)))


def _fit_biology_weight(models: ModelSet, n: int, seed: int) -> ModelSet:
    def gap(x: float) -> float:
        trial = _with(models, symptoms=models.symptoms.replace(weight_biology=x))
        return carhart_changes(trial, n, seed)["psilocybin"] - TARGET_CL1_PSILOCYBIN

    return _with(models, symptoms=models.symptoms.replace(weight_biology=brentq(gap, 0.0, 1.0, xtol=1e-3)))


def _fit_bdnf_gain(models: ModelSet, n: int, seed: int) -> ModelSet:
    def gap(x: float) -> float:
        trial = _with(models, biology=models.biology.replace(spine_bdnf_formation_gain=x))
        return carhart_changes(trial, n, seed)["escitalopram"] - TARGET_CL1_ESCITALOPRAM

    g_b = brentq(gap, 0.0, 5.0, xtol=1e-3)
    return _with(models, biology=models.biology.replace(spine_bdnf_formation_gain=g_b))


def fit(models: ModelSet = DEFAULT_MODELS, *, n: int = 200, seed: int = 7, rounds: int = 2) -> dict[str, float]:
    """Fit the three calibrated parameters (see module docstring) and return them with the targets met."""
    current = models
    for _ in range(rounds):
        current = _fit_window_weight(current, n, seed)
        current = _fit_biology_weight(current, n, seed)
        current = _fit_bdnf_gain(current, n, seed)
    achieved = carhart_changes(current, n, seed)
    return {"weight_window": current.symptoms.weight_window.value,
            "weight_biology": current.symptoms.weight_biology.value,
            "spine_bdnf_formation_gain": current.biology.spine_bdnf_formation_gain.value,
            "cl4_hedges_g": ketamine_effect_size(current, n, seed),
            "cl1_psilocybin": achieved["psilocybin"], "cl1_escitalopram": achieved["escitalopram"]}


if __name__ == "__main__":  # pragma: no cover - a calibration script
    import json

    print(json.dumps(fit(), indent=2))
