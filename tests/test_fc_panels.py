"""The FC-matrix panel (regions in network order, network boundaries and names, a labelled colour
bar) as the metrics, network and rewiring figures draw it.

Each figure keeps its own look (line colour and width, tick size, which axes name the networks);
these tests pin that look, and one drawer (:func:`psilosim.report.panels.fc_matrix_panel`) draws
every such panel, so a fix to it reaches all figures.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from _fit_data import dmf_fit_result  # noqa: E402
from _metrics_data import region_table  # noqa: E402
from psilosim.connectome import load_dataset  # noqa: E402
from psilosim.connectome.parcellation import network_order  # noqa: E402

WHITE, GREY, DARK_GREY = mcolors.to_rgba("white"), mcolors.to_rgba("grey"), mcolors.to_rgba("0.4")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def _blocks(regions, labels):
    return network_order(regions.loc[list(labels)])[1]


@pytest.fixture
def drawn(monkeypatch):
    """The axes each figure module hands to the shared drawer, which still draws them."""
    import psilosim.clinical.imaging as clinical_imaging
    import psilosim.metrics.figures as metrics_figures
    import psilosim.network.figures as network_figures
    from psilosim.report.panels import fc_matrix_panel

    axes = []

    def spy(fig, ax, *args, **kwargs):
        axes.append(ax)
        return fc_matrix_panel(fig, ax, *args, **kwargs)

    for module in (metrics_figures, network_figures, clinical_imaging):
        monkeypatch.setattr(module, "fc_matrix_panel", spy)
    return axes


def _image_panels(fig, drawn):
    """The figure's matrix panels, once shown to be drawn each by the shared drawer
    (:func:`psilosim.report.panels.fc_matrix_panel`): a second copy of the panel would drift apart."""
    panels = [ax for ax in fig.axes if ax.images]
    assert panels and [id(ax) for ax in panels] == [id(ax) for ax in drawn if ax.figure is fig]
    return panels


def _boundaries(ax):
    """(position, colour, width) of the horizontal and vertical network boundaries."""
    horizontal = [(line.get_ydata()[0], mcolors.to_rgba(line.get_color()), line.get_linewidth())
                  for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]]
    vertical = [(line.get_xdata()[0], mcolors.to_rgba(line.get_color()), line.get_linewidth())
                for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]]
    return horizontal, vertical


def _assert_panel(ax, blocks, *, colour, width, tick_size, row_names=True, lines=True):
    names = [name for name, _, _ in blocks]
    centres = [(start + end - 1) / 2 for _, start, end in blocks]
    horizontal, vertical = _boundaries(ax)
    expected = [(end - 0.5, colour, width) for _, _, end in blocks[:-1]] if lines else []
    assert horizontal == expected and vertical == expected
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert list(ax.get_xticks()) == pytest.approx(centres)
    assert all(t.get_rotation() == 90 and t.get_fontsize() == tick_size for t in ax.get_xticklabels())
    assert list(ax.get_yticks()) == pytest.approx(centres)
    assert [t.get_text() for t in ax.get_yticklabels()] == (names if row_names else [""] * len(names))
    assert all(t.get_fontsize() == tick_size for t in ax.get_yticklabels())
    assert ax.title.get_fontsize() == 10
    assert ax.images[0].get_interpolation() == "nearest"


def _colour_bar(ax):
    return ax.images[0].colorbar.ax.get_ylabel()


# ------------------------------------------------------------------ metrics (analyze, compare)
def _bold(seed, n_regions, networks):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((len(networks), 200))
    return latent[np.arange(n_regions) % len(networks)] + rng.standard_normal((n_regions, 200))


def test_the_metrics_figures_keep_their_fc_panels(drawn):
    from psilosim.metrics import analyze, compare
    from psilosim.metrics.figures import DELTA_LABEL, FC_LABEL, analysis_figure, comparison_figure

    networks = ["Default", "Vis", "SomMot", "Limbic"]
    regions = region_table(12, networks)
    before, after = analyze(_bold(0, 12, networks), regions, tr_s=2.0), analyze(_bold(1, 12, networks), regions, tr_s=2.0)
    blocks = _blocks(regions, before["fc"]["region_i"].values)
    (fc,) = _image_panels(analysis_figure(before, regions), drawn)
    _assert_panel(fc, blocks, colour=WHITE, width=0.8, tick_size=8)
    assert fc.images[0].get_cmap().name == "viridis" and _colour_bar(fc) == FC_LABEL
    assert np.isnan(np.diag(fc.images[0].get_array().filled(np.nan))).all()  # r = 1 left blank
    first, second, delta = _image_panels(comparison_figure(before, after, compare(before, after, regions), regions), drawn)
    for ax in (first, second):
        _assert_panel(ax, blocks, colour=WHITE, width=0.8, tick_size=8)
        assert _colour_bar(ax) == FC_LABEL
    _assert_panel(delta, blocks, colour=DARK_GREY, width=0.8, tick_size=8)
    assert delta.images[0].get_cmap().name == "RdBu_r" and _colour_bar(delta) == DELTA_LABEL
    lo, hi = delta.images[0].get_clim()
    assert lo == -hi


# ------------------------------------------------------------------ network (scan, fit)
def test_the_scan_figure_keeps_its_fc_panels(aal2, drawn):
    from psilosim.network import scan as sc
    from psilosim.network.figures import fc_quantity, plot_scan

    session = sc.linear_session(aal2, 0.6, maps=("receptor",))
    summary = {"gain_map": "receptor", **sc.summarise(session, aal2, condition="receptor"), "compare_maps": {}}
    base, drug, delta = _image_panels(plot_scan(session, aal2, summary), drawn)
    blocks = _blocks(aal2.regions, aal2.labels)
    full = fc_quantity(session)[1]
    for ax in (base, drug):
        _assert_panel(ax, blocks, colour=WHITE, width=0.6, tick_size=7)
        assert ax.images[0].get_cmap().name == "viridis" and _colour_bar(ax) == f"FC: {full}"
        assert np.isnan(np.diag(ax.images[0].get_array().filled(np.nan))).all()
    assert base.images[0].get_clim() == drug.images[0].get_clim()
    _assert_panel(delta, blocks, colour=GREY, width=0.6, tick_size=7)
    assert delta.images[0].get_cmap().name == "RdBu_r" and _colour_bar(delta) == f"ΔFC: Δ {full}"


def test_the_fit_figure_keeps_its_fc_pair(aal2, drawn):
    from psilosim.network.figures import FC_LABEL, plot_fit

    fig = plot_fit({"dmf": dmf_fit_result([2.9] * 3, [3.1] * 3, [np.nan] * 3)}, aal2,
                   model_fc=np.full((aal2.n_regions, aal2.n_regions), 0.2))
    empirical, model = _image_panels(fig, drawn)
    blocks = _blocks(aal2.regions, aal2.labels)
    for ax in (empirical, model):
        _assert_panel(ax, blocks, colour=WHITE, width=0.6, tick_size=7, lines=False)
        assert ax.images[0].get_cmap().name == "viridis" and ax.images[0].get_clim() == (-1.0, 1.0)
        assert _colour_bar(ax) == FC_LABEL


# ------------------------------------------------------------------ rewiring (trial report)
def test_the_trial_reports_fc_figure_keeps_its_panels(drawn):
    from psilosim.clinical.imaging import fc_figure

    regions = load_dataset("tvb76").regions
    labels = list(regions.index)
    rng = np.random.default_rng(1)
    before = rng.uniform(0, 1, (len(labels), len(labels)))
    coords = {"region_i": labels, "region_j": labels}
    fc0 = xr.DataArray(before, dims=("region_i", "region_j"), coords=coords)
    fc1 = xr.DataArray(before + 0.01, dims=("region_i", "region_j"), coords=coords)
    first, second, delta = _image_panels(fc_figure("psilocybin", 3, 21.0, fc0, fc1, regions), drawn)
    blocks = _blocks(regions, labels)
    _assert_panel(first, blocks, colour=WHITE, width=0.6, tick_size=7)
    _assert_panel(second, blocks, colour=WHITE, width=0.6, tick_size=7, row_names=False)
    _assert_panel(delta, blocks, colour=GREY, width=0.6, tick_size=7, row_names=False)
    assert [first.images[0].get_clim(), second.images[0].get_clim()] == [(0.0, 1.0), (0.0, 1.0)]
    assert [_colour_bar(ax) for ax in (first, second, delta)] == ["Pearson r", "Pearson r", "Δr"]
