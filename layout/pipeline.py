"""The scenario pipeline: forecast -> layout plan -> maps -> exports.

Each stage is a function of plain inputs so the CLI, notebooks and tests call the same code:

- :func:`forecast_stage` runs :func:`forecasting.forecast_region` on a :class:`Region`;
- :func:`demand_for_year` turns the forecast into the layout model's demand rows;
- :func:`plan_stage` runs :func:`layout.plan.plan_layout`;
- :func:`write_forecast_outputs`, :func:`write_plan_outputs` write tables, plots, the map,
  the workbook, the GeoPackage and the manifest, every file atomically;
- :func:`run_scenario` chains them with a progress bar per stage and a timing per stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.outlook import RegionOutlook, forecast_region
from layout.errors import ScenarioError
from layout.forecast_outputs import (  # re-exported: callers import them from here
    pop_change,
    school_age_series,
    start_plots,
    write_forecast_outputs,
)
from layout.isolation import load_region_isolating, record_set_aside
from layout.outputs.atomic import write_text_atomic
from layout.plan import LayoutPlan, plan_layout
from layout.plan.planner import NOT_PLANNED
from layout.plan.staged import plan_staged
from layout.region import Region, load_region
from layout.scenario import Scenario

Say = Callable[[str], None]

@dataclass
class RunResult:
    """What :func:`run_scenario` produced."""

    scenario: Scenario
    region: Region
    outlook: RegionOutlook | None = None
    plan: LayoutPlan | None = None
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)
    """Counties left out for their data (code -> reason, :mod:`layout.isolation`)."""

    def require_outlook(self) -> RegionOutlook:
        """The forecast; raises ``RuntimeError`` if the run did not include the forecast stage."""
        if self.outlook is None:
            raise RuntimeError("this run has no forecast: the 'forecast' stage did not run")
        return self.outlook

    def require_plan(self) -> LayoutPlan:
        """The layout plan; raises ``RuntimeError`` if the run did not include the plan stage."""
        if self.plan is None:
            raise RuntimeError("this run has no layout plan: the 'plan' stage did not run")
        return self.plan


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - t0, 3)


def region_for(scenario: Scenario, region_path: str | Path | None = None) -> Region:
    """Load the region named on the command line, else in the scenario, else the embedded one."""
    return load_region(region_path if region_path is not None else scenario.region)


def forecast_stage(region: Region, scenario: Scenario, *, draws: int | None = None,
                   backtest: bool = True) -> RegionOutlook:
    """Forecast demand for the region under the scenario (see :mod:`forecasting.outlook`)."""
    last = max([scenario.target_year, *scenario.layout.milestones])
    horizon = max(scenario.forecast.horizon, last - region.base_year)
    return forecast_region(
        children=region.children, women=region.women, births=region.births,
        urbanisation=region.urbanisation, villages=region.villages, townships=region.townships,
        township_history=region.township_history, enrollment=region.enrollment,
        schools=region.schools, scenario=scenario.forecast, base_year=region.base_year,
        horizon=horizon, draws=draws, projected_crs=region.projected_crs, backtest=backtest,
    )


def demand_for_year(outlook: RegionOutlook, year: int, quantile: str = "p50") -> pd.DataFrame:
    """Demand rows of the layout model: ``demand_id, level, grade_band, students`` for ``year``.

    ``quantile`` picks the planning figure (``p50`` by default; ``p90`` plans for the high end).
    """
    d = outlook.village_demand
    if year not in set(d["year"]):
        years = sorted(set(d["year"]))
        raise ScenarioError(f"target year {year} is outside the forecast years "
                            f"{years[0]}-{years[-1]}")
    d = d[d["year"] == year]
    return pd.DataFrame({
        "demand_id": d["village_id"].to_numpy(), "level": d["level"].to_numpy(),
        "grade_band": d["grade_band"].to_numpy(), "students": d[quantile].to_numpy(),
    })


def milestone_years(scenario: Scenario, forecast_years: Iterable[int] | None = None) -> list[int]:
    """Milestones of a staged plan (with the target year), or [] for a one-year plan.

    With ``forecast_years``, milestones outside them are left out (the target year stays).
    """
    ms = scenario.layout.milestones
    if not ms:
        return []
    keep = set(ms) if forecast_years is None else set(ms) & {int(y) for y in forecast_years}
    return sorted({*keep, scenario.target_year})


def _milestones_of(scenario: Scenario, outlook: RegionOutlook) -> tuple[list[int], list[int]]:
    """The milestones the forecast covers (after its base year), and those left out."""
    fc = {int(y) for y in outlook.village_demand["year"].unique() if y > outlook.base_year}
    years = milestone_years(scenario, fc)
    return years, sorted(set(scenario.layout.milestones) - set(years))


def staged_plan_stage(region: Region, scenario: Scenario, outlook: RegionOutlook,
                      progress: Callable[[str, int, int], None] | None = None,
                      counties: list[str] | None = None) -> LayoutPlan:
    """The staged plan over the scenario's milestones, from the forecast's P50 demand."""
    years, left_out = _milestones_of(scenario, outlook)
    plan = plan_staged(
        region, {y: demand_for_year(outlook, y) for y in years}, scenario.layout,
        target_year=scenario.target_year, time_limit=scenario.solver.time_limit,
        threads=scenario.solver.threads, seed=scenario.seed, progress=progress,
        counties=counties, demand_p90_by_year={y: demand_for_year(outlook, y, "p90")
                                               for y in years},
    )
    if left_out:
        plan.notes.append(f"milestones {', '.join(map(str, left_out))} left out: outside the "
                          f"forecast years after the base year {outlook.base_year}")
    return plan


def plan_stage(region: Region, scenario: Scenario, demand: pd.DataFrame,
               progress: Callable[[str, int, int], None] | None = None,
               counties: list[str] | None = None) -> LayoutPlan:
    """Optimise the layout for the scenario's target year (all counties, or ``counties``)."""
    return plan_layout(
        region, demand, scenario.layout, target_year=scenario.target_year,
        time_limit=scenario.solver.time_limit, threads=scenario.solver.threads,
        seed=scenario.seed, progress=progress, counties=counties,
    )


