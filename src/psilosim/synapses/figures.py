"""Figure of the slow chain: spine density, BDNF/TrkB signalling and the plasticity window."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from ..binding.figures import add_footer  # noqa: E402
from .chain import density_change_pct  # noqa: E402

#: Colour of the shaded stress period.
STRESS_SHADE = {"color": "tab:grey", "alpha": 0.15}
#: Vertical margin of the density panel (fraction of its data range) that leaves room for the
#: report-day labels.
LABEL_HEADROOM = 0.15
#: Where a report-day label may sit around its point, tried in this order until one clears every
#: curve: (x offset, y offset) in points, horizontal and vertical alignment. A display choice.
LABEL_PLACES = (((0, 6), "center", "bottom"), ((-6, 4), "right", "bottom"), ((6, -4), "left", "top"),
                ((0, -6), "center", "top"), ((6, 4), "left", "bottom"), ((-6, -4), "right", "top"),
                ((8, 0), "left", "center"), ((-8, 0), "right", "center"))


def plot_slow_chain(ds: xr.Dataset, *, title: str = "", days_shown: float | None = None,
                    first_day: float | None = None, report_days=None,
                    window_closes_d: float | None = None) -> plt.Figure:
    """Stacked panels over days: spine density change per region (%), BDNF/TrkB signalling
    (relative to baseline) and the plasticity window (0–1) with the level at which it counts as
    closed (the run's ``window_closed_level`` attribute, when it has one).

    Parameters
    ----------
    ds
        A result of :func:`psilosim.synapses.simulate_slow_chain`, or of
        :func:`psilosim.plasticity.simulate_plasticity` (no spines: two panels).
    title
        Figure title (default: a generic one).
    days_shown
        Last day on the time axis (default: the whole run).
    first_day
        First day on the time axis (default: the start of the run, which may precede the dose).
    report_days
        Days to mark on the density panel with the change from the day of dosing (%), the
        imaging convention of ``psilosim spines``; that change is also drawn as a dashed curve.
    window_closes_d
        Day the window closes, drawn as a vertical line on the window panel (when finite).
    """
    t = ds["time_d"].values
    panels = [_density, _signalling, _window] if "density_rel" in ds else [_signalling, _window]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.7 * len(panels)), sharex=True,
                             constrained_layout=True)
    for draw, ax in zip(panels, axes, strict=True):
        draw(ax, t, ds)
        _shade_stress(ax, t, ds, label=ax is axes[0])
    if report_days is not None and "density_rel" in ds:
        _from_dosing(axes[0], t, ds, report_days)
    if window_closes_d is not None and np.isfinite(window_closes_d):
        axes[-1].axvline(window_closes_d, ls=":", lw=1.0, color="black", label=f"closes at {window_closes_d:.1f} d")
    for ax in axes:
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("days after the first dose")
    axes[-1].set_xlim(left=first_day, right=days_shown)
    fig.suptitle(title or "psilosim: plasticity window and dendritic spines")
    add_footer(fig, DISCLAIMER)
    if report_days is not None and "density_rel" in ds:
        _clear_labels_off_curves(fig, axes[0])
    return fig


def _shade_stress(ax, t, ds: xr.Dataset, *, label: bool) -> None:
    """Shade the span where the stress input is on (a chronic-stress run)."""
    if "stress" not in ds:
        return
    on = t[ds["stress"].values > 0]
    if on.size:
        ax.axvspan(on[0], on[-1], **STRESS_SHADE, label="chronic stress" if label else None)


def _from_dosing(ax, t, ds: xr.Dataset, report_days) -> None:
    """The density change from the day of dosing (dashed) and its value at each report day."""
    region = str(ds["region"].values[0])
    after = t[t >= 0.0]
    change = [density_change_pct(ds, day, region=region) for day in after]
    (line,) = ax.plot(after, change, ls="--", color="black", lw=1.0, label="vs the day of dosing")
    for day in report_days:
        value = density_change_pct(ds, day, region=region)
        ax.plot([day], [value], "o", color=line.get_color(), ms=4)
        (offset, ha, va) = LABEL_PLACES[0]
        ax.annotate(f"{value:+.1f} %", (day, value), textcoords="offset points", xytext=offset, ha=ha, va=va,
                    fontsize=7)
    ax.margins(y=LABEL_HEADROOM)


def _clear_labels_off_curves(fig: plt.Figure, ax) -> None:
    """Move each report-day label to the first of :data:`LABEL_PLACES` where it crosses no curve
    (on a steep rise the label above its point lies on the curve); the layout is drawn first so
    that the labels are tested where they will be shown."""
    from matplotlib.path import Path

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    curves = [Path(line.get_transform().transform(line.get_xydata())) for line in ax.get_lines()
              if len(line.get_xydata()) > 1]
    for label in ax.texts:
        for offset, ha, va in LABEL_PLACES:
            label.set_position(offset)
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)
            box = label.get_window_extent(renderer)
            if not any(curve.intersects_bbox(box, filled=False) for curve in curves):
                break


def _density(ax, t, ds: xr.Dataset) -> None:
    for region in ds["region"].values:
        ax.plot(t, 100.0 * (ds["density_rel"].sel(region=region) - 1.0), label=f"{region}, vs unstressed baseline")
    ax.axhline(0.0, lw=0.8, color="grey")
    ax.set_ylabel("spine density change (%)")


def _signalling(ax, t, ds: xr.Dataset) -> None:
    ax.plot(t, ds["bdnf_rel"], color="tab:red", label="BDNF/TrkB signalling")
    ax.axhline(1.0, lw=0.8, color="grey")
    ax.set_ylabel("BDNF/TrkB signalling\n(relative to baseline)")


def _window(ax, t, ds: xr.Dataset) -> None:
    ax.plot(t, ds["window"], color="tab:purple", label="plasticity window")
    level = ds.attrs.get("window_closed_level")
    if level is not None:
        ax.axhline(level, ls="--", lw=0.8, color="grey", label=f"closed below {level:g}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("plasticity window (0–1)")


__all__ = ["plot_slow_chain"]
