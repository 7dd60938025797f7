"""Every optional parameter of the public Python API is keyword-only (scikit-learn's rule).

``impulse_response(10.0, 0.1, 0.5, other_params)`` reads as four numbers; with the ``*`` the call
has to say ``p=other_params``, and a parameter added or reordered later cannot silently take a
value meant for another. The check walks ``src/psilosim`` with ``ast``: every public function,
public method and constructor of a public class (not the typer commands in ``cli/``, numba
kernels, pydantic validators or properties) may take only its required parameters by position.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "psilosim"

# Decorators whose functions are not called by users with these signatures.
NOT_API = {"njit", "jit", "vectorize", "guvectorize",           # numba kernels
           "field_validator", "model_validator", "validator",    # pydantic calls them
           "property", "cached_property", "setter"}              # attributes, not calls

# The optional parameters kept positional, each because the call reads better with it:
# "qualified name": {parameter: why}.
ALLOWED = {
    "Compound.pk": {"species": "the species is what the call asks for, like Param.to(unit): "
                               "compound.pk('mouse')"},
    "model_for": {"dataset": "the dataset is the subject of the call: model_for('aal2')"},
    "load_scenario": {"path": "the file to load, as open(path): load_scenario('run.yaml')"},
    "ParameterSet.params": {"prefix": "a filter on the names, as str.startswith: ps.params('fic_')"},
    "Compound.params": {"prefix": "the same method as ParameterSet.params (an override)"},
    "PKParameters.params": {"prefix": "the same method as ParameterSet.params (an override)"},
}


def _decorators(fn: ast.FunctionDef) -> set[str]:
    names = set()
    for deco in fn.decorator_list:
        node = deco.func if isinstance(deco, ast.Call) else deco
        while isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def _public_functions(tree: ast.Module):
    """(qualified name, function) for module functions and methods of public classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                        not item.name.startswith("_") or item.name == "__init__"):
                    yield f"{node.name}.{item.name}", item


def optional_positional(package: Path) -> dict[str, list[str]]:
    """``{"file:qualified name": [optional parameters a caller may pass by position]}``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith("cli/"):
            continue
        for qualname, fn in _public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            if _decorators(fn) & NOT_API:
                continue
            positional = fn.args.posonlyargs + fn.args.args
            optional = [a.arg for a in positional[len(positional) - len(fn.args.defaults):]]
            if optional:
                found[f"{rel}:{qualname}"] = optional
    return found


def test_no_public_function_takes_an_optional_parameter_by_position():
    offending = []
    for where, names in optional_positional(PACKAGE).items():
        allowed = ALLOWED.get(where.split(":", 1)[1], {})
        offending += [f"{where}({name})" for name in names if name not in allowed]
    assert not offending, ("make these keyword-only (a `*` before the first optional parameter) and "
                           "pass them by name, or add them to ALLOWED with the reason:\n  "
                           + "\n  ".join(offending))


def test_every_allowed_exception_still_exists():
    # a stale entry would quietly allow a future function of the same name
    kept = {(where.split(":", 1)[1], name) for where, names in optional_positional(PACKAGE).items()
            for name in names}
    stale = [f"{qual}({name})" for qual, params in ALLOWED.items() for name in params
             if (qual, name) not in kept]
    assert not stale, f"ALLOWED lists parameters that are no longer optional-positional: {stale}"


def test_the_check_sees_a_positional_optional_parameter(tmp_path):
    # the walk itself must find the pattern it forbids (and skip the kinds it exempts)
    (tmp_path / "cli").mkdir()
    (tmp_path / "mod.py").write_text(
        "def bad(x, p=1): ...\n"
        "def good(x, *, p=1): ...\n"
        "def _private(x, p=1): ...\n"
        "class Thing:\n"
        "    def __init__(self, sc, params=None): ...\n"
        "    @property\n"
        "    def area(self, unit='m'): ...\n"
        "@njit\n"
        "def kernel(x, n=3): ...\n", encoding="utf-8")
    (tmp_path / "cli" / "cmd.py").write_text("def command(x, flag=False): ...\n", encoding="utf-8")
    assert optional_positional(tmp_path) == {"mod.py:bad": ["p"], "mod.py:Thing.__init__": ["params"]}
