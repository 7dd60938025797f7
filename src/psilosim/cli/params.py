"""``psilosim params``: every model parameter with its value, unit, evidence kind and source.

The sets listed are those :func:`psilosim.parameters.all_parameter_sets` finds (module-level sets,
the per-species cellular sets and every registered compound): the same ones the conformance suite
checks, so nothing a model uses is missing from the listing.

Without a name it prints one line per set (how many parameters, of which evidence kinds, the docs
page whose table shows it); with names (or ``--all``) one heading per set, then a table of its
parameters. Names are a set's full name, its last part (``BALLOON``), a compound's bare name
(``psilocybin``) or the key ``provenance.json`` files it under (``binding.effect``,
``compound.psilocybin``: :data:`PROVENANCE_ALIASES`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..errors import InputError
from ._app import JSON_OPTION_HELP, app, console, emit_json

#: Terminal width from which each parameter's note is shown as a column of the tables (narrower
#: terminals fold a note column into a few characters a line; ``--notes`` prints notes below).
NOTES_MIN_WIDTH = 120

#: ``provenance.json`` keys (``parameter_sets`` of a trial, ``parameter_values`` of a run) that are
#: not a listed set's name, with the set they record. ``compound.<name>``, ``plasticity.<species>``
#: and ``spines.<species>`` are the listed ``compound:<name>`` ... with a dot (:func:`_colon_alias`).
#: A trial's ``population`` is this default with the design's inclusion criteria applied.
PROVENANCE_ALIASES = {
    "binding.effect": "binding.params.EFFECT_PARAMS",
    "binding.acute_resolution": "binding.params.ACUTE_RESOLUTION",
    "interactions": "pharmacokinetics.interactions.INTERACTION_PARAMS",
    "population": "clinical.patients.DEFAULT_POPULATION",
    "biology": "clinical.biology.DEFAULT_BIOLOGY",
    "symptoms": "clinical.symptoms.DEFAULT_SYMPTOMS",
    "network.hopf": "network.hopf.params.HOPF",
    "network.dmf": "network.dmf.params.DMF",
    "network.dmf_fitted_g": "network.dmf.params.FITTED_G",
}

#: Where the docs index every set (and table the sets no other page tables).
DOCS_INDEX = "docs/validation.md#all-parameters"
#: That index in a source checkout (a pip install ships no docs: the docs column then shows "—").
DOCS_INDEX_FILE = Path(__file__).resolve().parents[3] / "docs" / "validation.md"


def _short(set_name: str) -> str:
    """The set's own name without its module path (``BALLOON`` for ``network.bold.BALLOON``)."""
    return set_name.rsplit(".", 1)[-1] if "." in set_name.split("[", 1)[0] else set_name


def _colon_alias(set_name: str) -> str | None:
    """``compound.LSD`` for ``compound:LSD`` (the key provenance.json uses), else ``None``."""
    return set_name.replace(":", ".", 1) if ":" in set_name else None


def set_names(set_name: str) -> tuple[str, ...]:
    """Every name a query may give for ``set_name``: full, last part, a compound's bare name and
    the provenance.json keys of the set."""
    names = [set_name, _short(set_name), _colon_alias(set_name)]
    if set_name.startswith("compound:"):
        names.append(set_name.removeprefix("compound:"))
    names += [alias for alias, target in PROVENANCE_ALIASES.items() if target == set_name]
    return tuple(dict.fromkeys(n for n in names if n))


def _keys(row: dict[str, Any]) -> tuple[str, ...]:
    """Names a query may start: each name of the row's set, alone and with the parameter appended."""
    names = set_names(row["set"])
    return tuple(n.lower() for n in names) + tuple(f"{n}.{row['field']}".lower() for n in names)


