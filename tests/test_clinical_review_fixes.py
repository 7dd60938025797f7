"""Findings of a review of the clinical/scenario commits of session s3 (task F7).

Each test pins one finding: the window read at a fractional primary visit, a ``run.json`` that is
not a manifest, a typo in a custom compound named at its own path, ``trial --out`` refusing a
``psilosim run`` folder, the YAML duplicate-key walk (recursive anchors, aliases, key equality),
the manifest without a chunk size, and the YAML snippets of docs/clinical.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from pydantic import ValidationError

import psilosim._yaml as yaml_module
from cli_helpers import run_cli
from psilosim.clinical.design import TreatmentSpec as DesignTreatment
from psilosim.clinical.design import design_from_dict
from psilosim.clinical.presets import carhart2021
from psilosim.clinical.stats import biology_summary
from psilosim.clinical.trial import MANIFEST_FILE, run_trial
from psilosim.errors import InputError
from psilosim.regimen import Regimen, input_error_from
from psilosim.scenario import TreatmentSpec, parse_scenario, read_yaml

DOCS = Path(__file__).resolve().parents[1] / "docs" / "clinical.md"


# ---------------------------------------------------------------- 1. window open at a fractional visit
def _fractional_visit_run() -> xr.Dataset:
    """Three patients whose window is closed on day 0 of the daily course and open (1.0) at the
    primary visit on day 0.4, as the outcome at that visit records."""
    n, days = 3, 4
    window = np.zeros((n, days))
    window[:, 1:3] = 1.0
    course = np.stack([np.full_like(window, 20.0), window], axis=-1)
    outcome = np.zeros((n, 3, 2))
    outcome[:, 1, 1] = 1.0  # window at visit 1 (day 0.4)
    return xr.Dataset(
        {"course": (("patient", "day", "quantity"), course),
         "outcome": (("patient", "visit", "measure"), outcome)},
        coords={"patient": np.arange(n), "day": np.arange(float(days)), "quantity": ["severity", "window"],
                "visit": [0, 1, 2], "study_day": ("visit", [0.0, 0.4, 3.0]), "measure": ["score", "window"],
                "arm": ("patient", ["a"] * n)},
        attrs={"arms": json.dumps(["a"]), "primary_day": 0.4})


# Guards against reading the daily course at the nearest whole day (day 0, closed) for a visit at day 0.4.
def test_window_open_at_day_n_reads_the_outcome_at_the_primary_visit():
    bio = biology_summary(_fractional_visit_run(), "a")
    assert bio["window_open_at_day_n"] == 3 and bio["window_patients"] == 3
    assert bio["window_open_at_day_fraction"] == pytest.approx(1.0)


# ---------------------------------------------------------------- 2. run.json that is not a manifest
@pytest.mark.parametrize("text", ["[]", '{"x": 1}', '"run"'])
def test_a_run_json_that_is_not_a_manifest_is_refused_as_such(tmp_path: Path, text: str):
    (tmp_path / MANIFEST_FILE).write_text(text)
    with pytest.raises(InputError, match=r"^--out: .*not a psilosim trial manifest"):
        run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2)


def test_trial_cli_refuses_a_run_json_that_is_a_list_in_one_line(monkeypatch, capsys, tmp_path: Path):
    (tmp_path / MANIFEST_FILE).write_text("[]")
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--out",
                           str(tmp_path), "--json", "--no-report")
    assert code == 2
    assert "not a psilosim trial manifest" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / MANIFEST_FILE).read_text() == "[]"


# ---------------------------------------------------------------- 3. typo in a custom compound
TYPO = {"name": "x", "based_on": "psilocybin", "overides": {"hallucinogenic_efficacy": 0.02}}
REGIMEN = {"phases": [{"dose": "25 mg"}]}


def test_scenario_names_the_misspelt_key_of_a_custom_compound():
    text = yaml.safe_dump({"treatments": [{"compound": TYPO, "regimen": REGIMEN}]})
    with pytest.raises(InputError) as info:
        parse_scenario(text)
    assert info.value.field == "treatments.0.compound.overides"
    assert "did you mean overrides" in info.value.problem and "more error" not in info.value.problem


def test_treatment_spec_names_the_misspelt_key_not_based_on():
    with pytest.raises(ValidationError) as info:
        TreatmentSpec.model_validate({"compound": TYPO, "regimen": REGIMEN})
    err = input_error_from(info.value)
    assert err.field == "compound.overides" and "did you mean overrides" in err.problem


def test_a_full_compound_mapping_without_based_on_is_still_a_compound():
    spec = TreatmentSpec.model_validate({"compound": {"name": "x"}, "regimen": REGIMEN})
    assert isinstance(spec.compound, dict)


def test_trial_design_path_has_no_class_name_tag():
    design = carhart2021().model_dump(mode="json")
    design["arms"][0]["treatments"][0]["compound"] = TYPO
    with pytest.raises(InputError) as info:
        design_from_dict(design)
    assert info.value.field == "arms.0.treatments.0.compound.overides"
    assert "CustomCompound" not in str(info.value) and "did you mean overrides" in info.value.problem
    with pytest.raises(ValidationError) as raw:
        DesignTreatment.model_validate({"compound": TYPO, "regimen": REGIMEN})
    assert input_error_from(raw.value).field == "compound.overides"


# ---------------------------------------------------------------- 4. trial --out on a `run` folder
# Guards against `trial --out` overwriting results.nc/provenance.json of a `psilosim run` folder
# and leaving its acute.png beside the trial's results.
def test_trial_out_refuses_a_psilosim_run_folder(monkeypatch, capsys, tmp_path: Path):
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    files = {"provenance.json": '{"psilosim": "run"}', "results.nc": "run results", "acute.png": "figure"}
    for name, text in files.items():
        (run_folder / name).write_text(text)
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--out",
                           str(run_folder), "--json", "--no-report")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "run.json" in err
    assert {p.name: p.read_text() for p in run_folder.iterdir()} == files


# Guards against the API writing a trial into a `psilosim run` folder: the check was the CLI's only.
def test_run_trial_refuses_a_psilosim_run_folder_in_the_api(tmp_path: Path):
    from psilosim.clinical.presets import goodwin2022
    from psilosim.clinical.trial import run_trial

    run_folder = tmp_path / "run"
    run_folder.mkdir()
    files = {"provenance.json": '{"psilosim": "run"}', "results.nc": "run results"}
    for name, text in files.items():
        (run_folder / name).write_text(text)
    with pytest.raises(InputError, match="run.json"):
        run_trial(goodwin2022(), n_patients=4, out=run_folder, progress=False)
    assert {p.name: p.read_text() for p in run_folder.iterdir()} == files


# ---------------------------------------------------------------- 5. the duplicate-key walk
# safe_load builds a recursive structure, but a design holding one failed later with a traceback
# (its hash: "Circular reference detected"); psilosim refuses it where it is written.
@pytest.mark.parametrize(("text", "field"), [("a: &x [*x]", "a.0"), ("a:\n  b: &x {c: [1, *x]}", "a.b.c.1")])
def test_a_recursive_anchor_is_an_input_error_naming_where(text: str, field: str):
    assert yaml.safe_load(text) is not None  # what PyYAML itself does with it
    with pytest.raises(InputError, match="contains itself") as info:
        read_yaml(text)
    assert info.value.field == field


def test_a_value_shared_by_two_aliases_is_not_recursive():
    assert read_yaml("a: &x {k: 1}\nb: [*x, *x]") == {"a": {"k": 1}, "b": [{"k": 1}, {"k": 1}]}


def test_a_design_with_a_recursive_anchor_is_refused_in_one_line():
    design = carhart2021().model_dump(mode="json")
    design.pop("published", None)
    with pytest.raises(InputError, match=r"^published\.a: contains itself"):
        design_from_dict(read_yaml(yaml.safe_dump(design) + "published: &x {a: *x}\n"))


def _doubling(levels: int) -> str:
    return "\n".join(["l0: &a0 {k: 1}"] + [f"l{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels)])


# Guards against walking an aliased node once per alias (2**levels visits).
def test_the_duplicate_key_walk_visits_each_node_once(monkeypatch):
    calls = []
    walk = yaml_module._refuse_duplicate_keys

    def counting(*args, **kwargs):
        calls.append(1)
        return walk(*args, **kwargs)

    monkeypatch.setattr(yaml_module, "_refuse_duplicate_keys", counting)
    levels = 14
    assert read_yaml(_doubling(levels)) == yaml.safe_load(_doubling(levels))
    assert len(calls) < 10 * levels


def test_keys_are_compared_as_the_values_they_load_as():
    assert read_yaml("1: a\n'1': b") == {1: "a", "1": "b"}
    with pytest.raises(InputError, match=r"given twice \(lines 1 and 2\)"):
        read_yaml("true: a\nTrue: b")
    with pytest.raises(InputError, match=r"^x\.1: given twice"):
        read_yaml("x:\n  1: a\n  0x1: b")


def test_a_merge_key_may_still_repeat_what_it_merges():
    assert read_yaml("base: &b {a: 1}\nother:\n  <<: *b\n  a: 2") == {"base": {"a": 1}, "other": {"a": 2}}


# ---------------------------------------------------------------- 6. manifest and docs drift
def test_the_manifest_holds_no_chunk_size_a_resume_could_contradict(tmp_path: Path):
    run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2, max_new_chunks=0)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert "chunk_size" not in manifest
    assert {"design", "seed", "patients", "models", "version"} <= set(manifest)


def test_docs_do_not_list_chunk_size_among_what_makes_another_run():
    text = " ".join(DOCS.read_text(encoding="utf-8").split())
    identity = re.search(r"`OUT/run\.json` \(([^:)]*):", text)  # what it records, before the colon
    assert identity is not None and "seed" in identity.group(1) and "chunk size" not in identity.group(1)
    assert "chunk size is not recorded" in text


def _inline_snippets() -> list[str]:
    """Inline code of docs/clinical.md that is a regimen phase, a regimen or a compound."""
    snippets = re.findall(r"`([^`\n]+)`", DOCS.read_text(encoding="utf-8"))
    return sorted({s for s in snippets if re.match(r"^(every|phases|compound): ", s)})


def test_the_docs_have_regimen_and_compound_snippets():
    found = _inline_snippets()
    assert any(s.startswith("every:") for s in found) and any(s.startswith("phases:") for s in found)


@pytest.mark.parametrize("snippet", _inline_snippets())
def test_every_regimen_or_compound_snippet_of_the_docs_is_valid(snippet: str):
    data = read_yaml("{" + snippet + "}", source="docs")
    if "phases" in data:
        Regimen.model_validate({"phases": data["phases"]})
    elif "compound" in data:
        DesignTreatment.model_validate({"compound": data["compound"], "regimen": REGIMEN})
    else:
        Regimen.from_phases([{"dose": "1 mg", **data}])


# Guards against a misspelt based_on or override key in a single-run scenario being reported vaguely
# ("treatments.0.compound: unknown field (and 8 more errors)", or the override's path dropped).
@pytest.mark.parametrize(("compound", "field", "hint"), [
    ("{name: myc, base_on: psilocybin, overrides: {}}", "treatments.0.compound.base_on", "did you mean based_on"),
    ("{name: myc, based_on: psilocybin, overrides: {bindng: {}}}", "treatments.0.compound.overrides.bindng",
     "did you mean binding"),
    ("{name: myc, based_on: psilocibin, overrides: {}}", "treatments.0.compound.based_on", "unknown compound"),
])
def test_a_custom_compound_typo_is_named_at_its_path_in_a_scenario(compound: str, field: str, hint: str):
    from psilosim.scenario import parse_scenario

    text = f"name: t\ntreatments:\n  - compound: {compound}\n    regimen: {{phases: [{{dose: 25 mg}}]}}\n"
    with pytest.raises(InputError) as info:
        parse_scenario(text)
    assert info.value.field == field and hint in info.value.problem
