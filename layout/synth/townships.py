"""Synthetic townships (乡镇/街道): a seeded Voronoi partition of each real county polygon."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layout.synth.calibration import COUNTIES, PROJECTED_CRS, CountySpec
from layout.synth.names import unique_stems

_TO_PROJ = Transformer.from_crs("EPSG:4326", PROJECTED_CRS, always_xy=True)
_TO_WGS = Transformer.from_crs(PROJECTED_CRS, "EPSG:4326", always_xy=True)
SUFFIX = {"street": "街道", "town": "镇", "township": "乡"}
CODE_BASE = {"street": 0, "town": 100, "township": 200}


def _project(geom: shapely.Geometry, to_wgs: bool = False) -> shapely.Geometry:
    tr = _TO_WGS if to_wgs else _TO_PROJ
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def sample_in_polygon(
    rng: np.random.Generator, poly: shapely.Geometry, n: int
) -> np.ndarray:
    """Uniform random points inside ``poly`` (rejection sampling), shape (n, 2).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    poly : shapely.Geometry
        (Multi)Polygon, any planar coordinates.
    n : int
        Number of points.

    Returns
    -------
    numpy.ndarray

    """
    x0, y0, x1, y1 = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(16, 3 * (n - len(out)))
        xy = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _seat_points(rng: np.random.Generator, poly: shapely.Geometry, spec: CountySpec) -> np.ndarray:
    ax, ay = _TO_PROJ.transform(spec.seat_lon, spec.seat_lat)
    pts = [(ax, ay)]
    radius = 3200.0 if spec.terrain == "urban" else 1800.0
    angles = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi, spec.n_streets - 1,
                                                      endpoint=False)
    for ang in angles:
        r = radius
        while True:
            p = (ax + r * np.cos(ang), ay + r * np.sin(ang))
            if poly.contains(shapely.Point(p)) or r < 200:
                break
            r *= 0.7
        pts.append(p)
    return np.array(pts)


def _other_points(
    rng: np.random.Generator, poly: shapely.Geometry, seats: np.ndarray, n: int
) -> np.ndarray:
    cand = sample_in_polygon(rng, poly, 60 * n)
    d_seat = np.min(np.hypot(cand[:, None, 0] - seats[None, :, 0],
                             cand[:, None, 1] - seats[None, :, 1]), axis=1)
    d_min = 0.6 * np.sqrt(poly.area / (n + len(seats)))
    cand = cand[d_seat > 0.45 * d_min]
    while True:
        chosen: list[np.ndarray] = []
        for p in cand:
            if not chosen or np.min(np.hypot(*(np.array(chosen) - p).T)) > d_min:
                chosen.append(p)
                if len(chosen) == n:
                    return np.array(chosen)
        d_min *= 0.9


def _cells(points: np.ndarray, poly: shapely.Geometry) -> np.ndarray:
    extent = shapely.box(*poly.bounds).buffer(30_000)
    vor = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=extent, ordered=True)
    return shapely.intersection(np.asarray(vor.geoms), poly)


def _lloyd(points: np.ndarray, fixed: int, poly: shapely.Geometry, rounds: int = 2) -> np.ndarray:
    pts = points.copy()
    for _ in range(rounds):
        cells = _cells(pts, poly)
        cen = shapely.centroid(cells)
        inside = shapely.contains(poly, cen)
        rep = shapely.point_on_surface(cells)
        new = np.where(inside[:, None], shapely.get_coordinates(cen),
                       shapely.get_coordinates(rep))
        pts[fixed:] = new[fixed:]
    return pts


def _resolve_fragments(cells: list[shapely.Geometry], points: np.ndarray) -> list:
    """Give each township one main polygon; hand detached fragments to the best neighbour."""
    main: list[shapely.Geometry] = []
    frags: list[shapely.Geometry] = []
    for cell, pt in zip(cells, points, strict=True):
        parts = list(getattr(cell, "geoms", [cell]))
        holder = [p.contains(shapely.Point(pt)) for p in parts]
        k = int(np.argmax(holder)) if any(holder) else int(np.argmax([p.area for p in parts]))
        main.append(parts[k])
        frags += [p for i, p in enumerate(parts) if i != k and p.area > 0]
    extra: list[list[shapely.Geometry]] = [[] for _ in main]
    for frag in frags:
        shared = [frag.boundary.intersection(m.boundary).length for m in main]
        k = int(np.argmax(shared)) if max(shared) > 0 else int(
            np.argmin([frag.distance(m) for m in main]))
        extra[k].append(frag)
    return [shapely.union_all([m, *e]) if e else m for m, e in zip(main, extra, strict=True)]


def _pick_central(points: np.ndarray, n_seat: int, n_central: int) -> np.ndarray:
    """Farthest-point choice of central towns among non-seat points, avoiding the outer rim."""
    others = np.arange(n_seat, len(points))
    centre = points.mean(axis=0)
    rim = np.hypot(*(points[others] - centre).T)
    pool = others[rim <= np.quantile(rim, 0.8)]
    chosen: list[int] = []
    ref = list(points[:n_seat])
    for _ in range(n_central):
        d = np.min(np.hypot(points[pool, None, 0] - np.array(ref)[None, :, 0],
                            points[pool, None, 1] - np.array(ref)[None, :, 1]), axis=1)
        k = int(pool[np.argmax(d)])
        chosen.append(k)
        ref.append(points[k])
        pool = pool[pool != k]
    return np.array(chosen, dtype=int)


def build_townships(
    counties: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Partition each county into seeded Voronoi townships.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        Real county polygons (EPSG:4326) with ``county_code``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    townships : geopandas.GeoDataFrame
        Contract columns of ``townships.geojson`` (EPSG:4326), sorted by code.
    centres : pandas.DataFrame
        ``township_code``, ``x``, ``y`` (EPSG:4544) of each township's seat (镇政府驻地).

    """
    taken: set[str] = set()
    frames = []
    for spec in COUNTIES:
        poly_w = counties.loc[counties["county_code"] == spec.code].geometry.iloc[0]
        poly = _project(poly_w)
        seats = _seat_points(rng, poly, spec)
        n_other = spec.n_townships - spec.n_streets
        pts = np.vstack([seats, _other_points(rng, poly, seats, n_other)])
        pts = _lloyd(pts, spec.n_streets, poly)
        cells_w = shapely.intersection(
            _project(_cells(pts, poly), to_wgs=True), poly_w
        )
        cells_w = _resolve_fragments(list(cells_w), np.column_stack(
            _TO_WGS.transform(pts[:, 0], pts[:, 1])))
        n = len(pts)
        kind = np.where(rng.random(n) < spec.share_xiang, "township", "town").astype(object)
        kind[: spec.n_streets] = "street"
        central = np.zeros(n, bool)
        central[_pick_central(pts, spec.n_streets, spec.n_central)] = True
        kind[central] = "town"
        frame = pd.DataFrame({"county_code": spec.code, "kind": kind, "x": pts[:, 0],
                              "y": pts[:, 1], "is_central_town": central})
        frame["is_county_seat"] = frame["kind"] == "street"
        frame["geometry"] = cells_w
        # codes: streets 001.., towns 101.., townships 201.., numbered north to south
        frame["lat_key"] = -np.round(pts[:, 1], 0)
        frame = frame.sort_values(["kind", "lat_key", "x"], kind="stable").reset_index(drop=True)
        seq = frame.groupby("kind").cumcount().to_numpy() + 1
        base = frame["kind"].map(CODE_BASE).to_numpy()
        frame["township_code"] = [f"{spec.code}{b + s:03d}" for b, s in zip(base, seq, strict=True)]
        stems = unique_stems(rng, n, taken)
        frame["name"] = [s + SUFFIX[k] for s, k in zip(stems, frame["kind"], strict=True)]
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True).sort_values("township_code").reset_index(drop=True)
    df["urban"] = df["is_county_seat"]
    terrain = df["county_code"].map({c.code: c.terrain for c in COUNTIES})
    base = np.select([df["urban"], df["kind"] == "township"], [0.14, 0.24], 0.205)
    base = base + np.where(terrain == "mountain", 0.012, 0.0)
    df["elderly_share"] = np.round(base + rng.uniform(-0.025, 0.025, len(df)), 3)
    geoms = shapely.set_precision(np.asarray(df["geometry"].to_numpy()), 1e-6, mode="pointwise")
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    gdf = gpd.GeoDataFrame(
        df[["township_code", "name", "county_code", "kind", "is_county_seat",
            "is_central_town", "urban", "elderly_share"]],
        geometry=list(geoms), crs="EPSG:4326",
    )
    centres = df[["township_code", "county_code", "x", "y"]].copy()
    return gdf, centres
