"""Figure of the scorecard: every target's acceptance band and where the simulated value lies.

Targets come in different units, so each numeric row is drawn on its own band's scale: the
position of a value is ``(value − low) / (high − low)``, which puts the band at [0, 1]. A
one-sided band (only ``low`` or only ``high``) has no width; its row is scaled by the size of its
one bound instead (:func:`band_position`) and the band is drawn open towards the side it does
not bound. Qualitative targets (a direction or a rank order) are listed in a panel of their own
as pass/fail symbols.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from ..binding.figures import add_footer  # noqa: E402
from .registry import TargetResult, format_value  # noqa: E402

#: Colour of each scorecard status (:attr:`TargetResult.status`).
STATUS_COLOURS = {
    "pass": "tab:green",
    "known conflict": "tab:orange",
    "fail": "tab:red",
    "conflict passed": "tab:purple",
    "not modelled": "lightgrey",
}
#: Legend names of the statuses (as the scorecard table prints them).
STATUS_LABELS = {
    "pass": "pass", "known conflict": "fail (known conflict)", "fail": "FAIL",
    "conflict passed": "pass (documented as a conflict!)", "not modelled": "not modelled",
}
#: Band-normalised x range drawn; a value beyond it sits at the edge as a triangle pointing out.
POSITION_LIMITS = (-1.0, 2.0)
#: Scale of a one-sided row when its bound is 0 (one unit of the target's own unit).
ONE_SIDED_UNIT_SCALE = 1.0
#: Height of one row (inches), and of the title, axis and footer around the rows.
ROW_HEIGHT_IN = 0.24
FRAME_HEIGHT_IN = 1.6
#: Width (inches) of the numeric panel and of the qualitative panel.
NUMERIC_WIDTH_IN = 8.0
QUALITATIVE_WIDTH_IN = 3.0
BAND_HEIGHT = 0.5
#: Markers: the simulated value inside the axis, beyond its left/right edge; qualitative results.
VALUE_MARKER, BELOW_MARKER, ABOVE_MARKER = "o", "<", ">"
QUAL_MARKERS = {True: "o", False: "X", None: "s"}


def is_qualitative(result: TargetResult) -> bool:
    """A direction or rank-order target: flagged qualitative, or with no band at all."""
    return "qualitative" in result.flags or (result.low is None and result.high is None)


def band_position(value: float, low: float | None, high: float | None) -> float:
    """Where ``value`` lies relative to the band: 0 at ``low``, 1 at ``high``.

    A one-sided band is scaled by the size of its bound (:data:`ONE_SIDED_UNIT_SCALE` when the
    bound is 0): with only ``low`` the position is ``(value − low) / |low|`` (band [0, ∞)); with
    only ``high`` it is ``1 + (value − high) / |high|`` (band (−∞, 1]).
    """
    if low is not None and high is not None:
        return (value - low) / (high - low)
    if low is not None:
        return (value - low) / (abs(low) or ONE_SIDED_UNIT_SCALE)
    if high is not None:
        return 1.0 + (value - high) / (abs(high) or ONE_SIDED_UNIT_SCALE)
    raise ValueError("a qualitative target has no band position")


def plot_scorecard(results: Sequence[TargetResult], *, title: str = "") -> plt.Figure:
    """The scorecard as a figure: numeric targets' bands and values, qualitative targets' verdicts.

    Parameters
    ----------
    results
        Scorecard rows (:func:`~psilosim.validation.run_scorecard`), drawn top to bottom in order.
    title
        Figure title; default: the counts of passed, known conflicts, failed and not modelled.

    Returns
    -------
    matplotlib.figure.Figure
        One panel ``"numeric"`` (y tick labels: the target ids; right-hand labels: the simulated
        value and unit) and, when there are qualitative targets, a panel ``"qualitative"``.
    """
    numeric = [r for r in results if not is_qualitative(r)]
    qualitative = [r for r in results if is_qualitative(r)]
    panels = [(kind, rows) for kind, rows in (("numeric", numeric), ("qualitative", qualitative)) if rows]
    n_rows = max([len(rows) for _, rows in panels], default=1)
    widths = [NUMERIC_WIDTH_IN if kind == "numeric" else QUALITATIVE_WIDTH_IN for kind, _ in panels] or [NUMERIC_WIDTH_IN]
    fig, axes = plt.subplots(1, len(widths), figsize=(sum(widths), FRAME_HEIGHT_IN + ROW_HEIGHT_IN * n_rows),
                             gridspec_kw={"width_ratios": widths}, constrained_layout=True, squeeze=False)
    for ax, (kind, rows) in zip(axes[0], panels, strict=False):
        (_draw_numeric if kind == "numeric" else _draw_qualitative)(ax, rows, n_rows)
        ax.set_label(kind)
    if not panels:
        axes[0][0].text(0.5, 0.5, "no targets selected", ha="center", va="center")
        axes[0][0].set_axis_off()
    _legend(fig, results)
    fig.suptitle(title or scorecard_title(results))
    add_footer(fig, DISCLAIMER)
    return fig


def scorecard_title(results: Sequence[TargetResult]) -> str:
    """``psilosim scorecard: 48 passed, 4 failed (4 known conflicts), 2 not modelled``, counted as
    ``psilosim validate`` counts them (a known conflict is a failure; a conflict that unexpectedly
    passed is a pass, though it makes the command fail)."""
    passed = sum(r.passed is True for r in results)
    failed = sum(r.passed is False for r in results)
    known = sum(r.status == "known conflict" for r in results)
    open_ = sum(r.passed is None for r in results)
    return (f"psilosim scorecard: {passed} passed, {failed} failed ({known} known conflicts), "
            f"{open_} not modelled")


def _draw_numeric(ax, rows: list[TargetResult], n_rows: int) -> None:
    lo_edge, hi_edge = POSITION_LIMITS
    for y, r in enumerate(rows):
        colour = STATUS_COLOURS[r.status]
        start = 0.0 if r.low is not None else lo_edge
        end = 1.0 if r.high is not None else hi_edge
        ax.barh(y, end - start, left=start, height=BAND_HEIGHT, color=colour, alpha=0.3,
                edgecolor=colour, linewidth=0.8, hatch=None if r.low is not None and r.high is not None else "//")
        if isinstance(r.simulated, float) and math.isfinite(r.simulated):
            x = band_position(r.simulated, r.low, r.high)
            marker = BELOW_MARKER if x < lo_edge else ABOVE_MARKER if x > hi_edge else VALUE_MARKER
            ax.plot([min(max(x, lo_edge), hi_edge)], [y], marker=marker, color=colour, markeredgecolor="black",
                    markeredgewidth=0.5, linestyle="none", markersize=6)
    ax.axvline(0.0, color="grey", lw=0.5, ls=":")
    ax.axvline(1.0, color="grey", lw=0.5, ls=":")
    _rows_axis(ax, [r.id for r in rows], n_rows, right=[_value_text(r) for r in rows])
    ax.set_xlim(lo_edge - 0.05, hi_edge + 0.05)
    ax.set_xlabel("position in the acceptance band (0 = low end, 1 = high end; hatched = one-sided)")
    ax.grid(axis="x", alpha=0.3)


def _draw_qualitative(ax, rows: list[TargetResult], n_rows: int) -> None:
    for y, r in enumerate(rows):
        passed = None if r.simulated is None else r.passed
        ax.plot([0.0], [y], marker=QUAL_MARKERS[passed], color=STATUS_COLOURS[r.status],
                markeredgecolor="black", markeredgewidth=0.5, linestyle="none", markersize=7)
        ax.text(0.15, y, STATUS_LABELS[r.status], va="center", fontsize=7)
    _rows_axis(ax, [r.id for r in rows], n_rows)
    ax.set_xlim(-0.3, 1.0)
    ax.set_xticks([])
    ax.set_xlabel("qualitative targets")


def _rows_axis(ax, labels: list[str], n_rows: int, right: list[str] | None = None) -> None:
    """Row labels top to bottom, with every panel's rows at the same pitch (aligned at the top)."""
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if right is not None:
        twin = ax.secondary_yaxis("right")
        twin.set_yticks(range(len(right)), right, fontsize=6)


def _value_text(r: TargetResult) -> str:
    return f"{format_value(r.simulated)} {r.unit}".strip() if r.simulated is not None else "not modelled"


def _legend(fig: plt.Figure, results: Sequence[TargetResult]) -> None:
    present = list(dict.fromkeys(r.status for r in results))
    handles = [Patch(facecolor=STATUS_COLOURS[s], alpha=0.6, label=STATUS_LABELS[s]) for s in STATUS_COLOURS
               if s in present]
    if any(not is_qualitative(r) and r.simulated is not None for r in results):
        handles.append(Line2D([], [], marker=VALUE_MARKER, color="grey", linestyle="none",
                              label="simulated value (◀ ▶ beyond the axis)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=7, frameon=False)
