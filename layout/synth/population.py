"""Synthetic villages, resident population, children, women, births and population history."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layout.synth.calibration import (
    BASE_YEAR,
    BIRTH_YEARS,
    CENSUS_2020_POPULATION,
    CHILD_SURVIVAL,
    CITY_BIRTHS,
    COUNTIES,
    HISTORY_YEARS,
    PROJECTED_CRS,
    URBAN_SHARE_2021,
    URBAN_YEARS,
)
from layout.synth.names import unique_stems
from layout.synth.townships import sample_in_polygon
from schoolsystem import vocabulary

_TO_WGS = Transformer.from_crs(PROJECTED_CRS, "EPSG:4326", always_xy=True)
SPEC = {c.code: c for c in COUNTIES}
WOMEN_AGES = np.asarray(vocabulary.WOMEN_AGES)
CHILD_AGES = np.asarray(vocabulary.CHILD_AGES)


def round_to_total(values: np.ndarray, total: int) -> np.ndarray:
    """Round non-negative ``values`` to integers summing exactly to ``total`` (largest remainder).

    Parameters
    ----------
    values : numpy.ndarray
        Non-negative weights or expected counts.
    total : int
        Required integer sum.

    Returns
    -------
    numpy.ndarray of int64

    """
    values = np.asarray(values, float)
    scaled = values * (total / values.sum()) if values.sum() > 0 else np.zeros_like(values)
    base = np.floor(scaled).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(scaled)), -(scaled - base)))
        base[order[:rest]] += 1
    return base


def _points_near(rng: np.random.Generator, poly: shapely.Geometry, cx: float, cy: float,
                 n: int, sigma: float) -> np.ndarray:
    out = np.empty((0, 2))
    tries = 0
    while len(out) < n and tries < 50:
        xy = rng.normal([cx, cy], sigma, size=(4 * n, 2))
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
        tries += 1
    if len(out) < n:
        out = np.vstack([out, sample_in_polygon(rng, poly, n - len(out))])
    return out[:n]


def _inside_after_rounding(poly_w: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> bool:
    return bool(np.all(shapely.contains_xy(poly_w, np.round(lon, 6), np.round(lat, 6))))


def build_villages(
    townships: gpd.GeoDataFrame, centres: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Villages and communities with points and base-year population.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Output of :func:`layout.synth.townships.build_townships`.
    centres : pandas.DataFrame
        Township seats (EPSG:4544 ``x``/``y``).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``village_id, name, township_code, lon, lat, urban, population`` plus helper columns
        ``county_code, x, y``.

    """
    proj = townships.to_crs(PROJECTED_CRS)
    rows = []
    for i, tw in townships.iterrows():
        spec = SPEC[tw["county_code"]]
        poly, poly_w = proj.geometry.iloc[i], tw.geometry
        cx, cy = centres.loc[i, ["x", "y"]]
        mountain = spec.terrain == "mountain"
        if tw["kind"] == "street":
            n_comm, n_vil = int(rng.integers(8, 15 if spec.terrain == "urban" else 10)), 0
            if spec.terrain != "urban":
                n_vil = int(rng.integers(2, 6))
        elif tw["kind"] == "town":
            n_comm = 2 if tw["is_central_town"] else 1
            n_vil = int(rng.poisson(11 if mountain else 16)) + 4
        else:
            n_comm, n_vil = 0, int(rng.poisson(7 if mountain else 10)) + 3
        while True:
            sigma = 1200.0 if tw["kind"] == "street" else 600.0
            comm = _points_near(rng, poly, cx, cy, n_comm, sigma)
            vil = sample_in_polygon(rng, poly, n_vil)
            xy = np.vstack([comm, vil])
            lon, lat = _TO_WGS.transform(xy[:, 0], xy[:, 1])
            if _inside_after_rounding(poly_w, lon, lat):
                break
        urban = np.r_[np.ones(n_comm, bool), np.zeros(n_vil, bool)]
        if tw["kind"] == "street":
            mu = np.log(6500 if spec.terrain == "urban" else 4500)
        else:
            mu = np.log(3200 if tw["is_central_town"] else 2000)
        w_comm = rng.lognormal(mu, 0.55, n_comm)
        w_vil = rng.lognormal(np.log(560 if mountain else 900), 0.6, n_vil)
        num = np.r_[np.arange(1, n_comm + 1), 200 + np.arange(1, n_vil + 1)]
        stems = unique_stems(rng, n_comm + n_vil)
        rows.append(pd.DataFrame({
            "village_id": [f"{tw['township_code']}{k:03d}" for k in num],
            "name": [s + ("社区" if u else "村") for s, u in zip(stems, urban, strict=True)],
            "township_code": tw["township_code"], "county_code": tw["county_code"],
            "lon": lon, "lat": lat, "x": xy[:, 0], "y": xy[:, 1], "urban": urban,
            "weight": np.r_[w_comm, w_vil],
        }))
    vil = pd.concat(rows, ignore_index=True)
    pop = np.zeros(len(vil), np.int64)
    for spec in COUNTIES:
        in_c = (vil["county_code"] == spec.code).to_numpy()
        n_urban = round(spec.population * spec.urban_share)
        for flag, total in ((True, n_urban), (False, spec.population - n_urban)):
            sel = in_c & (vil["urban"].to_numpy() == flag)
            pop[sel] = round_to_total(vil.loc[sel, "weight"].to_numpy(), total)
    vil["population"] = pop
    return vil.drop(columns="weight").sort_values("village_id").reset_index(drop=True)


