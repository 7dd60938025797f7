"""Benchmark: the carhart2021 virtual trial on Dask threads and on a 2-worker LocalCluster.

    python benchmarks/bench_trial.py [--patients N] [--chunk-size C] --json

prints at least ``{"patients", "threads_s", "local_cluster_s"}`` (wall seconds for the whole run,
including chunk files, gathering and results.nc; cluster start-up included). Goal: 1000 patients
in under 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from psilosim.clinical.presets import carhart2021
from psilosim.clinical.trial import run_trial


def _timed(**kwargs) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_trial(carhart2021(), out=out, **kwargs)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    common = dict(n_patients=args.patients, seed=args.seed, chunk_size=args.chunk_size)
    threads_s = _timed(backend="threads", **common)
    cluster_s = _timed(workers=2, **common)
    result = {"patients": args.patients, "chunk_size": args.chunk_size, "threads_s": threads_s,
              "local_cluster_s": cluster_s, "ms_per_patient_threads": 1e3 * threads_s / args.patients,
              "ms_per_patient_local_cluster": 1e3 * cluster_s / args.patients,
              "cores": os.cpu_count(), "machine": platform.platform(), "goal_s": 600.0,
              "goal_met": max(threads_s, cluster_s) < 600.0}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
