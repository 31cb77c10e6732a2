"""Assemble the region layers from the checked sheets and write the region folder.

Given layers are copied; missing detail is derived (:mod:`layout.ingest.population`,
:mod:`layout.ingest.polygons`, :mod:`layout.ingest.layers`) and recorded in ``region.yaml``
(``given_layers``, ``derived_layers``, ``derivations``) and in ``IMPORT_REPORT.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from layout.errors import Problem, RegionDataError
from layout.geo.geojson import atomic_write_text, write_geojson
from layout.ingest.layers import (
    enrollment_layer,
    history_layer,
    schools_layer,
    villages_layer,
    wide_ages,
)
from layout.ingest.polygons import seat_points, township_polygons
from layout.ingest.population import (
    PopulationInputs,
    elderly_shares,
    township_single_ages,
    villages_from_townships,
)
from layout.ingest.readme import DERIVATIONS
from layout.region.schema import LAYERS
from layout.synth.writer import csv_text, write_yaml
from schoolsystem.vocabulary import CHILD_AGES, WOMEN_AGES

if TYPE_CHECKING:
    from layout.ingest.importer import ImportOptions, ImportResult

WGS84 = "EPSG:4326"


def _townships(tables: dict[str, pd.DataFrame], polys: list[Any], result: ImportResult
               ) -> gpd.GeoDataFrame:
    t = tables["townships"]
    elderly = t["elderly_share"]
    if elderly.isna().any():
        derived = elderly_shares(tables.get("township_ages", pd.DataFrame(
            columns=["township_code", "age_group", "persons"])))
        elderly = elderly.fillna(t["township_code"].map(derived)).fillna(0.15)
        result.derived["elderly_share"] = DERIVATIONS["elderly_share"]
    frame = pd.DataFrame({
        "township_code": t["township_code"], "name": t["name"], "county_code": t["county_code"],
        "kind": t["kind"], "is_county_seat": t["is_county_seat"].astype(bool),
        "is_central_town": t["is_central_town"].astype(bool), "urban": t["urban"].astype(bool),
        "elderly_share": elderly.astype(float).round(3),
    }).reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=polys, crs=WGS84)


def _polygons(tables: dict[str, pd.DataFrame], counties: dict[str, Any],
              given: dict[str, Any] | None, seats: pd.DataFrame, result: ImportResult
              ) -> list[Any]:
    t = tables["townships"].reset_index(drop=True)
    if given is not None:
        missing = [c for c in t["township_code"] if c not in given]
        if not missing:
            result.given.append("townships")
            return [given[c] for c in t["township_code"]]
    result.derived["townships"] = DERIVATIONS["townships"]
    polys = township_polygons(seats, t, counties)
    bad = [Problem("sheet 乡镇", str(r), "驻地经度/驻地纬度 (seat_lon/seat_lat)", str(c),
                   "no township polygon and no seat: give 驻地坐标 or village coordinates")
           for r, c, p in zip(t["_row"], t["township_code"], polys, strict=True) if p is None]
    if bad:
        raise RegionDataError(bad)
    return polys


def _population(tables: dict[str, pd.DataFrame], villages: pd.DataFrame, base_year: int,
                options: ImportOptions, result: ImportResult
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    if "village_children" in tables and "village_women" in tables:
        result.given += ["children", "women"]
        return (wide_ages(tables["village_children"], CHILD_AGES),
                wide_ages(tables["village_women"], WOMEN_AGES))
    enr = enrollment_layer(tables["enrollment"])
    school_county = tables["schools"].set_index("school_id")["township_code"].str[:6]
    enr["county_code"] = enr["school_id"].map(school_county)
    inp = PopulationInputs(tables["township_ages"], tables["townships"], villages,
                           tables["births"], enr, base_year, tables.get("age_structure"))
    problems: list[Problem] = []
    kids, women = township_single_ages(inp, problems, options.calibration, options.split,
                                       options.senior)
    if problems:
        raise RegionDataError(problems)
    result.derived["children"] = DERIVATIONS["children"]
    result.derived["women"] = DERIVATIONS["women"]
    return (villages_from_townships(kids, villages, CHILD_AGES),
            villages_from_townships(women, villages, WOMEN_AGES))


def _counties(tables: dict[str, pd.DataFrame], counties: dict[str, Any]) -> gpd.GeoDataFrame:
    c = tables["counties"]
    frame = pd.DataFrame({"county_code": c["county_code"], "name": c["name"],
                          "name_en": c["name_en"].fillna(""), "terrain": c["terrain"]})
    geoms = [counties[k] for k in c["county_code"]]
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geoms, crs=WGS84)


def _sites(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    cols = ["site_id", "name", "township_code", "lon", "lat", "levels", "max_capacity"]
    s = tables.get("candidate_sites")
    if s is None:
        return pd.DataFrame(columns=cols)
    out = s[cols].copy()
    out["max_capacity"] = out["max_capacity"].astype("int64")
    return out.reset_index(drop=True)


def _tables(tables: dict[str, pd.DataFrame], villages: pd.DataFrame, base_year: int,
            result: ImportResult) -> dict[str, pd.DataFrame]:
    out = {
        "births": tables["births"][["county_code", "year", "births"]],
        "urbanisation": tables["urbanisation"][["county_code", "year", "population",
                                                "urban_share"]],
    }
    hist = tables.get("township_history")
    if hist is not None:
        out["township_history"] = hist[["township_code", "year", "population"]]
        result.given.append("township_history")
    else:
        out["township_history"] = history_layer(tables["townships"], villages,
                                                tables["urbanisation"], base_year)
        result.derived["township_history"] = DERIVATIONS["township_history"]
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def assemble(tables: dict[str, pd.DataFrame], counties: dict[str, Any],
             given_polys: dict[str, Any] | None, options: ImportOptions, book: Path
             ) -> tuple[dict[str, Any], ImportResult]:
    """Every region layer (GeoDataFrames for polygons, DataFrames otherwise) and the record."""
    from layout.ingest.importer import ImportResult

    result = ImportResult(path=book, given=["counties", "schools", "enrollment", "births",
                                            "urbanisation"])
    base_year = int(tables["region"]["base_year"].iloc[0])
    seats = seat_points(tables["townships"], tables["villages"])
    polys = _polygons(tables, counties, given_polys, seats, result)
    villages, placed = villages_layer(tables["villages"], seats)
    if placed:
        result.derived["villages"] = DERIVATIONS["villages"]
        result.notes.append(f"{placed} villages without coordinates placed at their seat")
    else:
        result.given.append("villages")
    children, women = _population(tables, villages, base_year, options, result)
    county_gdf = _counties(tables, counties)
    region = tables["region"].iloc[0]
    city = gpd.GeoDataFrame({"code": [region["code"]], "name": [region["name"]]},
                            geometry=[shapely.union_all(county_gdf.geometry.to_numpy())],
                            crs=WGS84)
    result.derived["city"] = DERIVATIONS["city"]
    if "candidate_sites" in tables:
        result.given.append("candidate_sites")
    layers: dict[str, Any] = {
        "counties": county_gdf, "city": city,
        "townships": _townships(tables, polys, result), "villages": villages,
        "children": children, "women": women, "schools": schools_layer(tables["schools"]),
        "enrollment": enrollment_layer(tables["enrollment"]), "candidate_sites": _sites(tables),
        **_tables(tables, villages, base_year, result),
    }
    return layers, result


def _header(layer: str, synthetic: bool, derived: bool) -> str:
    what = "SYNTHETIC" if synthetic else "IMPORTED"
    how = "DERIVED by layout.ingest (see region.yaml derivations)" if derived else "given"
    return f"# {what} {layer}: {how}; written by schoolplan data import"


def write_region(layers: dict[str, Any], result: ImportResult, tables: dict[str, pd.DataFrame],
                 folder: Path) -> None:
    """Write the layers, ``region.yaml`` and ``IMPORT_REPORT.md`` into ``folder``."""
    region = tables["region"].iloc[0]
    synthetic = bool(region.get("synthetic")) if pd.notna(region.get("synthetic")) else False
    for name, spec in LAYERS.items():
        frame = layers[name]
        derived = name in result.derived
        if spec.geometry == "polygon":
            top = {"synthetic": synthetic, "derived": derived,
                   "note": _header(name, synthetic, derived).lstrip("# ")}
            write_geojson(frame, folder / spec.filename, top=top)
        else:
            cols = [c.name for c in spec.columns]
            atomic_write_text(folder / spec.filename,
                              csv_text(frame[cols], _header(name, synthetic, derived)))
    given = [n for n in LAYERS if n not in result.derived]
    meta = {
        "name": str(region["name"]), "code": str(region["code"]),
        "base_year": int(region["base_year"]), "projected_crs": str(region["projected_crs"]),
        "synthetic_layers": [n for n in LAYERS if n not in ("counties", "city")] if synthetic
        else [],
        "given_layers": given, "derived_layers": sorted(k for k in result.derived if k in LAYERS),
        "derivations": dict(sorted(result.derived.items())),
        "provenance": str(region.get("provenance") or "imported from an input workbook")
        + " — imported by `schoolplan data import`; derived layers listed in derived_layers",
    }
    write_yaml(meta, folder / "region.yaml")
    report = ["# Import report", "", f"Given layers: {', '.join(given)}", "",
              "Derived layers and methods:", ""]
    report += [f"- **{k}**: {v}" for k, v in sorted(result.derived.items())]
    report += ["", *[f"- {n}" for n in result.notes]]
    atomic_write_text(folder / "IMPORT_REPORT.md", "\n".join(report) + "\n")
