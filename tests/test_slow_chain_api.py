"""The slow chain's Python API: provenance of parameter sets, subjects, days, species hints, levels."""

from __future__ import annotations

import numpy as np
import pytest

from psilosim.errors import InputError
from psilosim.plasticity import Drive, plasticity_params, window_days
from psilosim.regimen import Regimen
from psilosim.synapses import simulate_slow_chain, spine_params


def _sets(ds) -> dict[str, str]:
    return dict(item.split("=", 1) for item in ds.attrs["parameter_sets"].split(";"))


def test_default_parameter_sets_are_recorded_by_species():
    ds = simulate_slow_chain([], species="human", days=2)
    assert _sets(ds) == {"plasticity": "human", "spines": "human"}
    assert _sets(simulate_slow_chain([], days=2)) == {"plasticity": "mouse", "spines": "mouse"}


def test_overridden_parameters_are_named_in_the_attrs():
    pp = plasticity_params("human").replace(window_decay=14.7, window_threshold=3.0)
    ds = simulate_slow_chain([], species="human", days=2, plasticity_params=pp)
    assert _sets(ds) == {"plasticity": "human (modified: window_decay, window_threshold)", "spines": "human"}


def test_a_set_of_another_species_or_hand_built_is_named_as_such():
    ds = simulate_slow_chain([], species="human", days=2, spine_params=spine_params("mouse"))
    assert _sets(ds)["spines"] == "mouse"
    m = spine_params("mouse")
    hand = type(m).model_validate({**m.__dict__, "head_gain": m.head_gain.model_copy(update={"value": 0.123})})
    ds = simulate_slow_chain([], species="human", days=2, spine_params=hand)
    assert _sets(ds)["spines"] == "custom"


PSILOCYBIN_ORAL = [("psilocybin", Regimen.single("25 mg", route="oral"))]


def test_subject_may_be_a_mapping_as_in_simulate_acute():
    as_dict = simulate_slow_chain(PSILOCYBIN_ORAL, species="human", days=2, subject={"weight": "70 kg"})
    from psilosim.pharmacokinetics import Subject

    as_model = simulate_slow_chain(PSILOCYBIN_ORAL, species="human", days=2, subject=Subject(weight_kg=70.0))
    np.testing.assert_allclose(as_dict["bdnf_rel"].values, as_model["bdnf_rel"].values)
    assert as_dict["bdnf_rel"].max() > 1.0


def test_a_bad_subject_mapping_names_the_subject_field():
    with pytest.raises(InputError, match=r"^subject\.weight"):
        simulate_slow_chain(PSILOCYBIN_ORAL, species="human", days=2, subject={"weight": "70 parsecs"})


@pytest.mark.parametrize("days", [-5, 0, float("nan"), float("inf")])
def test_days_is_checked_before_the_pharmacology_runs(days):
    with pytest.raises(InputError) as err:
        simulate_slow_chain(PSILOCYBIN_ORAL, species="human", days=days)
    assert err.value.field == "days"


def test_days_accepts_a_time_quantity():
    weeks = simulate_slow_chain([], species="human", days="1 week")
    assert weeks["time_d"].values[-1] == pytest.approx(7.0)


@pytest.mark.parametrize("days", ["6 kg", "soon", None, [3]])
def test_days_refuses_what_is_not_a_time(days):
    with pytest.raises(InputError) as err:
        simulate_slow_chain([], species="human", days=days)
    assert err.value.field == "days"


def test_oral_dose_in_the_default_mouse_suggests_species_human():
    with pytest.raises(InputError, match="human species"):
        simulate_slow_chain(PSILOCYBIN_ORAL, days=2)


@pytest.mark.parametrize("level", [0.0, 1.0, 2.0, -0.5, float("nan")])
def test_window_days_refuses_levels_that_cannot_be_crossed(level):
    ds = simulate_slow_chain(Drive.none(), days=2)
    with pytest.raises(InputError) as err:
        window_days(ds, level=level)
    assert err.value.field == "level"


# Guards against a pint quantity for days being refused while strings and replace() accept them.
def test_days_accepts_a_pint_quantity():
    from psilosim.synapses.chain import checked_days
    from psilosim.units import Q_

    assert checked_days(Q_(6, "week")) == 42.0
