"""The DMF gain scale per unit occupancy, derived from Deco et al. 2018's LSD fit."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.binding import simulate_acute
from psilosim.compounds import get_compound
from psilosim.errors import DataError, InputError
from psilosim.network.dmf import DMF
from psilosim.network.gain_scale import (
    DECO2018_LSD,
    ROUTE,
    deco2018_lsd_occupancy,
    derived_gain_scale,
    with_iv_bolus,
)
from psilosim.network.scan import gain_from
from psilosim.regimen import Regimen


@functools.lru_cache(maxsize=1)
def chain_occupancy() -> float:
    return deco2018_lsd_occupancy()


def test_stored_gain_scale_is_deco_gain_over_the_chain_occupancy():
    # DMF.gain_scale is stored rounded to 4 significant digits; the chain recomputes it.
    expected = DECO2018_LSD.fitted_gain.value / chain_occupancy()
    assert DMF.gain_scale.value == pytest.approx(expected, rel=1e-3)
    assert DMF.gain_scale.kind == "derived"


def test_gain_scale_is_proportional_to_deco_gain_and_falls_with_a_larger_lsd_dose():
    g = DECO2018_LSD.fitted_gain.value
    assert derived_gain_scale(params=DECO2018_LSD.replace(fitted_gain=2 * g)) == pytest.approx(2 * derived_gain_scale())
    # A larger LSD dose occupies more receptors, so less gain per unit occupancy reproduces Deco's state.
    dose = DECO2018_LSD.dose.value
    assert derived_gain_scale(params=DECO2018_LSD.replace(dose=2 * dose)) < derived_gain_scale()


def test_occupancy_is_a_fraction_below_the_lsd_ceiling():
    occmax = get_compound("LSD").binding["5-HT2A"].occmax.value
    assert 0.0 < chain_occupancy() < occmax < 1.0


def test_psilosim_gain_at_lsd_occupancy_reproduces_deco_gain():
    """At the occupancy of Deco's LSD scans, 1 + s·R·occ must equal their fitted 1 + 0.2·R."""
    density = np.linspace(0.0, 1.0, 11)
    deco = 1.0 + DECO2018_LSD.fitted_gain.value * density
    assert np.allclose(gain_from(density, chain_occupancy()), deco, rtol=1e-3)


def test_iv_bolus_starts_at_dose_over_volume_and_keeps_oral():
    lsd = with_iv_bolus(compound="LSD")
    pk = lsd.pk("human")
    assert pk.route(ROUTE.value).bioavailability.value == 1.0
    assert pk.route("oral") == get_compound("LSD").pk("human").route("oral")
    dt_h = 0.01
    conc = simulate_acute([(lsd, Regimen.single("75 ug", route="iv"))], t_end_h=0.1, dt_h=dt_h)["concentration"]
    c = conc.sel(compound=lsd.name).values
    dose_ng, volume_ml = 75.0e3, pk.central_volume.to("mL")
    k_per_h = pk.clearance.to("L/h") / pk.central_volume.to("L")
    # one compartment, no absorption: C(t) = D/V·exp(−k t) from the first sample on
    assert c[1] == pytest.approx(dose_ng / volume_ml * np.exp(-k_per_h * dt_h), rel=1e-3)


def test_window_must_run_forward():
    with pytest.raises(InputError, match="scan window"):
        deco2018_lsd_occupancy(params=DECO2018_LSD.replace(scan_start=150.0, scan_end=70.0))


def test_compound_without_5ht2a_binding_is_refused():
    no_binding = get_compound("LSD").model_copy(update={"binding": {}})
    with pytest.raises(DataError, match="not in \\(0, 1\\)"):
        deco2018_lsd_occupancy(compound=no_binding)


def test_compound_without_human_pk_is_refused():
    lsd = get_compound("LSD")
    mouse_only = lsd.model_copy(update={"species": {"mouse": lsd.species["mouse"]}})
    with pytest.raises(InputError, match="no human PK"):
        with_iv_bolus(compound=mouse_only)


@pytest.mark.filterwarnings("ignore::psilosim.errors.ExtrapolationWarning")  # doses above 200 ug on purpose
@settings(max_examples=8, deadline=None)
@given(low=st.floats(10.0, 150.0), factor=st.floats(1.2, 4.0))
def test_occupancy_and_gain_scale_are_monotone_in_the_dose(low, factor):
    """More LSD gives more occupancy, so the same fitted gain implies a smaller scale."""
    small = DECO2018_LSD.replace(dose=low)
    large = DECO2018_LSD.replace(dose=low * factor)
    assert deco2018_lsd_occupancy(params=small) < deco2018_lsd_occupancy(params=large)
    assert derived_gain_scale(params=small) > derived_gain_scale(params=large)


# ---------------------------------------------------------------- the quoted numbers follow the chain
# DMF.gain_scale is derived, so a change anywhere in the LSD chain (e.g. its central volume) moves it;
# the docs and the Param's own note quote it and its EC50 sensitivity, and must move with it.
DOC = Path(__file__).resolve().parents[1] / "docs" / "network.md"


def _lsd_with_ec50_times(factor: float):
    lsd = get_compound("LSD")
    binding = lsd.binding["5-HT2A"]
    return lsd.model_copy(update={"binding": {**lsd.binding, "5-HT2A": binding.replace(ec50=binding.ec50.value * factor)}})


def test_docs_quote_the_stored_gain_scale_and_the_chain_occupancy():
    text = DOC.read_text(encoding="utf-8")
    stated = re.search(r"\| s = 0\.2 / ([\d.]+) \(`DMF\.gain_scale`[^|]*\| \*\*([\d.]+)\*\* \|", text)
    assert stated is not None, "the gain-scale table row of docs/network.md is missing"
    assert float(stated.group(1)) == pytest.approx(chain_occupancy(), abs=5e-5)
    assert float(stated.group(2)) == DMF.gain_scale.value


def test_gain_scale_note_quotes_the_ec50_sensitivity_it_inherits():
    """The note's "×0.5/×2 gives s a/b" is recomputed with the LSD 5-HT2A EC50 halved and doubled."""
    quoted = re.search(r"×0\.5/×2 gives s ([\d.]+)/([\d.]+)", DMF.gain_scale.note)
    assert quoted is not None
    g = DECO2018_LSD.fitted_gain.value
    for text, factor in zip(quoted.groups(), (0.5, 2.0), strict=True):
        scale = g / deco2018_lsd_occupancy(compound=_lsd_with_ec50_times(factor))
        assert float(text) == pytest.approx(scale, abs=0.005)
    # a lower EC50 means more occupancy, hence a smaller gain per unit occupancy
    assert float(quoted.group(1)) < DMF.gain_scale.value < float(quoted.group(2))
