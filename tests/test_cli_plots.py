"""``--plot FILE`` of pk, spines and window: the figure is written, says what it shows, and bad
paths are one line naming --plot."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from psilosim.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args", [
    ["pk", "--compound", "psilocybin", "--dose", "25 mg"],
    ["spines", "--species", "mouse", "--compound", "psilocybin", "--days", "7"],
    ["window", "--species", "mouse", "--compound", "psilocybin"],
])
def test_plot_writes_a_png_and_reports_its_path(tmp_path, args):
    target = tmp_path / "figs" / "out.png"   # a folder that does not exist yet
    result = CliRunner().invoke(app, [*args, "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_with_an_unknown_suffix_is_one_line_naming_plot(tmp_path):
    result = CliRunner().invoke(app, ["pk", "--compound", "psilocybin", "--dose", "25 mg",
                                      "--plot", str(tmp_path / "fig.txt")])
    assert result.exit_code == 2
    assert "--plot" in result.output and ".png" in result.output and not (tmp_path / "fig.txt").exists()


# The figure functions: panels with units, the closed level drawn, a window-only run without a
# spine panel, and the time axis cropped where asked.
def test_slow_chain_figure_panels_and_labels():
    from psilosim.plasticity import simulate_plasticity
    from psilosim.regimen import Regimen
    from psilosim.synapses import simulate_slow_chain
    from psilosim.synapses.chain import acute_drive
    from psilosim.synapses.figures import plot_slow_chain

    treatments = [("psilocybin", Regimen.single("1 mg/kg", route="ip"))]
    full = plot_slow_chain(simulate_slow_chain(treatments, species="mouse", days=10))
    labels = [ax.get_ylabel() for ax in full.axes]
    assert len(labels) == 3 and "(%)" in labels[0] and "(0–1)" in labels[2]
    assert any("closed below 0.5" in t.get_text() for t in full.axes[2].get_legend().get_texts())
    window_only = simulate_plasticity(acute_drive(treatments, species="mouse", days=10), species="mouse", days=10)
    short = plot_slow_chain(window_only, days_shown=5.0)
    assert len(short.axes) == 2 and short.axes[-1].get_xlim()[1] == pytest.approx(5.0)


def _acute_25mg(t_end_h=24.0):
    from psilosim.binding import simulate_acute
    from psilosim.regimen import Regimen

    return simulate_acute([("psilocybin", Regimen.single("25 mg"))], t_end_h=t_end_h)


def test_acute_figure_merges_equal_occupancy_curves_and_keeps_the_rest_apart():
    from psilosim.binding.figures import plot_acute

    fig = plot_acute(_acute_25mg())
    lines = fig.axes[1].get_lines()
    labels = [line.get_label() for line in lines]
    # psilocin is membrane-permeable: surface and intracellular 5-HT2A are one curve, drawn once
    assert labels.count("5-HT2A (surface = intracellular)") == 1
    assert not any("_" in label for label in labels)
    styles = [line.get_linestyle() for line in lines]
    assert len(styles) >= 2 and len(set(styles)) == len(styles)


def test_acute_figure_crops_the_flat_tail():
    from psilosim.binding import simulate_acute
    from psilosim.binding.figures import HOURS_AXIS_MARGIN, hours_axis_limit, plot_acute
    from psilosim.regimen import Regimen

    ds = simulate_acute([("ketamine", Regimen.single("35 mg"))], t_end_h=48)
    limit = hours_axis_limit(ds)
    assert limit < 40.0
    right = plot_acute(ds).axes[-1].get_xlim()[1]
    assert right == pytest.approx(min(limit * (1 + HOURS_AXIS_MARGIN), 48.0))


def _text_clear_of_xlabel(fig) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    footer = [t for t in fig.texts if "simulator" in t.get_text()][0].get_window_extent(renderer)
    xlabel = fig.axes[-1].xaxis.label.get_window_extent(renderer)
    return footer.y1 <= xlabel.y0


def test_disclaimer_footer_does_not_overlap_the_x_label():
    from psilosim.binding.figures import plot_acute
    from psilosim.regimen import Regimen
    from psilosim.synapses import simulate_slow_chain
    from psilosim.synapses.figures import plot_slow_chain

    assert _text_clear_of_xlabel(plot_acute(_acute_25mg(12.0)))
    chain = simulate_slow_chain([("psilocybin", Regimen.single("1 mg/kg", route="ip"))], species="mouse", days=5)
    assert _text_clear_of_xlabel(plot_slow_chain(chain))


def test_slow_chain_figure_marks_report_days_stress_and_closing_day():
    from psilosim.regimen import Regimen
    from psilosim.synapses import chronic_stress, simulate_slow_chain
    from psilosim.synapses.chain import density_change_pct
    from psilosim.synapses.figures import plot_slow_chain

    treatments = [("psilocybin", Regimen.single("1 mg/kg", route="ip"))]
    ds = simulate_slow_chain(treatments, species="mouse", days=7, stress=chronic_stress())
    fig = plot_slow_chain(ds, report_days=[1.0, 7.0], window_closes_d=3.5, first_day=0.0)
    density, _, window = fig.axes
    texts = [t.get_text() for t in density.texts]
    assert texts == [f"{density_change_pct(ds, d):+.1f} %" for d in (1.0, 7.0)]
    legend = [t.get_text() for t in density.get_legend().get_texts()]
    assert "vs the day of dosing" in legend and "chronic stress" in legend
    assert "PFC, vs unstressed baseline" in legend  # each curve names its own reference
    assert any("closes at 3.5 d" in t.get_text() for t in window.get_legend().get_texts())
    assert window.get_xlim()[0] == pytest.approx(0.0)


def test_plot_titles_name_what_is_shown():
    from psilosim.cli.pharmacology import _pk_plot_title
    from psilosim.cli.plasticity import _plot_title

    pk = {"compound": "psilocybin", "regimen": "oral: 25 mg", "analyte": "psilocin", "parameter_set": "holze2023"}
    assert _pk_plot_title(pk) == "psilocybin 25 mg oral — plasma psilocin, holze2023"
    spines = {"compound": "psilocybin", "dose": "1 mg/kg", "route": "ip", "species": "mouse"}
    assert "chronic stress" in _plot_title({**spines, "stress": "chronic"})
    assert "stress" not in _plot_title({**spines, "stress": "none"})


def test_run_figure_title_names_regimen_and_parameter_sets(tmp_path):
    from psilosim.cli.pharmacology import _run_plot_title
    from psilosim.scenario import load_scenario

    title = _run_plot_title(load_scenario(None), {"psilocybin": "holze2023"})
    assert "psilocybin" in title and "25 mg" in title and "holze2023" in title


# Guards against --plot paths that --out handles: '~' not expanded (a traceback after the work)
# and an existing folder given as the file (IsADirectoryError after the work).
@pytest.mark.parametrize("kind", ["home", "folder"])
def test_plot_path_is_checked_like_out_before_any_work(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("HOME", str(tmp_path))
    if kind == "home":
        plot, written = "~/figs/w.png", tmp_path / "figs" / "w.png"
    else:
        (tmp_path / "d.png").mkdir()
        plot, written = str(tmp_path / "d.png"), None
    result = CliRunner().invoke(app, ["window", "--compound", "psilocybin", "--plot", plot, "--json"])
    if written is None:
        assert result.exit_code == 2 and "is a folder" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert written.read_bytes()[:8] == PNG_SIGNATURE
