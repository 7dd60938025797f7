"""Settings of the network link's sessions and fits, apart from the models.

They live in a module without numerical dependencies so that the command line can take its
defaults from them (``psilosim scan --minutes``, ``psilosim fit --points``) without loading the
simulation kernels at start-up. :mod:`.scan` and :mod:`.fit` re-export them.
"""

from __future__ import annotations

from ..parameters import Param, ParameterSet

#: Gain maps of a scan session (:func:`psilosim.network.scan.density_map`).
MAP_KINDS = ("receptor", "uniform", "shuffled", "variogram")


class FitParams(ParameterSet):
    """Settings of the G sweep and of the FC/FCD scores."""

    g_low: Param
    g_high: Param
    g_points: Param
    rate_tolerance: Param
    duration: Param
    warmup: Param
    tr: Param
    fcd_window: Param
    fcd_step: Param
    hopf_ratio_low: Param
    hopf_ratio_high: Param
    hopf_ratio_points: Param


FIT = FitParams(
    g_low=Param(value=0.4, unit="", source="psilosim numerical setting", kind="assumed",
                note="lowest effective coupling G·⟨Σ_j C_ij⟩ of the sweep (G times mean in-strength, "
                     "so one grid serves connectomes with different weight scales)"),
    g_high=Param(value=1.6, unit="", source="psilosim numerical setting", kind="assumed",
                 note="highest effective coupling; around 1.2–1.6 FIC can no longer hold 3 Hz"),
    rate_tolerance=Param(value=1.0, unit="Hz", source="psilosim numerical setting", kind="assumed",
                         note="a G counts only if FIC holds every region's mean rate within this "
                              "of the 3 Hz target (the working point the DMF is defined at)"),
    g_points=Param(value=9, unit="", source="psilosim numerical setting", kind="assumed", note="grid points"),
    duration=Param(value=600.0, unit="s", source="psilosim numerical setting", kind="assumed",
                   note="simulated BOLD per G (≈ the 710 s of the AAL2 recordings)"),
    warmup=Param(value=20.0, unit="s", source="psilosim numerical setting", kind="assumed", note="discarded transient"),
    tr=Param(value=2.0, unit="s", source="psilosim numerical setting", kind="assumed",
             note="BOLD sampling of the simulation; the dataset's TR when it has BOLD"),
    fcd_window=Param(value=60.0, unit="s", source="Deco et al. 2018 Curr Biol 28:3065 (30 TRs of 2 s)",
                     kind="published", note="sliding-window length for FCD"),
    fcd_step=Param(value=6.0, unit="s", source="psilosim numerical setting", kind="assumed",
                   note="window step for FCD (3 TRs)"),
    hopf_ratio_low=Param(value=0.01, unit="", source="psilosim numerical setting", kind="assumed",
                         note="lowest coupling-to-damping ratio G·⟨Σ_j C_ij⟩/|a| of the Hopf sweep "
                              "(FC ≈ the direct connections)"),
    hopf_ratio_high=Param(value=1000.0, unit="", source="psilosim numerical setting", kind="assumed",
                          note="highest ratio (FC dominated by the slowest Laplacian modes; diffusive "
                               "coupling never destabilises the network)"),
    hopf_ratio_points=Param(value=41, unit="", source="psilosim numerical setting", kind="assumed",
                            note="log-spaced ratios"),
)


class ScanParams(ParameterSet):
    """Defaults of a scan session."""

    minutes: Param
    warmup: Param
    tr: Param
    chunk: Param
    n_shuffles: Param
    sessions: Param
    at_hours: Param
    min_samples: Param
    occupancy_step: Param
    occupancy_padding: Param


SCAN = ScanParams(
    minutes=Param(value=10.0, unit="min", source="psilosim numerical setting", kind="assumed",
                  note="length of a resting-state run (Siegel et al. 2024 used 15-min runs)"),
    warmup=Param(value=20.0, unit="s", source="psilosim numerical setting", kind="assumed", note="discarded transient"),
    tr=Param(value=2.0, unit="s", source="psilosim numerical setting", kind="assumed", note="BOLD sampling interval"),
    chunk=Param(value=60.0, unit="s", source="psilosim numerical setting", kind="assumed",
                note="occupancy (hence gain) is updated once per chunk of the scan"),
    n_shuffles=Param(value=4, unit="", source="psilosim numerical setting", kind="assumed",
                     note="shuffled (and variogram-null) receptor maps simulated with --compare-maps"),
    sessions=Param(value=1, unit="", source="psilosim numerical setting", kind="assumed",
                   note="independent scans per condition averaged (Fisher z) into the condition's FC; "
                        "Siegel et al. 2024 averaged several 15-min runs per person and condition"),
    at_hours=Param(value=2.0, unit="h", source="Siegel et al. 2024 (scan during the acute effect)",
                   kind="assumed", note="scan start after the dose, near peak psilocin (REFERENCES PK2); "
                                        "the default of psilosim scan --at-hours"),
    min_samples=Param(value=3, unit="", source="psilosim numerical setting", kind="assumed",
                      note="fewest BOLD samples (TRs) a scan may have: with two, every Pearson "
                           "correlation is ±1, so FC needs at least three"),
    occupancy_step=Param(value=1.0, unit="min", source="psilosim numerical setting", kind="assumed",
                         note="grid of the occupancy series from the pharmacology chain; the gain is "
                              "interpolated on it (finer than the 1-min chunks is not needed)"),
    occupancy_padding=Param(value=15.0, unit="min", source="psilosim numerical setting", kind="assumed",
                            note="pharmacology simulated beyond the end of the scan, so that the "
                                 "series covers the window and one grid step after it"),
)


__all__ = ["FIT", "MAP_KINDS", "SCAN", "FitParams", "ScanParams"]
