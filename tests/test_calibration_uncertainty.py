"""Calibration and its uncertainty: refits at the ends of the targets' 95 % intervals
(:mod:`psilosim.clinical.uncertainty`) and ``psilosim calibrate``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from cli_helpers import run_cli
from psilosim import DISCLAIMER
from psilosim.clinical import calibration
from psilosim.clinical.calibration import TARGETS, _root, fit
from psilosim.clinical.uncertainty import (
    PREDICTIONS,
    Prediction,
    _as_dataset,
    assumption_sensitivity,
    calibration_envelope,
    calibration_points,
    sensitivity_rows,
    sensitivity_table,
    target_intervals,
    verdict,
)
from psilosim.errors import CalibrationError, InputError

#: Small cohorts keep the five refits to seconds; the published envelope uses 200 twins.
TWINS, SEED = 12, 3


@pytest.fixture(scope="module")
def envelope():
    return calibration_envelope(n=TWINS, seed=SEED)


def test_target_intervals_are_the_cited_ones():
    iv = target_intervals()
    assert iv["cl4_hedges_g"] == (-1.0, -1.28, -0.73)  # Kishimoto 2016's 95 % CI
    centre, low, high = iv["cl1_escitalopram"]
    assert centre == TARGETS.cl1_escitalopram_change.value
    assert high - centre == pytest.approx(centre - low)
    assert high - centre == pytest.approx(1.96 * TARGETS.cl1_escitalopram_se.value, abs=1e-3)
    assert calibration.TARGET_CL4_HEDGES_G == TARGETS.cl4_hedges_g.value
    points = calibration_points()
    assert points[0] == (-1.0, centre) and len(set(points)) == 5


def test_root_clips_to_the_closest_end_only_when_asked():
    def gap(x):  # no root in [0, 1]; closest to zero at x = 1
        return 2.0 - x

    with pytest.raises(CalibrationError, match="not reachable"):  # a PsilosimError: one line in the CLI
        _root(gap, (0.0, 1.0), "p")
    assert _root(gap, (0.0, 1.0), "p", clip=True) == 1.0
    assert _root(lambda x: x - 0.25, (0.0, 1.0), "p") == pytest.approx(0.25, abs=1e-4)


def test_centre_is_the_ordinary_fit(envelope):
    direct = fit(n=TWINS, seed=SEED)
    centre = envelope.sel(calibration="centre")
    assert float(centre["weight_circuit"]) == pytest.approx(direct["weight_circuit"], abs=1e-6)
    assert float(centre["gain_ssri_transcription"]) == pytest.approx(direct["gain_ssri_transcription"], abs=1e-6)
    psilocybin = envelope["value"].sel(calibration="centre", prediction=PREDICTIONS[0].key)
    assert float(psilocybin) == pytest.approx(direct["cl1_psilocybin"], abs=1e-6)


def test_calibrations_do_not_depend_on_their_order(envelope, monkeypatch):
    """Each calibration equals a fresh fit: running them in reverse gives the same rows."""
    from psilosim.clinical import uncertainty

    forward = uncertainty.calibration_points()
    monkeypatch.setattr(uncertainty, "calibration_points", lambda: forward[::-1])
    backward = calibration_envelope(n=TWINS, seed=SEED)
    for name in ("value", "weight_circuit", "gain_ssri_transcription", "achieved_cl1_escitalopram"):
        np.testing.assert_allclose(backward[name].values[::-1], envelope[name].values, rtol=0, atol=1e-6)


def test_the_ssri_gain_acts_only_on_sert_binding_arms(envelope):
    """Calibrations with the same circuit weight but different SSRI gains predict the same for
    arms without SERT binding (psilocybin, niacin, 1–25 mg): only escitalopram arms move."""
    g = envelope["target_cl4_hedges_g"].values
    for cl4 in (-1.28, -0.73):
        pair = envelope["value"].isel(calibration=np.flatnonzero(g == cl4))
        assert pair.sizes["calibration"] == 2
        for key in pair["prediction"].values:
            values = pair.sel(prediction=key).values
            if "escitalopram" in key:
                assert abs(values[0] - values[1]) > 1e-3, key
            else:
                assert values[0] == pytest.approx(values[1], abs=1e-9), key


def test_each_parameter_follows_its_target(envelope):
    """A stronger ketamine effect needs a larger circuit weight, a larger SSRI change a larger gain."""
    g = envelope["target_cl4_hedges_g"].values
    esc = envelope["target_cl1_escitalopram"].values
    w = envelope["weight_circuit"].values
    gain = envelope["gain_ssri_transcription"].values
    assert w[g == -1.28].min() > w[0] > w[g == -0.73].max()  # w[0]: the centre, g = −1.0
    for cl4 in (-1.28, -0.73):
        at = g == cl4
        assert gain[at & (esc == esc.min())][0] > gain[at & (esc == esc.max())][0]


def test_every_calibration_reaches_its_targets_or_sits_at_a_range_end(envelope):
    for label in envelope["calibration"].values:
        c = envelope.sel(calibration=label)
        assert float(c["achieved_cl4_hedges_g"]) == pytest.approx(float(c["target_cl4_hedges_g"]), abs=2e-3)
        gain = float(c["gain_ssri_transcription"])
        reached = abs(float(c["achieved_cl1_escitalopram"]) - float(c["target_cl1_escitalopram"])) < 2e-3
        at_end = gain in calibration.SSRI_GAIN_RANGE
        assert reached or at_end, label


def test_envelope_is_labelled_and_carries_the_published_values(envelope):
    assert envelope.sizes == {"calibration": 5, "prediction": len(PREDICTIONS)}
    assert list(envelope["prediction"].values) == [p.key for p in PREDICTIONS]
    assert np.isfinite(envelope["value"].values).all()
    raison_day2 = "raison2023: psilocybin − niacin, day 2"
    row = envelope.sel(prediction=raison_day2)
    assert (float(row["published"]), float(row["published_ci_low"]), float(row["published_ci_high"])) == \
        (-0.1, -2.1, 1.9)
    assert envelope["scale"].sel(prediction=raison_day2).item() == "MADRS"
    assert envelope.attrs["disclaimer"] == DISCLAIMER


def _all_nan(values) -> bool:
    return all(math.isnan(v) for v in values)


def test_published_values_come_from_the_presets():
    assert Prediction("goodwin2022", "arm", 21.0, ("25mg",)).published()[0] == -12.0
    assert math.isnan(Prediction("goodwin2022", "arm", 21.0, ("25mg",)).published()[1])  # no arm CI extracted
    assert Prediction("raison2023", "difference", 43.0, ("psilocybin", "niacin")).published() == (-12.3, -17.5, -7.2)
    assert Prediction("raison2023", "difference", 8.0, ("psilocybin", "niacin")).published() == (-12.0, -16.6, -7.4)
    assert Prediction("raison2023", "arm", 8.0, ("niacin",)).published() == (-5.8, -9.1, -2.6)  # Table 2
    assert Prediction("raison2023", "arm", 43.0, ("niacin",)).published() == (-6.8, -10.5, -3.1)
    low, high = Prediction("carhart2021", "arm", 42.0, ("psilocybin",)).published()[1:]
    assert (low, high) == pytest.approx((-8.0 - 1.96, -8.0 + 1.96), abs=1e-3)  # −8.0 ± 1.0 (SE)
    # A difference is the trial's only for the arms it compared, in its order.
    assert _all_nan(Prediction("goodwin2022", "difference", 21.0, ("10mg", "1mg")).published())
    assert _all_nan(Prediction("carhart2021", "difference", 42.0, ("escitalopram", "psilocybin")).published())
    assert _all_nan(Prediction("raison2023", "difference", 8.0, ("niacin", "psilocybin")).published())
    share = Prediction("ketamine_iv", "share", 14.0, ("ketamine", "saline"), reference_day=1.0)
    assert _all_nan(share.published())
    assert share.key == "ketamine_iv: ketamine − saline, share of day 1 left at day 14"


def _fake(values, published):
    """An envelope of one prediction with the given values over five calibrations."""
    pred = Prediction("raison2023", "difference", 43.0, ("psilocybin", "niacin"))
    ds = _as_dataset(calibration_points(), np.zeros((5, 4)), np.asarray(values, float)[:, None], (pred,),
                     n=2, seed=0)
    for name, v in zip(("published", "published_ci_low", "published_ci_high"), published, strict=True):
        ds[name] = ("prediction", [v])
    return ds, pred.key


@pytest.mark.parametrize(("values", "published", "expected"), [
    ([-6, -5, -7, -6, -6], (-12.3, -17.5, -7.2), "outside the CI"),
    ([-6, -5, -8, -6, -6], (-12.3, -17.5, -7.2), "range overlaps the CI"),
    ([-6, -5, -8, -6, -6], (-6.5, math.nan, math.nan), "point inside the range"),
    ([-6, -5, -8, -6, -6], (-9.0, math.nan, math.nan), "point outside the range"),
    ([-6, -5, -8, -6, -6], (math.nan, math.nan, math.nan), "no published number"),
])
def test_verdict(values, published, expected):
    ds, key = _fake(values, published)
    assert verdict(ds, key).startswith(expected)


def test_cli_calibrate_json(monkeypatch, capsys, tmp_path):
    out = tmp_path / "envelope.nc"
    code, stdout, _ = run_cli(monkeypatch, capsys, "calibrate", "--twins", "8", "--seed", "5", "--uncertainty",
                              "--out", str(out), "--json")
    assert code == 0
    result = json.loads(stdout)
    assert result["fit"]["n"] == 8 and result["fit"]["cl4_hedges_g"] == pytest.approx(-1.0, abs=2e-3)
    day2 = result["uncertainty"]["raison2023: psilocybin − niacin, day 2"]
    assert (day2["published"], day2["published_ci"], day2["scale"]) == (-0.1, [-2.1, 1.9], "MADRS")
    assert day2["verdict"].startswith("outside the CI")  # the window opens within hours whatever the fit
    assert [c["calibration"] for c in result["calibrations"]][0] == "centre" and len(result["calibrations"]) == 5
    assert result["calibrations"][0]["weight_circuit"] == result["fit"]["weight_circuit"]
    assert xr.load_dataset(out)["value"].sizes == {"calibration": 5, "prediction": len(PREDICTIONS)}
    # "fit" has the same keys and values with and without --uncertainty (its centre is the ordinary fit)
    code, plain, _ = run_cli(monkeypatch, capsys, "calibrate", "--twins", "8", "--seed", "5", "--json")
    plain_fit = json.loads(plain)["fit"]
    assert code == 0 and set(plain_fit) == set(result["fit"])
    for key in ("weight_circuit", "cl1_psilocybin", "cl1_psilocybin_misfit", "rounds"):
        assert result["fit"][key] == pytest.approx(plain_fit[key], abs=1e-6)
    assert result["fit"]["targets_reached"] is True and plain_fit["targets_reached"] is True


# Guards against the CLI reading CL1.psilocybin as the envelope's first prediction (by position)
# and against a centre whose clipped fit missed a target being reported as an ordinary fit.
def test_cli_calibrate_reads_cl1_psilocybin_by_key_and_says_when_the_centre_missed(monkeypatch, capsys):
    from psilosim.clinical import uncertainty

    psilocybin = Prediction("carhart2021", "arm", 42.0, ("psilocybin",))
    other = Prediction("carhart2021", "difference", 42.0, ("psilocybin", "escitalopram"))
    points = calibration_points()
    rows = np.array([[100.0 + k, -8.5 - k] for k in range(len(points))])  # psilocybin second
    fitted = np.array([[0.5, 1.0, g, esc] for g, esc in points])
    fitted[0, 2] = points[0][0] + 0.2  # the centre's CL4 fit stopped at a range end, 0.2 short
    fake = _as_dataset(points, fitted, rows, (other, psilocybin), n=8, seed=5)
    monkeypatch.setattr(uncertainty, "calibration_envelope", lambda **kwargs: fake)
    code, stdout, err = run_cli(monkeypatch, capsys, "calibrate", "--twins", "8", "--seed", "5", "--uncertainty",
                                "--json")
    assert code == 0, err
    result = json.loads(stdout)["fit"]
    assert result["cl1_psilocybin"] == -8.5
    assert result["targets_reached"] is False
    assert not fake["calibrated"].values[0] and fake["calibrated"].values[1:].all()


@pytest.mark.parametrize(("args", "message"), [
    (("calibrate", "--twins", "1"), "--twins"),
    (("calibrate", "--seed", "-1"), "--seed"),
    (("calibrate", "--out", "x.nc"), "--out"),
    # a folder that cannot be created whoever runs the tests (root can create /anything): its parent is a file
    (("calibrate", "--uncertainty", "--out", "{a_file}/x.nc"), "--out"),
    (("calibrate", "--uncertainty", "--out", "."), "is a folder"),
    (("calibrate", "--uncertainty", "--workers", "0"), "--workers"),
    (("calibrate", "--workers", "2"), "--workers"),  # only with --uncertainty or --assumptions
])
def test_cli_calibrate_bad_inputs(monkeypatch, capsys, tmp_path, args, message):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    code, _, err = run_cli(monkeypatch, capsys, *(a.format(a_file=a_file) for a in args))
    assert code == 2 and message in err


def test_cli_unreachable_target_is_one_line_not_a_traceback(monkeypatch, capsys):
    # A model in which ketamine has no day-1 effect whatever the circuit weight cannot reach CL4:
    # the CLI reports the conflict (parameter, range, misfit) as an error line with exit code 2.
    monkeypatch.setattr(calibration, "effect_size_day1", lambda *args, **kwargs: 0.0)
    code, _, err = run_cli(monkeypatch, capsys, "calibrate", "--twins", "4", "--seed", "3")
    assert code == 2 and "weight_circuit" in err and "not reachable" in err and "Traceback" not in err


def test_assumption_sensitivity_recalibrates_every_variant(envelope):
    ds = assumption_sensitivity(n=TWINS, seed=SEED, parameters=("weight_placebo",))
    assert list(ds["variant"].values) == ["default", "weight_placebo × 0.5", "weight_placebo × 2"]
    # the default variant is the ordinary calibration: the envelope's centre
    np.testing.assert_allclose(ds["value"].sel(variant="default").values,
                               envelope["value"].sel(calibration="centre").values, atol=1e-9)
    # a variant is 'calibrated' exactly when it meets both targets
    met = (np.abs(ds["achieved_cl4_hedges_g"].values + 1.0) < 0.01) & \
        (np.abs(ds["achieved_cl1_escitalopram"].values + 6.0) < 0.01)
    np.testing.assert_array_equal(ds["calibrated"].values, met)
    assert ds["calibrated"].sel(variant="default")
    # doubling the placebo weight makes the escitalopram arm improve by more than 6 points with no
    # SSRI-driven BDNF at all: CL1.escitalopram is out of reach, so the variant is left out
    assert not ds["calibrated"].sel(variant="weight_placebo × 2")
    assert float(ds["achieved_cl1_escitalopram"].sel(variant="weight_placebo × 2")) < -6.0
    # a larger placebo weight gives the placebo arm a larger improvement
    niacin = ds["value"].sel(prediction="raison2023: niacin, day 43").values
    assert niacin[2] < niacin[0] < niacin[1]
    table = sensitivity_table(ds)
    assert table.count("\n") == 1 + len(PREDICTIONS) + 2
    assert table.splitlines()[-1] == "Left out (a calibration target out of reach): weight_placebo × 2."
    day2 = next(line for line in table.splitlines() if "psilocybin − niacin, day 2" in line)
    assert "× 2" not in day2  # the left-out variant is in no row
    assert day2.rstrip(" |").endswith("no")  # the window opens within hours under every variant
    # a default that misses a target itself is shown as "—", not replaced by the first variant left
    _, rows, _ = sensitivity_rows(ds)
    missed = ds.copy()
    missed["calibrated"] = missed["calibrated"].copy(data=[False, True, False])
    _, rows_missed, note = sensitivity_rows(missed)
    assert all(r[2] == "—" for r in rows_missed) and "default" in note
    assert all(r[2] != "—" for r in rows)


def test_effect_size_is_the_hedges_g_of_rated_changes():
    """``effect_size_day1`` (analytic pooled SD) equals the g of day-1 changes rated by
    ``observed_scores`` (fluctuation, rating error and rounding drawn) on the same twins."""
    from psilosim.clinical.calibration import TwinCohort, effect_size_day1
    from psilosim.clinical.presets import ketamine_iv
    from psilosim.clinical.scales import get_scale
    from psilosim.clinical.symptoms import latent_course, observed_scores
    from psilosim.clinical.trial import DEFAULT_MODELS

    cohort = TwinCohort(ketamine_iv(), 60, 7)
    scale, rng, days = get_scale("MADRS"), np.random.default_rng(1), [0.0, 1.0]
    changes = []
    for k, arm in enumerate(cohort.design.arms):
        arm_changes = []
        for i, patient in enumerate(cohort.patients):
            course = latent_course(cohort.biology[i, k], baseline=patient.baseline_severity,
                                   expectancy=patient.expectancy * arm.expectancy, therapy=arm.therapy,
                                   environment=arm.environment, params=DEFAULT_MODELS.symptoms)
            arm_changes += [np.diff(observed_scores(course, days, scale, rng))[0] for _ in range(40)]
        changes.append(np.asarray(arm_changes))
    pooled = np.sqrt(0.5 * (changes[0].var(ddof=1) + changes[1].var(ddof=1)))
    rated = (changes[0].mean() - changes[1].mean()) / pooled
    assert effect_size_day1(cohort) == pytest.approx(rated, rel=0.03)


def test_calibrations_fanned_out_over_processes_equal_the_in_process_run(envelope):
    spread = calibration_envelope(n=TWINS, seed=SEED, workers=2)
    for name in ("value", "weight_circuit", "gain_ssri_transcription", "achieved_cl4_hedges_g"):
        np.testing.assert_array_equal(spread[name].values, envelope[name].values)
    with pytest.raises(InputError, match="workers"):
        calibration_envelope(n=TWINS, seed=SEED, workers=0)


def test_cli_calibrate_assumptions_json(monkeypatch, capsys):
    code, stdout, _ = run_cli(monkeypatch, capsys, "calibrate", "--twins", "6", "--seed", "5", "--assumptions", "--json")
    assert code == 0
    variants = json.loads(stdout)["assumptions"]
    assert list(variants)[0] == "default" and len(variants) == 17
    assert variants["default"]["calibrated"] is True
    assert set(variants["severity_tau × 2"]["values"]) == {p.key for p in PREDICTIONS}


def test_command_help_keeps_sentences_whole(monkeypatch, capsys):
    """Docstring line breaks do not cut sentences in --help (typer keeps single line breaks)."""
    monkeypatch.setenv("COLUMNS", "300")
    code, out, _ = run_cli(monkeypatch, capsys, "calibrate", "--help")
    assert code == 0
    assert "the four corners of the two targets' published 95 % intervals and show" in out
