"""Figures of ``psilosim scan --plot`` and ``psilosim fit --plot``: the panels show the numbers the
commands print, the noise floor and the chosen G where they belong, and a bad file is refused
before any simulation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from _fit_data import dmf_fit_result
from psilosim.cli import app
from psilosim.connectome import load_dataset
from psilosim.network import scan as sc
from psilosim.network.figures import fc_quantity, plot_fit, plot_scan, regional_change

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def linear(aal2):
    """An expected-FC session with the receptor and uniform maps (no noise floor)."""
    return sc.linear_session(aal2, 0.6, maps=("receptor", "uniform"))


def _summary(session, parcellation, compare=("uniform",)):
    out = {"gain_map": "receptor", **sc.summarise(session, parcellation, condition="receptor")}
    out["compare_maps"] = {m: sc.summarise(session, parcellation, condition=m) for m in compare}
    return out


def _bar_heights(ax, n_networks: int, k: int) -> list[float]:
    """Heights of the k-th map's bars (bars are drawn map by map)."""
    return [p.get_height() for p in ax.patches[k * n_networks:(k + 1) * n_networks]]


def test_scan_figure_has_one_bar_per_network_and_map_with_the_printed_values(aal2, linear):
    summary = _summary(linear, aal2)
    fig = plot_scan(linear, aal2, summary, title="t")
    bars, scatter, base, drug, delta = fig.axes[:5]
    networks = aal2.networks
    assert len(bars.patches) == 2 * len(networks)
    assert [t.get_text() for t in bars.get_xticklabels()] == networks
    assert _bar_heights(bars, len(networks), 0) == pytest.approx([summary["fc_change_by_network"][n] for n in networks])
    uniform = summary["compare_maps"]["uniform"]["fc_change_by_network"]
    assert _bar_heights(bars, len(networks), 1) == pytest.approx([uniform[n] for n in networks])
    assert [t.get_text() for t in bars.get_legend().get_texts()] == ["receptor map", "uniform map"]  # no floor
    assert "|ΔFC|" in bars.get_ylabel()
    colour_bars = [ax.get_ylabel() for ax in fig.axes[5:]]
    full = fc_quantity(linear)[1]  # the linear session's FC is of S_E, not BOLD
    assert colour_bars == [f"FC: {full}", f"FC: {full}", f"ΔFC: Δ {full}"] and "S_E" in full
    lo, hi = delta.images[0].get_clim()
    assert lo == pytest.approx(-hi) and hi > 0
    # matrices ordered by network: each network named once on the axis
    assert sorted(t.get_text() for t in base.get_yticklabels()) == sorted(networks)


def test_scan_figure_scatter_reports_the_correlation_with_density(aal2, linear):
    fig = plot_scan(linear, aal2, _summary(linear, aal2, compare=()))
    scatter = fig.axes[1]
    fc = linear["fc"]
    change = regional_change(fc.sel(condition="receptor").values, fc.sel(condition="baseline").values, "fc_change")
    r = np.corrcoef(aal2.receptor_map("5HT2A").values, change)[0, 1]
    assert scatter.get_legend().get_texts()[0].get_text().endswith(f"r = {r:.2f}")
    assert "5-HT2A" in scatter.get_xlabel()
    assert len(scatter.collections[0].get_offsets()) == aal2.n_regions


def test_scan_figure_draws_each_networks_noise_floor_when_there_is_a_second_baseline(aal2, linear):
    # a session with BOLD and a second baseline that differs from the first: a simulated one's layout
    fc = linear["fc"].copy()
    repeat = fc.sel(condition="baseline").values * 0.5
    np.fill_diagonal(repeat, 1.0)
    fc.loc[{"condition": "baseline_repeat"}] = repeat
    session = linear.assign(fc=fc, bold=xr.DataArray(np.zeros(1)))
    fig = plot_scan(session, aal2, _summary(linear, aal2, compare=()))
    bars = fig.axes[0]
    floors = [c for c in bars.collections if c.get_label() == "noise floor (second baseline)"]
    assert len(floors) == 1
    expected = sc.fc_change(repeat, fc.sel(condition="baseline").values, aal2)[0]
    heights = [seg[0][1] for seg in floors[0].get_segments()]
    assert heights == pytest.approx([expected[n] for n in aal2.networks])


def test_scan_figure_can_show_the_seed_map_distance(aal2, linear):
    summary = _summary(linear, aal2, compare=())
    fig = plot_scan(linear, aal2, summary, measure="fc_distance")
    bars = fig.axes[0]
    assert _bar_heights(bars, len(aal2.networks), 0) == pytest.approx(
        [summary["fc_distance_by_network"][n] for n in aal2.networks])
    assert "seed-map distance" in bars.get_ylabel()


def test_fit_figure_marks_the_chosen_g_and_greys_g_outside_the_rate_rule(aal2):
    # G = 1.5 has the best fc_corr but a region at 9 Hz: outside the rule, so 1.0 is chosen
    result = dmf_fit_result([2.9, 2.9, 2.9], [3.1, 3.1, 9.0], [0.3, 0.2, 0.25])
    fig = plot_fit({"dmf": result}, aal2)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    chosen = lines["chosen G = 1"]
    assert list(chosen.get_xdata()) == [1.0, 1.0]
    assert list(lines["outside the FIC rate rule"].get_xdata()) == [1.5]
    assert ax.get_xlabel() == "global coupling G" and "fc_corr" in ax.get_ylabel()
    assert any("fcd_ks" in other.get_ylabel() for other in fig.axes[1:])  # KS on a second axis
    assert not any(a.get_title() == "empirical FC" for a in fig.axes)  # no model FC given: no FC panel


def test_fit_figure_without_ks_or_excluded_g_has_neither(aal2):
    fig = plot_fit({"dmf": dmf_fit_result([2.9] * 3, [3.1] * 3, [np.nan] * 3)}, aal2)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "outside the FIC rate rule" not in labels
    assert len(fig.axes) == 1


def test_fit_figure_shows_empirical_and_model_fc_when_given(aal2):
    model_fc = np.eye(aal2.n_regions)
    fig = plot_fit({"dmf": dmf_fit_result([2.9] * 3, [3.1] * 3, [np.nan] * 3)}, aal2, model_fc=model_fc)
    titles = [a.get_title() for a in fig.axes]
    assert "empirical FC" in titles and any(t.startswith("model FC (dmf, G = 1)") for t in titles)


@pytest.mark.parametrize("args", [
    ["scan", "--method", "linear", "--occupancy", "0.6"],
    ["fit", "--model", "hopf", "--minutes", "0.5"],
])
def test_cli_plot_writes_a_png_and_reports_it(tmp_path, args):
    target = tmp_path / "figs" / "out.png"
    result = runner.invoke(app, [*args, "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("command", [["scan"], ["fit", "--model", "hopf"]])
def test_cli_plot_with_a_bad_suffix_is_one_line_naming_plot(tmp_path, command, monkeypatch):
    def no_simulation(*_, **__):
        raise AssertionError("simulated before refusing the figure file")

    monkeypatch.setattr("psilosim.connectome.load_dataset", no_simulation)
    result = runner.invoke(app, [*command, "--plot", str(tmp_path / "fig.txt")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0] and ".png" in lines[0]
    assert not (tmp_path / "fig.txt").exists()
