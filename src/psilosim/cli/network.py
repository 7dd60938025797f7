"""Commands for the network link (filled in by its issue)."""

from ._app import app  # noqa: F401
