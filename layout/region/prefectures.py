"""The prefecture (地级市/州) of every county: from ``counties.geojson`` or from the county code.

A province region holds the counties of several prefectures; the outputs group them by
prefecture (``prefecture_code`` in the KPI and timeline tables, one map and workbook per
prefecture). :func:`county_prefectures` is the one place that says which prefecture a county
belongs to, and :attr:`layout.region.model.Region.prefectures` exposes it on the region:

- ``prefecture_code``: the county's ``prefecture_code`` property when it is given, else the
  first four digits of the county code followed by ``00`` (GB/T 2260: ``510802`` -> ``510800``);
- ``prefecture_name``: the ``prefecture_name`` property of the prefecture's first county that
  gives one, else the name
  of the region's outline (``city.geojson``) when its code is that prefecture's (the embedded
  region: ``510800`` 广元市), else the prefecture code itself.

Examples
--------
>>> import pandas as pd
>>> counties = pd.DataFrame({"county_code": ["510802", "510104", "513437"],
...                          "prefecture_name": ["", "成都市", ""]})
>>> city = pd.DataFrame({"code": ["510800"], "name": ["广元市"]})
>>> county_prefectures(counties, city).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
{'county_code': ['510802', '510104', '513437'],
 'prefecture_code': ['510800', '510100', '513400'],
 'prefecture_name': ['广元市', '成都市', '513400']}

"""

from __future__ import annotations

from typing import Final

import pandas as pd

from schoolsystem.schemas import PREFECTURE_COLUMNS

__all__ = ["PREFECTURE_TABLE_COLUMNS", "county_prefectures", "prefecture_of_code"]

PREFECTURE_TABLE_COLUMNS: Final[tuple[str, ...]] = ("county_code", *PREFECTURE_COLUMNS)
"""Columns of :func:`county_prefectures`: one row per county."""


def prefecture_of_code(county_codes: pd.Series) -> pd.Series:
    """Prefecture code of 6-digit county codes by the national code structure (``5108xx`` -> ``510800``).

    Examples
    --------
    >>> prefecture_of_code(pd.Series(["510802", "510104"])).tolist()
    ['510800', '510100']

    """
    return county_codes.astype(str).str[:4] + "00"


def _given(counties: pd.DataFrame, column: str) -> pd.Series:
    """A county property as text, empty where it is missing (or when the column is absent)."""
    if column not in counties.columns:
        return pd.Series("", index=counties.index, dtype=object)
    values = counties[column].astype(object)
    return values.where(values.notna(), "").astype(str).str.strip()


def county_prefectures(counties: pd.DataFrame, city: pd.DataFrame | None = None) -> pd.DataFrame:
    """County code -> prefecture code and name (see the module notes for the rules).

    Parameters
    ----------
    counties : pandas.DataFrame
        ``county_code`` and, optionally, ``prefecture_code`` and ``prefecture_name`` (empty cells
        fall back to the derived values).
    city : pandas.DataFrame, optional
        The region outline (``code``, ``name``): names the prefecture whose code it carries.

    Returns
    -------
    pandas.DataFrame
        :data:`PREFECTURE_TABLE_COLUMNS`, one row per county in the order of ``counties``, all
        text.

    """
    county = counties["county_code"].astype(str).reset_index(drop=True)
    code = _given(counties, "prefecture_code").reset_index(drop=True)
    code = code.where(code != "", prefecture_of_code(county))
    given = _given(counties, "prefecture_name").reset_index(drop=True)
    first = given[given != ""].groupby(code[given != ""], sort=False).first()
    name = code.map(first).astype(object).fillna("")  # one per prefecture: its first county's
    if city is not None and len(city) and {"code", "name"} <= set(city.columns):
        outline = pd.Series(city["name"].astype(str).to_numpy(),
                            index=city["code"].astype(str).to_numpy())
        outline = outline[~outline.index.duplicated()]
        name = name.where(name != "", code.map(outline).astype(object).fillna(""))
    name = name.where(name != "", code)
    return pd.DataFrame({"county_code": county, "prefecture_code": code,
                         "prefecture_name": name})
