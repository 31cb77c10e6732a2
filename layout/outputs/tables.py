"""Table layouts of the planner's outputs: column dictionary, Chinese labels, derived tables.

The columns themselves (identifier, dtype, Chinese header, meaning) and the table layouts are
defined once in :mod:`schoolsystem.schemas`, the level and action labels in
:mod:`schoolsystem.vocabulary`; this module shapes plan tables for the outputs.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np
import pandas as pd

from schoolsystem.schemas import (
    COLUMNS,
    OUTPUT_TABLES,
    PLAN_TABLES,
    STAGED_SCHOOL_COLUMNS,
    SUMMARY_COLUMNS,
)
from schoolsystem.vocabulary import ACTION_LABELS_ZH, ACTIONS, LEVEL_LABELS_ZH, LEVELS

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "COLUMNS",
    "LEVELS",
    "LEVEL_LABELS",
    "PLAN_TABLES",
    "SUMMARY_COLUMNS",
    "PlanLike",
    "assignment_summary",
    "chinese",
    "data_dictionary",
    "plan_table",
    "township_change",
    "township_change_table",
]

LEVEL_LABELS = LEVEL_LABELS_ZH
ACTION_LABELS = ACTION_LABELS_ZH


class PlanLike(Protocol):
    """What the outputs need from a LayoutPlan (duck-typed: any object with these tables)."""

    schools: pd.DataFrame
    assignments: pd.DataFrame
    unserved: pd.DataFrame
    kpis: pd.DataFrame
    projects: pd.DataFrame
    solver_records: pd.DataFrame
    target_year: int


def chinese(column: str) -> str:
    """Return the Chinese header of ``column`` (the identifier itself if not in the dictionary)."""
    col = COLUMNS.get(column)
    return col.label_zh if col is not None else column


def plan_table(plan: Any, name: str) -> pd.DataFrame:
    """Return ``plan.<name>`` with its columns in the documented order.

    Parameters
    ----------
    plan : LayoutPlan-like
        Object with the LayoutPlan tables.
    name : str
        Key of :data:`PLAN_TABLES`.

    Returns
    -------
    pandas.DataFrame
        Documented columns first (with the prefecture columns of
        :data:`schoolsystem.schemas.OUTPUT_TABLES` in their place when the table has them), any
        extra columns after them.

    Raises
    ------
    LayoutError
        If a documented column is missing.

    """
    from layout.errors import LayoutError

    table = getattr(plan, name, None)
    if table is None:
        table = pd.DataFrame(columns=list(PLAN_TABLES[name]))
    missing = [c for c in PLAN_TABLES[name] if c not in table.columns]
    if missing:
        raise LayoutError(f"plan.{name} lacks columns {missing}")
    documented = [c for c in OUTPUT_TABLES[name] if c in table.columns]
    extra = [c for c in table.columns if c not in OUTPUT_TABLES[name]]
    if name == "schools":  # a staged plan's per-milestone columns; the model's own stay inside
        per_year = re.compile("|".join(c.replace("<year>", r"\d{4}")
                                       for c in STAGED_SCHOOL_COLUMNS))
        extra = [c for c in extra if per_year.fullmatch(str(c))]
    return table[[*documented, *extra]].reset_index(drop=True)


def assignment_summary(plan: Any) -> pd.DataFrame:
    """Summarise assignments by (school, level): students, demand points, travel, boarders.

    Parameters
    ----------
    plan : LayoutPlan-like
        Object with ``schools`` and ``assignments`` tables.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, one row per school and level of ``plan.schools``
        (schools with no assignment get 0 students), sorted by level then school_id.

    """
    schools = plan_table(plan, "schools")
    asg = plan_table(plan, "assignments").copy()
    asg["students"] = pd.to_numeric(asg["students"]).astype(float)
    asg["weighted"] = asg["students"] * pd.to_numeric(asg["travel_min"]).astype(float)
    asg["boarders_"] = np.where(asg["boarding"].astype(bool), asg["students"], 0.0)
    grouped = asg.groupby(["school_id", "level"], sort=False).agg(
        students=("students", "sum"),
        demand_points=("demand_id", "nunique"),
        weighted=("weighted", "sum"),
        travel_max_min=("travel_min", "max"),
        boarders=("boarders_", "sum"),
    )
    grouped["travel_mean_min"] = grouped["weighted"] / grouped["students"].where(
        grouped["students"] > 0
    )
    base = schools[["school_id", "name", "level", "action", "capacity_after"]]
    out = base.merge(grouped.reset_index(), on=["school_id", "level"], how="left")
    out[["students", "demand_points", "boarders"]] = out[
        ["students", "demand_points", "boarders"]
    ].fillna(0)
    cap = pd.to_numeric(out["capacity_after"]).astype(float)
    out["utilization"] = out["students"] / cap.where(cap > 0)
    level_order = {lv: i for i, lv in enumerate(LEVELS)}
    out["_lv"] = out["level"].map(level_order).fillna(len(LEVELS))
    out = out.sort_values(["_lv", "school_id"], kind="stable")
    return out[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def data_dictionary() -> pd.DataFrame:
    """Return the data dictionary: zh_header, identifier, meaning and the tables using it."""
    tables: dict[str, list[str]] = {}
    for table, cols in {**PLAN_TABLES, "kpis": OUTPUT_TABLES["kpis"],
                        "assignment_summary": SUMMARY_COLUMNS, "timeline": OUTPUT_TABLES["timeline"],
                        "schools (staged)": STAGED_SCHOOL_COLUMNS}.items():
        for col in cols:
            tables.setdefault(col, []).append(table)
    rows = [
        {"zh_header": c.label_zh, "identifier": c.name, "dtype": c.dtype, "meaning": c.meaning,
         "tables": ", ".join(tables.get(c.name, []))}
        for c in COLUMNS.values()
    ]
    return pd.DataFrame(rows)


def township_change_table(
    pop_change: pd.DataFrame | None = None, years_series: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """Return the school-age population change per township, base year to target year.

    Parameters
    ----------
    pop_change : pandas.DataFrame, optional
        ``township_code, pop_base, pop_target``.
    years_series : pandas.DataFrame, optional
        ``township_code, year, population``; base = first year, target = last year. Takes
        precedence over ``pop_change``.

    Returns
    -------
    pandas.DataFrame or None
        ``township_code, pop_base, pop_target, pop_change, pop_change_pct`` (pct as a fraction,
        NaN where the base is 0), or None when neither input is given.

    """
    if years_series is not None:
        wide = _wide_series(years_series)
        table = pd.DataFrame(
            {"township_code": wide.index, "pop_base": wide.iloc[:, 0].to_numpy(),
             "pop_target": wide.iloc[:, -1].to_numpy()}
        )
    elif pop_change is not None:
        missing = {"township_code", "pop_base", "pop_target"} - set(pop_change.columns)
        if missing:
            from layout.errors import LayoutError

            raise LayoutError(f"pop_change lacks columns {sorted(missing)}")
        table = pop_change[["township_code", "pop_base", "pop_target"]].copy()
        table["township_code"] = table["township_code"].astype(str)
    else:
        return None
    base = pd.to_numeric(table["pop_base"]).astype(float)
    target = pd.to_numeric(table["pop_target"]).astype(float)
    table["pop_change"] = target - base
    table["pop_change_pct"] = (target - base) / base.where(base > 0)
    return table.reset_index(drop=True)


def _wide_series(years_series: pd.DataFrame) -> pd.DataFrame:
    missing = {"township_code", "year", "population"} - set(years_series.columns)
    if missing:
        from layout.errors import LayoutError

        raise LayoutError(f"years_series lacks columns {sorted(missing)}")
    frame = years_series.assign(township_code=years_series["township_code"].astype(str))
    wide = frame.pivot_table(
        index="township_code", columns="year", values="population", aggfunc="sum"
    )
    return wide.sort_index(axis=1)


def township_change(
    townships: Any,
    pop_change: pd.DataFrame | None = None,
    years_series: pd.DataFrame | None = None,
) -> tuple[list[Any], pd.DataFrame] | None:
    """Per-township population and change by year, aligned with the rows of ``townships``.

    Returns
    -------
    tuple or None
        ``(years, properties)``: the year labels and a frame with ``code``, ``name``, ``pop``
        (list per year) and ``chg`` (list of fractional change versus the first year; None where
        unknown), one row per township in ``townships`` order. None without population input.

    """
    codes = townships["township_code"].astype(str).to_numpy()
    if years_series is not None:
        wide = _wide_series(years_series).reindex(codes)
        years: list[Any] = [int(y) for y in wide.columns]
        pop = wide.to_numpy(dtype=float)
    else:
        table = township_change_table(pop_change=pop_change)
        if table is None:
            return None
        table = table.drop_duplicates("township_code").set_index("township_code").reindex(codes)
        pop = table[["pop_base", "pop_target"]].to_numpy(dtype=float)
        years = ["基年", "目标年"]
    base = pop[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        chg = np.where(base > 0, (pop - base) / base, np.nan)
    chg = np.round(chg, 4)
    pop = np.round(pop, 0)
    props = pd.DataFrame({
        "code": codes,
        "name": townships["name"].astype(str).to_numpy(),
        "pop": _nested(pop),
        "chg": _nested(chg),
    })  # fmt: skip
    return years, props


def _nested(arr: np.ndarray) -> list[list[float | None]]:
    obj = arr.astype(object)
    obj[~np.isfinite(arr)] = None
    return obj.tolist()
