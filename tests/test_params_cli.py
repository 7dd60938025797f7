"""Parameter provenance a user can see: ``psilosim params``, the package's own discovery of every
parameter set, the docs' index of all of them, and no physical number left inside a function body
(the BOLD k1 coefficient, the CL1 week-6 day, the acceptance thresholds of the checks)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

import _conformance_components as conformance
import psilosim
from psilosim.cli import app
from psilosim.errors import InputError
from psilosim.parameters import all_parameter_sets, parameter_rows

SRC = Path(psilosim.__file__).resolve().parent
DOCS = Path(__file__).resolve().parents[1] / "docs"  # the checkout's (CI installs the package non-editable)
#: Sets the U5 provenance review found in no docs parameter table.
ONCE_UNDOCUMENTED = ("compound:LSD", "compound:MDMA", "compound:ibogaine", "metrics.params.DEFAULT_METRICS",
                     "binding.params.ACUTE_RESOLUTION", "pharmacokinetics.dose_guard.DOSE_GUARD_PARAMS",
                     "clinical.calibration.TARGETS", "network.acute.CURRENT", "metrics.networks.SEED_MATCH")


@pytest.fixture(scope="module")
def sets():
    return all_parameter_sets()


def _invoke(*args: str):
    return CliRunner().invoke(app, ["params", *args])


def _json_rows(*args: str) -> list[dict]:
    result = _invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["parameters"]


# ----------------------------------------------------------------------------- discovery
def test_the_conformance_suite_checks_exactly_the_sets_the_package_lists():
    assert conformance.discover_parameter_sets is all_parameter_sets


def test_discovery_names_sets_by_module_path_compound_and_species(sets):
    assert {"network.bold.BALLOON", "compound:LSD", "plasticity:mouse", "spines:human",
            "pharmacokinetics.subject.SUBJECT_WEIGHT_LIMITS['human']"} <= set(sets)
    assert list(sets) == sorted(sets)
    assert len({id(s) for s in sets.values()}) == len(sets)


# ----------------------------------------------------------------------------- CLI
def test_params_json_lists_every_parameter_of_every_set_with_its_provenance(sets):
    rows = _json_rows()
    assert len(rows) == sum(len(s.params()) for s in sets.values())
    assert {r["set"] for r in rows} == set(sets)
    assert all(set(r) == {"set", "field", "value", "unit", "kind", "source", "note"} for r in rows)
    efficacy = next(r for r in rows if r["set"] == "network.bold.BALLOON" and r["field"] == "efficacy")
    assert efficacy["value"] == sets["network.bold.BALLOON"].efficacy.value
    assert efficacy["source"] == sets["network.bold.BALLOON"].efficacy.source


def test_params_selects_by_full_or_short_set_name_prefix_and_dotted_parameter(sets):
    assert {r["set"] for r in _json_rows("compound:")} == {n for n in sets if n.startswith("compound:")}
    assert {r["field"] for r in _json_rows("BALLOON")} == set(sets["network.bold.BALLOON"].params())
    one = _json_rows("BALLOON.efficacy")
    assert [(r["set"], r["field"]) for r in one] == [("network.bold.BALLOON", "efficacy")]
    # case-insensitive, and several names add up
    both = _json_rows("compound:lsd", "network.hopf.params.HOPF")
    assert {r["set"] for r in both} == {"compound:LSD", "network.hopf.params.HOPF"}


def test_params_table_shows_the_columns_of_a_provenance_listing():
    result = _invoke("network.hopf.params.HOPF")
    assert result.exit_code == 0, result.output
    for column in ("set", "field", "value", "unit", "kind", "source", "note"):
        assert column in result.stdout
    assert "drug_shift" in result.stdout


def test_unknown_name_is_an_input_error_with_a_suggestion():
    result = _invoke("BALOON")
    assert isinstance(result.exception, InputError)
    assert result.exception.field == "NAME"
    assert "BALLOON" in result.exception.problem


def test_parameter_rows_follow_each_sets_table(sets):
    chosen = {"network.bold.BALLOON": sets["network.bold.BALLOON"]}
    assert [r["field"] for r in parameter_rows(chosen)] == [r["name"] for r in chosen["network.bold.BALLOON"].table()]


# ----------------------------------------------------------------------------- docs
def _generated(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split(f"<!-- BEGIN generated: {name} -->")[1].split(f"<!-- END generated: {name} -->")[0]


def test_docs_index_every_parameter_set_with_a_table_somewhere(sets):
    index = _generated(DOCS / "validation.md", "all-parameters")
    listed = set(re.findall(r"^\| `([^`]+)` \|", index, re.M))
    assert set(sets) <= listed, sorted(set(sets) - listed)
    assert set(ONCE_UNDOCUMENTED) <= listed


# ----------------------------------------------------------------------------- literals → Params
def test_bold_k1_coefficient_is_a_cited_parameter():
    from psilosim.network.bold import BALLOON, K1, balloon_constants

    p = BALLOON.k1_coefficient
    assert p.value == pytest.approx(4.3) and "Obata" in p.source and p.kind == "published"
    doubled = balloon_constants(p=BALLOON.replace(k1_coefficient=2 * p.value))
    assert doubled[K1] == pytest.approx(2 * balloon_constants()[K1])
    # at 1.5 T with TE 40 ms: 4.3 × 40.3/s × 0.4 × 0.04 s
    assert balloon_constants()[K1] == pytest.approx(4.3 * 40.3 * 0.4 * 0.04)


class _RecordingCohort:
    """Stands in for a TwinCohort: records the days its change is read at."""

    def __init__(self, primary_day: float):
        self.design = SimpleNamespace(primary_day=primary_day)
        self.days: list[float] = []

    def rerun(self, arms=None, plasticity=None) -> None:
        pass

    def change(self, day, models=None):
        self.days.append(day)
        return {"escitalopram": np.array([-6.0]), "psilocybin": np.array([-8.0])}


def test_ssri_gain_fit_reads_the_designs_primary_day_not_a_hard_coded_week_6():
    from psilosim.clinical import calibration
    from psilosim.plasticity import plasticity_params

    cohort = _RecordingCohort(primary_day=35.0)
    calibration._fit_ssri_gain(cohort, calibration.DEFAULT_MODELS, plasticity_params("human"), clip=True)
    assert cohort.days and set(cohort.days) == {35.0}


def test_uncertainty_refit_reads_the_designs_primary_day(monkeypatch):
    from psilosim.clinical import uncertainty

    monkeypatch.setattr(uncertainty, "fit_cohorts", lambda *a, **k: (
        SimpleNamespace(symptoms=SimpleNamespace(weight_circuit=SimpleNamespace(value=0.1))),
        SimpleNamespace(gain_ssri_transcription=SimpleNamespace(value=0.1))))
    monkeypatch.setattr(uncertainty, "effect_size_day1", lambda *a, **k: -1.0)
    cohorts = {"ketamine_iv": _RecordingCohort(1.0), "carhart2021": _RecordingCohort(35.0)}
    uncertainty._refit_and_predict(cohorts, None, -1.0, -6.0, [])
    assert cohorts["carhart2021"].days == [35.0]


def _threshold_literals(path: Path) -> list[str]:
    """Numbers compared against inside the functions of a checks module (other than 0 and 1):
    an acceptance threshold belongs in the module's CHECKS set, with its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def operands(node):
        if isinstance(node, ast.BinOp):
            return operands(node.left) + operands(node.right)
        if isinstance(node, ast.UnaryOp):
            return operands(node.operand)
        return [node]

    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(fn):
            values = []
            if isinstance(node, ast.Compare):
                values = [o for side in (node.left, *node.comparators) for o in operands(side)]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "isclose":
                values = [kw.value for kw in node.keywords]
            found += [f"{path.name}:{node.lineno} {fn.name}: {v.value!r}" for v in values
                      if isinstance(v, ast.Constant) and type(v.value) in (int, float) and v.value not in (0, 1)]
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in (SRC / "validation").glob("checks_*.py")))
def test_acceptance_thresholds_of_the_checks_are_cited_parameters(module):
    assert not _threshold_literals(SRC / "validation" / module)


