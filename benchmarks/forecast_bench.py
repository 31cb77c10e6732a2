"""Benchmark: the production projection core on a SYNTHETIC case of 3,000 areas x ages 0-17 x
15 years x 1,000 Monte Carlo draws.

Times :func:`forecasting.joint.project_joint`, the joint children + women yearly loop that
:func:`forecasting.population.project_population` runs (cohort step for women and children,
births from women, urbanisation transfers to county seats and central towns, per-draw TFR,
migration and urbanisation paths, yearly P10/P50/P90 per area and age group). All inputs are
SYNTHETIC random arrays (no region data), shaped as production builds them: draw 0 central plus
``--draws`` Monte Carlo draws, age groups of the grade bands. Production runs float64 (the
default); ``--dtype float32`` halves the memory. Prints wall time and peak memory (ru_maxrss).

    .venv/bin/python benchmarks/forecast_bench.py [--areas 3000 --draws 1000 --years 15]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from forecasting import uncertainty
from forecasting.joint import JointRegion, age_group_membership, project_joint
from schoolsystem.vocabulary import BAND_AGE_GROUPS, CHILD_AGES, WOMEN_AGES

AREAS_PER_COUNTY = 30


def synthetic_case(n: int, d: int, t: int, dtype: np.dtype, seed: int = 0) -> dict[str, object]:
    """SYNTHETIC inputs of :func:`project_joint`: ``n`` areas, ``d`` draws, ``t`` years."""
    rng = np.random.default_rng(seed)
    n_county = max(n // AREAS_PER_COUNTY, 1)
    area_county = np.arange(n) % n_county
    membership = np.zeros((n, n_county))
    membership[np.arange(n), area_county] = 1.0
    first = np.arange(n) < n_county  # first area of each county: the county seat (receiver)
    weights = np.where(first, 1.0, 0.0)
    tfr = np.concatenate([np.ones((t, 1)), uncertainty.tfr_draws(rng, np.ones(t), d, 0.03)], 1)
    rates = np.concatenate([np.full((1, n_county), -0.01),
                            uncertainty.rate_draws(rng, np.full(n_county, -0.01), d, 0.003)])
    target = np.concatenate([[0.7], uncertainty.target_draws(rng, 0.7, d, 0.05)])
    u0 = rng.uniform(0.3, 0.5, n_county)
    steps = np.linspace(0.0, 1.0, t + 1)
    urban = u0[None, :, None] + (target[:, None, None] - u0[None, :, None]) * steps * 0.5
    return {
        "children": rng.uniform(5, 60, (n, len(CHILD_AGES))).astype(dtype),
        "women": rng.uniform(20, 120, (n, len(WOMEN_AGES))).astype(dtype),
        "tfr": tfr, "rates": rates, "urban": urban,
        "region": JointRegion(area_county=area_county, membership=membership, sender=~first,
                              weights=weights, fertility_scale=rng.uniform(0.04, 0.07, n_county)),
        "group_member": age_group_membership(BAND_AGE_GROUPS),
        "factors": np.ones(t + 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--areas", type=int, default=3000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--dtype", default="float64")
    args = ap.parse_args()
    dtype = np.dtype(args.dtype)
    n, d, t = args.areas, args.draws, args.years

    c0 = time.process_time()
    t0 = time.perf_counter()
    case = synthetic_case(n, d, t, dtype)
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    out = project_joint(**case)
    run = time.perf_counter() - t1
    cpu = time.process_time() - c0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    q = out.group_quantiles
    assert q is not None
    assert q.shape == (t, 3, n, len(BAND_AGE_GROUPS))
    assert (q[:, 0] <= q[:, 1]).all()
    assert (q[:, 1] <= q[:, 2]).all()
    print(f"SYNTHETIC case: areas={n} ages=0-17 (+ women 15-49) years={t} draws={d} dtype={dtype}")
    print(f"setup {setup:.2f} s, forecasting.joint.project_joint {run:.2f} s, "
          f"total {setup + run:.2f} s")
    print(f"CPU time of this process {cpu:.2f} s (wall time is larger when the cores are shared)")
    print(f"peak memory (ru_maxrss) {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
