"""Prefecture views of a layout plan: the prefecture columns, a plan cut to some counties, totals.

- :func:`with_prefectures` adds ``prefecture_code`` and ``prefecture_name``
  (:data:`schoolsystem.schemas.PREFECTURE_COLUMNS`) to the per-county tables ``kpis`` and
  ``timeline`` when they are written: the planner works county by county and does not know
  prefectures; the region does (:attr:`layout.region.model.Region.prefectures`).
- :func:`subset_plan` cuts a plan to the counties of one prefecture: every table with a
  ``county_code`` by that code; assignments by the county of their school (a vocational school
  may take pupils from other prefectures: its rows stay with the school); unserved demand by the
  county of its demand point; ``staged_summary`` recomputed on the subset's schools.
- :func:`prefecture_level_totals` gives, per prefecture and level, the school counts and seats
  the province overview map shows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd

from layout.outputs.tables import plan_table
from layout.region.prefectures import prefecture_of_code
from schoolsystem.schemas import PREFECTURE_COLUMNS
from schoolsystem.vocabulary import LEVELS

__all__ = [
    "CLOSING_ACTIONS",
    "TOTAL_COLUMNS",
    "add_prefecture_columns",
    "prefecture_level_totals",
    "subset_plan",
    "with_prefectures",
]

P = TypeVar("P")

CLOSING_ACTIONS: Final[tuple[str, ...]] = ("close", "merge")
"""Actions after which a school (level) is no longer open."""
PREFECTURE_TABLES: Final[tuple[str, ...]] = ("kpis", "timeline")
"""Plan tables written with the prefecture columns."""
COUNTY_TABLES: Final[tuple[str, ...]] = (
    "schools", "kpis", "projects", "solver_records", "timeline", "p90_check", "fixed_decisions",
)  # fmt: skip
"""Plan tables cut by their own ``county_code``."""
SCHOOL_TABLES: Final[tuple[str, ...]] = ("assignments", "assignments_by_year")
"""Plan tables cut by the county of their ``school_id``."""
DEMAND_TABLES: Final[tuple[str, ...]] = ("unserved", "unserved_by_year")
"""Plan tables cut by the county of their ``demand_id``."""
TOTAL_COLUMNS: Final[tuple[str, ...]] = (
    "prefecture_code", "prefecture_name", "level", "counties", "schools_before", "schools_after",
    "closed", "new", "expanded", "seats_added", "capacity_after", "demand_target", "utilization",
)  # fmt: skip
"""Columns of :func:`prefecture_level_totals`."""
_COUNTY_CODE = re.compile(r"\d{6}")


def add_prefecture_columns(frame: pd.DataFrame, prefectures: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``prefecture_code`` and ``prefecture_name`` inserted before ``county_code``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with ``county_code`` (any existing prefecture columns are replaced).
    prefectures : pandas.DataFrame
        ``county_code, prefecture_code, prefecture_name`` (:attr:`Region.prefectures`). A county
        missing from it gets the prefecture of its code (``""`` if it is no 6-digit code).

    Returns
    -------
    pandas.DataFrame
        A new frame; ``frame`` is unchanged.

    Examples
    --------
    >>> pref = pd.DataFrame({"county_code": ["510802"], "prefecture_code": ["510800"],
    ...                      "prefecture_name": ["广元市"]})
    >>> k = pd.DataFrame({"county_code": ["510802", "510104"], "level": ["junior", "junior"]})
    >>> add_prefecture_columns(k, pref).values.tolist()
    [['510800', '广元市', '510802', 'junior'], ['510100', '510100', '510104', 'junior']]

    """
    lookup = (prefectures.assign(county_code=prefectures["county_code"].astype(str))
              .drop_duplicates("county_code").set_index("county_code"))
    codes = frame["county_code"].astype(str)
    derived = prefecture_of_code(codes).where(codes.str.fullmatch(_COUNTY_CODE.pattern), "")
    pref_code = codes.map(lookup["prefecture_code"]).astype(object).fillna(derived)
    pref_name = codes.map(lookup["prefecture_name"]).astype(object).fillna(pref_code)
    out = frame.drop(columns=[c for c in PREFECTURE_COLUMNS if c in frame.columns])
    at = list(out.columns).index("county_code")
    out.insert(at, PREFECTURE_COLUMNS[1], pref_name.astype(str).to_numpy())
    out.insert(at, PREFECTURE_COLUMNS[0], pref_code.astype(str).to_numpy())
    return out


def with_prefectures(plan: P, prefectures: pd.DataFrame) -> P:
    """A shallow copy of ``plan`` whose ``kpis`` and ``timeline`` carry the prefecture columns.

    Parameters
    ----------
    plan : LayoutPlan-like
        The plan (unchanged).
    prefectures : pandas.DataFrame
        ``county_code, prefecture_code, prefecture_name`` (:attr:`Region.prefectures`).

    Returns
    -------
    LayoutPlan-like
        Same type as ``plan``; tables it does not have stay absent.

    """
    out = copy.copy(plan)
    for name in PREFECTURE_TABLES:
        table = getattr(plan, name, None)
        if table is not None:
            setattr(out, name, add_prefecture_columns(table, prefectures))
    return out


