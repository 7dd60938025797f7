"""Scenario and trial-design input found wanting by a user test (a biostatistician, session s3).

Each test pins one finding: a typo named as the typo, duplicate YAML keys refused, a primary end
point at the baseline visit refused, ``every`` without ``count``/``duration`` refused, resuming a
run with another chunk size, units of ``arm_index``, no negative zeros in the scores, and the
defaults quoted in docs/clinical.md "Scenario file fields" equal to the models' defaults.
"""

from __future__ import annotations

import copy
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.clinical.design import (
    ArmSpec,
    ImagingSpec,
    TreatmentSpec,
    TrialDesign,
    design_from_dict,
    load_design,
)
from psilosim.clinical.patients import BaselineSeverity
from psilosim.clinical.presets import PRESETS, carhart2021, get_preset
from psilosim.clinical.trial import (
    CHUNK_DIR,
    MANIFEST_FILE,
    cover_patients,
    run_trial,
    simulate_chunk,
)
from psilosim.errors import InputError
from psilosim.regimen import Phase, Regimen
from psilosim.scenario import parse_scenario, read_yaml

DOCS = Path(__file__).resolve().parents[1] / "docs" / "clinical.md"

DOSE3 = {
    "name": "dose3",
    "scale": "MADRS",
    "visits": [0, 1, 7, 14, 21, 42],
    "primary_day": 21,
    "baseline": {"scale": "MADRS", "mean": 32, "sd": 5, "minimum": 22, "maximum": 50},
    "comparison": ["high", "placebo"],
    "arms": [
        {"name": "high", "allocation": 2,
         "treatments": [{"compound": "psilocybin", "regimen": {"phases": [{"dose": "25 mg"}]}}]},
        {"name": "placebo", "allocation": 1,
         "treatments": [{"compound": "placebo", "regimen": {"phases": [{"dose": "1 mg"}]}}]},
    ],
}


def _dose3(**changes):
    data = copy.deepcopy(DOSE3)
    data.update(changes)
    return data


# ------------------------------------------------------------------ 1. a typo names the typo
def test_a_typo_in_a_required_key_is_named_with_a_suggestion():
    data = _dose3()
    data["primary_dya"] = data.pop("primary_day")
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "primary_dya"
    assert "did you mean primary_day?" in info.value.problem


def test_a_typo_inside_an_arm_is_named_with_a_suggestion():
    data = _dose3()
    data["arms"][1]["treatments"][0]["compund"] = data["arms"][1]["treatments"][0].pop("compound")
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "arms.1.treatments.0.compund"
    assert "did you mean compound?" in info.value.problem


def test_a_typo_in_a_regimen_phase_is_named_with_a_suggestion():
    with pytest.raises(InputError) as info:
        Regimen.from_phases([{"dose": "10 mg", "evry": "3 days", "count": 2}])
    assert info.value.field == "regimen.phases.0.evry"
    assert "did you mean every?" in info.value.problem


def test_an_unknown_key_far_from_every_name_gets_no_suggestion():
    with pytest.raises(InputError) as info:
        design_from_dict(_dose3(zzzzzz=1))
    assert info.value.field == "zzzzzz" and "did you mean" not in info.value.problem


def test_a_typo_in_a_single_run_scenario_is_named():
    text = "seeed: 3\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
    with pytest.raises(InputError) as info:
        parse_scenario(text)
    assert info.value.field == "seeed" and "did you mean seed?" in info.value.problem


# ------------------------------------------------------------------ 2. duplicate YAML keys
DUPLICATE = """\
name: dose3
primary_day: 21
arms:
  - name: a
    allocation: 2
    allocation: 1
primary_day: 42
"""


def test_read_yaml_refuses_a_key_given_twice_naming_its_path():
    with pytest.raises(InputError) as info:
        read_yaml(DUPLICATE.replace("primary_day: 42\n", ""), source="f.yaml")
    assert info.value.field == "arms.0.allocation"
    assert "given twice" in info.value.problem and "lines 5 and 6" in info.value.problem


def test_read_yaml_reads_what_safe_load_reads():
    text = "a: 1\nb: [1, 2.5, x]\nc: {d: null, e: true}\nbase: &b {x: 1}\nmerged: {<<: *b, y: 2}\n"
    import yaml

    assert read_yaml(text, source="f") == yaml.safe_load(text)