def build_births(rng: np.random.Generator) -> pd.DataFrame:
    """County births per calendar year 2000-base year (2005+ are written out).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``county_code, year, births``; each year's county births sum to the city figure.

    """
    years = np.array(sorted(CITY_BIRTHS))
    share = np.array([c.population * c.fertility for c in COUNTIES], float)
    share /= share.sum()
    noise = rng.lognormal(0.0, 0.035, (len(years), len(COUNTIES)))
    births = np.vstack([round_to_total(share * noise[i], CITY_BIRTHS[int(y)])
                        for i, y in enumerate(years)])
    return pd.DataFrame({
        "county_code": np.tile([c.code for c in COUNTIES], len(years)),
        "year": np.repeat(years, len(COUNTIES)),
        "births": births.ravel(),
    }).sort_values(["county_code", "year"]).reset_index(drop=True)


def expected_cohort(births: pd.DataFrame, county: str, year: int, age: np.ndarray) -> np.ndarray:
    """Expected residents of ``age`` in ``year``: births x survival x net child migration.

    Parameters
    ----------
    births : pandas.DataFrame
        Output of :func:`build_births`.
    county : str
        County code.
    year : int
        Calendar year.
    age : numpy.ndarray
        Ages in completed years.

    Returns
    -------
    numpy.ndarray of float

    """
    b = births.loc[births["county_code"] == county].set_index("year")["births"]
    born = b.reindex(year - np.asarray(age)).to_numpy(float)
    return born * CHILD_SURVIVAL * np.exp(-SPEC[county].out_migration * np.asarray(age))


