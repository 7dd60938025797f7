"""Commands for the trial link (filled in by its issue)."""

from ._app import app  # noqa: F401
