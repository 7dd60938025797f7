"""``psilosim examples``: list the packaged example scenarios and copy them for a pip-installed user."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run_cli
from psilosim.clinical.design import load_design
from psilosim.scenario import load_scenario

# The package holds these (at least): single-run scenarios and the trial what-ifs.
SOME_RUN = "psilocybin_25mg.yaml"
SOME_TRIAL = "trials/whatif_non_hallucinogenic_analogue.yaml"


def _listing(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, "examples", *args, "--json")
    assert code == 0, err
    return json.loads(out)


# Guards against example scenarios that only exist inside the installed package with no command
# to find them: every file is listed with its kind, how to run it and a one-line description.
def test_lists_every_packaged_example_with_a_description(monkeypatch, capsys):
    from importlib import resources

    root = resources.files("psilosim") / "scenarios"
    packaged = {p.name for p in root.iterdir() if p.name.endswith(".yaml")}
    packaged |= {f"trials/{p.name}" for p in (root / "trials").iterdir() if p.name.endswith(".yaml")}
    examples = {e["file"]: e for e in _listing(monkeypatch, capsys)["examples"]}
    assert set(examples) == packaged and {SOME_RUN, SOME_TRIAL} <= packaged
    assert examples[SOME_TRIAL]["kind"] == "trial" and examples[SOME_RUN]["kind"] == "run"
    assert examples[SOME_TRIAL]["command"].startswith("psilosim trial ")
    for entry in examples.values():
        assert entry["description"] and "\n" not in entry["description"] and not entry["description"].startswith("#")


def test_copy_writes_files_that_load_and_refuses_to_overwrite(monkeypatch, capsys, tmp_path: Path):
    dest = tmp_path / "mine" / "examples"  # created if missing
    data = _listing(monkeypatch, capsys, "--copy", str(dest))
    assert sorted(data["copied"]) == sorted(str(dest / e["file"]) for e in data["examples"])
    load_design(dest / SOME_TRIAL)  # a copied file is a valid scenario
    load_scenario(dest / SOME_RUN)
    (dest / SOME_RUN).write_text("# my edits\n")
    code, _, err = run_cli(monkeypatch, capsys, "examples", "--copy", str(dest))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "--copy" in err and "overwrite" in err
    assert (dest / SOME_RUN).read_text() == "# my edits\n"  # nothing was replaced


def test_copy_into_a_path_under_a_file_is_one_line(monkeypatch, capsys, tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run_cli(monkeypatch, capsys, "examples", "--copy", str(blocker / "sub"))
    assert code == 2 and "--copy" in err and "Traceback" not in err


def test_table_output_and_trial_help_mention_the_command(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "examples")
    assert code == 0 and "whatif_non_hallucinogenic_analogue.yaml" in out
    _, help_text, _ = run_cli(monkeypatch, capsys, "trial", "--help")
    assert "psilosim examples" in " ".join(help_text.replace("│", " ").split())


def test_readme_mentions_the_command():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "psilosim examples" in readme
