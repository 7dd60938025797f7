"""Figures of the network link: the FC change of a scan session and the coupling fit.

:func:`plot_scan` draws what ``psilosim scan`` prints (the change per network, with the noise
floor and the control maps when the session has them) next to the FC matrices it came from;
:func:`plot_fit` draws the scores of a ``psilosim fit`` sweep against G with the chosen G.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from ..binding.figures import add_footer  # noqa: E402
from ..connectome import Parcellation  # noqa: E402
from ..connectome.builtin import HT2A  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..report.panels import fc_matrix_panel  # noqa: E402
from .fit import FitResult, holds_fic_rule  # noqa: E402
from .measures import region_fc_distance  # noqa: E402
from .scan import fc_change  # noqa: E402

#: The per-network measures a scan figure can show: payload key prefix → axis label.
MEASURES = {
    "fc_change": "mean |ΔFC| (drug − baseline)",
    "fc_distance": "seed-map distance (Fisher z RMS)",
}
#: Colour of G values outside the FIC rate rule (not eligible as the chosen G).
OUTSIDE_COLOUR = "0.6"
#: Colour bar label of the empirical and model FC of a fit.
FC_LABEL = "Pearson r"
#: What a scan session's FC correlates, by how it was made (``"simulate"`` for a session with
#: BOLD, else its ``attrs["method"]``): a short name for panel titles, a full one for colour bars.
#: The linear sessions' FC is the expected correlation of the model's state, not of BOLD.
FC_QUANTITIES = {
    "simulate": ("BOLD", "Pearson r of BOLD"),
    "linear": ("S_E, linear-noise", "expected r of S_E (linear-noise DMF)"),
    "linear-current": ("S_E, linear-noise", "expected r of S_E (linear-noise DMF)"),
    "linear-hopf": ("Hopf x, linearised", "expected r of the Hopf x (linearised)"),
}
#: Top of the bar panel as a multiple of its tallest bar or noise floor: room for the legend.
LEGEND_HEADROOM = 1.25


# ---------------------------------------------------------------------- scan
def fc_quantity(session: xr.Dataset) -> tuple[str, str]:
    """What the ``fc`` of a scan session correlates: ``(short name, full name)``.

    A simulated session (it has ``bold``) correlates BOLD; a linear session the fluctuations of
    the model state its ``method`` names (:data:`FC_QUANTITIES`); an unknown method falls back
    on the FC's own ``long_name``.
    """
    method = "simulate" if "bold" in session else str(session.attrs.get("method", ""))
    if method in FC_QUANTITIES:
        return FC_QUANTITIES[method]
    name = str(session["fc"].attrs.get("long_name", "model FC"))
    return name, name


def plot_scan(session: xr.Dataset, parcellation: Parcellation, summary: dict, *, measure: str = "fc_change",
              title: str = "") -> plt.Figure:
    """Per-network FC change, FC matrices ordered by network and regional change vs 5-HT2A density.

    Parameters
    ----------
    session
        A result of :func:`~psilosim.network.scan.scan_session` or
        :func:`~psilosim.network.scan.linear_session`.
    parcellation
        The dataset the session was run on (region table with ``network``).
    summary
        The scan's summary (the ``psilosim scan --json`` payload or
        :func:`~psilosim.network.scan.summarise`): ``gain_map``, ``<measure>_by_network`` and,
        optionally, ``compare_maps`` (map kind → the same keys), drawn side by side.
    measure
        ``fc_change`` (mean |ΔFC|, what the scan table prints) or ``fc_distance`` (the seed-map
        distance of Siegel et al. 2024).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Panels ``bars``, ``scatter``, ``baseline``, ``drug``, ``delta`` (``fig.axes`` in that
        order, colour bars after them). A simulated session (with ``baseline_repeat`` BOLD)
        also draws each network's noise floor, the same measure between the two baselines.
        The FC panels and colour bars name what is correlated (:func:`fc_quantity`): BOLD for
        a simulated session, the synaptic gating S_E for a linear one.
    """
    if measure not in MEASURES:
        raise InputError("measure", f"{measure!r}; expected one of {', '.join(MEASURES)}")
    kind = summary.get("gain_map", "receptor")
    fig, axes = plt.subplot_mosaic([["bars", "bars", "scatter"], ["baseline", "drug", "delta"]],
                                   figsize=(14, 9.5), layout="constrained")
    base = session["fc"].sel(condition="baseline")
    drug = _map_fc(session, kind)
    _network_bars(axes["bars"], session, parcellation, summary, measure)
    _density_scatter(axes["scatter"], parcellation, drug.values, base.values, measure, kind)
    _fc_matrices(fig, [axes["baseline"], axes["drug"], axes["delta"]], parcellation, base, drug, kind,
                 fc_quantity(session))
    fig.suptitle(title or "psilosim: FC change of a scan session")
    add_footer(fig, DISCLAIMER)
    return fig


def _map_fc(session: xr.Dataset, kind: str) -> xr.DataArray:
    """FC of a map kind; numbered null maps (``shuffled_0``, …) averaged, as the summary is."""
    names = [str(c) for c in session["condition"].values]
    members = [n for n in names if n == kind or n.startswith(f"{kind}_")]
    return session["fc"].sel(condition=members).mean("condition")


def regional_change(fc_drug: np.ndarray, fc_base: np.ndarray, measure: str) -> np.ndarray:
    """Each region's change: mean |ΔFC| over its connections, or its seed-map distance."""
    if measure == "fc_distance":
        return region_fc_distance(np.asarray(fc_drug), np.asarray(fc_base)).values
    delta = np.abs(np.asarray(fc_drug) - np.asarray(fc_base))
    np.fill_diagonal(delta, np.nan)
    return np.nanmean(delta, axis=1)


