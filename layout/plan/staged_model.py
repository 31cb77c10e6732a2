"""The staged (multi-period) model of one county: milestones, discounting, sub-problems.

A county model (:class:`layout.plan.model.CountyModel`) is built once, with each demand row's
largest demand over the milestones (journeys, permitted pairs, village sites and exemptions
do not depend on the year); the rows carry their students per milestone in the columns
``s0, s1, ...``. Each independent part of the county becomes one
:class:`layout.core.MultiPeriodLocation` over the milestones:

* period t stands for the years from milestone t to the next (the last for
  ``last_period_years``); running costs (schools open, transport, boarding, temporary
  seats) count every year of the period, discounted to the base year at
  ``costs.interest_rate``;
* a permanent seat is paid in the year it is built, but only for the years of the plan horizon
  it can serve (its annuity times the discounted years from the build to the horizon end), so
  a seat built for one short peak costs what it costs the county, not a 30-year asset written off
  in full;
* closing costs ``closure_cost`` once, discounted to its year;
* pupils may stay at an existing school that is not a host of the layout principle until the
  plan closes it, at ``transition_cost_per_pupil_year`` a year (the principle's pull), instead of
  moving at once to a host that would need seats for a passing peak;
* temporary seats (modular or rented classrooms, larger classes up to the class-size ceilings)
  cost ``temporary.cost_per_seat_year`` and are capped per school and period at
  ``temporary.max_share`` of its seats today (a new school: of its largest size) and of the
  permanent seats it has in that period (no school runs on temporary seats alone).

Existing schools may close at a milestone and stay closed; candidate and village sites may open
at a milestone and stay open; blocks are never removed.

A :class:`FirstStage` fixes the decisions of the first milestone (open or closed, cumulative
blocks) — the first stage a robust plan shares across forecast scenarios
(:mod:`layout.plan.robust`); the later milestones stay free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from layout.core import MultiPeriodLocation
from layout.errors import LayoutError
from layout.plan.assemble import SEVERITY, CountySolution
from layout.plan.fixed import schedule
from layout.plan.model import CountyModel, subproblems
from layout.plan.params import LayoutParams
from layout.plan.rebuild import hold_and_resolve, near_pairs


@dataclass(frozen=True)
class Periods:
    """Milestone years and their weights.

    Attributes
    ----------
    years : tuple of int
        The milestones.
    weight : ndarray
        Discounted years each period stands for (multiplies yearly costs).
    capital : ndarray
        Discounted annuity-years from each milestone to the horizon end (multiplies a one-off
        capital cost built at that milestone).
    once : ndarray
        Discount factor of a one-off cost at each milestone (closures).
    residual : float
        Discounted annuity-years of a building put up at the first milestone that fall after
        the horizon, within its lifetime: the residual value (per unit of one-off capital) a
        new building keeps only if it is still used at the last milestone.

    """

    years: tuple[int, ...]
    weight: np.ndarray
    capital: np.ndarray
    once: np.ndarray
    residual: float = 0.0

    @classmethod
    def from_params(cls, years: list[int], base_year: int, params: LayoutParams) -> Periods:
        """Periods for ``years`` (sorted milestones after ``base_year``).

        Examples
        --------
        >>> p = Periods.from_params([2025, 2030], 2023, LayoutParams())
        >>> [round(float(w), 2) for w in p.weight], round(float(p.once[0]), 3)
        ([4.28, 3.52], 0.925)

        """
        r = params.costs.interest_rate
        ends = [*years[1:], years[-1] + params.last_period_years]
        disc = [(1.0 + r) ** -(np.arange(a, b) - base_year) for a, b in zip(years, ends,
                                                                            strict=True)]
        weight = np.array([d.sum() for d in disc])
        capital = np.array([weight[t:].sum() for t in range(len(years))]) * params.costs.annuity
        once = np.array([(1.0 + r) ** -(y - base_year) for y in years])
        after = np.arange(ends[-1], years[0] + round(params.costs.lifetime_years))
        residual = float(((1.0 + r) ** -(after - base_year)).sum()) * params.costs.annuity
        return cls(tuple(years), weight, capital, once, residual)


@dataclass(frozen=True)
class FirstStage:
    """Decisions of the first milestone fixed on a county model's facilities (-1: free).

    Attributes
    ----------
    open_ : ndarray of int64, shape (m,)
        1 open, 0 closed (not built) at the first milestone, -1 free.
    blocks : ndarray of int64, shape (m,)
        Cumulative permanent blocks by the first milestone, -1 free.

    """

    open_: np.ndarray
    blocks: np.ndarray


@dataclass
class StagedSubProblem:
    """One independent part of a county over the milestones (solved in place).

    Attributes match :class:`layout.plan.model.SubProblem`, so the same solve loop runs both.
    """

    county_code: str
    name: str
    facilities: np.ndarray
    rows: np.ndarray
    model: MultiPeriodLocation
    hint: str = "existing"
    first_blocks: np.ndarray | None = None
    """Blocks of a fixed first stage, held as seats of the model (see :func:`_part_model`)."""
    near: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    """Closable schools and the schools or sites beside them that may build seats
    (:func:`layout.plan.rebuild.near_pairs`, local positions)."""
    held: dict[int, int] = field(default_factory=dict)
    """Schools held open rather than closed beside new seats: local position -> last milestone
    index (:func:`layout.plan.rebuild.hold_and_resolve`)."""

    def refine(self, **solve: Any) -> None:
        """After the solve: hold open the schools the plan would close beside new seats."""
        hold_and_resolve(self, **solve)

    @property
    def blocks(self) -> np.ndarray:
        """Cumulative permanent blocks per period and facility of the part, shape (T, m)."""
        b = self.model.blocks
        return b if self.first_blocks is None else b + self.first_blocks[None, :]

    @property
    def size(self) -> int:
        """Number of pairs of the model (times the periods: the work grows with both)."""
        return int(self.model.data.rows.size * self.model.n_periods)


def students_by_period(cm: CountyModel, n_periods: int) -> np.ndarray:
    """Students of each county demand row per period, shape (T, n)."""
    return np.vstack([cm.demand[f"s{t}"].to_numpy(dtype=float) for t in range(n_periods)])


def p90_students(cm: CountyModel, p90: pd.DataFrame, n_periods: int) -> np.ndarray:
    """P90 students of each county demand row (part), shape (T, n): P50 part x P90 / P50.

    ``p90`` holds ``demand_id, grade_band, s0, s1, ...`` (the P90 demand per milestone), or
    the same indexed by ``demand_id, grade_band`` (:func:`p90_index`: a region's table indexed
    once, each county then looks up its own rows instead of merging the whole table).
    """
    keys = ["demand_id", "grade_band"]
    indexed = p90 if list(p90.index.names) == keys else p90_index(p90)
    mid = indexed.reindex(pd.MultiIndex.from_frame(cm.demand[keys]))
    out = np.zeros((n_periods, len(cm.demand)))
    for t in range(n_periods):
        part = cm.demand[f"s{t}"].to_numpy(dtype=float)
        total50 = cm.demand.groupby(keys)[f"s{t}"].transform("sum").to_numpy(dtype=float)
        total90 = mid[f"s{t}"].fillna(0.0).to_numpy(dtype=float)
        out[t] = np.where(total50 > 0, part * total90 / np.where(total50 > 0, total50, 1.0),
                          total90 / cm.demand.groupby(keys)[f"s{t}"].transform("size").to_numpy())
    return out


def p90_index(p90: pd.DataFrame) -> pd.DataFrame:
    """The P90 table of :func:`p90_students` indexed by ``demand_id, grade_band`` (for lookups)."""
    return p90.set_index(["demand_id", "grade_band"])


def with_p90(cm: CountyModel, p90: pd.DataFrame, n_periods: int) -> CountyModel:
    """``cm`` with the P90 students of each demand row in columns ``p90_0, p90_1, ...``."""
    s90 = p90_students(cm, p90, n_periods)
    return dataclasses.replace(cm, demand=cm.demand.assign(
        **{f"p90_{t}": s90[t] for t in range(n_periods)}))


def p90_by_period(cm: CountyModel, n_periods: int) -> np.ndarray | None:
    """P90 students per period and demand row (T, n) from :func:`with_p90`, else ``None``."""
    cols = [f"p90_{t}" for t in range(n_periods)]
    if not set(cols) <= set(cm.demand.columns):
        return None
    return cm.demand[cols].to_numpy(dtype=float).T


def make_staged_subproblems(cm: CountyModel, params: LayoutParams, periods: Periods,
                            first: FirstStage | None = None) -> list[StagedSubProblem]:
    """Multi-period models of the independent parts of ``cm``.

    Parameters
    ----------
    cm : CountyModel
        The county (demand rows with ``s0, s1, ...``).
    params : LayoutParams
        Rules and costs.
    periods : Periods
        Milestones and discounting.
    first : FirstStage, optional
        Decisions fixed at the first milestone (the later milestones stay free).

    Returns
    -------
    list of StagedSubProblem
        One per part, in the order of :func:`layout.plan.model.subproblems` (not solved).

    Notes
    -----
    With the P90 of demand on the rows (:func:`with_p90`), each school's catchment must fit at
    the P90 with its permanent seats plus the most temporary seats it may add, or its
    overflow costs as much as unserved pupils (:mod:`layout.core.multiperiod_peak`).

    """
    fac, pairs = cm.facilities, cm.pairs
    s_max = cm.demand["students"].to_numpy(dtype=float)
    s_t = students_by_period(cm, len(periods.years))
    peak = p90_by_period(cm, len(periods.years))
    per_pupil = pairs["cost"].to_numpy() / np.where(s_max > 0, s_max, 1.0)[pairs["row"]]
    # the layout principle's pull: a pupil kept at a school it would leave for a host school
    per_pupil = per_pupil + pairs["transition"].to_numpy() * params.transition_cost_per_pupil_year
    by_col = pairs.groupby("col").indices
    out: list[StagedSubProblem] = []
    names: dict[str, int] = {}
    for f_idx in subproblems(cm):
        levels = "+".join(sorted(set(fac["level"].iloc[f_idx])))
        n_same = names.get(levels, 0)
        names[levels] = n_same + 1
        p_idx = np.sort(np.concatenate([by_col.get(j, np.zeros(0, dtype=np.int64))
                                        for j in f_idx]))
        sub = pairs.iloc[p_idx]
        rows, r_loc = np.unique(sub["row"].to_numpy(), return_inverse=True)
        c_loc = np.searchsorted(f_idx, sub["col"].to_numpy())
        part_first = (None if first is None else FirstStage(first.open_[f_idx],
                                                             first.blocks[f_idx]))
        near = near_pairs(fac.iloc[f_idx], params.keep_near_growth_m,
                          params.keep_near_growth_levels)
        model = _part_model(fac.iloc[f_idx], r_loc, c_loc, per_pupil[p_idx], s_t[:, rows],
                            s_max[rows], params, periods, part_first,
                            None if peak is None else peak[:, rows])
        name = f"{cm.county_code}/{levels}" + (f"#{n_same + 1}" if n_same else "")
        out.append(StagedSubProblem(cm.county_code, name, f_idx, rows, model,
                                    first_blocks=None if part_first is None
                                    else np.maximum(part_first.blocks, 0), near=near))
    return out


_SITE_BAND = {"kindergarten": "kindergarten", "primary": "primary_lower"}
"""Level -> band of its generated village sites (:mod:`layout.plan.village_sites`)."""


def temp_limits(fac: pd.DataFrame, params: LayoutParams
                ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Most temporary seats per facility and milestone, and their most share of its seats.

    Returns ``(temp_max, temp_share)``, shape (m,) each, or ``(None, None)`` when temporary
    seats are disabled. ``temp_share`` is ``temporary.max_share``, or a generated village
    site's own ``village_sites.<band>.temp_share`` (a small village school bridges its first,
    fuller years in rented village premises rather than building for them); ``temp_max`` is
    that share of the school it could become (its seats with every block it may build; a new
    school's largest size). The model also holds temporary seats to that share of the
    permanent seats of each milestone.
    """
    tmp = params.temporary
    if not tmp.enabled:
        return None, None
    existing = ~fac["is_site"].to_numpy(dtype=bool)
    grown = (fac["capacity"].to_numpy(dtype=float)
             + fac["max_blocks"].to_numpy(dtype=float) * fac["block"].to_numpy(dtype=float))
    size = np.where(existing, grown, fac["max_capacity"].to_numpy(dtype=float))
    share = np.full(len(fac), tmp.max_share)
    if "village_site" in fac:
        vs = fac["village_site"].to_numpy(dtype=bool)
        level = fac["level"].to_numpy()
        for lv, band in _SITE_BAND.items():
            share[vs & (level == lv)] = params.village_sites.get(band).temp_share
    return np.floor(share * size), share


