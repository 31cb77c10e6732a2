"""The input workbook's sheets and columns: what a county education bureau fills in.

One sheet per input table. Row 1 holds the Chinese header a planner reads, row 2 the column
identifier the importer reads (so headers may be reworded, identifiers may not), data start on
row 3. Codes (school type, township kind, yes/no, coordinate system...) get drop-down lists.
The vocabulary (school types, grades, levels, ages) comes from :mod:`schoolsystem.vocabulary`.

Sheets are *tiered*: the required ones hold what every bureau has (roster, township totals by
age group, villages with totals, county series); the optional ones (``村儿童年龄``,
``村育龄妇女``, ``乡镇历年人口``, ``年龄结构``) hold detail that, when absent, is derived
(:mod:`layout.ingest.derive`).

Examples
--------
>>> SHEETS["schools"].title
'学校'
>>> [f.ident for f in SHEETS["births"].fields]
['county_code', 'year', 'births']

"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from schoolsystem.vocabulary import (
    CHILD_AGES,
    GRADES,
    SCHOOL_TYPE_LABELS_ZH,
    SCHOOL_TYPES,
    WOMEN_AGES,
)

FieldKind = Literal["id", "str", "int", "float", "bool", "year", "choice"]

HEADER_ROW = 1
"""Excel row of the Chinese header."""
IDENT_ROW = 2
"""Excel row of the column identifiers."""
FIRST_DATA_ROW = 3
"""First Excel row of data."""

YES, NO = "是", "否"
CRS_CHOICES: Final[tuple[str, ...]] = ("wgs84", "gcj02", "bd09")
"""Coordinate systems accepted for points: WGS84 (GPS), GCJ-02 (AMap/Gaode, Tencent), BD-09 (Baidu)."""

FIVE_YEAR_GROUPS: Final[tuple[str, ...]] = (
    *(f"{a}-{a + 4}" for a in range(0, 85, 5)), "85+",
)  # fmt: skip
BROAD_GROUPS: Final[tuple[str, ...]] = ("0-14", "15-59", "60+", "15-64", "65+")
AGE_GROUPS: Final[tuple[str, ...]] = (*FIVE_YEAR_GROUPS, *BROAD_GROUPS)
"""Age groups accepted in ``乡镇年龄``: census 5-year groups, or the broad groups."""


@dataclass(frozen=True)
class Field:
    """One column of an input sheet.

    Attributes
    ----------
    ident : str
        Identifier (row 2), the name the importer reads.
    header : str
        Chinese header (row 1).
    kind : {"id", "str", "int", "float", "bool", "year", "choice"}
        Value type; ``id`` is text kept verbatim (leading zeros), ``year`` a whole number
        1949-2100 (a date cell is an error), ``bool`` is 是/否.
    required : bool
        Whether every row needs a value.
    choices : tuple of str
        Allowed codes of a ``choice`` column (drop-down list).
    digits : int
        Exact number of digits of an ``id`` code (0 = free text).
    unique : bool
        Whether values must be unique in the sheet.

    """

    ident: str
    header: str
    kind: FieldKind = "str"
    required: bool = True
    choices: tuple[str, ...] = ()
    digits: int = 0
    unique: bool = False


@dataclass(frozen=True)
class Sheet:
    """One input sheet: Excel title, identifier, meaning, columns and example rows."""

    name: str
    title: str
    meaning: str
    fields: tuple[Field, ...]
    required: bool = True
    examples: tuple[tuple[object, ...], ...] = ()

    def field(self, ident: str) -> Field:
        """Return the field ``ident``."""
        for f in self.fields:
            if f.ident == ident:
                return f
        raise KeyError(ident)


def _code(ident: str, header: str, digits: int, unique: bool = False) -> Field:
    return Field(ident, header, "id", digits=digits, unique=unique)


def _yes_no(ident: str, header: str, required: bool = True) -> Field:
    return Field(ident, header, "bool", required=required, choices=(YES, NO))


_COORDS = (Field("lon", "经度", "float"), Field("lat", "纬度", "float"))
_OPT_COORDS = (Field("lon", "经度", "float", required=False),
               Field("lat", "纬度", "float", required=False))

_SHEETS: tuple[Sheet, ...] = (
    Sheet("region", "地区", "地区基本信息（一行）", (
        Field("name", "地区名称"),
        _code("code", "行政区划代码", 6),
        Field("base_year", "基年", "year"),
        Field("projected_crs", "投影坐标系"),
        Field("crs", "坐标系", "choice", required=False, choices=CRS_CHOICES),
        Field("provenance", "数据来源", required=False),
        _yes_no("synthetic", "合成数据", required=False),
    ), examples=(("示例市", "519900", 2023, "EPSG:4544", "gcj02", "教育事业统计2023；七普乡镇资料", NO),)),
    Sheet("counties", "区县", "区县（县级单位）；边界多边形另给（--boundaries）", (
        _code("county_code", "区县代码", 6, unique=True),
        Field("name", "名称"),
        Field("name_en", "拼音", required=False),
        Field("terrain", "地形", "choice", choices=("mountain", "hill", "urban")),
    ), examples=(("519901", "示例区", "Shili", "mountain"),)),
    Sheet("townships", "乡镇", "乡镇（街道）；驻地坐标可选，无边界时用于泰森多边形", (
        _code("township_code", "乡镇代码", 9, unique=True),
        Field("name", "名称"),
        _code("county_code", "区县代码", 6),
        Field("kind", "类别", "choice", choices=("street", "town", "township")),
        _yes_no("is_county_seat", "县城"),
        _yes_no("is_central_town", "中心镇"),
        _yes_no("urban", "城镇"),
        Field("elderly_share", "65岁及以上占比", "float", required=False),
        Field("seat_lon", "驻地经度", "float", required=False),
        Field("seat_lat", "驻地纬度", "float", required=False),
    ), examples=(("519901001", "示例街道", "519901", "street", YES, NO, YES, 0.15, 105.8, 32.4),)),
    Sheet("township_ages", "乡镇年龄", "七普乡镇分年龄人口：5岁组（0-4…85+）或大年龄组（0-14、15-59、60+）", (
        _code("township_code", "乡镇代码", 9),
        Field("age_group", "年龄组", "choice", choices=AGE_GROUPS),
        Field("persons", "人数(合计)", "int"),
        Field("female", "其中女性", "int", required=False),
    ), examples=(("519901001", "0-4", 1200, 580), ("519901001", "5-9", 1500, 720))),
    Sheet("villages", "村", "村（社区）与常住人口；坐标可选（缺失时用乡镇驻地）", (
        _code("village_id", "村代码", 12, unique=True),
        Field("name", "名称"),
        _code("township_code", "乡镇代码", 9),
        _yes_no("urban", "社区(城镇)"),
        Field("population", "常住人口", "int"),
        *_OPT_COORDS,
    ), examples=(("519901001001", "示例社区", "519901001", YES, 5200, 105.81, 32.45),)),
    Sheet("village_children", "村儿童年龄", "可选：村分单岁儿童（0-17岁）；缺失时由乡镇年龄结构推算",
          (_code("village_id", "村代码", 12, unique=True),
           *(Field(f"age_{a}", f"{a}岁", "int") for a in CHILD_AGES)), required=False),
    Sheet("village_women", "村育龄妇女", "可选：村分单岁育龄妇女（15-49岁）；缺失时由乡镇女性年龄组推算",
          (_code("village_id", "村代码", 12, unique=True),
           *(Field(f"age_{a}", f"{a}岁", "int") for a in WOMEN_AGES)), required=False),
    Sheet("schools", "学校", "学校名册（教育事业统计）", (
        _code("school_id", "学校代码", 10, unique=True),
        Field("name", "学校名称"),
        Field("address", "地址", required=False),
        _code("township_code", "乡镇代码", 9),
        *_COORDS,
        Field("school_type", "办学类型", "choice", choices=SCHOOL_TYPES),
        Field("ownership", "举办者", "choice", choices=("public", "private")),
        Field("capacity", "学位数", "int"),
        Field("boarding_beds", "床位数", "int"),
        Field("classrooms", "普通教室", "int"),
        Field("teachers", "专任教师", "int"),
        Field("classes", "班级数", "int", required=False),
        Field("programme_groups", "专业大类(中职)", required=False),
    ), examples=(("5199010001", "示例小学", "示例街道1号", "519901001", 105.81, 32.45, "primary",
                  "public", 900, 0, 18, 45, 18, ""),)),
    Sheet("enrollment", "在校生", "分年级在校生（每校每年一行）；空格 = 0", (
        _code("school_id", "学校代码", 10),
        Field("year", "学年(秋季)", "year"),
        *(Field(g, f"{g}年级" if g.startswith("G") else g, "int", required=False) for g in GRADES),
    ), examples=(("5199010001", 2023, *([None] * 3), 150, 148, 152, 149, 151, 147,
                  *([None] * 9)),)),
    Sheet("candidate_sites", "候选校址", "可新建学校的用地（可为空）", (
        Field("site_id", "校址代码", "id", unique=True),
        Field("name", "名称"),
        _code("township_code", "乡镇代码", 9),
        *_COORDS,
        Field("levels", "可建学段(;分隔)"),
        Field("max_capacity", "最大学位", "int"),
    ), required=False, examples=(("S519901001", "示例规划教育用地", "519901001", 105.82, 32.46,
                                  "primary", 1350),)),
    Sheet("births", "出生", "区县分年出生人数（卫健委/统计年鉴）", (
        _code("county_code", "区县代码", 6), Field("year", "年份", "year"),
        Field("births", "出生人数", "int"),
    ), examples=(("519901", 2023, 1850),)),
    Sheet("urbanisation", "人口城镇化", "区县分年常住人口与城镇化率（统计年鉴）", (
        _code("county_code", "区县代码", 6), Field("year", "年份", "year"),
        Field("population", "常住人口", "int"), Field("urban_share", "城镇化率(0-1)", "float"),
    ), examples=(("519901", 2023, 520000, 0.62),)),
    Sheet("township_history", "乡镇历年人口", "可选：乡镇分年常住人口；缺失时按区县人口变化推算", (
        _code("township_code", "乡镇代码", 9), Field("year", "年份", "year"),
        Field("population", "人口", "int"),
    ), required=False, examples=(("519901001", 2020, 51000),)),
    Sheet("age_structure", "年龄结构", "可选：全县或全省单岁年龄结构（只有大年龄组时用于拆分）", (
        Field("age", "年龄", "int"), Field("persons", "人数", "int"),
        Field("female", "其中女性", "int", required=False),
    ), required=False),
)

SHEETS: Final = MappingProxyType({s.name: s for s in _SHEETS})
"""Sheet identifier -> :class:`Sheet`, in workbook order."""

SHEET_BY_TITLE: Final = MappingProxyType({s.title: s for s in _SHEETS})
"""Excel sheet title -> :class:`Sheet`."""

README_TITLE = "说明"
"""Title of the instructions sheet."""

SCHOOL_TYPE_NOTE: Final[str] = "；".join(f"{t} {SCHOOL_TYPE_LABELS_ZH[t]}" for t in SCHOOL_TYPES)
"""School type codes with their Chinese labels (for the 说明 sheet)."""