def _noise_floor(session: xr.Dataset, parcellation: Parcellation, measure: str) -> dict[str, float] | None:
    """Per-network change between the two baselines of a simulated session (None for a linear one)."""
    if "bold" not in session or "baseline_repeat" not in session["condition"].values:
        return None
    repeat = session["fc"].sel(condition="baseline_repeat").values
    base = session["fc"].sel(condition="baseline").values
    if measure == "fc_change":
        return fc_change(repeat, base, parcellation)[0]
    per_region = regional_change(repeat, base, measure)
    nets = parcellation.regions["network"].to_numpy()
    return {net: float(per_region[nets == net].mean()) for net in parcellation.networks}


def _network_bars(ax, session, parcellation, summary: dict, measure: str) -> None:
    key = f"{measure}_by_network"
    maps = {summary.get("gain_map", "receptor"): summary[key]}
    maps.update({name: block[key] for name, block in summary.get("compare_maps", {}).items()})
    networks = list(summary[key])
    x = np.arange(len(networks))
    width = 0.8 / len(maps)
    for k, (name, values) in enumerate(maps.items()):
        ax.bar(x + (k - (len(maps) - 1) / 2) * width, [values[n] for n in networks], width, label=f"{name} map")
    floor = _noise_floor(session, parcellation, measure)
    if floor is not None:
        ax.hlines([floor[n] for n in networks], x - 0.4, x + 0.4, colors="black", linestyles="--", lw=1.2,
                  label="noise floor (second baseline)")
    tallest = max([v for values in maps.values() for v in values.values()] + list((floor or {}).values()))
    ax.set_ylim(0.0, tallest * LEGEND_HEADROOM)
    ax.set_xticks(x, networks, rotation=30, ha="right")
    ax.set_ylabel(MEASURES[measure])
    ax.set_title("change per network", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncols=len(maps) + 1)
    ax.grid(axis="y", alpha=0.3)


def _density_scatter(ax, parcellation, fc_drug, fc_base, measure: str, kind: str) -> None:
    density = parcellation.receptor_map(HT2A).values
    change = regional_change(fc_drug, fc_base, measure)
    r = float(np.corrcoef(density, change)[0, 1]) if np.ptp(change) > 0 else float("nan")
    ax.scatter(density, change, s=14, alpha=0.8, label=f"regions ({kind} map), r = {r:.2f}")
    ax.set_xlabel("5-HT2A density (normalised, max 1)")
    ax.set_ylabel(f"regional {MEASURES[measure]}")
    ax.set_title("regional change vs receptor density", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)


def _ordered(parcellation: Parcellation, labels) -> tuple[list[str], list[tuple[str, int, int]]]:
    from ..connectome.parcellation import network_order

    return network_order(parcellation.regions.loc[list(labels)])


def _fc_matrices(fig, axes, parcellation, base: xr.DataArray, drug: xr.DataArray, kind: str,
                 quantity: tuple[str, str]) -> None:
    labels, blocks = _ordered(parcellation, base["region_i"].values)
    before = base.sel(region_i=labels, region_j=labels).values.copy()
    after = drug.sel(region_i=labels, region_j=labels).values.copy()
    for matrix in (before, after):  # the diagonal (r = 1) would set the colour scale: leave it blank
        np.fill_diagonal(matrix, np.nan)
    diff = after - before
    lim = float(np.nanmax(np.abs(diff))) or 1.0
    fc_range = (min(0.0, float(np.nanmin([before, after]))), float(np.nanmax([before, after])))  # one scale for both
    short, full = quantity
    for ax, values, title, cmap, limits, unit in (
            (axes[0], before, f"baseline FC ({short})", "viridis", fc_range, f"FC: {full}"),
            (axes[1], after, f"drug FC ({kind} map; {short})", "viridis", fc_range, f"FC: {full}"),
            (axes[2], diff, f"Δ FC (drug − baseline; {short})", "RdBu_r", (-lim, lim), f"ΔFC: Δ {full}")):
        fc_matrix_panel(fig, ax, values, blocks, title, cmap=cmap, limits=limits, label=unit)


