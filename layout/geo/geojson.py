"""Deterministic, atomic GeoJSON writing (byte-identical output for identical input)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    import geopandas as gpd


def _round_coords(obj: Any, ndigits: int) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), ndigits) for v in obj]
        return [_round_coords(o, ndigits) for o in obj]
    return obj


def _plain(value: Any) -> Any:
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value if value is None or isinstance(value, (str, int)) else str(value)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF line ends) to ``path`` via a temp file and ``os.replace``.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination file; its folder must exist.
    text : str
        Full file content.

    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def geojson_text(
    gdf: gpd.GeoDataFrame, top: dict[str, Any] | None = None, ndigits: int = 6
) -> str:
    """Serialise a WGS84 GeoDataFrame as a FeatureCollection, one feature per line.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in EPSG:4326; non-geometry columns become properties (in column order).
    top : dict, optional
        Extra top-level members (e.g. ``{"synthetic": True, "note": "..."}``) written before
        ``features``.
    ndigits : int, default 6
        Decimal places of coordinates (6 is about 0.1 m).

    Returns
    -------
    str
        The GeoJSON text, ending with a newline.

    """
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    head: dict[str, Any] = {"type": "FeatureCollection"}
    head.update(top or {})
    lines = []
    for i, geom in enumerate(gdf.geometry.values):
        props = {c: _plain(gdf[c].iloc[i]) for c in cols}
        gj = json.loads(shapely.to_geojson(geom))
        gj["coordinates"] = _round_coords(gj["coordinates"], ndigits)
        feat = {"type": "Feature", "properties": props, "geometry": gj}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    head_txt = json.dumps(head, ensure_ascii=False, separators=(",", ": "))[:-1]
    return head_txt + ',\n"features": [\n' + ",\n".join(lines) + "\n]}\n"


def write_geojson(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    top: dict[str, Any] | None = None,
    ndigits: int = 6,
) -> None:
    """Write :func:`geojson_text` output atomically to ``path``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in EPSG:4326.
    path : str or pathlib.Path
        Destination ``.geojson`` file.
    top : dict, optional
        Extra top-level members.
    ndigits : int, default 6
        Decimal places of coordinates.

    """
    atomic_write_text(path, geojson_text(gdf, top=top, ndigits=ndigits))
