"""Model objects cannot be changed once built (psilosim._frozen.Frozen).

A model derives values from its inputs when it is built, so an input assigned afterwards would
leave them stale (a DMF's ``consts.r_ref`` kept the old target rate), a misspelt attribute would
be created silently, and the one model :func:`psilosim.rewiring.model_for` shares per process
would carry one caller's change to every later caller.
"""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from psilosim.connectome import Parcellation, labelled_matrix
from psilosim.network.dmf import DMF, DMFModel
from psilosim.network.dmf.linear import LinearDMF
from psilosim.network.hopf import HopfModel
from psilosim.network.nulls import VariogramNulls, centroid_distances
from psilosim.rewiring import RewiringModel, model_for

N = 10
LABELS = [f"R{i}" for i in range(N)]


def _sc():
    pos = np.arange(N, dtype=float)
    weights = 0.2 * np.exp(-np.abs(pos[:, None] - pos[None, :]) / 3.0)
    np.fill_diagonal(weights, 0.0)
    return labelled_matrix(weights, LABELS, name="sc")


def _brain() -> Parcellation:
    regions = pd.DataFrame({"hemisphere": ["L"] * N, "network": ["Default"] * 5 + ["Vis"] * 5},
                           index=pd.Index(LABELS, name="label"))
    return Parcellation(name="small", regions=regions, sc=_sc())


def _nulls() -> VariogramNulls:
    rng = np.random.default_rng(3)
    return VariogramNulls(rng.normal(size=N), centroid_distances(rng.uniform(-50, 50, size=(N, 3))))


#: Each class with a small instance and one public attribute it sets in __init__.
BUILT = {
    "DMFModel": (lambda: DMFModel(_sc()), "params"),
    "LinearDMF": (lambda: LinearDMF(DMFModel(_sc()), 0.3), "coupling"),
    "HopfModel": (lambda: HopfModel(_sc()), "params"),
    "VariogramNulls": (_nulls, "values"),
    "RewiringModel": (lambda: RewiringModel(_brain()), "depressed"),
}


@pytest.mark.parametrize("name", BUILT)
def test_assigning_an_attribute_after_construction_is_refused(name):
    build, attribute = BUILT[name]
    obj = build()
    before = getattr(obj, attribute)
    with pytest.raises(FrozenInstanceError, match=rf"{name} cannot be changed.*'{attribute}'.*new {name}\("):
        setattr(obj, attribute, None)
    assert getattr(obj, attribute) is before


@pytest.mark.parametrize("name", BUILT)
def test_a_misspelt_attribute_is_not_created(name):
    obj = BUILT[name][0]()
    with pytest.raises(AttributeError, match="cannot set attribute 'paramz'"):
        obj.paramz = 1
    assert not hasattr(obj, "paramz")


@pytest.mark.parametrize("name", BUILT)
def test_deleting_an_attribute_is_refused(name):
    build, attribute = BUILT[name]
    obj = build()
    with pytest.raises(FrozenInstanceError, match=f"cannot delete attribute '{attribute}'"):
        delattr(obj, attribute)
    assert hasattr(obj, attribute)


def test_a_new_target_rate_takes_a_new_model_whose_derived_values_follow():
    """The stale case of the review: the FIC target lives in consts.r_ref, derived in __init__."""
    model = DMFModel(_sc())
    with pytest.raises(FrozenInstanceError):
        model.params = DMF.replace(target_rate=2 * DMF.target_rate.value)
    rebuilt = DMFModel(_sc(), params=DMF.replace(target_rate=2 * DMF.target_rate.value))
    assert rebuilt.consts.r_ref == 2 * model.consts.r_ref
    assert not np.allclose(rebuilt.fic(0.3), model.fic(0.3))


def test_the_shared_rewiring_model_cannot_be_changed_by_one_caller():
    first = model_for("aal2")
    with pytest.raises(FrozenInstanceError):
        first.depressed = False
    with pytest.raises(FrozenInstanceError):
        first.untreated = first.healthy
    with pytest.raises(ValueError, match="read-only"):  # nor in place: its arrays are shared too
        first.untreated[0, 1] = 99.0
    later = model_for("aal2")
    assert later is first and later.depressed is True and later.untreated is later.rigid
    assert later.untreated[0, 1] != 99.0


def test_a_rewiring_model_leaves_its_brain_writable():
    """Its own arrays are read-only copies: the Parcellation it was built from is not changed."""
    brain = _brain()
    model = RewiringModel(brain)
    for name in ("healthy", "strength", "dmn", "rigid", "untreated", "density"):
        assert not getattr(model, name).flags.writeable, name
    assert brain.sc.values.flags.writeable


def test_lazy_caches_still_fill_and_are_kept():
    """A frozen model still caches what it computes on demand (the gain network, baseline measures)."""
    model = RewiringModel(_brain(), acute_state="gain")
    assert model.gain_network() is model.gain_network()
    assert model.baseline_measures() == model.baseline_measures()


def test_a_frozen_model_survives_a_pickle_round_trip():
    """Trials send models to worker processes: unpickling must not trip the refusal, and the copy stays frozen."""
    model = DMFModel(_sc())
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.fic(0.3), model.fic(0.3))
    with pytest.raises(FrozenInstanceError):
        copy.params = DMF
