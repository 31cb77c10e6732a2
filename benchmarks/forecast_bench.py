"""Benchmark: cohort engine, 3,000 areas x ages 0-17 x 15 years x 1,000 Monte Carlo draws.

Runs the array core (forecasting.cohort.iter_project) with a leading draws axis in float32, with
per-draw births and migration rates, reducing every year to P10/P50/P90 of five age groups per
area (so the full 4-D cube is never held). Prints wall time and peak memory (ru_maxrss).

    .venv/bin/python benchmarks/forecast_bench.py [--areas 3000 --draws 1000 --years 15]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from forecasting.cohort import iter_project
from forecasting.lifetable import birth_survival, survival
from forecasting.uncertainty import quantiles

GROUPS = [(0, 3), (3, 6), (6, 12), (12, 15), (15, 18)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--areas", type=int, default=3000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    n, d, t = args.areas, args.draws, args.years

    c0 = time.process_time()
    t0 = time.perf_counter()
    base_area = rng.uniform(5, 60, (n, 18)).astype(dtype)
    base = np.broadcast_to(base_area, (d, n, 18))  # read-only view: no copy needed
    births_mean = rng.uniform(5, 40, n).astype(dtype)
    tfr_noise = np.exp(np.cumsum(0.03 * rng.standard_normal((t, d)), axis=0)).astype(dtype)
    births = births_mean[None, None, :] * tfr_noise[:, :, None]  # (years, draws, areas)
    rate = (-0.01 + 0.003 * rng.standard_normal((d, 1, 1))).astype(dtype)
    rates = (rate * np.linspace(0.6, 1.8, 18, dtype=dtype))[None]  # (1, draws, 1, ages)
    surv = survival(17).to_numpy().astype(dtype)
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    out = np.empty((t, 3, n, len(GROUPS)), dtype=dtype)
    member = np.zeros((18, len(GROUPS)), dtype=dtype)  # age -> age group (one-hot)
    for g, (a, b) in enumerate(GROUPS):
        member[a:b, g] = 1.0
    for k, pop, _ in iter_project(base, births, surv, birth_survival(), rates, open_top=False,
                                  reuse_buffers=True):
        grouped = pop @ member  # (draws, areas, 5)
        out[k - 1] = quantiles(grouped)
    run = time.perf_counter() - t1
    cpu = time.process_time() - c0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    assert (out[:, 0] <= out[:, 1]).all()
    assert (out[:, 1] <= out[:, 2]).all()
    print(f"areas={n} ages=18 years={t} draws={d} dtype={dtype}")
    print(f"setup {setup:.2f} s, projection + yearly quantiles {run:.2f} s, total {setup + run:.2f} s")
    print(f"CPU time of this process {cpu:.2f} s (wall time is larger when the cores are shared)")
    print(f"peak memory (ru_maxrss) {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
