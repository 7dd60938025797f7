"""One time axis for every BOLD series a user sees (docs/network.md#time-axis).

Convention: ``time`` is seconds since the start of the recorded part (the end of the warm-up for a
simulation, the start of the acquisition for a recording), and each sample is stamped at the end
of its TR, the simulated instant at which it was read: the m-th sample is at m·TR, the first at
one TR. Simulated and recorded series of the same length and TR share their time coordinate.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from _conformance_components import small_brain
from psilosim.connectome import labelled_timeseries
from psilosim.errors import InputError
from psilosim.network import scan as sc
from psilosim.network.bold import impulse_response
from psilosim.network.dmf import DMFModel
from psilosim.network.fit import hopf_bold
from psilosim.network.hopf import HopfModel

# A weak coupling on the eight-region brain: the working point does not matter for time stamps.
COUPLING = 0.3
pytestmark = pytest.mark.filterwarnings("ignore::psilosim.errors.WorkingPointWarning")


@pytest.fixture(scope="module")
def brain():
    return small_brain()


@pytest.fixture(scope="module")
def dmf(brain):
    return DMFModel(brain.sc)


@pytest.fixture(scope="module")
def hopf(brain):
    return HopfModel(brain.sc)


def _axis(n_samples: int, tr_s: float) -> np.ndarray:
    """The documented axis: m·TR for m = 1..n."""
    return np.arange(1, n_samples + 1) * tr_s


# ------------------------------------------------------------------ simulated models agree
def test_dmf_time_leaves_out_the_warmup(dmf):
    out = dmf.simulate(6.0, coupling=COUPLING, seed=1, tr_s=2.0, warmup_s=20.0)
    np.testing.assert_allclose(out["time"].values, _axis(3, 2.0))


def test_dmf_and_hopf_share_the_time_axis(dmf, hopf):
    d = dmf.simulate(6.0, coupling=COUPLING, seed=1, tr_s=2.0, warmup_s=4.0)
    h = hopf.simulate(6.0, coupling=COUPLING, seed=1, tr_s=2.0, warmup_s=4.0)
    np.testing.assert_array_equal(d["time"].values, h["time"].values)
    for out in (d, h):
        assert out["time"].attrs["units"] == "s" and "warm-up" in out["time"].attrs["long_name"]


def test_dmf_warmup_off_the_tr_grid_stamps_each_sample_at_its_true_time(dmf):
    # The BOLD grid is the run's (every TR since it started): a 1 s warm-up at TR 2 s puts the
    # samples 1 s, 3 s, ... into the recording, and the values are those of the uncut run.
    warm = dmf.simulate(4.0, coupling=COUPLING, seed=2, tr_s=2.0, warmup_s=1.0)
    plain = dmf.start(coupling=COUPLING, seed=2, tr_s=2.0).advance(5.0)
    np.testing.assert_allclose(warm["time"].values, [1.0, 3.0])
    np.testing.assert_allclose(plain["time"].values, [2.0, 4.0])
    np.testing.assert_array_equal(warm["bold"].values, plain["bold"].values)


def test_a_run_without_warmup_counts_from_its_start(dmf):
    out = dmf.start(coupling=COUPLING, seed=2, tr_s=2.0).advance(4.0)
    np.testing.assert_allclose(out["time"].values, _axis(2, 2.0))


@settings(max_examples=8, deadline=None)
@given(warmup_ms=st.integers(min_value=0, max_value=5000),
       cuts_ms=st.lists(st.integers(min_value=1, max_value=7999), max_size=3))
def test_a_warmed_up_run_in_chunks_equals_it_in_one_piece_time_included(dmf, warmup_ms, cuts_ms):
    total_ms = 8000
    edges = sorted(set(cuts_ms) | {0, total_ms})

    def warmed():
        run = dmf.start(coupling=COUPLING, seed=[4], tr_s=1.0)
        if warmup_ms:
            run.warm_up(warmup_ms / 1000.0)
        return run

    run = warmed()
    parts = [run.advance((b - a) / 1000.0) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    chunked = xr.concat(parts, dim="time", data_vars="all")
    whole = warmed().advance(total_ms / 1000.0)
    np.testing.assert_array_equal(chunked["bold"].values, whole["bold"].values)
    np.testing.assert_array_equal(chunked["time"].values, whole["time"].values)
    # every stamp is the sample's true time since the warm-up ended, inside the recording
    assert ((whole["time"].values > 0) & (whole["time"].values <= total_ms / 1000.0 + 1e-9)).all()
    since_start = whole["time"].values + warmup_ms / 1000.0  # on the run's own grid of whole TRs
    np.testing.assert_allclose(since_start, np.round(since_start), atol=1e-9)


@pytest.mark.parametrize("duration", [0.0004, -2.0, float("nan"), float("inf")])
def test_warm_up_checks_its_duration(dmf, duration):
    run = dmf.start(coupling=COUPLING, seed=1, tr_s=2.0)
    with pytest.raises(InputError) as err:
        run.warm_up(duration)
    assert err.value.field == "warmup"


def test_a_zero_warm_up_is_no_warm_up(dmf):
    """As ``simulate(warmup_s=0)``: nothing simulated, the clock starts at the run's start."""
    run = dmf.start(coupling=COUPLING, seed=1, tr_s=2.0)
    run.warm_up(0.0)
    assert run.elapsed_s == 0.0
    np.testing.assert_allclose(run.advance(4.0)["time"].values, _axis(2, 2.0))


