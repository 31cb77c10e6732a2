"""Interactive, self-contained (offline) HTML map of a school layout plan.

``build_map`` returns a :class:`folium.Map`; ``write_map`` renders it, inlines every script and
stylesheet from ``layout/assets`` (no CDN request: the page works on an offline intranet) and
writes it atomically. Layers: county and township boundaries, a township choropleth of the
school-age population change with a year slider, and per level (幼儿园, 小学, 初中, 高中, 中职) the
schools coloured by action with merge lines, plus thin catchment (assignment) lines, off by
default. For a staged plan (``plan.milestones``) each level's school layer holds the network at
every milestone (schools open that year: new ones from their action year, closed ones gone) and a
second slider, 学校网络, moves between the milestones; a one-year plan's map is unchanged. Tooltips and popups show the school's facts in Chinese; every user string is rendered
as text (see :mod:`layout.outputs.escape`).

The page is reproducible: folium and branca name every element ``<kind>_<32 random hex digits>``;
:func:`render_html` renames them ``<kind>_<sequence number as 32 hex digits>`` in order of first
appearance, so identical inputs give a byte-identical ``map.html``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import numpy as np
import pandas as pd

from layout.errors import LayoutError
from layout.outputs import map_layers as ml
from layout.outputs.assets import inline_assets, remote_asset_refs
from layout.outputs.atomic import write_text_atomic
from layout.outputs.tables import ACTION_LABELS, LEVEL_LABELS, LEVELS, plan_table, township_change

TILE_OPTIONS = ("none", "osm", "tianditu", "gaode")
ACTION_COLORS = {
    "keep": "#2b8cbe", "expand": "#31a354", "close": "#d7301f", "merge": "#fd8d3c",
    "convert": "#807dba", "new": "#ffd92f",
}  # fmt: skip
MERGE_COLOR = "#b30000"
CHANGE_BINS = {
    "edges": [-0.30, -0.15, -0.05, 0.05, 0.15],
    "colors": ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#4393c3"],
    "labels": ["< -30%", "-30% ~ -15%", "-15% ~ -5%", "-5% ~ +5%", "+5% ~ +15%", "> +15%"],
    "missing": "#dddddd",
}


def _gcj_shift() -> tuple[Any, Any]:
    """Return (point shift, geometry shift) WGS84 -> GCJ-02; imported lazily (helper A's module)."""
    from layout.geo.gcj02 import geometry_wgs84_to_gcj02, wgs84_to_gcj02

    return wgs84_to_gcj02, geometry_wgs84_to_gcj02


def _add_tiles(fmap: folium.Map, tiles: str) -> None:
    if tiles == "none":
        return
    if tiles == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(fmap)
    elif tiles == "tianditu":
        key = os.environ.get("TIANDITU_KEY", "").strip()
        if not key:
            raise LayoutError(
                "tiles='tianditu' needs a Tianditu API key in the environment variable "
                "TIANDITU_KEY (apply at https://console.tianditu.gov.cn); or use tiles='none'"
            )
        for layer, name in (("vec", "天地图矢量"), ("cva", "天地图注记")):
            url = (
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
            )
            folium.TileLayer(url, attr="天地图", name=name, subdomains="01234567",
                             overlay=layer == "cva", control=False).add_to(fmap)  # fmt: skip
    elif tiles == "gaode":
        url = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
               "&style=8&x={x}&y={y}&z={z}")  # fmt: skip
        folium.TileLayer(url, attr="高德地图 (GCJ-02)", name="高德地图", subdomains="1234",
                         control=False).add_to(fmap)  # fmt: skip
    else:
        raise LayoutError(f"unknown tiles {tiles!r}; choose one of {TILE_OPTIONS}")


def _drawn_schools(schools: pd.DataFrame, shift_points: Any) -> pd.DataFrame:
    """Copy of plan.schools with merge target names/positions and drawn (maybe shifted) lon/lat."""
    out = schools.copy()
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce").astype(float)
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce").astype(float)
    if shift_points is not None:
        lon, lat = shift_points(out["lon"].to_numpy(), out["lat"].to_numpy())
        out["lon"], out["lat"] = np.asarray(lon, float), np.asarray(lat, float)
    targets = out.drop_duplicates(["school_id", "level"])[["school_id", "level", "name", "lon", "lat"]]
    targets.columns = ["merge_into", "level", "merge_name", "target_lon", "target_lat"]
    out["merge_into"] = out["merge_into"].fillna("").astype(str)
    return out.merge(targets, on=["merge_into", "level"], how="left")


