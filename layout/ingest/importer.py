"""``schoolplan data import``: an input workbook (+ county boundaries) -> a region folder.

Steps: read and type every sheet (:mod:`layout.ingest.workbook`), check cross-sheet references
(:mod:`layout.ingest.checks`), convert coordinates to WGS84 and reject far-away points
(:mod:`layout.ingest.coords`), derive what the bureau does not hold (township polygons, village
points, single ages, township history), write the region folder into a staging folder, validate
it with :func:`layout.region.load_region` and only then swap it into place
(:func:`layout.outputs.atomic.staged_folder`): bad input leaves no half-written folder.
``region.yaml`` lists the given and the derived layers and the method of every derivation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from layout.errors import Problem, RegionDataError
from layout.ingest.checks import check_coverage, check_references, check_region_row
from layout.ingest.coords import convert_points
from layout.ingest.readme import DERIVATIONS
from layout.ingest.workbook import read_workbook

REGION_MARKER = "region.yaml"


@dataclass
class ImportOptions:
    """Options of an import.

    Attributes
    ----------
    crs : str, optional
        Coordinate system of the workbook's points (overrides the 地区 sheet; default wgs84).
    boundaries : path, optional
        County polygons (GeoJSON/GPKG with ``county_code``, WGS84).
    townships : path, optional
        Township polygons (``township_code``, WGS84); Voronoi cells of the seats when absent.
    calibration : str
        Cohort reshaping of the single ages (see :data:`layout.ingest.population.CALIBRATIONS`).
    split : str
        Split of 5-year groups: ``pchip`` (default), ``sprague`` or ``beers``.
    senior : str
        Split of the census group holding ages 15-17: ``enrollment`` (default, the county's
        senior-stage estimate) or ``spline`` (:data:`layout.ingest.population.SENIOR_SPLITS`).

    """

    crs: str | None = None
    boundaries: str | os.PathLike[str] | None = None
    townships: str | os.PathLike[str] | None = None
    calibration: str = "births+enrollment"
    split: str = "pchip"
    senior: str = "enrollment"


@dataclass
class ImportResult:
    """What an import wrote and derived."""

    path: Path
    given: list[str] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _raise(problems: list[Problem], source: str) -> None:
    if problems:
        raise RegionDataError(problems, source=source)


def read_polygons(path: str | os.PathLike[str], key: str, what: str) -> dict[str, Any]:
    """``key`` value -> WGS84 geometry from a GeoJSON/GeoPackage file; errors name the file."""
    p = Path(path)
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise RegionDataError([Problem(str(p), "", "", "", f"cannot read {what}: {exc}")]) \
            from None
    if key not in gdf.columns:
        raise RegionDataError([Problem(str(p), "", key, "", f"{what} need a column {key}")])
    if gdf.crs is not None:
        gdf = gdf.to_crs("EPSG:4326")
    codes = gdf[key].astype(str).str.strip()
    return dict(zip(codes, gdf.geometry.to_numpy(), strict=True))


def _float_cols(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def convert_all(tables: dict[str, pd.DataFrame], crs: str, area: Any, projected: str,
                book: str) -> list[Problem]:
    """Convert every point column of the workbook to WGS84 in place; far points are problems."""
    from layout.ingest.template import SHEETS

    problems: list[Problem] = []
    specs = (("schools", ("lon", "lat")), ("villages", ("lon", "lat")),
             ("candidate_sites", ("lon", "lat")), ("townships", ("seat_lon", "seat_lat")))
    for sheet, cols in specs:
        if sheet not in tables:
            continue
        s = SHEETS[sheet]
        frame = _float_cols(tables[sheet], cols)
        heads = (s.field(cols[0]).header, s.field(cols[1]).header)
        tables[sheet] = convert_points(frame, crs, area, projected, f"{book} sheet {s.title}",
                                       heads, problems, cols=cols)
    return problems


def load_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Read the workbook and run every sheet and cross-sheet check; raise listing all problems."""
    tables, problems = read_workbook(path)
    _raise(problems, str(path))
    problems = check_region_row(tables, path.name) + check_references(tables, path.name)
    problems += check_coverage(tables, path.name)
    _raise(problems, str(path))
    return tables


def import_workbook(workbook: str | os.PathLike[str], out: str | os.PathLike[str],
                    options: ImportOptions | None = None) -> ImportResult:
    """Import an input workbook into a region folder (written atomically, validated).

    Parameters
    ----------
    workbook : str or os.PathLike
        The filled ``.xlsx``.
    out : str or os.PathLike
        Region folder to write (replaced as a whole; an existing one must hold ``region.yaml``).
    options : ImportOptions, optional
        Coordinate system, boundaries, township polygons, calibration.

    Returns
    -------
    ImportResult

    Raises
    ------
    layout.errors.RegionDataError
        Listing every problem (sheet, Excel row, column header, value); nothing is written.

    """
    from layout.ingest.assemble import assemble, write_region
    from layout.outputs.atomic import staged_folder
    from layout.region import load_region

    options = options or ImportOptions()
    path = Path(workbook)
    tables = load_tables(path)
    region_row = tables["region"].iloc[0]
    crs = options.crs or region_row.get("crs") or "wgs84"
    if options.boundaries is None:
        _raise([Problem(path.name, "", "", "", "county boundaries are needed: give "
                        "--boundaries FILE (GeoJSON/GeoPackage with county_code, WGS84)")],
               str(path))
    assert options.boundaries is not None
    counties = read_polygons(options.boundaries, "county_code", "county boundaries")
    missing = [Problem(f"{path.name} sheet 区县", str(r), "区县代码 (county_code)", c,
                       f"no polygon with this county_code in {options.boundaries}")
               for r, c in zip(tables["counties"]["_row"], tables["counties"]["county_code"],
                               strict=True) if c not in counties]
    _raise(missing, str(path))
    codes = list(tables["counties"]["county_code"])
    area = shapely.union_all([counties[c] for c in codes])
    _raise(convert_all(tables, str(crs), area, str(region_row["projected_crs"]), path.name),
           str(path))
    given_polys = (read_polygons(options.townships, "township_code", "township polygons")
                   if options.townships is not None else None)
    layers, result = assemble(tables, {c: counties[c] for c in codes}, given_polys, options,
                              path)
    with staged_folder(out, marker=REGION_MARKER) as stage:
        write_region(layers, result, tables, stage)
        load_region(stage)  # validate before the folder replaces ``out``
    result.path = Path(out)
    result.notes.insert(0, f"coordinates read as {crs}, converted to WGS84")
    return result


__all__ = ["DERIVATIONS", "ImportOptions", "ImportResult", "import_workbook"]
