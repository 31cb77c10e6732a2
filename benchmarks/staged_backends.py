"""The staged (multi-period) school model of the whole embedded city under each MIP back end.

Usage::

    .venv/bin/python benchmarks/staged_backends.py [--solvers highspy,highs,scip,sat]
        [--root-lp on,off] [--time-limit 30] [--counties 510802,510811] [--out FILE]

The sub-problems are those `schoolplan run` solves for the baseline scenario (the pipeline's
own path: forecast without draws, P50 demand at the default milestones 2025, 2027, 2030, 2035,
every county model, one multi-period MIP per independent part). Each back end solves every part
from the same start, one thread, the scenario's gap (2 %) and node limit, with and without the
root-LP rounding of :mod:`layout.core.multiperiod_lp` (``--root-lp``). Printed per back end: parts
within the gap, parts stopped by the time limit, the largest gap, the total discounted cost
(lower is better), and the CPU and wall seconds of all parts. ``highspy`` is HiGHS called
directly; ``highs``, ``scip`` and ``sat`` (CP-SAT) go through OR-Tools' MPSolver / CP-SAT.
The embedded data are SYNTHETIC.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import layout.plan.staged as staged
from layout.core.errors import CoreInputError
from layout.pipeline import demand_for_year, forecast_stage, milestone_years
from layout.region import load_region
from layout.scenario import load_scenario


class _CapturedError(Exception):
    """Raised by the patched solve loop once the sub-problems are built."""


def staged_parts(scenario_path: str, counties: list[str] | None) -> tuple[list[Any], Any]:
    """The staged sub-problems of the scenario (built, not solved) and its layout parameters."""
    sc = load_scenario(scenario_path)
    region = load_region(sc.region)
    outlook = forecast_stage(region, sc, draws=0, backtest=False)
    fc = {int(y) for y in outlook.village_demand["year"].unique() if y > outlook.base_year}
    years = milestone_years(sc, fc)
    captured: list[Any] = []

    def capture(subs: list[Any], *args: Any, **kwargs: Any) -> None:
        captured.extend(subs)
        raise _CapturedError

    original = staged._solve_all
    staged._solve_all = capture  # type: ignore[assignment]
    try:
        staged.plan_staged(region, {y: demand_for_year(outlook, y) for y in years}, sc.layout,
                           target_year=sc.target_year, counties=counties)
    except _CapturedError:
        pass
    finally:
        staged._solve_all = original  # type: ignore[assignment]
    return captured, sc.layout


def run(parts: list[Any], params: Any, solver: str, root_lp: bool,
        time_limit: float) -> dict[str, Any]:
    """Solve copies of every part with one back end; the totals."""
    within = stopped = 0
    worst = cost = cpu = wall = 0.0
    for part in parts:
        sub = copy.deepcopy(part)
        c0, w0 = time.process_time(), time.perf_counter()
        m = sub.model.solve(time_limit=time_limit, threads=1, seed=0, solver=solver,
                            gap=params.mip_gap, hint=sub.hint, node_limit=params.mip_node_limit,
                            root_lp=root_lp)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        gap = m.gap if m.gap == m.gap else float("inf")
        within += gap <= params.mip_gap + 1e-9
        stopped += m.stopped_by == "time"
        worst = max(worst, gap)
        cost += m.objective
    return {"solver": solver, "root_lp": root_lp, "parts": len(parts), "within_gap": within,
            "time_limited": stopped, "max_gap": worst, "cost": cost, "cpu": cpu, "wall": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--solvers", default="highspy,highs,scip,sat")
    ap.add_argument("--root-lp", default="on,off")
    ap.add_argument("--time-limit", type=float, default=30)
    ap.add_argument("--counties", default=None)
    ap.add_argument("--out", default=None, help="also append the table to this file")
    args = ap.parse_args()
    counties = args.counties.split(",") if args.counties else None
    t0 = time.perf_counter()
    parts, params = staged_parts(args.scenario, counties)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    lines = [f"# staged school model, SYNTHETIC embedded city, {len(parts)} parts "
             f"(built in {time.perf_counter() - t0:.1f} s), commit {commit}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, time limit "
             f"{args.time_limit:g} s per part, gap {params.mip_gap:g}, 1 thread",
             f"{'solver':8s} {'root_lp':7s} {'within':>6s} {'t-limit':>7s} {'max gap':>8s} "
             f"{'total cost (CNY, discounted)':>28s} {'cpu s':>7s} {'wall s':>7s}"]
    print("\n".join(lines), flush=True)
    for solver in args.solvers.split(","):
        for flag in args.root_lp.split(","):
            try:
                r = run(parts, params, solver, flag == "on", args.time_limit)
            except CoreInputError as exc:  # e.g. CP-SAT: the model has continuous seats
                lines.append(f"{solver:8s} {flag:7s} not applicable: {exc}")
                print(lines[-1], flush=True)
                continue
            line = (f"{r['solver']:8s} {flag:7s} {r['within_gap']:>3d}/{r['parts']:<2d} "
                    f"{r['time_limited']:>7d} {100 * r['max_gap']:>7.2f}% {r['cost']:>28,.0f} "
                    f"{r['cpu']:>7.1f} {r['wall']:>7.1f}")
            lines.append(line)
            print(line, flush=True)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