def build_map(
    plan: Any,
    townships: Any,
    counties: Any,
    pop_change: pd.DataFrame | None = None,
    years_series: pd.DataFrame | None = None,
    tiles: str = "none",
    prefer_canvas: bool = True,
    title: str = "学校布局规划",
    note: str | None = None,
) -> folium.Map:
    """Build the interactive map of a layout plan.

    Parameters
    ----------
    plan : LayoutPlan-like
        Needs ``schools`` and ``assignments`` in the LayoutPlan formats.
    townships, counties : geopandas.GeoDataFrame
        Boundaries (EPSG:4326) with ``township_code``/``name`` and ``county_code``/``name``.
    pop_change : pandas.DataFrame, optional
        ``township_code, pop_base, pop_target`` (school-age population in the base and target
        year): a static choropleth of the change.
    years_series : pandas.DataFrame, optional
        ``township_code, year, population`` over the forecast years (first year = base): the
        choropleth gets a year slider. Takes precedence over ``pop_change``.
    tiles : {"none", "osm", "tianditu", "gaode"}
        Background tiles. "none" (default) keeps the page fully offline; "tianditu" needs
        ``TIANDITU_KEY``; "gaode" shifts the *drawn copy* of all features to GCJ-02.
    prefer_canvas : bool
        Draw vectors on a canvas (fast for many features); False draws SVG paths.
    title : str
        Legend title (escaped like any other text).
    note : str, optional
        Extra line in the legend, e.g. a synthetic-data warning.

    Returns
    -------
    folium.Map

    """
    if tiles not in TILE_OPTIONS:
        raise LayoutError(f"unknown tiles {tiles!r}; choose one of {TILE_OPTIONS}")
    shift_points = shift_geoms = None
    if tiles == "gaode":
        shift_points, shift_geoms = _gcj_shift()
    schools = _drawn_schools(plan_table(plan, "schools"), shift_points)
    assignments = plan_table(plan, "assignments")

    fmap = folium.Map(tiles=None, prefer_canvas=prefer_canvas, control_scale=True, zoom_start=8)
    ml.vendored(fmap, [("leaflet", "leaflet/leaflet.js")], [("leaflet_css", "leaflet/leaflet.css")])
    fmap.add_child(ml.SchoolMapScript())
    _add_tiles(fmap, tiles)
    county_geo, choropleth, years = _add_boundary_layers(
        fmap, townships, counties, pop_change, years_series, shift_geoms
    )
    milestones = _milestones(plan, schools)
    target_year = int(getattr(plan, "target_year", 0) or 0)
    if milestones:
        fmap.add_child(ml.StagedNetworkScript())
    _add_level_layers(fmap, schools, assignments, shift_points, milestones, target_year)
    _add_controls(fmap, county_geo)
    legend = {"title": title, "actions": _legend_actions(), "mergeColor": MERGE_COLOR,
              "bins": CHANGE_BINS if choropleth is not None else None, "note": note}  # fmt: skip
    index = (milestones.index(target_year) if target_year in milestones
             else max(len(milestones) - 1, 0))
    fmap.add_child(ml.MapControls(legend, choropleth, years, milestones, index))
    _fit(fmap, counties, shift_geoms)
    return fmap


def _add_boundary_layers(
    fmap: folium.Map,
    townships: Any,
    counties: Any,
    pop_change: pd.DataFrame | None,
    years_series: pd.DataFrame | None,
    shift_geoms: Any,
) -> tuple[dict[str, Any], ml.DataLayer | None, list[str]]:
    """Add the township layer (choropleth or plain boundaries), then the county boundaries.

    Parameters
    ----------
    fmap : folium.Map
        The map being built.
    townships, counties : geopandas.GeoDataFrame
        Boundaries, as in :func:`build_map`.
    pop_change, years_series : pandas.DataFrame, optional
        School-age population change, as in :func:`build_map`; without either, the townships are
        drawn as plain boundaries.
    shift_geoms : callable, optional
        WGS84 -> GCJ-02 shift of geometries (``tiles="gaode"``), else ``None``.

    Returns
    -------
    county_geo : dict
        GeoJSON of the simplified county boundaries (reused by the minimap).
    choropleth : DataLayer or None
        The choropleth layer, ``None`` without population change.
    years : list of str
        Slider labels (``2023年``, ...), empty without population change.

    """
    county_geo = ml.simplified_geojson(
        counties, counties[["county_code", "name"]].astype(str), shift_geoms
    )
    change = township_change(townships, pop_change=pop_change, years_series=years_series)
    choropleth = None
    years: list[str] = []
    if change is not None:
        raw_years, props = change
        years = [f"{y}年" if isinstance(y, int) else str(y) for y in raw_years]
        geo = ml.simplified_geojson(townships, props, shift_geoms)
        choropleth = ml.DataLayer(
            "乡镇学龄人口变化", "choroplethLayer",
            [{"labels": years, "geojson": geo, "bins": CHANGE_BINS}],
        )  # fmt: skip
        fmap.add_child(choropleth)
    else:
        town_props = townships[["township_code", "name"]].astype(str)
        town_geo = ml.simplified_geojson(townships, town_props, shift_geoms)
        fmap.add_child(ml.DataLayer("乡镇界", "boundaryLayer", [
            town_geo, {"color": "#8c8c8c", "weight": 0.7, "fill": False}]))  # fmt: skip
    fmap.add_child(ml.DataLayer("县区界", "boundaryLayer", [
        county_geo, {"color": "#333333", "weight": 2.2, "fill": False}]))  # fmt: skip
    return county_geo, choropleth, years


