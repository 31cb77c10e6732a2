"""The school system's vocabulary: levels, grades, grade bands, ages, school types, actions.

Everything the forecast, the layout model, the region contract and the outputs call a level, a
grade, a grade band, an age range, a school type or an action is defined here, once, with its
Chinese label for planners. This module imports nothing but the standard library.

========================  =====  ==========  ==============  ===========================
grade band                ages   grades      level           participation default
========================  =====  ==========  ==============  ===========================
kindergarten 幼儿园        3-5    K1-K3       kindergarten    gross enrolment rate 0.90
primary_lower 小学低段      6-8    G1-G3       primary         1 (compulsory)
primary_upper 小学高段      9-11   G4-G6       primary         1 (compulsory)
junior 初中                12-14  G7-G9       junior          1 (compulsory)
senior 普通高中             15-17  G10-G12     senior          senior stage 0.92 x (1 - 0.40)
vocational 中职            15-17  V1-V3       vocational      senior stage 0.92 x 0.40
========================  =====  ==========  ==============  ===========================

Examples
--------
>>> BAND_LEVEL["primary_upper"]
'primary'
>>> GRADE_BAND["G7"], GRADE_AGE["G7"]
('junior', 12)
>>> sorted(SCHOOL_TYPE_LEVELS["nine_year"])
['junior', 'primary']
>>> PREVIOUS_GRADE["V1"]
'G9'

"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# --------------------------------------------------------------------------- levels
LEVELS: Final[tuple[str, ...]] = ("kindergarten", "primary", "junior", "senior", "vocational")
"""School levels (学段), in school order."""

LEVEL_LABELS_ZH: Final = MappingProxyType({
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初中",
    "senior": "高中",
    "vocational": "中职",
})
"""Level -> Chinese label."""


# --------------------------------------------------------------------------- grade bands
@dataclass(frozen=True)
class GradeBand:
    """One grade band: the demand rows of the layout model and of the forecast.

    Attributes
    ----------
    name : str
        Identifier (``primary_lower``).
    level : str
        School level of the band (one of :data:`LEVELS`).
    first_age, last_age : int
        Ages (completed years) of the band's pupils at the usual progression.
    grades : tuple of str
        Grade codes of the band, in order.
    label_zh : str
        Chinese label.
    boards : bool
        Whether pupils of this band may board under the national rules (grades 1-3 and
        kindergarten children do not board: State Council 2012 and 2018).

    """

    name: str
    level: str
    first_age: int
    last_age: int
    grades: tuple[str, ...]
    label_zh: str
    boards: bool

    @property
    def ages(self) -> range:
        """The band's ages, ``first_age`` to ``last_age`` inclusive."""
        return range(self.first_age, self.last_age + 1)


_BANDS: tuple[GradeBand, ...] = (
    GradeBand("kindergarten", "kindergarten", 3, 5, ("K1", "K2", "K3"), "幼儿园", False),
    GradeBand("primary_lower", "primary", 6, 8, ("G1", "G2", "G3"), "小学低段(1-3年级)", False),
    GradeBand("primary_upper", "primary", 9, 11, ("G4", "G5", "G6"), "小学高段(4-6年级)", True),
    GradeBand("junior", "junior", 12, 14, ("G7", "G8", "G9"), "初中", True),
    GradeBand("senior", "senior", 15, 17, ("G10", "G11", "G12"), "普通高中", True),
    GradeBand("vocational", "vocational", 15, 17, ("V1", "V2", "V3"), "中职", True),
)

BANDS: Final = MappingProxyType({b.name: b for b in _BANDS})
"""Grade band name -> :class:`GradeBand`."""

GRADE_BANDS: Final[tuple[str, ...]] = tuple(b.name for b in _BANDS)
"""Grade band names, in school order."""

BAND_LEVEL: Final = MappingProxyType({b.name: b.level for b in _BANDS})
"""Grade band -> school level."""

BAND_LABELS_ZH: Final = MappingProxyType({b.name: b.label_zh for b in _BANDS})
"""Grade band -> Chinese label."""

