"""Entry point :func:`plan_staged`: a plan timed over the milestones, one decision year per school.

The county models are those of :func:`layout.plan.plan_layout`; each independent part is solved
as one multi-period model (:mod:`layout.plan.staged_model`), and each milestone is then read as
a one-year plan (:func:`layout.plan.decisions.county_tables`), so every rule, reason and KPI of
the one-year plan holds at every milestone. The schools table says what happens to each school
and in which year (``action``, ``action_year``), with its seats, pupils and temporary seats at
every milestone (``capacity_<year>``, ``enrollment_<year>``, ``temporary_<year>``).

Secondary vocational schools are integrated for the target year (Measure 6), per prefecture
(city) in a province, as in the one-year plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.parallel import map_tasks
from layout.errors import LayoutError
from layout.plan.demand import check_demand
from layout.plan.fixed import apply, check_ids, outside_cost, price_entries
from layout.plan.frames import prepare
from layout.plan.kpis import compute_kpis
from layout.plan.model import CountyModel, solve_subproblem
from layout.plan.p90 import round_table
from layout.plan.params import FixedDecision, LayoutParams
from layout.plan.planner import (
    RECORD_EXTRA,
    Progress,
    _build_models,
    _concat,
    _PlanParts,
    _report_failures,
    _solve_all,
    task_threads,
)
from layout.plan.result import LayoutPlan
from layout.plan.staged_finish import CountyTablesInput, county_tables_task
from layout.plan.staged_model import (
    FirstStage,
    Periods,
    StagedSubProblem,
    make_staged_subproblems,
    p90_by_period,
    p90_index,
    p90_students,
    with_p90,
)
from layout.plan.staged_tables import (
    combine_schools,
    staged_projects,
    staged_summary,
    timeline,
)
from layout.plan.travel import RoadNetwork
from layout.plan.vocational_step import add_vocational, prefecture_of
from schoolsystem.schemas import (
    ASSIGNMENT_COLUMNS,
    SCHOOL_COLUMNS,
    SOLVER_COLUMNS,
    UNSERVED_COLUMNS,
)

RECORD_COLUMNS = (*SOLVER_COLUMNS, *RECORD_EXTRA)


def stage_demand(demand_by_year: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per demand row: students per milestone (``s0, s1, ...``) and their maximum.

    Examples
    --------
    >>> d = {2025: pd.DataFrame({"demand_id": ["v"], "level": ["junior"], "grade_band":
    ...      ["junior"], "students": [10.0]}), 2030: pd.DataFrame({"demand_id": ["v"],
    ...      "level": ["junior"], "grade_band": ["junior"], "students": [14.0]})}
    >>> stage_demand(d)[["s0", "s1", "students"]].to_numpy().tolist()
    [[10.0, 14.0, 14.0]]

    """
    keys = ["demand_id", "level", "grade_band"]
    wide = None
    for t, year in enumerate(sorted(demand_by_year)):
        d = check_demand(demand_by_year[year]).rename(columns={"students": f"s{t}"})
        wide = d if wide is None else wide.merge(d, on=keys, how="outer")
    if wide is None:
        raise LayoutError("staged plan: no milestone demand given")
    cols = [f"s{t}" for t in range(len(demand_by_year))]
    wide[cols] = wide[cols].fillna(0.0)
    wide["students"] = wide[cols].max(axis=1)
    return wide.sort_values(keys, kind="stable").reset_index(drop=True)


