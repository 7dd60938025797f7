"""``psilosim spines`` and ``window`` check a user's dose once, under ``--dose``, and their
simulations skip the library's repeat of it (``simulate_slow_chain``/``acute_drive`` with
``check_doses=False``) instead of silencing its warning."""

from __future__ import annotations

import json
import warnings

import pytest

from cli_helpers import run_cli


@pytest.fixture
def counted_checks(monkeypatch):
    import psilosim.pharmacokinetics.dose_guard as dose_guard

    fields: list[str | None] = []
    original = dose_guard.check_studied_dose

    def counting(*args, **kwargs):
        fields.append(kwargs.get("field"))
        return original(*args, **kwargs)

    monkeypatch.setattr(dose_guard, "check_studied_dose", counting)
    return fields


@pytest.mark.parametrize("command", [["spines", "--days", "2"], ["window"]])
def test_a_dose_above_the_studied_one_is_checked_and_said_once(monkeypatch, capsys, counted_checks, command):
    code, out, err = run_cli(monkeypatch, capsys, *command, "--species", "human", "--compound", "psilocybin",
                             "--dose", "40 mg", "--json")
    assert code == 0, err
    assert counted_checks == ["--dose"]  # the simulation did not check again
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: --dose") and "30 mg" in lines[0]
    assert json.loads(out)["dose"] == "40 mg"


def test_the_library_still_checks_when_called_directly():
    from psilosim.errors import ExtrapolationWarning
    from psilosim.regimen import Regimen
    from psilosim.synapses import simulate_slow_chain

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        simulate_slow_chain([("psilocybin", Regimen.single("40 mg", route="oral"))], species="human", days=1.0)
    assert sum(issubclass(w.category, ExtrapolationWarning) for w in caught) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        simulate_slow_chain([("psilocybin", Regimen.single("40 mg", route="oral"))], species="human", days=1.0,
                            check_doses=False)
    assert not any(issubclass(w.category, ExtrapolationWarning) for w in caught)
