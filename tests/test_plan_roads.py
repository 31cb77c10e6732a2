"""User road networks (GraphML, GeoPackage lines): routes follow the roads, gaps are unserved.

Toy plane (EPSG:4544, km from the toy origin). The only primary school P sits 2 km east of
village V1 in a straight line, but the road from V1 goes 3 km north, 2 km east and 3 km south:
an 8 km detour, 16 minutes by bus at 30 km/h (circuity 1 on a road network), where the
straight-line model says 2 km x 1.4 (hill) = 5.6 minutes. Village V2 sits on a separate road
piece: no route reaches P, so its pupils are unserved with a reason.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString
from toy_region import CRS, X0, Y0, demand_table, make_region

from layout.errors import LayoutError
from layout.plan import LayoutParams, plan_layout
from layout.plan.travel import RoadNetwork

FIXTURES = Path(__file__).parent / "fixtures" / "roads"
C = "510802"
SEAT, T2 = "510802001", "510802002"
V1, V2 = "510802001001", "510802002001"

NODES = {"A": (0, 0), "B": (0, 3), "C": (2, 3), "D": (2, 0), "E": (6, 0), "F": (6, 1)}
EDGES = [("A", "B"), ("B", "C"), ("C", "D"), ("E", "F")]


def _xy(name: str) -> tuple[float, float]:
    x, y = NODES[name]
    return X0 + x * 1000.0, Y0 + y * 1000.0


def _graph(with_length: bool = True) -> nx.Graph:
    g = nx.Graph()
    for n in NODES:
        x, y = _xy(n)
        g.add_node(n, x=x, y=y)
    for a, b in EDGES:
        length = float(np.hypot(*np.subtract(_xy(a), _xy(b))))
        g.add_edge(a, b, **({"length": length} if with_length else {}))
    return g


def _write_graphml(path: Path, with_length: bool = True) -> Path:
    nx.write_graphml(_graph(with_length), path)
    return path


def _write_gpkg(path: Path, crs: str = CRS) -> Path:
    lines = [LineString([_xy(a), _xy(b)]) for a, b in EDGES]
    gdf = gpd.GeoDataFrame({"road": [f"{a}{b}" for a, b in EDGES]}, geometry=lines, crs=CRS)
    gdf.to_crs(crs).to_file(path, driver="GPKG")
    return path


@pytest.fixture(params=["graphml", "gpkg", "gpkg_wgs84", "graphml_string_attrs"])
def road_file(request, tmp_path) -> Path:
    kind = request.param
    if kind == "graphml":
        return _write_graphml(tmp_path / "roads.graphml")
    if kind == "gpkg":
        return _write_gpkg(tmp_path / "roads.gpkg")
    if kind == "gpkg_wgs84":
        return _write_gpkg(tmp_path / "roads.gpkg", crs="EPSG:4326")
    # Hand-written GraphML with string-typed attributes (as osmnx and other tools write them).
    return FIXTURES / "detour_string_attrs.graphml"


def _points(*names: str) -> np.ndarray:
    return np.array([_xy(n) for n in names])


def test_route_lengths_follow_the_network(road_file):
    net = RoadNetwork.from_file(road_file, CRS)
    src = np.vstack([_points("A"), _points("E"), [[X0 + 100.0, Y0 - 50.0]]])
    dst = _points("D")
    got = net.route_m(src, dst, np.array([0, 1, 2]), np.array([0, 0, 0]))
    assert got[0] == pytest.approx(8_000.0, abs=1.0)  # the detour, not the 2 km straight line
    assert np.isinf(got[1])  # separate road piece: unreachable
    # Off-network point: straight access to its nearest node (A, 111.8 m) + the route.
    assert got[2] == pytest.approx(8_000.0 + np.hypot(100.0, 50.0), abs=1.0)


def test_graphml_without_edge_length_uses_node_distance(tmp_path):
    net = RoadNetwork.from_file(_write_graphml(tmp_path / "r.graphml", with_length=False), CRS)
    got = net.route_m(_points("A"), _points("D"), np.array([0]), np.array([0]))
    assert got[0] == pytest.approx(8_000.0, abs=1.0)


def test_missing_road_file_is_a_clear_error(tmp_path):
    with pytest.raises(LayoutError, match="not found"):
        RoadNetwork.from_file(tmp_path / "nope.graphml", CRS)


def _region():
    tws = [
        {"township_code": SEAT, "county_code": C, "is_county_seat": True},
        {"township_code": T2, "county_code": C},
    ]
    vil = [
        {"village_id": V1, "township_code": SEAT, "x_km": 0.0, "y_km": 0.0},
        {"village_id": V2, "township_code": T2, "x_km": 6.0, "y_km": 0.0},
    ]
    sch = [{"school_id": "P", "school_type": "primary", "township_code": SEAT, "x_km": 2.0,
            "y_km": 0.0, "capacity": 500, "enrollment": {"primary": 200}}]
    return make_region(tws, vil, sch, terrain={C: "hill"})


def _plan(params=None):
    rows = [(V1, "primary_upper", 60), (V2, "primary_upper", 40)]
    return plan_layout(_region(), demand_table(rows), params, target_year=2030, time_limit=5,
                       threads=1)


def test_plan_follows_the_road_network_and_lists_unreachable_demand(road_file):
    straight = _plan()
    a0 = straight.assignments.set_index("demand_id")
    assert a0.loc[V1, "travel_min"] == pytest.approx(2_000 * 1.4 / 500)
    assert a0.loc[V2, "travel_min"] == pytest.approx(4_000 * 1.4 / 500)  # straight line: served

    p = LayoutParams.model_validate({"travel": {"road_network": str(road_file)}})
    plan = _plan(p)
    a = plan.assignments.set_index("demand_id")
    assert list(a.index) == [V1]
    assert a.loc[V1, "school_id"] == "P"
    assert a.loc[V1, "travel_min"] == pytest.approx(8_000 / 500, abs=0.01)  # 16 min detour
    u = plan.unserved
    assert list(u["demand_id"]) == [V2]
    assert u["students"].iloc[0] == 40
    reason = u["reason"].iloc[0]
    assert "road" in reason
    assert "unreachable" in reason or "no route" in reason


def test_one_way_roads_are_followed_from_home_to_school(tmp_path):
    # Directed A->D direct (2 km) and the detour D->C->B->A back: home A to school D is 2 km,
    # home D to school A must take the 8 km detour.
    g = nx.DiGraph()
    for n in "ABCD":
        x, y = _xy(n)
        g.add_node(n, x=x, y=y)
    g.add_edge("A", "D", length=2_000.0)
    g.add_edge("D", "C", length=3_000.0)
    g.add_edge("C", "B", length=2_000.0)
    g.add_edge("B", "A", length=3_000.0)
    path = tmp_path / "oneway.graphml"
    nx.write_graphml(g, path)
    net = RoadNetwork.from_file(path, CRS)
    ad = net.route_m(_points("A"), _points("D"), np.array([0]), np.array([0]))
    da = net.route_m(_points("D"), _points("A"), np.array([0]), np.array([0]))
    assert ad[0] == pytest.approx(2_000.0, abs=1.0)
    assert da[0] == pytest.approx(8_000.0, abs=1.0)


def test_graphml_in_lon_lat_with_a_crs_attribute_is_projected(tmp_path):
    # osmnx writes unprojected graphs with x = lon, y = lat and graph attribute crs.
    from pyproj import Transformer

    g = _graph()
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    for _, d in g.nodes(data=True):
        d["x"], d["y"] = tr.transform(d["x"], d["y"])
    g.graph["crs"] = "epsg:4326"
    path = tmp_path / "lonlat.graphml"
    nx.write_graphml(g, path)
    net = RoadNetwork.from_file(path, CRS)
    assert net.xy[:, 0].min() == pytest.approx(X0, abs=0.01)
    got = net.route_m(_points("A"), _points("D"), np.array([0]), np.array([0]))
    assert got[0] == pytest.approx(8_000.0, abs=1.0)


def test_bad_edge_length_names_the_edge(tmp_path):
    g = _graph()
    g.edges["A", "B"]["length"] = "3 km"
    path = tmp_path / "bad.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(LayoutError, match=r"edge A-B, column length = '3 km'"):
        RoadNetwork.from_file(path, CRS)