def _part_model(sf: pd.DataFrame, r_loc: np.ndarray, c_loc: np.ndarray, per_pupil: np.ndarray,
                students: np.ndarray, s_max: np.ndarray, params: LayoutParams,
                periods: Periods, first: FirstStage | None = None,
                peak: np.ndarray | None = None) -> MultiPeriodLocation:
    """The multi-period model of one part (its facilities ``sf``, its pairs and rows).

    A first stage's blocks are seats the model starts with (capacity plus blocks, their capital
    a cost of the first milestone, where the facility is fixed open), and no further block is
    built by the first milestone (``fix_blocks``); the model's ``blocks`` are those built
    later (:attr:`StagedSubProblem.blocks` adds them back). So the warm start, which builds
    blocks only for the seats its assignment needs, stays a feasible plan.
    """
    annuity = params.costs.annuity
    cap = sf["capacity"].to_numpy(dtype=float)
    block = sf["block"].to_numpy(dtype=float)
    most = s_max if peak is None else np.maximum(s_max, peak.max(axis=0))
    reach = np.bincount(c_loc, weights=most[r_loc], minlength=len(sf))
    need = np.ceil(np.maximum(0.0, reach - cap) / block)
    max_blocks = np.minimum(sf["max_blocks"].to_numpy(), need.astype(np.int64))
    existing = ~sf["is_site"].to_numpy(dtype=bool)
    tmp = params.temporary
    temp_max, temp_share = temp_limits(sf, params)
    w = periods.weight
    fix = schedule(sf, params.fixed, periods.years)  # the planner's decisions win
    fix_blocks = None
    fixed_cost = w[:, None] * sf["fixed_cost"].to_numpy(dtype=float)[None, :]
    if first is not None:
        clash = (fix[0] >= 0) & (first.open_ >= 0) & (fix[0] != first.open_)
        if clash.any():
            j = int(np.flatnonzero(clash)[0])
            raise LayoutError(f"first stage: {sf['fac_id'].iloc[j]} ({sf['level'].iloc[j]}) is "
                              f"fixed {'open' if first.open_[j] else 'closed'} in "
                              f"{periods.years[0]}, against layout.fixed")
        fix[0] = np.where(first.open_ >= 0, first.open_, fix[0])
        held = np.maximum(first.blocks, 0)
        bad = (held > sf["max_blocks"].to_numpy()) | ((held > 0) & (fix[0] != 1))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise LayoutError(f"first stage: {sf['fac_id'].iloc[j]} ({sf['level'].iloc[j]}): "
                              f"{held[j]} blocks by {periods.years[0]}, more than it may build "
                              "or at a school not open then")
        # the fixed blocks may exceed what this scenario's demand would call for
        max_blocks = np.maximum(max_blocks, held) - held
        cap = cap + held * block
        fixed_cost[0] += held * sf["block_cost"].to_numpy() / annuity * periods.capital[0]
        fix_blocks = np.full(fix.shape, -1, dtype=np.int64)
        fix_blocks[0] = np.where(first.blocks >= 0, 0, -1)
    return MultiPeriodLocation.from_pairs(
        r_loc, c_loc, per_pupil[None, :] * students[:, r_loc] * w[:, None], students, len(sf),
        existing=existing, fixed_cost=fixed_cost, period_weight=w,
        capacity=cap,
        closed_cost=periods.once[:, None] * (sf["closed_cost"].to_numpy() / annuity)[None, :],
        force_open=sf["force_open"].to_numpy() & (fix != 0).all(axis=0),
        link_group=sf["link"].to_numpy(),
        fix_open=fix if params.fixed or first is not None else None, fix_blocks=fix_blocks,
        min_load=sf["min_load"].to_numpy(), min_load_exempt=sf["exempt"].to_numpy(),
        expansion_block=block, expansion_cost=sf["block_cost"].to_numpy() / annuity,
        max_blocks=max_blocks, capital_discount=periods.capital,
        temp_cost=np.full(len(sf), tmp.cost_per_seat_year) if temp_max is not None else None,
        temp_max=temp_max,
        # and never more than that share of the seats it has then: no school of temporary
        # seats alone
        temp_share=temp_share,
        unserved_cost=students * params.costs.unserved_cost * w[:, None],
        single_source=True,
        peak_demand=peak, peak_cost=np.full(len(sf), params.costs.unserved_cost),
        # seats built that stand empty at the last milestone lose their residual value
        idle_cost=sf["block_cost"].to_numpy() / annuity / block * periods.residual,
    )


