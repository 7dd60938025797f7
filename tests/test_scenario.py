"""Scenario files (schema, YAML errors, custom compounds) and atomic result folders."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from psilosim.errors import InputError
from psilosim.io import PROVENANCE_FILE, RESULTS_FILE, provenance_record, write_run
from psilosim.scenario import load_scenario, parse_scenario, simulate_scenario

MINIMAL = """
treatments:
  - compound: psilocybin
    regimen: {phases: [{dose: 25 mg}]}
"""


def test_builtin_default_is_psilocybin_25mg():
    sc = load_scenario()
    assert sc.treatments[0].resolve_compound().name == "psilocybin"
    assert sc.treatments[0].regimen.events().amount_mg.tolist() == [25.0]


@pytest.mark.parametrize("name", [p.name for p in (resources.files("psilosim") / "scenarios").iterdir()
                                  if p.name.endswith(".yaml")])
def test_every_builtin_example_validates(name):
    sc = load_scenario(str(resources.files("psilosim") / "scenarios" / name))
    assert sc.treatments


def test_minimal_scenario_gets_defaults():
    sc = parse_scenario(MINIMAL)
    assert sc.population.size == 1 and sc.simulation.method == "analytic" and sc.subject.species == "human"


def test_yaml_syntax_error_reports_its_line():
    text = "treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]\n"
    with pytest.raises(InputError, match="line 3"):
        parse_scenario(text)


@pytest.mark.parametrize("text,field", [
    (MINIMAL.replace("25 mg", "-25 mg"), "treatments.0.regimen.phases.0.dose"),
    (MINIMAL.replace("25 mg", "25 mL"), "treatments.0.regimen.phases.0.dose"),
    (MINIMAL + "subject: {wieght: 70 kg}\n", "subject.wieght"),
    (MINIMAL + "subject: {weight: 70 mL}\n", "subject.weight"),
    (MINIMAL + "population: {size: 0}\n", "population.size"),
    (MINIMAL + "simulation: {step: 0 min}\n", "simulation.step"),
    (MINIMAL + "simulation: {method: euler}\n", "simulation.method"),
    (MINIMAL + "simulation: {duration: 24 h, step: 48 h}\n", "simulation.step"),  # a one-point grid
    (MINIMAL + "simulation: {duration: 24 h, step: 5 h}\n", "simulation.step"),   # would stop at 20 h
    (MINIMAL.replace("{dose: 25 mg}", "{dose: 25 mg, start: 30 h}"), "treatments.0.regimen"),  # after the end
    (MINIMAL + "outputz: {}\n", "outputz"),
    ("seed: 1\n", "treatments"),
])
def test_every_validation_error_names_the_field(text, field):
    with pytest.raises(InputError) as info:
        parse_scenario(text)
    assert info.value.field == field


def test_unknown_compound_in_scenario_is_reported_at_parse_time():
    with pytest.raises(InputError, match="unknown compound") as info:
        parse_scenario(MINIMAL.replace("psilocybin", "nosuchdrug"))
    assert info.value.field == "treatments.0.compound"


WITH_SUBJECT = """
treatments:
  - compound: {compound}
    regimen: {{route: {route}, phases: [{{dose: {dose}}}]}}
subject: {subject}
"""


@pytest.mark.parametrize("case,field", [
    (dict(subject="{comedication: [lithium]}"), "subject.comedication"),
    (dict(subject="{interactions: {no_such_mechanism: true}}"), "subject.interactions"),
    (dict(subject="{species: dog}"), "subject.species"),
    (dict(route="iv"), "treatments.0.regimen.route"),
    (dict(subject="{parameter_sets: {psilocybin: nope}}"), "subject.parameter_sets.psilocybin"),
    (dict(compound="{name: x, based_on: psilocybin, overrides: {no_such_param: 3}}"), "treatments.0.compound.overrides.no_such_param"),
    (dict(dose="0.3 mg/kg"), "treatments.0.regimen.phases.0.dose"),
])
def test_scenario_errors_are_raised_at_parse_time_naming_the_field(case, field):
    values = {"compound": "psilocybin", "route": "oral", "dose": "25 mg", "subject": "{}", **case}
    with pytest.raises(InputError) as info:
        parse_scenario(WITH_SUBJECT.format(**values))
    assert info.value.field == field
    if field.endswith(".dose"):
        assert "--weight" not in info.value.problem and "subject.weight" in info.value.problem


def test_a_mouse_scenario_dosed_per_kg_uses_the_species_weight():
    from psilosim.species import species_defaults

    typical = "population: {variability: false}\n"
    sc = parse_scenario(WITH_SUBJECT.format(compound="psilocybin", route="ip", dose="1 mg/kg",
                                            subject="{species: mouse}") + typical)
    assert sc.subject.to_subject().weight_kg == species_defaults("mouse").body_weight.to("kg")
    explicit = parse_scenario(WITH_SUBJECT.format(compound="psilocybin", route="ip", dose="1 mg/kg",
                                                  subject="{species: mouse, weight: 25 g}") + typical)
    assert np.allclose(simulate_scenario(sc).concentration, simulate_scenario(explicit).concentration)


def test_custom_compound_from_scenario():
    text = """
treatments:
  - compound: {name: analogue, based_on: psilocybin, overrides: {hallucinogenic_efficacy: 0.02}}
    regimen: {phases: [{dose: 25 mg}]}
