"""The ``"current"`` acute state (Kringelbach et al. 2020 drug currents) and the DMF's extra currents."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.connectome import load_dataset
from psilosim.connectome.builtin import HT2A
from psilosim.errors import InputError
from psilosim.network import acute
from psilosim.network.dmf import DMFModel
from psilosim.network.dmf.linear import LinearDMF, is_stable, stable_coupling

#: A coupling well inside AAL2's stable range (its fitted G is beyond the linear regime).
G_STABLE = 0.4


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def lin(aal2):
    return LinearDMF(DMFModel(aal2.sc), G_STABLE)


def test_current_state_is_registered_as_published_with_cited_constants():
    state = acute.ACUTE_STATES["current"]
    assert state.kind == "published" and "Kringelbach" in state.source
    for name in ("w_exc", "w_inh", "j_drug"):
        p = getattr(acute.CURRENT, name)
        assert p.kind == "published" and "pnas-neuromod" in p.source
    assert acute.CURRENT.j_drug.unit == "nA"


def test_stored_reference_occupancy_is_the_chain_occupancy_of_the_iv_scans():
    # stored rounded to 4 significant digits; the chain recomputes it
    assert acute.CURRENT.reference_occupancy.value == pytest.approx(acute.kringelbach2020_occupancy(), rel=1e-3)
    assert acute.CURRENT.reference_occupancy.kind == "derived"
    # a later, longer window sits further up the rising occupancy curve of an IV bolus
    later = acute.KRINGELBACH2020_SCANS.replace(scan_start=3.0, scan_end=8.0)
    assert acute.kringelbach2020_occupancy(scans=later) > acute.kringelbach2020_occupancy()


def test_bad_scan_window_is_an_input_error():
    with pytest.raises(InputError):
        acute.kringelbach2020_occupancy(scans=acute.KRINGELBACH2020_SCANS.replace(scan_start=6.0, scan_end=1.0))


def test_zero_occupancy_gives_exactly_the_baseline_fc(aal2):
    s = acute.acute_session(aal2, 0.0, acute_state="current", maps=("receptor", "uniform"))
    base = s["fc"].sel(condition="baseline").values
    assert np.array_equal(s["fc"].sel(condition="receptor").values, base)
    assert np.array_equal(s["fc"].sel(condition="uniform").values, base)
    assert s.attrs["acute_state"] == "current" and s.attrs["method"] == "linear-current"


def test_currents_change_fc_and_raise_excitatory_rates(aal2, lin):
    density = aal2.receptor_map(HT2A).values
    current_e, current_i = acute.drug_currents(density, 0.5)
    base_fc, drug_fc = lin.fc().values, lin.fc(current_e=current_e, current_i=current_i).values
    assert not np.allclose(base_fc, drug_fc)
    # w_exc > w_inh: the net drive onto the excitatory pools is positive, so they fire faster
    assert (lin.rates(current_e=current_e, current_i=current_i).values > lin.rates().values).all()


def test_zero_currents_are_the_gain_path_exactly(lin):
    n = lin.model.n_regions
    zeros = np.zeros(n)
    assert np.array_equal(lin.fc(current_e=zeros, current_i=zeros).values, lin.fc().values)


@pytest.mark.parametrize("with_gain", [False, True])
def test_jacobian_with_currents_matches_finite_differences(lin, aal2, with_gain):
    n = lin.model.n_regions
    rng = np.random.default_rng(1)
    current_e, current_i = acute.drug_currents(aal2.receptor_map(HT2A).values, 0.4)
    gain = 1.0 + 0.1 * rng.random(n) if with_gain else np.ones(n)
    x = lin.fixed_point(gain, current_e=current_e, current_i=current_i) + 1e-3 * rng.standard_normal(2 * n)
    jac = lin.jacobian(x, gain, current_e=current_e, current_i=current_i)
    h = 1e-7
    numeric = np.empty_like(jac)
    for k in range(2 * n):
        step = np.zeros(2 * n)
        step[k] = h
        numeric[:, k] = (lin.flow(x + step, gain, current_e=current_e, current_i=current_i)
                         - lin.flow(x - step, gain, current_e=current_e, current_i=current_i)) / (2 * h)
    assert np.allclose(jac, numeric, rtol=1e-5, atol=1e-8)


def test_fixed_point_with_currents_solves_the_flow(lin, aal2):
    current_e, current_i = acute.drug_currents(aal2.receptor_map(HT2A).values, 0.3)
    ones = np.ones(lin.model.n_regions)
    x = lin.fixed_point(ones, current_e=current_e, current_i=current_i)
    assert np.abs(lin.flow(x, ones, current_e=current_e, current_i=current_i)).max() < 1e-10
    assert np.abs(lin.flow(x, ones)).max() > 1e-6  # without the currents it is not a fixed point


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30), st.floats(0.0, 1.0))
def test_currents_are_proportional_to_density_and_vanish_where_it_is_zero(values, occupancy):
    density = np.asarray(values)
    current_e, current_i = acute.drug_currents(density, occupancy)
    assert (current_e[density == 0] == 0).all() and (current_i[density == 0] == 0).all()
    assert (current_e >= 0).all() and (current_i >= 0).all()
    p = acute.CURRENT
    drug = p.j_drug.to("nA") * occupancy / p.reference_occupancy.value
    assert np.allclose(current_e, p.w_exc.value * density * drug)
    assert np.allclose(current_i, p.w_inh.value * density * drug)


def test_uniform_map_gives_every_region_the_same_current(aal2):
    from psilosim.network.scan import density_map

    current_e, current_i = acute.drug_currents(density_map(aal2, "uniform").values, 0.6)
    assert np.ptp(current_e) == 0 and np.ptp(current_i) == 0 and current_e[0] > current_i[0] > 0


def test_current_at_the_reference_occupancy_is_the_authors_saturated_current():
    p = acute.CURRENT
    current_e, current_i = acute.drug_currents(np.ones(1), p.reference_occupancy.value)
    assert current_e[0] == pytest.approx(p.w_exc.value * p.j_drug.to("nA"))
    assert current_i[0] == pytest.approx(p.w_inh.value * p.j_drug.to("nA"))


@pytest.mark.parametrize("occupancy", [-0.1, 1.5, float("nan")])
def test_occupancy_outside_the_unit_interval_is_an_input_error(occupancy, aal2):
    with pytest.raises(InputError) as err:
        acute.drug_currents(np.ones(3), occupancy)
    assert err.value.field == "occupancy"
    with pytest.raises(InputError) as err:
        acute.acute_session(aal2, occupancy, acute_state="current")
    assert err.value.field == "occupancy"


@pytest.mark.parametrize("density", [[0.5, -0.1, 1.0], [0.5, float("nan"), 1.0]])
def test_bad_density_is_an_input_error(density):
    with pytest.raises(InputError) as err:
        acute.drug_currents(np.asarray(density), 0.5)
    assert err.value.field == "density"


@pytest.mark.parametrize("field, value", [("current_e", np.ones(3)), ("current_i", np.full(80, np.inf))])
def test_linear_dmf_refuses_currents_of_the_wrong_shape_or_not_finite(lin, field, value):
    with pytest.raises(InputError) as err:
        lin.fc(**{field: value})
    assert err.value.field == field


#: A coupling at which AAL2's baseline is stable but the drug currents are not (measured: the
#: currents push E rates towards 20 Hz, where the transfer function is steep).
G_NEAR_EDGE = 0.6


def test_drug_currents_can_destabilise_and_lower_the_stable_coupling(aal2):
    model = DMFModel(aal2.sc)
    pair = acute.drug_currents(aal2.receptor_map(HT2A).values, 0.69)
    assert is_stable(model, G_NEAR_EDGE) and not is_stable(model, G_NEAR_EDGE, currents=[pair])
    lowered = stable_coupling(model, G_NEAR_EDGE, currents=[pair])
    assert 0 < lowered < G_NEAR_EDGE and is_stable(model, lowered, currents=[pair])
    assert stable_coupling(model, G_NEAR_EDGE) == G_NEAR_EDGE  # the gain path's answer is unchanged


def test_on_schaefer100_the_current_state_lowers_the_coupling_and_desynchronises(schaefer100_dir):
    """At the stored fitted G the FIC working point is just below its instability, and net drug
    excitation takes it through a saddle-node: the session must step G down (and say so). At the
    G it uses, the drug lowers mean FC (docs/network.md#acute-alternatives)."""
    brain = load_dataset(schaefer100_dir)
    s = acute.acute_session(brain, 0.69, acute_state="current")
    assert s.attrs["coupling"] < s.attrs["requested_coupling"]
    model = DMFModel(brain.sc)
    pair = acute.drug_currents(brain.receptor_map(HT2A).values, 0.69)
    assert is_stable(model, s.attrs["coupling"], currents=[pair])
    assert not is_stable(model, s.attrs["requested_coupling"], currents=[pair])
    off = ~np.eye(brain.n_regions, dtype=bool)
    base, drug = (s["fc"].sel(condition=c).values[off].mean() for c in ("baseline", "receptor"))
    assert drug < base
