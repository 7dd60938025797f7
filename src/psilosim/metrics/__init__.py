"""Network metrics on simulated and real parcellated BOLD (link 7 of the causal chain).

Static and sliding-window FC, FCD, DMN and per-network FC, modularity with consensus
communities, participation and integration, multilayer network flexibility, and
desynchronisation between two conditions. :func:`analyze` and :func:`compare` are the entry
points; definitions and citations are in each module's docstring and in ``docs/metrics.md``.

Names are imported lazily (PEP 562): the submodules pull in scipy.stats, igraph, leidenalg and
numba kernels, which the command line should not pay for at start-up.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "analysis": ("SCALARS", "analyze", "compare", "compare_summary", "summary"),
    "desync": ("fc_change",),
    "fc": ("fcd", "fcd_ks_distance", "fcd_matrix", "fisher", "sliding_window_fc", "static_fc"),
    "flexibility": ("flexibility_of", "multilayer_flexibility", "multilayer_partitions"),
    "modularity": ("Communities", "detect_communities", "integration_summary", "modularity_q",
                   "participation", "system_segregation"),
    "networks": ("dmn_fc", "dmn_seed_mask", "hippocampus_dmn_fc", "network_fc", "network_matrix", "seed_pair_fc"),
    "params": ("DEFAULT_METRICS", "MetricsParameters"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
