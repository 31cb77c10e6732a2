"""folium elements and data payloads of the school layout map (see :mod:`layout.outputs.maps`).

Each layer is one Leaflet ``featureGroup`` filled by ``window.SchoolMap`` (the project's own
``layout/assets/schoolmap/schoolmap.js``) from a compact JSON payload: one ``L.geoJSON`` of circle
markers per level, one multi-polyline for the merge lines and one for the catchment lines of a
level, so a 20,000-school map is a handful of Leaflet objects rather than 20,000 marker objects.
All payloads go through :func:`layout.outputs.escape.json_for_script`; all user strings are shown
with ``textContent`` by the JavaScript side.
"""

from __future__ import annotations

from typing import Any

import folium
import folium.plugins
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from layout.outputs.assets import asset_css, asset_js
from layout.outputs.escape import json_for_script

COORD_DECIMALS = 5
"""Decimals kept for drawn coordinates (1e-5 degree is about 1 m)."""
SIMPLIFY_M = 100.0
"""Tolerance (metres) of the polygon simplification for display."""

SCHOOL_PAYLOAD_COLUMNS = [
    "school_id", "name", "action", "merge_into", "merge_name", "capacity_base", "capacity_after",
    "enrollment_base", "demand_target", "boarders", "reason", "lon", "lat",
]  # fmt: skip


def vendored(element: Any, js: list[tuple[str, str]], css: list[tuple[str, str]]) -> Any:
    """Point a folium element's ``default_js``/``default_css`` at vendored asset files."""
    element.default_js = [(name, asset_js(rel)) for name, rel in js]
    element.default_css = [(name, asset_css(rel)) for name, rel in css]
    return element