def test_check_thresholds_are_params_with_sources():
    from psilosim.validation import checks_clinical, checks_pharmacology, checks_synapses

    for module in (checks_pharmacology, checks_synapses, checks_clinical):
        params = module.CHECKS.params()
        assert params and all(p.source.strip() and (p.kind != "assumed" or p.note) for p in params.values())
    assert checks_pharmacology.CHECKS.rb8_max_blunted_fraction.value == 0.75
    assert checks_synapses.CHECKS.sp5_max_density_after_stress.value == 0.95
    assert checks_clinical.CHECKS.cl2_max_early_fraction.value == 0.5


# ----------------------------------------------------------------------------- 80 columns (U7 #4)
def _render(monkeypatch, *args: str, width: int = 80) -> list[str]:
    """``psilosim params ARGS`` as a terminal ``width`` columns wide shows it, line by line."""
    import io

    from rich.console import Console

    from psilosim.cli import params as params_cli

    out = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    monkeypatch.setattr(params_cli, "console", out)
    result = CliRunner().invoke(app, ["params", *args], terminal_width=width)
    assert result.exit_code == 0, result.output
    return out.file.getvalue().splitlines()


def _whole_on_a_line(name: str, lines: list[str]) -> bool:
    return any(re.search(rf"(^|\s){re.escape(name)}(\s|$)", line) for line in lines)