def with_envelope(wide: pd.DataFrame, envelope: pd.DataFrame, n_periods: int) -> pd.DataFrame:
    """``wide`` (:func:`stage_demand`) whose ``students`` is at least ``envelope``'s.

    ``students`` (the largest demand of a row) shapes the model — village sites, how rows are
    split, junior zones, exemptions — while ``s0, s1, ...`` carry the demand served. Built on a
    common envelope, the county models of several scenarios hold the same facilities and rows.
    Rows only in ``envelope`` get no demand in any milestone.

    Examples
    --------
    >>> w = pd.DataFrame({"demand_id": ["v"], "level": ["junior"], "grade_band": ["junior"],
    ...                   "s0": [10.0], "students": [10.0]})
    >>> e = pd.DataFrame({"demand_id": ["v", "w"], "level": ["junior"] * 2,
    ...                   "grade_band": ["junior"] * 2, "students": [12.0, 5.0]})
    >>> with_envelope(w, e, 1)[["demand_id", "s0", "students"]].to_numpy().tolist()
    [['v', 10.0, 12.0], ['w', 0.0, 5.0]]

    """
    keys = ["demand_id", "level", "grade_band"]
    env = envelope.groupby(keys, as_index=False)["students"].max().rename(
        columns={"students": "_env"})
    out = wide.merge(env, on=keys, how="outer")
    cols = [f"s{t}" for t in range(n_periods)]
    out[cols] = out[cols].fillna(0.0)
    out["students"] = np.fmax(out["students"].to_numpy(dtype=float),
                              out.pop("_env").to_numpy(dtype=float))
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _own_catchment(cm: CountyModel, n_periods: int) -> CountyModel:
    """``cm`` (built on an envelope) with the own-demand exemption from the minimum size.

    A school whose whole reachable demand stays below its minimum size in this scenario is
    exempt, as in the scenario's own model (the envelope's larger demand would not exempt it).
    """
    own = cm.demand[[f"s{t}" for t in range(n_periods)]].to_numpy(dtype=float).max(axis=1)
    fac, pairs = cm.facilities.copy(), cm.pairs
    reach = np.bincount(pairs["col"].to_numpy(), weights=own[pairs["row"].to_numpy()],
                        minlength=len(fac))
    small = ((reach < fac["min_load"].to_numpy() - 1e-9) & ~fac["is_site"].to_numpy(dtype=bool)
             & ~fac["exempt"].to_numpy(dtype=bool))
    fac.loc[small, "exempt"] = True
    fac.loc[small, "exempt_why"] = "catchment"
    return dataclasses.replace(cm, facilities=fac)


def _split(dem: pd.DataFrame, max_students: int, n_periods: int) -> pd.DataFrame:
    """Split rows whose largest demand exceeds ``max_students`` into equal parts (all years)."""
    d = dem[dem["students"] > 0].copy()
    parts = np.maximum(1, np.ceil(d["students"] / max_students)).astype(int)
    d = d.loc[d.index.repeat(parts)].copy()
    d["part"] = d.groupby(level=0).cumcount()
    div = parts.loc[d.index].to_numpy()
    for col in ["students", *(f"s{t}" for t in range(n_periods))]:
        d[col] = d[col].to_numpy() / div
    return d.reset_index(drop=True)


@dataclass
class StagedRun:
    """A staged plan between its sub-problems and its tables (:func:`prepare_staged`).

    :func:`plan_staged` is :func:`prepare_staged`, :func:`solve_staged` and
    :func:`finish_staged`; a robust run (:mod:`layout.plan.robust`) solves the sub-problems of
    several scenarios, replaces some of them by re-solves with another first stage
    (``subs`` and ``first``), then finishes each.

    Attributes
    ----------
    years : list of int
        The milestones.
    target_year : int
        The milestone of the one-year views.
    params : LayoutParams
    periods : Periods
    base, models : list of CountyModel
        The county models before and after the planner's fixed decisions are marked.
    subs : list of list of StagedSubProblem
        The parts of each model (same order as ``models``).
    parts : _PlanParts
        Records, notes and the counties set aside.
    first : dict of str to FirstStage
        Decisions fixed at the first milestone, per county code.
    prefectures : dict of str to str
        County code -> prefecture code (the vocational integration is per prefecture).

    """

    years: list[int]
    target_year: int
    params: LayoutParams
    periods: Periods
    fac_all: pd.DataFrame
    dem_all: pd.DataFrame
    terrain: dict[str, str]
    base: list[CountyModel]
    models: list[CountyModel]
    subs: list[list[StagedSubProblem]]
    parts: _PlanParts
    seed: int
    first: dict[str, FirstStage] = field(default_factory=dict)
    prefectures: dict[str, str] = field(default_factory=dict)