def _none_if_nan(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of ``frame`` as lists with NaN/NA replaced by None (JSON null)."""
    obj = frame.astype(object)
    return obj.where(frame.notna(), None).to_numpy().tolist()


def school_payload(schools: pd.DataFrame, level: str, label: str) -> dict[str, Any]:
    """Build the JSON payload of one level's school layer.

    Parameters
    ----------
    schools : pandas.DataFrame
        Rows of plan.schools for this level, with ``merge_name`` (name of the ``merge_into``
        school, may be empty) and drawn ``lon``/``lat`` (already shifted if needed).
    level, label : str
        Level identifier and its Chinese label.

    Returns
    -------
    dict
        ``cols``, ``rows`` (reason coded as an index into ``reasons``), ``reasons`` and ``merge``
        (flat ``[lon1, lat1, lon2, lat2, ...]`` from each closed/merged school to its target).

    """
    frame = schools[SCHOOL_PAYLOAD_COLUMNS].copy()
    frame["lon"] = frame["lon"].astype(float).round(COORD_DECIMALS)
    frame["lat"] = frame["lat"].astype(float).round(COORD_DECIMALS)
    for col in ("capacity_base", "capacity_after", "enrollment_base", "demand_target", "boarders"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round(1)
    reasons = frame["reason"].fillna("").astype(str)
    codes, uniques = pd.factorize(reasons, sort=False)
    frame["reason"] = codes
    for col in ("school_id", "name", "action", "merge_into", "merge_name"):
        frame[col] = frame[col].fillna("").astype(str)
    target = schools["merge_into"].fillna("").astype(str)
    has_target = (target != "") & schools["action"].isin(["close", "merge"])
    pos = schools.loc[has_target, ["lon", "lat", "target_lon", "target_lat"]].astype(float)
    pos = pos.dropna().round(COORD_DECIMALS)
    return {
        "level": level,
        "label": label,
        "cols": SCHOOL_PAYLOAD_COLUMNS,
        "rows": _none_if_nan(frame),
        "reasons": [str(r) for r in uniques],
        "merge": pos.to_numpy().ravel().tolist(),
    }


def milestone_schools(schools: pd.DataFrame, year: int) -> pd.DataFrame:
    """The schools open at one milestone of a staged plan, as rows for :func:`school_payload`.

    A school is open at ``year`` when ``capacity_<year>`` > 0: new schools appear in their
    ``action_year``, closed and merged ones are gone from theirs on. ``capacity_after`` becomes
    that year's permanent seats; ``action`` is shown from its ``action_year`` on (``keep`` before).
    A school with no figure that year (vocational schools are planned for the target year only)
    keeps its target-year state.
    """
    col = f"capacity_{year}"
    cap = (pd.to_numeric(schools[col], errors="coerce").astype(float) if col in schools
           else pd.Series(np.nan, index=schools.index))
    target_open = ~schools["action"].isin(["close", "merge"]) & (
        pd.to_numeric(schools["capacity_after"], errors="coerce").fillna(0) > 0)
    known = cap.notna()
    is_open = (known & (cap.fillna(0) > 0)) | (~known & target_open)
    out = schools[is_open].copy()
    out["capacity_after"] = cap[is_open].where(known[is_open], out["capacity_after"])
    act_year = pd.to_numeric(out["action_year"], errors="coerce")
    later = act_year.notna() & (act_year > year)
    out["action"] = out["action"].where(~later, "keep")
    return out


def staged_school_payload(schools: pd.DataFrame, level: str, label: str, years: list[int],
                          target_year: int) -> dict[str, Any]:
    """Payload of one level's school layer with one network state per milestone.

    ``states`` holds a :func:`school_payload` of the schools open at each milestone
    (:func:`milestone_schools`); ``index`` is the target year's state, shown first.
    """
    states = [school_payload(milestone_schools(schools, y), level, label)
              for y in years]
    index = years.index(target_year) if target_year in years else len(years) - 1
    return {"level": level, "label": label, "years": [int(y) for y in years],
            "index": index, "states": states}


def line_payload(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> list[float]:
    """Return segments as a flat ``[lon1, lat1, lon2, lat2, ...]`` list (NaN rows dropped)."""
    arr = np.column_stack([lon1, lat1, lon2, lat2]).astype(float)
    arr = arr[np.isfinite(arr).all(axis=1)]
    return np.round(arr, COORD_DECIMALS).ravel().tolist()


def simplified_geojson(gdf: Any, properties: pd.DataFrame, shift: Any = None) -> dict[str, Any]:
    """Return polygons as a GeoJSON FeatureCollection simplified and rounded for display.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons in EPSG:4326 (any CRS is converted).
    properties : pandas.DataFrame
        One row per polygon (same order), JSON-serialisable values (NaN becomes null).
    shift : callable, optional
        Geometry transform applied to the drawn copy (e.g. WGS84 -> GCJ-02).

    Returns
    -------
    dict
        GeoJSON FeatureCollection; geometries simplified with ``SIMPLIFY_M`` metres in a local UTM
        projection (topology preserved) and coordinates rounded to ``COORD_DECIMALS`` decimals.

    """
    wgs = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
    if len(wgs):
        utm = wgs.estimate_utm_crs()
        geoms = wgs.geometry.to_crs(utm).simplify(SIMPLIFY_M, preserve_topology=True)
        geoms = geoms.to_crs("EPSG:4326").to_numpy()
    else:
        geoms = np.array([], dtype=object)
    if shift is not None:
        geoms = np.asarray(shift(geoms), dtype=object)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    props = properties.reset_index(drop=True)
    rows = props.astype(object).where(props.notna(), None).to_dict("records")
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, rows, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


class SchoolMapScript(JSCSSMixin):
    """Loads ``schoolmap.js``/``.css`` (inlined later); must be added before the layers.

    :class:`folium.elements.JSCSSMixin` adds the ``default_js``/``default_css`` links (set by
    :func:`vendored`) to the page header when the element is rendered.
    """

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "SchoolMapScript"
        vendored(self, [("schoolmap_js", "schoolmap/schoolmap.js")],
                 [("schoolmap_css", "schoolmap/schoolmap.css")])  # fmt: skip


class DataLayer(folium.map.Layer):
    """A featureGroup overlay filled by one ``SchoolMap.<function>(group, payload...)`` call.

    Parameters
    ----------
    name : str
        Layer name shown in the layer control (fixed project text, never user data: Leaflet's
        layer control inserts it as HTML).
    function : str
        Name of the ``window.SchoolMap`` function to call.
    args : list
        JSON-serialisable arguments after the group.
    show : bool
        Whether the layer is on when the page opens.

    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup();
            var {{ this.get_name() }}_state = SchoolMap.{{ this.function }}(
                {{ this.get_name() }}, {{ this.args_js }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, function: str, args: list[Any], show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.function = function
        self.args_js = ", ".join(json_for_script(a) for a in args)


class StagedNetworkScript(MacroElement):
    """``SchoolMap.stagedSchoolLayer`` and the milestone slider of a staged plan's map.

    Each level's layer holds one network state per milestone (:func:`staged_school_payload`),
    each drawn by ``SchoolMap.schoolLayer``; the milestone slider shows one state at a time.
    Must be added before the layers that call it. Exposes ``window.__milestoneYear`` and
    ``window.__milestoneSlider.setYear(index)`` for tests.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (SM) {
          SM.milestoneStates = [];
          SM.stagedSchoolLayer = function (group, data, config) {
            var before = window.__schoolFeatureCount;
            var subs = data.states.map(function (payload) {
              var g = L.featureGroup();
              SM.schoolLayer(g, payload, config);
              return g;
            });
            var state = { index: data.index, years: data.years };
            var count = function (i) { return data.states[i].rows.length; };
            window.__schoolFeatureCount = before + count(state.index);
            window.__schoolLayerCounts[data.level] = count(state.index);
            group.addLayer(subs[state.index]);
            state.setYear = function (i) {
              if (i === state.index) { return; }
              group.removeLayer(subs[state.index]);
              group.addLayer(subs[i]);
              window.__schoolFeatureCount += count(i) - count(state.index);
              window.__schoolLayerCounts[data.level] = count(i);
              state.index = i;
            };
            SM.milestoneStates.push(state);
            return state;
          };
          SM.addMilestoneSlider = function (map, years, index) {
            var all = {
              index: index,
              setYear: function (i) {
                SM.milestoneStates.forEach(function (s) { s.setYear(i); });
                all.index = i;
                window.__milestoneYear = years[i];
              }
            };
            window.__milestoneYear = years[index];
            window.__milestoneSlider = all;
            return SM.addSlider(map, all, years.map(function (y) { return y + "年"; }), {
              title: "学校网络", aria: "里程碑年", global: null,
              className: "sm-slider sm-milestones leaflet-bar"
            });
          };
        })(window.SchoolMap);
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "StagedNetworkScript"


class MapControls(MacroElement):
    """Legend, year slider (bound to a choropleth layer), milestone slider, ``__mapReady``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            SchoolMap.addLegend({{ this._parent.get_name() }}, {{ this.legend_js }});
            {% if this.choropleth %}
            SchoolMap.addSlider({{ this._parent.get_name() }},
                {{ this.choropleth.get_name() }}_state, {{ this.years_js }});
            {% endif %}
            {% if this.milestones_js %}
            SchoolMap.addMilestoneSlider({{ this._parent.get_name() }},
                {{ this.milestones_js }}, {{ this.milestone_index }});
            {% endif %}
            SchoolMap.ready({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, legend: dict[str, Any], choropleth: DataLayer | None, years: list[str],
        milestones: list[int] | None = None, milestone_index: int = 0,
    ) -> None:
        super().__init__()
        self._name = "MapControls"
        self.legend_js = json_for_script(legend)
        self.choropleth = choropleth
        self.years_js = json_for_script(years)
        self.milestones_js = json_for_script([int(y) for y in milestones]) if milestones else ""
        self.milestone_index = int(milestone_index)


class OfflineMiniMap(folium.plugins.MiniMap):
    """MiniMap showing a GeoJSON outline (the counties) instead of remote tiles."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }}_layer = L.geoJSON({{ this.geojson_js }},
                {style: function () { return {color: "#555555", weight: 1, fillColor: "#cfc8b8",
                 fillOpacity: 0.6}; }, interactive: false});
            var {{ this.get_name() }} = new L.Control.MiniMap(
                {{ this.get_name() }}_layer, {{ this.options|tojavascript }});
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, geojson: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.geojson_js = json_for_script(geojson)
        vendored(self, [("minimap_js", "leaflet-minimap/Control.MiniMap.min.js")],
                 [("minimap_css", "leaflet-minimap/Control.MiniMap.min.css")])  # fmt: skip
