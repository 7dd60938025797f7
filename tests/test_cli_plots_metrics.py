"""``--plot FILE`` of analyze, compare and run: the figure is written (PNG or SVG), ``--json`` stays
pure JSON, and a file that cannot be a figure is refused, naming --plot, before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from _metrics_data import region_table
from psilosim.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NETWORKS = ["Default", "Vis", "SomMot", "Limbic"]
N_REGIONS, N_SAMPLES = 12, 200


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics_plots")
    region_table(N_REGIONS, NETWORKS).reset_index().to_csv(folder / "regions.csv", index=False)
    for name, seed, noise in (("before.npy", 0, 0.8), ("after.npy", 1, 1.6)):
        rng = np.random.default_rng(seed)
        latent = rng.standard_normal((len(NETWORKS), N_SAMPLES))
        np.save(folder / name, latent[np.arange(N_REGIONS) % len(NETWORKS)]
                + noise * rng.standard_normal((N_REGIONS, N_SAMPLES)))
    return folder


def _args(folder, command):
    inputs = [str(folder / "before.npy")] + ([str(folder / "after.npy")] if command == "compare" else [])
    return [command, *inputs, "--regions", str(folder / "regions.csv"), "--tr", "2"]


def _is_svg(path) -> bool:
    head = path.read_text(encoding="utf-8")[:400]
    return "<svg" in head


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_json_plot_writes_a_png_and_stdout_stays_json(files, tmp_path, command):
    target = tmp_path / "figs" / "out.png"    # a folder that does not exist yet
    result = CliRunner().invoke(app, [*_args(files, command), "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["plot"] == str(target)
    assert ("delta" in payload) == (command == "compare")   # the command's own JSON, plus the file
    assert target.stat().st_size > 0 and target.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_plot_writes_an_svg_and_the_table_names_it(files, tmp_path, command):
    target = tmp_path / "out.svg"
    result = CliRunner().invoke(app, [*_args(files, command), "--plot", str(target)])
    assert result.exit_code == 0, result.output
    assert _is_svg(target) and "figure:" in result.stdout and target.name in result.stdout


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_a_bad_suffix_is_refused_before_any_file_is_read(files, tmp_path, command, monkeypatch):
    def no_work(*_, **__):
        raise AssertionError("read or analysed before refusing the figure file")

    monkeypatch.setattr("psilosim.cli.metrics.load_regions", no_work)
    monkeypatch.setattr("psilosim.cli.metrics.load_bold", no_work)
    result = CliRunner().invoke(app, [*_args(files, command), "--plot", str(tmp_path / "fig.txt")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0] and ".png" in lines[0]
    assert not (tmp_path / "fig.txt").exists()


def test_compare_numbers_do_not_depend_on_plotting(files, tmp_path):
    plain = CliRunner().invoke(app, [*_args(files, "compare"), "--json"])
    drawn = CliRunner().invoke(app, [*_args(files, "compare"), "--json", "--plot", str(tmp_path / "c.png")])
    assert plain.exit_code == drawn.exit_code == 0
    with_plot = json.loads(drawn.stdout)
    assert with_plot.pop("plot") == str(tmp_path / "c.png")
    assert with_plot == json.loads(plain.stdout)


# ------------------------------------------------------------------ run
def test_run_plot_writes_the_acute_figure_and_json_names_it(tmp_path):
    target = tmp_path / "figs" / "run.svg"
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "out"), "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["plot"] == str(target) and _is_svg(target)
    assert "acute.png" in payload["files"]     # the output folder keeps its own figure
    svg = target.read_text(encoding="utf-8")
    assert "occupancy (%)" in svg and "plasma concentration (ng/mL)" in svg


def test_run_plot_draws_even_when_the_scenario_asks_for_no_figures(tmp_path):
    import yaml

    from psilosim.scenario import load_scenario

    scenario = load_scenario(None).model_dump(mode="json")
    scenario["outputs"]["figures"] = []
    path = tmp_path / "no_figures.yaml"
    path.write_text(yaml.safe_dump(scenario))
    target = tmp_path / "run.png"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "--plot", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert not (tmp_path / "out" / "acute.png").exists()


def test_run_with_a_bad_plot_suffix_creates_no_folder_and_simulates_nothing(tmp_path, monkeypatch):
    def no_simulation(*_, **__):
        raise AssertionError("simulated before refusing the figure file")

    monkeypatch.setattr("psilosim.scenario.simulate_scenario", no_simulation)
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "out"), "--plot", str(tmp_path / "f.jpeg")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0]
    assert not (tmp_path / "out").exists()
