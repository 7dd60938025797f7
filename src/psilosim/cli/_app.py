"""The typer application and the helpers every command shares.

Commands live in one module per link of the chain (``pharmacology.py``, ``plasticity.py``,
``network.py``, ``metrics.py``, ``trial.py``, ``validate.py``); each decorates its functions
with ``@app.command()`` on the :data:`app` defined here.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape

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


def warn(message: str) -> None:
    """Print one warning line on stderr (the run goes on), in the same form as :func:`fail`'s errors."""
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
    ctx.call_on_close(lambda: scope.__exit__(None, None, None))


PLOT_HELP = "Also draw the results into this file (.png, .svg or .pdf; its folder is created if missing)."


def check_plot_path(plot: str | None) -> None:
    """Refuse a ``--plot`` file that cannot be written (type, a folder, a folder that cannot be
    created), before any work is spent."""
    from ..errors import InputError
    from ..io import check_figure_path

    if plot is not None:
        try:
            check_figure_path(plot)
        except InputError as exc:
            fail(str(exc))


def save_plot(fig, plot: str) -> str:
    """Write ``fig`` to the ``--plot`` file; a path that cannot be written is one line naming --plot."""
    from ..errors import InputError
    from ..io import save_figure

    try:
        return str(save_figure(fig, plot))
    except InputError as exc:
        fail(str(exc))
