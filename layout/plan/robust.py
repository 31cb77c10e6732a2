"""One staged plan robust to the forecast: a first stage shared by every scenario, per county.

Method — *minimax-regret choice among the scenarios' own first stages, per county*:

1. each scenario's staged plan is solved on its own (:func:`layout.plan.staged.plan_staged`):
   its optimum, whose cost per county is the sum of its parts' objectives (discounted cost over
   the horizon) plus the running or closing cost of the facilities in no part. Every
   scenario's county models are built on the envelope of all scenarios' demand
   (:func:`layout.plan.staged.with_envelope`: the largest demand of each row over scenarios and
   milestones decides the village sites, the split of rows, junior zones and exemptions), so
   they hold the same schools, sites and journeys; a school exempt from the minimum size in
   one scenario (its catchment never reaches it there) is exempt in all; each milestone's
   demand is the scenario's own;
2. the *first stage* is every decision up to and including the first milestone: which schools
   and sites are open there, and the cumulative permanent blocks built by then (temporary seats
   and assignments are not: they follow each scenario's demand);
3. per county, each distinct first stage of the scenarios is a candidate; every other
   scenario's county is re-solved with the candidate fixed at the first milestone (the later
   milestones free; a part whose own first stage already equals the candidate keeps its own
   optimum). A scenario's regret is that cost minus its own optimum — the best plan found for
   it: its own solve, or a re-solve under another first stage where that one came out cheaper
   (time-limited solves are not always optimal; ``own_solve_cost`` keeps the own solve's). The
   candidate with the least maximum regret is chosen (ties: least total regret, then scenario
   order);
4. each scenario's robust plan is its plan with the chosen first stage: the first stage is
   common to all scenarios, the later decisions are each scenario's own.

Gap: the regrets are exact only up to the MIP gaps of the parts solved (``solver_records``):
measured against the best plan found, they are never negative, but a scenario's true optimum
may lie up to its gap below it. The choice is restricted to
the scenarios' own first stages (a first stage optimal for no scenario is never tried), so the
maximum regret is an upper bound on that of the best common first stage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layout.errors import LayoutError
from layout.plan.model import CountyModel
from layout.plan.params import LayoutParams
from layout.plan.planner import _solve_all, failure_reason
from layout.plan.result import LayoutPlan
from layout.plan.staged import (
    StagedRun,
    finish_staged,
    prepare_staged,
    solve_staged,
    stage_demand,
)
from layout.plan.staged_model import (
    FirstStage,
    StagedSubProblem,
    assemble_staged,
    county_cost,
    make_staged_subproblems,
)

CITY = "all"
"""``county_code`` of the whole-city rows of the regret table."""

FIRST_COLUMNS = ("county_code", "school_id", "level", "is_site", "open_first", "blocks_first",
                 "seats_first")
"""Columns of a first-stage table (:func:`first_stage_of`); defined here, not in
:mod:`schoolsystem.schemas`, as only the robust run writes them."""

REGRET_COLUMNS = ("scenario", "county_code", "own_cost", "own_solve_cost", "robust_cost", "regret",
                  "regret_pct", "chosen_from")
"""Columns of :attr:`RobustPlan.regret` (costs discounted to the base year, CNY; ``own_cost``
the best plan found for the scenario, ``own_solve_cost`` its own solve's)."""


class RobustError(LayoutError):
    """The scenarios of a robust run cannot share a first stage (milestones, regions, counties)."""


@dataclass(frozen=True)
class RobustScenario:
    """One forecast scenario of a robust run.

    Attributes
    ----------
    name : str
        Label (the scenario file's stem).
    demand_by_year, demand_p90_by_year : mapping of int to DataFrame
        Milestone demand at P50 (and P90), as for :func:`layout.plan.staged.plan_staged`.
    params : LayoutParams
    target_year, seed : int

    """

    name: str
    demand_by_year: Mapping[int, pd.DataFrame]
    params: LayoutParams
    target_year: int
    seed: int = 0
    demand_p90_by_year: Mapping[int, pd.DataFrame] | None = None


@dataclass
class RobustPlan:
    """What :func:`plan_robust` produced.

    Attributes
    ----------
    plans : dict of str to LayoutPlan
        Each scenario's robust plan (the chosen first stage, its own later decisions).
    regret : DataFrame
        :data:`REGRET_COLUMNS`, one row per scenario and county and per scenario for the city.
    first_stage : DataFrame
        The chosen first stage, :data:`FIRST_COLUMNS` and ``chosen_from``.
    candidates : DataFrame
        Every candidate's cost and regret per scenario and county.
    own_first : dict of str to DataFrame
        Each scenario's own first stage (before the choice).
    robust_first : dict of str to DataFrame
        The first stage of each robust plan, read back from its solution.
    notes : list of str

    """

    plans: dict[str, LayoutPlan]
    regret: pd.DataFrame
    first_stage: pd.DataFrame
    candidates: pd.DataFrame
    own_first: dict[str, pd.DataFrame]
    robust_first: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)


