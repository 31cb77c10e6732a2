"""Compare layout.core with PySAL spopt PMedian (PuLP + HiGHS, PuLP + CBC) on p-median instances.

Synthetic instances (labelled synthetic): uniform random points in the unit square, integer
demand weights 1..9, Euclidean distances; cost = weight x distance. Fixed seed.

Usage::

    .venv/bin/python benchmarks/vs_spopt.py [--time-limit 60] [--spopt-time-limit 600]
        [--sizes 500x100x10,2000x300x40] [--threads N] [--skip-cbc] [--skip-spopt]

The layout.core row gives its objective, lower bound, whether it is proven optimal, proven gap,
wall and CPU time; each spopt row gives its objective, wall time, the objective ratio
spopt / layout.core and the time ratio spopt / layout.core (one process: same instance, same run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layout.core import FacilityLocation


def instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand_pts, sites = rng.random((n, 2)), rng.random((m, 2))
    weights = rng.integers(1, 10, size=n)
    dist = np.linalg.norm(demand_pts[:, None, :] - sites[None, :, :], axis=2)
    return dist, weights


def run_spopt(dist: np.ndarray, weights: np.ndarray, p: int, which: str, limit: float):
    import pulp
    from spopt.locate import PMedian

    solver = (pulp.HiGHS(msg=False, timeLimit=limit, threads=1) if which == "highs"
              else pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=1))
    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(dist, weights, p_facilities=p)  # spopt weighs dist itself
    try:
        model.solve(solver)
    except RuntimeError as exc:  # spopt raises when the solver returns no plan (time limit)
        return float("nan"), time.perf_counter() - t0, f"no plan ({exc})"
    elapsed = time.perf_counter() - t0
    # PuLP labels a time-limited HiGHS run with a plan "Optimal"; compare objectives instead.
    return pulp.value(model.problem.objective), elapsed, pulp.LpStatus[model.problem.status]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0, help="layout.core seconds")
    ap.add_argument("--spopt-time-limit", type=float, default=600.0, help="spopt solver seconds")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--sizes", default="500x100x10,2000x300x40")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-cbc", action="store_true")
    args = ap.parse_args(argv)
    print("SYNTHETIC p-median instances (uniform points, integer weights), seed", args.seed)
    print(f"{'instance':16} {'method':26} {'objective':>14} {'time s':>8} {'obj ratio':>9} "
          f"{'time ratio':>10} status")
    for spec in args.sizes.split(","):
        n, m, p = (int(v) for v in spec.split("x"))
        dist, weights = instance(n, m, args.seed)
        name = f"{n}x{m} p={p}"
        core = FacilityLocation.from_cost_matrix(dist * weights[:, None], weights, p=p)
        cpu0 = time.process_time()
        core.solve(time_limit=args.time_limit, threads=args.threads, seed=args.seed)
        cpu = time.process_time() - cpu0
        label = f"layout.core/{core.solver}/{core.threads}"
        proven = "proven optimal" if core.status == "optimal" else "NOT proven"
        print(f"{name:16} {label:26} {core.objective:14.4f} {core.wall_time:8.2f} {1:9.5f} "
              f"{1:10.1f} {core.status} ({proven}, bound {core.bound:.4f}, gap {core.gap:.2e}, "
              f"cpu {cpu:.2f} s, {core.method}, {core.rounds} rounds, {core.pairs_used} rows/pairs "
              f"of {n * m} pairs)", flush=True)
        if args.skip_spopt:
            continue
        for which in ("highs", "cbc"):
            if which == "cbc" and args.skip_cbc:
                continue
            obj, elapsed, status = run_spopt(dist, weights, p, which, args.spopt_time_limit)
            print(f"{name:16} {'spopt/pulp-' + which + '/1':26} {obj:14.4f} {elapsed:8.2f} "
                  f"{obj / core.objective:9.5f} {elapsed / core.wall_time:10.1f} {status}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
