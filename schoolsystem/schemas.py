"""Table schemas of the forecast and the plan: every column's identifier, dtype and Chinese label.

One place names every output column: its English identifier (CSV, GeoPackage, code), its dtype,
its Chinese header (the workbook, the map) and its meaning (the workbook's 数据字典 sheet). A table
schema is the ordered tuple of its columns; :func:`conform` checks a table against it.
This module imports nothing but the standard library.

Examples
--------
>>> PLAN_TABLES["unserved"]
('demand_id', 'level', 'grade_band', 'students', 'reason')
>>> COLUMNS["seats_added"].label_zh
'新增学位'

"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

Dtype = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of an output table.

    Attributes
    ----------
    name : str
        English identifier.
    dtype : {"str", "int", "float", "bool"}
        Value type (``int`` columns hold whole numbers: pupils, seats, schools).
    label_zh : str
        Chinese header shown to planners.
    meaning : str
        What the column holds (Chinese, with units).

    """

    name: str
    dtype: Dtype
    label_zh: str
    meaning: str


_COLUMNS: tuple[Column, ...] = (
    Column("school_id", "str", "学校代码", "学校或候选校址的唯一代码（新建学校为校址代码）"),
    Column("name", "str", "名称", "学校或项目名称"),
    Column("county_code", "str", "县区代码", "所属县（区）6位行政区划代码"),
    Column("prefecture_code", "str", "市州代码",
           "所属市（州）6位行政区划代码（县区数据未给出时取县区代码前4位加00）"),
    Column("prefecture_name", "str", "市州名称",
           "所属市（州）名称（县区数据未给出时取代码相同的区域外界 city 的名称，否则为市州代码）"),
    Column("township_code", "str", "乡镇代码", "所属乡镇（街道）9位代码"),
    Column("level", "str", "学段",
           "kindergarten 幼儿园 / primary 小学 / junior 初中 / senior 高中 / vocational 中职"),
    Column("level_label", "str", "学段名称", "学段的中文名称"),
    Column("school_type", "str", "学校类型", "办学类型（如九年一贯制、完全中学、教学点）"),
    Column("school_type_label", "str", "学校类型名称", "学校类型的中文名称"),
    Column("site_class_label", "str", "办学点位置名称", "办学点位置的中文名称"),
    Column("site_class", "str", "办学点位置",
           "county_seat 县城 / central_town 中心镇 / township_seat 乡镇驻地 / village 村"
           "（按所在乡镇及到乡镇驻地的距离）"),
    Column("action", "str", "措施",
           "keep 保留 / expand 扩建 / close 撤并 / merge 合并 / convert 转型 / new 新建"),
    Column("action_label", "str", "措施名称", "措施的中文名称"),
    Column("action_year", "int", "措施年份",
           "分期规划中措施实施的年份（撤并、新建、扩建、转型所在的里程碑年）；保留则为空"),
    Column("merge_into", "str", "并入", "撤并或合并后学生并入的学校代码；无则为空"),
    Column("enrollment_base", "int", "在校生", "基年在校生人数"),
    Column("demand_target", "float", "目标年需求", "目标年分配到该校的学生数"),
    Column("capacity_base", "int", "现有学位", "基年学位数"),
    Column("capacity_after", "int", "规划学位", "规划实施后的学位数"),
    Column("seats_added", "int", "新增学位", "新增学位数"),
    Column("beds_added", "int", "新增床位", "新增寄宿床位数"),
    Column("boarders", "float", "寄宿生", "目标年寄宿学生数"),
    Column("utilization", "float", "学位使用率", "目标年需求 / 规划学位"),
    Column("reason", "str", "原因", "措施的理由说明"),
    Column("lon", "float", "经度", "WGS84 经度（度）"),
    Column("lat", "float", "纬度", "WGS84 纬度（度）"),
    Column("demand_id", "str", "需求点代码", "需求点（村/社区）代码"),
    Column("grade_band", "str", "年级段",
           "kindergarten / primary_lower 小学低段 / primary_upper 小学高段 / junior / senior / "
           "vocational"),
    Column("students", "float", "学生数", "目标年学生人数"),
    Column("travel_min", "float", "单程时间(分钟)", "需求点到学校的估计单程出行时间（分钟）"),
    Column("boarding", "bool", "寄宿", "是否寄宿"),
    Column("standard_min", "float", "通学标准(分钟)",
           "该年级段走读单程时间标准（分钟）；超出者为寄宿生，或标准内无学校时的放宽例外（见学校原因）"),
    Column("demand_points", "int", "需求点数", "分配到该校的需求点个数"),
    Column("travel_mean_min", "float", "平均单程时间(分钟)", "按学生数加权的平均单程时间"),
    Column("travel_max_min", "float", "最长单程时间(分钟)", "分配到该校的最长单程时间"),
    Column("travel_p95_min", "float", "95%单程时间(分钟)", "单程时间的第95百分位"),
    Column("share_within_standard", "float", "达标比例", "单程时间在标准内的学生比例"),
    Column("schools_before", "int", "规划前学校数", "规划前学校个数"),
    Column("schools_after", "int", "规划后学校数", "规划后学校个数"),
    Column("cost_before", "float", "规划前年运行成本", "规划前年运行成本（元）"),
    Column("cost_after", "float", "规划后年运行成本", "规划后年运行成本（元）"),
    Column("cost_per_pupil", "float", "生均成本", "规划后生均年成本（元）"),
    Column("project_id", "str", "项目代码", "建设项目代码"),
    Column("kind", "str", "项目类型", "new 新建 / expansion 改扩建"),
    Column("seats", "int", "学位", "项目新增学位"),
    Column("beds", "int", "床位", "项目新增床位"),
    Column("capital_cost", "float", "投资估算", "项目投资估算（元）"),
    Column("subproblem", "str", "子问题", "求解的子问题（县区 × 学段）"),
    Column("status", "str", "求解状态", "求解器返回状态"),
    Column("objective", "float", "目标值", "目标函数值"),
    Column("bound", "float", "下界", "目标函数的最优下界"),
    Column("gap", "float", "相对间隙", "(目标值-下界)/目标值"),
    Column("wall_time", "float", "求解耗时(秒)", "求解墙钟时间（秒）"),
    Column("threads", "int", "线程数", "求解器线程数"),
    Column("seed", "int", "随机种子", "求解器随机种子"),
    Column("parameter", "str", "参数", "情景参数名（生效值，含默认值）"),
    Column("value", "str", "取值", "情景参数生效值"),
    Column("township_name", "str", "乡镇名称", "乡镇（街道）名称"),
    Column("pop_base", "float", "基年学龄人口", "基年学龄人口"),
    Column("pop_target", "float", "目标年学龄人口", "目标年学龄人口"),
    Column("pop_change", "float", "学龄人口变化", "目标年相对基年的学龄人口变化（人）"),
    Column("pop_change_pct", "float", "学龄人口变化率", "目标年相对基年的学龄人口变化率"),
    Column("village_id", "str", "村代码", "村（社区）代码"),
    Column("year", "int", "年份", "年份"),
    Column("age", "int", "年龄", "周岁"),
    Column("population", "float", "人口", "常住人口（人）"),
    Column("demand", "float", "需求(均值)", "学位需求，蒙特卡洛均值（人）"),
    Column("p10", "float", "需求P10", "学位需求第10百分位（人）"),
    Column("p50", "float", "需求P50", "学位需求中位数（人）"),
    Column("p90", "float", "需求P90", "学位需求第90百分位（人）"),
    Column("attending", "float", "就读需求", "考虑跨区就读后该乡镇学校的学位需求（人）"),
    Column("rate", "float", "入学率", "该年级段的入学（参与）率"),
    Column("schools_open", "int", "开办学校数", "该里程碑年开办的学校（学段）数"),
    Column("demand_p50", "int", "需求P50", "该里程碑年学位需求中位数（人）"),
    Column("demand_p90", "int", "需求P90", "该里程碑年学位需求第90百分位（人）"),
    Column("temporary_seats", "int", "临时学位", "该里程碑年使用的临时学位（活动板房、租用校舍、大班额至国家上限）"),
    Column("idle_seats", "int", "闲置学位", "开办学校中无学生使用的永久学位"),
    Column("temporary", "int", "临时学位", "该校该年使用的临时学位"),
    Column("capacity_<year>", "int", "学位(年)", "分期规划: 该里程碑年开办学校的永久学位（撤并后为0）"),
    Column("enrollment_<year>", "int", "在校生(年)", "分期规划: 该里程碑年分配到该校的学生数"),
    Column("temporary_<year>", "int", "临时学位(年)", "分期规划: 该里程碑年使用的临时学位"),
)