def first_stage_of(cm: CountyModel, subs: Sequence[StagedSubProblem], n_periods: int,
                   first: FirstStage | None = None) -> pd.DataFrame:
    """The decisions of ``cm`` at the first milestone from its solved parts (:data:`FIRST_COLUMNS`)."""
    sol = assemble_staged(cm, list(subs), n_periods, first).periods[0]
    fac = cm.facilities
    blocks = np.asarray(sol.blocks_added, dtype=np.int64)
    return pd.DataFrame({
        "county_code": cm.county_code, "school_id": fac["fac_id"].astype(str).to_numpy(),
        "level": fac["level"].astype(str).to_numpy(),
        "is_site": fac["is_site"].to_numpy(dtype=bool), "open_first": np.asarray(sol.open, bool),
        "blocks_first": blocks,
        "seats_first": np.round(blocks * fac["block"].to_numpy(dtype=float)).astype(np.int64),
    }).sort_values(["school_id", "level"], ignore_index=True)


def signature(frame: pd.DataFrame, every: bool = False) -> pd.Series:
    """``open|blocks`` per (school, level) of the facilities open or expanded (``every``: all)."""
    f = frame if every else frame[frame["open_first"] | (frame["blocks_first"] > 0)]
    return pd.Series((f["open_first"].astype(int).astype(str) + "|"
                      + f["blocks_first"].astype(str)).to_numpy(),
                     index=pd.MultiIndex.from_frame(f[["school_id", "level"]]))


