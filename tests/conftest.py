"""Shared fixtures.

Reference data in ``../shared/data`` (real group-level connectivity and PET receptor maps) may not
be copied into the project; tests read it in place and skip with a message where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def schaefer100_dir() -> Path:
    """The Schaefer-100 reference folder from ``../shared``, or skip."""
    folder = SHARED_DATA / "schaefer100"
    if not (folder / "regions.csv").exists():
        pytest.skip(f"reference data not found at {folder} (../shared is absent in this checkout)")
    return folder
