"""Dynamic mean field: FIC working point, batching, determinism, chunking, errors; Hopf."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from _conformance_components import small_brain
from psilosim.connectome import load_dataset
from psilosim.errors import InputError, WorkingPointWarning
from psilosim.network.dmf import DMF, FITTED_G, DMFModel
from psilosim.network.dmf.kernel import transfer
from psilosim.network.dmf.linear import LinearDMF
from psilosim.network.hopf import HopfModel
from psilosim.network.scan import gain_from

# These tests exercise the kernel at couplings where the closed-form FIC does not hold 3 Hz; the
# WorkingPointWarning that says so is tested in test_network_model_inputs.py, not repeated here.
pytestmark = pytest.mark.filterwarnings("ignore::psilosim.errors.WorkingPointWarning")

TARGET = DMF.target_rate.to("Hz")


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def model(aal2):
    return DMFModel(aal2.sc)


def test_transfer_is_continuous_at_threshold():
    c = DMF
    at = transfer(c.b_e.value / c.a_e.value, c.a_e.value, c.b_e.value, c.d_e.value, 1.0)
    near = transfer(c.b_e.value / c.a_e.value + 1e-6, c.a_e.value, c.b_e.value, c.d_e.value, 1.0)
    assert at == pytest.approx(1.0 / c.d_e.value) and near == pytest.approx(at, rel=1e-3)


def test_closed_form_fic_puts_every_region_at_target_without_noise(model):
    # At G = 0.3 the FIC fixed point is stable; its rates are the target exactly.
    rates = LinearDMF(model, 0.3).rates()
    assert np.allclose(rates, TARGET, atol=1e-6)
    assert list(rates["region"].values) == model.labels and rates.attrs["units"] == "Hz"
    # Stronger long-range input needs stronger feedback inhibition.
    assert np.all(model.fic(0.6) >= model.fic(0.3))


def test_refined_fic_holds_target_rate_with_noise_at_fitted_coupling(model):
    g = FITTED_G.aal2.value
    j_fic = model.fic_refined([g], seed=0)
    with warnings.catch_warnings():  # at the working point: no WorkingPointWarning
        warnings.simplefilter("error", WorkingPointWarning)
        rates = model.simulate(30.0, coupling=g, seed=5, warmup_s=5.0, j_fic=j_fic)["rate"].values[0]
    assert np.all(np.abs(rates - TARGET) < 0.6), rates.round(2)
    assert abs(rates.mean() - TARGET) < 0.2


def test_without_fic_strong_coupling_leaves_the_working_point(model):
    # Control: with J fixed at its G = 0 value, the same coupling drives rates far above 3 Hz.
    g = FITTED_G.aal2.value
    j0 = model.fic(0.0)
    rates = model.simulate(10.0, coupling=g, seed=5, warmup_s=2.0, j_fic=j0)["rate"].values[0]
    assert rates.mean() > 2 * TARGET


def test_batch_equals_sequential(model):
    gains = np.ones((3, model.n_regions))
    gains[2] = 1.1
    batch = model.simulate(6.0, coupling=[0.5, 0.7, 0.6], gain=gains, seed=[11, 12, 13], warmup_s=0)
    alone = model.simulate(6.0, coupling=0.6, gain=gains[2], seed=[13], warmup_s=0)
    np.testing.assert_array_equal(batch["bold"].values[2], alone["bold"].values[0])
    np.testing.assert_array_equal(batch["rate"].values[2], alone["rate"].values[0])


def test_deterministic_under_seed_and_seed_matters(model):
    a = model.simulate(4.0, coupling=0.5, seed=3, warmup_s=0)["bold"].values
    b = model.simulate(4.0, coupling=0.5, seed=3, warmup_s=0)["bold"].values
    c = model.simulate(4.0, coupling=0.5, seed=4, warmup_s=0)["bold"].values
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2500), min_size=1, max_size=3))
def test_a_run_in_chunks_equals_the_run_in_one_piece(model, cuts_ms):
    total_ms = 6000
    edges = sorted({min(c, total_ms - 1) for c in cuts_ms} | {0, total_ms})
    run = model.start(coupling=0.6, seed=[7], tr_s=2.0)
    parts = [run.advance((b - a) / 1000.0) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    chunked = np.concatenate([p["bold"].values for p in parts], axis=2)
    whole = model.start(coupling=0.6, seed=[7], tr_s=2.0).advance(total_ms / 1000.0)
    np.testing.assert_array_equal(chunked, whole["bold"].values)
    assert np.allclose(np.concatenate([p["time"].values for p in parts]), whole["time"].values)


def test_outputs_carry_region_labels(model, aal2):
    ds = model.simulate(4.0, coupling=0.5, seed=1, warmup_s=0)
    assert list(ds["region"].values) == aal2.labels
    assert ds["bold"].dims == ("member", "region", "time") and ds.attrs["tr_s"] == 2.0


def test_gain_one_is_baseline_and_gain_changes_dynamics(model):
    base = model.simulate(4.0, coupling=0.5, seed=2, warmup_s=0)["rate"].values
    same = model.simulate(4.0, coupling=0.5, gain=np.ones(model.n_regions), seed=2, warmup_s=0)["rate"].values
    drug = model.simulate(4.0, coupling=0.5, gain=np.full(model.n_regions, 1.2), seed=2, warmup_s=0)["rate"].values
    np.testing.assert_array_equal(base, same)
    # Below threshold (the 3 Hz working point) a higher gain steepens the sigmoid's foot: rates fall.
    assert drug.mean() < base.mean()


@pytest.mark.parametrize("kwargs,field", [
    (dict(coupling=-1.0), "coupling"),
    (dict(coupling=0.5, gain=np.ones(5)), "gain"),
    (dict(coupling=0.5, gain=np.zeros(80)), "gain"),
    (dict(coupling=[0.5, 0.6], seed=[1, 2, 3]), "seed"),
    (dict(coupling=[0.5, 0.6], gain=np.ones((3, 80))), "coupling/gain"),
])
def test_bad_inputs_name_the_field(model, kwargs, field):
    with pytest.raises(InputError) as err:
        model.start(**kwargs)
    assert err.value.field == field


def test_labelled_gain_or_fic_of_other_regions_is_refused(model, aal2):
    # A labelled per-region input is matched by label: one in another region order would put each
    # region's gain (or FIC weight) on a different region, so it is refused, not silently used.
    labels = list(aal2.labels)
    gain = xr.DataArray(np.full(len(labels), 1.1), dims="region", coords={"region": labels})
    model.start(coupling=0.5, gain=gain)  # the connectome's own order is accepted
    for field in ("gain", "j_fic"):
        wrong = gain.assign_coords(region=labels[::-1])
        with pytest.raises(InputError) as err:
            model.start(coupling=0.5, **{field: wrong})
        assert err.value.field == field


def test_durations_must_fit_the_network_step(model):
    run = model.start(coupling=0.5, seed=1)
    with pytest.raises(InputError, match="multiple"):
        run.advance(0.0004)
    with pytest.raises(InputError, match="tr"):
        model.start(coupling=0.5, tr_s=0.0005)


def test_hopf_linear_fc_matches_simulation(aal2):
    hopf = HopfModel(aal2.sc)
    # Slow oscillators (a = -0.02/s): a long run is needed for a converged FC estimate.
    sim = hopf.simulate(12000.0, coupling=0.1, seed=1)
    fc_sim = np.corrcoef(sim.values[0])
    fc_lin = hopf.linear_fc(0.1).values
    iu = np.triu_indices(aal2.n_regions, 1)
    assert np.corrcoef(fc_sim[iu], fc_lin[iu])[0, 1] > 0.85
    # Closer to the bifurcation, correlations grow.
    assert hopf.linear_fc(0.3).values[iu].mean() > fc_lin[iu].mean()


def test_linear_dmf_common_input_raises_correlation_only_within_its_group():
    from psilosim.network.dmf.linear import LinearDMF

    sc = load_dataset("aal2").sc
    lin = LinearDMF(DMFModel(sc), 0.5)
    n = sc.shape[0]
    group = np.zeros(n, dtype=bool)
    group[:10] = True
    private = lin.covariance()
    np.testing.assert_allclose(lin.covariance(input_cov=np.eye(n)), private, rtol=1e-10)
    shared = np.eye(n) + 0.5 * np.outer(group, group)
    common = lin.covariance(input_cov=shared)

    def corr(cov):
        c = cov[:n, :n]
        sd = np.sqrt(np.diag(c))
        return c / np.outer(sd, sd)

    delta = corr(common) - corr(private)
    inside = delta[np.ix_(group, group)][np.triu_indices(10, k=1)]
    outside = delta[np.ix_(~group, ~group)][np.triu_indices(n - 10, k=1)]
    assert inside.min() > 0.05
    assert np.abs(outside).mean() < 0.1 * inside.mean()
    with pytest.raises(InputError, match="input_cov"):
        lin.covariance(input_cov=np.eye(n - 1))


def test_transfer_function_is_silent_far_below_threshold_without_overflow():
    from psilosim.network.dmf.linear import _phi

    x = np.array([-1e4, -50.0, -1.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, slope = _phi(x, 0.16)
    assert value[0] == 0.0 and slope[0] == 0.0
    assert np.all(np.diff(value) >= 0) and np.all(slope >= 0)


@pytest.mark.filterwarnings("ignore::psilosim.errors.WorkingPointWarning")  # far above the fitted G on purpose
@settings(max_examples=25, deadline=None)
@given(coupling=st.floats(0.0, 3.0), occupancy=st.floats(0.0, 1.0),
       density=arrays(np.float64, 8, elements=st.floats(0.0, 1.0)), seed=st.integers(0, 2**32 - 1))
def test_dmf_rates_are_never_negative(coupling, occupancy, density, seed):
    """Firing rates stay non-negative and BOLD finite over couplings up to the high-activity branch,
    any receptor map and occupancy (the 8-region conformance brain, a short noisy run)."""
    ds = DMFModel(small_brain().sc).simulate(6.0, coupling=coupling, seed=seed, warmup_s=0.0,
                                             gain=gain_from(density, occupancy))
    assert np.all(ds["rate"].values >= 0.0)
    assert np.all(np.isfinite(ds["rate"].values)) and np.all(np.isfinite(ds["bold"].values))
