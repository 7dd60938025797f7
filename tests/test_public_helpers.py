"""Helpers shared across modules are public and documented (review R4, task F13).

A name starting with ``_`` is private to its module: another module that imports it, or calls it
on an object it does not own, depends on something its owner may change without notice. The
helpers that other modules need have public, documented names; the AST check below keeps any new
private name from crossing a module boundary again.
"""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import numpy as np
import pytest

from _metrics_data import bold, region_table
from psilosim.errors import InputError
from psilosim.parameters import Param

SRC = Path(__file__).resolve().parents[1] / "src" / "psilosim"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _imported_module(path: Path, node: ast.ImportFrom) -> str | None:
    """Dotted module (inside psilosim) that ``node`` imports from, or ``None`` if outside."""
    if node.level == 0:
        parts = (node.module or "").split(".")
        return ".".join(parts[1:]) if parts[0] == "psilosim" else None
    package = list(path.relative_to(SRC).with_suffix("").parts[:-1])
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + (node.module.split(".") if node.module else []))


def private_uses(path: Path, text: str | None = None) -> list[tuple[str, int, str]]:
    """Private names the module at ``path`` (source ``text``, default: the file) takes from
    another module, as ``(file, line, what)``: ``from m import _x`` and ``obj._x`` (``obj`` other
    than ``self``/``cls``)."""
    relative = path.relative_to(SRC)
    here = ".".join(relative.with_suffix("").parts)
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _imported_module(path, node)
            if module is not None and module != here:
                found += [(relative.as_posix(), node.lineno, f"from {module} import {a.name}")
                          for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((relative.as_posix(), node.lineno, ast.unparse(node)))
    return found


# Guards against a module reaching into another module's private helper (R4: six such uses).
def test_no_module_uses_another_modules_private_names():
    uses = [use for path in sorted(SRC.rglob("*.py")) for use in private_uses(path)]
    assert uses == []


def test_the_scan_sees_private_imports_and_calls_but_not_public_or_own_names():
    # the check above could pass by seeing nothing: show what it finds in a made-up module
    text = ("from ..regimen import _positive_time, parse_dose\n"
            "from psilosim.units import _registry\n"
            "from .model import _own\n"
            "def f(phase):\n    return phase._x(1) + self._y + phase.__class__\n")
    uses = private_uses(SRC / "binding" / "model.py", text)
    assert uses == [("binding/model.py", 1, "from regimen import _positive_time"),
                    ("binding/model.py", 2, "from units import _registry"),
                    ("binding/model.py", 5, "phase._x")]


@pytest.mark.parametrize("dotted", [
    "psilosim.pharmacokinetics.model.check_method",
    "psilosim.metrics.analysis.as_analysis",
    "psilosim.report.panels.png_base64",
    "psilosim.plasticity.params.human_tempo",
    "psilosim.plasticity.params.same_in_human",
    "psilosim.clinical.trial.make_client",
    "psilosim.units.is_mass_ratio",
    "psilosim.regimen.Phase.start_h",
    "psilosim.regimen.Phase.infusion_h",
    "psilosim.regimen.Phase.every_h",
    "psilosim.regimen.Phase.duration_h",
])
def test_each_shared_helper_is_public_and_documented(dotted):
    import importlib

    module_name, _, rest = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), rest)
    except ModuleNotFoundError:  # a class attribute: import the module, then the class
        module_name, _, cls = module_name.rpartition(".")
        obj = getattr(getattr(importlib.import_module(module_name), cls), rest)
    doc = (obj.__doc__ or "").strip()
    assert doc and doc.splitlines()[0].endswith("."), dotted


def test_check_method_accepts_a_known_method_and_names_the_field_of_an_unknown_one():
    from psilosim.pharmacokinetics.model import METHODS, check_method

    assert check_method(METHODS[0]) == METHODS[0]
    with pytest.raises(InputError) as info:
        check_method("euler-ish")
    assert info.value.field == "method" and "euler-ish" in info.value.problem


def test_as_analysis_passes_a_result_through_and_names_errors_by_recording():
    from psilosim.metrics.analysis import analyze, as_analysis

    regions = region_table(9)
    recording = bold(np.random.default_rng(3).standard_normal((9, 200)), regions, 2.0)
    result = analyze(recording, regions, window_s=60, step_s=20, seed=0)
    assert as_analysis(result, regions, None, field="before") is result
    with pytest.raises(InputError) as info:
        as_analysis(result.drop_vars("fc"), regions, None, field="before")
    assert info.value.field == "before"
    with pytest.raises(InputError) as info:
        as_analysis(recording.values, regions, 0.0, field="after")
    assert info.value.field == "after.tr_s"


def test_png_base64_encodes_a_png_and_closes_the_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from psilosim.report.panels import png_base64

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    text = png_base64(fig)
    assert base64.b64decode(text).startswith(b"\x89PNG\r\n\x1a\n")
    assert not plt.fignum_exists(fig.number)


def test_human_tempo_is_the_species_value_and_same_in_human_keeps_the_value_and_says_why():
    from psilosim.plasticity.params import human_tempo, same_in_human
    from psilosim.species import SPECIES

    assert human_tempo() == SPECIES["human"].cellular_tempo
    mouse = Param(value=0.3, unit="", source="a mouse study", kind="published")
    human = same_in_human(mouse, "a fraction, not a rate")
    assert human.value == mouse.value and human.unit == mouse.unit and human.source == mouse.source
    assert human.kind == "assumed" and "a fraction, not a rate" in human.note and "published in mouse" in human.note


def test_phase_times_in_hours_are_none_when_absent():
    from psilosim.regimen import Phase

    phase = Phase(dose="25 mg", count=2, every="3 weeks", start="2 days", infusion="40 min")
    assert (phase.start_h, phase.every_h) == (pytest.approx(48.0), pytest.approx(504.0))
    assert phase.infusion_h == pytest.approx(40 / 60)
    assert phase.duration_h is None
    single = Phase(dose="25 mg")
    assert (single.start_h, single.every_h, single.infusion_h) == (None, None, None)
    assert Phase(dose="1 mg", every="3 days", duration="4 weeks").duration_h == pytest.approx(28 * 24)