def build_children(villages: pd.DataFrame, births: pd.DataFrame,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Resident children by village and single age 0-17 in the base year (multinomial split).

    Parameters
    ----------
    villages : pandas.DataFrame
        Output of :func:`build_villages`.
    births : pandas.DataFrame
        Output of :func:`build_births`.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``village_id, age, persons`` sorted by village and age.

    """
    persons = np.zeros((len(villages), len(CHILD_AGES)), np.int64)
    factor = np.where(villages["urban"], 0.95, 1.05) * rng.lognormal(0, 0.15, len(villages))
    weight = villages["population"].to_numpy() * factor
    for spec in COUNTIES:
        sel = (villages["county_code"] == spec.code).to_numpy()
        p = weight[sel] / weight[sel].sum()
        expected = expected_cohort(births, spec.code, BASE_YEAR, CHILD_AGES)
        for k, n in enumerate(np.round(expected).astype(np.int64)):
            persons[sel, k] = rng.multinomial(n, p)
    return pd.DataFrame({
        "village_id": np.repeat(villages["village_id"].to_numpy(), len(CHILD_AGES)),
        "age": np.tile(CHILD_AGES, len(villages)),
        "persons": persons.ravel(),
    })


def build_women(villages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Resident women aged 15-49 by village and single age (Poisson around an age profile).

    Parameters
    ----------
    villages : pandas.DataFrame
        Output of :func:`build_villages`.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``village_id, age, persons``.

    """
    a = WOMEN_AGES
    urban_profile = np.select([a < 20, a < 30, a < 40], [0.0055, 0.0052, 0.0062], 0.0074)
    rural_profile = np.select([a < 20, a < 30, a < 40], [0.0055, 0.0036, 0.0049], 0.0076)
    urban = villages["urban"].to_numpy()[:, None]
    rate = np.where(urban, urban_profile[None, :], rural_profile[None, :])
    lam = villages["population"].to_numpy()[:, None] * rate
    persons = rng.poisson(lam)
    return pd.DataFrame({
        "village_id": np.repeat(villages["village_id"].to_numpy(), len(a)),
        "age": np.tile(a, len(villages)),
        "persons": persons.ravel(),
    })


def build_urbanisation(villages: pd.DataFrame) -> pd.DataFrame:
    """County residents and urban share per year 2013-base year (city 48.06 % in 2021).

    Parameters
    ----------
    villages : pandas.DataFrame
        Output of :func:`build_villages` (base-year population and urban flags).

    Returns
    -------
    pandas.DataFrame
        ``county_code, year, population, urban_share``.

    """
    codes = [c.code for c in COUNTIES]
    g = villages.groupby("county_code")
    pop0 = g["population"].sum().reindex(codes).to_numpy(float)
    us0 = (villages["population"] * villages["urban"]).groupby(villages["county_code"]).sum()
    us0 = (us0.reindex(codes).to_numpy() / pop0)
    growth = np.array([0.006 if c.terrain == "urban" else
                       (-0.012 if c.terrain == "mountain" else -0.009) for c in COUNTIES])
    years = URBAN_YEARS
    raw = pop0[None, :] * np.exp(growth[None, :] * (years - BASE_YEAR)[:, None])
    anchors_y = np.array([2013, 2020, BASE_YEAR])
    anchors_v = np.log([CENSUS_2020_POPULATION * np.exp(0.0074 * 7), CENSUS_2020_POPULATION,
                        pop0.sum()])
    target = np.exp(np.interp(years, anchors_y, anchors_v))
    pops = np.vstack([round_to_total(raw[i], round(target[i])) for i in range(len(years))])
    pops[years == BASE_YEAR] = pop0.astype(np.int64)
    k = np.array([0.7 if c.terrain == "urban" else 1.1 for c in COUNTIES])
    p21 = pops[years == 2021][0].astype(float)
    slope = ((p21 * us0).sum() - URBAN_SHARE_2021 * p21.sum()) / (2 * (p21 * k).sum())
    shares = us0[None, :] - slope * k[None, :] * (BASE_YEAR - years)[:, None]
    return pd.DataFrame({
        "county_code": np.tile(codes, len(years)),
        "year": np.repeat(years, len(codes)),
        "population": pops.ravel(),
        "urban_share": np.round(shares.ravel(), 4),
    }).sort_values(["county_code", "year"]).reset_index(drop=True)


def build_township_history(townships: gpd.GeoDataFrame, villages: pd.DataFrame,
                           urbanisation: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Township residents per year 2016-base year, summing to the county series.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Township attributes.
    villages : pandas.DataFrame
        Base-year village population.
    urbanisation : pandas.DataFrame
        County population per year (from :func:`build_urbanisation`).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``township_code, year, population``.

    """
    tw = townships[["township_code", "county_code", "kind", "is_central_town", "urban"]]
    pop0 = villages.groupby("township_code")["population"].sum().reindex(tw["township_code"])
    rate = np.select([tw["urban"], tw["is_central_town"], tw["kind"] == "town"],
                     [0.012, -0.004, -0.012], -0.018) + rng.normal(0, 0.004, len(tw))
    out = []
    county_pop = urbanisation.set_index(["county_code", "year"])["population"]
    for year in HISTORY_YEARS:
        raw = pop0.to_numpy(float) * np.exp(rate * (year - BASE_YEAR))
        vals = np.zeros(len(tw), np.int64)
        for code in tw["county_code"].unique():
            sel = (tw["county_code"] == code).to_numpy()
            vals[sel] = round_to_total(raw[sel], int(county_pop[(code, int(year))]))
        out.append(pd.DataFrame({"township_code": tw["township_code"].to_numpy(),
                                 "year": int(year), "population": vals}))
    return pd.concat(out).sort_values(["township_code", "year"]).reset_index(drop=True)


def births_output(births: pd.DataFrame) -> pd.DataFrame:
    """Births restricted to the published years (2005-base year)."""
    return births.loc[births["year"].isin(BIRTH_YEARS)].reset_index(drop=True)
