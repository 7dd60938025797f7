"""Forest plot of the calibration envelope: each prediction's range against its published value.

The rows are those of :func:`psilosim.clinical.uncertainty.envelope_rows`. Predictions on
different scales (QIDS-SR-16, MADRS, a fraction) get a panel each, so no axis mixes units.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .. import DISCLAIMER  # noqa: E402
from ..binding.figures import add_footer  # noqa: E402
from .uncertainty import verdict  # noqa: E402

#: Colour of the model's range by its verdict (:func:`~psilosim.clinical.uncertainty.verdict`).
VERDICT_COLOURS = {
    "range overlaps the CI": "tab:green",
    "point inside the range": "tab:green",
    "outside the CI: not reachable by recalibration": "tab:red",
    "point outside the range (no CI extracted)": "tab:red",
    "no published number": "grey",
}
PUBLISHED_COLOUR = "black"
#: Vertical offset of the model's line (up) and the published CI (down) within a row.
ROW_OFFSET = 0.15
CENTRE_MARKER, PUBLISHED_MARKER = "o", "D"
#: The fraction scale ("share" predictions) is drawn in percent.
PERCENT = 100.0
ROW_HEIGHT_IN = 0.45
FRAME_HEIGHT_IN = 1.8
FIGURE_WIDTH_IN = 10.0


def plot_calibration_envelope(ds: xr.Dataset, *, title: str = "") -> plt.Figure:
    """Forest plot of :func:`~psilosim.clinical.uncertainty.calibration_envelope`'s Dataset.

    Per prediction: a horizontal line from the smallest to the largest value over the
    calibrations with a marker at the ``centre`` calibration (coloured by the verdict: green
    reaches the published value, red cannot), and below it the published estimate with its 95 %
    CI (the estimate alone where no CI was extracted; nothing where none was published).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per scale; its y tick labels are the prediction keys.
    """
    scales = list(dict.fromkeys(map(str, ds["scale"].values)))
    groups = [[str(k) for k, s in zip(ds["prediction"].values, ds["scale"].values, strict=True) if s == scale]
              for scale in scales]
    fig, axes = plt.subplots(len(scales), 1, squeeze=False, constrained_layout=True,
                             figsize=(FIGURE_WIDTH_IN, FRAME_HEIGHT_IN + ROW_HEIGHT_IN * ds.sizes["prediction"]),
                             gridspec_kw={"height_ratios": [len(g) for g in groups]})
    for ax, scale, keys in zip(axes[:, 0], scales, groups, strict=True):
        _draw_panel(ax, ds, scale, keys)
    fig.legend(handles=_legend_handles(), loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle(title or ("clinical predictions over the calibrations the targets' 95 % intervals allow "
                           f"({ds.sizes['calibration']} calibrations, n = {ds.attrs.get('n_twins', '?')} twins)"),
                 fontsize=10)
    add_footer(fig, DISCLAIMER)
    return fig


def _draw_panel(ax, ds: xr.Dataset, scale: str, keys: list[str]) -> None:
    factor = PERCENT if scale == "fraction" else 1.0
    for y, key in enumerate(keys):
        row = ds.sel(prediction=key)
        values = row["value"].values * factor
        colour = VERDICT_COLOURS.get(verdict(ds, key), "grey")
        ym = y - ROW_OFFSET
        ax.plot([values.min(), values.max()], [ym, ym], color=colour, lw=2.5, solid_capstyle="butt")
        ax.plot([float(row["value"].sel(calibration="centre")) * factor], [ym], marker=CENTRE_MARKER,
                color=colour, markeredgecolor="black", markeredgewidth=0.5, linestyle="none")
        _draw_published(ax, row, y + ROW_OFFSET, factor)
    ax.set_yticks(range(len(keys)), keys, fontsize=8)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlabel("share of the earlier difference left (%)" if scale == "fraction"
                  else f"{scale} change (points)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _draw_published(ax, row: xr.Dataset, y: float, factor: float) -> None:
    pub = float(row["published"])
    if math.isnan(pub):
        return
    low, high = float(row["published_ci_low"]), float(row["published_ci_high"])
    if not math.isnan(low):
        ax.plot([low * factor, high * factor], [y, y], color=PUBLISHED_COLOUR, lw=1.2)
    ax.plot([pub * factor], [y], marker=PUBLISHED_MARKER, color=PUBLISHED_COLOUR, linestyle="none", markersize=5)


def _legend_handles() -> list[Line2D]:
    model = [("range overlaps the CI", "model range over the calibrations, ● centre: reaches the published value"),
             ("outside the CI: not reachable by recalibration", "model range, ● centre: not reachable by recalibration"),
             ("no published number", "model range, ● centre: no published number")]
    return [Line2D([], [], color=VERDICT_COLOURS[v], lw=2.5, marker=CENTRE_MARKER, label=label) for v, label in model] + [
        Line2D([], [], color=PUBLISHED_COLOUR, lw=1.2, marker=PUBLISHED_MARKER, label="published estimate ◆ and 95 % CI")]
