"""Run the ``psilosim`` console entry point inside a test (shared by the CLI tests)."""

from __future__ import annotations

import sys


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``psilosim ARGS`` through :func:`psilosim.cli.main`: exit code, stdout and stderr.

    The entry point prints deliberate errors as one line and exits 2; an exit without a code
    counts as 0, a non-integer code (an uncaught message) as 1.
    """
    from psilosim.cli import main

    monkeypatch.setattr(sys, "argv", ["psilosim", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(*args: str):
    """The ``--json`` payload of ``psilosim ARGS`` (through typer's runner), asserting exit 0."""
    import json

    from typer.testing import CliRunner

    from psilosim.cli import app

    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cli_text(*args: str) -> str:
    """The printed output of ``psilosim ARGS`` on a 200-column terminal, whitespace collapsed, asserting exit 0."""
    from typer.testing import CliRunner

    from psilosim.cli import app

    result = CliRunner().invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())
