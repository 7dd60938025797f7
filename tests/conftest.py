"""Shared fixtures.

Reference data in ``../shared/data`` (real group-level connectivity and PET receptor maps) may not
be copied into the project; tests read it in place and skip with a message where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Property tests draw the same examples on every run (derived from each test's name), so CI and a
# developer's checkout check the same cases and a green run stays green. HYPOTHESIS_PROFILE=explore
# draws fresh random examples to hunt for new edge cases; a case it finds is pinned with @example.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def schaefer100_dir() -> Path:
    """The Schaefer-100 reference folder from ``../shared``, or skip."""
    folder = SHARED_DATA / "schaefer100"
    if not (folder / "regions.csv").exists():
        pytest.skip(f"reference data not found at {folder} (../shared is absent in this checkout)")
    return folder
