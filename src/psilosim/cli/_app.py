"""The typer application and the helpers every command shares.

Commands live in one module per link of the chain (``pharmacology.py``, ``plasticity.py``,
``network.py``, ``metrics.py``, ``trial.py``, ``validate.py``); each decorates its functions
with ``@app.command()`` on the :data:`app` defined here.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import sys
import warnings
from collections.abc import Callable, Collection
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from typer.models import OptionInfo

from ..errors import InputError

app = typer.Typer(
    name="psilosim",
    help=(
        "psilosim: simulate psilocybin (and escitalopram, ketamine) from an oral dose to a "
        "depression score. Research and teaching use only; not dosing advice."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

#: Width of tables when stdout is not a terminal (CI logs, pipes): rich would fall back to 80
#: columns and fold every cell of the scorecard.
NON_TTY_WIDTH = 160

#: Human-readable output goes to stdout; errors and progress bars to stderr.
console = Console(width=None if sys.stdout.isatty() else NON_TTY_WIDTH)
err_console = Console(stderr=True)

JSON_OPTION_HELP = "Print one machine-readable JSON object on stdout instead of tables."


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats to plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def emit_json(payload: dict[str, Any]) -> None:
    """Write ``payload`` as one JSON object on stdout (NaN/inf become null)."""
    sys.stdout.write(json.dumps(_jsonable(payload)) + "\n")
    sys.stdout.flush()


#: The warnings of the command being run (:func:`warn` lines and psilosim warnings raised), for
#: the ``warnings`` key of a command's JSON (:func:`command_warnings`); reset by each command.
_COMMAND_WARNINGS: list[str] = []


def command_warnings() -> list[str]:
    """The warning messages of the command being run, each once, in the order they came: the
    lines :func:`warn` printed and the psilosim warnings (``PsilosimWarning``) raised, which a
    ``--json`` reader would otherwise see only on stderr."""
    return list(dict.fromkeys(_COMMAND_WARNINGS))


def _collecting(shown: Callable[..., Any]) -> Callable[..., Any]:
    """``warnings.showwarning`` that also collects a psilosim warning's message, then shows it as ``shown`` does."""
    from ..errors import PsilosimWarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, PsilosimWarning):
            _COMMAND_WARNINGS.append(str(message))
        shown(message, category, filename, lineno, file, line)

    return show


