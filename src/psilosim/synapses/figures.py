"""Figure of the slow chain: spine density, BDNF/TrkB signalling and the plasticity window."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from .. import DISCLAIMER  # noqa: E402


def plot_slow_chain(ds: xr.Dataset, *, title: str = "", days_shown: float | None = None) -> plt.Figure:
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
    """
    t = ds["time_d"].values
    panels = [_density, _signalling, _window] if "density_rel" in ds else [_signalling, _window]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.7 * len(panels)), sharex=True,
                             constrained_layout=True)
    for draw, ax in zip(panels, axes, strict=True):
        draw(ax, t, ds)
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("days after the first dose")
    if days_shown is not None:
        axes[-1].set_xlim(right=days_shown)
    fig.suptitle(title or "psilosim: plasticity window and dendritic spines")
    fig.text(0.01, 0.002, DISCLAIMER, fontsize=5, wrap=True)
    return fig


def _density(ax, t, ds: xr.Dataset) -> None:
    for region in ds["region"].values:
        ax.plot(t, 100.0 * (ds["density_rel"].sel(region=region) - 1.0), label=str(region))
    ax.axhline(0.0, lw=0.8, color="grey")
    ax.set_ylabel("spine density change (%)\n(vs unstressed baseline)")


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
