"""PK solver speed: analytic superposition vs the ODE method (LSODA), same regimens, same run.

``python benchmarks/bench_pk.py [--json]`` prints wall times for a 6-week daily escitalopram
regimen at 15-minute resolution (both methods) and for 1000 virtual patients on 6 months of daily
dosing with the analytic method.
"""

from __future__ import annotations

import json
import sys
import time

from psilosim.pharmacokinetics import simulate_pk
from psilosim.regimen import Regimen

SIX_WEEKS_H = 42 * 24
SIX_MONTHS_H = 182 * 24
PATIENTS = 1000


def _time(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> dict:
    six_weeks = Regimen.daily("10 mg", duration="6 weeks")
    analytic = _time(lambda: simulate_pk("escitalopram", six_weeks, t_end_h=SIX_WEEKS_H, method="analytic"))
    ode = _time(lambda: simulate_pk("escitalopram", six_weeks, t_end_h=SIX_WEEKS_H, method="ode"))
    six_months = Regimen.daily("10 mg", duration="26 weeks")
    t0 = time.perf_counter()
    for seed in range(PATIENTS):
        simulate_pk("escitalopram", six_months, t_end_h=SIX_MONTHS_H, seed=seed)
    cohort = time.perf_counter() - t0
    return {"six_weeks_analytic_s": analytic, "six_weeks_ode_s": ode, "ratio_ode_over_analytic": ode / analytic,
            "cohort_1000x6months_analytic_s": cohort}


if __name__ == "__main__":
    result = main()
    print(json.dumps(result) if "--json" in sys.argv else "\n".join(f"{k}: {v:.4g}" for k, v in result.items()))
