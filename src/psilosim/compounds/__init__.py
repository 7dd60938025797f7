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

from pydantic import ValidationError

from .._yaml import read_yaml
from ..errors import InputError
from .model import TARGET_FAMILIES, Compound, Prodrug, SpeciesPK, TargetBinding

_LIBRARY: dict[str, Compound] = {}
_ALIASES: dict[str, str] = {}
_LOADED = False


def load_compound_file(path: str | Path) -> Compound:
    """Read one compound YAML file (InputError naming the file and field when it is bad)."""
    path = Path(path)
    data = read_yaml(path.read_text(encoding="utf-8"), source=str(path))
    try:
        return Compound.model_validate(data)
    except ValidationError as exc:
        from ..regimen import input_error_from

        raise input_error_from(exc, prefix=path.name) from None


def _load_library() -> None:
    global _LOADED
    if _LOADED:
        return
    folder = resources.files(__package__) / "library"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            register_compound(load_compound_file(Path(str(entry))))
    _add_species_files(folder / "species")
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


__all__ = [
    "TARGET_FAMILIES",
    "Compound",
    "Prodrug",
    "SpeciesPK",
    "TargetBinding",
    "get_compound",
    "known_compounds",
    "load_compound_file",
    "register_compound",
]
