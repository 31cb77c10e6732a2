"""The province overview map ``province_map.html``: prefectures and per-level totals, offline.

A province plan has thousands of schools: drawn one by one, the overview would be an unreadable
(and heavy) page. This map aggregates instead (:func:`layout.outputs.prefectures.
prefecture_level_totals`):

- one polygon per prefecture (the union of its counties), clickable: the popup lists the
  prefecture's schools before -> after, closed, new, seats added and utilisation per level, and
  links to the prefecture's own map and workbook (``prefectures/<code>/map.html``, relative
  links, so the output folder can be moved or zipped as a whole);
- one layer per level (学校汇总：幼儿园 ... 中职), chosen with the radio buttons of the layer
  control (one level at a time, so circles of different levels never cover each other): per
  prefecture a circle whose area is proportional to the schools open after the plan (scaled to
  the level's largest prefecture), coloured by fewer / same / more schools than today and
  labelled ``before→after``;
- the county boundaries (off at first), a legend, the full-screen button.

Like ``map.html`` (:mod:`layout.outputs.maps`) every asset is inlined (no CDN), every user string
is shown as text, and identical inputs give a byte-identical page.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import folium
import folium.plugins
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.template import Template

from layout.errors import LayoutError
from layout.outputs import map_layers as ml
from layout.outputs import maps
from layout.outputs.atomic import write_text_atomic
from layout.outputs.escape import json_for_script
from layout.outputs.prefectures import add_prefecture_columns, prefecture_level_totals
from layout.outputs.tables import LEVEL_LABELS, LEVELS, chinese

__all__ = ["build_province_map", "prefecture_polygons", "write_province_map"]

AGGREGATE_COLUMNS: Final[list[str]] = [
    "prefecture_code", "prefecture_name", "lon", "lat", "schools_before", "schools_after",
    "closed", "new", "expanded", "seats_added", "utilization",
]  # fmt: skip
"""Columns of each level layer's rows (the JavaScript reads them by name)."""
POPUP_COLUMNS: Final[list[str]] = [
    "schools_before", "schools_after", "closed", "new", "seats_added", "utilization",
]  # fmt: skip
"""Columns of the prefecture popup's table, after the level."""
TOTAL_LABELS: Final[dict[str, str]] = {"closed": "撤并", "new": "新建", "expanded": "扩建"}
"""Chinese headers of the totals that are no plan-table column (the others: the schema's)."""
CHANGE_COLORS: Final[dict[str, str]] = {"fewer": "#d7301f", "same": "#bdbdbd", "more": "#2b8cbe"}
CHANGE_LABELS: Final[dict[str, str]] = {"fewer": "学校减少", "same": "学校数不变",
                                        "more": "学校增加"}  # fmt: skip
PREFECTURE_STYLE: Final[dict[str, Any]] = {"color": "#333333", "weight": 1.6, "fillColor": "#cfc8b8",
                                           "fillOpacity": 0.35}  # fmt: skip
DEFAULT_LEVEL: Final[str] = "primary"
"""Level shown when the page opens (else the first level the plan has)."""


class ProvinceMapScript(JSCSSMixin):
    """Loads ``province.js``/``.css`` (inlined later); added after :class:`ml.SchoolMapScript`."""

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "ProvinceMapScript"
        ml.vendored(self, [("province_js", "schoolmap/province.js")],
                    [("province_css", "schoolmap/province.css")])  # fmt: skip


class LevelLayer(ml.DataLayer):
    """A level's aggregate layer: a base layer, so the layer control shows one level at a time."""

    def __init__(self, name: str, function: str, args: list[Any], show: bool = True) -> None:
        super().__init__(name, function, args, show=show)
        self.overlay = False


