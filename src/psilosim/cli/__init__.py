"""Command line: ``psilosim``.

:func:`main` is the console entry point. It turns deliberate errors (bad input, malformed data)
into one line on stderr and exit code 2, so a user never sees a traceback for a mistake of theirs.
"""

from __future__ import annotations

import inspect
import sys
import warnings

from pydantic import ValidationError
from rich.markup import escape

from ..errors import PsilosimError, PsilosimWarning
from . import examples, metrics, network, params, pharmacology, plasticity, trial, validate  # noqa: F401  (registers commands)
from ._app import app, err_console, warn


def _one_line_paragraphs(doc: str) -> str:
    """A docstring with each paragraph on one line: typer's rich help keeps a docstring's single
    line breaks, which break sentences mid-line in a terminal of another width."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


for _info in app.registered_commands:
    if _info.help is None and _info.callback is not None and _info.callback.__doc__:
        _info.help = _one_line_paragraphs(_info.callback.__doc__)


def _format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or exc.title
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """psilosim's own warnings as one line, like its errors; others as Python shows them."""
    if issubclass(category, PsilosimWarning):
        warn(str(message))
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main() -> None:
    """Entry point of the ``psilosim`` command."""
    shown_by, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        app()
    except PsilosimError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except ValidationError as exc:
        err_console.print(f"[bold red]error:[/] {escape(_format_validation_error(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    finally:
        warnings.showwarning = shown_by


__all__ = ["app", "main"]
