"""The planner's vocational step: Measure 6 for each prefecture (city) of the region.

:func:`layout.plan.vocational.integrate_vocational` integrates the schools it is given. The
measure is a city's, so in a region of several prefectures (a province) each prefecture
integrates its own schools and its pupils are sent to them (:func:`add_vocational`); a region of
one prefecture (the embedded Guangyuan) is one integration. Each integration is isolated like a
county: its failure is reported and the county plans are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from layout.plan.params import LayoutParams
from layout.plan.vocational import integrate_vocational

if TYPE_CHECKING:
    from layout.plan.planner import _PlanParts

NO_VOCATIONAL_REASON = ("本地区无中等职业学校, 学生到区外就读 (no secondary vocational school in "
                        "the region: pupils attend outside it)")
"""Reason of vocational demand in a region (or prefecture) without any vocational school."""


def prefecture_of(region: Any) -> dict[str, str]:
    """County code -> prefecture (city) code of ``region``'s counties.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> counties = pd.DataFrame({"county_code": ["510802", "510104"]})
    >>> prefecture_of(SimpleNamespace(counties=counties))
    {'510802': '510800', '510104': '510100'}

    """
    from layout.region.prefectures import county_prefectures

    table = county_prefectures(region.counties, getattr(region, "city", None))
    return dict(zip(table["county_code"], table["prefecture_code"], strict=True))


def add_vocational(voc_f: pd.DataFrame, voc_d: pd.DataFrame, terrain: dict[str, str],
                   p: LayoutParams, seed: int, parts: _PlanParts,
                   prefectures: Mapping[str, str] | None = None) -> None:
    """The vocational integration of each prefecture, each isolated like a county.

    Parameters
    ----------
    voc_f, voc_d : DataFrame
        Vocational facilities and demand rows of the region (with ``county_code``).
    terrain : dict
        County code -> terrain.
    p : LayoutParams
        Threshold, sizes and costs.
    seed : int
        Recorded in the solver record.
    parts : _PlanParts
        Gets the tables, notes, records and failures.
    prefectures : mapping, optional
        County code -> prefecture code (:func:`prefecture_of`). With more than one prefecture
        among the schools and pupils each integrates its own (records
        ``<prefecture>/vocational``); otherwise one integration (record ``vocational``).

    """
    pref_f = voc_f["county_code"].astype(str).map(prefectures or {}).fillna("")
    pref_d = voc_d["county_code"].astype(str).map(prefectures or {}).fillna("")
    codes = sorted(set(pref_f) | set(pref_d))
    if len(codes) < 2:
        _integrate(voc_f, voc_d, terrain, p, seed, parts, "")
        return
    for code in codes:
        _integrate(voc_f[pref_f == code], voc_d[pref_d == code], terrain, p, seed, parts, code)


def _integrate(voc_f: pd.DataFrame, voc_d: pd.DataFrame, terrain: dict[str, str],
               p: LayoutParams, seed: int, parts: _PlanParts, prefecture: str) -> None:
    """One integration of :func:`add_vocational` (``prefecture`` "": the whole region)."""
    if len(voc_d) and not (~voc_f["is_site"]).any():  # nothing to integrate: say where they go
        parts.unserved.append(voc_d.assign(reason=NO_VOCATIONAL_REASON))
        return
    if not (len(voc_f) or len(voc_d)):
        return
    try:  # its failure keeps the county plans
        vs, vd, va, vnotes = integrate_vocational(voc_f, voc_d, terrain, p)
    except Exception as exc:
        earlier = parts.failed.get("")
        parts.fail("", exc)  # "" = the vocational step; one reason per failed prefecture
        reason = f"prefecture {prefecture}: {parts.failed['']}" if prefecture else parts.failed[""]
        parts.failed[""] = f"{earlier}; {reason}" if earlier else reason
        return
    parts.schools.append(vs.rename(columns={"fac_id": "school_id", "capacity": "capacity_base"}))
    parts.before.append(vd)
    parts.assignments.append(va)
    parts.notes.extend(vnotes)
    parts.records.append({"county_code": "", "subproblem": f"{prefecture}/vocational"
                          if prefecture else "vocational", "solver": "heuristic",
                          "status": "heuristic", "objective": np.nan, "bound": np.nan,
                          "gap": np.nan, "wall_time": np.nan, "threads": 1, "seed": seed})
