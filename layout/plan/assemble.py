"""Assemble a county's plan from its solved independent sub-problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from layout.plan.model import CountyModel, SubProblem


@dataclass(frozen=True)
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
    assignment : ndarray of int
        Per demand row of the county model: its facility, -1 if unserved.
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
    assignment: np.ndarray
    status: str
    records: list[dict[str, Any]]


SEVERITY = ("optimal", "feasible", "fallback_greedy", "infeasible", "no_solution")
"""Solver statuses, best first (a county's status is its worst part's)."""


def assemble_county(cm: CountyModel, subs: list[SubProblem]) -> CountySolution:
    """Put the solved sub-problems of ``cm`` together into one county plan.

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
    assignment = np.full(len(cm.demand), -1, dtype=np.int64)
    records: list[dict[str, Any]] = []
    for sub in subs:
        model, f_idx = sub.model, sub.facilities
        is_open[f_idx] = model.open
        load[f_idx] = model.load
        blocks[f_idx] = model.blocks_added
        a = model.assignment
        assignment[sub.rows] = np.where(a >= 0, f_idx[np.maximum(a, 0)], -1)
        records.append({
            "subproblem": sub.name, "solver": model.solver, "status": str(model.status),
            "objective": model.objective, "bound": model.bound, "gap": model.gap,
            "greedy": model.greedy_objective, "wall_time": model.wall_time,
            "threads": model.threads, "seed": model.seed, "facilities": f_idx.size,
            "demand_rows": sub.rows.size, "pairs": sub.size, "nodes": model.nodes,
            "stopped_by": model.stopped_by,
        })
    status = max((r["status"] for r in records), key=SEVERITY.index, default="optimal")
    return CountySolution(is_open, load, blocks, assignment, status, records)


def assignment_table(cm: CountyModel, solution: CountySolution) -> pd.DataFrame:
    """Per demand row: facility (-1 unserved), minutes, km and boarding of the chosen pair."""
    dem = cm.demand.copy()
    dem["col"] = solution.assignment
    chosen = cm.pairs.merge(dem[["col"]].reset_index(names="row"), on=["row", "col"])
    cols = ["minutes", "km", "boarding", "host", *(["transition"] if "transition" in chosen
                                                      else [])]
    dem = dem.join(chosen.set_index("row")[cols])
    dem["col"] = dem["col"].where(dem["minutes"].notna(), -1)
    dem["boarding"] = dem["boarding"].fillna(False).astype(bool)
    dem["host"] = dem["host"].fillna(False).astype(bool)
    dem["transition"] = (dem["transition"].fillna(False).astype(bool) if "transition" in dem
                         else False)
    return dem
