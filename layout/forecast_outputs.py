"""The forecast's output folder: tidy tables and, per county, fan charts and a pyramid.

:func:`write_forecast_outputs` writes the forecast tables (CSV, UTF-8 with BOM) and the plots.
The plots are drawn county by county: each county's charts are one piece of work
(:func:`county_plots`) that returns the PNG files as bytes, run through
:func:`forecasting.parallel.start_tasks` — in this process by default, as Dask tasks when the run
has a cluster (``--scheduler``), drawn while this process writes the tables. This process writes
every file (atomically), so a worker needs no access to the output folder, and the files are the
same wherever they were drawn.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.parallel import start_tasks
from layout.region import Region
from schoolsystem.vocabulary import BANDS, CHILD_AGES

if TYPE_CHECKING:  # the outlook module brings the share model's scikit-learn
    from forecasting.outlook import RegionOutlook


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    from layout.outputs.excel import write_csv  # one CSV rule: BOM, atomic, formulas neutralised

    return write_csv(frame, path, float_format="%.6g")


def school_age_series(outlook: RegionOutlook) -> pd.DataFrame:
    """Township school-age (3-17) population per forecast year: township_code, year, population."""
    t = outlook.population.townships
    lo, hi = BANDS["kindergarten"].first_age, CHILD_AGES[-1]
    t = t[(t["age"] >= lo) & (t["age"] <= hi)]
    return t.groupby(["township_code", "year"], sort=True)["population"].sum().reset_index()


def pop_change(series: pd.DataFrame, base_year: int, target_year: int) -> pd.DataFrame:
    """township_code, pop_base, pop_target from :func:`school_age_series`."""
    wide = series.pivot_table(index="township_code", columns="year", values="population")
    return pd.DataFrame({"township_code": wide.index, "pop_base": wide[base_year].to_numpy(),
                         "pop_target": wide[target_year].to_numpy()})


def write_forecast_outputs(outlook: RegionOutlook, region: Region, out: Path,
                           plots: bool = True) -> list[Path]:
    """Tidy forecast tables (CSV, UTF-8 with BOM) and fan-chart / pyramid PNGs.

    The plots are started first (:func:`start_plots`): on a cluster the workers draw them while
    this process writes the tables.
    """
    out.mkdir(parents=True, exist_ok=True)
    finish_plots = start_plots(outlook, region, out / "plots") if plots else None
    files = [
        _csv(outlook.township_demand, out / "forecast_township_demand.csv"),
        _csv(outlook.village_demand, out / "forecast_village_demand.csv"),
        _csv(outlook.level_totals(), out / "forecast_city_by_level.csv"),
        _csv(outlook.population.births, out / "forecast_births.csv"),
        _csv(outlook.population.townships, out / "forecast_township_population.csv"),
        _csv(outlook.rates, out / "forecast_participation_rates.csv"),
        _csv(outlook.interval_factors, out / "forecast_interval_factors.csv"),
    ]
    if outlook.population.birth_intervals is not None:
        files.append(_csv(outlook.population.birth_intervals, out / "forecast_birth_intervals.csv"))
    bt = outlook.backtest
    if bt is not None:
        files += [
            _csv(bt.table, out / "backtest_table.csv"),
            _csv(bt.coverage, out / "backtest_coverage.csv"),
            _csv(bt.by_size, out / "backtest_by_size.csv"),
            _csv(bt.births_table, out / "backtest_births.csv"),
        ]
    if outlook.share_model is not None:
        sm = outlook.share_model
        files.append(_csv(pd.DataFrame([{"method": sm.method, "cv_score": sm.cv_score,
                                          "baseline_score": sm.baseline_score,
                                          "reason": sm.reason}]), out / "share_model.csv"))
    if finish_plots is not None:
        files += finish_plots()
    return files


@dataclass(frozen=True)
class CountyPlotInput:
    """What one county's charts need (a task's whole input: a few thousand rows).

    Attributes
    ----------
    code, name : str
        County code and name.
    demand : DataFrame
        The county's township demand, ``area`` (township code), ``grade_band``, ``year``,
        ``p10, p50, p90`` and the other columns of ``township_demand``.
    history : DataFrame
        ``county_code, grade_band, year, students`` recorded enrollment of the county.
    pyramid_base, pyramid_target : DataFrame or None
        The county's township population by age in the base and target year (``None``: the
        county has no population rows, no pyramid).
    base_year, target_year : int

    """

    code: str
    name: str
    demand: pd.DataFrame
    history: pd.DataFrame
    pyramid_base: pd.DataFrame | None
    pyramid_target: pd.DataFrame | None
    base_year: int
    target_year: int


def county_plots(item: CountyPlotInput) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Draw one county's fan charts and pyramid; ``(fans, pyramids)`` as (file name, PNG bytes).

    Runs anywhere (a Dask worker included): the charts are drawn into a temporary folder and read
    back, the caller writes them.
    """
    from forecasting.plots import fan_charts_by_county, population_pyramid

    with tempfile.TemporaryDirectory(prefix="plots-") as tmp:
        folder = Path(tmp)
        county_of = item.demand.drop_duplicates("area").set_index("area")["county_code"]
        fans = fan_charts_by_county(item.demand, folder, county_of=county_of,
                                    history=item.history, county_names={item.code: item.name})
        pyramids = []
        if item.pyramid_base is not None and item.pyramid_target is not None:
            pyramids.append(population_pyramid(
                item.pyramid_base, item.pyramid_target, folder / f"pyramid_{item.code}.png",
                base_year=item.base_year, target_year=item.target_year,
                title=f"{item.code} children 0-17", title_zh=f"{item.name} 0-17岁人口"))
        return ([(p.name, p.read_bytes()) for p in fans],
                [(p.name, p.read_bytes()) for p in pyramids])


