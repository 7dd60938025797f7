"""Link 8 of the causal chain: virtual patients, symptom model and rating scales, virtual trials.

Modules: :mod:`.scales` (QIDS-SR-16, MADRS, BDI-II, HRSD-17 and conversions), :mod:`.patients`
(virtual patients and screening), :mod:`.biology` (links 1–5 of the chain run for each patient:
the slow state a symptom model reads), :mod:`.symptoms` (latent severity → scale scores), :mod:`.design` and
:mod:`.presets` (trials as data), :mod:`.trial` (the Dask runner), :mod:`.identity` (what a run is
simulated with, :class:`ModelSet`, and its fingerprint), :mod:`.store` (a trial's output folder:
chunks, manifest, resume, results, provenance), :mod:`.stats` (trial statistics),
:mod:`.calibration` (what was fitted to what).

The main public API is re-exported here (``from psilosim.clinical import run_trial, get_preset``).
The names are resolved on first use, so ``import psilosim.clinical`` (or one light submodule such
as :mod:`.scales`) does not load the trial runner, SciPy statistics and the whole chain.
"""

from importlib import import_module

#: Public name → submodule that defines it.
_EXPORTS = {
    "ArmSpec": "design",
    "ImagingSpec": "design",
    "TreatmentSpec": "design",
    "TrialDesign": "design",
    "design_from_dict": "design",
    "load_design": "design",
    "BaselineSeverity": "patients",
    "VirtualPatient": "patients",
    "PRESETS": "presets",
    "get_preset": "presets",
    "get_scale": "scales",
    "convert": "scales",
    "arm_summary": "stats",
    "difference": "stats",
    "summarize": "stats",
    "DEFAULT_MODELS": "identity",
    "ModelSet": "identity",
    "run_trial": "trial",
    "simulate_patient": "trial",
    "TwinCohort": "calibration",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