SENIOR_STAGE_BANDS: Final[frozenset[str]] = frozenset({"senior", "vocational"})
"""The two bands that share ages 15-17 (the senior stage, split general / vocational)."""

BAND_AGE_GROUP: Final = MappingProxyType(
    {b.name: ("senior_stage" if b.name in SENIOR_STAGE_BANDS else b.name) for b in _BANDS}
)
"""Grade band -> the age group holding its ages (senior and vocational share ``senior_stage``)."""

BAND_AGE_GROUPS: Final = MappingProxyType(
    {BAND_AGE_GROUP[b.name]: (b.first_age, b.last_age) for b in _BANDS}
)
"""Age group of the grade bands -> (first age, last age)."""


# --------------------------------------------------------------------------- grades
GRADES: Final[tuple[str, ...]] = tuple(g for b in _BANDS for g in b.grades)
"""Grade codes in school order: K1-K3, G1-G12, V1-V3."""

GRADE_BAND: Final = MappingProxyType({g: b.name for b in _BANDS for g in b.grades})
"""Grade -> grade band."""

GRADE_LEVEL: Final = MappingProxyType({g: b.level for b in _BANDS for g in b.grades})
"""Grade -> school level."""

GRADE_AGE: Final = MappingProxyType(
    {g: b.first_age + i for b in _BANDS for i, g in enumerate(b.grades)}
)
"""Grade -> typical age (completed years) of its pupils."""

LOWER_GRADES: Final[frozenset[str]] = frozenset(BANDS["primary_lower"].grades)
"""Grades 1-3: day school nearby, journey generally at most 30 minutes (State Council 2018)."""

_PREVIOUS = {
    **{g: prev for b in _BANDS for prev, g in zip(b.grades, b.grades[1:], strict=False)},
    "G4": "G3", "G7": "G6", "G10": "G9", "V1": "G9",
}
PREVIOUS_GRADE: Final = MappingProxyType({g: _PREVIOUS[g] for g in GRADES if g in _PREVIOUS})
"""Grade -> the grade its pupils come from a year earlier (entry grades K1 and G1 have none)."""

LEVEL_ENTRY_GRADES: Final[frozenset[str]] = frozenset({"G7", "G10", "V1"})
"""Grades whose pupils usually change school on entry (junior, senior, vocational)."""

ENTRY_GRADE_AGE: Final = MappingProxyType({"K1": GRADE_AGE["K1"], "G1": GRADE_AGE["G1"]})
"""Entry grades with no previous grade -> the age at which they are entered."""


# --------------------------------------------------------------------------- ages
CHILD_AGES: Final = range(18)
"""Ages of the child population projected and held in the region data (0-17)."""

WOMEN_AGES: Final = range(15, 50)
"""Child-bearing ages of women (15-49) used for births."""

AGE_GROUPS: Final = MappingProxyType({
    "infant": (0, 2),
    "kindergarten": (3, 5),
    "primary": (6, 11),
    "junior": (12, 14),
    "senior": (15, 17),
})
"""Broad child age groups of the population tables (per level)."""


# --------------------------------------------------------------------------- school types
SCHOOL_TYPE_LEVELS: Final = MappingProxyType({
    "kindergarten": frozenset({"kindergarten"}),
    "primary": frozenset({"primary"}),
    "village_primary": frozenset({"primary"}),
    "teaching_point": frozenset({"primary"}),
    "nine_year": frozenset({"primary", "junior"}),
    "junior": frozenset({"junior"}),
    "complete_secondary": frozenset({"junior", "senior"}),
    "senior": frozenset({"senior"}),
    "vocational": frozenset({"vocational"}),
})
"""School type -> the exact set of levels it hosts."""

SCHOOL_TYPES: Final[tuple[str, ...]] = tuple(SCHOOL_TYPE_LEVELS)
"""School types, in school order."""

SCHOOL_TYPE_LABELS_ZH: Final = MappingProxyType({
    "kindergarten": "幼儿园",
    "primary": "小学",
    "village_primary": "村小",
    "teaching_point": "教学点",
    "nine_year": "九年一贯制学校",
    "junior": "初级中学",
    "complete_secondary": "完全中学",
    "senior": "高级中学",
    "vocational": "中等职业学校",
    "new": "新建学校",
})
"""School type -> Chinese label (``new`` is the type of a planned new site)."""

