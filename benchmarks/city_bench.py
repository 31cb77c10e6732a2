"""Plan the whole embedded city (all counties, all levels, vocational) and print time and memory.

Usage: python benchmarks/city_bench.py [--threads 2] [--time-limit 30] [--solver scip]
[--mip-gap 0.01] [--seed 0] [--region DIR]

Demand: the base-year demand from the region's children (layout.plan.base_year_demand) until the
forecast provides a target-year table. The embedded data are SYNTHETIC (see data/geo/README.md).
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from layout.plan import LayoutParams, base_year_demand, plan_layout
from layout.region import load_region


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=30, help="seconds per sub-problem")
    ap.add_argument("--solver", choices=["highs", "scip", "sat", "highspy"], default=None,
                    help="MIP back end (default: LayoutParams().solver)")
    ap.add_argument("--mip-gap", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--region", default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    region = load_region(args.region)
    demand = base_year_demand(region)
    t1 = time.perf_counter()
    over = {k: v for k, v in (("solver", args.solver), ("mip_gap", args.mip_gap)) if v is not None}
    params = LayoutParams(**over)
    plan = plan_layout(region, demand, params, target_year=region.base_year, time_limit=args.time_limit,
                       threads=args.threads, seed=args.seed,
                       progress=lambda c, i, n: print(f"  county {c} ({i + 1}/{n})", flush=True))
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 100)
    print("SYNTHETIC data (embedded Guangyuan region); base-year demand")
    print(f"load + demand: {t1 - t0:.1f} s; plan_layout: {t2 - t1:.1f} s; "
          f"threads {args.threads}; peak RSS {peak_mb:.0f} MB")
    print(plan.solver_records.to_string(index=False))
    print(plan.summary())
    k = plan.kpis.copy()
    for c in ("travel_mean_min", "travel_p95_min", "utilization"):
        k[c] = k[c].round(2)
    k["share_within_standard"] = k["share_within_standard"].round(3)
    for c in ("cost_before", "cost_after"):
        k[c] = (k[c] / 1e6).round(1)
    k["cost_per_pupil"] = k["cost_per_pupil"].round(0)
    print("KPIs (costs in million CNY per year):")
    print(k.to_string(index=False))
    print("actions by level:")
    print(pd.crosstab(plan.schools["level"], plan.schools["action"]).to_string())
    print(f"seats added {plan.seats_added_total:,} vs city target {plan.city_target_seats:,}; "
          f"projects {len(plan.projects)}; unserved pupils {plan.unserved['students'].sum():,.0f}")
    if len(plan.unserved):
        print(plan.unserved.groupby(["level", "grade_band"])["students"].sum().to_string())


if __name__ == "__main__":
    main()
