"""Conformance suite: every parameter set and every component of the chain meets the project standard.

In the spirit of scikit-learn's estimator checks, the same generic checks run over everything the
package defines, so a new parameter set or a new link is checked without writing a new test.

Part A, parameters (``psilosim.parameters``): every ``ParameterSet`` found in the package (module
level, inside module-level containers, the compound library, the per-species cellular sets) has
cited, unit-bearing, finite, in-bounds ``Param`` values whose evidence kind is documented, and
behaves as an immutable value (``replace`` validates and copies).

Part B, components (``tests/_conformance_components.py``): one tiny run per link, at rest and with a
drug, returns labelled xarray output with units, is reproducible under a seed, stays at its rest
state without a drug, and stays within physical bounds with one.

A case marked ``xfail(strict=True)`` is a defect in ``src`` found by this suite; the reason names
the place to fix. Remove the mark with the fix (strict: the suite fails once the case passes).
"""

from __future__ import annotations

import math
import re
from typing import get_args

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from _conformance_components import (
    COMPONENTS,
    discover_parameter_sets,
    nested_sets,
    parameter_set_classes,
    run_dmf,
    run_hopf,
)
from psilosim.compounds import Compound
from psilosim.errors import InputError
from psilosim.parameters import EvidenceKind, Param, ParameterSet
from psilosim.units import ureg

# ============================================================================= Part A: parameters
SETS = discover_parameter_sets()
#: Set-level checks also run on every set nested inside a discovered one (a compound's PK sets,
#: routes, bindings; their Params are already part of the outer set's ``params()``, so the
#: Param-level checks do not repeat them).
ALL_SETS = {**SETS, **nested_sets(SETS)}

#: The evidence kinds of the project standard (CONTRIBUTING.md, psilosim.parameters docstring).
STANDARD_KINDS = {"published", "secondary", "unverified", "derived", "fitted", "assumed", "override"}
#: A shipped default is never a user override (``replace()`` marks its values "override").
SHIPPED_KINDS = STANDARD_KINDS - {"override"}
#: Kinds whose value must say how it was derived / fitted / why it was assumed or is unverified.
KINDS_NEEDING_A_NOTE = {"derived", "fitted", "assumed", "unverified"}

#: Sets seen by reading the source; discovery must find at least these (it may find more).
EXPECTED_SETS = {
    "binding.params.EFFECT_PARAMS", "clinical.biology.DEFAULT_BIOLOGY", "clinical.patients.DEFAULT_POPULATION",
    "clinical.symptoms.DEFAULT_SYMPTOMS", "connectome.builtin.AAL2_DATA", "metrics.networks.SEED_MATCH",
    "metrics.params.DEFAULT_METRICS", "network.bold.BALLOON", "network.dmf.params.DMF",
    "network.dmf.params.FITTED_G", "network.gain_scale.DECO2018_LSD", "network.hopf.params.FITTED_HOPF",
    "network.hopf.params.HOPF", "network.nulls.VARIOGRAM", "network.settings.FIT", "network.settings.SCAN",
    "pharmacokinetics.interactions.INTERACTION_PARAMS", "rewiring.params.REWIRING",
    "species.SPECIES['human']", "species.SPECIES['mouse']", "validation.checks_metrics.CHECKS",
    "validation.checks_network.CHECKS", "plasticity:human", "plasticity:mouse", "spines:human", "spines:mouse",
    "compound:psilocybin", "compound:escitalopram", "compound:ketamine", "compound:LSD", "compound:MDMA",
    "compound:ibogaine",
}
#: Discovery that finds fewer sets than this is broken, whatever EXPECTED_SETS says.
MIN_SETS = 15

#: Param-level defects found by this suite and not yet fixed: {(check, set id): reason naming the
#: src location}. Each entry marks its case ``xfail(strict=True)``, so the fix must remove it.
PARAM_XFAILS: dict[tuple[str, str], str] = {}


