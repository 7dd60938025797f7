"""Figures of the network-metrics link: one recording (``psilosim analyze``) and a pair (``compare``).

:func:`analysis_figure` draws what ``analyze`` prints: the static FC ordered by network, FC within
and between each network, flexibility per network, the participation of every region and the
scalar measures. :func:`comparison_figure` draws what ``compare`` prints: FC before and after on
one colour scale, their difference on a scale centred at zero, the change of every scalar measure
and the desynchronisation of each network. Both only draw results they are given (never
recompute them) and return the figure to the caller.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from .._labels import align_regions  # noqa: E402
from ..binding.figures import add_footer  # noqa: E402
from ..report.panels import fc_matrix_panel  # noqa: E402
from ._inputs import check_region_table  # noqa: E402
from .analysis import SCALARS  # noqa: E402

#: Colour bar labels of an FC matrix and of a difference of two.
FC_LABEL, DELTA_LABEL = "FC (Pearson r of BOLD)", "ΔFC (Pearson r, after − before)"
#: Axis labels: every measure is dimensionless, so each says what its numbers are.
NETWORK_FC_LABEL = "mean FC (Pearson r)"
FLEXIBILITY_LABEL = "flexibility (fraction of window steps)"
PARTICIPATION_LABEL = "participation coefficient (0–1)"
CHANGE_LABEL = "change, after − before (r, Q or fraction; dimensionless)"
DESYNC_LABEL = "desynchronisation (|Δr| or 1 − r)"
#: Scalars the change panel leaves out: a count of communities is not on the scale of the others
#: (it is written in the panel title instead).
CHANGE_PANEL_SKIPS = ("n_communities",)
#: Qualitative colours of the networks (one per network, cycled past ten).
NETWORK_COLOURS = plt.get_cmap("tab10").colors
#: Top of a bar panel as a multiple of its tallest bar: room for the legend above the bars.
LEGEND_HEADROOM = 1.3
#: The look of this module's FC panels (fewer and larger than a scan's: darker, wider lines, larger names).
FC_PANEL_STYLE = {"line_colour": "0.4", "line_width": 0.8, "tick_size": 8}


# ---------------------------------------------------------------------- shared
def network_blocks(regions: pd.DataFrame, labels) -> tuple[list[str], list[tuple[str, int, int]]]:
    """``labels`` grouped by network, and the blocks as ``(network, first row, last row + 1)``.

    Networks come in their order of first appearance among ``labels``, and within a network the
    regions keep their order (by hemisphere first when the table has one).

    Raises
    ------
    InputError
        On ``regions`` when the table lacks a ``network`` column or one of ``labels``.
    """
    from ..connectome.parcellation import network_order

    table = check_region_table(regions)
    labels = [str(label) for label in labels]
    rows = align_regions(table.index, labels, field="regions", found_in="the region table",
                         wanted_in="the result", subset=True)
    return network_order(table.iloc[rows])


def _ordered_fc(fc: xr.DataArray, labels: list[str]) -> np.ndarray:
    """FC in ``labels`` order with a blank diagonal (r = 1 would set the colour scale)."""
    values = fc.sel(region_i=labels, region_j=labels).values.astype(float).copy()
    np.fill_diagonal(values, np.nan)
    return values


def _fc_limits(*matrices: np.ndarray) -> tuple[float, float]:
    """One colour scale for FC matrices: from min(0, lowest r) to the highest r."""
    low = min(0.0, float(np.nanmin(matrices)))
    high = float(np.nanmax(matrices))
    return low, high if high > low else low + 1.0


def _per_network_bars(ax, networks: list[str], series: dict[str, xr.DataArray], *, ylabel: str,
                      title: str) -> None:
    """Grouped bars, one group per network, one bar per named series (a ``network`` DataArray)."""
    x = np.arange(len(networks))
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        heights = values.sel(network=networks).values
        ax.bar(x + (k - (len(series) - 1) / 2) * width, heights, width, label=name)
    ax.set_xticks(x, networks, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.axhline(0.0, color="black", lw=0.6)
    _headroom(ax, [float(np.nanmax(np.append(v.values, 0.0))) for v in series.values()])
    if len(series) > 1:
        ax.legend(fontsize=8, loc="upper left", ncols=len(series))
    ax.grid(axis="y", alpha=0.3)


def _headroom(ax, tops: list[float]) -> None:
    """Bottom at min(0, data), top :data:`LEGEND_HEADROOM` above the highest of ``tops`` (the legend's room)."""
    low = min(ax.get_ylim()[0], 0.0)
    high = max([top for top in tops if np.isfinite(top)] + [0.0])
    ax.set_ylim(low, high * LEGEND_HEADROOM if high > 0 else 1.0)


# ---------------------------------------------------------------------- analyze
def analysis_figure(result: xr.Dataset, regions: pd.DataFrame, *, source: str = "") -> plt.Figure:
    """What ``psilosim analyze`` computes for one recording, in one figure.

    Parameters
    ----------
    result
        A result of :func:`psilosim.metrics.analyze`.
    regions
        The region table it was computed with (indexed by label, with ``network``).
    source
        What was measured (a file name), for the title.

    Returns
    -------
    matplotlib.figure.Figure
        Panels (``Axes.get_label()``): ``fc`` (static FC ordered by network, network boundaries),
        ``network_fc`` (FC within and between each network), ``flexibility`` (per network),
        ``participation`` (per region, coloured by network), ``summary`` (the scalar measures);
        colour bar after them.

    Raises
    ------
    InputError
        On ``regions`` when the table lacks a region of the result.
    """
    labels, blocks = network_blocks(regions, result["fc"]["region_i"].values)
    networks = [name for name, _, _ in blocks]
    fig, axes = plt.subplot_mosaic(
        [["fc", "network_fc", "summary"], ["fc", "flexibility", "summary"],
         ["participation", "participation", "participation"]],
        figsize=(14, 10), layout="constrained", width_ratios=[1.25, 1.0, 0.7], height_ratios=[1, 1, 0.9])
    fig.get_layout_engine().set(wspace=0.08)  # keeps the FC colour bar's label apart from the bar panels
    fc = _ordered_fc(result["fc"], labels)
    fc_matrix_panel(fig, axes["fc"], fc, blocks, "static FC, regions grouped by network", cmap="viridis",
                    limits=_fc_limits(fc), label=FC_LABEL, **FC_PANEL_STYLE)
    _per_network_bars(axes["network_fc"], networks,
                      {"within the network": result["fc_within"], "with the other networks": result["fc_between"]},
                      ylabel=NETWORK_FC_LABEL, title="FC within and between networks")
    _per_network_bars(axes["flexibility"], networks, {"flexibility": result["flexibility_network"]},
                      ylabel=FLEXIBILITY_LABEL, title="multilayer flexibility per network (mean of its regions)")
    _participation_panel(axes["participation"], result["participation"], labels, blocks)
    _summary_panel(axes["summary"], result)
    fig.suptitle(_analysis_title(result, source))
    add_footer(fig, DISCLAIMER)
    return fig


def _analysis_title(result: xr.Dataset, source: str) -> str:
    attrs = result.attrs
    what = source or "a recording"
    return (f"Network metrics of {what}: {result.sizes['region']} regions, {attrs['n_time']} samples at "
            f"TR {attrs['tr_s']:g} s; {attrs['n_windows']} windows of {attrs['window_s']:g} s")


def _participation_panel(ax, participation: xr.DataArray, labels: list[str], blocks) -> None:
    """One bar per region in network order, coloured by its network; a legend names the colours."""
    values = participation.sel(region=labels).values
    colours = np.empty(len(labels), dtype=object)
    for k, (_, start, end) in enumerate(blocks):
        colours[start:end] = [NETWORK_COLOURS[k % len(NETWORK_COLOURS)]] * (end - start)
    ax.bar(np.arange(len(labels)), values, color=list(colours), width=0.85)
    legend = [Patch(color=NETWORK_COLOURS[k % len(NETWORK_COLOURS)], label=name)
              for k, (name, _, _) in enumerate(blocks)]
    ax.set_xlim(-0.5, len(labels) - 0.5)
    if len(labels) <= 40:  # region names are legible only for a small parcellation
        ax.set_xticks(np.arange(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_xlabel("region (grouped by network)")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(labels)} regions, grouped by network")
    ax.set_ylabel(PARTICIPATION_LABEL)
    ax.set_ylim(0.0, 1.0)
    ax.set_title("participation coefficient per region (consensus communities)", fontsize=10)
    ax.legend(handles=legend, fontsize=8, loc="upper left", ncols=min(len(blocks), 9))
    ax.grid(axis="y", alpha=0.3)


def _summary_panel(ax, result: xr.Dataset) -> None:
    """The scalar measures as text (the rows of the command's first table)."""
    ax.set_axis_off()
    rows = [f"{name}: {_fmt(result[name])}" for name in SCALARS]
    ax.text(0.0, 1.0, "whole-brain measures\n(dimensionless)\n\n" + "\n".join(rows), va="top", ha="left",
            fontsize=9, family="monospace", transform=ax.transAxes)


def _fmt(value) -> str:
    value = float(value)
    if not np.isfinite(value):
        return "—"
    return f"{value:.0f}" if value == round(value) and abs(value) >= 1 else f"{value:.3f}"


# ---------------------------------------------------------------------- compare
def comparison_figure(before: xr.Dataset, after: xr.Dataset, change: xr.Dataset, regions: pd.DataFrame, *,
                      names: tuple[str, str] = ("before", "after")) -> plt.Figure:
    """What ``psilosim compare`` computes for two recordings, in one figure.

    Parameters
    ----------
    before, after
        Results of :func:`psilosim.metrics.analyze` for the two recordings.
    change
        Their :func:`psilosim.metrics.compare` result.
    regions
        The region table (indexed by label, with ``network``).
    names
        What the two recordings are (file names), for the titles.

    Returns
    -------
    matplotlib.figure.Figure
        Panels (``Axes.get_label()``): ``fc_before`` and ``fc_after`` (one colour scale),
        ``fc_delta`` (after − before, a diverging scale symmetric about 0), ``changes`` (after −
        before of every scalar measure but the number of communities, which the panel title
        gives), ``desync`` (mean |ΔFC| and correlation distance per network, the global values
        as lines, the FCD KS distance in the title); colour bars after them.

    Raises
    ------
    InputError
        On ``regions`` when the table lacks a region of the results.
    """
    labels, blocks = network_blocks(regions, before["fc"]["region_i"].values)
    networks = [name for name, _, _ in blocks]
    fig, axes = plt.subplot_mosaic([["fc_before", "fc_after", "fc_delta"], ["changes", "changes", "desync"]],
                                   figsize=(15, 10), layout="constrained", height_ratios=[1.0, 0.85])
    first, second = _ordered_fc(before["fc"], labels), _ordered_fc(after["fc"], labels)
    delta = second - first
    limit = float(np.nanmax(np.abs(delta))) or 1.0
    shared = _fc_limits(first, second)
    for name, values, title in (("fc_before", first, f"FC of {names[0]}"), ("fc_after", second, f"FC of {names[1]}")):
        fc_matrix_panel(fig, axes[name], values, blocks, title, cmap="viridis", limits=shared, label=FC_LABEL,
                        **FC_PANEL_STYLE)
    fc_matrix_panel(fig, axes["fc_delta"], delta, blocks, "ΔFC (after − before)", cmap="RdBu_r",
                    limits=(-limit, limit), label=DELTA_LABEL, **FC_PANEL_STYLE)
    _changes_panel(axes["changes"], change)
    _desync_panel(axes["desync"], change, networks)
    fig.suptitle(f"Change of the network metrics from {names[0]} to {names[1]}: {before.sizes['region']} regions, "
                 f"TR {change.attrs['tr_s']:g} s; {change.attrs['window_s']:g} s windows")
    add_footer(fig, DISCLAIMER)
    return fig


def _changes_panel(ax, change: xr.Dataset) -> None:
    """Horizontal bars of after − before for each scalar measure, the value written at each bar."""
    shown = [name for name in SCALARS if name not in CHANGE_PANEL_SKIPS]
    values = np.array([float(change[f"delta_{name}"]) for name in shown])
    drawn = np.where(np.isfinite(values), values, 0.0)
    y = np.arange(len(shown))
    colours = ["tab:red" if v > 0 else "tab:blue" for v in drawn]
    ax.barh(y, drawn, color=colours, height=0.7)
    for k, value in enumerate(values):
        text = "—" if not np.isfinite(value) else f"{value:+.3f}"
        ax.annotate(text, (drawn[k], k), xytext=(4 if drawn[k] >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if drawn[k] >= 0 else "right", va="center", fontsize=8)
    ax.set_yticks(y, shown, fontsize=8)
    ax.invert_yaxis()  # in the order the command prints them, top to bottom
    ax.axvline(0.0, color="black", lw=0.8)
    reach = float(np.max(np.abs(drawn))) or 1.0
    ax.set_xlim(-1.35 * reach, 1.35 * reach)  # room for the values written beside the bars
    ax.set_xlabel(CHANGE_LABEL)
    communities = float(change["delta_n_communities"])
    ax.set_title(f"change of each measure (number of communities: {communities:+.0f})", fontsize=10)
    ax.grid(axis="x", alpha=0.3)


def _desync_panel(ax, change: xr.Dataset, networks: list[str]) -> None:
    """Per-network desynchronisation (the command's second table), global values as dashed lines."""
    series = {"mean |ΔFC|": change["desync_network_mean_abs_diff"],
              "correlation distance": change["desync_network_corr_distance"]}
    _per_network_bars(ax, networks, series, ylabel=DESYNC_LABEL, title="")
    for (name, _), key, colour in zip(series.items(), ("desync_mean_abs_diff", "desync_corr_distance"),
                                      ("tab:blue", "tab:orange"), strict=True):
        ax.axhline(float(change[key]), color=colour, ls="--", lw=1.0, label=f"{name}, all pairs")
    tops = [float(np.nanmax(np.append(v.values, 0.0))) for v in series.values()]
    _headroom(ax, tops + [float(change[key]) for key in ("desync_mean_abs_diff", "desync_corr_distance")])
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    ax.set_title(f"desynchronisation per network (FCD KS distance {float(change['fcd_ks']):.3f})", fontsize=10)


__all__ = ["analysis_figure", "comparison_figure", "network_blocks"]