def select_rows(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The rows whose set or dotted parameter name starts with one of ``names`` (case-insensitive;
    any name of :func:`set_names`; a name equal to a set's selects that set only); all rows when
    ``names`` is empty.

    Raises
    ------
    InputError
        On ``NAME`` for a name that matches nothing, with the closest names (full, last part,
        compound name, provenance key).
    """
    if not names:
        return rows
    chosen: set[int] = set()
    for name in names:
        query = name.strip().lower()
        # a set's exact name wins over longer names it starts (network.hopf is HOPF, not FITTED_HOPF)
        hits = ({i for i, row in enumerate(rows) if query in _keys(row)[:len(set_names(row["set"]))]}
                or {i for i, row in enumerate(rows) if query and any(k.startswith(query) for k in _keys(row))})
        if not hits:
            raise InputError("NAME", f"no parameter set or parameter matches {name!r}"
                                     f"{_suggestion(name, rows)} (run `psilosim params` to list them all)")
        chosen |= hits
    return [row for i, row in enumerate(rows) if i in chosen]


def _suggestion(name: str, rows: list[dict[str, Any]]) -> str:
    """``"; did you mean compound:psilocybin?"``: the sets one of whose names (:func:`set_names`:
    last part, compound name, provenance key too) is close to ``name`` or to its part before a
    dotted parameter, each given by its full name."""
    import difflib

    from ..regimen import SUGGESTION_CUTOFF

    full_of = {alias.lower(): s for s in dict.fromkeys(row["set"] for row in rows) for alias in set_names(s)}
    for candidate in (name.lower(), name.split(".", 1)[0].lower()):
        close = difflib.get_close_matches(candidate, list(full_of), n=3, cutoff=SUGGESTION_CUTOFF)
        if close:
            return f"; did you mean {' or '.join(dict.fromkeys(full_of[c] for c in close))}?"
    return ""


def list_parameters(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows (set, field, value, unit, kind, source, note) of every parameter, or of those ``names``
    select (a set's name, or a prefix of one, optionally with a dotted parameter)."""
    from ..parameters import all_parameter_sets, parameter_rows

    return select_rows(parameter_rows(all_parameter_sets()), list(names or []))


# ----------------------------------------------------------------------------- rendering
def docs_pages() -> dict[str, str]:
    """The docs page whose generated table shows each set (``network.md``), read from the index in
    ``docs/validation.md`` of a source checkout; empty when the docs are not installed."""
    import re

    index = DOCS_INDEX_FILE
    if not index.is_file():
        return {}
    text = index.read_text(encoding="utf-8")
    pages = {}
    for name, table in re.findall(r"^\| `([^`]+)` \| \d+ \| [^|]* \| ([^|]+) \|$", text, re.M):
        page = re.match(r"\[([^\]]+)\]", table.strip())
        pages[name] = page.group(1) if page else "validation.md"
    return pages


def print_summary(rows: list[dict[str, Any]], out: Console) -> None:
    """One entry per set: its name (never folded) with its evidence kinds below, the number of
    parameters and the docs page that tables it."""
    pages = docs_pages()
    by_set: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_set.setdefault(row["set"], []).append(row)
    widest = max(len(name) for name in by_set)
    table = Table(title=f"{len(by_set)} parameter sets, {len(rows)} parameters", box=box.SIMPLE_HEAD,
                  title_justify="left", pad_edge=False)
    table.add_column("set (evidence kinds)", min_width=widest, ratio=1)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("docs table", no_wrap=True)
    for name, members in by_set.items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(r["kind"] for r in members).items()))
        cell = Group(Text(name, style="bold"), Padding(Text(kinds, style="dim"), (0, 0, 0, 2)))
        table.add_row(cell, str(len(members)), pages.get(name, "—"))
    out.print(table)
    out.print(f"List one set with `psilosim params NAME` (a name above, its last part such as BALLOON, a "
              f"compound such as psilocybin, or a key of provenance.json such as binding.effect); `--all` "
              f"lists every parameter, `--notes` adds each one's note, `--json` gives every column of every "
              f"row. The docs index all sets in {DOCS_INDEX}.")


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Rows by (set, dotted path of the parameter's parent), in listing order: a compound's
    ``species.human.sets.holze2023`` parameters under one heading, each by its last name."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        parent = row["field"].rsplit(".", 1)[0] if "." in row["field"] else ""
        groups.setdefault((row["set"], parent), []).append(row)
    return groups


def _group_table(members: list[dict[str, Any]], note_column: bool) -> Table:
    """field, value, unit, kind, source and, on wide terminals, note. The first four are never
    folded; a narrow terminal cuts the source to the width left (one line per parameter)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("field", "value", "unit", "kind"):
        table.add_column(column, no_wrap=True, justify="right" if column == "value" else "left")
    table.add_column("source", ratio=None if note_column else 1)
    if note_column:
        table.add_column("note", ratio=2)
    for row in members:
        source = Text(row["source"], no_wrap=not note_column, overflow="ellipsis")
        table.add_row(row["field"].rsplit(".", 1)[-1], f"{row['value']:.4g}", row["unit"] or "1", row["kind"],
                      source, *([row["note"]] if note_column else []))
    return table


def print_sets(rows: list[dict[str, Any]], out: Console, notes: bool = False) -> None:
    """Each set under its own heading (the set's name on its own line, never folded; a compound's
    nested parameters under ``compound:NAME species.human.sets.holze2023``), then its table."""
    note_column = out.width >= NOTES_MIN_WIDTH
    for (set_name, parent), members in _groups(rows).items():
        heading = Text(set_name, style="bold")
        if parent:
            heading.append(f" {parent}", style="bold cyan")
        out.print(heading, soft_wrap=True)
        out.print(_group_table(members, note_column))
        if notes and not note_column:
            for row in (r for r in members if r["note"]):
                out.print(Text(f"  {row['field'].rsplit('.', 1)[-1]}: ", style="italic") + Text(row["note"]))
        out.print()
    n_sets = len({r["set"] for r in rows})
    more = "" if note_column or notes else "; --notes adds each parameter's note"
    out.print(f"{len(rows)} parameters in {n_sets} set{'s' * (n_sets != 1)} (--json for every column{more})")


@app.command()
def params(
    names: list[str] = typer.Argument(None, metavar="[NAME]...",  # noqa: B008
                                      help="Sets or parameters to show: a set's name or its start "
                                           "(network.bold.BALLOON, BALLOON, compound:LSD, psilocybin, "
                                           "plasticity), a provenance.json key (binding.effect, "
                                           "interactions), optionally with a parameter (BALLOON.efficacy). "
                                           "Default: a summary of every set."),
    all_rows: bool = typer.Option(False, "--all", help="Every parameter of every set (one table per set)."),
    notes: bool = typer.Option(False, "--notes",
                               help=f"Each parameter's note (shown anyway from {NOTES_MIN_WIDTH} columns)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP + " Every column; every row "
                                                        "unless NAME selects some."),
) -> None:
    """List model parameters with their value, unit, evidence kind, source and note.

    Every parameter set of the package is included: module-level sets, the per-species plasticity
    and spine sets, and each compound of the library (compound:NAME; nested parameters by the path
    a compound file uses, species.human.sets.holze2023.clearance). Kinds: published, secondary
    (read in a review), unverified, derived, fitted, assumed (the note says why).
    """
    from .. import DISCLAIMER

    rows = list_parameters(names)
    if json_out:
        emit_json({"parameters": rows})
        return
    if names or all_rows:
        print_sets(rows, console, notes=notes)
    else:
        print_summary(rows, console)
    console.print(f"[dim]{DISCLAIMER}[/]")
