"""Link 8 of the causal chain: virtual patients, symptom model and rating scales, virtual trials.

Modules: :mod:`.scales` (QIDS-SR-16, MADRS, BDI-II, HRSD-17 and conversions), :mod:`.patients`
(virtual patients and screening), :mod:`.biology` (links 1–5 of the chain run for each patient:
the slow state a symptom model reads), :mod:`.symptoms` (latent severity → scale scores), :mod:`.design` and
:mod:`.presets` (trials as data), :mod:`.trial` (the Dask runner), :mod:`.stats` (trial
statistics), :mod:`.calibration` (what was fitted to what).
"""