def data_note(region: Region, scenario: Scenario) -> str:
    """Provenance lines written into the workbook, the GeoPackage and ``README.txt``."""
    lines = []
    if region.is_synthetic:
        lines.append("SYNTHETIC DATA 合成数据 — demonstration only, no figure describes a real "
                     "school or village. Synthetic layers: " + ", ".join(region.synthetic_layers))
    lines += [
        f"区域 region: {region.name} ({region.code}), data folder {region.path}",
        f"数据来源 provenance: {region.meta.get('provenance', '')}".strip(),
    ]
    layers = layer_record(region)
    if layers:  # a region made by `schoolplan data import`: which layers are given, which derived
        lines.append("给定图层 given layers: " + (", ".join(layers["given_layers"]) or "none"))
        lines.append("推算图层 DERIVED layers: " + (", ".join(layers["derived_layers"]) or "none")
                     + " (not held by the data owner; methods below and in region.yaml)")
        lines += [f"  推算 {k}: {v}" for k, v in layers["derivations"].items()]
    lines += [
        f"情景 scenario: {scenario.name} ({scenario.path.name}), target year {scenario.target_year}, "
        f"seed {scenario.seed}",
        "Generated by school-layout-planner (schoolplan run).",
    ]
    return "\n".join(lines)


def layer_record(region: Region) -> dict[str, Any]:
    """Given layers, derived layers and derivation methods recorded in ``region.yaml``.

    ``schoolplan data import`` writes ``given_layers``, ``derived_layers`` and ``derivations``;
    a folder without them (the embedded region) gives an empty dict.
    """
    meta = region.meta
    if not any(k in meta for k in ("given_layers", "derived_layers", "derivations")):
        return {}
    derivations = meta.get("derivations") or {}
    return {"given_layers": [str(x) for x in meta.get("given_layers") or []],
            "derived_layers": [str(x) for x in meta.get("derived_layers") or []],
            "derivations": {str(k): str(v) for k, v in dict(derivations).items()}}


def region_record(region: Region) -> dict[str, Any]:
    """What the manifest says about the input region.

    For an imported region also which layers were given and which derived, with the method of
    each derivation (:func:`layer_record`).
    """
    return {"name": region.name, "code": region.code, "path": str(region.path),
            "base_year": region.base_year, "synthetic_layers": list(region.synthetic_layers),
            "provenance": region.meta.get("provenance", ""), **layer_record(region)}