def plan_staged(
    region: Any, demand_by_year: Mapping[int, pd.DataFrame], params: LayoutParams | None = None,
    *, target_year: int, time_limit: float = 30, threads: int | None = None, seed: int = 0,
    progress: Progress | None = None, counties: list[str] | None = None,
    demand_p90_by_year: Mapping[int, pd.DataFrame] | None = None,
    first_stage: Mapping[str, FirstStage] | None = None,
) -> LayoutPlan:
    """Plan the school layout of ``region`` over the milestone years of ``demand_by_year``.

    Parameters
    ----------
    region : Region
        From :func:`layout.region.load_region`.
    demand_by_year : mapping of int to DataFrame
        Milestone year -> demand rows (``demand_id, level, grade_band, students``).
    params : LayoutParams, optional
        Rules and costs, temporary seats (``temporary``) and the horizon after the last
        milestone (``last_period_years``).
    target_year : int
        A milestone: the year of the one-year views (``assignments``, ``kpis``, the map).
    time_limit, threads, seed, progress, counties
        As for :func:`layout.plan.plan_layout` (``time_limit`` per part of a county).
    demand_p90_by_year : mapping, optional
        The same at the P90 of the forecast: every school is sized so that its catchment fits
        at the P90 with temporary seats at most; reported in ``timeline`` (``demand_p90``) and
        checked in ``p90_check``.
    first_stage : mapping of str to FirstStage, optional
        County code -> decisions fixed at the first milestone (on that county's model
        facilities, :func:`prepare_staged`); the later milestones stay free.

    Returns
    -------
    LayoutPlan
        With ``milestones``, ``timeline``, ``assignments_by_year``, ``unserved_by_year``.

    """
    queue = _solve_queue(params or LayoutParams(), time_limit, threads, seed)
    run = prepare_staged(region, demand_by_year, params, target_year=target_year, seed=seed,
                         progress=progress, counties=counties, first_stage=first_stage,
                         demand_p90_by_year=demand_p90_by_year,
                         on_subs=None if queue is None else queue.add)
    if queue is None:
        solve_staged(run, time_limit=time_limit, threads=threads)
    else:
        queue.finish(run.parts.failed)
    return finish_staged(run, time_limit=time_limit, demand_p90_by_year=demand_p90_by_year)


def _solve_queue(p: LayoutParams, time_limit: float, threads: int | None, seed: int) -> Any:
    """The executor's solve queue (a cluster, :func:`layout.distributed.using`), else ``None``.

    In-process, the sub-problems are solved after they are all built, largest first.
    """
    from layout.distributed import current_executor

    executor = current_executor()
    if executor is None:
        return None
    return executor.queue(p, time_limit=time_limit, threads=task_threads(p, threads), seed=seed)


def prepare_staged(
    region: Any, demand_by_year: Mapping[int, pd.DataFrame], params: LayoutParams | None = None,
    *, target_year: int, seed: int = 0, progress: Progress | None = None,
    counties: list[str] | None = None, first_stage: Mapping[str, FirstStage] | None = None,
    envelope: pd.DataFrame | None = None,
    demand_p90_by_year: Mapping[int, pd.DataFrame] | None = None,
    on_subs: Callable[[list[StagedSubProblem]], None] | None = None,
) -> StagedRun:
    """County models and their (unsolved) staged sub-problems; arguments as :func:`plan_staged`.

    ``on_subs`` is called with each county's sub-problems as soon as they are made (e.g.
    :meth:`layout.distributed.SolveQueue.add`, so that the workers solve while the next county
    is built).

    With ``demand_p90_by_year`` every school is sized so that its catchment fits at the P90
    with temporary seats at most (:func:`layout.plan.staged_model.with_p90`).

    ``envelope`` (rows ``demand_id, level, grade_band, students``) shapes the models instead of
    each row's own largest demand where it is larger (:func:`with_envelope`).
    """
    p = params or LayoutParams()
    years = sorted(demand_by_year)
    if target_year not in years:
        raise LayoutError(f"target year {target_year} is not a milestone {years}")
    wide = stage_demand(demand_by_year)
    if envelope is not None:
        wide = with_envelope(wide, envelope, len(years))
    fr = prepare(region, wide, p.township_seat_radius_km)
    roads = (RoadNetwork.from_file(p.travel.road_network, region.projected_crs)
             if p.travel.road_network else None)
    fac_all, dem_all = fr.facilities, fr.demand
    voc_f, voc_d = fac_all["level"] == "vocational", dem_all["level"] == "vocational"
    if counties is not None and sorted(set(counties) - set(fr.terrain)):
        raise LayoutError(f"unknown county codes {sorted(set(counties) - set(fr.terrain))}")
    counties = sorted(fr.terrain) if counties is None else sorted(set(counties))
    check_ids(p.fixed, fac_all)
    parts = _PlanParts()
    p90 = None if demand_p90_by_year is None else p90_index(stage_demand(demand_p90_by_year))
    periods = Periods.from_params(years, int(region.base_year), p)
    first = dict(first_stage or {})
    base: list[CountyModel] = []
    models: list[CountyModel] = []
    subs: list[list[StagedSubProblem]] = []

    def staged(cm: CountyModel) -> None:  # one county, as soon as its model is built
        if envelope is not None:
            cm = _own_catchment(cm, len(years))
        if p90 is not None:
            cm = with_p90(cm, p90, len(years))
        model = apply(cm, p.fixed)
        part = _staged_subs(model, p, periods, parts, first.get(model.county_code))
        base.append(cm)
        models.append(model)
        subs.append(part)
        if on_subs is not None and part:
            on_subs(part)

    _build_models(counties, fr, fac_all[~voc_f],
                  _split(dem_all[~voc_d], p.split_students, len(years)), p, roads, seed, parts,
                  progress, make_subs=False, transition=True, on_model=staged)
    return StagedRun(years, int(target_year), p, periods, fac_all, dem_all, dict(fr.terrain),
                     base, models, subs, parts, seed, first, prefecture_of(region))


