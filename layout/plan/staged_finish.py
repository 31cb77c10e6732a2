"""The tables of each solved county of a staged plan: one piece of work per county.

Once a county's parts are solved, :func:`county_tables_task` assembles its plan over the
milestones (:func:`layout.plan.staged_model.assemble_staged`), reads each milestone as a
one-year plan (:func:`layout.plan.decisions.county_tables`) and checks the network under the
P90 demand (:func:`layout.plan.p90.check_county`). Counties are independent, so
:func:`layout.plan.staged.finish_staged` hands them to :func:`forecasting.parallel.map_tasks`:
in this process by default, as Dask tasks on a cluster (``--scheduler``); the results come
back in county order, so the plan is the same either way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layout.plan.decisions import county_tables
from layout.plan.model import CountyModel
from layout.plan.p90 import check_county
from layout.plan.params import LayoutParams
from layout.plan.rebuild import held_note
from layout.plan.staged_model import (
    FirstStage,
    StagedSolution,
    StagedSubProblem,
    assemble_staged,
)

YearTables = tuple[int, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]
"""``(year, schools, assignments, unserved, before)`` of one milestone."""


@dataclass(frozen=True)
class CountyTablesInput:
    """What one county's tables need (a task's whole input).

    Attributes
    ----------
    cm : CountyModel
        The county's model (with the fixed decisions marked).
    part : list of StagedSubProblem
        Its solved parts.
    years : list of int
        The milestones.
    params : LayoutParams
    first : FirstStage or None
        Decisions fixed at the first milestone.
    p90 : ndarray or None
        P90 students per milestone and demand row, shape (T, n); ``None``: no P90 check.
    seed : int

    """

    cm: CountyModel
    part: list[StagedSubProblem]
    years: list[int]
    params: LayoutParams
    first: FirstStage | None
    p90: np.ndarray | None
    seed: int


@dataclass(frozen=True)
class CountyTables:
    """One county's result: its milestone tables, plan and P90 check, or why it failed.

    Attributes
    ----------
    county_code : str
    tables : list of YearTables
        One per milestone (empty when ``error`` is set).
    solution : StagedSolution or None
    p90_check : DataFrame or None
        Rows of :data:`layout.plan.p90.P90_COLUMNS`.
    error : Exception or None
        Why the county's tables could not be made (the county is set aside).

    """

    county_code: str
    tables: list[YearTables]
    solution: StagedSolution | None
    p90_check: pd.DataFrame | None
    error: Exception | None = None


def county_tables_task(item: CountyTablesInput) -> CountyTables:
    """The tables of one solved county (runs anywhere, a Dask worker included).

    A county whose plan cannot be read comes back with ``error`` (it is set aside, the others
    are planned); an error of the P90 check is raised, as it is a defect of the check.
    """
    cm, years = item.cm, item.years
    held = [(int(sub.facilities[i]), t) for sub in item.part for i, t in sub.held.items()]
    if held:
        note = pd.Series("", index=cm.facilities.index, dtype=object)
        for f, t in held:
            note.iat[f] = held_note(years[t])
        why = cm.facilities["exempt_why"].where((note == "") | (cm.facilities["exempt_why"] != ""),
                                                 "held")
        cm = dataclasses.replace(cm, facilities=cm.facilities.assign(held_note=note,
                                                                     exempt_why=why))
    try:
        sol = assemble_staged(cm, item.part, len(years), item.first)
        tables: list[YearTables] = []
        for t, year in enumerate(years):
            cm_t = dataclasses.replace(cm, demand=cm.demand.assign(students=cm.demand[f"s{t}"]))
            s, a, u, b = county_tables(cm_t, sol.periods[t], item.params)
            s["temporary"] = sol.temporary[t][s.index.to_numpy()]
            tables.append((year, s, a, u, b))
    except Exception as exc:  # isolate the county
        return CountyTables(cm.county_code, [], None, None, exc)
    check = None
    if item.p90 is not None:
        check = check_county(cm, sol, [s.facilities for s in item.part], item.p90, years,
                             item.params, item.seed)
    return CountyTables(cm.county_code, tables, sol, check)
