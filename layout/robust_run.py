"""``schoolplan run --robust``: one staged plan robust to several forecast scenarios.

The edge of :mod:`layout.plan.robust`: read the scenarios, check they can share a first stage
(same region, same milestones), forecast each, plan them together, and write

- ``OUT/<scenario>/``: each scenario's robust plan with the usual plan outputs
  (:func:`layout.pipeline.write_plan_outputs`) and its ``manifest.json``;
- ``OUT/robust/regret.csv``: own cost, robust cost, regret per scenario (city and county);
- ``OUT/robust/first_stage.csv``: the common first stage and the scenario it was taken from;
- ``OUT/robust/candidates.csv``: every candidate first stage's regret per scenario;
- ``OUT/robust/shares.csv``: share of robust decisions (first stage, whole horizon);
- ``OUT/robust/summary.md``: the method, the regrets and the shares, for planners.

The scenarios are given as files, or as one file holding a ``robust:`` block::

    robust:
      scenarios: [baseline.yaml, low_births.yaml]   # relative to this file, or shipped names
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from layout.plan.result import LayoutPlan
from layout.plan.robust import CITY, RobustError, RobustPlan, RobustScenario, signature
from layout.scenario import Scenario, load_scenario
from schoolsystem.vocabulary import LEVEL_LABELS_ZH

Say = Callable[[str], None]

METHOD = "minimax-regret choice among the scenarios' own first stages, per county"
METHOD_ZH = "按县在各情景自身第一阶段方案中取最大遗憾最小者"


@dataclass
class RobustRunResult:
    """What :func:`run_robust` produced."""

    scenarios: list[Scenario]
    robust: RobustPlan
    shares: pd.DataFrame
    milestones: list[int]
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def scenario_paths(paths: list[Path]) -> list[Path]:
    """The scenario files: ``paths`` itself, or the list of a single file's ``robust:`` block."""
    from layout.resources import resolve_scenario

    paths = [resolve_scenario(p) for p in paths]
    if len(paths) == 1 and paths[0].is_file():
        try:
            data = yaml.safe_load(paths[0].read_text(encoding="utf-8-sig"))
        except yaml.YAMLError as exc:
            raise RobustError(f"{paths[0]}: not valid YAML ({exc})") from None
        if isinstance(data, dict) and "robust" in data:
            block = data["robust"]
            if set(data) != {"robust"} or not isinstance(block, dict) or set(block) != {
                    "scenarios"} or not isinstance(block["scenarios"], list):
                raise RobustError(f"{paths[0]}: a robust file holds only "
                                  "'robust: {scenarios: [file, ...]}'")
            base = paths[0].parent
            return [resolve_scenario(base / str(p) if (base / str(p)).exists() else Path(str(p)))
                    for p in block["scenarios"]]
    return paths


def check_scenarios(scenarios: list[Scenario], region_path: Path | None) -> list[int]:
    """The common milestones; a :class:`RobustError` naming what differs otherwise."""
    from layout.pipeline import milestone_years

    if len(scenarios) < 2:
        raise RobustError("--robust needs at least two scenario files")
    slugs = [s.slug for s in scenarios]
    if len(set(slugs)) != len(slugs):
        raise RobustError(f"scenario file names repeat ({slugs}): each names its output folder")
    first = scenarios[0]
    years = milestone_years(first)
    if not years:
        raise RobustError(f"{first.path}: no milestones (layout.milestones); a robust run is "
                          "a staged plan")
    for s in scenarios[1:]:
        if milestone_years(s) != years:
            raise RobustError(f"milestones differ: {first.path.name} {years}, {s.path.name} "
                              f"{milestone_years(s) or 'none'}; give every scenario the same "
                              "layout.milestones and target_year")
        if region_path is None and _where(s.region) != _where(first.region):
            raise RobustError(f"regions differ: {first.path.name} {first.region or 'embedded'}, "
                              f"{s.path.name} {s.region or 'embedded'}; a robust run plans one "
                              "region (or give --region)")
    return years


def _where(region: Path | None) -> str:
    return str(Path(region).resolve()) if region is not None else ""