def solve_staged(run: StagedRun, *, time_limit: float = 30, threads: int | None = None) -> None:
    """Solve every sub-problem of ``run`` (a county whose part fails is set aside)."""
    _solve_all([s for part in run.subs for s in part], run.params, time_limit, threads, run.seed,
               run.parts.failed)


def finish_staged(run: StagedRun, *, time_limit: float = 30,
                  demand_p90_by_year: Mapping[int, pd.DataFrame] | None = None) -> LayoutPlan:
    """The plan of a solved ``run``: fixed decisions priced, tables per milestone, P90 check."""
    p, years, parts, seed = run.params, run.years, run.parts, run.seed
    fac_all, dem_all = run.fac_all, run.dem_all
    voc_f, voc_d = fac_all["level"] == "vocational", dem_all["level"] == "vocational"
    fixed = (price_entries(p.fixed, [cm for cm in run.base if cm.county_code not in parts.failed],
                           _staged_part_cost(p, run.periods, time_limit, seed))
             if p.fixed else None)
    p90 = None
    if demand_p90_by_year is not None:
        p90 = stage_demand(demand_p90_by_year)
        county = dem_all.drop_duplicates("demand_id").set_index("demand_id")["county_code"]
        p90["county_code"] = p90["demand_id"].map(county)
    by_year, checks = _period_tables(run, p90)
    target_year = run.target_year
    t_idx = years.index(target_year)
    target_voc = dem_all[voc_d].assign(students=dem_all.loc[voc_d, f"s{t_idx}"])
    add_vocational(fac_all[voc_f], target_voc, run.terrain, p, seed, by_year[target_year],
                   run.prefectures)
    parts.notes.extend(by_year[target_year].notes)
    parts.notes.extend(_report_failures(parts.failed, parts.records, seed))
    if not by_year[target_year].schools:
        if parts.internal is not None:
            raise parts.internal
        raise LayoutError("no county could be planned: " + "; ".join(parts.notes))
    check = None
    if p90 is not None:
        check = round_table(pd.concat(checks, ignore_index=True)) if checks else None
    plan = _staged_plan(by_year, years, target_year, parts, p, dem_all, p90)
    plan.p90_check = check
    plan.fixed_decisions = fixed
    return plan


def _staged_part_cost(p: LayoutParams, periods: Periods, time_limit: float,
                      seed: int) -> Callable[[CountyModel, list[FixedDecision], np.ndarray],
                                             float]:
    """Discounted cost of the part holding given facilities under given fixed decisions."""
    def cost(cm: CountyModel, entries: list[FixedDecision], cols: np.ndarray) -> float:
        q = p.model_copy(update={"fixed": entries})
        marked = apply(cm, entries)
        sub = next((s for s in make_staged_subproblems(marked, q, periods)
                    if np.isin(cols, s.facilities).any()), None)
        if sub is None:  # no demand may reach them: yearly running or one-off closing cost
            return outside_cost(marked, cols) * float(periods.weight.sum())
        solve_subproblem(sub, q, time_limit=time_limit, threads=1, seed=seed)
        return float(sub.model.objective)
    return cost


