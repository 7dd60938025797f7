"""The pharmacology Python API: subject keys, the dose check, provenance of overrides, argument
types, ParameterSet.replace / model_copy, attrs without sentinels, and the docs recipe."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from psilosim.binding import simulate_acute
from psilosim.compounds import get_compound
from psilosim.errors import ExtrapolationWarning, InputError
from psilosim.parameters import Param, ParameterSet
from psilosim.pharmacokinetics import Subject, simulate_pk
from psilosim.regimen import Regimen

DOCS = Path(__file__).resolve().parents[1] / "docs" / "pharmacology.md"
SHORT_H = 5.0


def _acute(treatments=None, **kw):
    treatments = treatments or [("psilocybin", Regimen.single("25 mg"))]
    return simulate_acute(treatments, t_end_h=kw.pop("t_end_h", SHORT_H), **kw)


# ---------------------------------------------------------------- 1. subject keys name compounds of the run


@pytest.mark.parametrize("field", ["parameter_sets", "random_effects"])
def test_a_subject_key_that_is_not_a_compound_of_the_run_is_refused(field):
    value = "brown2017" if field == "parameter_sets" else {"clearance": 0.5}
    with pytest.raises(InputError, match="psilocybin") as info:
        _acute(subject=Subject(**{field: {"psilocibin": value}}))
    assert info.value.field == f"subject.{field}.psilocibin"


# Guards against a subject that carries entries for several library compounds being refused
# when it is simulated with one of them (with_random_effects builds such subjects on purpose).
def test_a_subject_with_entries_for_other_compounds_is_simulated_one_compound_at_a_time():
    subject = Subject().with_random_effects([get_compound("psilocybin"), get_compound("escitalopram")], seed=3)
    both = _acute([("psilocybin", Regimen.single("25 mg")), ("escitalopram", Regimen.single("10 mg"))],
                  subject=subject)
    alone = simulate_pk("psilocybin", Regimen.single("25 mg"), subject=subject, t_end_h=SHORT_H)
    psilocin = both.concentration.sel(compound="psilocybin")
    assert float(alone.concentration.max()) == pytest.approx(float(psilocin.max()), rel=1e-9)


def test_subject_keys_match_compound_names_case_insensitively_and_through_aliases():
    default = _acute().concentration.max()
    brown = _acute(subject=Subject(parameter_sets={"Psilocybin": "brown2017"}))
    assert brown.attrs["parameter_sets"] == "psilocybin=brown2017" and brown.concentration.max() != default
    esc = [("escitalopram", Regimen.single("10 mg"))]
    plain = _acute(esc)
    slower = _acute(esc, subject=Subject(random_effects={"Lexapro": {"clearance": -0.5}}))
    assert float(slower.concentration[0, -1]) > float(plain.concentration[0, -1])  # lower clearance


# ---------------------------------------------------------------- 2. the studied-dose check in the API


def test_api_refuses_a_unit_slip_and_warns_above_the_studied_dose():
    with pytest.raises(InputError, match="30 mg") as info:
        _acute([("psilocybin", Regimen.single("25 g"))])
    assert info.value.field == "treatments.0.regimen.phases.0.dose"
    with pytest.raises(InputError, match="30 mg") as info:
        simulate_pk("psilocybin", Regimen.single("25 g"), t_end_h=SHORT_H)
    assert info.value.field == "regimen.phases.0.dose"  # simulate_pk's argument, not simulate_acute's
    with pytest.warns(ExtrapolationWarning, match="30 mg"):
        _acute([("psilocybin", Regimen.single("100 mg"))])
    with pytest.warns(UserWarning, match="extrapolating") as record:
        simulate_pk("psilocybin", Regimen.single("100 mg"), t_end_h=SHORT_H)
    assert str(record[0].message).startswith("regimen.phases.0.dose ")


def test_api_is_silent_at_studied_doses_in_humans_and_mice():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _acute([("psilocybin", Regimen.single("30 mg"))])
        simulate_pk("psilocybin", Regimen.single("1 mg/kg", route="ip"), subject=Subject(species="mouse"),
                    t_end_h=SHORT_H)


def test_cli_shows_the_dose_warning_once():
    proc = subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", "pk", "--compound", "psilocybin", "--dose", "100 mg",
                           "--hours", "6", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("extrapolating") == 1 and "ExtrapolationWarning" not in proc.stderr


# ---------------------------------------------------------------- 3. provenance of a modified set


def _with_human_set(compound, name, pk):
    sp = compound.species["human"]
    return compound.replace(species={**compound.species,
                                     "human": sp.model_copy(update={"sets": {**sp.sets, name: pk}})})


def test_provenance_marks_a_modified_parameter_set():
    c = get_compound("psilocybin")
    pk = c.pk("human", parameter_set="holze2023")
    changed = _with_human_set(c, "holze2023", pk.replace(clearance=58.1))
    ds = _acute([(changed, Regimen.single("25 mg"))])
    assert ds.attrs["parameter_sets"] == "psilocybin=holze2023 (modified: clearance)"
    pk_ds = simulate_pk(changed, Regimen.single("25 mg"), t_end_h=SHORT_H)
    assert pk_ds.attrs["parameter_set"] == "holze2023 (modified: clearance)"
    assert _acute().attrs["parameter_sets"] == "psilocybin=holze2023"  # the library set is untouched


# ---------------------------------------------------------------- 4. argument types


def test_simulate_pk_names_a_wrong_argument_type():
    with pytest.raises(InputError) as info:
        simulate_pk("psilocybin", "25 mg")
    assert info.value.field == "regimen" and "Regimen" in info.value.problem
    with pytest.raises(InputError) as info:
        simulate_pk(25, Regimen.single("25 mg"))
    assert info.value.field == "compound"


@pytest.mark.parametrize("fn", ["acute", "pk"])
def test_time_arguments_accept_quantity_strings(fn):
    run = (lambda **kw: _acute(**kw)) if fn == "acute" else \
        (lambda **kw: simulate_pk("psilocybin", Regimen.single("25 mg"), **kw))
    ds = run(t_end_h="12 h", dt_h="30 min")
    assert ds.time_h.values[-1] == pytest.approx(12.0) and np.diff(ds.time_h.values)[0] == pytest.approx(0.5)
    assert run(t_end_h="0.5 day", dt_h=0.5).time_h.values[-1] == pytest.approx(12.0)
    for kw, field in (({"t_end_h": "12 mg"}, "t_end_h"), ({"t_end_h": 12, "dt_h": "soon"}, "dt_h"),
                      ({"t_end_h": [12]}, "t_end_h"), ({"t_end_h": True}, "t_end_h")):
        with pytest.raises(InputError) as info:
            run(**kw)
        assert info.value.field == field


# ---------------------------------------------------------------- 5. ParameterSet.replace and model_copy


class _Example(ParameterSet):
    window_decay: Param
    fraction: Param


def _example() -> _Example:
    return _Example(window_decay=Param(value=7.0, unit="day", source="t", kind="assumed", low=0.5, high=60.0),
                    fraction=Param(value=0.5, unit="", source="t", kind="assumed", low=0.0, high=1.0))


def test_replace_errors_are_input_errors_naming_the_field():
    with pytest.raises(InputError, match="did you mean 'window_decay'") as info:
        _example().replace(window_decy=3)
    assert info.value.field == "window_decy"
    with pytest.raises(KeyError):  # still a KeyError for callers that caught one
        _example().replace(window_decy=3)
    with pytest.raises(InputError, match="outside") as info:
        _example().replace(window_decay=-3)
    assert info.value.field == "window_decay"
    with pytest.raises(InputError):
        _example().replace(window_decay=float("nan"))


def test_replace_accepts_a_quantity_string_in_any_compatible_unit():
    p = _example().replace(window_decay="2 weeks", fraction="25 %")
    assert p.window_decay.value == pytest.approx(14.0) and p.window_decay.unit == "day"
    assert p.window_decay.kind == "override" and p.fraction.value == pytest.approx(0.25)
    for bad in ("3 mg", "soon", "1000 days"):
        with pytest.raises(InputError) as info:
            _example().replace(window_decay=bad)
        assert info.value.field == "window_decay"


def test_model_copy_update_is_validated_like_replace():
    with pytest.raises(InputError, match="did you mean"):
        _example().model_copy(update={"window_decy": 3})
    with pytest.raises(InputError, match="outside"):
        _example().model_copy(update={"window_decay": -3})
    p = _example().model_copy(update={"window_decay": 3})
    assert isinstance(p.window_decay, Param) and p.window_decay.value == 3.0 and p.window_decay.kind == "override"
    assert _example().model_copy() == _example()


# ---------------------------------------------------------------- 6. Subject docstring, attrs without sentinels


def test_subject_docstring_documents_the_signature():
    documented = re.findall(r"^    (\w+)(?:, (\w+))?$", Subject.__doc__.split("Parameters")[1], re.MULTILINE)
    names = {n for pair in documented for n in pair if n}
    assert names == set(inspect.signature(Subject).parameters)


def test_attrs_omit_unknown_weight_and_seed():
    ds = _acute()
    assert "weight_kg" not in ds.attrs and "seed" not in ds.attrs
    assert "seed" not in simulate_pk("psilocybin", Regimen.single("25 mg"), t_end_h=SHORT_H).attrs
    ds = _acute(subject=Subject(weight="80 kg"), seed=3)
    assert ds.attrs["weight_kg"] == 80.0 and ds.attrs["seed"] == 3


# ---------------------------------------------------------------- 7. the docs recipe runs


def test_docs_recipe_for_changing_a_parameter_runs():
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Changing a parameter from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)  # noqa: S102  (our own docs)
    assert namespace["ds"].attrs["parameter_sets"] == "psilocybin=holze2023 (modified: clearance)"
    assert namespace["slower"].window_decay.value == pytest.approx(14.7)
