"""Synthetic candidate sites for new schools, mostly in county seats and central towns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layout.synth.calibration import COUNTIES, PROJECTED_CRS

_TO_WGS = Transformer.from_crs(PROJECTED_CRS, "EPSG:4326", always_xy=True)
SEAT_SITES = {"510802": 12, "510824": 6, "510823": 6, "510821": 5, "510822": 3,
              "510811": 3, "510812": 3}
SEAT_LEVELS = ("kindergarten", "kindergarten;primary", "primary", "primary;junior", "junior",
               "senior", "junior;senior", "primary")
TOWN_LEVELS = ("kindergarten", "kindergarten;primary", "primary;junior", "junior", "primary")
CAPACITY = {"kindergarten": (270, 540), "primary": (900, 2160), "junior": (900, 2400),
            "senior": (1800, 3600)}
PLACE = ("东", "西", "南", "北", "新区", "滨江", "城东", "城南", "城北", "中心")


def build_sites(townships: gpd.GeoDataFrame, centres: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    """Candidate sites with allowed levels and maximum capacity.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Township layer (sorted by code, aligned with ``centres``).
    centres : pandas.DataFrame
        Township seats in EPSG:4544.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``site_id, name, township_code, lon, lat, levels, max_capacity``.

    """
    proj = townships.to_crs(PROJECTED_CRS).geometry.to_numpy()
    rows = []
    for spec in COUNTIES:
        in_c = (townships["county_code"] == spec.code).to_numpy()
        seat = np.flatnonzero(in_c & townships["urban"].to_numpy())
        central = np.flatnonzero(in_c & townships["is_central_town"].to_numpy())
        others = np.flatnonzero(in_c & ~townships["urban"].to_numpy()
                                & ~townships["is_central_town"].to_numpy())
        plan: list[tuple[int, tuple[str, ...], float, bool]] = [
            (int(seat[k % len(seat)]), SEAT_LEVELS, 2500.0 if spec.terrain == "urban" else 1300.0,
             True) for k in range(SEAT_SITES[spec.code])]
        plan += [(int(i), TOWN_LEVELS, 700.0, False) for i in central]
        plan += [(int(i), TOWN_LEVELS[:2], 400.0, False)
                 for i in rng.choice(others, min(2, len(others)), replace=False)]
        for i, levels_pool, sigma, is_seat in plan:
            levels = levels_pool[int(rng.integers(0, len(levels_pool)))]
            cx, cy = centres["x"].iloc[i], centres["y"].iloc[i]
            poly_w = townships.geometry.iloc[i]
            for _ in range(60):
                x, y = rng.normal([cx, cy], sigma)
                lon, lat = _TO_WGS.transform(x, y)
                if proj[i].contains(shapely.Point(x, y)) and poly_w.contains(
                        shapely.Point(round(lon, 6), round(lat, 6))):
                    break
                sigma *= 0.8
            else:
                lon, lat = _TO_WGS.transform(cx, cy)
            cap = 0
            for lev in levels.split(";"):
                lo, hi = CAPACITY[lev]
                if not is_seat:
                    hi = max(lo, hi // 2)
                cap += int(rng.integers(lo // 90, hi // 90 + 1)) * 90
            place = PLACE[int(rng.integers(0, len(PLACE)))]
            rows.append({"county_code": spec.code, "name": (
                f"{townships['name'].iloc[i]}{place}片区规划教育用地"),
                "township_code": townships["township_code"].iloc[i],
                "lon": round(lon, 6), "lat": round(lat, 6), "levels": levels,
                "max_capacity": cap})
    df = pd.DataFrame(rows).sort_values(["county_code", "township_code", "lon", "lat"],
                                        kind="stable").reset_index(drop=True)
    serial = df.groupby("county_code").cumcount().to_numpy() + 1
    df["site_id"] = [f"S{c}{s:03d}" for c, s in zip(df["county_code"], serial, strict=True)]
    return df[["site_id", "name", "township_code", "lon", "lat", "levels", "max_capacity"]]