def write_plan_outputs(plan: LayoutPlan, region: Region, scenario: Scenario, out: Path,
                       outlook: RegionOutlook | None = None) -> list[Path]:
    """Map, report, workbook, CSVs and GeoPackage of a plan (every file written atomically).

    The workbook and, in a province, each prefecture's map and workbook are tasks
    (:func:`forecasting.parallel.start_tasks`): on a cluster the workers make them while this
    process writes the other files; in-process they are made when their files are written. Every
    file is written by this process, and the same wherever it was made.
    """
    from forecasting.parallel import start_tasks
    from layout.outputs.atomic import write_bytes_atomic
    from layout.outputs.excel import workbook_bytes, write_csvs
    from layout.outputs.gpkg import write_geopackage
    from layout.outputs.maps import write_map
    from layout.outputs.prefectures import with_prefectures
    from layout.outputs.province import start_province_outputs
    from layout.outputs.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    plan = with_prefectures(plan, region.prefectures)  # kpis, timeline: + prefecture columns
    series = change = None
    if outlook is not None:
        series = school_age_series(outlook)
        series = series[series["year"] <= scenario.target_year]
        change = pop_change(series, region.base_year, scenario.target_year)
    note = ("SYNTHETIC DATA — 合成数据,仅供演示 (only the county boundaries are real)"
            if region.is_synthetic else None)
    text = data_note(region, scenario)
    # the slowest file first, so that no worker is still making it when the others are done
    book = start_tasks(workbook_bytes, [(plan, scenario.effective(), text)])
    # more than one prefecture: an overview and one set each, made on the workers if any
    finish_province = start_province_outputs(
        plan, region, out, scenario_params=scenario.effective(), tiles=scenario.map.tiles,
        title=f"学校布局规划 {scenario.target_year} · {scenario.name}", years_series=series,
        pop_change=change, note=note, text=text)
    files = [write_map(plan, region.townships, region.counties, out / "map.html",
                       pop_change=change, years_series=series, tiles=scenario.map.tiles,
                       title=f"{region.name} 学校布局规划 {scenario.target_year} · {scenario.name}",
                       note=note)]
    files.append(write_report(plan, out / "report.html", region, scenario, outlook, note=text))
    files += write_csvs(plan, out)
    files.append(write_geopackage(plan, region.townships, region.villages, out / "layout.gpkg",
                                  pop_change=change, years_series=series, note=text))
    files.insert(1, write_bytes_atomic(out / "layout.xlsx", book()[0]))
    files += finish_province()
    files.append(write_text_atomic(out / "README.txt", text + "\n\n" + _FILES_TEXT))
    return files


_FILES_TEXT = """Files 文件:
  map.html        interactive map 交互地图 (self-contained, works offline)
  report.html     printable planning report 规划报告 (offline; print to PDF from the browser, A4)
  layout.xlsx     workbook 工作簿: recommended layout, assignments, KPIs, projects, parameters
  layout.gpkg     GeoPackage: schools (with actions), demand points, assignments, townships
  *.csv           the plan tables (UTF-8 with BOM); data_dictionary.csv explains every column
                  (kpis.csv, timeline.csv: prefecture_code / prefecture_name of each county)
  province_map.html   (regions of several prefectures) overview: per prefecture and level,
                  schools before -> after, closed, new, seats added; click a prefecture
  prefectures/<code>/map.html, layout.xlsx   (same) each prefecture's own map and workbook
  forecast/       forecast tables, back-tests, fan charts and pyramids
  manifest.json   scenario, input file hashes, package versions, seed, solver records, timings
"""


