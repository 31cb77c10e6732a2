"""Assemble a county's plan from its solved independent sub-problems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layout.plan.model import CountyModel, SubProblem, make_subproblems, solve_subproblem
from layout.plan.params import LayoutParams


@dataclass
class CountySolution:
    """Plan of one county assembled from its independent sub-problems.

    Attributes
    ----------
    open : ndarray of bool
        Per facility: open in the plan.
    load : ndarray of float
        Students served per facility.
    blocks_added : ndarray of int
        Expansion blocks per facility.
    status : str
        Worst sub-problem status (``no_solution`` > ``fallback_greedy`` > ``feasible`` >
        ``optimal``).
    records : list of dict
        One solver record per sub-problem (``subproblem``, ``solver``, ``status``,
        ``objective``, ``bound``, ``gap``, ``wall_time``, ``threads``, ``seed``, sizes).

    """

    open: np.ndarray
    load: np.ndarray
    blocks_added: np.ndarray
    status: str
    records: list[dict]


_SEVERITY = ("optimal", "feasible", "fallback_greedy", "infeasible", "no_solution")


def assemble_county(cm: CountyModel, subs: list[SubProblem]) -> CountyModel:
    """Put the solved sub-problems of ``cm`` together into ``cm.solver`` and ``cm.assignment``.

    Facilities in no sub-problem (no demand row may use them) are open only if forced open or
    if closing them costs more than running them.
    """
    fac = cm.facilities
    m = len(fac)
    is_open = fac["force_open"].to_numpy() | (fac["fixed_cost"] < fac["closed_cost"]).to_numpy()
    link = fac["link"].to_numpy()
    for g in np.unique(link[(link >= 0) & is_open]):
        is_open[link == g] = True
    load = np.zeros(m)
    blocks = np.zeros(m, dtype=np.int64)
    cm.assignment = np.full(len(cm.demand), -1, dtype=np.int64)
    records: list[dict] = []
    for sub in subs:
        model, f_idx = sub.model, sub.facilities
        is_open[f_idx] = model.open
        load[f_idx] = model.load
        blocks[f_idx] = model.blocks_added
        a = model.assignment
        cm.assignment[sub.rows] = np.where(a >= 0, f_idx[np.maximum(a, 0)], -1)
        records.append({
            "subproblem": sub.name, "solver": model.solver, "status": str(model.status),
            "objective": model.objective, "bound": model.bound, "gap": model.gap,
            "greedy": model.greedy_objective, "wall_time": model.wall_time,
            "threads": model.threads, "seed": model.seed, "facilities": f_idx.size,
            "demand_rows": sub.rows.size, "pairs": sub.size,
        })
    status = max((r["status"] for r in records), key=_SEVERITY.index, default="optimal")
    cm.solver = CountySolution(is_open, load, blocks, status, records)
    return cm


def solve_county(
    cm: CountyModel, params: LayoutParams, *, time_limit: float, threads: int | None, seed: int,
) -> CountyModel:
    """Build, solve (one after the other) and assemble the sub-problems of ``cm``.

    ``time_limit`` is in seconds per sub-problem; each stops earlier at ``params.mip_gap``.
    Every sub-problem gets a greedy warm start that is also its fallback plan (status
    ``fallback_greedy``), so none ends without a plan because of the time limit.
    """
    subs = make_subproblems(cm, params)
    for sub in subs:
        solve_subproblem(sub, params, time_limit=time_limit, threads=threads, seed=seed)
    return assemble_county(cm, subs)