def _milestones(plan: Any, schools: pd.DataFrame) -> list[int]:
    """Milestone years of a staged plan whose ``capacity_<year>`` columns exist; [] otherwise."""
    years = sorted(int(y) for y in (getattr(plan, "milestones", None) or []))
    return [y for y in years if f"capacity_{y}" in schools.columns]


def _add_level_layers(
    fmap: folium.Map, schools: pd.DataFrame, assignments: pd.DataFrame, shift_points: Any,
    milestones: list[int] | None = None, target_year: int = 0,
) -> None:
    """Add, per level, the catchment lines (hidden at first) and the school layer.

    Parameters
    ----------
    fmap : folium.Map
        The map being built.
    schools : pandas.DataFrame
        From :func:`_drawn_schools` (drawn positions, merge targets).
    assignments : pandas.DataFrame
        ``plan.assignments``: demand point ``lon``/``lat`` to ``school_id`` per level.
    shift_points : callable, optional
        WGS84 -> GCJ-02 shift of points (``tiles="gaode"``), else ``None``.
    milestones : list of int, optional
        Staged plan: the school layer holds one network state per milestone (the milestone
        slider picks one); the target year's is shown first.
    target_year : int
        The plan's target year.

    """
    school_pos = schools.drop_duplicates(["school_id", "level"]).set_index(["school_id", "level"])
    for level in LEVELS:
        label = LEVEL_LABELS[level]
        asg = assignments[assignments["level"] == level]
        if len(asg):
            flat = _catchment_lines(asg, school_pos, shift_points)
            fmap.add_child(ml.DataLayer(f"服务范围：{label}", "lineLayer", [
                flat, {"color": "#555555", "weight": 0.6, "opacity": 0.45,
                       "interactive": False}], show=False))  # fmt: skip
        rows = schools[schools["level"] == level]
        if len(rows) and milestones:
            staged = ml.staged_school_payload(rows, level, label, milestones, target_year)
            fmap.add_child(ml.DataLayer(f"学校：{label}", "stagedSchoolLayer", [
                staged, {"actions": _legend_actions(), "mergeColor": MERGE_COLOR}]))  # fmt: skip
        elif len(rows):
            payload = ml.school_payload(rows, level, label)
            fmap.add_child(ml.DataLayer(f"学校：{label}", "schoolLayer", [
                payload, {"actions": _legend_actions(), "mergeColor": MERGE_COLOR}]))  # fmt: skip


def _catchment_lines(
    asg: pd.DataFrame, school_pos: pd.DataFrame, shift_points: Any
) -> list[float]:
    """Line payload from each demand point of one level to its assigned school.

    Parameters
    ----------
    asg : pandas.DataFrame
        Assignments of one level (``school_id, level, lon, lat``).
    school_pos : pandas.DataFrame
        Drawn schools indexed by ``(school_id, level)`` with ``lon``/``lat``.
    shift_points : callable, optional
        WGS84 -> GCJ-02 shift of the demand points, else ``None``.

    Returns
    -------
    list of float
        Flat ``[lon1, lat1, lon2, lat2, ...]`` segments
        (:func:`layout.outputs.map_layers.line_payload`).

    """
    key = pd.MultiIndex.from_arrays([asg["school_id"].astype(str), asg["level"]])
    target = school_pos.reindex(key)
    dlon = pd.to_numeric(asg["lon"], errors="coerce").to_numpy(float)
    dlat = pd.to_numeric(asg["lat"], errors="coerce").to_numpy(float)
    if shift_points is not None:
        dlon, dlat = (np.asarray(a, float) for a in shift_points(dlon, dlat))
    return ml.line_payload(dlon, dlat, target["lon"].to_numpy(), target["lat"].to_numpy())


