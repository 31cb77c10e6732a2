"""The :class:`Region` object: one validated region folder as typed (Geo)DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layout.region.prefectures import county_prefectures
from schoolsystem.vocabulary import LEVELS


@dataclass(frozen=True)
class Region:
    """A validated region (see ``data/geo/README.md`` for every column).

    Attributes
    ----------
    path : pathlib.Path
        Region folder.
    meta : dict
        ``region.yaml`` content.
    base_year : int
        Year of the population stock and last enrollment year.
    projected_crs : str
        CRS for distances and areas, e.g. ``EPSG:4544``.
    counties, city, townships : geopandas.GeoDataFrame
        Polygons in EPSG:4326.
    villages, schools, candidate_sites : geopandas.GeoDataFrame
        Points in EPSG:4326, ``lon``/``lat`` kept; villages, schools and sites carry ``county_code``.
    children, women, enrollment, births, urbanisation, township_history : pandas.DataFrame
        Tables; ids are ``str``.

    """

    path: Path
    meta: dict[str, Any]
    base_year: int
    projected_crs: str
    counties: gpd.GeoDataFrame
    city: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    candidate_sites: gpd.GeoDataFrame
    children: pd.DataFrame
    women: pd.DataFrame
    enrollment: pd.DataFrame
    births: pd.DataFrame
    urbanisation: pd.DataFrame
    township_history: pd.DataFrame
    encodings: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        """Region name from ``region.yaml``."""
        return str(self.meta.get("name", ""))

    @property
    def code(self) -> str:
        """Administrative code from ``region.yaml``."""
        return str(self.meta.get("code", ""))

    @property
    def synthetic_layers(self) -> list[str]:
        """Layers declared synthetic in ``region.yaml``."""
        return [str(x) for x in self.meta.get("synthetic_layers") or []]

    @property
    def is_synthetic(self) -> bool:
        """Whether any layer is synthetic."""
        return bool(self.synthetic_layers)

    @cached_property
    def prefectures(self) -> pd.DataFrame:
        """County -> prefecture: ``county_code, prefecture_code, prefecture_name``, one row per county.

        From the optional ``prefecture_code`` / ``prefecture_name`` properties of
        ``counties.geojson``, else derived from the county code
        (:func:`layout.region.prefectures.county_prefectures`).
        """
        return county_prefectures(self.counties, self.city)

    @cached_property
    def school_levels(self) -> pd.DataFrame:
        """Long table (school_id, level): one row per level a school hosts, in level order."""
        parts = self.schools["levels"].str.split(";").explode().str.strip()
        out = pd.DataFrame(
            {
                "school_id": self.schools["school_id"].reindex(parts.index).to_numpy(),
                "level": parts.to_numpy(),
            }
        )
        out = out[out["level"] != ""]
        out["level"] = pd.Categorical(out["level"], categories=list(LEVELS), ordered=True)
        out = out.sort_values(["school_id", "level"], kind="stable").reset_index(drop=True)
        out["level"] = out["level"].astype(str)
        return out