SCHOOL_TYPE_GRADE_LIMITS: Final = MappingProxyType({
    "teaching_point": frozenset({"G1", "G2", "G3", "G4"}),
})
"""School types that host only a subset of their levels' grades."""

VILLAGE_SCHOOL_TYPES: Final[frozenset[str]] = frozenset({"village_primary", "teaching_point"})
"""Small rural primary schools below the township level (村小, 教学点)."""

PRIMARY_HOST_TYPES: Final[frozenset[str]] = frozenset({"primary", "nine_year", "new"})
"""Types whose primary section may receive the pupils of closed schools (township hosts)."""


def levels_of(school_type: str) -> frozenset[str]:
    """Levels hosted by a school type.

    Examples
    --------
    >>> sorted(levels_of("complete_secondary"))
    ['junior', 'senior']

    """
    try:
        return SCHOOL_TYPE_LEVELS[school_type]
    except KeyError:
        raise KeyError(
            f"unknown school type {school_type!r} (one of {', '.join(SCHOOL_TYPES)})"
        ) from None


def level_grades(level: str) -> tuple[str, ...]:
    """Grades of a level, in order.

    Examples
    --------
    >>> level_grades("junior")
    ('G7', 'G8', 'G9')

    """
    return tuple(g for g in GRADES if GRADE_LEVEL[g] == level)


SITE_CLASSES: Final[tuple[str, ...]] = ("county_seat", "central_town", "township_seat", "village")
"""Where a school stands in the settlement hierarchy of the layout principle."""

SITE_CLASS_LABELS_ZH: Final = MappingProxyType({
    "county_seat": "县城",
    "central_town": "中心镇",
    "township_seat": "乡镇驻地",
    "village": "村",
})
"""Site class -> Chinese label."""


# --------------------------------------------------------------------------- actions
ACTIONS: Final[tuple[str, ...]] = ("keep", "expand", "close", "merge", "convert", "new")
"""What the plan does with each school (and level)."""

ACTION_LABELS_ZH: Final = MappingProxyType({
    "keep": "保留",
    "expand": "扩建",
    "close": "撤并(关闭)",
    "merge": "合并",
    "convert": "转型",
    "new": "新建",
})
"""Action -> Chinese label."""

PROJECT_KINDS: Final = MappingProxyType({"new": "新建", "expansion": "改扩建"})
"""Kind of a construction project -> Chinese label."""


# --------------------------------------------------------------------------- participation
@dataclass(frozen=True)
class Participation:
    """Default participation rates by level (planning assumptions, not measured figures).

    The forecast calibrates the real rates per county on base-year enrollment; these defaults
    apply only where no enrollment exists to calibrate on.

    Attributes
    ----------
    kindergarten : float
        Gross enrolment rate of ages 3-5 (national target for 2025: 90 %).
    primary, junior : float
        Participation of ages 6-11 and 12-14 (compulsory: 1).
    senior_stage : float
        Participation of ages 15-17 in general senior high plus secondary vocational school
        (gross enrolment rate of the senior stage, national target for 2025: 92 %).
    vocational_share : float
        Share of the senior stage in secondary vocational school.

    """

    kindergarten: float = 0.90
    primary: float = 1.0
    junior: float = 1.0
    senior_stage: float = 0.92
    vocational_share: float = 0.40

    def band_rates(self) -> dict[str, float]:
        """Rate applied to the residents of each grade band's ages.

        Examples
        --------
        >>> round(Participation().band_rates()["vocational"], 3)
        0.368

        """
        return {
            "kindergarten": self.kindergarten,
            "primary_lower": self.primary,
            "primary_upper": self.primary,
            "junior": self.junior,
            "senior": self.senior_stage * (1.0 - self.vocational_share),
            "vocational": self.senior_stage * self.vocational_share,
        }


PARTICIPATION_DEFAULTS: Final = Participation()
"""The one set of default participation rates."""