@dataclass(frozen=True)
class StagedSolution:
    """A county's staged plan: one :class:`CountySolution` per period, plus temporary seats."""

    periods: list[CountySolution]
    temporary: np.ndarray  # (T, m)
    records: list[dict[str, object]]


def outside_open(cm: CountyModel, n_periods: int,
                 first: FirstStage | None = None) -> np.ndarray:
    """Open per period of facilities in no part (no demand row may use them), shape (T, m).

    Open in every period only if forced open or if closing them costs more than running them,
    as in the one-year model; a :class:`FirstStage` decides the first milestone (an existing
    school it closes stays closed, a site it builds stays open).
    """
    fac = cm.facilities
    base = fac["force_open"].to_numpy() | (fac["fixed_cost"] < fac["closed_cost"]).to_numpy()
    is_open = np.tile(base, (n_periods, 1))
    if first is not None:
        fixed = first.open_ >= 0
        is_open[0, fixed] = first.open_[fixed] == 1
        existing = ~fac["is_site"].to_numpy(dtype=bool)
        is_open[1:, fixed & existing & (first.open_ == 0)] = False
        is_open[1:, fixed & ~existing & (first.open_ == 1)] = True
    return is_open


def assemble_staged(cm: CountyModel, subs: list[StagedSubProblem], n_periods: int,
                    first: FirstStage | None = None) -> StagedSolution:
    """Put the solved parts of ``cm`` together, period by period.

    Facilities in no part follow :func:`outside_open`.
    """
    fac = cm.facilities
    m, n = len(fac), len(cm.demand)
    is_open = outside_open(cm, n_periods, first)
    load = np.zeros((n_periods, m))
    blocks = np.zeros((n_periods, m), dtype=np.int64)
    temp = np.zeros((n_periods, m))
    assignment = np.full((n_periods, n), -1, dtype=np.int64)
    records: list[dict[str, object]] = []
    for sub in subs:
        mp, f_idx = sub.model, sub.facilities
        is_open[:, f_idx] = mp.open_
        load[:, f_idx] = mp.load
        blocks[:, f_idx] = sub.blocks
        temp[:, f_idx] = mp.temporary
        a = mp.assignment
        assignment[:, sub.rows] = np.where(a >= 0, f_idx[np.maximum(a, 0)], -1)
        records.append({
            "subproblem": sub.name, "solver": mp.solver, "status": str(mp.status),
            "objective": mp.objective, "bound": mp.bound, "gap": mp.gap,
            "greedy": mp.hint_objective, "wall_time": mp.wall_time, "threads": mp.threads,
            "seed": mp.seed, "facilities": f_idx.size, "demand_rows": sub.rows.size,
            "pairs": int(mp.data.rows.size), "nodes": mp.nodes, "stopped_by": mp.stopped_by,
        })
    status = max((str(r["status"]) for r in records), key=SEVERITY.index, default="optimal")
    per = [CountySolution(is_open[t], load[t], blocks[t], assignment[t], status, records)
           for t in range(n_periods)]
    return StagedSolution(per, temp, records)


