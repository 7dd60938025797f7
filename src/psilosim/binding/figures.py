"""Figure of the acute chain: concentration, occupancy and subjective effect over time."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from ..units import HOURS_PER_DAY
from .params import EFFECT_PARAMS  # noqa: E402

#: Occupancy below this peak value is not drawn (a target no compound binds).
MIN_DRAWN_OCCUPANCY = 1e-3
BAND_QUANTILES = (0.05, 0.95)
#: Line styles of successive occupancy curves.
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))
#: The time axis ends this fraction past the last visible change (:func:`hours_axis_limit`).
HOURS_AXIS_MARGIN = 0.1
#: Bottom strip of the figure (fraction of its height) kept free for the disclaimer footer.
FOOTER_STRIP = 0.03
#: Readable legend names of the binding targets (others are shown as they are called).
TARGET_LABELS = {"5-HT2A_surface": "5-HT2A surface", "5-HT2A_intracellular": "5-HT2A intracellular"}
#: The one curve drawn when surface and intracellular 5-HT2A occupancy coincide.
EQUAL_5HT2A_LABEL = "5-HT2A (surface = intracellular)"
#: A run longer than this (h) is drawn over days rather than hours (a display choice: past three
#: days the hour ticks run into the hundreds).
DAYS_AXIS_FROM_H = 72.0
#: Longest title line (characters) that fits the figure's width at :data:`TITLE_FONTSIZE`;
#: a longer title is wrapped, preferably between its treatments.
TITLE_LINE_CHARS = 72
TITLE_FONTSIZE = 11
#: Where a title may break first: between treatments, then before the parameter sets.
TITLE_SEPARATORS = ("; ", " — ")


def _median_band(da: xr.DataArray):
    if "subject" in da.dims and da.sizes["subject"] > 1:
        q = da.quantile([BAND_QUANTILES[0], 0.5, BAND_QUANTILES[1]], dim="subject")
        return q.isel(quantile=1).values, q.isel(quantile=0).values, q.isel(quantile=2).values
    values = da.isel(subject=0).values if "subject" in da.dims else da.values
    return values, None, None


def _line(ax, t, da, label, linestyle="-"):
    mid, lo, hi = _median_band(da)
    (line,) = ax.plot(t, mid, label=label, linestyle=linestyle)
    if lo is not None:
        ax.fill_between(t, lo, hi, alpha=0.2, color=line.get_color())


def plot_acute(ds: xr.Dataset, *, title: str = "") -> plt.Figure:
    """Three stacked panels: plasma concentration, occupancy by target, subjective effect.

    With a ``subject`` dimension of size > 1 the median and the 5–95 % band are drawn (and the
    legends say so). A run longer than :data:`DAYS_AXIS_FROM_H` is drawn over days; a long title
    is wrapped to the figure's width.
    """
    in_days = float(ds.time_h.values[-1] - ds.time_h.values[0]) > DAYS_AXIS_FROM_H
    per_unit = HOURS_PER_DAY if in_days else 1.0
    t = ds.time_h.values / per_unit
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, constrained_layout=True)
    for comp, analyte in zip(ds.compound.values, ds.analyte.values, strict=True):
        label = f"{analyte} ({comp})" if analyte != comp else str(comp)
        _line(axes[0], t, ds.concentration.sel(compound=comp), label)
    axes[0].set_ylabel("plasma concentration (ng/mL)")
    for k, (target, label) in enumerate(_occupancy_curves(ds)):
        # distinct dashes: curves that cross or run close stay apart in print
        _line(axes[1], t, ds.occupancy.sel(target=target) * 100.0, label,
              linestyle=LINESTYLES[k % len(LINESTYLES)])
    axes[1].set_ylabel("occupancy (%)")
    axes[1].set_ylim(0, 100)
    _line(axes[2], t, ds.effect * 100.0, "any drug effect")
    axes[2].axhline(EFFECT_PARAMS.duration_threshold.value * 100.0, ls="--", lw=0.8, color="grey",
                    label="duration threshold")
    axes[2].set_ylabel("subjective effect (% of scale)")
    axes[2].set_ylim(0, 100)
    axes[2].set_xlabel("time after first dose (days)" if in_days else "time after first dose (h)")
    band = _band_entry(ds)
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if band is not None:
            handles, labels = [*handles, band], [*labels, band.get_label()]
        ax.legend(handles, labels, loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlim(t[0], min(hours_axis_limit(ds) * (1.0 + HOURS_AXIS_MARGIN) / per_unit, t[-1]))
    fig.suptitle(wrapped_title(title or "psilosim: acute pharmacology"), fontsize=TITLE_FONTSIZE)
    add_footer(fig, DISCLAIMER)
    return fig


def _band_entry(ds: xr.Dataset) -> Patch | None:
    """Legend entry saying what the shaded band and the line of a population are (``None`` for
    one subject, drawn without a band)."""
    n = ds.sizes.get("subject", 1)
    if n <= 1:
        return None
    low, high = (round(100 * q) for q in BAND_QUANTILES)
    return Patch(color="grey", alpha=0.2, label=f"shaded: {low}–{high} % of {n} subjects; lines: median")


def wrapped_title(title: str, *, width: int = TITLE_LINE_CHARS) -> str:
    """``title`` in lines of at most ``width`` characters, broken between its parts
    (:data:`TITLE_SEPARATORS`, kept at the end of a line) where possible and between words
    otherwise; no word is lost."""
    parts = [title]
    for sep in TITLE_SEPARATORS:
        parts = [piece + sep.rstrip() if k < len(split) - 1 else piece
                 for part in parts for split in [part.split(sep)] for k, piece in enumerate(split)]
    lines: list[str] = []
    for part in (part.strip() for part in parts):
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] = f"{lines[-1]} {part}"
        else:
            lines.extend(textwrap.wrap(part, width, break_long_words=False) or [part])
    return "\n".join(lines)


def add_footer(fig: plt.Figure, text: str) -> None:
    """Write ``text`` small at the bottom, in a strip the (constrained) layout keeps free."""
    fig.get_layout_engine().set(rect=(0.0, FOOTER_STRIP, 1.0, 1.0 - FOOTER_STRIP))
    fig.text(0.01, 0.002, text, fontsize=5, wrap=True)


def _occupancy_curves(ds: xr.Dataset) -> list[tuple[str, str]]:
    """(target, legend label) of each occupancy curve to draw: targets bound above
    :data:`MIN_DRAWN_OCCUPANCY`, with a target whose curve equals an earlier one's (surface and
    intracellular 5-HT2A for a membrane-permeable ligand) merged into that one."""
    curves: list[tuple[str, str]] = []
    for target in map(str, ds.target.values):
        occ = ds.occupancy.sel(target=target)
        if float(occ.max()) <= MIN_DRAWN_OCCUPANCY:
            continue
        same = [k for k, (drawn, _) in enumerate(curves) if np.allclose(occ, ds.occupancy.sel(target=drawn))]
        if same:
            drawn, label = curves[same[0]]
            both = {drawn, target} == set(TARGET_LABELS)
            curves[same[0]] = (drawn, EQUAL_5HT2A_LABEL if both else f"{label} = {_target_label(target)}")
        else:
            curves.append((target, _target_label(target)))
    return curves


def _target_label(target: str) -> str:
    return TARGET_LABELS.get(target, target.replace("_", " "))


def hours_axis_limit(ds: xr.Dataset) -> float:
    """Last time (h) at which anything visible happens (used to crop long tails)."""
    alive = (ds.effect > MIN_DRAWN_OCCUPANCY) | (ds.occupancy.max("target") > MIN_DRAWN_OCCUPANCY)
    alive = alive.any("subject") if "subject" in alive.dims else alive
    idx = np.flatnonzero(alive.values)
    return float(ds.time_h.values[idx[-1]]) if idx.size else float(ds.time_h.values[-1])
