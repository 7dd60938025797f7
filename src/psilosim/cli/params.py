"""``psilosim params``: every model parameter with its value, unit, evidence kind and source.

The sets listed are those :func:`psilosim.parameters.all_parameter_sets` finds (module-level sets,
the per-species cellular sets and every registered compound): the same ones the conformance suite
checks, so nothing a model uses is missing from the listing.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..errors import InputError
from ._app import JSON_OPTION_HELP, app, console, emit_json


def _short(set_name: str) -> str:
    """The set's own name without its module path (``BALLOON`` for ``network.bold.BALLOON``)."""
    return set_name.rsplit(".", 1)[-1] if "." in set_name.split("[", 1)[0] else set_name


def _keys(row: dict[str, Any]) -> tuple[str, ...]:
    """Names a query may start: the set's full and short name, each with the parameter appended."""
    full, short = row["set"], _short(row["set"])
    return full.lower(), short.lower(), f"{full}.{row['field']}".lower(), f"{short}.{row['field']}".lower()


def select_rows(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The rows whose set or dotted parameter name starts with one of ``names`` (case-insensitive);
    all rows when ``names`` is empty.

    Raises
    ------
    InputError
        On ``NAME`` for a name that matches nothing, with the closest set names.
    """
    if not names:
        return rows
    from ..regimen import did_you_mean

    chosen: set[int] = set()
    for name in names:
        query = name.strip().lower()
        hits = {i for i, row in enumerate(rows) if query and any(k.startswith(query) for k in _keys(row))}
        if not hits:
            known = sorted({k for row in rows for k in (row["set"], _short(row["set"]))})
            raise InputError("NAME", f"no parameter set or parameter matches {name!r}"
                                     f"{did_you_mean(name, known)} (run `psilosim params` to list them all)")
        chosen |= hits
    return [row for i, row in enumerate(rows) if i in chosen]


def list_parameters(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows (set, field, value, unit, kind, source, note) of every parameter, or of those ``names``
    select (a set's full or short name, or a prefix of one, optionally with a dotted parameter)."""
    from ..parameters import all_parameter_sets, parameter_rows

    return select_rows(parameter_rows(all_parameter_sets()), list(names or []))


@app.command()
def params(
    names: list[str] = typer.Argument(None, metavar="[NAME]...",  # noqa: B008
                                      help="Sets or parameters to show: a set's name or its start "
                                           "(network.bold.BALLOON, BALLOON, compound:LSD, plasticity), "
                                           "optionally with a parameter (BALLOON.efficacy). Default: all."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """List model parameters with their value, unit, evidence kind, source and note.

    Every parameter set of the package is included: module-level sets, the per-species plasticity
    and spine sets, and each compound of the library (compound:NAME). Kinds: published, secondary
    (read in a review), unverified, derived, fitted, assumed (the note says why).
    """
    from .. import DISCLAIMER

    rows = list_parameters(names)
    if json_out:
        emit_json({"parameters": rows})
        return
    table = Table(title=f"{len(rows)} parameters (psilosim params NAME to filter; --json for all columns)")
    for column in ("set", "field", "value", "unit", "kind", "source", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["set"], row["field"], f"{row['value']:.4g}", row["unit"] or "1", row["kind"],
                      row["source"], row["note"])
    console.print(table)
    console.print(f"[dim]{DISCLAIMER}[/]")