def test_one_set_at_80_columns_has_its_name_whole_and_one_line_per_parameter(monkeypatch, sets):
    lines = _render(monkeypatch, "BALLOON")
    assert max(map(len, lines)) <= 80
    assert _whole_on_a_line("network.bold.BALLOON", lines)
    # heading, column names, rule, one line per parameter, blank, totals and the disclaimer
    assert len(lines) <= len(sets["network.bold.BALLOON"].params()) + 10  # 169 lines before
    for field in sets["network.bold.BALLOON"].params():
        assert _whole_on_a_line(field, lines), field
    assert "Obata" in "\n".join(lines)  # the source, cut short but there


def test_a_compound_at_80_columns_is_grouped_by_the_path_its_file_uses(monkeypatch, sets):
    lines = _render(monkeypatch, "compound:psilocybin")
    assert max(map(len, lines)) <= 80
    groups = [line for line in lines if line.startswith("compound:psilocybin")]
    assert "compound:psilocybin species.human.sets.holze2023" in groups
    n = len(sets["compound:psilocybin"].params())
    assert len(lines) <= n + 4 * len(groups) + 6


def test_notes_only_on_wide_terminals_or_when_asked(monkeypatch, sets):
    note = sets["network.bold.BALLOON"].efficacy.note
    words = note.split()[:3]
    assert " ".join(words) not in "\n".join(_render(monkeypatch, "BALLOON"))
    assert " ".join(words) in " ".join(" ".join(_render(monkeypatch, "BALLOON", "--notes")).split())
    assert " ".join(words) in " ".join(" ".join(_render(monkeypatch, "BALLOON", width=160)).split())


def test_no_name_prints_one_entry_per_set_and_says_how_to_list_one(monkeypatch, sets):
    from psilosim.cli import params

    monkeypatch.setattr(params, "DOCS_INDEX_FILE", DOCS / "validation.md")  # wherever the package is installed
    lines = _render(monkeypatch)
    text = "\n".join(lines)
    assert max(map(len, lines)) <= 80
    for name in sets:
        assert _whole_on_a_line(name, lines), name
    assert len(lines) <= 3 * len(sets)  # 7,577 lines before
    assert "psilosim params NAME" in text and "--all" in text
    ballon = next(line for line in lines if "network.bold.BALLOON" in line)
    assert "network.md" in ballon and " 12 " in ballon