def summary_text(plan: LayoutPlan) -> str:
    """Final summary: schools before/after by level, seats added, travel standard, solver gaps."""
    k = plan.kpis
    by_level = k.groupby("level").agg(before=("schools_before", "sum"),
                                      after=("schools_after", "sum"),
                                      seats=("seats_added", "sum"))
    lines = ["学段 level            schools before -> after   seats added"]
    for level, row in by_level.iterrows():
        lines.append(f"  {level:<20} {int(row.before):>6} -> {int(row.after):<6}   "
                     f"{int(row.seats):>8,}")
    a = plan.assignments
    within = _share_within(plan)
    lines.append(f"seats added city-wide: {plan.seats_added_total:,} "
                 f"(city target, measure 7: {plan.city_target_seats:,})")
    if within is not None:
        lines.append(f"pupils within the travel standard: {within:.1%} of "
                     f"{a['students'].sum():,.0f} assigned")
    if len(plan.unserved):
        lines.append(f"unserved demand: {plan.unserved['students'].sum():,.0f} pupils "
                     f"in {len(plan.unserved)} rows (see unserved.csv for reasons)")
    if plan.staged_summary is not None:
        v = plan.staged_summary.set_index("metric")["value"]
        lines.append(f"staged plan {', '.join(map(str, plan.milestones))}: new permanent seats "
                     f"{v.get('new_permanent_seats', 0):,.0f} vs peak net need "
                     f"{v.get('peak_net_need', 0):,.0f}; {v.get('new_seats_idle_share', 0):.0%} "
                     f"of new seats idle in {plan.milestones[-1]} (timeline.csv, "
                     "staged_summary.csv)")
        ss = plan.staged_summary
        near = ss.loc[ss["metric"] == "new_near_closed", "value"].sum()
        seats = ss.loc[ss["metric"] == "seats_added_near_closed", "value"].sum()
        if near > 0 or seats > 0:
            lines.append(f"within 2 km of a closed school of their level: {near:,.0f} new "
                         f"schools, {seats:,.0f} seats built (each names the nearest idle "
                         "building in its reason)")
    sr = plan.solver_records
    if len(sr):
        counts = ", ".join(f"{k} {v}" for k, v in sr["status"].value_counts().items())
        lines.append(f"solver: {len(sr)} sub-problems ({counts}), max gap "
                     f"{sr['gap'].max():.2%}, solve time {sr['wall_time'].sum():.1f} s")
    return "\n".join(lines)


def _share_within(plan: LayoutPlan) -> float | None:
    """Pupil-weighted share within the travel standard (KPI rows weighted by demand)."""
    k = plan.kpis
    if "share_within_standard" not in k or k.empty:
        return None
    w = plan.schools.groupby(["county_code", "level"])["demand_target"].sum()
    k = k.set_index(["county_code", "level"])
    weights = w.reindex(k.index).fillna(0.0)
    share = k["share_within_standard"].fillna(0.0)
    total = float(weights.sum())
    return float((share * weights).sum() / total) if total else None


def run_scenario(
    scenario: Scenario,
    out: str | Path,
    *,
    region_path: str | Path | None = None,
    draws: int | None = None,
    stages: tuple[str, ...] = ("forecast", "plan", "outputs"),
    say: Say | None = None,
    progress: bool = True,
    executor: Any = None,
) -> RunResult:
    """Run the scenario pipeline and write every output into ``out``.

    Parameters
    ----------
    scenario : Scenario
        From :func:`layout.scenario.load_scenario`.
    out : path
        Output folder (created).
    region_path : path, optional
        Region folder; overrides the scenario's ``region``.
    draws : int, optional
        Monte Carlo draws (overrides the scenario).
    stages : tuple of str
        Subset of ``forecast``, ``plan``, ``outputs``.
    say : callable, optional
        Receives progress messages (the CLI prints them).
    progress : bool
        Show tqdm progress bars.
    executor : layout.distributed.DaskExecutor, optional
        Run the forecast's per-county pieces, the forecast plots and the plan's sub-problems
        as Dask tasks (``--scheduler``); default in-process.

    Returns
    -------
    RunResult

    """
    from tqdm.auto import tqdm

    from layout.outputs.manifest import write_manifest

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = say or (lambda _msg: None)
    timings: dict[str, float] = {}
    with _timed(timings, "load_region"):
        region, set_aside = load_region_isolating(
            region_path if region_path is not None else scenario.region)
    result = RunResult(scenario=scenario, region=region, timings=timings, set_aside=set_aside)
    for code, reason in sorted(set_aside.items()):
        say(f"WARNING: county {code} is left out: region data: {reason}")
    steps = [s for s in ("forecast", "plan", "outputs") if s in stages]
    bar = tqdm(steps, desc="schoolplan", unit="stage", disable=not progress)
    from layout.distributed import using

    with using(executor):  # the scheduler hook: where forecast pieces and sub-problems run
        finish_plots: Callable[[], list[Path]] | None = None
        for stage in bar:
            bar.set_postfix_str(stage)
            if stage == "forecast":
                finish_plots = _forecast_step(result, out, draws, say)
            elif stage == "plan":
                _plan_step(result, say, progress)
            if finish_plots is not None and stage != "forecast":
                # the plots were drawn on the workers while this process went on with the plan
                _finish_plots(result, finish_plots)
                finish_plots = None
            if stage == "outputs" and result.plan is not None:
                with _timed(timings, "outputs"):
                    result.files += write_plan_outputs(result.plan, region, scenario, out,
                                                       result.outlook)
        if finish_plots is not None:
            _finish_plots(result, finish_plots)
    inputs = [*sorted(p for p in Path(region.path).iterdir() if p.is_file()), scenario.path]
    records = result.plan.solver_records if result.plan is not None else []
    result.files.append(write_manifest(out / "manifest.json", scenario.effective(), inputs,
                                       scenario.seed, records, timings, region_record(region)))
    return result