def warn(message: str) -> None:
    """Print one warning line on stderr (the run goes on), in the same form as :func:`fail`'s errors."""
    _COMMAND_WARNINGS.append(str(message))
    err_console.print(f"[bold yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        console.print(f"psilosim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """psilosim: from an oral dose to a depression score (research and teaching use only)."""
    # Warning filters a command sets (e.g. not repeating a dose warning it has printed) end with the
    # command, so a notebook or test that runs commands in-process keeps its own warnings.
    scope = warnings.catch_warnings()
    scope.__enter__()
    _COMMAND_WARNINGS.clear()
    warnings.showwarning = _collecting(warnings.showwarning)  # restored by the scope's end
    ctx.call_on_close(lambda: scope.__exit__(None, None, None))


PLOT_HELP = "Also draw the results into this file (.png, .svg or .pdf; its folder is created if missing)."


def check_plot_path(plot: str | None) -> None:
    """Refuse a ``--plot`` file that cannot be written (type, a folder, a folder that cannot be
    created), before any work is spent."""
    from ..io import check_figure_path

    if plot is not None:
        try:
            check_figure_path(plot)
        except InputError as exc:
            fail(str(exc))


def save_plot(fig, plot: str) -> str:
    """Write ``fig`` to the ``--plot`` file; a path that cannot be written is one line naming --plot."""
    from ..io import save_figure

    try:
        return str(save_figure(fig, plot))
    except InputError as exc:
        fail(str(exc))


#: The library's names of the inputs a command line carries, and the options that carry them: a
#: library error names its parameter or field (``minutes``, ``regimen.phases.0.dose``), the command
#: line its option (``--minutes``, ``--dose``). A name maps here only when the option takes the same
#: quantity in the same unit (the library's ``duration``, in seconds, is not ``--minutes``).
CLI_OPTIONS = {
    # regimen, subject and compound (pk, spines, window, scan)
    "compound": "--compound", "dose": "--dose", "every": "--interval", "route": "--route",
    "weight": "--weight", "species": "--species", "parameter_set": "--parameter-set",
    "method": "--method", "days": "--days",
    # connectome and network (fit, scan)
    "dataset": "--dataset", "minutes": "--minutes", "sessions": "--sessions", "at_hours": "--at-hours",
    "points": "--points",
    # network metrics of BOLD files (analyze, compare)
    "tr_s": "--tr", "window_s": "--window-s", "step_s": "--step-s", "policy": "--policy", "engine": "--engine",
    # randomness (every command that takes one)
    "seed": "--seed",
}

#: A library field: a name or a dotted path of names and indices (``treatments.0.regimen.phases.0.dose``);
#: anything else (a file path) is never renamed.
_LIBRARY_FIELD = re.compile(r"[A-Za-z_]\w*(\.\w+)*")


def command_options(command: Callable[..., Any]) -> frozenset[str]:
    """The options (``--dose``, ...) a typer command function declares."""
    return frozenset(decl for param in inspect.signature(command).parameters.values()
                     if isinstance(param.default, OptionInfo)
                     for decl in param.default.param_decls if decl.startswith("--"))


def as_option_error(exc: InputError, options: Collection[str]) -> InputError:
    """``exc`` renamed to the command-line option that carries its field, when ``options`` has it.

    The field's last name decides (``regimen.phases.0.dose`` is ``--dose``, through
    :data:`CLI_OPTIONS`). A field the command has no option for (a scenario file's
    ``treatments.0.regimen.phases.0.dose``, the library's ``duration``) is returned unchanged, so the
    error still names the input at fault in the library's words.
    """
    if not _LIBRARY_FIELD.fullmatch(exc.field):
        return exc
    option = CLI_OPTIONS.get(exc.field.rsplit(".", 1)[-1])
    return InputError(option, exc.problem) if option in options else exc


def named_as_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so an :class:`InputError` raised under a library field name is re-raised
    under the command's option (:func:`as_option_error`). Put it below ``@app.command()``."""
    options = command_options(command)

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            renamed = as_option_error(exc, options)
            if renamed is exc:
                raise
            raise renamed from None

    return wrapper


COMPOUND_OPTION_HELP = ("Compound name (case-insensitive), or the path of a compound YAML file (.yaml/.yml, "
                        "the format of the library's files: docs/pharmacology.md).")


def compound_option(text: str):
    """What ``--compound`` names: the :class:`~psilosim.compounds.Compound` of a compound file (an
    existing ``.yaml``/``.yml`` file), else ``text`` itself, a name the library looks up.

    A bad file is one :class:`InputError` on ``--compound`` naming the file and its field (the
    field is kept in the problem, so that a file's ``species`` is not taken for ``--species``).
    """
    from pathlib import Path

    from ..compounds import COMPOUND_FILE_SUFFIXES, load_compound_file

    path = Path(text).expanduser()
    if path.suffix.lower() not in COMPOUND_FILE_SUFFIXES:
        return text
    if not path.is_file():
        raise InputError("--compound", f"{text}: no such compound file")
    try:
        return load_compound_file(path)
    except InputError as exc:
        raise InputError("--compound", str(exc)) from None


def print_assumptions(payload: dict) -> None:
    """Each named hypothesis and caveat of a result (its ``hypotheses`` and ``caveats`` keys) on
    its own unfolded line, after its table (:func:`psilosim.report.caveats.assumption_lines`)."""
    from ..report.caveats import assumption_lines

    for line in assumption_lines(payload):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
