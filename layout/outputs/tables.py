"""Table layouts of the planner's outputs: column dictionary, Chinese labels, derived tables.

One place names every output column: its English identifier (used in CSV, GeoPackage and code),
its Chinese header (shown to planners in the workbook and the map) and its meaning (the workbook's
数据字典 sheet). The LayoutPlan table formats are those of ``notes/region_api.md`` (LayoutPlan).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

LEVELS: tuple[str, ...] = ("kindergarten", "primary", "junior", "senior", "vocational")
LEVEL_LABELS: dict[str, str] = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中职",
}
ACTIONS: tuple[str, ...] = ("keep", "expand", "close", "merge", "convert", "new")
ACTION_LABELS: dict[str, str] = {
    "keep": "保留",
    "expand": "扩建",
    "close": "撤并(关闭)",
    "merge": "合并",
    "convert": "转型",
    "new": "新建",
}

# identifier -> (Chinese header, meaning)
COLUMNS: dict[str, tuple[str, str]] = {
    "school_id": ("学校代码", "学校或候选校址的唯一代码（新建学校为校址代码）"),
    "name": ("名称", "学校或项目名称"),
    "county_code": ("县区代码", "所属县（区）6位行政区划代码"),
    "township_code": ("乡镇代码", "所属乡镇（街道）9位代码"),
    "level": ("学段", "kindergarten 幼儿园 / primary 小学 / junior 初中 / senior 高中 / vocational 中职"),
    "level_label": ("学段名称", "学段的中文名称"),
    "school_type": ("学校类型", "办学类型（如九年一贯制、完全中学、教学点）"),
    "action": ("措施", "keep 保留 / expand 扩建 / close 撤并 / merge 合并 / convert 转型 / new 新建"),
    "action_label": ("措施名称", "措施的中文名称"),
    "merge_into": ("并入", "撤并或合并后学生并入的学校代码；无则为空"),
    "enrollment_base": ("在校生", "基年在校生人数"),
    "demand_target": ("目标年需求", "目标年分配到该校的学生数"),
    "capacity_base": ("现有学位", "基年学位数"),
    "capacity_after": ("规划学位", "规划实施后的学位数"),
    "seats_added": ("新增学位", "新增学位数"),
    "beds_added": ("新增床位", "新增寄宿床位数"),
    "boarders": ("寄宿生", "目标年寄宿学生数"),
    "utilization": ("学位使用率", "目标年需求 / 规划学位"),
    "reason": ("原因", "措施的理由说明"),
    "lon": ("经度", "WGS84 经度（度）"),
    "lat": ("纬度", "WGS84 纬度（度）"),
    "demand_id": ("需求点代码", "需求点（村/社区）代码"),
    "grade_band": ("年级段", "kindergarten / primary_lower 小学低段 / primary_upper 小学高段 / junior / senior / vocational"),
    "students": ("学生数", "目标年学生人数"),
    "travel_min": ("单程时间(分钟)", "需求点到学校的估计单程出行时间（分钟）"),
    "boarding": ("寄宿", "是否寄宿"),
    "demand_points": ("需求点数", "分配到该校的需求点个数"),
    "travel_mean_min": ("平均单程时间(分钟)", "按学生数加权的平均单程时间"),
    "travel_max_min": ("最长单程时间(分钟)", "分配到该校的最长单程时间"),
    "travel_p95_min": ("95%单程时间(分钟)", "单程时间的第95百分位"),
    "share_within_standard": ("达标比例", "单程时间在标准内的学生比例"),
    "schools_before": ("规划前学校数", "规划前学校个数"),
    "schools_after": ("规划后学校数", "规划后学校个数"),
    "cost_before": ("规划前年运行成本", "规划前年运行成本（元）"),
    "cost_after": ("规划后年运行成本", "规划后年运行成本（元）"),
    "cost_per_pupil": ("生均成本", "规划后生均年成本（元）"),
    "project_id": ("项目代码", "建设项目代码"),
    "kind": ("项目类型", "new 新建 / expansion 改扩建"),
    "seats": ("学位", "项目新增学位"),
    "beds": ("床位", "项目新增床位"),
    "capital_cost": ("投资估算", "项目投资估算（元）"),
    "subproblem": ("子问题", "求解的子问题（县区 × 学段）"),
    "status": ("求解状态", "求解器返回状态"),
    "objective": ("目标值", "目标函数值"),
    "bound": ("下界", "目标函数的最优下界"),
    "gap": ("相对间隙", "(目标值-下界)/目标值"),
    "wall_time": ("求解耗时(秒)", "求解墙钟时间（秒）"),
    "threads": ("线程数", "求解器线程数"),
    "seed": ("随机种子", "求解器随机种子"),
    "parameter": ("参数", "情景参数名"),
    "value": ("取值", "情景参数值"),
    "township_name": ("乡镇名称", "乡镇（街道）名称"),
    "pop_base": ("基年学龄人口", "基年学龄人口"),
    "pop_target": ("目标年学龄人口", "目标年学龄人口"),
    "pop_change": ("学龄人口变化", "目标年相对基年的学龄人口变化（人）"),
    "pop_change_pct": ("学龄人口变化率", "目标年相对基年的学龄人口变化率"),
}

SCHOOL_COLUMNS = [
    "school_id", "name", "county_code", "township_code", "level", "school_type", "action",
    "merge_into", "enrollment_base", "demand_target", "capacity_base", "capacity_after",
    "seats_added", "beds_added", "boarders", "utilization", "reason", "lon", "lat",
]  # fmt: skip
ASSIGNMENT_COLUMNS = [
    "demand_id", "level", "grade_band", "school_id", "students", "travel_min", "boarding",
    "lon", "lat",
]  # fmt: skip
UNSERVED_COLUMNS = ["demand_id", "level", "grade_band", "students", "reason"]
KPI_COLUMNS = [
    "county_code", "level", "schools_before", "schools_after", "travel_mean_min",
    "travel_p95_min", "share_within_standard", "boarders", "seats_added", "utilization",
    "cost_before", "cost_after", "cost_per_pupil",
]  # fmt: skip
PROJECT_COLUMNS = [
    "project_id", "school_id", "name", "county_code", "kind", "level", "seats", "beds",
    "capital_cost",
]  # fmt: skip
SOLVER_COLUMNS = [
    "county_code", "subproblem", "status", "objective", "bound", "gap", "wall_time", "threads",
    "seed",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "school_id", "name", "level", "action", "students", "demand_points", "travel_mean_min",
    "travel_max_min", "boarders", "capacity_after", "utilization",
]  # fmt: skip

PLAN_TABLES: dict[str, list[str]] = {
    "schools": SCHOOL_COLUMNS,
    "assignments": ASSIGNMENT_COLUMNS,
    "unserved": UNSERVED_COLUMNS,
    "kpis": KPI_COLUMNS,
    "projects": PROJECT_COLUMNS,
    "solver_records": SOLVER_COLUMNS,
}
"""LayoutPlan attribute -> required columns, in output order."""


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
    return COLUMNS.get(column, (column, ""))[0]


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
        Documented columns first, any extra columns after them.

    Raises
    ------
    LayoutError
        If a documented column is missing.

    """
    from layout.errors import LayoutError

    table = getattr(plan, name, None)
    if table is None:
        table = pd.DataFrame(columns=PLAN_TABLES[name])
    missing = [c for c in PLAN_TABLES[name] if c not in table.columns]
    if missing:
        raise LayoutError(f"plan.{name} lacks columns {missing}")
    extra = [c for c in table.columns if c not in PLAN_TABLES[name]]
    return table[PLAN_TABLES[name] + extra].reset_index(drop=True)


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
    return out[SUMMARY_COLUMNS].reset_index(drop=True)


def data_dictionary() -> pd.DataFrame:
    """Return the data dictionary: zh_header, identifier, meaning and the tables using it."""
    tables: dict[str, list[str]] = {}
    for table, cols in {**PLAN_TABLES, "assignment_summary": SUMMARY_COLUMNS}.items():
        for col in cols:
            tables.setdefault(col, []).append(table)
    rows = [
        {"zh_header": zh, "identifier": key, "meaning": meaning,
         "tables": ", ".join(tables.get(key, []))}
        for key, (zh, meaning) in COLUMNS.items()
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
