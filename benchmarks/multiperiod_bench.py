"""Build and solve a random multi-period facility-location instance of realistic size.

Usage: python benchmarks/multiperiod_bench.py [--rows 800] [--facilities 120] [--candidates 8]
[--periods 4] [--split] [--time-limit 60] [--gap 1e-4] [--seed 0] [--no-hint]

Rows are villages in a 100 x 100 km square with 20-80 students each and a local trend (-30 % to
+40 % over the horizon); two thirds of the facilities are existing schools, the rest candidate
sites; each row may use its ``--candidates`` nearest facilities. Periods stand for 5 years
(``period_weight``); costs: 1 per student-km-year of travel, running cost per school-year,
closure, blocks of 120 seats (discounted 3 % a year), temporary seats and a high unserved cost.
SYNTHETIC data. Prints build time (from_pairs + MIP), solve time, status, gap.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from layout.core import MultiPeriodLocation


def instance(n: int, m: int, k: int, T: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, size=(n, 2))
    fac = rng.uniform(0, 100, size=(m, 2))
    dist = np.linalg.norm(pts[:, None, :] - fac[None, :, :], axis=2)
    near = np.argsort(dist, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = near.ravel()
    base = rng.integers(20, 81, size=n).astype(float)
    trend = rng.uniform(-0.3, 0.4, size=n)
    demand = np.round(base[None, :] * (1 + trend[None, :] * np.arange(T)[:, None] / max(T - 1, 1)))
    years = 5.0
    pair_cost = years * demand[:, rows] * (1.0 + dist[rows, cols])[None, :]
    existing = np.zeros(m, dtype=bool)
    existing[: 2 * m // 3] = True
    capacity = np.round(1.25 * demand[0].sum() / existing.sum() * rng.uniform(0.6, 1.4, size=m), -1)
    return {
        "rows": rows, "cols": cols, "pair_cost": pair_cost, "demand": demand, "m": m,
        "kw": {
            "existing": existing, "period_weight": np.full(T, years),
            "fixed_cost": 2000.0 + 10.0 * capacity, "capacity": capacity,
            "closed_cost": np.full(m, 5000.0), "min_load": np.full(m, 60.0),
            "min_load_exempt": rng.random(m) < 0.1,
            "expansion_block": np.full(m, 120.0), "expansion_cost": np.full(m, 60000.0),
            "max_blocks": np.full(m, 2), "capital_discount": 0.97 ** (years * np.arange(T)),
            "temp_cost": np.full(m, 150.0), "temp_max": np.full(m, 60.0),
            "unserved_cost": 50000.0 * demand / demand.mean(),  # (T, n): already per period
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=800)
    ap.add_argument("--facilities", type=int, default=120)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--periods", type=int, default=4)
    ap.add_argument("--split", action="store_true", help="split demand (default single source)")
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-hint", action="store_true")
    args = ap.parse_args()
    inst = instance(args.rows, args.facilities, args.candidates, args.periods, args.seed)
    t0 = time.perf_counter()
    mp = MultiPeriodLocation.from_pairs(inst["rows"], inst["cols"], inst["pair_cost"],
                                        inst["demand"], inst["m"], single_source=not args.split,
                                        **inst["kw"])
    t1 = time.perf_counter()
    nv, nc = mp.n_variables, mp.n_constraints  # builds the MIP
    t2 = time.perf_counter()
    mp.solve(time_limit=args.time_limit, gap=args.gap, seed=args.seed,
             hint=None if args.no_hint else "existing")
    t3 = time.perf_counter()
    print(f"SYNTHETIC: {args.rows} rows, {args.facilities} facilities, {args.candidates} "
          f"candidates/row, {args.periods} periods, "
          f"{'split demand' if args.split else 'single source'}; "
          f"{nv} variables, {nc} constraints")
    print(f"check inputs {t1 - t0:.2f} s; build MIP {t2 - t1:.2f} s; solve {t3 - t2:.2f} s "
          f"(time limit {args.time_limit:g} s, gap {args.gap:g})")
    print(f"status {mp.status}; objective {mp.objective:,.0f}; bound {mp.bound:,.0f}; "
          f"gap {mp.gap:.2e}; warm start {mp.hint_objective:,.0f}")
    print(f"open per period: {mp.open_.sum(axis=1).tolist()}; blocks: "
          f"{mp.blocks.sum(axis=1).tolist()}; temporary seats: "
          f"{mp.temporary.sum(axis=1).round().tolist()}; unserved rows: "
          f"{(mp.unserved > 0).sum(axis=1).tolist()}")
    print(mp.costs.round(0).to_string())


if __name__ == "__main__":
    main()
