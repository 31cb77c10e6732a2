"""Travel times: straight-line distance in the projected CRS x a circuity factor, at a mode speed.

Without road data a journey is ``distance_m * circuity / speed``; the circuity factor comes from
the county's terrain (``counties.terrain``: mountain / hill / urban). Where the user supplies a
road network (GraphML with node ``x``/``y`` in the projected CRS — or in the graph's ``crs``
attribute, as osmnx writes lon/lat — and edge ``length`` in metres, the straight node distance
when missing; or a GeoPackage of road lines), the route length along the network replaces the
straight line (plus the straight-line access to the nearest node at each end) and the circuity
factor is 1. Directed graphs are followed from home to school (one-way roads). A point whose
nearest node has no route to the school is unreachable (``inf``). Nothing is ever fetched online.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from layout.errors import LayoutError
from layout.plan.params import TravelParams


def project(lon: ArrayLike, lat: ArrayLike, crs: str) -> NDArray[np.float64]:
    """Project WGS84 lon/lat to ``crs`` (metres); returns an ``(n, 2)`` array of x, y."""
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def speed_mpm(mode: ArrayLike, params: TravelParams) -> NDArray[np.float64]:
    """Speed in metres per minute for each mode (``"walk"`` / ``"bus"``)."""
    m = np.asarray(mode)
    return np.where(m == "walk", params.walk_kmh, params.bus_kmh) * 1000.0 / 60.0


def circuity(terrain: ArrayLike, params: TravelParams) -> NDArray[np.float64]:
    """Circuity factor per terrain code (unknown terrain -> the mountain factor, conservative)."""
    t = np.asarray(terrain, dtype=object)
    out = np.full(t.shape, params.circuity.get("mountain", 1.6), dtype=float)
    for key, value in params.circuity.items():
        out[t == key] = value
    return out


def minutes(dist_m: ArrayLike, circ: ArrayLike, speed: ArrayLike) -> NDArray[np.float64]:
    """Journey minutes for straight-line ``dist_m``, circuity and speed (m/min)."""
    return np.asarray(dist_m, dtype=float) * np.asarray(circ, dtype=float) / np.asarray(speed)


class RoadNetwork:
    """A user-supplied road network used for route lengths.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes carry ``x``, ``y`` in the projected CRS; edges carry ``length`` (metres).

    """

    def __init__(self, graph: nx.Graph) -> None:
        nodes = list(graph.nodes)
        if not nodes:
            raise LayoutError("road network: the graph has no nodes")
        try:
            xy = np.array([[float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"])] for n in nodes])
        except KeyError as exc:
            raise LayoutError(f"road network: node without coordinate {exc}") from exc
        self.graph = graph
        self.nodes = nodes
        self.xy = xy
        from sklearn.neighbors import BallTree  # scikit-learn: imported when needed
        self._tree = BallTree(xy)
        # Routes are searched backwards from each school: on a directed (one-way) network the
        # reversed graph gives the journey from home to school.
        self._search = graph.reverse(copy=False) if graph.is_directed() else graph

    @classmethod
    def from_file(cls, path: str | Path, crs: str) -> RoadNetwork:
        """Read GraphML (``.graphml``) or road lines (``.gpkg``/``.geojson``), projected to ``crs``.

        Line files become a graph whose nodes are line end points (rounded to the metre) and whose
        edges have the line length.
        """
        path = Path(path)
        if not path.exists():
            raise LayoutError(f"road network {path}: file not found")
        if path.suffix.lower() == ".graphml":
            return cls(_graphml_graph(path, crs))
        import geopandas as gpd

        lines = gpd.read_file(path).to_crs(crs).explode(index_parts=False)
        lines = lines[lines.geometry.geom_type == "LineString"]
        g = nx.Graph()
        for geom in lines.geometry:
            (x0, y0), (x1, y1) = geom.coords[0], geom.coords[-1]
            a, b = (round(x0), round(y0)), (round(x1), round(y1))
            g.add_node(a, x=float(a[0]), y=float(a[1]))
            g.add_node(b, x=float(b[0]), y=float(b[1]))
            if not g.has_edge(a, b) or g.edges[a, b]["length"] > geom.length:
                g.add_edge(a, b, length=float(geom.length))
        return cls(g)

    def route_m(
        self, src_xy: NDArray[np.float64], dst_xy: NDArray[np.float64],
        rows: NDArray[np.int64], cols: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """Route length (m) of each pair ``(src rows[k], dst cols[k])``; ``inf`` if disconnected."""
        d_src, n_src = self._tree.query(src_xy, k=1)
        d_dst, n_dst = self._tree.query(dst_xy, k=1)
        out = np.full(rows.size, np.inf)
        for j in np.unique(cols):
            lengths = nx.single_source_dijkstra_path_length(
                self._search, self.nodes[int(n_dst[j, 0])], weight="length"
            )
            k = np.flatnonzero(cols == j)
            src_nodes = [self.nodes[int(i)] for i in n_src[rows[k], 0]]
            net = np.array([lengths.get(n, np.inf) for n in src_nodes], dtype=float)
            out[k] = net + d_src[rows[k], 0] + d_dst[j, 0]
        return out


def _graphml_graph(path: Path, crs: str) -> nx.Graph:
    """Read a GraphML road network with node ``x``/``y`` in ``crs`` and edge ``length`` in metres.

    Node coordinates are taken to be in the graph's ``crs`` attribute when it has one (osmnx
    writes ``epsg:4326``) and projected to ``crs``; otherwise they must already be in ``crs``.
    An edge without ``length`` gets the straight distance between its end nodes.
    """
    g = nx.read_graphml(path)
    try:
        xy = {n: (float(d["x"]), float(d["y"])) for n, d in g.nodes(data=True)}
    except KeyError as exc:
        raise LayoutError(f"road network {path}: node without coordinate {exc}") from exc
    except ValueError as exc:
        raise LayoutError(f"road network {path}: node coordinate is not a number ({exc})") from exc
    src_crs = g.graph.get("crs")
    if src_crs and xy:
        from pyproj import CRS

        if CRS.from_user_input(src_crs) != CRS.from_user_input(crs):
            names = list(xy)
            arr = np.array([xy[n] for n in names])
            tr = Transformer.from_crs(src_crs, crs, always_xy=True)
            px, py = tr.transform(arr[:, 0], arr[:, 1])
            xy = {n: (float(a), float(b)) for n, a, b in zip(names, px, py, strict=True)}
    for n, (x, y) in xy.items():
        g.nodes[n]["x"], g.nodes[n]["y"] = x, y
    for u, v, data in g.edges(data=True):
        raw = data.get("length")
        if raw is None or str(raw).strip() == "":
            (x0, y0), (x1, y1) = xy[u], xy[v]
            data["length"] = float(np.hypot(x1 - x0, y1 - y0))
            continue
        try:
            data["length"] = float(raw)
        except ValueError as exc:
            raise LayoutError(
                f"road network {path}, edge {u}-{v}, column length = {raw!r}: not a number"
            ) from exc
        if not data["length"] >= 0:
            raise LayoutError(
                f"road network {path}, edge {u}-{v}, column length = {raw!r}: must be >= 0"
            )
    return g
