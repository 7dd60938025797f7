"""Network metrics on simulated and real parcellated BOLD (link 7 of the causal chain).

Static and sliding-window FC, FCD, DMN and per-network FC, modularity with consensus
communities, participation and integration, multilayer network flexibility, and
desynchronisation between two conditions. :func:`analyze` and :func:`compare` are the entry
points; definitions and citations are in each module's docstring and in ``docs/metrics.md``.
"""

from .analysis import SCALARS, analyze, compare, compare_summary, summary
from .desync import fc_change
from .fc import fcd, fcd_ks_distance, fcd_matrix, fisher, sliding_window_fc, static_fc
from .flexibility import flexibility_of, multilayer_flexibility, multilayer_partitions
from .modularity import (
    Communities,
    detect_communities,
    integration_summary,
    modularity_q,
    participation,
    system_segregation,
)
from .networks import dmn_fc, hippocampus_dmn_fc, network_fc, network_matrix
from .params import DEFAULT_METRICS, MetricsParameters

__all__ = [
    "DEFAULT_METRICS", "SCALARS", "Communities", "MetricsParameters", "analyze", "compare",
    "compare_summary", "detect_communities", "dmn_fc", "fc_change", "fcd", "fcd_ks_distance",
    "fcd_matrix", "fisher", "flexibility_of", "hippocampus_dmn_fc", "integration_summary",
    "modularity_q", "multilayer_flexibility", "multilayer_partitions", "network_fc",
    "network_matrix", "participation", "sliding_window_fc", "static_fc", "summary",
    "system_segregation",
]
