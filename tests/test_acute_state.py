"""Named acute-state representations (psilosim.network.acute)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.connectome import load_dataset
from psilosim.connectome.builtin import HT2A
from psilosim.errors import DataError, InputError
from psilosim.network import acute
from psilosim.network import scan as sc


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def test_minmax_sends_the_real_map_to_the_unit_interval(aal2):
    real = aal2.receptor_map(HT2A).values
    r = acute.density_normaliser(aal2, how="minmax")(real)
    assert r.min() == pytest.approx(0.0, abs=1e-12) and r.max() == pytest.approx(1.0)
    # max normalisation leaves the map as the model always received it (least dense region > 0)
    assert np.array_equal(acute.density_normaliser(aal2, how="max")(real), real)
    assert real.min() > 0


def test_null_maps_keep_the_real_maps_values_after_minmax(aal2):
    norm = acute.density_normaliser(aal2, how="minmax")
    real = aal2.receptor_map(HT2A).values
    shuffled = sc.density_map(aal2, "shuffled", seed=4)
    assert np.allclose(np.sort(norm(shuffled)), np.sort(norm(real)))
    assert norm(sc.density_map(aal2, "uniform")) == pytest.approx(np.full_like(real, norm(real).mean()))


def _brain_with_densities(values):
    """A real Parcellation (no connections) whose 5-HT2A map holds ``values``."""
    import pandas as pd

    from psilosim.connectome import Parcellation
    from psilosim.connectome.parcellation import labelled_matrix

    labels = [f"r{i}" for i in range(len(values))]
    regions = pd.DataFrame({"hemisphere": "L", "network": "Vis"}, index=pd.Index(labels, name="label"))
    receptors = xr.DataArray(np.asarray(values, float)[:, None], dims=("region", "receptor"),
                             coords={"region": labels, "receptor": [HT2A]})
    return Parcellation(name="units", regions=regions, sc=labelled_matrix(np.zeros((len(labels),) * 2), labels),
                        receptors=receptors)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.1, 100.0), min_size=3, max_size=20, unique=True), st.floats(0.5, 1000.0))
def test_minmax_is_independent_of_density_units_and_bounded(values, unit):
    """The same PET map in other units (× unit) gives the same min–max normalised R, through the
    package's own loader path (receptor_map, then density_normaliser); R spans [0, 1]."""
    def minmax(brain):
        return acute.density_normaliser(brain, how="minmax")(brain.receptor_map(HT2A).values)

    r = minmax(_brain_with_densities(values))
    r_scaled = minmax(_brain_with_densities(unit * np.asarray(values)))
    assert np.allclose(r, r_scaled)
    assert r.min() == pytest.approx(0.0, abs=1e-9) and r.max() == pytest.approx(1.0)
    assert np.argmax(r) == np.argmax(values) and np.argmin(r) == np.argmin(values)


@pytest.mark.parametrize("call, field", [
    (lambda d: acute.density_normaliser(d, how="zscore"), "normalisation"),
    (lambda d: acute.acute_session(d, 0.5, acute_state="entropy"), "acute_state"),
    (lambda d: acute.acute_session(d, 1.5, acute_state="bifurcation_shift"), "occupancy"),
])
def test_unknown_choices_are_input_errors(aal2, call, field):
    with pytest.raises(InputError) as err:
        call(aal2)
    assert err.value.field == field


def test_no_occupancy_means_no_change_in_either_state(aal2):
    s = acute.acute_session(aal2, 0.0, acute_state="bifurcation_shift", normalisation="minmax")
    assert np.allclose(s["fc"].sel(condition="receptor"), s["fc"].sel(condition="baseline"))
    assert s.attrs["acute_state"] == "bifurcation_shift" and s.attrs["normalisation"] == "minmax"


def test_gain_with_max_is_the_default_linear_session(aal2):
    a = acute.acute_session(aal2, 0.6, acute_state="gain", normalisation="max")
    b = sc.linear_session(aal2, 0.6)
    assert np.array_equal(a["fc"].values, b["fc"].values)


def test_bifurcation_shift_raises_correlations_in_the_linear_regime(aal2):
    """Moving every node towards a = 0 slows its decay, so noise spreads further: FC rises.

    This is the reason the Hopf representation cannot produce Siegel et al.'s desynchronisation
    (docs/network.md, "Acute state: alternatives investigated").
    """
    s = acute.acute_session(aal2, 0.7, acute_state="bifurcation_shift")
    iu = np.triu_indices(len(aal2.labels), 1)
    base = s["fc"].sel(condition="baseline").values[iu]
    drug = s["fc"].sel(condition="receptor").values[iu]
    assert drug.mean() > base.mean()


def test_minmax_leaves_the_least_dense_region_at_baseline_bifurcation(aal2):
    from psilosim.network.hopf import HOPF, HopfModel

    r = acute.density_normaliser(aal2, how="minmax")(aal2.receptor_map(HT2A).values)
    a = HopfModel(aal2.sc).bifurcation(density=r, occupancy=0.7)
    assert a[np.argmin(r)] == pytest.approx(HOPF.bifurcation.to("1/s"))
    assert a.max() == pytest.approx(HOPF.bifurcation.to("1/s") + HOPF.drug_shift.to("1/s") * 0.7)


# Guards against the fitted Hopf parameters being applied to another SC that carries a fitted name.
def test_hopf_acute_state_refuses_a_renamed_sc(aal2):
    from dataclasses import replace

    from psilosim.network.acute import acute_session

    impostor = replace(aal2, sc=aal2.sc * 2)
    with pytest.raises(DataError, match="fitted Hopf"):
        acute_session(impostor, 0.5, acute_state="bifurcation_shift")
