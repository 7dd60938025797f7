"""Default settings of the network metrics, each with its source.

These are analysis settings rather than physiological constants, but they change every number
the metrics report, so they carry a unit and a citation like any model parameter.
"""

from __future__ import annotations

from ..parameters import Param, ParameterSet

BASSETT_2011 = "Bassett et al. 2011 PNAS 108:7641 (main analysis: omega = 1, gamma = 1)"


class MetricsParameters(ParameterSet):
    """Settings of :func:`psilosim.metrics.analyze`."""

    window_s: Param
    step_s: Param
    omega: Param
    gamma: Param
    resolution: Param
    consensus_threshold: Param
    n_runs_static: Param
    n_runs_multilayer: Param


DEFAULT_METRICS = MetricsParameters(
    window_s=Param(
        value=60.0, unit="s", source="Hansen et al. 2015 NeuroImage 105:525 (FCD windows of 30 TR × 2 s)",
        kind="assumed", low=1.0,
        note="common FCD window; shorter windows inflate spurious FC fluctuations "
             "(Leonardi & Van De Ville 2015 NeuroImage 104:430)",
    ),
    step_s=Param(value=20.0, unit="s", source="psilosim issue 5 default", kind="assumed", low=0.0,
                 low_inclusive=False,
                 note="one third of a window: neighbouring windows overlap by two thirds"),
    omega=Param(value=1.0, unit="", source=BASSETT_2011, kind="published", low=0.0,
                note="interslice coupling of Mucha et al. 2010 Science 328:876"),
    gamma=Param(value=1.0, unit="", source=BASSETT_2011, kind="published", low=0.0,
                note="structural resolution of the multislice null model"),
    resolution=Param(value=1.0, unit="", source="Newman 2006 PNAS 103:8577 (standard modularity)",
                     kind="published", low=0.0),
    consensus_threshold=Param(
        value=0.5, unit="", source="Lancichinetti & Fortunato 2012 Sci Rep 2:336", kind="assumed",
        low=0.0, high=1.0,
        note="co-assignment frequencies below tau are dropped before re-clustering; results "
             "were insensitive to tau in 0.3-0.7 in that paper's benchmarks",
    ),
    n_runs_static=Param(value=20, unit="", source="psilosim (speed/stability trade-off)", kind="assumed",
                        low=1, note="Leiden runs on static FC before the consensus; on 80-100 "
                        "regions their Q spread is < 0.005"),
    n_runs_multilayer=Param(
        value=8, unit="", source="psilosim (speed/stability trade-off)", kind="assumed", low=1,
        note="multilayer optimisations whose flexibilities are averaged (Bassett 2011 used 100). On the five "
             "AAL2 subjects the mean flexibility of 8 runs (seed 0) is within 0.004 of a 100-run average, and "
             "any 8 of the 100 runs within 0.009 of it (one run's SD 0.007-0.009; docs/metrics.md)",
    ),
)
