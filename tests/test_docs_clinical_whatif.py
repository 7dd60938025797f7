"""docs/clinical.md: the what-if table can be reproduced with the snippet printed beside it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

CLINICAL_MD = Path(__file__).resolve().parents[1] / "docs" / "clinical.md"


# Guards against a what-if table (virtual twins) that a reader cannot reproduce: the docs must show
# the code that computes it, say that the CLI randomises, and that code must give the table's rows.
def test_the_whatif_snippet_reproduces_the_generated_table():
    text = CLINICAL_MD.read_text(encoding="utf-8")
    table = text.split("<!-- BEGIN generated: clinical-whatif -->")[1].split("<!-- END generated: clinical-whatif -->")
    after = table[1].split("\n## ")[0]
    assert "randomises patients to arms" in after
    code = re.search(r"```python\n(.*?)```", after, flags=re.S).group(1)
    expected = {row.split("|")[2].strip(): row.split("|")[3].strip() for row in table[0].splitlines()
                if row.startswith("| non_hallucinogenic_analogue |")}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "docs/clinical.md", "exec"), {})
    printed = dict(line.split() for line in buf.getvalue().splitlines())
    assert printed == expected and len(expected) == 4
