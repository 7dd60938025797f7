"""``psilosim examples``: list the example scenarios shipped in the package, or copy them out.

A user who installed psilosim with ``pip install .`` has the example YAML files only inside the
installed package; this command names them, says what each one is and copies them to a folder
where they can be edited and run.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
import yaml
from rich.table import Table

from ..errors import InputError
from ._app import JSON_OPTION_HELP, app, console, emit_json

#: Package folder of the examples; its ``trials`` subfolder holds the trial (what-if) scenarios.
EXAMPLES_PACKAGE = "psilosim"
EXAMPLES_FOLDER = "scenarios"
TRIALS_FOLDER = "trials"
#: The command that runs each kind of example.
RUN_COMMAND = {"run": "psilosim run", "trial": "psilosim trial"}


def _description(text: str) -> str:
    """The file's ``description`` field, else its first comment line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and str(data.get("description") or "").strip():
        return " ".join(str(data["description"]).split())
    for line in text.splitlines():
        if line.strip().startswith("#"):
            return line.strip().lstrip("#").strip()
    return ""


def example_files() -> list[tuple[str, str, object]]:
    """The packaged examples as ``(relative name, kind, resource)``: single runs first, then trials."""
    root = resources.files(EXAMPLES_PACKAGE) / EXAMPLES_FOLDER
    found = [(p.name, "run", p) for p in root.iterdir() if p.name.endswith((".yaml", ".yml"))]
    found += [(f"{TRIALS_FOLDER}/{p.name}", "trial", p) for p in (root / TRIALS_FOLDER).iterdir()
              if p.name.endswith((".yaml", ".yml"))]
    return sorted(found, key=lambda item: (item[1] == "trial", item[0]))


def list_examples() -> list[dict]:
    """Every packaged example: ``file``, ``kind`` (run | trial), ``command`` and ``description``."""
    return [{"file": name, "kind": kind, "command": f"{RUN_COMMAND[kind]} {name}",
             "description": _description(resource.read_text(encoding="utf-8"))}
            for name, kind, resource in example_files()]


def copy_examples(folder: str | Path) -> list[Path]:
    """Copy every example into ``folder`` (created if missing), keeping the ``trials/`` subfolder.

    Raises
    ------
    InputError
        On ``--copy`` when the folder cannot be created or any destination file already exists
        (nothing is copied then: a user's edited copy is never replaced).
    """
    from ..io import prepare_out_dir

    files = example_files()
    dest = Path(folder).expanduser()
    clashes = [str(dest / name) for name, _, _ in files if (dest / name).exists()]
    if clashes:
        raise InputError("--copy", f"{clashes[0]} exists ({len(clashes)} of the {len(files)} files do); "
                                   "refusing to overwrite, choose another folder")
    dest = prepare_out_dir(dest, option="--copy")
    prepare_out_dir(dest / TRIALS_FOLDER, option="--copy")
    written = []
    for name, _, resource in files:
        (dest / name).write_bytes(resource.read_bytes())
        written.append(dest / name)
    return written


@app.command()
def examples(
    copy: str = typer.Option(None, "--copy", metavar="DIR",
                             help="Copy the example files into DIR (created if missing; existing files are "
                                  "never overwritten), trials under DIR/trials."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """List the example scenario files that ship with psilosim, or copy them to edit and run.

    Single-run scenarios run with `psilosim run FILE`; trial scenarios (the what-ifs) with
    `psilosim trial FILE`.
    """
    from .. import DISCLAIMER

    listing = list_examples()
    copied = copy_examples(copy) if copy is not None else []
    if json_out:
        emit_json({"examples": listing, "copied": [str(p) for p in copied],
                   "folder": str(Path(copy).expanduser().resolve()) if copy is not None else None})
        return
    table = Table(title="example scenarios (psilosim examples --copy DIR to edit them)")
    for col in ("file", "run with", "description"):
        table.add_column(col, overflow="fold")
    for entry in listing:
        table.add_row(entry["file"], RUN_COMMAND[entry["kind"]], entry["description"])
    console.print(table)
    if copied:
        console.print(f"copied {len(copied)} files to {Path(copy).expanduser().resolve()}")
    console.print(f"[dim]{DISCLAIMER}[/]")
