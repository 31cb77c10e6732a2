"""Entry point :func:`plan_layout`: per-county models, vocational integration, KPIs, projects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from layout.core.backends import default_threads
from layout.errors import LayoutError
from layout.plan.assemble import assemble_county
from layout.plan.decisions import county_tables
from layout.plan.demand import check_demand
from layout.plan.fixed import check_ids, one_year_flags, outside_cost, price_entries
from layout.plan.frames import prepare
from layout.plan.kpis import compute_kpis
from layout.plan.model import (
    CountyModel,
    Solvable,
    SubProblem,
    build_county,
    make_subproblems,
    solve_subproblem,
    split_demand,
)
from layout.plan.params import FixedDecision, LayoutParams
from layout.plan.result import LayoutPlan
from layout.plan.travel import RoadNetwork
from layout.plan.vocational_step import add_vocational, prefecture_of
from layout.plan.zones import junior_zones
from schoolsystem.errors import ProjectError
from schoolsystem.schemas import (
    ASSIGNMENT_COLUMNS,
    PROJECT_COLUMNS,
    SCHOOL_COLUMNS,
    SOLVER_COLUMNS,
    UNSERVED_COLUMNS,
)

Progress = Callable[[str, int, int], None]

RECORD_EXTRA = ("solver", "greedy", "facilities", "demand_rows", "pairs", "nodes", "stopped_by",
                "reason")
"""Solver-record columns beyond :data:`SOLVER_COLUMNS`: back end, cost of the greedy warm start
(fallback) plan, sub-problem size, branch-and-bound nodes and what stopped the search short of
the gap (``time``, ``nodes``) and, for a county that could not be planned, the reason."""


def plan_layout(
    region: Any, demand: pd.DataFrame, params: LayoutParams | None = None, *, target_year: int,
    time_limit: float = 30, threads: int | None = None, seed: int = 0,
    progress: Progress | None = None,
    counties: list[str] | None = None,
) -> LayoutPlan:
    """Plan the school layout of ``region`` for ``target_year``.

    Parameters
    ----------
    region : Region
        From :func:`layout.region.load_region` (or an object with the same tables).
    demand : DataFrame
        demand_id (village_id), level, grade_band, students for the target year
        (:func:`layout.pipeline.demand_for_year` makes it from the forecast).
    params : LayoutParams, optional
        Rules and costs (defaults documented in :mod:`layout.plan.params`).
    target_year : int
        Year the demand refers to (recorded in the plan).
    time_limit : float
        Seconds per sub-problem: each county is split into independent sub-problems (connected
        components, see :func:`layout.plan.model.subproblems`), each solved with this limit
        and stopped earlier at ``params.mip_gap``. Every sub-problem gets a plan even at a tiny
        limit (greedy fallback, status ``fallback_greedy`` in ``solver_records``).
    threads : int, optional
        Solver threads: CP-SAT workers, or the number of sub-problems solved at once by the
        single-threaded SCIP / HiGHS (default ``min(8, cpu count)``).
    seed : int
        Solver seed; the same inputs, seed and threads give the same plan (when no sub-problem
        stops at its time limit: a time-limited search depends on the machine's speed).
    progress : callable, optional
        Called as ``progress(county_code, i, n)`` before each county's model is built.
    counties : list of str, optional
        Plan only these counties (the vocational integration still covers every county: it is
        the city's, per prefecture in a province, see :mod:`layout.plan.vocational_step`);
        default all.

    Returns
    -------
    LayoutPlan
        A county that cannot be planned (its model, solve or tables raise) is left out and the
        others are planned: the plan's notes say ``county <code> was not planned: <reason>`` and
        ``solver_records`` has a row with status ``failed`` for it.

    Raises
    ------
    LayoutError
        If no county could be planned.

    """
    p = params or LayoutParams()
    fr = prepare(region, check_demand(demand), p.township_seat_radius_km)
    roads = (RoadNetwork.from_file(p.travel.road_network, region.projected_crs)
             if p.travel.road_network else None)
    fac_all, dem_all = fr.facilities, fr.demand
    is_voc_f, is_voc_d = fac_all["level"] == "vocational", dem_all["level"] == "vocational"
    dem_split = split_demand(dem_all[~is_voc_d], p.split_students)
    if counties is not None:
        unknown = sorted(set(counties) - set(fr.terrain))
        if unknown:
            raise LayoutError(f"unknown county codes {unknown}; known: {sorted(fr.terrain)}")
    counties = sorted(fr.terrain) if counties is None else sorted(set(counties))
    check_ids(p.fixed, fac_all)
    parts = _PlanParts()
    base, _ = _build_models(counties, fr, fac_all[~is_voc_f], dem_split, p, roads, seed,
                            parts, progress, make_subs=False, transition=bool(p.fixed))
    models = [one_year_flags(cm, p.fixed, target_year) for cm in base]
    subs = [_one_year_subs(cm, p, parts) for cm in models]
    _solve_all([s for part in subs for s in part], p, time_limit, threads, seed, parts.failed)
    for cm, part in zip(models, subs, strict=True):
        _add_county(cm, part, p, parts)
    fixed = _price_fixed(p, base, parts, target_year, time_limit, seed)
    add_vocational(fac_all[is_voc_f], dem_all[is_voc_d], fr.terrain, p, seed, parts,
                   prefecture_of(region))
    parts.notes.extend(_report_failures(parts.failed, parts.records, seed))
    if not parts.schools:
        if parts.internal is not None:  # a defect, not the data: let it surface as one
            raise parts.internal
        raise LayoutError("no county could be planned: " + "; ".join(parts.notes))
    plan = _plan_from_parts(parts, p, target_year)
    plan.fixed_decisions = fixed
    return plan


def _price_fixed(p: LayoutParams, base: list[CountyModel], parts: _PlanParts, year: int,
                 time_limit: float, seed: int) -> pd.DataFrame | None:
    """Price of each of the planner's fixed decisions (None without any)."""
    if not p.fixed:
        return None
    planned = [cm for cm in base if cm.county_code not in parts.failed]
    return price_entries(p.fixed, planned, _one_year_part_cost(p, year, time_limit, seed))


def _one_year_subs(cm: CountyModel, p: LayoutParams, parts: _PlanParts) -> list[SubProblem]:
    try:
        return make_subproblems(cm, p)
    except Exception as exc:  # one county that cannot be planned must not stop the others
        parts.fail(cm.county_code, exc)
        return []


def _one_year_part_cost(p: LayoutParams, year: int, time_limit: float,
                        seed: int) -> Callable[[CountyModel, list[FixedDecision], np.ndarray],
                                               float]:
    """Cost of the part holding given facilities, solved under given fixed decisions."""
    def cost(cm: CountyModel, entries: list[FixedDecision], cols: np.ndarray) -> float:
        q = p.model_copy(update={"fixed": entries})
        flagged = one_year_flags(cm, entries, year)
        sub = next((s for s in make_subproblems(flagged, q)
                    if np.isin(cols, s.facilities).any()), None)
        if sub is None:  # no demand may reach them: their own running or closing cost
            return outside_cost(flagged, cols)
        solve_subproblem(sub, q, time_limit=time_limit, threads=1, seed=seed)
        return float(sub.model.objective)
    return cost


@dataclass
class _PlanParts:
    """Tables of the planned counties and the city-wide vocational step, gathered in order."""

    schools: list[pd.DataFrame] = field(default_factory=list)
    assignments: list[pd.DataFrame] = field(default_factory=list)
    unserved: list[pd.DataFrame] = field(default_factory=list)
    before: list[pd.DataFrame] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    internal: BaseException | None = None
    """The first failure that was not a data or scenario problem (re-raised if nothing planned)."""

    def fail(self, key: str, exc: BaseException) -> None:
        """Set aside county ``key`` ("" = the vocational step) with the reason of ``exc``."""
        self.failed[key] = failure_reason(exc)
        if self.internal is None and not isinstance(exc, ProjectError):
            self.internal = exc


def _build_models(
    counties: list[str], fr: Any, fac: pd.DataFrame, dem_split: pd.DataFrame, p: LayoutParams,
    roads: RoadNetwork | None, seed: int, parts: _PlanParts, progress: Progress | None,
    make_subs: bool = True, transition: bool = False,
    on_model: Callable[[CountyModel], None] | None = None,
) -> tuple[list[CountyModel], list[list[SubProblem]]]:
    """County models and their one-year sub-problems (``make_subs``).

    A county that cannot be built is set aside (``parts.failed``). ``on_model`` is called with
    each model as soon as it is built (e.g. to start solving it while the next is built).
    """
    models: list[CountyModel] = []
    subs: list[list[SubProblem]] = []
    for i, county in enumerate(counties):
        if progress is not None:
            progress(county, i, len(counties))
        try:  # one county that cannot be planned must not stop the others
            cm = _build_county_model(county, fr, fac, dem_split, p, roads, seed, parts.notes,
                                     transition)
            part = make_subproblems(cm, p) if cm is not None and make_subs else []
        except Exception as exc:
            parts.fail(county, exc)
            continue
        if cm is not None:
            models.append(cm)
            subs.append(part)
            if on_model is not None:
                on_model(cm)
    return models, subs


def _add_county(cm: CountyModel, subs: list[SubProblem], p: LayoutParams,
                parts: _PlanParts) -> None:
    """Assemble one solved county into ``parts`` (or record why it could not be)."""
    if cm.county_code in parts.failed:
        return
    try:
        solution = assemble_county(cm, subs)
        s, a, u, b = county_tables(cm, solution, p)
    except Exception as exc:  # isolate the county, as when building it
        parts.fail(cm.county_code, exc)
        return
    parts.schools.append(s)
    parts.assignments.append(a)
    parts.unserved.append(u)
    parts.before.append(b)
    parts.records.extend({"county_code": cm.county_code, **r} for r in solution.records)


def _plan_from_parts(parts: _PlanParts, p: LayoutParams, target_year: int) -> LayoutPlan:
    """The LayoutPlan: whole numbers where people read them, KPIs and the project list."""
    schools = pd.concat(parts.schools, ignore_index=True)
    for col in ("seats_added", "beds_added", "capacity_base", "capacity_after"):
        schools[col] = np.round(schools[col]).astype(np.int64)
    schools["boarders"] = np.round(schools["boarders"]).astype(np.int64)
    # a one-year plan takes every decision in its target year
    schools["action_year"] = pd.array(np.where(schools["action"] != "keep", target_year, 0),
                                      dtype="Int64")
    schools.loc[schools["action"] == "keep", "action_year"] = pd.NA
    before = pd.concat(parts.before, ignore_index=True)
    kpis = compute_kpis(schools, before, p)
    projects = _projects(schools, p).assign(year=int(target_year))
    projects = projects.loc[:, list(PROJECT_COLUMNS)]
    out_schools = schools.loc[:, list(SCHOOL_COLUMNS)].sort_values(
        ["county_code", "school_id", "level"]).reset_index(drop=True)
    return LayoutPlan(
        schools=out_schools,
        assignments=_concat(parts.assignments, ASSIGNMENT_COLUMNS,
                            ["demand_id", "grade_band", "school_id"]),
        unserved=_concat(parts.unserved, UNSERVED_COLUMNS, ["demand_id", "grade_band"]),
        kpis=kpis, projects=projects,
        solver_records=pd.DataFrame(parts.records, columns=[*SOLVER_COLUMNS, *RECORD_EXTRA]),
        seats_added_total=int(schools["seats_added"].sum()), target_year=int(target_year),
        params=p, city_target_seats=p.city_target_seats, notes=parts.notes,
    )


FAILED_STATUS = "failed"
"""Solver-record status of a county that could not be planned (``reason`` says why)."""

NOT_PLANNED = "was not planned"
"""Words of the note ``county <code> was not planned: <reason>``."""


def failure_reason(exc: BaseException) -> str:
    """One-line reason of a county's failure.

    The message of a data or scenario problem, else ``internal error <Type>: <message>`` (a
    defect to report, not a problem of the data).
    """
    text = " ".join(str(exc).split())
    if isinstance(exc, ProjectError):
        return text or type(exc).__name__
    return f"internal error {type(exc).__name__}: {text}"


def _report_failures(failed: dict[str, str], records: list[dict], seed: int) -> list[str]:
    """Add one ``failed`` solver record per county that was not planned; return its notes."""
    for county, reason in sorted(failed.items()):
        records.append({"county_code": county, "subproblem": "county" if county else "vocational",
                        "solver": "",
                        "status": FAILED_STATUS, "objective": np.nan, "bound": np.nan,
                        "gap": np.nan, "wall_time": np.nan, "threads": 0, "seed": seed,
                        "reason": reason})
    return [f"{f'county {county}' if county else 'the vocational integration'} "
            f"{NOT_PLANNED}: {reason}" for county, reason in sorted(failed.items())]


def _build_county_model(
    county: str, fr: Any, fac_all: pd.DataFrame, dem_split: pd.DataFrame, p: LayoutParams,
    roads: RoadNetwork | None, seed: int, notes: list[str], transition: bool = False,
) -> CountyModel | None:
    """Junior zones and the model of one county (``None`` when it has no schools nor demand)."""
    tw = fr.townships[fr.townships["county_code"] == county]
    fac = fac_all[fac_all["county_code"] == county]
    dem = dem_split[dem_split["county_code"] == county]
    if fac.empty and dem.empty:
        return None
    vil = dem.drop_duplicates("demand_id")
    jr = dem[dem["grade_band"] == "junior"].groupby("demand_id")["students"].sum()
    jf = fac[fac["level"] == "junior"]
    zones = junior_zones(
        county, tw, vil[["x", "y"]].to_numpy(), jr.reindex(vil["demand_id"]).fillna(0).to_numpy(),
        vil["township_code"].to_numpy(), jf[["x", "y"]].to_numpy(), jf["township_code"].to_numpy(),
        zone_size=p.zone_size_students, seed=seed,
    )
    if zones.proposed:
        notes.append(zones.note)
    return build_county(county, fac, dem, tw, fr.terrain[county], zones, p, roads, transition)


def task_threads(p: LayoutParams, threads: int | None) -> int:
    """Threads of one solver task on a cluster: CP-SAT uses ``threads``, the others one."""
    return (default_threads() if threads is None else max(1, int(threads))) \
        if p.solver == "sat" else 1


def _solve_all(
    subs: Sequence[Solvable], p: LayoutParams, time_limit: float, threads: int | None, seed: int,
    failed: dict[str, str] | None = None, executor: Any = None,
) -> None:
    """Solve every sub-problem; single-threaded back ends run ``threads`` at a time.

    SCIP and HiGHS use one thread each (see :mod:`layout.core.backends`), so independent
    sub-problems are spread over ``threads`` worker threads (the solvers release the GIL),
    largest first; CP-SAT uses ``threads`` workers itself, one sub-problem at a time. Each
    solve depends only on its own model, seed and limit, never on the schedule. With ``failed``,
    a sub-problem that raises marks its county as failed (county code -> reason) instead of
    stopping the others.

    With ``executor`` (default: the one set by :func:`layout.distributed.using`, e.g. by
    ``schoolplan run --scheduler local``) every sub-problem is a Dask task instead; results are
    taken back in a fixed order, so the plan is the same.
    """
    workers = default_threads() if threads is None else max(1, int(threads))
    if executor is None:
        from layout.distributed import current_executor

        executor = current_executor()
    if executor is not None:
        executor.solve(subs, p, time_limit=time_limit, threads=task_threads(p, threads),
                       seed=seed, failed=failed)
        return
    order = sorted(subs, key=lambda s: -s.size)

    def solve(sub: Solvable, n_threads: int) -> None:
        try:
            solve_subproblem(sub, p, time_limit=time_limit, threads=n_threads, seed=seed)
        except Exception as exc:
            if failed is None:
                raise
            failed.setdefault(sub.county_code, f"{sub.name}: {failure_reason(exc)}")

    if p.solver == "sat" or workers == 1:
        for sub in order:
            solve(sub, workers)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda sub: solve(sub, 1), order))


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...], keys: list[str]) -> pd.DataFrame:
    parts = [x for x in parts if len(x)]
    if not parts:
        return pd.DataFrame({c: [] for c in columns})
    df = pd.concat(parts, ignore_index=True).loc[:, list(columns)]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def _projects(schools: pd.DataFrame, p: LayoutParams) -> pd.DataFrame:
    pr = schools[schools["action"].isin(["new", "expand"])
                 & ((schools["seats_added"] > 0) | (schools["beds_added"] > 0))].copy()
    pr = pr.sort_values(["county_code", "school_id", "level"])
    pr["project_id"] = [f"P{i + 1:04d}" for i in range(len(pr))]
    pr["kind"] = np.where(pr["action"] == "new", "new", "expansion")
    pr["seats"] = pr["seats_added"]
    pr["beds"] = pr["beds_added"]
    per_seat = (pr["capital_per_seat"].fillna(p.costs.capital_per_seat).to_numpy(dtype=float)
                if "capital_per_seat" in pr else p.costs.capital_per_seat)
    pr["capital_cost"] = pr["seats"] * per_seat + pr["beds"] * p.costs.capital_per_bed
    return pr.loc[:, [c for c in PROJECT_COLUMNS if c != "year"]].reset_index(drop=True)
