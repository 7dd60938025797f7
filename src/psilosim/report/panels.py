"""Figure panels that several links draw: an FC-like matrix with its regions grouped by network.

:func:`fc_matrix_panel` draws the matrix panels of the metrics figures (``analyze``, ``compare``),
the network figures (``scan``, ``fit``) and the trial report's imaging figure. It imports
neither psilosim nor matplotlib at load (the caller passes its figure and axes), so any figure module can use it without
loading a model; each caller keeps its own look through the keyword arguments.
:func:`png_base64` embeds a finished figure in an HTML report (the trial report and its
imaging section).
"""

from __future__ import annotations

import base64
import io

#: The sequential colour map of FC; network boundaries on it are drawn in :data:`BOUNDARY_ON_SEQUENTIAL`.
SEQUENTIAL_MAP = "viridis"
#: Boundary colour on the sequential map (a grey line vanishes in its dark end).
BOUNDARY_ON_SEQUENTIAL = "white"
#: Font size of a panel title (pt).
TITLE_SIZE = 10
#: Width of the colour bar as a fraction of the panel (matplotlib's ``fraction``).
COLOUR_BAR_FRACTION = 0.046
#: Resolution of the PNG figures embedded in the HTML reports (dots per inch).
REPORT_DPI = 110


def fc_matrix_panel(fig, ax, values, blocks, title: str, *, cmap: str, limits: tuple[float, float], label: str,
                    line_colour: str = "grey", line_width: float = 0.6, tick_size: float = 7,
                    row_names: bool = True, boundaries: bool = True) -> None:
    """Draw a regions × regions matrix in network order, with a colour bar labelled ``label``.

    Parameters
    ----------
    fig, ax
        The figure (for the colour bar) and the axes drawn on.
    values
        The matrix, rows and columns already in network order (a blank diagonal is the caller's).
    blocks
        The networks as ``(name, first row, last row + 1)``, in that order
        (:func:`psilosim.connectome.parcellation.network_order`); names are the ticks at block centres.
    title
        Panel title.
    cmap, limits
        Colour map and its ``(low, high)``.
    label
        Colour bar label (what the values are, with their unit).
    line_colour, line_width
        Network boundaries: ``line_colour`` on a diverging map, :data:`BOUNDARY_ON_SEQUENTIAL`
        on :data:`SEQUENTIAL_MAP`; ``line_width`` in points.
    tick_size
        Font size of the network names (pt).
    row_names
        Name the networks along the rows too (``False``: panels right of one that does).
    boundaries
        Draw the lines between networks.
    """
    image = ax.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    if boundaries:
        colour = BOUNDARY_ON_SEQUENTIAL if cmap == SEQUENTIAL_MAP else line_colour
        for _, _, end in blocks[:-1]:
            ax.axhline(end - 0.5, color=colour, lw=line_width)
            ax.axvline(end - 0.5, color=colour, lw=line_width)
    centres = [(start + end - 1) / 2 for _, start, end in blocks]
    names = [name for name, _, _ in blocks]
    ax.set_xticks(centres, names, rotation=90, fontsize=tick_size)
    ax.set_yticks(centres, names if row_names else [], fontsize=tick_size)
    ax.set_title(title, fontsize=TITLE_SIZE)
    fig.colorbar(image, ax=ax, fraction=COLOUR_BAR_FRACTION).set_label(label)


def png_base64(fig) -> str:
    """``fig`` as a base64-encoded PNG (ASCII text for an HTML ``img`` tag); closes the figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=REPORT_DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


__all__ = ["fc_matrix_panel", "png_base64"]
