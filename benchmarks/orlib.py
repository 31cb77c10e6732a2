"""Solve OR-Library facility-location benchmarks with layout.core and compare with published optima.

Usage::

    .venv/bin/python benchmarks/orlib.py /work/shared/benchmarks/orlib [--family cap,uncap,pmed]
        [--only cap41,pmed1 | --only 'pmed1?$'] [--quick] [--solver highs] [--threads N]
        [--time-limit 600]

Families: ``cap`` = capacitated, split demand (cap41-cap134, capa/b/c at their four capacities,
optima in bounds.txt); ``uncap`` = the same files with capacities ignored (optima in
uncapopt.txt); ``pmed`` = p-median on graphs (all-pairs shortest paths, optima in pmedopt.txt).
``--quick`` skips capa/b/c and p-median graphs of 500 or more vertices.

Columns: objective, proven lower bound, published optimum, ``vs opt %`` (objective above the
optimum), ``gap %`` (proven gap: objective vs the lower bound), ``proven`` (status optimal), build
and solve seconds (wall), solve CPU seconds, status, ``method``
(``direct`` = one MIP of all pairs; ``nearest-pairs`` = the exact UFLP path of
layout/core/pmedian.py; ``radius`` = p-median by the radius formulation and its branch and bound,
layout/core/radius.py and radius_bb.py; ``linking-cuts`` = capacitated, layout/core/capacitated.py:
above 10,000 pairs (capa/b/c) the Lagrangian branch and bound of layout/core/cap_bb.py and
cap_dual.py, otherwise the tree's root (bound, plan, fixings) and then linking cuts and a MIP),
``rounds`` (restricted MIPs, or with ``radius`` LP solves including the tree's, or with the
capacitated tree its nodes) and ``pairs`` (pairs in the last model, or with ``radius`` its level
rows, or linking rows of the capacitated MIP: 0 when the tree alone proved the instance).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layout.core import FacilityLocation

CAPACITIES = {"capa": (8000, 10000, 12000, 14000), "capb": (5000, 6000, 7000, 8000),
              "capc": (5000, 5750, 6500, 7250)}


@dataclass
class CapData:
    capacity: np.ndarray  # nan where the file says "capacity"
    fixed: np.ndarray
    demand: np.ndarray
    cost: np.ndarray  # (customers, sites)


def read_cap(path: Path) -> CapData:
    tok = path.read_text().split()
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    cap = np.empty(m)
    fixed = np.empty(m)
    for j in range(m):
        cap[j] = np.nan if tok[pos] == "capacity" else float(tok[pos])
        fixed[j] = float(tok[pos + 1])
        pos += 2
    body = np.array(tok[pos:pos + n * (m + 1)], dtype=float).reshape(n, m + 1)
    return CapData(cap, fixed, body[:, 0], body[:, 1:])


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    lines = path.read_text().split("\n")
    nv, _ne, p = (int(t) for t in lines[0].split())
    e = np.array([ln.split() for ln in lines[1:] if ln.strip()], dtype=float)
    i, j, c = e[:, 0].astype(int) - 1, e[:, 1].astype(int) - 1, e[:, 2]
    # A later duplicate edge overwrites an earlier one (in either direction).
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = a * nv + b
    _, last = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last
    g = sp.coo_array((c[keep], (a[keep], b[keep])), shape=(nv, nv)).tocsr()
    return shortest_path(g, method="D", directed=False), p


def read_optima(folder: Path) -> dict[str, dict[str, float]]:
    opt: dict[str, dict[str, float]] = {"cap": {}, "uncap": {}, "pmed": {}}
    for line in (folder / "bounds.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            opt["pmed" if parts[0].startswith("pmed") else "cap"][parts[0]] = float(parts[2])
    for line in (folder / "uncapopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            opt["uncap"][parts[0].removesuffix(".txt")] = float(parts[1])
    for line in (folder / "pmedopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed"):
            opt["pmed"][parts[0]] = float(parts[1])
    return opt


def instances(folder: Path, families: list[str], quick: bool):
    """Yield (family, name, builder) with builder() -> FacilityLocation."""
    opt = read_optima(folder)
    if "cap" in families:
        for name in opt["cap"]:
            base, _, c = name.partition("_")
            if quick and c:
                continue

            def build(base=base, c=c):
                d = read_cap(folder / f"{base}.txt")
                cap = np.full_like(d.fixed, float(c)) if c else d.capacity
                return FacilityLocation.from_cost_matrix(d.cost, d.demand, fixed_cost=d.fixed,
                                                         capacity=cap)
            yield "cap", name, opt["cap"][name], build
    if "uncap" in families:
        for name in opt["uncap"]:
            if quick and name in CAPACITIES:
                continue

            def build(name=name):
                d = read_cap(folder / f"{name}.txt")
                return FacilityLocation.from_cost_matrix(d.cost, d.demand, fixed_cost=d.fixed)
            yield "uncap", name, opt["uncap"][name], build
    if "pmed" in families:
        for name in sorted(opt["pmed"], key=lambda s: int(s[4:])):
            if quick and int((folder / f"{name}.txt").read_text().split()[0]) >= 500:
                continue

            def build(name=name):
                dist, p = read_pmed(folder / f"{name}.txt")
                return FacilityLocation.from_cost_matrix(dist, np.ones(len(dist)), p=p)
            yield "pmed", name, opt["pmed"][name], build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--family", default="cap,uncap,pmed")
    ap.add_argument("--only", default=None, help="comma list of names, or a regular expression")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per instance")
    args = ap.parse_args(argv)
    families = args.family.split(",")
    only = None
    if args.only:
        names = set(args.only.split(","))
        only = (lambda s: s in names) if "," in args.only or args.only.isalnum() else \
            re.compile(args.only).search

    header = (f"{'family':6} {'instance':12} {'objective':>14} {'bound':>14} {'optimum':>14} "
              f"{'vs opt %':>9} {'gap %':>8} {'proven':6} {'build s':>7} {'solve s':>8} "
              f"{'cpu s':>7} {'status':9} {'method':13} {'rounds':>6} {'pairs':>8} solver/threads")
    print(header)
    n_run = n_hit = n_proven = 0
    max_time = max_cpu = 0.0
    missed: list[str] = []
    total = 0.0
    for fam, name, optimum, build in instances(args.folder, families, args.quick):
        if only and not only(name):
            continue
        t0 = time.perf_counter()
        model = build()
        t_build = time.perf_counter() - t0
        cpu0 = time.process_time()
        model.solve(time_limit=args.time_limit, threads=args.threads, seed=args.seed,
                    solver=args.solver)
        cpu = time.process_time() - cpu0
        proven = "yes" if model.status == "optimal" else "no"
        n_proven += proven == "yes"
        max_time = max(max_time, model.wall_time)
        max_cpu = max(max_cpu, cpu)
        gap = 100 * (model.objective - optimum) / optimum
        hit = abs(model.objective - optimum) <= 1e-6 * abs(optimum) + 0.01
        n_run += 1
        n_hit += hit
        total += model.wall_time
        print(f"{fam:6} {name:12} {model.objective:14.3f} {model.bound:14.3f} {optimum:14.3f} "
              f"{gap:9.5f} {100 * model.gap:8.4f} {proven:6} {t_build:7.2f} "
              f"{model.wall_time:8.2f} {cpu:7.2f} {model.status!s:9} "
              f"{model.method:13} {model.rounds:6d} {model.pairs_used:8d} "
              f"{model.solver}/{model.threads}{'' if hit else '  MISSED'}", flush=True)
        if not hit:
            missed.append(f"{name} ({model.status}, {gap:.4f}% above optimum, gap {100 * model.gap:.4f}%)")
    print(f"# ran {n_run} instances; {n_hit} reached the published optimum; {n_proven} proven "
          f"optimal; total solve time {total:.1f} s; max {max_time:.2f} s wall, {max_cpu:.2f} s "
          f"CPU; time limit {args.time_limit:g} s per instance")
    if missed:
        print("# not at the optimum: " + "; ".join(missed))
    return 0 if n_hit == n_run else 1


if __name__ == "__main__":
    raise SystemExit(main())