def plot_inputs(outlook: RegionOutlook, region: Region) -> list[CountyPlotInput]:
    """One :class:`CountyPlotInput` per county with demand or population, in code order."""
    from forecasting.demand import grade_table

    td = outlook.township_demand.rename(columns={"township_code": "area"})
    names = dict(zip(region.counties["county_code"], region.counties["name"], strict=True))
    enr = region.enrollment.merge(region.schools[["school_id", "county_code"]], on="school_id")
    enr = enr.merge(grade_table()[["grade", "grade_band"]], on="grade")
    history = enr.groupby(["county_code", "grade_band", "year"])["students"].sum().reset_index()
    history_of = {str(k): g for k, g in history.groupby(history["county_code"].astype(str))}
    t = outlook.population.townships
    target = int(t["year"].max())
    pyr = dict(list(t.groupby("county_code")))
    dem = dict(list(td.groupby("county_code")))
    empty = history.iloc[:0]
    items = []
    for code in sorted(set(dem) | set(pyr)):
        sub = pyr.get(code)
        items.append(CountyPlotInput(
            code=code, name=names.get(code, code), demand=dem.get(code, td.iloc[:0]),
            history=history_of.get(str(code), empty),
            pyramid_base=None if sub is None else sub[sub["year"] == outlook.base_year],
            pyramid_target=None if sub is None else sub[sub["year"] == target],
            base_year=outlook.base_year, target_year=target))
    return items


def start_plots(outlook: RegionOutlook, region: Region,
                folder: Path) -> Callable[[], list[Path]]:
    """Start drawing the charts; the returned function writes them into ``folder``.

    Fan charts per county and level, then a pyramid per county; the function returns the files
    in that order.

    The counties' charts go out as tasks (:func:`forecasting.parallel.start_tasks`): on a
    cluster they are drawn while the caller goes on, in-process when the function is called.
    The files are the same either way.
    """
    from layout.outputs.atomic import write_bytes_atomic

    pending = start_tasks(county_plots, plot_inputs(outlook, region))

    def finish() -> list[Path]:
        drawn = pending()
        folder.mkdir(parents=True, exist_ok=True)
        fans = [f for fan, _ in drawn for f in fan]
        pyramids = [f for _, pyr in drawn for f in pyr]
        return [write_bytes_atomic(folder / name, data) for name, data in [*fans, *pyramids]]

    return finish