def run_robust(paths: list[Path], out: Path, *, region_path: Path | None = None,
               draws: int | None = None, threads: int | None = None, say: Say | None = None,
               progress: bool = True) -> RobustRunResult:
    """Forecast every scenario, plan them with a common first stage, write the outputs."""
    from layout.isolation import load_region_isolating
    from layout.outputs.manifest import write_manifest
    from layout.pipeline import (
        demand_for_year,
        forecast_stage,
        region_record,
        write_plan_outputs,
    )
    from layout.plan.robust import plan_robust

    say = say or (lambda _m: None)
    timings: dict[str, float] = {}
    scenarios = [load_scenario(p) for p in scenario_paths(paths)]
    if threads is not None:
        scenarios = [_with_threads(s, threads) for s in scenarios]
    years = check_scenarios(scenarios, region_path)
    t0 = time.perf_counter()
    region, set_aside = load_region_isolating(region_path if region_path is not None
                                              else scenarios[0].region)
    for code, reason in sorted(set_aside.items()):
        say(f"WARNING: county {code} is left out: region data: {reason}")
    inputs, outlooks = [], {}
    for s in scenarios:
        outlook = forecast_stage(region, s, draws=draws, backtest=False)
        outlooks[s.slug] = outlook
        inputs.append(RobustScenario(
            s.slug, {y: demand_for_year(outlook, y) for y in years}, s.layout, s.target_year,
            s.seed, {y: demand_for_year(outlook, y, "p90") for y in years}))
        say(f"forecast {s.slug}: {len(outlook.village_demand):,} village demand rows")
    timings["forecast"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    rp = plan_robust(inputs, region, time_limit=scenarios[0].solver.time_limit,
                     threads=scenarios[0].solver.threads, say=say)
    timings["plan"] = round(time.perf_counter() - t0, 3)
    shares = decision_shares(rp.plans, rp.robust_first)
    result = RobustRunResult(scenarios, rp, shares, years, timings=timings)
    t0 = time.perf_counter()
    for s in scenarios:
        plan = rp.plans[s.slug]
        folder = Path(out) / s.slug
        result.files += write_plan_outputs(plan, region, s, folder, outlooks[s.slug])
        files = sorted(p for p in Path(region.path).iterdir() if p.is_file())
        result.files.append(write_manifest(folder / "manifest.json", s.effective(),
                                           [*files, s.path], s.seed, plan.solver_records,
                                           timings, region_record(region)))
    result.files += write_robust_tables(result, Path(out) / "robust")
    timings["outputs"] = round(time.perf_counter() - t0, 3)
    return result


def _with_threads(sc: Scenario, threads: int) -> Scenario:
    import dataclasses

    return dataclasses.replace(sc, solver=sc.solver.model_copy(update={"threads": threads}))


def write_robust_tables(result: RobustRunResult, out: Path) -> list[Path]:
    """``regret.csv``, ``first_stage.csv``, ``candidates.csv``, ``shares.csv``, ``summary.md``."""
    from layout.outputs.atomic import write_text_atomic
    from layout.outputs.excel import write_csv

    out.mkdir(parents=True, exist_ok=True)
    rp = result.robust
    first = rp.first_stage.assign(level_label=rp.first_stage["level"].map(LEVEL_LABELS_ZH))
    first = first[first["open_first"] | (first["blocks_first"] > 0) | ~first["is_site"]]
    names = pd.concat([p.schools[["school_id", "level", "name"]] for p in rp.plans.values()])
    first = first.merge(names.drop_duplicates(["school_id", "level"]), how="left",
                        on=["school_id", "level"])
    cand = rp.candidates.assign(regret_pct=100.0 * rp.candidates["regret"]
                                / rp.candidates["own_cost"])
    return [
        write_csv(rp.regret.round({"own_cost": 0, "own_solve_cost": 0, "robust_cost": 0,
                                   "regret": 0, "regret_pct": 3}), out / "regret.csv"),
        write_csv(first.loc[:, ["county_code", "school_id", "name", "level", "level_label", "is_site",
                                "open_first", "blocks_first", "seats_first", "chosen_from"]],
                  out / "first_stage.csv"),
        write_csv(cand.round({"own_cost": 0, "own_solve_cost": 0, "cost": 0, "regret": 0,
                              "regret_pct": 3}),
                  out / "candidates.csv"),
        write_csv(result.shares.round({"share": 4}), out / "shares.csv"),
        write_text_atomic(out / "summary.md", summary_markdown(result)),
    ]


def summary_markdown(result: RobustRunResult) -> str:
    """The planners' summary: method, regret per scenario, share of robust decisions."""
    rp, years = result.robust, result.milestones
    city = rp.regret[rp.regret["county_code"] == CITY]
    sh = result.shares.set_index("decisions")
    n_counties = rp.first_stage["county_code"].nunique()
    lines = [
        "# 稳健分期规划 Robust staged plan", "",
        f"情景 scenarios: {', '.join(s.slug for s in result.scenarios)}; "
        f"里程碑 milestones: {', '.join(map(str, years))}", "",
        f"方法 method: {METHOD_ZH} ({METHOD}). 第一阶段 first stage = {years[0]} 年及以前的决策"
        " (decisions up to and including the first milestone): 哪些学校/新址开办, 以及扩建的"
        "永久学位 (which schools and sites are open, permanent blocks built). 之后的决策按情景"
        "各自优化 (later decisions per scenario).", "",
        "遗憾 regret = 稳健方案成本 − 该情景自身最优成本 (robust plan's discounted cost minus the "
        "scenario's own optimum: the best plan found for it, own_cost; own_solve_cost is its own "
        "solve's); 精度受各子问题求解间隙限制 (exact up to the solver gaps in each scenario's "
        "solver_records.csv).", "",
        "| 情景 scenario | 自身最优 own cost (元) | 稳健方案 robust cost (元) | 遗憾 regret (元) "
        "| 遗憾 regret % |", "|---|---:|---:|---:|---:|",
    ]
    for r in city.itertuples():
        lines.append(f"| {r.scenario} | {r.own_cost:,.0f} | {r.robust_cost:,.0f} | "
                     f"{r.regret:,.0f} | {r.regret_pct:.3f} % |")
    picked = rp.first_stage.drop_duplicates("county_code")["chosen_from"].value_counts()
    lines += [
        "", f"各县第一阶段取自 first stage of the {n_counties} counties taken from: "
        + ", ".join(f"{k} {v}" for k, v in picked.items()), "",
        "稳健决策占比 share of robust decisions (same in every scenario):", "",
        f"- 第一阶段 first stage ({years[0]}): {sh.loc['first_stage', 'share']:.1%} of "
        f"{int(sh.loc['first_stage', 'count']):,} school-level decisions",
        f"- 全期 whole horizon ({years[0]}–{years[-1]}: action, year, seats at every milestone):"
        f" {sh.loc['horizon', 'share']:.1%} of {int(sh.loc['horizon', 'count']):,}", "",
    ]
    lines += [f"注 note: {n}" for n in rp.notes]
    return "\n".join(lines) + "\n"


def summary_text(result: RobustRunResult) -> str:
    """A few lines for the terminal."""
    rp = result.robust
    city = rp.regret[rp.regret["county_code"] == CITY]
    sh = result.shares.set_index("decisions")["share"]
    lines = [f"robust staged plan ({METHOD}), milestones "
             f"{', '.join(map(str, result.milestones))}:"]
    lines += [f"  {r.scenario:<22} own {r.own_cost:>16,.0f}  robust {r.robust_cost:>16,.0f}  "
              f"regret {r.regret:>12,.0f} ({r.regret_pct:.3f} %)" for r in city.itertuples()]
    lines.append(f"robust decisions: first stage {sh['first_stage']:.1%}, whole horizon "
                 f"{sh['horizon']:.1%}")
    return "\n".join(lines)


def decision_shares(plans: Mapping[str, LayoutPlan],
                    firsts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Share of school-level decisions identical in every scenario.

    ``horizon``: (action, action year, merge target, permanent seats at every milestone) of each
    school and level of ``plans`` (vocational schools, planned city-wide for the target year
    only, left out); ``first_stage``: open and blocks at the first milestone (``firsts``).
    """
    sigs = []
    for plan in plans.values():
        s = plan.schools[plan.schools["level"] != "vocational"]
        caps = [c for c in s if c.startswith("capacity_") and c[9:].isdigit()]
        sig = (s["action"].astype(str) + "|" + s["action_year"].astype(str) + "|"
               + s["merge_into"].fillna("").astype(str))
        for c in sorted(caps):
            sig = sig + "|" + s[c].astype(str)
        sigs.append(pd.Series(sig.to_numpy(), index=pd.MultiIndex.from_frame(
            s[["school_id", "level"]].astype(str))))
    horizon = pd.concat(sigs, axis=1).fillna("absent")
    first = pd.concat([signature(f, every=True).rename(n) for n, f in firsts.items()],
                      axis=1).fillna("0|0")
    rows = []
    for what, frame in (("horizon", horizon), ("first_stage", first)):
        same = (frame.to_numpy() == frame.to_numpy()[:, :1]).all(axis=1)
        rows.append({"decisions": what, "count": len(frame), "identical": int(same.sum()),
                     "share": float(same.mean()) if len(frame) else 1.0})
    return pd.DataFrame(rows)
