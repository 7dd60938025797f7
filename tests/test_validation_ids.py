"""``psilosim validate --only``: target ids by family prefix, helpful unknown-id errors, units."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_cli
from psilosim.errors import InputError
from psilosim.validation.registry import resolve_target_ids
from psilosim.validation.targets import TARGETS, TARGETS_BY_ID


# Guards against the family id the docs use (PK1) being refused although its members exist, and
# against a prefix match that also swallows PK10/PK11 (a prefix only counts up to a dot).
def test_a_family_id_selects_its_dotted_members_only():
    assert resolve_target_ids(["PK1"]) == ["PK1.15", "PK1.25", "PK1.30"]
    assert resolve_target_ids(["PK10"]) == ["PK10.15", "PK10.25", "PK10.30", "PK10.order"]
    assert resolve_target_ids(["CL3", "PK2"]) == ["PK2", "CL3"]  # REFERENCES order, exact ids kept


def test_exact_and_family_ids_do_not_duplicate():
    assert resolve_target_ids(["NW1", "NW1.dmn"]) == ["NW1.ratio", "NW1.dmn"]


@pytest.mark.parametrize("given,suggested", [("PK7", "PK1"), ("pk1.15", "PK1.15"), ("CL9", "CL1")])
def test_an_unknown_id_lists_the_closest_valid_ones(given, suggested):
    with pytest.raises(InputError) as info:
        resolve_target_ids([given])
    message = str(info.value)
    assert info.value.field == "--only" and given in message and suggested in message
    assert "\n" not in message


def test_cli_only_family_runs_its_members(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "validate", "--only", "PK1", "--json")
    assert code == 0
    assert [t["id"] for t in json.loads(out)["targets"]] == ["PK1.15", "PK1.25", "PK1.30"]


def test_cli_unknown_id_is_one_line_listing_valid_ids(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--only", "PK7")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "PK1" in err


# Guards against scorecard rows with a number and no unit (CL3 showed an empty unit column).
def test_every_numeric_target_has_a_unit():
    missing = [t.id for t in TARGETS if not t.qualitative and not t.unit]
    assert missing == []
    assert "QIDS" in TARGETS_BY_ID["CL3"].unit
    for key in ("CL1.psilocybin", "CL1.escitalopram", "CL1.difference"):
        assert "QIDS-SR-16" in TARGETS_BY_ID[key].unit