class ProvinceControls(folium.elements.MacroElement):
    """Legend of the overview map and ``SchoolMap.ready`` (sets ``window.__mapReady``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            SchoolMap.addProvinceLegend({{ this._parent.get_name() }}, {{ this.legend_js }});
            SchoolMap.ready({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, legend: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ProvinceControls"
        self.legend_js = json_for_script(legend)


def prefecture_polygons(counties: Any, prefectures: pd.DataFrame) -> Any:
    """One polygon per prefecture: the union of its counties, sorted by prefecture code.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        County polygons with ``county_code``.
    prefectures : pandas.DataFrame
        ``county_code, prefecture_code, prefecture_name``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``prefecture_code, prefecture_name, counties`` (number of counties) and the geometry,
        in EPSG:4326.

    """
    frame = add_prefecture_columns(counties[["county_code", "geometry"]], prefectures)
    frame = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    out = frame.dissolve(by=["prefecture_code", "prefecture_name"], as_index=False,
                         aggfunc={"county_code": "nunique"}, sort=True)
    out = out.rename(columns={"county_code": "counties"})
    return out[["prefecture_code", "prefecture_name", "counties", "geometry"]]


def _popup_rows(totals: pd.DataFrame) -> pd.Series:
    """Prefecture code -> ``[[level label, before, after, closed, new, seats, util], ...]``."""
    t = totals.assign(level=totals["level"].map(LEVEL_LABELS).fillna(totals["level"]),
                      utilization=totals["utilization"].round(3).astype(object)
                      .where(totals["utilization"].notna(), None))
    rows = t[["level", *POPUP_COLUMNS]].astype(object).to_numpy().tolist()
    return pd.Series(rows, index=t["prefecture_code"].to_numpy()).groupby(level=0).agg(list)


def _level_payloads(totals: pd.DataFrame, points: pd.DataFrame) -> list[dict[str, Any]]:
    """One payload per level the plan has (school order): rows of :data:`AGGREGATE_COLUMNS`."""
    t = totals.merge(points, on="prefecture_code", how="left")
    t["utilization"] = t["utilization"].round(3)
    out = []
    for level in [lv for lv in LEVELS if lv in set(t["level"])]:
        rows = t[t["level"] == level]
        out.append({"level": level, "label": LEVEL_LABELS[level], "cols": AGGREGATE_COLUMNS,
                    "rows": ml._none_if_nan(rows[AGGREGATE_COLUMNS]),
                    "maxAfter": int(rows["schools_after"].max()), "colors": CHANGE_COLORS})
    return out


def build_province_map(
    plan: Any,
    counties: Any,
    prefectures: pd.DataFrame,
    links: Mapping[str, str] | None = None,
    workbooks: Mapping[str, str] | None = None,
    tiles: str = "none",
    title: str = "全省学校布局规划",
    note: str | None = None,
) -> folium.Map:
    """Build the province overview map of a plan.

    Parameters
    ----------
    plan : LayoutPlan-like
        Needs ``schools``.
    counties : geopandas.GeoDataFrame
        County polygons (``county_code``, ``name``).
    prefectures : pandas.DataFrame
        ``county_code, prefecture_code, prefecture_name`` (:attr:`Region.prefectures`).
    links, workbooks : mapping, optional
        Prefecture code -> relative URL of its map / workbook (linked from its popup).
    tiles : {"none", "osm", "tianditu", "gaode"}
        Background tiles, as :func:`layout.outputs.maps.build_map`.
    title : str
        Legend title.
    note : str, optional
        Extra legend line (e.g. a synthetic-data warning).

    Returns
    -------
    folium.Map

    """
    if tiles not in maps.TILE_OPTIONS:
        raise LayoutError(f"unknown tiles {tiles!r}; choose one of {maps.TILE_OPTIONS}")
    shift_points = shift_geoms = None
    if tiles == "gaode":
        shift_points, shift_geoms = maps._gcj_shift()
    totals = prefecture_level_totals(plan, prefectures, counties)
    polygons = prefecture_polygons(counties, prefectures)
    anchor = shapely.point_on_surface(polygons.geometry.to_numpy())
    lon, lat = shapely.get_x(anchor), shapely.get_y(anchor)
    if shift_points is not None:
        lon, lat = shift_points(lon, lat)
    points = pd.DataFrame({"prefecture_code": polygons["prefecture_code"].to_numpy(),
                           "lon": pd.Series(lon, dtype=float).round(ml.COORD_DECIMALS),
                           "lat": pd.Series(lat, dtype=float).round(ml.COORD_DECIMALS)})
    codes = polygons["prefecture_code"]
    props = pd.DataFrame({
        "code": codes, "name": polygons["prefecture_name"], "counties": polygons["counties"],
        "map": codes.map(dict(links or {})).astype(object).where(codes.isin(list(links or {})),
                                                                 None),
        "book": codes.map(dict(workbooks or {})).astype(object)
        .where(codes.isin(list(workbooks or {})), None),
        "rows": codes.map(_popup_rows(totals)).map(lambda r: r if isinstance(r, list) else []),
    })  # fmt: skip
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, zoom_start=6)
    ml.vendored(fmap, [("leaflet", "leaflet/leaflet.js")], [("leaflet_css", "leaflet/leaflet.css")])
    fmap.add_child(ml.SchoolMapScript())
    fmap.add_child(ProvinceMapScript())
    maps._add_tiles(fmap, tiles)
    county_geo = ml.simplified_geojson(
        counties, counties[["county_code", "name"]].astype(str), shift_geoms)
    fmap.add_child(ml.DataLayer("县区界", "boundaryLayer", [
        county_geo, {"color": "#777777", "weight": 0.6, "fill": False}], show=False))  # fmt: skip
    heads = ["学段", *(TOTAL_LABELS.get(c) or chinese(c) for c in POPUP_COLUMNS)]
    fmap.add_child(ml.DataLayer("市州（点击查看指标与分市地图）", "prefectureLayer", [
        ml.simplified_geojson(polygons, props, shift_geoms),
        {"heads": heads, "style": PREFECTURE_STYLE}]))  # fmt: skip
    payloads = _level_payloads(totals, points)
    shown = DEFAULT_LEVEL if any(p["level"] == DEFAULT_LEVEL for p in payloads) else (
        payloads[0]["level"] if payloads else "")
    for payload in payloads:
        fmap.add_child(LevelLayer(f"学校汇总：{payload['label']}", "aggregateLayer", [payload],
                                  show=payload["level"] == shown))
    folium.LayerControl(collapsed=False).add_to(fmap)
    ml.vendored(folium.plugins.Fullscreen(title="全屏", title_cancel="退出全屏"),
                [("fullscreen_js", "leaflet-fullscreen/Control.FullScreen.js")],
                [("fullscreen_css", "leaflet-fullscreen/Control.FullScreen.css")]).add_to(fmap)  # fmt: skip
    legend = {"title": title, "colors": CHANGE_COLORS, "labels": CHANGE_LABELS, "note": note,
              "lines": ["圆面积：规划后学校数；标注：规划前→规划后",
                        "点击市州查看各学段指标，并打开本市州地图"]}
    fmap.add_child(ProvinceControls(legend))
    maps._fit(fmap, counties, shift_geoms)
    return fmap


def write_province_map(plan: Any, counties: Any, prefectures: pd.DataFrame,
                       path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Build the overview map (arguments as :func:`build_province_map`) and write it atomically."""
    html = maps.render_html(build_province_map(plan, counties, prefectures, **kwargs))
    return write_text_atomic(path, html)
