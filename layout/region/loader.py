"""Load a region folder into a validated :class:`~layout.region.model.Region`."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layout.errors import Problem, RegionDataError
from layout.region.checks import raise_if_problems, township_county, validate
from layout.region.model import Region
from layout.region.parse import ParsedLayer, ProblemList, parse_layer
from layout.region.readers import WGS84, read_region_files
from layout.region.schema import LAYERS, LayerSpec
from layout.resources import region_dir

ENV_VAR = "SCHOOLPLAN_REGION"
"""Environment variable that overrides the embedded region folder."""


def embedded_region_path() -> Path:
    """Folder of the default region: ``$SCHOOLPLAN_REGION``, else the embedded region.

    The embedded region is the installed data package ``schoolplan_data.guangyuan``
    (:func:`layout.resources.region_dir`); in the repository and in an editable install that is
    the folder ``data/geo/guangyuan``.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return region_dir()


def _typed(layer: ParsedLayer, spec: LayerSpec) -> pd.DataFrame:
    """Cast a parsed layer (known to be valid) to its final dtypes."""
    frame = layer.frame.copy()
    for col in spec.columns:
        if col.name not in frame.columns:  # an optional column the file leaves out
            continue
        if col.kind == "int":
            frame[col.name] = frame[col.name].round().astype("int64")
        elif col.kind == "float":
            frame[col.name] = frame[col.name].astype("float64")
        elif col.kind == "bool":
            frame[col.name] = frame[col.name].astype(bool)
        else:
            frame[col.name] = frame[col.name].astype(str)
    return frame.reset_index(drop=True)


def load_region(path: str | os.PathLike[str] | None = None) -> Region:
    """Read and validate a region folder.

    Parameters
    ----------
    path : str or path-like, optional
        Region folder (GeoJSON + CSV files and/or ``region.gpkg``). ``None`` loads the embedded
        region (see :func:`embedded_region_path`).

    Returns
    -------
    Region
        Typed, validated region in EPSG:4326.

    Raises
    ------
    layout.errors.RegionDataError
        Listing every problem found (missing files, columns, bad values, references, geometry...).

    Examples
    --------
    >>> region = load_region()  # doctest: +SKIP
    >>> region.base_year  # doctest: +SKIP
    2023

    """
    folder = Path(path) if path is not None else embedded_region_path()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise_if_problems([Problem(str(folder), "", "", "", f"region folder {what}")], str(folder))
    raw, meta, read_problems = read_region_files(folder)
    out = ProblemList(read_problems)
    layers = {name: parse_layer(layer, LAYERS[name], out) for name, layer in raw.items()}
    validate(layers, meta, out)
    raise_if_problems(out, str(folder))
    assert meta is not None  # no problems => region.yaml was read
    frames = {name: _typed(layers[name], LAYERS[name]) for name in LAYERS}
    geo: dict[str, gpd.GeoDataFrame] = {}
    for name, spec in LAYERS.items():
        if spec.geometry == "polygon":
            polygons = layers[name].geometry
            if polygons is None:  # rows without geometry failed validation: a layer with no rows
                problem = Problem(layers[name].file, "", "geometry", "",
                                  "polygon layer has no geometry")
                raise RegionDataError([problem], source=str(folder))
            geometry = polygons.reset_index(drop=True)
            geo[name] = gpd.GeoDataFrame(frames[name], geometry=geometry.to_numpy(), crs=WGS84)
        elif spec.geometry == "point":
            frame = frames[name]
            frame["county_code"] = township_county(layers, layers[name]).astype(str).to_numpy()
            points = gpd.points_from_xy(frame["lon"], frame["lat"], crs=WGS84)
            geo[name] = gpd.GeoDataFrame(frame, geometry=points, crs=WGS84)
    return Region(
        path=folder,
        meta=dict(meta),
        base_year=int(meta["base_year"]),
        projected_crs=str(meta["projected_crs"]),
        counties=geo["counties"],
        city=geo["city"],
        townships=geo["townships"],
        villages=geo["villages"],
        schools=geo["schools"],
        candidate_sites=geo["candidate_sites"],
        children=frames["children"],
        women=frames["women"],
        enrollment=frames["enrollment"],
        births=frames["births"],
        urbanisation=frames["urbanisation"],
        township_history=frames["township_history"],
        encodings={name: layer.encoding for name, layer in raw.items() if layer.encoding},
    )
