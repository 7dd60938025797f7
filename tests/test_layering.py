"""The package layout reads like the causal chain: no link imports a later link.

CONTRIBUTING.md ("Layout: the causal chain") lays the package out in the order a dose travels
through the brain. This test reads every module's source with :mod:`ast` and checks that each
link's package imports only earlier (or same-rank) links and the shared base modules. Imports
inside functions count too: a lazy import of a later link is still a dependency on it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import psilosim

PACKAGE = Path(psilosim.__file__).parent

#: The chain (CONTRIBUTING.md, DESIGN.md): rank of each link's top-level module or package.
#: Packages of one rank may import each other (regimen and pharmacokinetics are link 1–2;
#: connectome and network are both link 6; report, cli and validation join everything).
CHAIN: dict[str, int] = {
    "regimen": 1, "pharmacokinetics": 1,
    "binding": 2,
    "plasticity": 3,
    "synapses": 4,
    "connectome": 5, "network": 5,
    "metrics": 6,
    "rewiring": 7,
    "clinical": 8,
    "report": 9, "cli": 9, "validation": 9,
}
#: Shared base modules every link may import (data, foundations, the scenario schema and I/O).
SHARED = {"compounds", "units", "parameters", "errors", "species", "io", "scenario"}
#: Leaf modules inside a later package that every link may import: they import no psilosim module
#: (checked below), so importing them cannot pull a later link in.
SHARED_LEAVES = {
    "report.panels": "the matrix panel every link's figures draw with (it imports neither psilosim nor matplotlib)",
    "validation.targets": "the literature targets as data (REFERENCES.md); the calibration fits read their centres",
}

#: Known imports of a later link, each with the reason it stays: (importing module, imported link) -> why.
ALLOWED: dict[tuple[str, str], str] = {
    ("rewiring/__init__.py", "clinical"):
        "a module __getattr__ re-exports ImagingHook and patient_imaging (moved to clinical/imaging.py) on first "
        "use, for code written against the old home (the package itself imports them from clinical.imaging); "
        "importing psilosim.rewiring imports nothing of the clinical link "
        "(test_importing_rewiring_does_not_import_clinical)",
}


def _imported_modules(path: Path, package: Path = PACKAGE) -> set[str]:
    """Dotted psilosim modules (relative to ``psilosim``) that ``path`` imports, anywhere in the file.

    ``from .x import y`` counts as ``x.y`` when ``y`` is a submodule, else as ``x``; a relative
    import is resolved against the module's own package.
    """
    package_parts = list(path.relative_to(package).parent.parts)  # the module's package, relative to psilosim
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("psilosim.") for a in node.names if a.name.startswith("psilosim.")}
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            if node.module is None or not (node.module == "psilosim" or node.module.startswith("psilosim.")):
                continue
            base = node.module.split(".")[1:]
        else:
            base = package_parts[:len(package_parts) - (node.level - 1)] + (node.module.split(".") if node.module else [])
        for alias in node.names:
            folder = package.joinpath(*base, alias.name)
            is_module = folder.with_suffix(".py").exists() or (folder / "__init__.py").exists()
            found.add(".".join([*base, alias.name] if is_module or not base else base))
    return {name for name in found if name}


def _imported_links(path: Path, package: Path = PACKAGE) -> set[str]:
    """Links and shared modules (top-level names) that ``path`` imports; the shared leaves are not counted."""
    modules = {m for m in _imported_modules(path, package)
               if not any(m == leaf or m.startswith(leaf + ".") for leaf in SHARED_LEAVES)}
    return {_top_level(m) for m in modules}


def _top_level(name: str) -> str:
    return name.split(".", 1)[0]


def _violations(package: Path = PACKAGE) -> dict[tuple[str, str], int]:
    """Every (module, later link it imports) of ``package``, with the imported link's rank."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        own = rel.parts[0].removesuffix(".py")
        if own not in CHAIN:
            continue  # shared modules and the package root are not links
        for link in _imported_links(path, package):
            if link in CHAIN and CHAIN[link] > CHAIN[own]:
                out[(rel.as_posix(), link)] = CHAIN[link]
    return out


