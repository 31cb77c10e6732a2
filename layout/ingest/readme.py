"""Text of the workbook's 说明 sheet and of the derivation record (given vs derived layers).

:data:`DERIVATIONS` names, for every region layer that can be derived, the method used when the
bureau does not hold it; the importer writes the layers it derived and the method into
``region.yaml`` (``derived_layers``, ``derivations``), ``data check`` prints them, and the 说明
sheet lists them so a planner knows beforehand what an empty optional sheet costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Final

from layout.ingest.template import SCHOOL_TYPE_NOTE, SHEETS

DERIVATIONS: Final = MappingProxyType({
    "children": (
        "single ages 0-17 per township from the 乡镇年龄 groups: 5-year groups split by a monotone "
        "(PCHIP) spline of the cumulative count (Hyman filter, sum-preserving), broad groups split "
        "by the 年龄结构 sheet or the county's births; then within each group ages 0-5 reshaped by "
        "county births of their birth year and ages 6-17 by county base-year enrollment by grade "
        "(each step keeps every group total); in the group 15-19 the sub-total 15-17 scaled to "
        "the county's senior-stage estimate (G10-G12 + V1-V3 enrollment / (participation = "
        "G10+V1 over last year's G9) / (junior coverage = G7-G9 over derived residents 12-14)), "
        "18-19 keep the rest; villages = township single ages x village share of "
        "township population (largest-remainder rounding keeps township totals)"),
    "women": (
        "women 15-49 by single age per township from the female 5-year groups (PCHIP of the "
        "cumulative count, sum-preserving; 15-59 split by the 年龄结构 sheet), villages by share "
        "of township population"),
    "townships": (
        "township polygons = Voronoi cells of the township seats (驻地坐标, else the village "
        "nearest the population-weighted centre of the township's villages) clipped to the "
        "county boundary; derived, not surveyed"),
    "villages": (
        "villages without coordinates are placed at their township seat (demand point = seat)"),
    "township_history": (
        "township population per year = base-year township population x the county's "
        "population change (urbanisation table); no township-specific trend"),
    "city": "region outline = union of the county boundaries",
    "elderly_share": (
        "share 65+ from the 65+ (or 65-69 ... 85+) groups; from 60+ x 0.70 when only 60+ given"),
})
"""Derived layer (or column) -> method, as recorded in ``region.yaml``."""


def readme_rows(note: str = "", template: bool = True) -> Iterator[tuple[str, str]]:
    """Rows (two columns) of the 说明 sheet.

    Parameters
    ----------
    note : str
        Extra first line (a synthetic-data warning for filled examples).
    template : bool
        Whether the sheets hold greyed example rows to overwrite.

    Yields
    ------
    tuple of str

    """
    if note:
        yield ("注意 NOTE", note)
    yield ("用途", "学校布局规划输入数据表：填写后运行 schoolplan data import 本文件.xlsx --out 区域文件夹 "
                  "[--crs wgs84|gcj02|bd09] --boundaries 区县边界.geojson [--townships 乡镇边界.geojson]")
    yield ("格式", "每个表第1行为中文表头，第2行为字段标识（导入按标识读取，请勿修改），第3行起为数据。"
                  "不要合并单元格；代码列按文本填写（保留前导0）；年份填整数，不要填日期。")
    if template:
        yield ("示例行", "灰色斜体行为示例，请覆盖或删除；原样保留会被报错。")
    yield ("坐标", "经纬度可为 WGS84(GPS)、GCJ-02(高德/腾讯) 或 BD-09(百度)；在地区表「坐标系」或命令行 "
                  "--crs 指明，导入时精确转换为 WGS84。远离本地区的坐标（经纬度颠倒、投影坐标）报错。")
    yield ("办学类型", SCHOOL_TYPE_NOTE)
    yield ("是/否", "县城、中心镇、城镇等列填「是」或「否」。")
    yield ("", "")
    yield ("表 sheet", "内容；必填/可选")
    for sheet in SHEETS.values():
        yield (sheet.title, f"{sheet.meaning}；{'必填' if sheet.required else '可选'}")
    yield ("", "")
    yield ("已有/推算", "缺少的明细按以下文档化方法推算（保持总数不变），region.yaml 的 given_layers / "
                      "derived_layers 记录哪些是给定、哪些是推算，data check 与运行报告同样注明：")
    for layer, method in DERIVATIONS.items():
        yield (f"推算 {layer}", method)