def _forecast_step(result: RunResult, out: Path, draws: int | None,
                   say: Say) -> Callable[[], list[Path]]:
    """Forecast stage of :func:`run_scenario`: forecast, then write ``out/forecast``.

    The tables are written here; the plots are started (:func:`layout.forecast_outputs.start_plots`)
    and the returned function writes them. On a cluster the workers draw them while this process
    goes on with the plan's models; :func:`run_scenario` calls it after the plan stage.

    Parameters
    ----------
    result : RunResult
        The run so far; gets ``outlook``, the written files and the stage timings.
    out : pathlib.Path
        Output folder of the run.
    draws : int, optional
        Monte Carlo draws (overrides the scenario).
    say : callable
        Receives the progress message.

    Returns
    -------
    callable
        Writes the plots into ``out/forecast/plots`` and returns their paths.

    """
    with _timed(result.timings, "forecast"):
        result.outlook = forecast_stage(result.region, result.scenario, draws=draws)
    with _timed(result.timings, "forecast_outputs"):
        finish = start_plots(result.outlook, result.region, out / "forecast" / "plots")
        result.files += write_forecast_outputs(result.outlook, result.region, out / "forecast",
                                               plots=False)
    say(f"forecast: {len(result.outlook.village_demand):,} village demand rows")
    return finish


def _finish_plots(result: RunResult, finish: Callable[[], list[Path]]) -> None:
    """Write the forecast's plots (started by :func:`_forecast_step`); timed as ``forecast_plots``."""
    with _timed(result.timings, "forecast_plots"):
        result.files += finish()


def _plan_step(result: RunResult, say: Say, progress: bool) -> None:
    """Plan stage of :func:`run_scenario`: optimise the target year's layout, county by county.

    Parameters
    ----------
    result : RunResult
        The run so far (needs ``outlook``); gets ``plan`` and the stage timing.
    say : callable
        Receives a warning per county left out of the plan.
    progress : bool
        Show a tqdm progress bar over the counties.

    Raises
    ------
    ValueError
        If the forecast stage has not run.

    """
    from tqdm.auto import tqdm

    if result.outlook is None:
        raise ValueError("the plan stage needs the forecast stage")
    region, scenario = result.region, result.scenario
    demand = demand_for_year(result.outlook, scenario.target_year)
    counties = tqdm(total=len(region.counties), desc="layout", unit="county",
                    disable=not progress, leave=False)

    def tick(code: str, i: int, n: int, _bar: Any = counties) -> None:
        _bar.set_postfix_str(str(code))
        _bar.update(1)

    with _timed(result.timings, "plan"):
        result.plan = (staged_plan_stage(region, scenario, result.outlook, progress=tick)
                       if milestone_years(scenario) else
                       plan_stage(region, scenario, demand, progress=tick))
    counties.close()
    record_set_aside(result.plan, result.set_aside, scenario.seed)
    for note in result.plan.notes:  # counties left out, with the reason
        if NOT_PLANNED in note:
            say(f"WARNING: {note} (see solver_records.csv); other counties planned")
