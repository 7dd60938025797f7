"""The compound library: one YAML file per compound in ``library/``, loaded by a registry.

Adding a compound (LSD, MDMA, ibogaine) or a species (``mouse`` PK for an existing compound)
means adding or editing a YAML file; no code changes. Custom compounds can be registered at run
time (:func:`register_compound`) or declared in a scenario.

>>> get_compound("Psilocybin").analyte
'psilocin'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._yaml import read_yaml
from ..errors import InputError
from .model import TARGET_FAMILIES, Compound, Prodrug, SpeciesPK, TargetBinding

_LIBRARY: dict[str, Compound] = {}
_ALIASES: dict[str, str] = {}
_LOADED = False
#: The compounds as the package's own library files define them (by lower-case name): every
#: process loads the same, so a name of one of them is all a worker process needs.
_SHIPPED: dict[str, Compound] = {}


def load_compound_file(path: str | Path) -> Compound:
    """Read one compound YAML file (InputError naming the file and field when it is bad)."""
    path = Path(path)
    data = read_yaml(path.read_text(encoding="utf-8"), source=str(path))
    return compound_from_dict(data, prefix=path.name)


#: File endings that make a ``compound:`` value (CLI ``--compound``, a scenario or design file) a
#: compound file rather than a library name.
COMPOUND_FILE_SUFFIXES = (".yaml", ".yml")


def inline_compound_files(treatments: Any, *, base: Path, field: str) -> Any:
    """``treatments`` (a scenario's or an arm's list, as read from YAML) with every ``compound:``
    that names a compound file replaced by that file's mapping, as if it had been pasted there.

    A relative path is taken from ``base`` (the folder of the scenario or design file), so a study
    folder can hold its scenario and its compound files together; the saved scenario or design
    then holds the full definition and re-runs without the file.

    Raises
    ------
    InputError
        On ``<field>.<k>.compound`` for a compound file that does not exist.
    """
    if not isinstance(treatments, list):
        return treatments
    out = []
    for k, item in enumerate(treatments):
        name = item.get("compound") if isinstance(item, dict) else None
        if isinstance(name, str) and name.lower().endswith(COMPOUND_FILE_SUFFIXES):
            path = Path(name).expanduser()
            path = path if path.is_absolute() else base / path
            if not path.is_file():
                raise InputError(f"{field}.{k}.compound", f"no such compound file {path} (a relative path is read "
                                                          "from the folder of the file that names it)")
            item = {**item, "compound": read_yaml(path.read_text(encoding="utf-8"), source=str(path))}
        out.append(item)
    return out


def compound_from_dict(data: Any, *, prefix: str = "") -> Compound:
    """A :class:`Compound` from its full definition (the mapping a compound file holds).

    Raises
    ------
    InputError
        Naming the bad field under ``prefix`` (a file name, ``compound``), with a did-you-mean for
        a misspelt key.
    """
    try:
        return Compound.model_validate(data)
    except ValidationError as exc:
        from ..regimen import input_error_from

        raise input_error_from(exc, prefix=prefix, model=Compound) from None


def _load_library() -> None:
    global _LOADED
    if _LOADED:
        return
    folder = resources.files(__package__) / "library"
    shipped = [register_compound(load_compound_file(Path(str(entry)))).name.lower()
               for entry in sorted(folder.iterdir(), key=lambda p: p.name) if entry.name.endswith(".yaml")]
    _add_species_files(folder / "species")
    _SHIPPED.update({key: _LIBRARY[key] for key in shipped})
    _LOADED = True


def _add_species_files(root) -> None:
    """Merge ``species/<species>/<compound>.yaml`` (one ``SpeciesPK`` plus ``compound:``) into
    the compound of that name, so a species can be added as data without touching the main file.
    """
    from .model import SpeciesPK

    if not root.is_dir():
        return
    for species_dir in sorted(root.iterdir(), key=lambda p: p.name):
        if not species_dir.is_dir():
            continue
        for entry in sorted(species_dir.iterdir(), key=lambda p: p.name):
            if not entry.name.endswith(".yaml"):
                continue
            data = read_yaml(Path(str(entry)).read_text(encoding="utf-8"), source=str(entry))
            compound = _LIBRARY[_ALIASES[str(data.pop("compound")).lower()]]
            if species_dir.name in compound.species:
                raise InputError(str(entry), f"{compound.name} already has {species_dir.name} PK")
            species_pk = SpeciesPK.model_validate(data)
            register_compound(
                compound.model_copy(update={"species": {**compound.species, species_dir.name: species_pk}}),
                replace=True,
            )


def register_compound(compound: Compound, *, replace: bool = False) -> Compound:
    """Add ``compound`` to the registry under its name and aliases (case-insensitive)."""
    key = compound.name.lower()
    if key in _ALIASES and not replace and _ALIASES[key] != key:
        raise InputError("name", f"{compound.name!r} is already an alias of {_ALIASES[key]!r}")
    if key in _LIBRARY and not replace:
        raise InputError("name", f"compound {compound.name!r} already exists")
    _LIBRARY[key] = compound
    for name in [compound.name, *compound.aliases]:
        _ALIASES[name.lower()] = key
    return compound


def known_compounds() -> list[str]:
    """Names of all registered compounds."""
    _load_library()
    return sorted(c.name for c in _LIBRARY.values())


def get_compound(name: str | Compound) -> Compound:
    """The compound called ``name`` (case-insensitive; aliases accepted).

    Raises
    ------
    InputError
        Listing the known compounds when ``name`` is not one of them.
    """
    if isinstance(name, Compound):
        return name
    _load_library()
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise InputError("compound", f"unknown compound {name!r}; known: {', '.join(known_compounds())}")
    return _LIBRARY[key]


def portable_compound(name: str | Compound) -> str | Compound:
    """What to hand another process for ``name``: the name of a compound of the shipped library
    (lower case), else the :class:`Compound` itself (one registered at run time with
    :func:`register_compound`, or replaced there, exists only in this process's registry).

    Raises
    ------
    InputError
        When ``name`` is not a registered compound (as :func:`get_compound`).
    """
    compound = get_compound(name)
    key = compound.name.lower()
    return key if _SHIPPED.get(key) is compound else compound


__all__ = [
    "COMPOUND_FILE_SUFFIXES",
    "TARGET_FAMILIES",
    "Compound",
    "Prodrug",
    "SpeciesPK",
    "TargetBinding",
    "compound_from_dict",
    "get_compound",
    "inline_compound_files",
    "known_compounds",
    "load_compound_file",
    "portable_compound",
    "register_compound",
]