def _cases(sets: dict[str, ParameterSet], check: str = "", xfails: dict | None = None) -> list:
    xfails = xfails or {}
    out = []
    for name, s in sets.items():
        reason = xfails.get((check, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(s, id=name, marks=marks))
    return out


def _params(s: ParameterSet) -> dict[str, Param]:
    return s.params()


def _offenders(s: ParameterSet, bad) -> list[str]:
    return [f"{name} = {p!r}" for name, p in _params(s).items() if bad(p)]


def test_discovery_finds_every_parameter_set_seen_by_reading():
    assert len(SETS) >= MIN_SETS, f"discovery found only {sorted(SETS)}"
    assert EXPECTED_SETS <= set(SETS), f"not discovered: {sorted(EXPECTED_SETS - set(SETS))}"
    assert len({id(s) for s in SETS.values()}) == len(SETS)          # deduplicated by identity
    assert all(isinstance(s, ParameterSet) for s in ALL_SETS.values())


def test_every_parameter_set_class_has_an_instance_that_the_checks_see():
    # a new ParameterSet reachable only through a function or a class attribute would otherwise
    # escape every check below without a failure
    seen = {type(s) for s in ALL_SETS.values()}
    unseen = sorted(f"{c.__module__}.{c.__qualname__}" for c in parameter_set_classes() - seen)
    assert not unseen, f"no discovered instance of {unseen}: expose a default or add a builder"


def test_every_discovered_set_holds_parameters():
    empty = [name for name, s in SETS.items() if not _params(s)]
    assert not empty


def test_evidence_kinds_are_the_documented_ones():
    assert set(get_args(EvidenceKind)) == STANDARD_KINDS


@pytest.mark.parametrize("pset", _cases(SETS, "source", PARAM_XFAILS))
def test_every_param_cites_a_source(pset):
    assert not _offenders(pset, lambda p: not p.source.strip())


#: A source a reader can follow: long enough to say something, or a docs anchor, or an author and a year.
MIN_SOURCE_CHARS = 15
FOLLOWABLE_SOURCE = re.compile(r"docs/\w+\.md#|[A-Z][A-Za-z'’-]+.*\b(19|20)\d\d\b")
#: Params whose source is still a bare stub ("psilosim", "typical IIV"): {(set id, parameter): why
#: it stays}. Empty: every stub source now names where the reasoning is.
STUB_SOURCE_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _bare_stub(source: str) -> bool:
    return len(source.strip()) < MIN_SOURCE_CHARS and not FOLLOWABLE_SOURCE.search(source)


def test_no_param_source_is_a_bare_stub():
    stubs = [f"{name}: {field} = {p.source!r}" for name, s in SETS.items() for field, p in _params(s).items()
             if _bare_stub(p.source) and (name, field) not in STUB_SOURCE_EXCEPTIONS]
    assert not stubs, f"say where the reasoning is (a docs anchor, a paper): {stubs}"


def test_stub_source_check_tells_a_stub_from_a_citation():
    assert _bare_stub("psilosim") and _bare_stub("typical IIV") and _bare_stub("assumption")
    assert not _bare_stub("Holze 2023") and not _bare_stub("docs/network.md#fit")
    assert not _bare_stub("psilosim numerical setting")


@pytest.mark.parametrize("pset", _cases(SETS, "kind", PARAM_XFAILS))
def test_every_param_has_a_standard_evidence_kind(pset):
    # model_copy(update=...) skips validation, so a builder can produce a kind outside the Literal;
    # and a shipped default built with replace() would carry "override" instead of its evidence
    assert not _offenders(pset, lambda p: p.kind not in SHIPPED_KINDS)


@pytest.mark.parametrize("pset", _cases(SETS, "note", PARAM_XFAILS))
def test_derived_fitted_assumed_and_unverified_params_say_how_or_why(pset):
    assert not _offenders(pset, lambda p: p.kind in KINDS_NEEDING_A_NOTE and not p.note.strip())


def _unit_parses(unit: str) -> bool:
    try:
        ureg.Unit(unit)
    except Exception:  # pint raises several unrelated exception types
        return False
    return True


@pytest.mark.parametrize("pset", _cases(SETS, "unit", PARAM_XFAILS))
def test_every_param_unit_parses_with_the_project_registry(pset):
    assert not _offenders(pset, lambda p: not isinstance(p.unit, str) or not _unit_parses(p.unit))


@pytest.mark.parametrize("pset", _cases(SETS, "finite", PARAM_XFAILS))
def test_every_param_value_is_finite(pset):
    assert not _offenders(pset, lambda p: not math.isfinite(p.value))


def _outside(p: Param, value: float) -> bool:
    below = p.low is not None and (value < p.low or (value == p.low and not p.low_inclusive))
    return below or (p.high is not None and value > p.high)


@pytest.mark.parametrize("pset", _cases(SETS, "bounds", PARAM_XFAILS))
def test_every_param_value_lies_within_its_declared_bounds(pset):
    assert not _offenders(pset, lambda p: (p.low is not None and p.high is not None and p.low > p.high)
                          or _outside(p, p.value))


# ----------------------------------------------------------------------------- set behaviour
def _top_level_params(s: ParameterSet) -> dict[str, Param]:
    return {name: getattr(s, name) for name in type(s).model_fields if isinstance(getattr(s, name), Param)}


def _first_param(s: ParameterSet) -> tuple[str, Param]:
    params = _top_level_params(s)
    assert params, f"{type(s).__name__} has no top-level Param to replace"
    return next(iter(params.items()))


def _valid_new_value(p: Param) -> float:
    """A value different from ``p.value`` that respects its bounds (and stays a fraction if it is one)."""
    candidates = [p.value * 0.99, p.value * 1.01]
    if p.low is not None and p.high is not None:
        candidates.append(0.5 * (p.low + p.high))
    candidates += [0.5, (p.low or 0.0) + 1.0]
    return next(v for v in candidates if v != p.value and not _outside(p, v))


@pytest.mark.parametrize("pset", _cases(ALL_SETS))
def test_parameter_set_is_immutable(pset):
    name, param = _first_param(pset)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(pset, name, param)
    with pytest.raises(ValidationError, match="frozen"):
        param.value = param.value + 1.0  # type: ignore[misc]
    assert getattr(pset, name) is param


@pytest.mark.parametrize("pset", _cases(ALL_SETS))
def test_replace_returns_a_new_set_and_leaves_the_original_unchanged(pset):
    name, param = _first_param(pset)
    before = pset.model_dump()
    new_value = _valid_new_value(param)
    copy = pset.replace(**{name: new_value})
    assert type(copy) is type(pset) and copy is not pset
    assert getattr(copy, name).value == pytest.approx(new_value, rel=1e-15)
    assert getattr(copy, name).kind == "override"          # the citation no longer applies
    assert getattr(copy, name).unit == param.unit
    assert pset.model_dump() == before
    others = {k: v for k, v in copy.model_dump().items() if k != name}
    assert others == {k: v for k, v in before.items() if k != name}


@pytest.mark.parametrize("pset", _cases(ALL_SETS))
def test_replace_refuses_an_unknown_name(pset):
    with pytest.raises(KeyError, match="no parameter"):
        pset.replace(no_such_parameter_xyz=1.0)


def _bounded_cases() -> list:
    out = []
    for set_name, s in ALL_SETS.items():
        for name, p in _top_level_params(s).items():
            for side, limit in (("low", p.low), ("high", p.high)):
                if limit is not None:
                    out.append(pytest.param(s, name, side, id=f"{set_name}.{name}.{side}"))
    return out


BOUNDED = _bounded_cases()


def test_some_parameters_declare_bounds():
    # otherwise the bound-refusal check below would silently test nothing
    assert len(BOUNDED) >= 1


@pytest.mark.parametrize("pset,name,side", BOUNDED)
def test_replace_refuses_a_value_outside_the_declared_bounds(pset, name, side):
    p = getattr(pset, name)
    limit = p.low if side == "low" else p.high
    step = max(1.0, abs(limit))
    value = limit - step if side == "low" else limit + step
    with pytest.raises(ValueError, match="outside"):
        pset.replace(**{name: value})
    assert getattr(pset, name) is p


_BOUNDED_PARAMS = [(s, n) for s, n, _ in (c.values for c in BOUNDED)]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_replace_accepts_exactly_the_values_inside_the_bounds(data):
    pset, name = data.draw(st.sampled_from(_BOUNDED_PARAMS))
    p = getattr(pset, name)
    lo = p.low if p.low is not None else p.high - 1e6
    hi = p.high if p.high is not None else p.low + 1e6
    value = data.draw(st.floats(lo - 10.0, hi + 10.0, allow_nan=False))
    if _outside(p, value):
        with pytest.raises(ValueError, match="outside"):
            pset.replace(**{name: value})
    else:
        try:
            copy = pset.replace(**{name: value})
        except (ValueError, InputError) as exc:
            # a set's own validator (a fraction, a positive rate) may refuse; the bounds may not
            assert "outside" not in str(exc), exc
            return
        assert getattr(copy, name).value == value


# ============================================================================= Part B: components
ATOL = 1e-9
RTOL = 1e-9
#: Component defects found by this suite and not yet fixed (as :data:`PARAM_XFAILS`).
COMPONENT_XFAILS: dict[tuple[str, str], str] = {}
_CACHE: dict[tuple[str, bool], xr.Dataset | xr.DataArray] = {}


def _output(component, drug: bool):
    """The component's run with seed 1 (cached: several checks read the same output)."""
    key = (component.name, drug)
    if key not in _CACHE:
        _CACHE[key] = component.run(drug, seed=1)
    return _CACHE[key]


def _component_cases(check: str, select=lambda c: True) -> list:
    out = []
    for c in COMPONENTS:
        if not select(c):
            continue
        reason = COMPONENT_XFAILS.get((check, c.name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


def _conditions(component) -> list[bool]:
    return [True] if component.rest is None else [False, True]


def _variables(out) -> dict[str, xr.DataArray]:
    return dict(out.data_vars) if isinstance(out, xr.Dataset) else {str(out.name): out}


#: The components that run each link of the causal chain (DESIGN.md, links 1–8). Link 1, the
#: regimen, is data (a ``Regimen`` and its ``DosingEvents``, no xarray result): it is the input of
#: the pk, binding and scenario components, whose rest runs move its only dose out of the run.
CHAIN_LINKS = {
    1: ("pk", "binding", "scenario"),
    2: ("pk", "scenario"),
    3: ("binding", "scenario"),
    4: ("plasticity",),
    5: ("spines",),
    6: ("dmf", "hopf", "bold", "rewiring", "linear_dmf", "scan_session", "linear_session",
        "acute_session_gain", "acute_session_current", "variogram_nulls"),
    7: ("metrics", "metrics_compare"),
    8: ("clinical_patient", "clinical_trial"),
}
#: Public entry points and the components that run them.
ENTRY_POINTS = {
    "pharmacokinetics.simulate_pk": "pk", "binding.simulate_acute": "binding",
    "plasticity.simulate_plasticity": "plasticity", "synapses.simulate_slow_chain": "spines",
    "network.dmf.DMFModel": "dmf", "network.hopf.HopfModel": "hopf", "network.bold.bold_from_drive": "bold",
    "rewiring.patient_network": "rewiring", "network.dmf.linear.LinearDMF": "linear_dmf",
    "network.scan.scan_session": "scan_session", "network.scan.linear_session": "linear_session",
    "network.acute.acute_session": "acute_session_gain", "network.nulls.VariogramNulls": "variogram_nulls",
    "metrics.analyze": "metrics", "metrics.compare": "metrics_compare",
    "clinical.simulate_patient": "clinical_patient", "clinical.run_trial": "clinical_trial",
    "scenario.simulate_scenario": "scenario",
}


def test_component_table_covers_the_chain():
    names = {c.name for c in COMPONENTS}
    assert set(CHAIN_LINKS) == set(range(1, 9))
    uncovered = {link: sorted(set(runs) - names) for link, runs in CHAIN_LINKS.items() if set(runs) - names}
    assert not uncovered, f"links without their components: {uncovered}"
    assert all(CHAIN_LINKS.values())
    missing = {entry: name for entry, name in ENTRY_POINTS.items() if name not in names}
    assert not missing, f"entry points without a component: {missing}"
    # every component belongs to some link (a new one must say which)
    assert names == {name for runs in CHAIN_LINKS.values() for name in runs}


def test_every_entry_point_named_exists():
    import importlib

    for entry in ENTRY_POINTS:
        module, _, attr = entry.rpartition(".")
        assert hasattr(importlib.import_module(f"psilosim.{module}"), attr), entry


@pytest.mark.parametrize("component", _component_cases("labels"))
def test_output_is_labelled_xarray(component):
    for drug in _conditions(component):
        out = _output(component, drug)
        assert isinstance(out, (xr.Dataset, xr.DataArray))
        unnamed = [d for d in out.dims if re.fullmatch(r"dim_\d+", str(d))]
        assert not unnamed, f"unnamed dimensions {unnamed}"
        region_dims = [str(d) for d in out.dims if "region" in str(d)]
        assert bool(region_dims) == bool(component.regions), f"region dimensions {region_dims}"
        for dim in region_dims:
            assert dim in out.coords, f"{dim} carries no labels"
            assert [str(v) for v in out[dim].values] == list(component.regions)


@pytest.mark.parametrize("component", _component_cases("units_present"))
def test_every_variable_has_a_units_attribute(component):
    # a variable whose rows differ in unit names, instead, the coordinate holding each row's unit
    for drug in _conditions(component):
        output = _output(component, drug)
        missing = [name for name, da in _variables(output).items()
                   if "units" not in da.attrs and not _units_by_row(output, da)]
        assert not missing, f"no attrs['units'] (nor a units_coordinate) on {missing}"


def _units_by_row(output, da) -> bool:
    """Whether ``da`` names (``units_coordinate``) a coordinate of ``output`` along one of its dims
    whose every value is a unit the project registry reads."""
    name = da.attrs.get("units_coordinate")
    if name is None or name not in output.coords:
        return False
    coord = output.coords[name]
    return coord.ndim == 1 and coord.dims[0] in da.dims and all(_unit_parses(str(u)) for u in coord.values)


@pytest.mark.parametrize("component", _component_cases("units_parse"))
def test_every_units_attribute_parses_with_the_project_registry(component):
    for drug in _conditions(component):
        variables = _variables(_output(component, drug))
        bad = {name: da.attrs["units"] for name, da in variables.items()
               if "units" in da.attrs and not _unit_parses(str(da.attrs["units"]))}
        assert not bad


@pytest.mark.parametrize("component", _component_cases("determinism"))
def test_same_seed_gives_identical_numbers(component):
    first = component.run(True, seed=3)
    again = component.run(True, seed=3)
    xr.testing.assert_identical(first, again)


@pytest.mark.parametrize("component", _component_cases("seed", lambda c: c.seeded))
def test_a_different_seed_changes_a_stochastic_output(component):
    one, two = component.run(True, seed=3), component.run(True, seed=4)
    differs = [name for name, da in _variables(one).items()
               if not np.array_equal(da.values, _variables(two)[name].values)]
    assert differs, "the seed has no effect on any variable"


def _rest_cases() -> list:
    return _component_cases("rest", lambda c: c.rest is not None)


@pytest.mark.parametrize("component", _rest_cases())
def test_without_a_drug_the_state_stays_at_rest(component):
    out = _output(component, False)
    expected = component.rest(out)
    assert expected, "no rest values declared"
    moved = {}
    for what, (values, rest) in expected.items():
        actual = np.asarray(values, dtype=float)
        assert actual.size > 1, f"{what}: nothing to compare"
        if not np.allclose(actual, rest, rtol=RTOL, atol=ATOL):
            moved[what] = (float(np.min(actual)), float(np.max(actual)))
    assert not moved, f"moved away from rest (min, max): {moved}"


@pytest.mark.parametrize("component", _rest_cases())
def test_the_drug_moves_the_state_off_rest(component):
    # the rest check above is only meaningful if the same quantities do respond to a drug
    drug = _output(component, True)
    moved = []
    for what, (values, rest) in component.rest(drug).items():
        actual = np.asarray(values, dtype=float)
        if not np.allclose(actual, rest, rtol=RTOL, atol=ATOL):
            moved.append(what)
    assert moved, "the drug run stayed at rest"


@pytest.mark.parametrize("runner", [run_dmf, run_hopf], ids=["dmf", "hopf"])
def test_the_drug_changes_a_network_run_against_the_same_noise(runner):
    # the rest check compares with a noise-free run; this one isolates the drug from the noise
    with_drug = runner(True, seed=2)
    same_noise = runner(True, seed=2, occupancy=0.0)
    variables = _variables(with_drug)
    changed = [name for name, da in variables.items()
               if not np.allclose(da.values, _variables(same_noise)[name].values, rtol=RTOL, atol=ATOL)]
    assert changed, "the drug's gain/bifurcation shift has no effect beyond the noise"


@pytest.mark.parametrize("component", _component_cases("bounds"))
def test_outputs_are_finite_and_physical_with_the_drug(component):
    variables = _variables(_output(component, True))
    not_finite = [name for name, da in variables.items()
                  if np.issubdtype(da.dtype, np.number) and not np.isfinite(da.values).all()]
    assert not not_finite
    unknown = set(component.bounds) - set(variables)
    assert not unknown, f"bounds declared for missing variables {unknown}"
    violations = {}
    for name, (low, high) in component.bounds.items():
        values = variables[name].values
        if (low is not None and values.min() < low) or (high is not None and values.max() > high):
            violations[name] = (float(values.min()), float(values.max()))
    assert not violations, f"outside physical bounds (min, max): {violations}"


def test_compound_parameter_sets_come_from_the_library():
    # the compound ids above are the library's compounds, not a stale list
    from psilosim.compounds import known_compounds

    found = {name.removeprefix("compound:") for name, s in SETS.items() if isinstance(s, Compound)}
    assert found == set(known_compounds())
