"""Keep a kindergarten rather than close it while seats are built beside it.

A staged plan that closes a school in a milestone in which it builds seats of the same level
(a new school or added classes) within ``keep_near_growth_m`` of it spends capital to replace
seats it has just given up: the cost model may find the two nearly equal (a kindergarten's
running cost against a few classes' annualised capital), a planner signs neither the capital
nor the move. Such a part is solved again with the school held open through the last milestone
in which seats are built next to it; the new plan then builds less, or elsewhere. A held
school the new plan would leave under its minimum size is released: its pupils are better
served by the new seats, so it may close. Up to :data:`ROUNDS` rounds, as holding one school
open may move the building next to another.

The rule applies to the levels of ``keep_near_growth_levels`` (kindergartens by default: the
"nearby" principle; primary and junior schools are concentrated by the layout principle, and
a second solve of their larger parts costs more than a kindergarten's), only to schools that
host their level (a village school closed into its township's central school is the principle,
not a rebuild), never to one the planner fixed closed, and within one part (schools that share
no pupil are never both in a part). The held schools are kept on the part (``held``) and say
so in their reason (:func:`held_note`).

Off by default (``keep_near_growth_m`` 0). Measured with 2,000 m on the Guangyuan demo
(baseline): 30 kindergartens are kept (165 children each on average in 2025) instead of closed
beside new seats; seats built within 2 km of a closed kindergarten fell from 3,270 to 2,190 (the
rest serve children the closed one could not take as cheaply, or are built in a later
milestone); the solves took about 3 s more (34.8 against 31.4 s). On the 183-county province the
plan stage took 1,099 s instead of 767 s (commit 108e4ff; urban Chengdu's kindergarten parts need
all three rounds),
which is why it is not the default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from layout.core import MultiPeriodLocation
from layout.core.status import SolveStatus

if TYPE_CHECKING:
    from layout.core.multiperiod_model import MultiPeriodData
    from layout.plan.staged_model import StagedSubProblem

ROUNDS = 3
"""Most re-solves of one part."""


def near_pairs(sf: pd.DataFrame, radius_m: float, levels: Sequence[str]) -> np.ndarray:
    """Pairs ``(i, j)`` of a part's facilities (local positions), shape (P, 2).

    ``i`` is an existing host school of one of ``levels`` that may close (not forced open),
    ``j`` another school or site of the same level that may build seats, at most ``radius_m``
    apart (projected x, y).

    Examples
    --------
    >>> sf = pd.DataFrame({"x": [0.0, 500.0, 9000.0], "y": 0.0, "level": "kindergarten",
    ...                    "fac_id": ["K1", "K2", "K3"], "is_site": False, "host": True,
    ...                    "force_open": [False, True, False], "max_blocks": 3})
    >>> near_pairs(sf, 2000.0, ["kindergarten"]).tolist()  # K2 is kept anyway; K3 is far
    [[0, 1]]

    """
    if radius_m <= 0 or len(sf) < 2 or not sf["level"].isin(list(levels)).any():
        return np.zeros((0, 2), dtype=np.int64)
    xy = sf[["x", "y"]].to_numpy(dtype=float)
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    both = np.vstack([pairs, pairs[:, ::-1]])
    i, j = both[:, 0], both[:, 1]
    site = sf["is_site"].to_numpy(dtype=bool)
    closable = ~site & sf["host"].to_numpy(dtype=bool) & ~sf["force_open"].to_numpy(dtype=bool)
    grows = site | (sf["max_blocks"].to_numpy() > 0)
    level = sf["level"].to_numpy()
    ids = sf["fac_id"].astype(str).to_numpy()
    ok = (closable[i] & grows[j] & (level[i] == level[j]) & (ids[i] != ids[j])
          & np.isin(level[i], list(levels)))
    out = both[ok]
    return out[np.lexsort((out[:, 1], out[:, 0]))].astype(np.int64)


def rebuilt_beside(open_: np.ndarray, blocks: np.ndarray, assignment: np.ndarray,
                   rows: np.ndarray, cols: np.ndarray, near: np.ndarray) -> dict[int, int]:
    """Schools closed in a milestone in which seats are built beside them for their pupils.

    A pair ``(i, j)`` counts at milestone t when j builds seats then, i is closed then, and
    some row j serves then could have gone to i (a permitted pair): the seats replace i's.

    Parameters
    ----------
    open_, blocks : ndarray, shape (T, m)
        The part's plan: open per milestone, cumulative blocks per milestone.
    assignment : ndarray of int, shape (T, n)
        The facility serving each row per milestone (-1 unserved).
    rows, cols : ndarray of int
        The part's permitted pairs (row, facility).
    near : ndarray, shape (P, 2)
        :func:`near_pairs`.

    Returns
    -------
    dict
        School (local position) -> last milestone index at which seats are built beside it
        while it is closed.

    Examples
    --------
    >>> open_ = np.array([[False, True]]); blocks = np.array([[0, 2]])
    >>> rebuilt_beside(open_, blocks, np.array([[1]]), np.array([0, 0]), np.array([0, 1]),
    ...                np.array([[0, 1]]))
    {0: 0}
    >>> rebuilt_beside(open_, blocks, np.array([[1]]), np.array([0]), np.array([1]),
    ...                np.array([[0, 1]]))  # the row could not have gone to school 0
    {}

    """
    if near.size == 0:
        return {}
    grow = np.diff(blocks, axis=0, prepend=0) > 0
    i, j = near[:, 0], near[:, 1]
    hit = grow[:, j] & ~open_[:, i]  # (T, P)
    out: dict[int, int] = {}
    if not hit.any():
        return out
    could = set(zip(rows.tolist(), cols.tolist(), strict=True))
    for p in np.flatnonzero(hit.any(axis=0)):
        for t in np.flatnonzero(hit[:, p])[::-1]:
            served = np.flatnonzero(assignment[t] == j[p])
            if any((int(r), int(i[p])) in could for r in served):
                out[int(i[p])] = max(out.get(int(i[p]), -1), int(t))
                break
    return out


def hold_and_resolve(sub: StagedSubProblem, **solve: Any) -> None:
    """Re-solve ``sub`` (in place) until no school closes beside seats built for its pupils.

    Each round holds the schools :func:`rebuilt_beside` names open through that milestone
    (minimum size waived while held) and solves again from the plan so far. A held school the
    new plan leaves under its minimum size was no substitute for the new seats (its pupils are
    better served where they are built): it is released, never held again, and the round is
    solved once more without it. A solve that finds no plan leaves the last one.
    ``sub.held`` records school -> last milestone held; ``solve`` are the arguments of
    :meth:`layout.core.MultiPeriodLocation.solve` but the hint.
    """
    if sub.near.size == 0:
        return
    base = sub.model.data  # the part as built: every round holds schools on top of it
    held: dict[int, int] = dict(sub.held)
    released: set[int] = set()
    for _ in range(ROUNDS):
        found = rebuilt_beside(sub.model.open_, sub.blocks, sub.model.assignment,
                               base.rows, base.cols, sub.near)
        new = {i: t for i, t in found.items()
               if i not in released and t > held.get(i, -1)
               and base.y_ub[: t + 1, base.group[i]].min() > 0.5}
        if not new:
            break
        trial = {**held, **new}
        model = _solve_held(base, sub.model, trial, **solve)
        if model is None:
            break
        low = {i for i, t in trial.items()
               if (model.load[: t + 1, i] < base.min_load[i] - 1e-9).any()}
        if low:
            released |= low
            trial = {i: t for i, t in trial.items() if i not in low}
            if trial == held:
                break  # nothing new worth holding
            model = _solve_held(base, sub.model, trial, **solve)
            if model is None:
                break
        sub.model, held = model, trial
        sub.held = dict(held)


def _solve_held(base: MultiPeriodData, last: MultiPeriodLocation, held: dict[int, int],
                **solve: Any) -> MultiPeriodLocation | None:
    """The part ``base`` solved with ``held`` open through their milestones (None: no plan).

    ``last`` is the plan so far (the warm start; its solve time is added to the new one's).
    """
    lb, min_load = base.y_lb.copy(), base.min_load.copy()
    hint = last.open_.copy()
    for i, t in held.items():
        lb[: t + 1, base.group[i]] = 1.0
        min_load[i] = 0.0
        hint[: t + 1, base.group == base.group[i]] = True
    model = MultiPeriodLocation(dataclasses.replace(base, y_lb=lb, min_load=min_load))
    model.solve(hint=hint, **solve)
    if model.status in (SolveStatus.NO_SOLUTION, SolveStatus.INFEASIBLE):
        return None
    model.wall_time += last.wall_time
    return model


def held_note(year: int) -> str:
    """Reason of a school held open through milestone ``year`` by this rule."""
    return (f"保留至{year}年: 2 km 内同学段新增学位, 不撤并后重建 (kept open through {year}: "
            "seats of its level are built within 2 km then; not closed and rebuilt beside)")
