"""Whole-brain network models (DMF, Hopf), Balloon–Windkessel BOLD, scan sessions and fitting.

The main entry points are re-exported here: sessions (:func:`scan_session`, :func:`linear_session`,
:func:`expected_fc_session`, :func:`acute_session`), fits (:func:`fit_dmf`, :func:`fit_hopf`)
and the models (:class:`DMFModel`, :class:`HopfModel`). Datasets come from
:func:`psilosim.connectome.load_dataset`. The DMF fit is exported as ``fit_dmf``: the name ``fit``
belongs to the submodule :mod:`psilosim.network.fit` (importing a submodule rebinds the package
attribute of its name, so a function of that name would be replaced by the module).

Names are imported lazily (PEP 562): the submodules pull in scipy and compile numba kernels,
which ``import psilosim.network`` (and the command line's start-up) should not pay for.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "scan": ("coupling_for", "expected_fc_session", "linear_session", "scan_session", "summarise"),
    "fit": ("FitResult", "fit_hopf"),
    "acute": ("ACUTE_STATES", "acute_session"),
    "dmf": ("DMF", "DMFModel", "FITTED_G"),
    "hopf": ("FITTED_HOPF", "HOPF", "HopfModel"),
}
#: Exported under another name than in their module: (module, name there).
_RENAMED = {"fit_dmf": ("fit", "fit")}
_WHERE = {name: (module, name) for module, names in _EXPORTS.items() for name in names} | _RENAMED

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, original = _WHERE[name]
    value = getattr(import_module(f".{module}", __name__), original)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