def test_every_link_in_contributing_is_in_the_chain():
    """The chain lists every top-level subpackage (a new one must be placed in the chain or shared)."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")} - {"__init__"}
    assert packages | modules <= set(CHAIN) | SHARED


def test_the_walker_sees_relative_absolute_and_lazy_imports(tmp_path):
    """The check itself can fail: a relative, a ``..`` and an in-function import are all found."""
    pkg = tmp_path / "psilosim"
    (pkg / "plasticity").mkdir(parents=True)
    source = pkg / "plasticity" / "calibrate.py"
    source.write_text("from ..synapses import x\nfrom . import kernel\n"
                      "def f():\n    import psilosim.clinical.trial\n    from psilosim import report\n")
    assert _imported_links(source, pkg) == {"synapses", "plasticity", "clinical", "report"}


def test_a_shared_leaf_is_not_an_import_of_its_package(tmp_path):
    pkg = tmp_path / "psilosim"
    for folder in ("metrics", "report"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "report" / "panels.py").write_text("")
    (pkg / "report" / "trial.py").write_text("")
    source = pkg / "metrics" / "figures.py"
    source.write_text("from ..report.panels import fc_matrix_panel\nfrom ..report import panels\n")
    assert _imported_links(source, pkg) == set()
    source.write_text("from ..report import panels, trial\n")
    assert _imported_links(source, pkg) == {"report"}


@pytest.mark.parametrize("leaf", sorted(SHARED_LEAVES))
def test_shared_leaves_import_no_psilosim_module(leaf):
    path = PACKAGE.joinpath(*leaf.split(".")).with_suffix(".py")
    assert _imported_modules(path) == set(), f"{leaf} imports psilosim modules: it is no longer a leaf"


def test_no_link_imports_a_later_link():
    found = _violations()
    unexplained = {key: rank for key, rank in found.items() if key not in ALLOWED}
    assert not unexplained, "links importing later links (move the code, or allow-list with why):\n" + "\n".join(
        f"  {module} imports {link}" for module, link in sorted(unexplained))


@pytest.mark.parametrize("key", sorted(ALLOWED))
def test_every_allowed_exception_is_still_needed(key):
    assert key in _violations(), f"{key} no longer imports a later link: drop it from ALLOWED"


def test_importing_rewiring_does_not_import_clinical():
    """The re-export of the moved names is lazy: the rewiring link alone loads no clinical module."""
    code = ("import sys, psilosim.rewiring; "
            "print(sorted(m for m in sys.modules if m.startswith('psilosim.clinical')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_moved_names_are_the_clinical_ones_and_unknown_names_still_fail():
    import psilosim.rewiring as rewiring
    from psilosim.clinical import imaging

    assert rewiring.ImagingHook is imaging.ImagingHook
    assert rewiring.patient_imaging is imaging.patient_imaging
    with pytest.raises(AttributeError, match="no attribute 'network_section'"):
        rewiring.network_section  # noqa: B018 - only the names that moved are re-exported


def test_importing_the_shared_leaves_loads_no_link():
    """Their packages' ``__init__`` run too: the leaves and their packages' own bookkeeping, nothing more."""
    code = ("import sys, psilosim; before = set(sys.modules); "
            + "; ".join(f"import psilosim.{leaf}" for leaf in SHARED_LEAVES)
            + "; print(sorted(m for m in set(sys.modules) - before if m.startswith('psilosim.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))  # a printed list of module names
    packages = {leaf.split(".")[0] for leaf in SHARED_LEAVES}
    assert loaded == {f"psilosim.{m}" for m in (*SHARED_LEAVES, *packages, "validation.registry")}
