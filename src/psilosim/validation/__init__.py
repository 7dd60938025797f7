"""Literature targets (REFERENCES.md) and the scorecard that runs the model against them."""

from .registry import TargetResult, check, load_checks, run_scorecard
from .targets import TARGETS, TARGETS_BY_ID, Target

__all__ = ["TARGETS", "TARGETS_BY_ID", "Target", "TargetResult", "check", "load_checks", "run_scorecard"]