def same_first(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two first stages open and expand the same facilities (absent = closed, none)."""
    sa, sb = signature(a), signature(b)
    return bool(len(sa) == len(sb) and sa.sort_index().equals(sb.sort_index()))


def fixings(cm: CountyModel, frame: pd.DataFrame) -> FirstStage:
    """A first stage (:data:`FIRST_COLUMNS`) as fixings on ``cm``'s facilities.

    A facility the first stage does not list is closed there (a site: not built); a facility
    it opens or expands that ``cm`` lacks is a :class:`RobustError`.
    """
    fac = cm.facilities
    key = pd.MultiIndex.from_arrays([fac["fac_id"].astype(str), fac["level"].astype(str)])
    f = frame.set_index(["school_id", "level"])
    listed = key.isin(f.index)
    extra = f.index[~f.index.isin(key) & (f["open_first"] | (f["blocks_first"] > 0)).to_numpy()]
    if len(extra):
        raise RobustError(f"county {cm.county_code}: the first stage opens {list(extra)[:3]} "
                          "that this scenario's model lacks")
    g = f.reindex(key)
    open_ = np.where(listed, g["open_first"].fillna(False).to_numpy(dtype=bool), False)
    blocks = np.where(listed, g["blocks_first"].fillna(0).to_numpy(dtype=float), 0)
    return FirstStage(open_.astype(np.int64), blocks.astype(np.int64))


def fixed_subs(run: StagedRun, cm: CountyModel, own: Sequence[StagedSubProblem],
               first: FirstStage, *, reuse: bool = True) -> tuple[list[StagedSubProblem],
                                                                  list[StagedSubProblem]]:
    """``cm``'s parts with ``first`` fixed, and those of them still to solve.

    With ``reuse`` a part whose own (solved) first milestone already equals ``first`` is the
    own part; the others are new, unsolved models.
    """
    new = make_staged_subproblems(cm, run.params, run.periods, first)
    out, todo = [], []
    for sub, mine in zip(new, own, strict=True):
        f = sub.facilities
        keep = (reuse and np.array_equal(mine.facilities, f)
                and np.array_equal(mine.model.open_[0].astype(np.int64), first.open_[f])
                and np.array_equal(mine.blocks[0], first.blocks[f]))
        out.append(mine if keep else sub)
        if not keep:
            todo.append(sub)
    return out, todo


@dataclass
class _Eval:
    """One candidate first stage of one county under one scenario."""

    first: FirstStage | None = None
    subs: list[StagedSubProblem] = field(default_factory=list)
    error: str = ""


def plan_robust(scenarios: Sequence[RobustScenario], region: object, *, time_limit: float = 30,
                threads: int | None = None, counties: list[str] | None = None,
                say: Callable[[str], None] | None = None) -> RobustPlan:
    """Robust staged plans of ``scenarios`` on ``region`` (see the module docstring).

    ``time_limit`` is per part solved, ``threads`` the parts solved at a time; ``say`` receives
    a progress message per step.

    Raises
    ------
    RobustError
        Fewer than two scenarios, different milestones, or no county planned in all of them.

    """
    if len(scenarios) < 2:
        raise RobustError("a robust run needs at least two scenarios")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise RobustError(f"scenario names repeat: {names}")
    years = [sorted(s.demand_by_year) for s in scenarios]
    for s, y in zip(scenarios[1:], years[1:], strict=True):
        if y != years[0]:
            raise RobustError(f"milestones differ: {scenarios[0].name} {years[0]}, "
                              f"{s.name} {y}; a robust run needs the same milestones")
    envelope = pd.concat([stage_demand(s.demand_by_year)[["demand_id", "level", "grade_band",
                                                          "students"]] for s in scenarios])
    runs = [prepare_staged(region, s.demand_by_year, s.params, target_year=s.target_year,
                           seed=s.seed, counties=counties, envelope=envelope,
                           demand_p90_by_year=s.demand_p90_by_year) for s in scenarios]
    notes: list[str] = []
    _common_exemptions(runs, notes)
    say = say or (lambda _m: None)
    for s, run in zip(scenarios, runs, strict=True):
        say(f"robust: solving {s.name} (its own optimum, "
            f"{sum(len(p) for p in run.subs)} parts)")
        solve_staged(run, time_limit=time_limit, threads=threads)
    idx = [{cm.county_code: i for i, cm in enumerate(r.models)
            if cm.county_code not in r.parts.failed} for r in runs]
    common = sorted(set.intersection(*(set(i) for i in idx)))
    left = sorted(set.union(*(set(i) for i in idx)) - set(common))
    if left:
        notes.append(f"counties planned in only some scenarios, left out of the robust choice: "
                     f"{left}")
    if not common:
        raise RobustError("no county could be planned in every scenario")
    T = len(years[0])
    costs = [[county_cost(r.models[ix[c]], r.subs[ix[c]], r.periods, r.params) for c in common]
             for r, ix in zip(runs, idx, strict=True)]
    bad = sorted({c for row in costs for c, v in zip(common, row, strict=True)
                  if not np.isfinite(v)})
    if bad:
        notes.append(f"counties without a solved plan in some scenario, left out of the robust "
                     f"choice: {bad}")
        common = [c for c in common if c not in bad]
    if not common:
        raise RobustError("no county could be planned in every scenario")
    own = [{c: first_stage_of(r.models[ix[c]], r.subs[ix[c]], T) for c in common}
           for r, ix in zip(runs, idx, strict=True)]
    cands = {c: _candidates([o[c] for o in own]) for c in common}
    evals: dict[tuple[int, str, int], _Eval] = {}
    for si, (run, ix) in enumerate(zip(runs, idx, strict=True)):
        todo: list[StagedSubProblem] = []
        for c in common:
            cm, mine = run.models[ix[c]], run.subs[ix[c]]
            for k, (_origin, frame) in enumerate(cands[c]):
                e = evals[si, c, k] = _Eval()
                try:
                    e.first = fixings(cm, frame)
                    e.subs, new = ((list(mine), []) if same_first(frame, own[si][c])
                                   else fixed_subs(run, cm, mine, e.first))
                except Exception as exc:  # the candidate cannot be imposed on this scenario
                    e.error = failure_reason(exc)
                    continue
                todo += new
        failed: dict[str, str] = {}  # a part that raises is left unsolved: cost nan
        say(f"robust: {names[si]} under the other scenarios' first stages: {len(todo)} parts "
            "to re-solve")
        _solve_all(todo, run.params, time_limit, threads, run.seed, failed)
    table = _cost_table(runs, idx, common, cands, evals, names)
    chosen = _choose(table, common)
    own_k = {(si, c): next(k for k, (_o, f) in enumerate(cands[c]) if same_first(o[c], f))
             for si, o in enumerate(own) for c in common}
    pick = {(si, c): chosen[c] if chosen[c] >= 0 else own_k[si, c]
            for si in range(len(runs)) for c in common}
    table["picked"] = [pick[names.index(s), c] == k for s, c, k in
                       zip(table["scenario"], table["county_code"], table["candidate"],
                           strict=True)]
    unshared = [c for c in common if chosen[c] < 0]
    if unshared:
        why = table[table["county_code"].isin(unshared) & (table["error"] != "")]["error"]
        notes.append(f"counties {unshared}: no scenario's first stage can be imposed on every "
                     f"other scenario ({'; '.join(why.head(3))}); each scenario keeps its own "
                     "first stage there (not shared)")
    plans, robust_first = {}, {}
    for si, (s, run, ix) in enumerate(zip(scenarios, runs, idx, strict=True)):
        for c in common:
            e = evals[si, c, pick[si, c]]
            run.subs[ix[c]] = e.subs
            if e.first is not None:
                run.first[c] = e.first
        plans[s.name] = finish_staged(run, time_limit=time_limit,
                                      demand_p90_by_year=s.demand_p90_by_year)
        plans[s.name].notes.extend(notes)
        robust_first[s.name] = pd.concat(
            [first_stage_of(run.models[ix[c]], run.subs[ix[c]], T, run.first.get(c))
             for c in common], ignore_index=True)
    first = pd.concat([cands[c][chosen[c]][1].assign(chosen_from=names[cands[c][chosen[c]][0]])
                       if chosen[c] >= 0 else
                       pd.concat([o[c].assign(chosen_from=f"{n} (own, not shared)")
                                  for n, o in zip(names, own, strict=True)])
                       for c in common], ignore_index=True)
    regret = _regret_table(table, names)
    return RobustPlan(plans, regret, first, table,
                      {n: pd.concat(o.values(), ignore_index=True) for n, o in
                       zip(names, own, strict=True)}, robust_first, notes)


def _common_exemptions(runs: list[StagedRun], notes: list[str]) -> None:
    """Exempt a school from the minimum size in every scenario where one scenario exempts it.

    A school kept below its minimum size in one scenario (its catchment can never reach it
    there) must be allowed to stay open in the others, or that first stage could not be
    shared. The parts are rebuilt on the common exemptions (in place).
    """
    by_county: dict[str, list[tuple[StagedRun, int]]] = {}
    for run in runs:
        for i, cm in enumerate(run.models):
            by_county.setdefault(cm.county_code, []).append((run, i))
    for code, items in by_county.items():
        facs = [run.models[i].facilities for run, i in items]
        keys = [f["fac_id"].astype(str) + "|" + f["level"].astype(str) for f in facs]
        if len(items) < len(runs) or any(not k.equals(keys[0]) for k in keys[1:]):
            notes.append(f"county {code}: the scenarios' models differ; exemptions not shared")
            continue
        exempt = np.logical_or.reduce([f["exempt"].to_numpy(dtype=bool) for f in facs])
        why = pd.Series("", index=facs[0].index, dtype=object)
        for f in reversed(facs):  # the first scenario's reason where several exempt it
            why = why.mask(f["exempt"].to_numpy(dtype=bool), f["exempt_why"])
        for run, i in items:
            cm = run.models[i]
            if np.array_equal(exempt, cm.facilities["exempt"].to_numpy(dtype=bool)):
                continue
            new = ~cm.facilities["exempt"].to_numpy(dtype=bool) & exempt
            run.models[i] = _exempt(cm, new, why)
            base = next((j for j, b in enumerate(run.base) if b.county_code == code), None)
            if base is not None:  # the models the planner's fixed decisions are priced on
                run.base[base] = _exempt(run.base[base], new, why)
            try:
                run.subs[i] = make_staged_subproblems(run.models[i], run.params, run.periods,
                                                      run.first.get(code))
            except Exception as exc:  # as in prepare_staged: the county is set aside
                run.parts.fail(code, exc)
                run.subs[i] = []


def _exempt(cm: CountyModel, new: np.ndarray, why: pd.Series) -> CountyModel:
    """``cm`` with facilities ``new`` exempt from the minimum size for reason ``why``."""
    fac = cm.facilities.copy()
    fac.loc[new, "exempt"] = True
    fac.loc[new, "exempt_why"] = why[new]
    return dataclasses.replace(cm, facilities=fac)


def _candidates(frames: list[pd.DataFrame]) -> list[tuple[int, pd.DataFrame]]:
    """The distinct first stages, each with the first scenario that has it."""
    out: list[tuple[int, pd.DataFrame]] = []
    for s, f in enumerate(frames):
        if not any(same_first(f, g) for _, g in out):
            out.append((s, f))
    return out


def _cost_table(runs: list[StagedRun], idx: list[dict[str, int]], common: list[str],
                cands: dict[str, list[tuple[int, pd.DataFrame]]],
                evals: dict[tuple[int, str, int], _Eval], names: list[str]) -> pd.DataFrame:
    """Cost and regret of every candidate per scenario and county (``inf``: not admissible)."""
    rows = []
    for si, (run, ix) in enumerate(zip(runs, idx, strict=True)):
        for c in common:
            cm = run.models[ix[c]]
            own_cost = county_cost(cm, run.subs[ix[c]], run.periods, run.params)
            for k, (origin, _f) in enumerate(cands[c]):
                e = evals[si, c, k]
                cost = np.inf if e.error else county_cost(cm, e.subs, run.periods, run.params, e.first)
                error = e.error or ("" if np.isfinite(cost) else "a part was not solved")
                rows.append({"scenario": names[si], "county_code": c, "candidate": k,
                             "candidate_from": names[origin], "own_cost": own_cost,
                             "cost": cost if np.isfinite(cost) else np.inf, "error": error})
    t = pd.DataFrame(rows)
    t["own_solve_cost"] = t["own_cost"]
    best = t.groupby(["scenario", "county_code"])["cost"].transform("min")
    t["own_cost"] = np.fmin(t["own_cost"], best)  # the best plan found for the scenario
    t["regret"] = t["cost"] - t["own_cost"]
    return t


def _choose(table: pd.DataFrame, common: list[str]) -> dict[str, int]:
    """Per county the candidate of least maximum regret (then least total, then order).

    -1 where no candidate can be imposed on every scenario (every maximum regret infinite).
    """
    g = table.groupby(["county_code", "candidate"])["regret"].agg(["max", "sum"]).reset_index()
    g = g.sort_values(["county_code", "max", "sum", "candidate"], kind="stable")
    best = g.drop_duplicates("county_code").set_index("county_code")
    return {c: int(best.loc[c, "candidate"]) if np.isfinite(best.loc[c, "max"]) else -1
            for c in common}


def _regret_table(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """:data:`REGRET_COLUMNS`: per scenario and county, then the city (``county_code`` all)."""
    pick = table[table["picked"]]
    per = pick.rename(columns={"cost": "robust_cost", "candidate_from": "chosen_from"})
    city = per.groupby("scenario", sort=False)[["own_cost", "own_solve_cost", "robust_cost",
                                                "regret"]].sum()
    city = city.reset_index().assign(county_code=CITY, chosen_from="")
    out = pd.concat([city, per], ignore_index=True)
    out["regret_pct"] = 100.0 * out["regret"] / out["own_cost"].where(out["own_cost"] != 0)
    order = {n: i for i, n in enumerate(names)}
    out = out.assign(_s=out["scenario"].map(order), _c=out["county_code"] != CITY)
    out = out.sort_values(["_s", "_c", "county_code"], kind="stable", ignore_index=True)
    return out.loc[:, list(REGRET_COLUMNS)]
