"""docs/api.md: every Python block runs, in order, in one namespace, and says what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


@pytest.fixture(scope="module")
def namespace(tmp_path_factory):
    # the guide is part of the repository: a moved or renamed file must fail, not silently skip
    assert API_DOC.is_file(), f"{API_DOC} is missing"
    blocks = re.findall(r"```python\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6, "the guide's examples were not found"
    ns: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("api"))
        for k, block in enumerate(blocks):
            exec(compile(block, f"docs/api.md block {k}", "exec"), ns)  # noqa: S102 (the docs' own code)
    return ns


# Guards against the Python guide going stale: a renamed function or argument fails here, and the
# numbers it prints must still be what the model gives (PK1 band, window doubling, seeds).
def test_the_guide_runs_and_its_examples_say_what_the_text_says(namespace):
    ns = namespace
    assert 14.0 <= float(ns["psilocin"].max()) <= 20.0           # REFERENCES PK1, 25 mg
    assert ns["window_days"](ns["longer"]) > 1.5 * ns["window_days"](ns["chain"])
    assert ns["slower"].window_decay.kind == "override"
    assert ns["dmn_fc"](ns["drug"], ns["aal2"].regions)["within"] < ns["dmn_fc"](ns["base"], ns["aal2"].regions)["within"]
    assert bool((ns["again"]["outcome"] == ns["results"]["outcome"]).all())
    assert not bool((ns["other"]["outcome"] == ns["results"]["outcome"]).all())
    assert ns["d"]["estimate"] < 0                                  # psilocybin arm improves more
