"""Province outputs: an overview map and, per prefecture, its own map and workbook.

Written by :func:`layout.pipeline.write_plan_outputs` when the region's counties belong to more
than one prefecture (:attr:`layout.region.model.Region.prefectures`); a one-prefecture region
(the embedded Guangyuan) gets none of them::

    OUT/province_map.html                overview (layout.outputs.province_map)
    OUT/prefectures/<code>/map.html      the plan of that prefecture's counties (maps.write_map)
    OUT/prefectures/<code>/layout.xlsx   its workbook (excel.write_workbook)

Each prefecture's files are made from the plan cut to its counties
(:func:`layout.outputs.prefectures.subset_plan`), so its workbook's tables, KPIs and staged
summary are that prefecture's alone. Each prefecture's pair is one task
(:func:`prefecture_files`): on a cluster (``--scheduler``) the workers make them while this
process writes the region's own files. Every file is written atomically, by this process.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from forecasting.parallel import start_tasks
from layout.errors import LayoutError
from layout.outputs.atomic import write_bytes_atomic
from layout.outputs.excel import write_workbook
from layout.outputs.maps import write_map
from layout.outputs.prefectures import subset_plan
from layout.outputs.province_map import write_province_map

__all__ = ["PREFECTURE_FOLDER", "PrefectureFiles", "ProvinceRegion", "prefecture_codes",
           "prefecture_files", "start_province_outputs", "write_province_outputs"]

PREFECTURE_FOLDER = "prefectures"
"""Folder of the per-prefecture outputs inside the output folder."""
_CODE = re.compile(r"\d{6}")


class ProvinceRegion(Protocol):
    """What the province outputs read from a region (:class:`layout.region.Region` has it)."""

    @property
    def counties(self) -> Any:
        """County polygons (``county_code``, ``name``)."""
        ...

    @property
    def townships(self) -> Any:
        """Township polygons (``township_code``, ``county_code``, ``name``)."""
        ...

    @property
    def villages(self) -> Any:
        """Villages (``village_id``, ``county_code``): the county of each demand point."""
        ...

    @property
    def name(self) -> str:
        """Name of the region (the province)."""
        ...

    @property
    def prefectures(self) -> pd.DataFrame:
        """``county_code, prefecture_code, prefecture_name``."""
        ...


def prefecture_codes(prefectures: pd.DataFrame) -> list[str]:
    """Sorted prefecture codes; raises ``LayoutError`` for a code that is no 6-digit number.

    The code names a folder (``prefectures/<code>/``), so nothing else may get through.
    """
    codes = sorted(prefectures["prefecture_code"].astype(str).unique())
    bad = [c for c in codes if not _CODE.fullmatch(c)]
    if bad:
        raise LayoutError(f"prefecture codes must be 6 digits, not {bad[:5]}")
    return codes


def _restrict(frame: pd.DataFrame | None, column: str, keep: Any) -> pd.DataFrame | None:
    """Rows of ``frame`` whose ``column`` is in ``keep`` (``None`` stays ``None``)."""
    if frame is None:
        return None
    return frame[frame[column].astype(str).isin(keep)]


@dataclass(frozen=True)
class PrefectureFiles:
    """What one prefecture's map and workbook need (a task's whole input).

    Attributes
    ----------
    code : str
        Prefecture code (its folder name).
    plan : LayoutPlan-like
        The plan cut to the prefecture's counties (:func:`subset_plan`).
    townships, counties : GeoDataFrame
        Its townships and counties.
    years_series, pop_change : DataFrame or None
        School-age population of its townships.
    map_args : dict
        ``tiles``, ``title`` and ``note`` of :func:`layout.outputs.maps.write_map`.
    scenario_params : dict
        The workbook's 情景参数 sheet.
    workbook_note : str
        The workbook's 说明 sheet.

    """

    code: str
    plan: Any
    townships: Any
    counties: Any
    years_series: pd.DataFrame | None
    pop_change: pd.DataFrame | None
    map_args: dict[str, Any]
    scenario_params: dict[str, Any]
    workbook_note: str


def prefecture_files(item: PrefectureFiles) -> list[tuple[str, bytes]]:
    """One prefecture's map and workbook as ``(file name, bytes)`` (runs anywhere).

    They are written into a temporary folder and read back; the caller writes them into the
    output folder, so the files are the same wherever they were made.
    """
    with tempfile.TemporaryDirectory(prefix="prefecture-") as tmp:
        folder = Path(tmp)
        made = [write_map(item.plan, item.townships, item.counties, folder / "map.html",
                          years_series=item.years_series, pop_change=item.pop_change,
                          **item.map_args),
                write_workbook(item.plan, dict(item.scenario_params), folder / "layout.xlsx",
                               note=item.workbook_note)]
        return [(path.name, path.read_bytes()) for path in made]


def write_province_outputs(plan: Any, region: ProvinceRegion, out: Path,
                           **options: Any) -> list[Path]:
    """Write the overview map and every prefecture's map and workbook; nothing for one prefecture.

    Arguments as :func:`start_province_outputs`, which this runs and finishes at once.

    Returns
    -------
    list of pathlib.Path
        Files written: per prefecture its map and workbook, then ``province_map.html``; empty
        when the region has one prefecture.

    """
    return start_province_outputs(plan, region, out, **options)()


def start_province_outputs(
    plan: Any,
    region: ProvinceRegion,
    out: Path,
    *,
    scenario_params: Mapping[str, Any],
    tiles: str = "none",
    title: str = "学校布局规划",
    years_series: pd.DataFrame | None = None,
    pop_change: pd.DataFrame | None = None,
    note: str | None = None,
    text: str | None = None,
) -> Callable[[], list[Path]]:
    """Start writing the province outputs; the returned function finishes and returns the files.

    Each prefecture's map and workbook is one task (:func:`prefecture_files`, through
    :func:`forecasting.parallel.start_tasks`): on a cluster the workers make them while the
    caller writes the region's own files; in-process they are made when the function is called.

    Parameters
    ----------
    plan : LayoutPlan-like
        The plan of the whole region.
    region : ProvinceRegion
        Its name, counties, townships, villages and the county -> prefecture table.
    out : pathlib.Path
        Output folder (exists).
    scenario_params : mapping
        Effective scenario parameters (the workbooks' 情景参数 sheet).
    tiles : str
        Background tiles of the maps (:data:`layout.outputs.maps.TILE_OPTIONS`).
    title : str
        Map title after the place name (``广元市 学校布局规划 2030 · baseline``).
    years_series, pop_change : pandas.DataFrame, optional
        School-age population per township (the choropleth of each prefecture map).
    note : str, optional
        Legend line of the maps (synthetic-data warning).
    text : str, optional
        Provenance text of the workbooks (their 说明 sheet), followed by the prefecture's line.

    Returns
    -------
    callable
        Writes the files and returns them: per prefecture its map and workbook, then
        ``province_map.html``; empty when the region has one prefecture.

    """
    prefectures = region.prefectures
    codes = prefecture_codes(prefectures)
    if len(codes) < 2:
        return list
    villages = region.villages
    demand_counties = pd.Series(villages["county_code"].astype(str).to_numpy(),
                                index=villages["village_id"].astype(str).to_numpy())
    names = prefectures.drop_duplicates("prefecture_code").set_index("prefecture_code")
    county_names = region.counties.set_index(region.counties["county_code"].astype(str))["name"]
    items = []
    for code in codes:  # one pass per prefecture (a handful), the tables are cut vectorised
        counties = prefectures.loc[prefectures["prefecture_code"] == code, "county_code"]
        keep = set(counties.astype(str))
        name = str(names.loc[code, "prefecture_name"])
        townships = region.townships[region.townships["county_code"].astype(str).isin(keep)]
        own_townships = set(townships["township_code"].astype(str))
        listed = ", ".join(f"{c} {county_names.get(c, '')}".strip() for c in sorted(keep))
        own = (f"市州 prefecture: {name} ({code}); 县区 counties: {listed}. 本工作簿只含该市州所辖"
               "县区的学校、分配、指标与项目 (this workbook holds only these counties; the staged "
               "summary is recomputed for them).")
        items.append(PrefectureFiles(
            code=code, plan=subset_plan(plan, keep, demand_counties), townships=townships,
            counties=_restrict(region.counties, "county_code", keep),
            years_series=_restrict(years_series, "township_code", own_townships),
            pop_change=_restrict(pop_change, "township_code", own_townships),
            map_args={"tiles": tiles, "title": f"{name} {title}", "note": note},
            scenario_params=dict(scenario_params),
            workbook_note=f"{text}\n{own}" if text else own))
    pending = start_tasks(prefecture_files, items)

    def finish() -> list[Path]:
        files: list[Path] = []
        for item, made in zip(items, pending(), strict=True):
            folder = out / PREFECTURE_FOLDER / item.code
            folder.mkdir(parents=True, exist_ok=True)
            files += [write_bytes_atomic(folder / name, data) for name, data in made]
        links = {c: f"{PREFECTURE_FOLDER}/{c}/map.html" for c in codes}
        books = {c: f"{PREFECTURE_FOLDER}/{c}/layout.xlsx" for c in codes}
        files.append(write_province_map(plan, region.counties, prefectures,
                                        out / "province_map.html", links=links,
                                        workbooks=books, tiles=tiles,
                                        title=f"{region.name} {title}".strip(), note=note))
        return files

    return finish
