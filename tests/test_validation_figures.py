"""Figures of the scorecard (``validate --plot``) and of the calibration envelope
(``calibrate --uncertainty --plot``): rows, markers, colours, and the CLI options."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.colors import to_rgb
from typer.testing import CliRunner

from psilosim.cli import app
from psilosim.validation.registry import TargetResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _result(id_, *, low=None, high=None, simulated=None, passed=None, known=None, qualitative=False):
    return TargetResult(id=id_, quantity="q", source="s", published="p", simulated=simulated, unit="h",
                        low=low, high=high, passed=passed, flags=["qualitative"] if qualitative else [],
                        known_conflict=known)


#: One row of every kind: two-sided pass, known conflict, fail far above the band, one-sided
#: (low only) pass, numeric not modelled; qualitative pass, fail, not modelled.
ROWS = [
    _result("A.pass", low=1.0, high=3.0, simulated=2.0, passed=True),
    _result("B.known", low=1.0, high=3.0, simulated=0.5, passed=False, known="documented"),
    _result("C.fail", low=1.0, high=2.0, simulated=50.0, passed=False),
    _result("D.onesided", low=4.0, simulated=6.0, passed=True),
    _result("E.open", low=1.0, high=2.0),
    _result("Q.pass", simulated=True, passed=True, qualitative=True),
    _result("Q.fail", simulated=False, passed=False, qualitative=True),
    _result("Q.open", qualitative=True),
]


def _axis(fig, label):
    return next(ax for ax in fig.axes if ax.get_label() == label)


def _markers(ax):
    return [line for line in ax.lines if line.get_marker() not in (None, "None", "")]


def _ticks(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def test_scorecard_figure_rows_markers_colours_and_title():
    from psilosim.validation.figures import STATUS_COLOURS, plot_scorecard

    fig = plot_scorecard(ROWS)
    numeric, qualitative = _axis(fig, "numeric"), _axis(fig, "qualitative")
    assert _ticks(numeric) == ["A.pass", "B.known", "C.fail", "D.onesided", "E.open"]
    assert _ticks(qualitative) == ["Q.pass", "Q.fail", "Q.open"]
    # a marker per simulated numeric value (none for the unmodelled row); 50 lies beyond the axis
    marks = _markers(numeric)
    assert len(marks) == 4
    assert [m.get_marker() for m in marks] == ["o", "o", ">", "o"]
    assert marks[0].get_xdata()[0] == pytest.approx(0.5)          # (2 − 1) / (3 − 1)
    assert marks[1].get_xdata()[0] == pytest.approx(-0.25)        # below its band
    assert marks[3].get_xdata()[0] == pytest.approx(0.5)          # (6 − 4) / |4|
    assert marks[2].get_xdata()[0] <= numeric.get_xlim()[1]
    bands = [p.get_facecolor()[:3] for p in numeric.patches]
    expected = ["pass", "known conflict", "fail", "pass", "not modelled"]
    assert np.allclose(bands, [to_rgb(STATUS_COLOURS[s]) for s in expected])
    # the one-sided band is open to the right edge; two-sided bands span [0, 1]
    assert numeric.patches[0].get_x() == pytest.approx(0.0) and numeric.patches[0].get_width() == pytest.approx(1.0)
    assert numeric.patches[3].get_x() + numeric.patches[3].get_width() > 1.5
    qual_marks = _markers(qualitative)
    assert [m.get_marker() for m in qual_marks] == ["o", "X", "s"]
    assert [to_rgb(m.get_color()) for m in qual_marks] == [to_rgb(STATUS_COLOURS[s]) for s in
                                                           ("pass", "fail", "not modelled")]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"pass", "fail (known conflict)", "FAIL", "not modelled"} <= set(legend)
    assert "documented as a conflict" not in " ".join(legend)  # absent statuses are not listed
    title = fig._suptitle.get_text()
    # counted as `psilosim validate` counts them: a known conflict is one of the failures
    assert "3 passed, 3 failed (1 known conflicts), 2 not modelled" in title


def test_scorecard_figure_of_numeric_targets_only_has_one_panel():
    from psilosim.validation.figures import plot_scorecard

    fig = plot_scorecard(ROWS[:2])
    assert [ax.get_label() for ax in fig.axes if ax.get_label() in ("numeric", "qualitative")] == ["numeric"]
    assert _ticks(_axis(fig, "numeric")) == ["A.pass", "B.known"]


@given(low=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3), frac=st.floats(-2, 3))
def test_band_position_puts_the_band_at_zero_to_one(low, width, frac):
    from psilosim.validation.figures import band_position

    value = low + frac * width
    assert band_position(value, low, low + width) == pytest.approx(frac, abs=1e-6 * (1 + abs(low) / width))
    assert band_position(low, low, None) == 0.0
    assert band_position(low + width, None, low + width) == pytest.approx(1.0)
    # inside a one-sided band ⇔ on its side of the bound's position
    assert (band_position(value, low, None) >= 0) == (value >= low)


def _envelope():
    """Three predictions on two scales, one without a published number, five calibrations."""
    values = np.array([[-8.0, -2.0, 0.4], [-9.0, -4.0, 0.3], [-7.0, 0.5, 0.5], [-8.5, -1.0, 0.35], [-7.5, -3.0, 0.45]])
    return xr.Dataset(
        {"value": (("calibration", "prediction"), values)},
        coords={"calibration": ["centre", "a", "b", "c", "d"],
                "prediction": ["p: arm", "p: difference", "k: share"],
                "scale": ("prediction", ["QIDS-SR-16", "QIDS-SR-16", "fraction"]),
                "published": ("prediction", [-8.0, 3.0, math.nan]),
                "published_ci_low": ("prediction", [-10.0, 2.0, math.nan]),
                "published_ci_high": ("prediction", [-6.0, 4.0, math.nan])},
        attrs={"n_twins": 2, "seed": 7},
    )


def test_envelope_forest_plot_rows_ranges_and_verdict_colours():
    from psilosim.clinical.figures import (
        CENTRE_MARKER,
        PUBLISHED_MARKER,
        VERDICT_COLOURS,
        plot_calibration_envelope,
    )

    fig = plot_calibration_envelope(_envelope())
    panels = [ax for ax in fig.axes if ax.get_yticklabels()]
    assert [_ticks(ax) for ax in panels] == [["p: arm", "p: difference"], ["k: share"]]
    assert "QIDS-SR-16" in panels[0].get_xlabel() and "%" in panels[1].get_xlabel()
    qids = panels[0]
    ranges = [line for line in qids.lines if len(line.get_xdata()) == 2]
    centres = [line for line in qids.lines if line.get_marker() == CENTRE_MARKER]
    published = [line for line in qids.lines if line.get_marker() == PUBLISHED_MARKER]
    assert len(centres) == 2 and len(published) == 2
    # model ranges min → max, then the published CIs
    assert [tuple(r.get_xdata()) for r in ranges] == [(-9.0, -7.0), (-10.0, -6.0), (-4.0, 0.5), (2.0, 4.0)]
    assert [c.get_xdata()[0] for c in centres] == [-8.0, -2.0]
    assert to_rgb(ranges[0].get_color()) == to_rgb(VERDICT_COLOURS["range overlaps the CI"])
    assert to_rgb(ranges[2].get_color()) == to_rgb(VERDICT_COLOURS["outside the CI: not reachable by recalibration"])
    share = panels[1]
    assert not [line for line in share.lines if line.get_marker() == PUBLISHED_MARKER]  # none published
    assert [line.get_xdata()[0] for line in share.lines if line.get_marker() == CENTRE_MARKER] == [pytest.approx(40.0)]
    assert len(fig.legends[0].get_texts()) == 4


def test_validate_plot_writes_a_png_and_reports_it(tmp_path):
    target = tmp_path / "figs" / "scorecard.png"
    result = CliRunner().invoke(app, ["validate", "--only", "PK1.25", "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("args", [["validate", "--only", "PK1.25"], ["calibrate", "--uncertainty", "--twins", "2"]])
def test_plot_with_a_bad_suffix_is_one_line_naming_plot(tmp_path, args):
    result = CliRunner().invoke(app, [*args, "--plot", str(tmp_path / "fig.txt")])
    assert result.exit_code == 2
    assert "--plot" in result.output and ".png" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "fig.txt").exists()


def test_calibrate_plot_needs_uncertainty(tmp_path):
    result = CliRunner().invoke(app, ["calibrate", "--twins", "2", "--plot", str(tmp_path / "f.png")])
    assert result.exit_code == 2 and "--plot" in result.output and "--uncertainty" in result.output


def test_calibrate_uncertainty_plot_writes_a_png_and_reports_it(tmp_path):
    target = tmp_path / "envelope.png"
    result = CliRunner().invoke(app, ["calibrate", "--uncertainty", "--twins", "2", "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == PNG_SIGNATURE