# ---------------------------------------------------------------------- fit
def plot_fit(results: dict[str, FitResult], parcellation: Parcellation, *, title: str = "",
             model_fc: xr.DataArray | np.ndarray | None = None) -> plt.Figure:
    """Fit scores against G for each fitted family, the chosen G marked.

    Parameters
    ----------
    results
        Model family (``dmf``, ``hopf``) → its :class:`~psilosim.network.fit.FitResult`.
    parcellation
        The dataset fitted (its empirical FC).
    title
        Figure title.
    model_fc
        The model FC at the chosen G of the best family, when the caller has it: then the
        empirical and model FC are drawn side by side (never recomputed here).

    Returns
    -------
    matplotlib.figure.Figure
        One sweep panel per family: ``fc_corr`` (and ``fcd_ks`` on a second axis when it was
        computed) against G, a vertical line at the chosen G, and G values outside the FIC rate
        rule (:func:`~psilosim.network.fit.holds_fic_rule`) in grey.
    """
    rows = [list(results)]
    if model_fc is not None:
        rows = [rows[0] * (2 // len(rows[0])), ["empirical", "model"]]  # one family spans both columns
    fig, axes = plt.subplot_mosaic(rows, figsize=(6.5 * len(rows[0]), 4.5 * len(rows)), layout="constrained")
    for name, result in results.items():
        _sweep_panel(axes[name], name, result)
    if model_fc is not None:
        best = max(results.values(), key=lambda r: r.fc_corr)
        _fc_pair(fig, axes["empirical"], axes["model"], parcellation, model_fc, best)
    fig.suptitle(title or "psilosim: coupling fit")
    add_footer(fig, DISCLAIMER)
    return fig


def _sweep_panel(ax, name: str, result: FitResult) -> None:
    sweep = result.sweep
    g = sweep["G"].values
    corr = sweep["fc_corr"].values
    ax.plot(g, corr, "o-", color="tab:blue", label="fc_corr (model vs empirical FC)")
    if "min_rate" in sweep:
        outside = ~holds_fic_rule(sweep["min_rate"].values, sweep["max_rate"].values)
        if outside.any():
            ax.plot(g[outside], corr[outside], "o", color=OUTSIDE_COLOUR, ms=8, ls="none",
                    label="outside the FIC rate rule")
    ax.axvline(result.G, color="tab:red", ls="--", lw=1.2, label=f"chosen G = {result.G:.4g}")
    ax.plot([result.G], [result.fc_corr], "*", color="tab:red", ms=14)
    ax.axhline(result.sc_fc_corr, color="black", ls=":", lw=1.0, label=f"SC–FC r = {result.sc_fc_corr:.3f}")
    if name == "hopf":
        ax.set_xscale("log")  # the Hopf ratios are log-spaced
    ax.set_xlabel("global coupling G")
    ax.set_ylabel("fc_corr (Pearson r)")
    ax.set_title(f"{name} sweep", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    if "fcd_ks" in sweep and np.isfinite(sweep["fcd_ks"].values).any():
        twin = ax.twinx()
        twin.plot(g, sweep["fcd_ks"].values, "s--", color="tab:green", label="fcd_ks (0 = same FCD)")
        twin.set_ylabel("fcd_ks (KS distance)")
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, fontsize=8, loc="best")
    ax.grid(alpha=0.3)


def _fc_pair(fig, ax_emp, ax_model, parcellation, model_fc, best: FitResult) -> None:
    labels, blocks = _ordered(parcellation, parcellation.labels)
    emp = parcellation.fc.sel(region_i=labels, region_j=labels).values
    model = xr.DataArray(np.asarray(model_fc), dims=("region_i", "region_j"),
                         coords={"region_i": parcellation.labels, "region_j": parcellation.labels})
    model = model.sel(region_i=labels, region_j=labels).values
    for ax, values, title in ((ax_emp, emp, "empirical FC"),
                              (ax_model, model, f"model FC ({best.model}, G = {best.G:.4g})")):
        fc_matrix_panel(fig, ax, values, blocks, title, cmap="viridis", limits=(-1.0, 1.0), label=FC_LABEL,
                        boundaries=False)


__all__ = ["FC_QUANTITIES", "MEASURES", "fc_quantity", "plot_fit", "plot_scan", "regional_change"]