def _rows(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.DataFrame:
    return frame[np.asarray(mask, dtype=bool)].reset_index(drop=True)


def subset_plan(plan: P, counties: Iterable[str],
                demand_counties: pd.Series | None = None) -> P:
    """The plan restricted to ``counties`` (a shallow copy with every table cut).

    Parameters
    ----------
    plan : LayoutPlan-like
        The plan (unchanged). Tables it does not have (``None`` or absent) stay so.
    counties : iterable of str
        County codes to keep.
    demand_counties : pandas.Series, optional
        County code of each demand point, indexed by ``demand_id`` (the region's villages); by
        default the first six digits of the demand id (the region contract's village codes).

    Returns
    -------
    LayoutPlan-like
        Same type as ``plan``. ``seats_added_total`` is the subset's; ``staged_summary`` is
        recomputed on the subset's schools (:func:`layout.plan.staged_tables.staged_summary`);
        notes naming only counties outside the subset are left out.

    """
    keep = {str(c) for c in counties}
    out: Any = copy.copy(plan)
    for name in COUNTY_TABLES:
        table = getattr(plan, name, None)
        if table is not None:
            setattr(out, name, _rows(table, table["county_code"].astype(str).isin(keep)))
    school_ids = set(out.schools["school_id"].astype(str))
    for name in SCHOOL_TABLES:
        table = getattr(plan, name, None)
        if table is not None:
            setattr(out, name, _rows(table, table["school_id"].astype(str).isin(school_ids)))
    lookup = None if demand_counties is None else pd.Series(
        demand_counties.astype(str).to_numpy(), index=demand_counties.index.astype(str))
    for name in DEMAND_TABLES:
        table = getattr(plan, name, None)
        if table is not None:
            ids = table["demand_id"].astype(str)
            where = ids.str[:6] if lookup is None else ids.map(lookup)
            setattr(out, name, _rows(table, where.isin(keep)))
    milestones = [int(y) for y in getattr(plan, "milestones", None) or []]
    if hasattr(plan, "seats_added_total"):  # as the planner sums it: projects, or schools
        out.seats_added_total = (int(out.projects["seats"].sum()) if milestones else
                                 int(pd.to_numeric(out.schools["seats_added"]).sum()))
    if getattr(plan, "staged_summary", None) is not None and milestones:
        from layout.plan.staged_tables import staged_summary

        out.staged_summary = staged_summary(out.schools, milestones)
    if getattr(plan, "notes", None):
        out.notes = _notes_for(list(out.notes), keep)
    return out


def _notes_for(notes: list[str], keep: set[str]) -> list[str]:
    """Notes that name a kept county, or no county at all."""
    out = []
    for note in notes:
        named = set(re.findall(r"(?<!\d)\d{6}(?!\d)", note))
        if not named or named & keep:
            out.append(note)
    return out


def prefecture_level_totals(plan: Any, prefectures: pd.DataFrame,
                            counties: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per prefecture and level: schools before and after, closed, new, seats, utilisation.

    Parameters
    ----------
    plan : LayoutPlan-like
        Needs ``schools`` (:data:`schoolsystem.schemas.SCHOOL_COLUMNS`).
    prefectures : pandas.DataFrame
        ``county_code, prefecture_code, prefecture_name``.
    counties : pandas.DataFrame, optional
        Unused columns aside, ``county_code`` of every county (default: those of
        ``prefectures``): the ``counties`` column counts them per prefecture.

    Returns
    -------
    pandas.DataFrame
        :data:`TOTAL_COLUMNS`, sorted by prefecture code and level (school order), one row per
        prefecture and level with at least one school. ``schools_before`` counts the schools
        that exist today (every action but ``new``), ``schools_after`` those open after the plan
        (every action but close and merge), ``closed`` the closed and merged ones; utilisation
        is target-year pupils over the seats of the open schools.

    """
    s = add_prefecture_columns(plan_table(plan, "schools"), prefectures)
    action = s["action"].astype(str)
    is_open = ~action.isin(CLOSING_ACTIONS)
    cap = pd.to_numeric(s["capacity_after"], errors="coerce").fillna(0.0)
    demand = pd.to_numeric(s["demand_target"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame({
        "prefecture_code": s["prefecture_code"], "prefecture_name": s["prefecture_name"],
        "level": s["level"].astype(str), "schools_before": (action != "new").astype(int),
        "schools_after": is_open.astype(int), "closed": (~is_open).astype(int),
        "new": (action == "new").astype(int), "expanded": (action == "expand").astype(int),
        "seats_added": pd.to_numeric(s["seats_added"], errors="coerce").fillna(0).astype(int),
        "capacity_after": cap.where(is_open, 0.0), "demand_target": demand.where(is_open, 0.0),
    })  # fmt: skip
    totals = frame.groupby(["prefecture_code", "prefecture_name", "level"], sort=False).sum()
    totals = totals.reset_index()
    totals["utilization"] = (totals["demand_target"]
                             / totals["capacity_after"].where(totals["capacity_after"] > 0))
    codes = (counties if counties is not None else prefectures)["county_code"].astype(str)
    pref_of = add_prefecture_columns(pd.DataFrame({"county_code": codes.unique()}), prefectures)
    n = pref_of.groupby("prefecture_code")["county_code"].nunique()
    totals.insert(3, "counties", totals["prefecture_code"].map(n).fillna(0).astype(int))
    order = {lv: i for i, lv in enumerate(LEVELS)}
    totals["_lv"] = totals["level"].map(order).fillna(len(LEVELS))
    totals = totals.sort_values(["prefecture_code", "_lv", "level"], kind="stable")
    return totals.loc[:, list(TOTAL_COLUMNS)].reset_index(drop=True)
