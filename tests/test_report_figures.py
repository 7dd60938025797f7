"""The trial report's figures (:mod:`psilosim.report.trial`, :mod:`psilosim.clinical.imaging`):
what each figure draws (offsets, colours, labels, published overlays), not its pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from psilosim.clinical.imaging import fc_figure  # noqa: E402
from psilosim.clinical.presets import get_preset  # noqa: E402
from psilosim.clinical.stats import summarize  # noqa: E402
from psilosim.clinical.trial import run_trial  # noqa: E402
from psilosim.connectome import load_dataset  # noqa: E402
from psilosim.report.trial import (  # noqa: E402
    RELATIVE_QUANTITIES,
    arm_colours,
    biology_figure,
    rates_figure,
    trajectory_figure,
)


@pytest.fixture(scope="module")
def raison():
    design = get_preset("raison2023")
    ds = run_trial(design, n_patients=12, seed=5)
    return ds, summarize(ds), design


@pytest.fixture(scope="module")
def carhart():
    design = get_preset("carhart2021")
    ds = run_trial(design, n_patients=12, seed=5)
    return ds, summarize(ds), design


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _series(ax):
    """The errorbar containers of an axes by legend label: (x, y) of each data line."""
    return {c.get_label(): c.lines[0].get_data() for c in ax.containers if hasattr(c, "has_yerr")}


# Guards against the two arms' error bars being drawn on top of each other at every visit.
def test_arms_are_offset_at_each_visit(raison):
    _, summary, design = raison
    ax = trajectory_figure(summary, design).axes[0]
    series = _series(ax)
    sim = [np.asarray(x) for label, (x, _) in series.items() if "simulated" in label]
    assert len(sim) == 2
    shift = sim[1] - sim[0]
    assert np.all(shift > 0) and np.all(shift < 1.0)   # apart, but by less than a day


# Guards against the published arm means being left out of the change-by-visit figure.
def test_published_means_and_cis_are_overlaid(raison):
    _, summary, design = raison
    ax = trajectory_figure(summary, design).axes[0]
    published = {label: c for c in ax.containers if (label := c.get_label()) and "published" in label}
    assert set(published) == {"psilocybin, published, n=51", "niacin, published, n=53"}
    container = published["psilocybin, published, n=51"]
    _, y = container.lines[0].get_data()
    assert list(y) == [-2.7, -17.8, -18.0, -19.2, -19.1]
    segments = container.lines[2][0].get_segments()
    lows = sorted(float(min(s[:, 1])) for s in segments)
    assert lows == sorted([-4.1, -21.1, -21.3, -22.6, -22.7])
    assert container.lines[0].get_marker() == "s"           # distinct from the simulated circles


def test_a_published_primary_change_with_se_is_drawn_at_the_primary_day(carhart):
    _, summary, design = carhart
    ax = trajectory_figure(summary, design).axes[0]
    published = [c for c in ax.containers if "published" in c.get_label()]
    assert len(published) == 2
    x, y = published[0].lines[0].get_data()
    assert y[0] == -8.0 and abs(x[0] - 42) < 1.0
    lo = float(min(published[0].lines[2][0].get_segments()[0][:, 1]))
    assert lo == pytest.approx(-8.0 - 1.96 * 1.0, abs=1e-3)


# Guards against bars coloured by response/remission while every other figure colours by arm.
def test_rate_bars_are_coloured_by_arm_and_remission_is_hatched(carhart):
    _, summary, design = carhart
    ax = rates_figure(summary, design).axes[0]
    colours = arm_colours(design.arm_names)
    bars = [b for c in ax.containers if hasattr(c, "patches") for b in c.patches]
    by_label = {c.get_label(): c.patches for c in ax.containers if hasattr(c, "patches")}
    assert len(bars) == 4
    for key in ("simulated response", "simulated remission"):
        for bar, arm in zip(by_label[key], design.arm_names, strict=True):
            assert matplotlib.colors.same_color(bar.get_facecolor(), colours[arm])
    assert all(b.get_hatch() for b in by_label["simulated remission"])
    assert not any(b.get_hatch() for b in by_label["simulated response"])
    traj = trajectory_figure(summary, design).axes[0]
    for label, container in ((c.get_label(), c) for c in traj.containers):
        arm = label.split(",")[0]
        assert matplotlib.colors.same_color(container.lines[0].get_color(), colours[arm])


def test_published_response_rates_are_marked(carhart):
    _, summary, design = carhart
    ax = rates_figure(summary, design).axes[0]
    marks = [line for line in ax.lines if "published" in line.get_label()]
    assert len(marks) == 1
    assert list(marks[0].get_ydata()) == pytest.approx([70.0, 48.0])
    assert "published" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


# Guards against a rate published at 24 h being drawn on bars of another (primary) day.
def test_a_published_rate_of_another_day_is_not_drawn_on_the_primary_day_bars(carhart):
    _, summary, design = carhart
    moved = design.model_copy(update={"published": {**design.published,
                                                    "response_24h": dict(design.published["response_rate"])}})
    marks = [line for line in rates_figure(summary, moved).axes[0].lines if "published" in line.get_label()]
    assert len(marks) == 1  # only the day-42 response rate; the 24-h one belongs to day 1


# Guards against unlabelled y axes, a reference line on one panel only, a legend over the curves
# and a daily course presented as if it resolved the acute peaks.
def test_biology_panels_have_units_reference_lines_and_a_sampling_note(raison):
    ds, summary, design = raison
    fig = biology_figure(ds, list(summary["arms"]), design)
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_ylabel()
        assert ax.get_legend() is None
    relative = [ax for ax in axes if "= 1" in ax.get_ylabel()]
    assert len(relative) == len(RELATIVE_QUANTITIES & set(ds["quantity"].values)) == 3
    for ax in relative:
        assert any(np.allclose(line.get_ydata(), 1.0) and len(line.get_ydata()) == 2 for line in ax.lines)
    assert len(fig.legends) == 1
    assert any("daily" in t.get_text() and "not resolved" in t.get_text() for t in fig.texts)


def _fc(labels, values):
    return xr.DataArray(values, dims=("region_i", "region_j"), coords={"region_i": labels, "region_j": labels})


# Guards against the AAL2 order (alternating hemispheres: a checkerboard), unlabelled colourbars,
# the arm and patient repeated in every panel and an asymmetric difference scale.
def test_fc_figure_orders_regions_by_network_and_labels_the_colourbars():
    regions = load_dataset("aal2").regions
    labels = list(regions.index)
    rng = np.random.default_rng(0)
    before = rng.uniform(0, 1, (len(labels), len(labels)))
    after = before + rng.normal(0, 1e-3, before.shape) + 2e-3
    fig = fc_figure("psilocybin", 7, 42.0, _fc(labels, before), _fc(labels, after), regions)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    networks = list(dict.fromkeys(regions["network"]))
    assert [t.get_text() for t in panels[0].get_yticklabels()] == networks
    assert [t.get_text() for t in panels[2].get_xticklabels()] == networks
    # rows of the drawn matrix are grouped by network, left hemisphere first inside each
    drawn = panels[0].images[0].get_array()
    order = regions.assign(n=regions["network"].map(networks.index)).sort_values(["n", "hemisphere"], kind="stable")
    rows = [labels.index(r) for r in order.index]
    np.testing.assert_allclose(drawn, before[np.ix_(rows, rows)])
    bars = [ax.get_ylabel() for ax in fig.axes if not ax.images]
    assert bars == ["Pearson r", "Pearson r", "Δr"]
    assert "psilocybin" in fig._suptitle.get_text() and "7" in fig._suptitle.get_text()
    assert not any("psilocybin" in ax.get_title() for ax in panels)
    lo, hi = panels[2].images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(after - before).max())


# Guards against the docs' Raison figure using its own copy of the published means without their
# CIs, and against a legend without both sample sizes.
def test_docs_raison_figure_draws_the_presets_published_cis(raison):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "make_clinical_tables.py"
    spec = importlib.util.spec_from_file_location("make_clinical_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ds, summary, design = raison
    ax = module.raison_plot({"raison2023": ds}).axes[0]
    assert not hasattr(module, "RAISON_PUBLISHED")
    assert ax.get_title() == "Raison et al. 2023: MADRS change after one 25 mg dose vs niacin"
    published = design.published
    for arm in design.arm_names:
        (container,) = [c for c in ax.containers if c.get_label().startswith(f"{arm}, published")]
        assert f"n={published['n'][arm]}" in container.get_label()
        _, y = container.lines[0].get_data()
        assert list(y) == list(published["change_by_day"][arm].values())
        lows = [float(min(seg[:, 1])) for seg in container.lines[2][0].get_segments()]
        assert lows == pytest.approx([ci[0] for ci in published["change_by_day_ci"][arm].values()])
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert f"{arm}, simulated (n={summary['arms'][arm]['n']}; mean, 95 % CI)" in labels