COLUMNS: Final = MappingProxyType({c.name: c for c in _COLUMNS})
"""Column identifier -> :class:`Column` (every column of every table below)."""

SCHOOL_COLUMNS: Final[tuple[str, ...]] = (
    "school_id", "name", "county_code", "township_code", "level", "school_type", "site_class",
    "action", "action_year", "merge_into", "enrollment_base", "demand_target", "capacity_base", "capacity_after",
    "seats_added", "beds_added", "boarders", "utilization", "reason", "lon", "lat",
)  # fmt: skip
ASSIGNMENT_COLUMNS: Final[tuple[str, ...]] = (
    "demand_id", "level", "grade_band", "school_id", "students", "travel_min", "boarding",
    "standard_min", "lon", "lat",
)  # fmt: skip
UNSERVED_COLUMNS: Final[tuple[str, ...]] = (
    "demand_id", "level", "grade_band", "students", "reason",
)  # fmt: skip
KPI_COLUMNS: Final[tuple[str, ...]] = (
    "county_code", "level", "schools_before", "schools_after", "travel_mean_min",
    "travel_p95_min", "share_within_standard", "boarders", "seats_added", "utilization",
    "cost_before", "cost_after", "cost_per_pupil",
)  # fmt: skip
PROJECT_COLUMNS: Final[tuple[str, ...]] = (
    "project_id", "year", "school_id", "name", "county_code", "kind", "level", "seats", "beds",
    "capital_cost",
)  # fmt: skip
STAGED_SCHOOL_COLUMNS: Final[tuple[str, ...]] = (
    "capacity_<year>", "enrollment_<year>", "temporary_<year>",
)
"""Per-milestone columns a staged plan adds to ``schools`` (one of each per milestone year)."""
TIMELINE_COLUMNS: Final[tuple[str, ...]] = (
    "year", "county_code", "level", "schools_open", "seats", "demand_p50", "demand_p90",
    "temporary_seats", "idle_seats",
)  # fmt: skip
"""Staged plan, per milestone, county and level."""
PREFECTURE_COLUMNS: Final[tuple[str, ...]] = ("prefecture_code", "prefecture_name")
"""The prefecture of a row's county, added to the per-county tables when they are written
(:data:`KPI_OUTPUT_COLUMNS`, :data:`TIMELINE_OUTPUT_COLUMNS`; the planner does not compute it)."""