"""
    ds = simulate_scenario(parse_scenario(text))
    assert list(ds.compound.values) == ["analogue"]
    assert float(ds.effect.max()) < 0.01 and float(ds.occupancy.sel(target="5-HT2A_intracellular").max()) > 0.5


def test_population_is_reproducible_and_varied():
    text = MINIMAL + "seed: 5\npopulation: {size: 4, variability: true}\nsimulation: {duration: 12 h}\n"
    a, b = (simulate_scenario(parse_scenario(text)) for _ in range(2))
    assert a.sizes["subject"] == 4 and np.array_equal(a.concentration.values, b.concentration.values)
    cmax = a.concentration.max("time_h").values.ravel()
    assert np.unique(np.round(cmax, 6)).size == 4


def _dataset():
    return xr.Dataset({"x": ("time_h", np.arange(3.0))}, coords={"time_h": [0.0, 1.0, 2.0]})


def test_write_run_writes_all_files(tmp_path):
    out = write_run(tmp_path / "run", dataset=_dataset(),
                    provenance=provenance_record(scenario={"name": "t"}, seed=3, parameter_sets={"psilocybin": "holze2023"}))
    record = json.loads((out / PROVENANCE_FILE).read_text())
    assert {"psilosim_version", "created_utc", "seed", "scenario", "parameter_sets"} <= set(record)
    assert xr.open_dataset(out / RESULTS_FILE, engine="h5netcdf").x.values.tolist() == [0.0, 1.0, 2.0]


class _BrokenFigure:
    def savefig(self, *args, **kwargs):
        raise RuntimeError("disk full")


def test_failed_run_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError):
        write_run(tmp_path / "run", dataset=_dataset(), provenance={}, figures={"acute": _BrokenFigure()})
    assert list(tmp_path.iterdir()) == []


def test_failed_rerun_keeps_the_previous_complete_folder(tmp_path):
    first = write_run(tmp_path / "run", dataset=_dataset(), provenance={"seed": 1})
    with pytest.raises(RuntimeError):
        write_run(tmp_path / "run", dataset=_dataset(), provenance={"seed": 2}, figures={"a": _BrokenFigure()})
    assert json.loads((first / PROVENANCE_FILE).read_text()) == {"seed": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a psilosim output folder"):
        write_run(tmp_path / "mine", dataset=_dataset(), provenance={})
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


# ---------------------------------------------------------------- seeds
# Guards against a variable population without a seed giving the same patients every run or not
# recording the seed it drew, and against a negative seed being accepted.
def test_variable_population_without_seed_differs_and_records_its_seed(tmp_path: Path):
    from psilosim.io import PROVENANCE_FILE, provenance_record, write_run
    from psilosim.scenario import parse_scenario, simulate_scenario

    text = ("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
            "population: {size: 3, variability: true}\nsimulation: {duration: 12 h}\n")
    sc = parse_scenario(text)
    ds = simulate_scenario(sc)
    cmax = ds.concentration.max("time_h").values.reshape(3, -1)[:, 0]
    assert np.unique(np.round(cmax, 6)).size == 3
    seed = int(ds.attrs["seed"])
    assert seed >= 0
    again = simulate_scenario(sc.model_copy(update={"seed": seed}))
    np.testing.assert_array_equal(again.concentration.values, ds.concentration.values)  # the recorded seed reproduces
    # a second unseeded run draws a fresh seed and other patients (a collision has probability ~2⁻⁶³)
    fresh = simulate_scenario(sc)
    assert int(fresh.attrs["seed"]) != seed
    assert not np.array_equal(fresh.concentration.values, ds.concentration.values)
    out = write_run(tmp_path / "run", dataset=ds, provenance=provenance_record(scenario={}, seed=sc.seed,
                                                                                parameter_sets={}))
    assert json.loads((out / PROVENANCE_FILE).read_text())["seed"] == seed


def test_negative_scenario_seed_is_an_input_error():
    from psilosim.scenario import parse_scenario

    with pytest.raises(InputError) as info:
        parse_scenario("seed: -1\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n")
    assert info.value.field == "seed"


def test_a_scenario_subject_parameter_set_for_a_compound_it_does_not_simulate_is_refused():
    text = ("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
            "subject: {parameter_sets: {psilocibin: brown2017}}\n")
    with pytest.raises(InputError, match="psilocybin") as info:
        parse_scenario(text)
    assert info.value.field == "subject.parameter_sets.psilocibin"


@pytest.mark.filterwarnings("ignore::psilosim.errors.CoarseOutputStepWarning")  # the coarse reference run's
@pytest.mark.parametrize("population", ["{size: 1, variability: false}", "{size: 3, variability: true}"])
def test_one_simulation_gives_the_coarse_run_and_its_fine_summary_grid(population):
    """``run`` simulates once on the internal step and keeps every n-th sample: the same output as
    simulating on the coarse step (values to round-off, time grid and attributes exactly)."""
    import numpy as np

    from psilosim.scenario import parse_scenario, simulate_scenario, simulate_with_summary

    text = ("name: s\nseed: 3\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
            f"population: {population}\nsimulation: {{duration: 24 h, step: 2 h}}\n")
    sc = parse_scenario(text)
    ds, fine = simulate_with_summary(sc)
    coarse = simulate_scenario(sc)
    np.testing.assert_array_equal(ds["time_h"].values, coarse["time_h"].values)
    assert ds["time_h"].attrs == coarse["time_h"].attrs and ds.attrs == coarse.attrs
    for name in coarse.data_vars:
        np.testing.assert_allclose(ds[name].values, coarse[name].values, rtol=1e-9, atol=1e-12, err_msg=name)
    assert fine.sizes["time_h"] == 8 * (ds.sizes["time_h"] - 1) + 1  # 2 h in steps of 0.25 h
