"""Figures of ``psilosim analyze`` and ``psilosim compare`` (:mod:`psilosim.metrics.figures`): the FC
matrix ordered by network, the per-network and per-region measures the commands print, and the
changes of a comparison on a colour scale centred at zero."""

from __future__ import annotations

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _metrics_data import region_table
from psilosim.errors import InputError

#: Four networks interleaved over 12 regions: the region table's own order is not network order.
NETWORKS = ["Default", "Vis", "SomMot", "Limbic"]
N_REGIONS, N_SAMPLES, TR_S = 12, 200, 2.0


def synthetic_bold(seed: int, noise: float) -> np.ndarray:
    """Regions × time: each network's regions follow one latent signal plus independent noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((len(NETWORKS), N_SAMPLES))
    return latent[np.arange(N_REGIONS) % len(NETWORKS)] + noise * rng.standard_normal((N_REGIONS, N_SAMPLES))


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return region_table(N_REGIONS, NETWORKS)


@pytest.fixture(scope="module")
def analysed(regions):
    from psilosim.metrics import analyze

    before = analyze(synthetic_bold(0, 0.8), regions, tr_s=TR_S)
    after = analyze(synthetic_bold(1, 1.6), regions, tr_s=TR_S)
    return before, after


@pytest.fixture(scope="module")
def analysis_fig(analysed, regions):
    from psilosim.metrics.figures import analysis_figure

    return analysis_figure(analysed[0], regions, source="before.npy")


@pytest.fixture(scope="module")
def comparison_fig(analysed, regions):
    from psilosim.metrics import compare
    from psilosim.metrics.figures import comparison_figure

    before, after = analysed
    return comparison_figure(before, after, compare(before, after, regions), regions,
                             names=("before.npy", "after.npy"))


def panel(fig, name):
    found = [ax for ax in fig.axes if ax.get_label() == name]
    assert len(found) == 1, [ax.get_label() for ax in fig.axes]
    return found[0]


def network_ordered(regions, values):
    """``values`` (a regions × regions FC) rows and columns grouped by network, first-appearance order."""
    order = np.concatenate([np.flatnonzero(regions["network"].to_numpy() == n) for n in NETWORKS])
    return np.asarray(values)[np.ix_(order, order)]


def tick_texts(axis):
    return [t.get_text() for t in axis.get_ticklabels()]


def colorbar_of(image):
    return image.colorbar.ax.get_ylabel()


# ------------------------------------------------------------------ analyze
def test_analysis_fc_matrix_is_ordered_by_network_with_boundaries_and_network_ticks(analysis_fig, analysed, regions):
    ax = panel(analysis_fig, "fc")
    image = ax.get_images()[0]
    expected = network_ordered(regions, analysed[0]["fc"].values)
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(np.asarray(image.get_array().filled(np.nan)), expected)
    assert tick_texts(ax.xaxis) == NETWORKS and tick_texts(ax.yaxis) == NETWORKS
    # one boundary between each pair of adjacent network blocks, on both axes
    assert len(ax.get_lines()) == 2 * (len(NETWORKS) - 1)
    assert "Pearson r" in colorbar_of(image)


def test_analysis_bars_show_the_printed_per_network_values(analysis_fig, analysed):
    from psilosim.metrics import summary

    printed = summary(analysed[0])
    within = panel(analysis_fig, "network_fc")
    heights = [bar.get_height() for bar in within.containers[0]]
    assert heights == pytest.approx([printed["fc_by_network"][n] for n in NETWORKS])
    between = [bar.get_height() for bar in within.containers[1]]
    assert between == pytest.approx([printed["fc_between_by_network"][n] for n in NETWORKS])
    flex = panel(analysis_fig, "flexibility")
    assert [b.get_height() for b in flex.containers[0]] == pytest.approx(
        [printed["flexibility_by_network"][n] for n in NETWORKS])
    assert tick_texts(within.xaxis) == NETWORKS and tick_texts(flex.xaxis) == NETWORKS


def test_analysis_participation_is_per_region_coloured_by_network(analysis_fig, analysed, regions):
    ax = panel(analysis_fig, "participation")
    assert len(ax.containers) == 1
    bars = list(ax.containers[0])
    assert len(bars) == N_REGIONS
    colours = {}
    ordered = np.concatenate([np.flatnonzero(regions["network"].to_numpy() == n) for n in NETWORKS])
    for bar, row in zip(bars, ordered, strict=True):
        colours.setdefault(regions["network"].iloc[row], set()).add(matplotlib.colors.to_hex(bar.get_facecolor()))
        assert bar.get_height() == pytest.approx(float(analysed[0]["participation"].values[row]))
    assert all(len(c) == 1 for c in colours.values())          # one colour per network ...
    assert len(set.union(*colours.values())) == len(NETWORKS)  # ... and a different one for each
    assert [t.get_text() for t in ax.get_legend().get_texts()] == NETWORKS


def test_analysis_axes_carry_units_and_the_title_names_the_recording(analysis_fig, analysed):
    for name in ("network_fc", "flexibility", "participation"):
        label = panel(analysis_fig, name).get_ylabel()
        assert "(" in label and label.endswith(")"), label
    title = analysis_fig.get_suptitle()
    assert "before.npy" in title and f"{N_REGIONS} regions" in title and f"TR {TR_S:g} s" in title
    text = " ".join(t.get_text() for t in panel(analysis_fig, "summary").texts)
    assert f"{float(analysed[0]['modularity']):.3f}" in text and "flexibility" in text


def test_analysis_figure_refuses_a_region_table_without_the_results_regions(analysed, regions):
    from psilosim.metrics.figures import analysis_figure

    with pytest.raises(InputError) as err:
        analysis_figure(analysed[0], regions.iloc[:-1])
    assert err.value.field == "regions" and regions.index[-1] in str(err.value)


# ------------------------------------------------------------------ compare
def test_comparison_matrices_share_one_scale_and_the_change_is_centred_at_zero(comparison_fig, analysed, regions):
    before, after = analysed
    images = {name: panel(comparison_fig, name).get_images()[0] for name in ("fc_before", "fc_after", "fc_delta")}
    assert images["fc_before"].get_clim() == images["fc_after"].get_clim()
    low, high = images["fc_delta"].get_clim()
    assert low == pytest.approx(-high) and high > 0
    delta = network_ordered(regions, after["fc"].values - before["fc"].values)
    np.fill_diagonal(delta, np.nan)
    np.testing.assert_allclose(images["fc_delta"].get_array().filled(np.nan), delta)
    assert np.nanmax(np.abs(delta)) <= high
    assert images["fc_delta"].get_cmap().name == "RdBu_r"
    for name, image in images.items():
        ax = panel(comparison_fig, name)
        assert tick_texts(ax.xaxis) == NETWORKS
        assert ("Δ" in colorbar_of(image)) == (name == "fc_delta")


def test_comparison_bars_are_the_printed_changes_with_units(comparison_fig, analysed, regions):
    from psilosim.metrics import compare, compare_summary

    printed = compare_summary(compare(*analysed, regions))
    ax = panel(comparison_fig, "changes")
    names = tick_texts(ax.yaxis)
    widths = [bar.get_width() for bar in ax.containers[0]]
    assert len(names) == len(widths) >= 6
    written = [t.get_text() for t in ax.texts]
    for name, width, text in zip(names, widths, written, strict=True):
        value = printed["delta"][name]
        if value is None:  # not computable (no hippocampus here): no bar, a dash
            assert width == 0.0 and text == "—"
        else:
            assert width == pytest.approx(value) and text == f"{value:+.3f}"
    assert "n_communities" not in names and "number of communities" in ax.get_title()
    assert "after − before" in ax.get_xlabel() and "(" in ax.get_xlabel()
    desync = panel(comparison_fig, "desync")
    assert tick_texts(desync.xaxis) == NETWORKS
    assert [b.get_height() for b in desync.containers[0]] == pytest.approx(
        [printed["desync"]["by_network"]["mean_abs_diff"][n] for n in NETWORKS])
    assert "(" in desync.get_ylabel()
    assert f"{printed['fcd_ks']:.3f}" in desync.get_title()
    title = comparison_fig.get_suptitle()
    assert "before.npy" in title and "after.npy" in title


@pytest.mark.parametrize(("figure", "lowest"), [("analysis_fig", "participation"), ("comparison_fig", "changes")])
def test_the_research_use_footer_stays_clear_of_the_lowest_axis_label(figure, lowest, request):
    fig = request.getfixturevalue(figure)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    footer = [t for t in fig.texts if "simulator" in t.get_text()]
    assert len(footer) == 1
    assert footer[0].get_window_extent(renderer).y1 <= panel(fig, lowest).xaxis.label.get_window_extent(renderer).y0


# ------------------------------------------------------------------ network order
@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Default", "Vis", "SomMot", "Limbic", "Cont"]), min_size=2, max_size=30))
def test_network_order_groups_every_network_in_one_contiguous_block(members):
    from psilosim.metrics.figures import network_blocks

    table = pd.DataFrame({"network": members}, index=[f"x{i}" for i in range(len(members))])
    labels, blocks = network_blocks(table, list(reversed(table.index)))
    assert sorted(labels) == sorted(table.index)                      # a permutation of the regions
    assert [name for name, _, _ in blocks] == list(dict.fromkeys(table.loc[list(reversed(table.index)), "network"]))
    assert blocks[0][1] == 0 and blocks[-1][2] == len(labels)
    for name, start, end in blocks:
        assert set(table.loc[labels[start:end], "network"]) == {name}