def test_a_trial_file_with_a_duplicate_key_is_refused(tmp_path: Path):
    import yaml

    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(DOSE3, sort_keys=False) + "primary_day: 42\n")
    with pytest.raises(InputError) as info:
        load_design(path)
    assert info.value.field == "primary_day" and "given twice" in info.value.problem


def test_a_single_run_scenario_with_a_duplicate_key_is_refused():
    text = "seed: 1\nseed: 2\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
    with pytest.raises(InputError) as info:
        parse_scenario(text)
    assert info.value.field == "seed" and "given twice" in info.value.problem


# ------------------------------------------------------------------ 3. primary end point at baseline
def test_a_primary_end_point_at_the_baseline_visit_is_refused():
    with pytest.raises(InputError) as info:
        design_from_dict(_dose3(primary_day=0))
    assert info.value.field == "primary_day"
    assert "baseline" in info.value.problem and "later visit" in info.value.problem


def test_a_later_primary_end_point_is_still_accepted():
    assert design_from_dict(_dose3(primary_day=1)).primary_day == 1


# ------------------------------------------------------------------ 4. every without count/duration
def test_every_without_count_or_duration_is_refused_naming_the_phase():
    with pytest.raises(InputError) as info:
        Regimen.from_phases([{"dose": "25 mg"}, {"dose": "10 mg", "every": "3 days", "start": "1 day"}])
    assert info.value.field == "regimen.phases.1.every"
    assert "every needs count or duration" in info.value.problem


def test_every_without_count_in_a_trial_arm_is_refused():
    data = _dose3()
    data["arms"][0]["treatments"][0]["regimen"] = {"phases": [{"dose": "10 mg", "every": "3 days"}]}
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "arms.0.treatments.0.regimen.phases.0.every"
    assert "every needs count or duration" in info.value.problem


def test_every_with_count_or_duration_is_still_accepted():
    assert len(Regimen.from_phases([{"dose": "10 mg", "every": "3 days", "count": 1}]).events().time_h) == 1
    assert len(Regimen.from_phases([{"dose": "10 mg", "every": "3 days", "duration": "9 days"}]).events().time_h) == 3


EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "src" / "psilosim" / "scenarios").rglob("*.yaml"))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_preset_relies_on_every_alone(name):
    get_preset(name)  # validation refuses a phase with every but neither count nor duration


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_no_example_relies_on_every_alone(path: Path):
    data = read_yaml(path.read_text(encoding="utf-8"), source=str(path))
    if "arms" in data:
        design_from_dict(data, source=str(path))
    else:
        parse_scenario(path.read_text(encoding="utf-8"), source=str(path))


# ------------------------------------------------------------------ 5. chunk size, units, -0.0
def test_resuming_with_another_chunk_size_loses_and_duplicates_nobody(tmp_path: Path):
    d = carhart2021()
    reference = run_trial(d, n_patients=6, seed=4, backend="sync", chunk_size=6)
    assert run_trial(d, n_patients=6, seed=4, out=tmp_path, backend="sync", chunk_size=2, max_new_chunks=1) is None
    first = tmp_path / CHUNK_DIR / "chunk_00000000_00000002.nc"
    written = first.stat().st_mtime_ns
    resumed = run_trial(d, n_patients=6, seed=4, out=tmp_path, backend="sync", chunk_size=3)
    assert resumed["patient"].values.tolist() == list(range(6))
    xr.testing.assert_identical(reference, resumed)
    # the finished chunk of the first run was reused, not recomputed: the rest is split into chunks
    # of 3 (a recomputation would give 0-3 and 3-6), and the old file was not rewritten
    assert sorted(p.name for p in (tmp_path / CHUNK_DIR).glob("chunk_*.nc")) == [
        "chunk_00000000_00000002.nc", "chunk_00000002_00000005.nc", "chunk_00000005_00000006.nc"]
    assert first.stat().st_mtime_ns == written


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 60), size=st.integers(1, 20),
       old=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 20)), max_size=8))
