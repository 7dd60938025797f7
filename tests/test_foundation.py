"""Units, typed parameters, the parcellation loader and the validation registry."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from pydantic import ValidationError

from psilosim.connectome import load_parcellation_folder
from psilosim.errors import DataError, InputError
from psilosim.parameters import Param, ParameterSet
from psilosim.units import parse_quantity
from psilosim.validation import TARGETS, TARGETS_BY_ID
from psilosim.validation.registry import evaluate


class _Example(ParameterSet):
    clearance: Param


def _example() -> _Example:
    return _Example(clearance=Param(value=300.0, unit="L/h", source="test", kind="assumed", low=0.0))


def test_param_converts_units():
    assert _example().clearance.to("L/min") == pytest.approx(5.0)


def test_parameter_set_rejects_unknown_names_and_is_frozen():
    p = _example()
    with pytest.raises(KeyError, match="no parameter"):
        p.replace(clearence=1.0)
    with pytest.raises(ValidationError, match="frozen"):
        p.clearance = None  # type: ignore[misc]


def test_replace_marks_override_and_checks_bounds():
    q = _example().replace(clearance=250.0)
    assert q.clearance.value == 250.0 and q.clearance.kind == "override"
    with pytest.raises(ValueError, match="outside"):
        _example().replace(clearance=-1.0)


def test_param_rejects_unknown_unit():
    with pytest.raises(ValidationError, match="furlongs_per_blorp"):
        Param(value=1.0, unit="furlongs_per_blorp", source="x", kind="assumed")


@pytest.mark.parametrize("text,expect,unit,value", [("25 mg", "mass", "mg", 25.0),
                                                    ("0.3 mg/kg", "mass_per_mass", "mg/kg", 0.3),
                                                    ("3 weeks", "time", "day", 21.0)])
def test_parse_quantity_accepts(text, expect, unit, value):
    assert parse_quantity(text, field="x", expect=expect).to(unit).magnitude == pytest.approx(value)


@pytest.mark.parametrize("text", ["25 mL", "abc", "5", "3 h"])
def test_parse_quantity_rejects_with_field_name(text):
    with pytest.raises(InputError, match="^dose:"):
        parse_quantity(text, field="dose", expect="mass or mass_per_mass")


# Guards against NaN or infinite magnitudes passing unit parsing.
@pytest.mark.parametrize("text,expect", [("nan h", "time"), ("inf mg", "mass"), ("nan day", "time"),
                                         ("-inf mg/kg", "mass_per_mass"), (math.nan, "dimensionless"),
                                         (math.inf, "dimensionless")])
def test_non_finite_quantities_are_rejected(text, expect):
    with pytest.raises(InputError) as info:
        parse_quantity(text, field="x", expect=expect)
    assert info.value.field == "x" and "finite" in info.value.problem


def test_targets_have_unique_ids_and_consistent_bands():
    assert len(TARGETS_BY_ID) == len(TARGETS)
    for t in TARGETS:
        if t.low is not None and t.high is not None:
            assert t.low < t.high, t.id
        if t.qualitative:
            assert t.low is None and t.high is None, t.id


def test_evaluate_compares_with_band():
    target = TARGETS_BY_ID["PK1.25"]
    assert evaluate(target, lambda: 17.0).passed is True
    assert evaluate(target, lambda: 25.0).passed is False
    assert evaluate(target, lambda: float("nan")).passed is False
    assert evaluate(target, None).passed is None


def test_load_schaefer_keeps_labels(schaefer100_dir):
    p = load_parcellation_folder(schaefer100_dir)
    assert p.n_regions == 100
    assert "Default" in p.networks and len(p.dmn) > 10
    assert list(p.sc["region_i"].values) == p.labels
    r = p.receptor_map("5HT2A")
    assert float(r.max()) == pytest.approx(1.0) and float(r.min()) > 0


def _copy(src, tmp_path):
    dst = tmp_path / "parc"
    shutil.copytree(src, dst)
    return dst


def test_loader_rejects_mismatched_size(schaefer100_dir, tmp_path):
    dst = _copy(schaefer100_dir, tmp_path)
    sc = np.loadtxt(dst / "sc.csv", delimiter=",")
    np.savetxt(dst / "sc.csv", sc[:-1, :-1], delimiter=",")
    with pytest.raises(DataError, match="sc.csv: shape"):
        load_parcellation_folder(dst)


def test_loader_rejects_nan(schaefer100_dir, tmp_path):
    dst = _copy(schaefer100_dir, tmp_path)
    fc = np.loadtxt(dst / "fc.csv", delimiter=",")
    fc[3, 4] = np.nan
    np.savetxt(dst / "fc.csv", fc, delimiter=",")
    with pytest.raises(DataError, match="fc.csv: contains NaN"):
        load_parcellation_folder(dst)


def test_loader_rejects_missing_label_column(schaefer100_dir, tmp_path):
    dst = _copy(schaefer100_dir, tmp_path)
    text = (dst / "regions.csv").read_text().replace("label,", "name,", 1)
    (dst / "regions.csv").write_text(text)
    with pytest.raises(DataError, match="missing column"):
        load_parcellation_folder(dst)


def test_known_conflict_is_a_visible_failure(monkeypatch):
    from psilosim.validation import registry

    target = TARGETS_BY_ID["PK1.25"]
    monkeypatch.setitem(registry._KNOWN_CONFLICTS, "PK1.25", "documented in docs/x.md")
    missed = evaluate(target, lambda: 40.0)
    assert missed.passed is False and missed.status == "known conflict"
    assert evaluate(target, lambda: 17.0).status == "conflict passed"


def test_validate_exit_codes_with_known_conflicts(monkeypatch):
    from typer.testing import CliRunner

    from psilosim.cli import app
    from psilosim.validation import registry

    registry.load_checks()
    monkeypatch.setitem(registry._CHECKS, "PK1.25", lambda: 40.0)
    runner = CliRunner()
    assert runner.invoke(app, ["validate", "--only", "PK1.25", "--json"]).exit_code == 1
    assert runner.invoke(app, ["validate", "--only", "PK1.25", "--accept-known-conflicts"]).exit_code == 1
    monkeypatch.setitem(registry._KNOWN_CONFLICTS, "PK1.25", "documented in docs/x.md")
    assert runner.invoke(app, ["validate", "--only", "PK1.25", "--accept-known-conflicts"]).exit_code == 0
    assert runner.invoke(app, ["validate", "--only", "PK1.25"]).exit_code == 1


# Guards against the parse cache handing out a shared quantity that a caller's in-place
# conversion (pint's ito) would change for every later parse of the same text.
def test_parsed_quantities_are_independent_of_the_parse_cache():
    from psilosim.units import parse_quantity, ureg

    first = parse_quantity("25 mg", field="dose", expect="mass")
    first.ito("g")
    again = parse_quantity("25 mg", field="dose", expect="mass")
    assert again.units == ureg.Unit("mg") and again.magnitude == 25.0


# Guards against an InputError (or its UnknownParameterError subclass) failing to cross a process
# boundary (a Dask worker): the default pickling passed one argument to a two-argument __init__.
def test_input_errors_survive_pickling():
    import pickle

    from psilosim.errors import InputError
    from psilosim.parameters import UnknownParameterError

    for error in (InputError("dose", "too large"), UnknownParameterError("window_decy", "no such parameter")):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and again.field == error.field and str(again) == str(error)


# Guards against numpy scalars (what a sweep over np.linspace yields) being refused by replace().
def test_replace_accepts_numpy_scalars():
    import numpy as np

    from psilosim.plasticity import plasticity_params

    base = plasticity_params("human")
    for value in (np.float64(10.0), np.float32(10.0), np.int64(10)):
        assert base.replace(window_decay=value).window_decay.value == 10.0