def test_warm_up_after_recorded_samples_is_refused(dmf):
    """A warm-up after samples were returned would restart the clock and stamp two samples alike."""
    run = dmf.start(coupling=COUPLING, seed=1, tr_s=2.0)
    run.advance(4.0)
    with pytest.raises(InputError, match="recording has started") as err:
        run.warm_up(2.0)
    assert err.value.field == "warmup"


def test_advance_refuses_a_non_finite_duration(dmf):
    run = dmf.start(coupling=COUPLING, seed=1, tr_s=2.0)
    with pytest.raises(InputError) as err:
        run.advance(float("nan"))
    assert err.value.field == "duration"


# ------------------------------------------------------------------ fit helpers, scans, recordings
def test_hopf_bold_off_the_step_grid_keeps_the_axis(hopf):
    out = hopf_bold(hopf, 7.2, coupling=COUPLING, seed=3, tr_s=0.72, warmup_s=1.0)
    np.testing.assert_allclose(out["time"].values, _axis(10, 0.72))
    assert out["time"].attrs["units"] == "s"


def test_scan_session_time_matches_a_plain_simulation(brain, dmf):
    session = sc.scan_session(brain, 0.0, minutes=0.2, seed=1, maps=(), coupling=COUPLING)
    tr_s = sc.SCAN.tr.to("s")
    n = session.sizes["time"]
    plain = dmf.simulate(n * tr_s, coupling=COUPLING, seed=1, tr_s=tr_s, warmup_s=sc.SCAN.warmup.to("s"))
    np.testing.assert_allclose(session["time"].values, _axis(n, tr_s))
    np.testing.assert_array_equal(session["time"].values, plain["time"].values)


def test_recordings_share_the_simulated_axis(hopf):
    recorded = labelled_timeseries(np.zeros((8, 3)), small_brain().labels, 2.0)
    simulated = hopf.simulate(6.0, coupling=COUPLING, seed=1, tr_s=2.0, warmup_s=0.0)
    np.testing.assert_array_equal(recorded["time"].values, simulated["time"].values)
    assert recorded["time"].attrs["units"] == "s"
    assert recorded["time"].attrs["long_name"] == simulated["time"].attrs["long_name"]


def test_impulse_response_counts_from_the_pulse_onset():
    hrf = impulse_response(duration_s=1.0, dt_s=0.01)
    np.testing.assert_allclose(hrf["time"].values, _axis(100, 0.01))
    assert hrf["time"].attrs["units"] == "s"


def test_metrics_keep_the_recordings_clock(brain):
    """Window centres of the metrics sit on the recording's own axis (first sample at one TR), and a
    bare array gets that same axis, so the same data give the same centres either way."""
    from psilosim.metrics.fc import sliding_window_fc

    tr, n = 2.0, 120
    values = np.random.default_rng(0).standard_normal((len(brain.regions), n))
    labelled = labelled_timeseries(values, list(brain.regions.index), tr)
    windows = sliding_window_fc(labelled, brain.regions, window_s=60.0, step_s=20.0)
    width = int(round(60.0 / tr))
    assert windows["window"].values[0] == pytest.approx(tr + (width - 1) / 2 * tr)
    bare = sliding_window_fc(values, brain.regions, window_s=60.0, step_s=20.0, tr_s=tr)
    np.testing.assert_array_equal(bare["window"].values, windows["window"].values)
    shifted = labelled.assign_coords(time=labelled["time"].values + 100.0)
    moved = sliding_window_fc(shifted, brain.regions, window_s=60.0, step_s=20.0)
    np.testing.assert_allclose(moved["window"].values, windows["window"].values + 100.0)