def test_resumed_chunks_hold_every_patient_exactly_once(n, size, old):
    complete = [(start, start + length) for start, length in old]
    bounds, kept = cover_patients(complete, n, size)
    held = [i for start, stop in bounds for i in range(start, stop)]
    assert held == list(range(n))
    assert kept <= set(complete) and kept <= set(bounds)
    assert all(stop - start <= size for start, stop in set(bounds) - kept)


def test_a_refused_resume_names_the_field_that_differs(tmp_path: Path):
    run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2, max_new_chunks=0)
    assert (tmp_path / MANIFEST_FILE).exists()
    with pytest.raises(InputError, match=r"^--out: .*different run: its seed differs"):
        run_trial(carhart2021(), n_patients=4, seed=2, out=tmp_path, backend="sync", chunk_size=2)


@pytest.fixture(scope="module")
def small_run():
    return run_trial(carhart2021(), n_patients=6, seed=2, backend="sync", chunk_size=6)


def test_arm_index_has_units(small_run):
    assert small_run["arm_index"].attrs["units"] == "1"


def test_no_negative_zero_in_the_scores(monkeypatch):
    """A rating rounded from a tiny negative is -0.0 (it printed as "-0"): the chunk writes 0.0."""
    import dataclasses

    import psilosim.clinical.trial as trial

    simulate_patient = trial.simulate_patient

    def rated_minus_zero(*args, **kwargs):
        outcome = simulate_patient(*args, **kwargs)
        visits, course = outcome.visits.copy(), outcome.course.copy()
        score = trial.MEASURES.index("score")
        visits[1:, score] = course[1:, 0] = np.rint(-0.3)
        assert np.signbit(visits[1:, score]).all() and np.signbit(course[1:, 0]).all()  # really -0.0
        return dataclasses.replace(outcome, visits=visits, course=course)

    monkeypatch.setattr(trial, "simulate_patient", rated_minus_zero)
    ds = simulate_chunk(carhart2021(), 2021, 0, 2)
    assert (ds["outcome"].sel(measure="score").values[:, 1:] == 0).all()
    for name in ("outcome", "course"):
        values = ds[name].values
        assert not np.any((values == 0) & np.signbit(values)), name


# ------------------------------------------------------------------ 6. documented defaults
def _documented_defaults() -> dict[str, str]:
    """``block.field -> default`` from the tables of the section "Scenario file fields"."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Scenario file fields", 1)[1].split("\n## ", 1)[0]
    found, block = {}, None
    for line in section.splitlines():
        heading = re.match(r"^### .*`(\w+)`", line)
        if heading:
            block = heading.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if block and len(cells) >= 4 and cells[0].startswith("`"):
            found[f"{block}.{cells[0].strip('`')}"] = cells[3]
    return found


MODELS = {"design": TrialDesign, "arms": ArmSpec, "treatments": TreatmentSpec, "regimen": Regimen,
          "phases": Phase, "baseline": BaselineSeverity, "imaging": ImagingSpec}


def _shown(value) -> str:
    """A default as the docs write it (YAML spelling)."""
    value = getattr(value, "value", value)  # an enum shows its value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value or '""'
    return {"{}": "{}", "[]": "[]"}.get(str(value), str(value))


def test_documented_defaults_equal_the_models_defaults():
    documented = _documented_defaults()
    assert {key.split(".")[0] for key in documented} == set(MODELS)
    for block, model in MODELS.items():  # every field is documented, none invented
        assert {k.split(".")[1] for k in documented if k.startswith(f"{block}.")} == set(model.model_fields), block
    for key, text in documented.items():
        block, name = key.split(".")
        field = MODELS[block].model_fields[name]
        if field.is_required():
            assert text == "required", key
        else:
            assert text.startswith("`") and text.split("`")[1] == _shown(field.get_default(call_default_factory=True)), key


def test_a_compound_file_with_a_duplicate_key_is_refused(tmp_path):
    """Compound files are user YAML too (``load_compound_file`` is public): a repeated key is refused."""
    from psilosim.compounds import get_compound, load_compound_file

    source = resources.files("psilosim.compounds") / "library" / "psilocybin.yaml"
    text = source.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line and not line.startswith((" ", "#")))
    path = tmp_path / "twice.yaml"
    path.write_text(text + "\n" + first + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="given twice"):
        load_compound_file(path)
    assert load_compound_file(source).name == get_compound("psilocybin").name