def outside_cost(cm: CountyModel, subs: Sequence[StagedSubProblem], periods: Periods,
                 params: LayoutParams, first: FirstStage | None = None) -> float:
    """Discounted cost of ``cm``'s facilities in no part (:func:`outside_open`).

    Running cost per year open, closing cost once, as the parts' models count them.
    """
    inside = np.zeros(len(cm.facilities), dtype=bool)
    for s in subs:
        inside[s.facilities] = True
    is_open = outside_open(cm, len(periods.years), first)[:, ~inside]
    fac = cm.facilities[~inside]
    existing = ~fac["is_site"].to_numpy(dtype=bool)
    before = np.vstack([np.ones((1, is_open.shape[1]), dtype=bool), is_open[:-1]])
    closes = existing & before & ~is_open
    closed = fac["closed_cost"].to_numpy(dtype=float) / params.costs.annuity
    return float((is_open * periods.weight[:, None] * fac["fixed_cost"].to_numpy(dtype=float)).sum()
                 + (closes * periods.once[:, None] * closed).sum())


def county_cost(cm: CountyModel, subs: Sequence[StagedSubProblem], periods: Periods,
                params: LayoutParams, first: FirstStage | None = None) -> float:
    """Discounted cost of a county's solved parts plus its facilities in no part.

    ``nan`` when a part has no solution.
    """
    objs = np.array([s.model.objective for s in subs], dtype=float)
    return float(objs.sum()) + outside_cost(cm, subs, periods, params, first)
