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
DOCS = SRC.parents[1] / "docs"
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
    doubled = balloon_constants(BALLOON.replace(k1_coefficient=2 * p.value))
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