def with_prefecture(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` with :data:`PREFECTURE_COLUMNS` inserted before ``county_code``.

    Examples
    --------
    >>> with_prefecture(("year", "county_code", "level"))
    ('year', 'prefecture_code', 'prefecture_name', 'county_code', 'level')

    """
    i = columns.index("county_code")
    return (*columns[:i], *PREFECTURE_COLUMNS, *columns[i:])


KPI_OUTPUT_COLUMNS: Final[tuple[str, ...]] = with_prefecture(KPI_COLUMNS)
"""``kpis.csv`` and the 指标 sheet: :data:`KPI_COLUMNS` with the prefecture of each county."""
TIMELINE_OUTPUT_COLUMNS: Final[tuple[str, ...]] = with_prefecture(TIMELINE_COLUMNS)
"""``timeline.csv`` and the 分期时间表 sheet: :data:`TIMELINE_COLUMNS` with the prefecture."""
SOLVER_COLUMNS: Final[tuple[str, ...]] = (
    "county_code", "subproblem", "status", "objective", "bound", "gap", "wall_time", "threads",
    "seed",
)  # fmt: skip
SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "school_id", "name", "level", "action", "students", "demand_points", "travel_mean_min",
    "travel_max_min", "boarders", "capacity_after", "utilization",
)  # fmt: skip
DEMAND_COLUMNS: Final[tuple[str, ...]] = ("demand_id", "level", "grade_band", "students")
"""Input of the layout model: students per demand point and grade band."""

PLAN_TABLES: Final = MappingProxyType({
    "schools": SCHOOL_COLUMNS,
    "assignments": ASSIGNMENT_COLUMNS,
    "unserved": UNSERVED_COLUMNS,
    "kpis": KPI_COLUMNS,
    "projects": PROJECT_COLUMNS,
    "solver_records": SOLVER_COLUMNS,
})
"""LayoutPlan attribute -> its columns, in output order."""

OUTPUT_TABLES: Final = MappingProxyType({
    **PLAN_TABLES, "kpis": KPI_OUTPUT_COLUMNS, "timeline": TIMELINE_OUTPUT_COLUMNS,
})
"""Table -> its columns as written (CSV, workbook): the plan's, with the prefecture columns."""

QUANTILES: Final[tuple[str, ...]] = ("p10", "p50", "p90")
"""Quantile columns of every forecast table."""

FORECAST_TABLES: Final = MappingProxyType({
    "village_demand": ("village_id", "township_code", "county_code", "level", "grade_band",
                       "year", "demand", *QUANTILES),
    "township_demand": ("township_code", "county_code", "level", "grade_band", "year",
                        "demand", *QUANTILES, "attending"),
    "rates": ("county_code", "grade_band", "year", "rate"),
})
"""RegionOutlook attribute -> its columns (at least these, in this order)."""


class SchemaError(ValueError):
    """A table lacks columns its schema requires."""


def missing_columns(columns: Iterable[str], schema: Iterable[str]) -> list[str]:
    """Columns of ``schema`` absent from ``columns``, in schema order.

    Examples
    --------
    >>> missing_columns(["demand_id", "students"], DEMAND_COLUMNS)
    ['level', 'grade_band']

    """
    have = set(columns)
    return [c for c in schema if c not in have]


def require(columns: Iterable[str], schema: Iterable[str], what: str) -> None:
    """Raise :class:`SchemaError` naming ``what`` and the missing columns, if any.

    Examples
    --------
    >>> require(["a"], ["a", "b"], "plan.schools")
    Traceback (most recent call last):
    schoolsystem.schemas.SchemaError: plan.schools: missing column(s) b

    """
    miss = missing_columns(columns, schema)
    if miss:
        raise SchemaError(f"{what}: missing column(s) {', '.join(miss)}")


def labels_zh(columns: Iterable[str]) -> dict[str, str]:
    """Column identifier -> Chinese header, for the given columns (unknown ones unchanged)."""
    return {c: (COLUMNS[c].label_zh if c in COLUMNS else c) for c in columns}


def dictionary_rows(tables: Mapping[str, Iterable[str]]) -> list[tuple[str, str, str, str, str]]:
    """Rows ``(table, column, dtype, label_zh, meaning)`` of a data dictionary for ``tables``."""
    return [
        (table, c, COLUMNS[c].dtype, COLUMNS[c].label_zh, COLUMNS[c].meaning)
        for table, cols in tables.items()
        for c in cols
        if c in COLUMNS
    ]
