"""Readers for the two region formats: GeoJSON + CSV files, or one ``region.gpkg``.

Every reader returns a :class:`RawLayer` whose attribute columns are *text* (empty string for a
missing value), so that both formats go through the same typed parsing and validation in
:mod:`layout.region.checks`, ids keep their leading zeros and a bad cell can be quoted verbatim.

CSV files may be UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK or GB18030 (GB18030 is a superset of
GBK); lines starting with ``#`` and blank lines are skipped, but row labels keep the *physical*
line number (header and comments counted) so a user can find a row in an editor.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml

from layout.errors import Problem
from layout.region.schema import LAYERS, LayerSpec

GPKG_NAME = "region.gpkg"
YAML_NAME = "region.yaml"
WGS84 = "EPSG:4326"


@dataclass
class RawLayer:
    """One layer as read from disk, before typing and validation.

    Parameters
    ----------
    name : str
        Layer name, e.g. ``schools``.
    file : str
        Name used in problems, e.g. ``schools.csv`` or ``region.gpkg:schools``.
    frame : pandas.DataFrame
        Attribute columns as text; ``""`` marks a missing value.
    lines : numpy.ndarray
        Row label per row when the row has no id: ``line N`` (CSV) or ``feature N``.
    geometry : geopandas.GeoSeries, optional
        Geometry in EPSG:4326 for polygon layers (``None`` for CSV tables and points).
    encoding : str
        Detected text encoding (``""`` for binary formats).

    """

    name: str
    file: str
    frame: pd.DataFrame
    lines: np.ndarray
    geometry: gpd.GeoSeries | None = None
    encoding: str = ""


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes, detecting the encoding.

    Parameters
    ----------
    data : bytes
        File content.

    Returns
    -------
    text, encoding : str, str
        Decoded text and the encoding name used.

    Raises
    ------
    UnicodeDecodeError
        If the bytes are neither UTF-8/16 nor GB18030.

    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def as_text(series: pd.Series) -> pd.Series:
    """Convert a column of any dtype to text, ``""`` for missing values.

    Booleans become ``true``/``false``; whole floats lose their ``.0`` (a code read as float keeps
    its digits).
    """
    if pd.api.types.is_bool_dtype(series):
        out = series.map({True: "true", False: "false"})
    elif pd.api.types.is_integer_dtype(series):
        out = series.astype("Int64").astype("string")
    elif pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 1e15)
        text = np.full(values.shape, None, dtype=object)
        text[whole] = np.char.mod("%d", values[whole].astype(np.int64))
        rest = ~whole & ~np.isnan(values)
        text[rest] = [repr(float(v)) for v in values[rest]]
        out = pd.Series(text, index=series.index, dtype="string")
    else:
        out = series.astype("string")
    return out.fillna("").astype(str).str.strip()


def read_csv_layer(path: Path, name: str) -> tuple[RawLayer | None, list[Problem]]:
    """Read one CSV layer as text.

    Parameters
    ----------
    path : pathlib.Path
        CSV file.
    name : str
        Layer name.

    Returns
    -------
    layer, problems : RawLayer or None, list of Problem
        ``None`` when the file cannot be read at all.

    """
    file = path.name
    try:
        text, encoding = decode_text(path.read_bytes())
    except UnicodeDecodeError as exc:
        return None, [
            Problem(file, "", "", "", f"cannot decode text ({exc.reason}); save as UTF-8")
        ]
    raw_lines = text.split("\n")
    keep = [
        i for i, line in enumerate(raw_lines) if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keep:
        return None, [Problem(file, "", "", "", "file is empty (no header line)")]
    body = "\n".join(raw_lines[i].rstrip("\r") for i in keep)
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        message = str(exc)
        found = re.search(r"line (\d+)", message)
        row = ""
        if found and int(found.group(1)) - 1 < len(keep):
            row = f"line {keep[int(found.group(1)) - 1] + 1}"
        return None, [Problem(file, row, "", "", f"cannot parse CSV: {message.strip()}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("")
    for col in frame.columns:
        frame[col] = frame[col].astype(str).str.strip()
    numbers = np.asarray(keep[1:]) + 1
    if len(numbers) == len(frame):
        lines = np.char.add("line ", numbers.astype(str))
    else:  # quoted multi-line cells: physical lines no longer map one-to-one
        lines = np.char.add("row ", np.arange(1, len(frame) + 1).astype(str))
    ends_mid_line = not text.endswith(("\n", "\r"))
    problems = short_records(body, file, lines, ends_mid_line)
    return RawLayer(name, file, frame.reset_index(drop=True), lines, None, encoding), problems


def short_records(body: str, file: str, lines: np.ndarray, ends_mid_line: bool) -> list[Problem]:
    """Records with fewer fields than the header (pandas pads them silently with empty cells).

    Parameters
    ----------
    body : str
        CSV text without comments and blank lines, header first.
    file : str
        File name used in problems.
    lines : numpy.ndarray
        Row label of each record after the header.
    ends_mid_line : bool
        Whether the file ends without a line break: a short *last* record is then reported as a
        truncated file.

    Returns
    -------
    list of Problem
        One per short record, naming its line and how many fields it has.

    """
    counts = np.fromiter(map(len, csv.reader(io.StringIO(body))), dtype=np.int64)
    if counts.size < 2 or counts.size - 1 != len(lines):
        return []
    width, fields = int(counts[0]), counts[1:]
    short = np.flatnonzero(fields < width)
    problems = [
        Problem(file, str(lines[i]), "", "", f"row has {fields[i]} of {width} fields "
                "(a value or separator is missing)")
        for i in short
    ]
    if ends_mid_line and short.size and short[-1] == len(lines) - 1:
        problems[-1] = Problem(
            file, str(lines[-1]), "", "",
            f"file ends in the middle of a record: the last line has {fields[-1]} of {width} "
            "fields and no line end (truncated file?)",
        )
    return problems


def _frame_from_dataframe(df: pd.DataFrame, name: str, file: str) -> RawLayer:
    """Build a :class:`RawLayer` from a (Geo)DataFrame read by pyogrio."""
    spec: LayerSpec = LAYERS[name]
    geometry = None
    attrs = df
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        geometry = df.geometry
        if geometry.crs is not None and not geometry.crs.equals(WGS84):
            geometry = geometry.to_crs(WGS84)
        attrs = pd.DataFrame(df.drop(columns=df.geometry.name))
    frame = pd.DataFrame({col: as_text(attrs[col]) for col in attrs.columns}).reset_index(drop=True)
    if geometry is not None and spec.geometry == "point":
        geoms = geometry.to_numpy()
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        xy = np.full((len(geoms), 2), np.nan)
        points = shapely.get_type_id(geoms) == 0
        take = ok & points
        xy[take] = shapely.get_coordinates(geoms[take])
        frame["lon"] = np.where(take, xy[:, 0].astype(str), "")
        frame["lat"] = np.where(take, xy[:, 1].astype(str), "")
        geometry = None
    elif geometry is not None:
        geometry = geometry.reset_index(drop=True)
    lines = np.char.add("feature ", np.arange(1, len(frame) + 1).astype(str))
    return RawLayer(name, file, frame, lines, geometry)


def read_geo_layer(
    path: Path, name: str, layer: str | None = None
) -> tuple[RawLayer | None, list[Problem]]:
    """Read a GeoJSON file or a GeoPackage layer.

    Parameters
    ----------
    path : pathlib.Path
        GeoJSON or GeoPackage file.
    name : str
        Layer name in the region.
    layer : str, optional
        GeoPackage layer name (``None`` for GeoJSON).

    Returns
    -------
    layer, problems : RawLayer or None, list of Problem

    """
    file = path.name if layer is None else f"{path.name}:{layer}"
    try:
        df = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        return None, [Problem(file, "", "", "", f"cannot read: {exc}")]
    return _frame_from_dataframe(df, name, file), []


def read_yaml(path: Path) -> tuple[dict | None, list[Problem]]:
    """Read ``region.yaml``; returns ``(None, problems)`` if missing or unreadable."""
    if not path.is_file():
        return None, [Problem(path.name, "", "", "", "file is missing")]
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Problem(path.name, "", "", "", f"cannot parse YAML: {exc}")]
    if not isinstance(meta, dict):
        return None, [Problem(path.name, "", "", "", "must be a mapping of keys to values")]
    return meta, []


def read_region_files(folder: Path) -> tuple[dict[str, RawLayer], dict | None, list[Problem]]:
    """Read every layer of a region folder (GeoPackage layers win over files).

    Parameters
    ----------
    folder : pathlib.Path
        Region folder.

    Returns
    -------
    layers, meta, problems : dict, dict or None, list of Problem
        Layers that could be read, the ``region.yaml`` mapping and reading problems (missing
        files, undecodable text, unreadable files).

    """
    problems: list[Problem] = []
    meta, yaml_problems = read_yaml(folder / YAML_NAME)
    problems += yaml_problems
    gpkg = folder / GPKG_NAME
    gpkg_layers: set[str] = set()
    if gpkg.is_file():
        try:
            gpkg_layers = {str(row[0]) for row in pyogrio.list_layers(gpkg)}
        except Exception as exc:  # unreadable GeoPackage
            problems.append(Problem(GPKG_NAME, "", "", "", f"cannot read: {exc}"))
    layers: dict[str, RawLayer] = {}
    for name, spec in LAYERS.items():
        path = folder / spec.filename
        if name in gpkg_layers:
            layer, found = read_geo_layer(gpkg, name, layer=name)
        elif path.is_file():
            if spec.geometry == "polygon":
                layer, found = read_geo_layer(path, name)
            else:
                layer, found = read_csv_layer(path, name)
        else:
            where = f" nor layer '{name}' in {GPKG_NAME}" if gpkg.is_file() else ""
            layer, found = None, [Problem(spec.filename, "", "", "", f"file is missing{where}")]
        problems += found
        if layer is not None:
            layers[name] = layer
    return layers, meta, problems
