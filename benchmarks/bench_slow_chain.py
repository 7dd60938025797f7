"""Time one call of the slow chain (doses → spines) per patient: ``python benchmarks/bench_slow_chain.py [--json]``.

The virtual-trial layer calls :func:`psilosim.synapses.simulate_slow_chain` once per patient, so
its cost per 6-week regimen bounds a 1000-patient trial.
"""

from __future__ import annotations

import json
import sys
import time

from psilosim.regimen import Regimen
from psilosim.synapses import simulate_slow_chain

CASES = {
    "psilocybin_2x25mg_6wk": ([("psilocybin", Regimen.repeated("25 mg", every="3 weeks", count=2))], "human"),
    "escitalopram_daily_6wk": ([("escitalopram", Regimen.daily("10 mg", duration="6 weeks"))], "human"),
    "mouse_psilocybin_34d": ([("psilocybin", Regimen.single("1 mg/kg", route="ip"))], "mouse"),
}


def main() -> dict:
    out = {}
    for name, (treatments, species) in CASES.items():
        simulate_slow_chain(treatments, species=species, days=42)  # JIT warm-up
        n = 20
        start = time.perf_counter()
        for _ in range(n):
            simulate_slow_chain(treatments, species=species, days=42)
        out[f"{name}_ms"] = 1000 * (time.perf_counter() - start) / n
    return out


if __name__ == "__main__":
    result = main()
    print(json.dumps(result) if "--json" in sys.argv else "\n".join(f"{k}: {v:.1f}" for k, v in result.items()))