def _p90_rows(cm: CountyModel, p90: pd.DataFrame, n_periods: int) -> np.ndarray:
    """P90 students per period and demand row: those the model was built with, if any."""
    rows = p90_by_period(cm, n_periods)
    return p90_students(cm, p90, n_periods) if rows is None else rows


def _staged_subs(cm: CountyModel, p: LayoutParams, periods: Periods, parts: _PlanParts,
                 first: FirstStage | None = None) -> list[StagedSubProblem]:
    try:
        return make_staged_subproblems(cm, p, periods, first)
    except Exception as exc:  # one county that cannot be planned must not stop the others
        parts.fail(cm.county_code, exc)
        return []


def _period_tables(run: StagedRun, p90: pd.DataFrame | None
                   ) -> tuple[dict[int, _PlanParts], list[pd.DataFrame]]:
    """One-year tables of every county at every milestone, and their P90 checks.

    One task per county (:func:`layout.plan.staged_finish.county_tables_task`, through
    :func:`forecasting.parallel.map_tasks`); a county whose tables fail is set aside.
    """
    years, parts = run.years, run.parts
    items = [CountyTablesInput(cm, part, years, run.params, run.first.get(cm.county_code),
                               None if p90 is None else _p90_rows(cm, p90, len(years)), run.seed)
             for cm, part in zip(run.models, run.subs, strict=True)
             if cm.county_code not in parts.failed]
    by_year = {y: _PlanParts() for y in years}
    checks: list[pd.DataFrame] = []
    for res in map_tasks(county_tables_task, items):
        if res.error is not None or res.solution is None:
            parts.fail(res.county_code, res.error or RuntimeError("no plan"))
            continue
        for year, s, a, u, b in res.tables:
            bucket = by_year[year]
            bucket.schools.append(s)
            bucket.assignments.append(a)
            bucket.unserved.append(u)
            bucket.before.append(b)
        parts.records.extend({"county_code": res.county_code, **r}
                             for r in res.solution.records)
        if res.p90_check is not None:
            checks.append(res.p90_check)
    return by_year, checks


def _staged_plan(by_year: dict[int, _PlanParts], years: list[int], target_year: int,
                 parts: _PlanParts, p: LayoutParams, dem_all: pd.DataFrame,
                 p90: pd.DataFrame | None) -> LayoutPlan:
    """The LayoutPlan of a staged run: staged schools, timeline, projects; target-year views."""
    schools_y = {y: pd.concat(b.schools, ignore_index=True) for y, b in by_year.items()
                 if b.schools}
    target = by_year[target_year]
    target_schools = schools_y[target_year]
    schools = combine_schools(schools_y, years, target_year)
    summary = staged_summary(schools, years)
    kpis = compute_kpis(target_schools, pd.concat(target.before, ignore_index=True), p)
    projects = staged_projects(schools_y, years, p)
    assign_y = pd.concat([_concat(b.assignments, ASSIGNMENT_COLUMNS, ["demand_id", "grade_band",
                                                                      "school_id"]).assign(year=y)
                          for y, b in by_year.items()], ignore_index=True)
    unserved_y = pd.concat([_concat(b.unserved, UNSERVED_COLUMNS, ["demand_id", "grade_band"])
                            .assign(year=y) for y, b in by_year.items()], ignore_index=True)
    return LayoutPlan(
        schools=schools.loc[:, [*SCHOOL_COLUMNS, *[c for c in schools if c not in
                                                     SCHOOL_COLUMNS]]],
        assignments=assign_y[assign_y["year"] == target_year].drop(columns="year")
        .reset_index(drop=True),
        unserved=unserved_y[unserved_y["year"] == target_year].drop(columns="year")
        .reset_index(drop=True),
        kpis=kpis, projects=projects,
        solver_records=pd.DataFrame(parts.records, columns=list(RECORD_COLUMNS)),
        seats_added_total=int(projects["seats"].sum()) if len(projects) else 0,
        target_year=int(target_year), params=p, city_target_seats=p.city_target_seats,
        notes=parts.notes, milestones=list(years),
        timeline=timeline(schools_y, dem_all, years, p90),
        assignments_by_year=assign_y, unserved_by_year=unserved_y, staged_summary=summary,
    )
