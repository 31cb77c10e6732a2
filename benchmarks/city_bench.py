"""Plan the whole embedded city (all counties, all levels, vocational) and print time and memory.

Usage: python benchmarks/city_bench.py [--threads 2] [--time-limit 30] [--solver scip]
[--mip-gap 0.01] [--seed 0] [--region DIR]

Demand: the pipeline's own path — the scenario's forecast (layout.pipeline.forecast_stage, no
Monte Carlo draws, no back-test) and its P50 demand for the target year (demand_for_year), the same
rows `schoolsystem run` plans. The embedded data are SYNTHETIC (see data/geo/README.md).
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from layout.pipeline import demand_for_year, forecast_stage
from layout.plan import plan_layout
from layout.region import load_region
from layout.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=30, help="seconds per sub-problem")
    ap.add_argument("--solver", choices=["highs", "scip", "sat", "highspy"], default=None,
                    help="MIP back end (default: LayoutParams().solver)")
    ap.add_argument("--mip-gap", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--region", default=None)
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    args = ap.parse_args()
    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    region = load_region(args.region if args.region is not None else scenario.region)
    outlook = forecast_stage(region, scenario, draws=0, backtest=False)
    demand = demand_for_year(outlook, scenario.target_year)
    t1 = time.perf_counter()
    over = {k: v for k, v in (("solver", args.solver), ("mip_gap", args.mip_gap)) if v is not None}
    params = scenario.layout.model_copy(update=over)
    plan = plan_layout(region, demand, params, target_year=scenario.target_year,
                       time_limit=args.time_limit,
                       threads=args.threads, seed=args.seed,
                       progress=lambda c, i, n: print(f"  county {c} ({i + 1}/{n})", flush=True))
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 100)
    print(f"SYNTHETIC data (embedded Guangyuan region); {scenario.name}, "
          f"P50 demand {scenario.target_year}")
    print(f"load + forecast + demand: {t1 - t0:.1f} s; plan_layout: {t2 - t1:.1f} s; "
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