def test_all_prints_every_set_under_its_own_heading(monkeypatch, sets):
    lines = _render(monkeypatch, "--all")
    assert max(map(len, lines)) <= 80
    headings = {line.split()[0] for line in lines if line and line.split()[0] in sets}
    assert headings == set(sets)


# ----------------------------------------------------------------------------- one naming (U7 #5)
def _recorded_sets() -> dict[str, dict]:
    """The parameter sets a run's and a trial's provenance.json record, by their keys there."""
    from psilosim.clinical.identity import DEFAULT_MODELS
    from psilosim.network.dmf import params as dmf
    from psilosim.network.hopf import params as hopf
    from psilosim.scenario import load_scenario, parameter_values

    return {**parameter_values(load_scenario()), **DEFAULT_MODELS.parameter_sets(),
            "network.hopf": hopf.HOPF.model_dump(mode="json"), "network.dmf": dmf.DMF.model_dump(mode="json"),
            "network.dmf_fitted_g": dmf.FITTED_G.model_dump(mode="json")}


def test_params_accepts_every_key_provenance_json_uses(sets):
    recorded = _recorded_sets()
    assert {"compound.psilocybin", "binding.effect", "interactions", "biology", "plasticity.human"} <= set(recorded)
    for key, values in recorded.items():
        chosen = {r["set"] for r in _json_rows(key)}
        assert len(chosen) == 1, (key, chosen)
        assert sets[chosen.pop()].model_dump(mode="json") == values, key


@pytest.mark.parametrize(("typed", "suggested"), [
    ("psilocibin", "compound:psilocybin"), ("biologie", "clinical.biology.DEFAULT_BIOLOGY"),
    ("interaction", None), ("BALOON.efficacy", "network.bold.BALLOON"), ("compund:LSD", "compound:LSD")])
def test_names_work_or_are_suggested_by_last_part_and_compound_name(typed, suggested):
    result = _invoke(typed, "--json")
    if suggested is None:
        assert result.exit_code == 0
        return
    assert isinstance(result.exception, InputError)
    assert suggested in result.exception.problem


def test_a_compound_is_listed_by_its_bare_name():
    assert {r["set"] for r in _json_rows("psilocybin")} == {"compound:psilocybin"}


def _at(data, path: str):
    for part in path.split("."):
        data = data[part]
    return data


def test_compound_parameters_are_named_by_the_path_a_compound_file_uses(sets):
    for row in (r for r in _json_rows("compound:") if r["set"].startswith("compound:")):
        entry = _at(sets[row["set"]].model_dump(mode="json"), row["field"])
        assert entry["value"] == row["value"], row
    assert "species.human.sets.holze2023.clearance" in {r["field"] for r in _json_rows("compound:psilocybin")}


def test_compound_names_match_the_load_errors(tmp_path):
    from psilosim.compounds import load_compound_file

    text = (SRC / "compounds" / "library" / "psilocybin.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "psi.yaml"
    bad.write_text(text.replace("clearance: {value: 116.2, unit: L/h", "clearance: {value: 116.2, unit: mg"),
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_compound_file(bad)
    fields = {r["field"] for r in _json_rows("compound:psilocybin")}
    assert any(err.value.field.endswith("." + f) for f in fields), err.value.field


def test_without_the_docs_the_summary_says_so_instead_of_guessing(monkeypatch, tmp_path, sets):
    from psilosim.cli import params

    monkeypatch.setattr(params, "DOCS_INDEX_FILE", tmp_path / "nowhere.md")  # a pip install: no docs
    ballon = next(line for line in _render(monkeypatch) if "network.bold.BALLOON" in line)
    assert "—" in ballon and ".md" not in ballon
