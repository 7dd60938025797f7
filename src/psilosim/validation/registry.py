"""Registry of checks: one function per literature target that runs the model.

A check module (``checks_pharmacology.py``, ``checks_synapses.py``, ...) registers a function for
each target id it can compute::

    @check("PK1.25")
    def cmax_25mg() -> float:
        return simulate(...).cmax  # in the target's unit

A numeric check returns the simulated value in the target's unit; a qualitative check returns a
``bool`` (or a ``(bool, str)`` pair whose string says what was measured). :func:`run_scorecard`
runs every registered check and compares with the band.

Known conflicts
---------------
When the model, built from its mechanisms and cited parameters, honestly misses a target, the
miss is not tuned away: the check is registered with ``known_conflict="why, and where the docs
explain it"``. The target still counts as failed (``passed`` is ``False``) and the scorecard shows
the reason. ``psilosim validate`` exits 1 on any failure; ``--accept-known-conflicts`` (what CI
runs) exits 1 only on failures that are not documented conflicts, and also when a documented
conflict unexpectedly passes, so that its documentation is revisited.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from .targets import TARGETS, TARGETS_BY_ID, Target

CheckResult = float | bool | tuple[bool, str] | tuple[float, str]
CheckFn = Callable[[], CheckResult]

_CHECKS: dict[str, CheckFn] = {}
_KNOWN_CONFLICTS: dict[str, str] = {}

#: Check modules, in causal order. A module that does not exist yet is skipped; an error inside
#: one that exists is not hidden.
CHECK_MODULES = (
    "psilosim.validation.checks_pharmacology",
    "psilosim.validation.checks_synapses",
    "psilosim.validation.checks_network",
    "psilosim.validation.checks_metrics",
    "psilosim.validation.checks_clinical",
)


def check(target_id: str, *, known_conflict: str | None = None) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check of ``target_id`` (which must be in ``TARGETS``).

    ``known_conflict`` documents why the model is expected to miss this target (see the module
    docstring); it must name where the docs discuss it.
    """
    if target_id not in TARGETS_BY_ID:
        raise KeyError(f"no literature target {target_id!r} in psilosim.validation.targets")

    def register(fn: CheckFn) -> CheckFn:
        _CHECKS[target_id] = fn
        if known_conflict:
            _KNOWN_CONFLICTS[target_id] = known_conflict
        else:
            _KNOWN_CONFLICTS.pop(target_id, None)
        return fn

    return register


def load_checks() -> dict[str, CheckFn]:
    """Import every check module that exists and return the registry."""
    for name in CHECK_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return dict(_CHECKS)


class TargetResult(BaseModel):
    """The outcome of one target, in the ``psilosim validate --json`` shape."""

    model_config = ConfigDict(frozen=True)

    id: str
    quantity: str
    source: str
    published: str
    simulated: float | bool | None
    unit: str
    low: float | None
    high: float | None
    passed: bool | None  # None: not modelled yet
    flags: list[str]
    detail: str = ""
    known_conflict: str | None = None
    seconds: float = 0.0

    @property
    def simulated_text(self) -> str:
        """The simulated value as the scorecard prints it (3 significant figures, yes/no, —)."""
        return format_value(self.simulated)

    @property
    def band_text(self) -> str:
        """``[low, high]`` (an open side is printed —), or — for a qualitative target."""
        if self.low is None and self.high is None:
            return "—"
        return f"[{format_value(self.low)}, {format_value(self.high)}]"

    @property
    def flags_text(self) -> str:
        """Flags as printed: 2° for a secondary source."""
        return ", ".join("2°" if f == "secondary" else f for f in self.flags)

    @property
    def status(self) -> str:
        """``pass``, ``fail``, ``known conflict``, ``conflict passed`` or ``not modelled``."""
        if self.passed is None:
            return "not modelled"
        if self.known_conflict:
            return "conflict passed" if self.passed else "known conflict"
        return "pass" if self.passed else "fail"


def format_value(value: float | bool | None) -> str:
    """A scorecard number: 3 significant figures; yes/no for a qualitative result; — for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.3g}"


def evaluate(target: Target, fn: CheckFn | None) -> TargetResult:
    """Run one check and compare with the target's band."""
    base: dict[str, Any] = dict(
        id=target.id, quantity=target.quantity, source=target.source, published=target.published,
        unit=target.unit, low=target.low, high=target.high, flags=list(target.flags),
        known_conflict=_KNOWN_CONFLICTS.get(target.id),
    )
    if fn is None:
        return TargetResult(**base, simulated=None, passed=None, detail="not modelled yet")
    start = time.perf_counter()
    raw = fn()
    elapsed = time.perf_counter() - start
    detail = ""
    if isinstance(raw, tuple):
        raw, detail = raw
    if isinstance(raw, (bool,)) or target.qualitative:
        passed = bool(raw)
        return TargetResult(**base, simulated=bool(raw), passed=passed, detail=detail, seconds=elapsed)
    value = float(raw)
    passed = (
        math.isfinite(value)
        and (target.low is None or value >= target.low)
        and (target.high is None or value <= target.high)
    )
    return TargetResult(**base, simulated=value, passed=passed, detail=detail, seconds=elapsed)


#: How many close ids an unknown ``--only`` id suggests.
MAX_SUGGESTIONS = 6


def _families() -> list[str]:
    """The ids before their first dot (``PK1`` for ``PK1.15``), in REFERENCES order, each once."""
    return list(dict.fromkeys(t.id.split(".")[0] for t in TARGETS))


def resolve_target_ids(ids: Iterable[str]) -> list[str]:
    """The target ids selected by ``ids``, in REFERENCES order.

    An id selects the target of that id and, as a family, every target whose id starts with it
    followed by a dot: ``PK1`` selects ``PK1.15``, ``PK1.25``, ``PK1.30`` but not ``PK10.15``.

    Raises
    ------
    InputError
        On ``--only`` for an id that selects nothing; the message names the closest valid ids.
    """
    import difflib

    given = list(ids)
    selected = {t.id for t in TARGETS for g in given if t.id == g or t.id.startswith(f"{g}.")}
    unknown = [g for g in given if not any(t.id == g or t.id.startswith(f"{g}.") for t in TARGETS)]
    if unknown:
        from ..errors import InputError

        names = list(dict.fromkeys(_families() + [t.id for t in TARGETS]))
        by_upper = {n.upper(): n for n in names}
        close = list(dict.fromkeys(by_upper[m] for g in unknown for m in
                                   difflib.get_close_matches(g.upper(), list(by_upper), n=MAX_SUGGESTIONS, cutoff=0.5)))
        hint = (f"closest valid ids: {', '.join(close[:MAX_SUGGESTIONS])}; " if close else "")
        hint += f"valid ids (a family such as PK1 selects PK1.15, PK1.25, PK1.30): {', '.join(_families())}"
        raise InputError("--only", f"unknown target id(s) {', '.join(unknown)}; {hint}")
    return [t.id for t in TARGETS if t.id in selected]


def run_scorecard(*, ids: Iterable[str] | None = None, include_unmodelled: bool = True,
                  on_result: Callable[[TargetResult], None] | None = None) -> list[TargetResult]:
    """Evaluate the targets (all, or ``ids``) in REFERENCES order."""
    checks = load_checks()
    wanted = None if ids is None else set(resolve_target_ids(ids))
    results = []
    for target in TARGETS:
        if wanted is not None and target.id not in wanted:
            continue
        fn = checks.get(target.id)
        if fn is None and not include_unmodelled:
            continue
        result = evaluate(target, fn)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