def _add_controls(fmap: folium.Map, county_geo: dict[str, Any]) -> None:
    """Add the layer control, full-screen button, measuring tool and county minimap.

    Parameters
    ----------
    fmap : folium.Map
        The map being built.
    county_geo : dict
        GeoJSON of the county boundaries, drawn in the minimap.

    """
    folium.LayerControl(collapsed=False).add_to(fmap)
    ml.vendored(folium.plugins.Fullscreen(title="全屏", title_cancel="退出全屏"),
                [("fullscreen_js", "leaflet-fullscreen/Control.FullScreen.js")],
                [("fullscreen_css", "leaflet-fullscreen/Control.FullScreen.css")]).add_to(fmap)  # fmt: skip
    ml.vendored(folium.plugins.MeasureControl(primary_length_unit="kilometers",
                                              secondary_length_unit="meters",
                                              primary_area_unit="hectares", localization="cn"),
                [("measure_js", "leaflet-measure/leaflet-measure.min.js")],
                [("measure_css", "leaflet-measure/leaflet-measure.css")]).add_to(fmap)  # fmt: skip
    ml.OfflineMiniMap(county_geo, toggle_display=True, position="bottomleft",
                      zoom_level_offset=-3).add_to(fmap)  # fmt: skip


def _legend_actions() -> dict[str, dict[str, str]]:
    return {a: {"label": ACTION_LABELS[a], "color": ACTION_COLORS[a]} for a in ACTION_COLORS}


def _fit(fmap: folium.Map, counties: Any, shift_geoms: Any) -> None:
    if len(counties) == 0:
        return
    bounds = counties.to_crs("EPSG:4326").total_bounds
    if shift_geoms is not None:
        import shapely

        box = shift_geoms(np.array([shapely.box(*bounds)], dtype=object))
        bounds = shapely.bounds(box[0])
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])


def render_html(fmap: folium.Map) -> str:
    """Render ``fmap`` to one self-contained HTML string (assets inlined).

    Raises
    ------
    LayoutError
        If any script, stylesheet, image or font would still be loaded from a remote host.

    """
    root = fmap.get_root()
    html = inline_assets(stable_element_ids(root.render(), element_ids(root)))
    remote = remote_asset_refs(html)
    if remote:
        raise LayoutError(f"map would load remote assets: {remote[:5]}")
    return html


_HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def element_ids(root: Any) -> set[str]:
    """Random ids (``_id``) of ``root`` and every element below it (call after rendering)."""
    ids: set[str] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        ident = getattr(element, "_id", None)
        if isinstance(ident, str):
            ids.add(ident)
        stack.extend(getattr(element, "_children", {}).values())
    return ids


def stable_element_ids(html: str, ids: set[str]) -> str:
    """Replace each id of ``ids`` in ``html`` by its sequence number of first appearance.

    Parameters
    ----------
    html : str
        Rendered page, *before* assets are inlined (vendored files are left alone).
    ids : set of str
        The elements' random 32-hex-digit ids (:func:`element_ids`); other hex strings, e.g. in
        user data, are kept.

    Returns
    -------
    str
        The page with ``map_<random>`` turned into ``map_00000000000000000000000000000001`` etc.

    Examples
    --------
    >>> a, b = "f" * 32, "e" * 32
    >>> stable_element_ids(f"var map_{a} = 1; layer_{b}.addTo(map_{a});", {a, b})
    'var map_00000000000000000000000000000001 = 1; layer_00000000000000000000000000000002.addTo(map_00000000000000000000000000000001);'

    """
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        ident = match[0]
        if ident not in ids:
            return ident
        if ident not in numbers:
            numbers[ident] = f"{len(numbers) + 1:032x}"
        return numbers[ident]

    return _HEX32.sub(renumber, html)


def write_map(
    plan: Any, townships: Any, counties: Any, path: str | os.PathLike[str], **kwargs: Any
) -> Path:
    """Build the map (arguments as :func:`build_map`) and write it atomically to ``path``."""
    html = render_html(build_map(plan, townships, counties, **kwargs))
    return write_text_atomic(path, html)
