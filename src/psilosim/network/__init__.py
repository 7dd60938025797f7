"""Whole-brain network models (DMF, Hopf), Balloon–Windkessel BOLD, scan sessions and fitting."""
