"""Column specifications of the region data contract (see ``data/geo/README.md``).

Each layer is described by a :class:`LayerSpec`: its name, geometry kind, file name, id column and a
tuple of :class:`Column` specs (type, bounds, allowed codes). The checks in
:mod:`layout.region.checks` are driven by these specs, so changing a bound means changing one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schoolsystem.vocabulary import CHILD_AGES, GRADE_LEVEL, SCHOOL_TYPE_LEVELS, WOMEN_AGES

ColumnKind = Literal["id", "str", "int", "float", "bool"]
GeometryKind = Literal["polygon", "point", "table"]

# The vocabulary (levels, grades, school types, ages) is defined once in schoolsystem.vocabulary.
PROGRAMME_GROUPS: frozenset[str] = frozenset(
    {
        "manufacturing",
        "it",
        "health",
        "tourism",
        "agriculture",
        "business",
        "education",
        "construction",
        "transport",
    }
)

TERRAINS = frozenset({"mountain", "hill", "urban"})
TOWNSHIP_KINDS = frozenset({"street", "town", "township"})
OWNERSHIPS = frozenset({"public", "private"})


REGION_YAML_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "code": (str, int),
    "base_year": int,
    "projected_crs": str,
    "synthetic_layers": list,
    "provenance": str,
}
"""Required ``region.yaml`` keys and their accepted Python types."""

MIN_YEAR, MAX_YEAR = 1949, 2100
MAX_CENTRAL_TOWNS = 4


@dataclass(frozen=True)
class Column:
    """Specification of one column.

    Parameters
    ----------
    name : str
        Column name.
    kind : {"id", "str", "int", "float", "bool"}
        Value type; ``id`` is a string identifier read verbatim (leading zeros kept).
    allow_empty : bool
        Whether an empty cell is allowed.
    ge, gt, le, lt : float, optional
        Bounds; ``ge``/``gt`` failures read "must be >= x", ``le``/``lt`` failures "implausibly
        large" (plausibility bounds).
    pattern : str, optional
        Full-match regular expression for ``id`` and ``str`` columns.
    choices : frozenset of str, optional
        Allowed codes.
    required : bool
        Whether the column must be present; an optional column (``False``) may be left out of
        the file altogether, and is checked like any other when it is there.

    """

    name: str
    kind: ColumnKind
    allow_empty: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    pattern: str | None = None
    choices: frozenset[str] | None = None
    required: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """Specification of one layer (file) of a region.

    Parameters
    ----------
    name : str
        Layer name (also the GeoPackage layer name).
    geometry : {"polygon", "point", "table"}
        Polygons are stored as GeoJSON, points as CSV with ``lon``/``lat``, tables as CSV.
    columns : tuple of Column
        Attribute columns (for points including ``lon`` and ``lat``).
    id_column : str, optional
        Unique id column, used as the row identifier in problems.

    """

    name: str
    geometry: GeometryKind
    columns: tuple[Column, ...]
    id_column: str | None = None

    @property
    def filename(self) -> str:
        """File name in the GeoJSON + CSV format."""
        return f"{self.name}.geojson" if self.geometry == "polygon" else f"{self.name}.csv"

    def column(self, name: str) -> Column:
        """Return the spec of column ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _year() -> Column:
    return Column("year", "int", ge=MIN_YEAR, le=MAX_YEAR)


_COUNTY = r"\d{6}"
_TOWNSHIP = r"\d{9}"
_VILLAGE = r"\d{12}"
_SCHOOL = r"\d{10}"
_LON = Column("lon", "float")
_LAT = Column("lat", "float")

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "counties",
            "polygon",
            (
                Column("county_code", "id", pattern=_COUNTY),
                Column("name", "str"),
                Column("name_en", "str", allow_empty=True),
                Column("terrain", "str", choices=TERRAINS),
                # optional: without them a county's prefecture is derived from its code
                # (layout.region.prefectures)
                Column("prefecture_code", "id", allow_empty=True, pattern=_COUNTY,
                       required=False),
                Column("prefecture_name", "str", allow_empty=True, required=False),
            ),
            id_column="county_code",
        ),
        LayerSpec(
            "city",
            "polygon",
            (Column("code", "id", pattern=_COUNTY), Column("name", "str")),
            id_column="code",
        ),
        LayerSpec(
            "townships",
            "polygon",
            (
                Column("township_code", "id", pattern=_TOWNSHIP),
                Column("name", "str"),
                Column("county_code", "id"),
                Column("kind", "str", choices=TOWNSHIP_KINDS),
                Column("is_county_seat", "bool"),
                Column("is_central_town", "bool"),
                Column("urban", "bool"),
                Column("elderly_share", "float", ge=0, le=1),
            ),
            id_column="township_code",
        ),
        LayerSpec(
            "villages",
            "point",
            (
                Column("village_id", "id", pattern=_VILLAGE),
                Column("name", "str"),
                Column("township_code", "id"),
                _LON,
                _LAT,
                Column("urban", "bool"),
                Column("population", "int", ge=0, lt=1_000_000),
            ),
            id_column="village_id",
        ),
        LayerSpec(
            "children",
            "table",
            (
                Column("village_id", "id"),
                Column("age", "int", ge=CHILD_AGES.start, le=CHILD_AGES.stop - 1),
                Column("persons", "int", ge=0, lt=50_000),
            ),
        ),
        LayerSpec(
            "women",
            "table",
            (
                Column("village_id", "id"),
                Column("age", "int", ge=WOMEN_AGES.start, le=WOMEN_AGES.stop - 1),
                Column("persons", "int", ge=0, lt=50_000),
            ),
        ),
        LayerSpec(
            "schools",
            "point",
            (
                Column("school_id", "id", pattern=_SCHOOL),
                Column("name", "str"),
                Column("township_code", "id"),
                _LON,
                _LAT,
                Column("school_type", "str", choices=frozenset(SCHOOL_TYPE_LEVELS)),
                Column("levels", "str"),
                Column("ownership", "str", choices=OWNERSHIPS),
                Column("capacity", "int", gt=0, lt=20_000),
                Column("boarding_beds", "int", ge=0, lt=20_000),
                Column("classrooms", "int", ge=0, lt=500),
                Column("teachers", "int", ge=0, lt=3_000),
                Column("programme_groups", "str", allow_empty=True),
            ),
            id_column="school_id",
        ),
        LayerSpec(
            "enrollment",
            "table",
            (
                Column("school_id", "id"),
                _year(),
                Column("grade", "str", choices=frozenset(GRADE_LEVEL)),
                Column("students", "int", ge=0, lt=5_000),
            ),
        ),
        LayerSpec(
            "candidate_sites",
            "point",
            (
                Column("site_id", "id"),
                Column("name", "str"),
                Column("township_code", "id"),
                _LON,
                _LAT,
                Column("levels", "str"),
                Column("max_capacity", "int", gt=0, lt=20_000),
            ),
            id_column="site_id",
        ),
        LayerSpec(
            "births",
            "table",
            (Column("county_code", "id"), _year(), Column("births", "int", ge=0, lt=200_000)),
        ),
        LayerSpec(
            "urbanisation",
            "table",
            (
                Column("county_code", "id"),
                _year(),
                Column("population", "int", ge=0, lt=50_000_000),
                Column("urban_share", "float", ge=0, le=1),
            ),
        ),
        LayerSpec(
            "township_history",
            "table",
            (
                Column("township_code", "id"),
                _year(),
                Column("population", "int", ge=0, lt=5_000_000),
            ),
        ),
    )
}
"""All layers of a region, by name."""

REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("townships", "county_code", "counties", "county_code"),
    ("villages", "township_code", "townships", "township_code"),
    ("schools", "township_code", "townships", "township_code"),
    ("candidate_sites", "township_code", "townships", "township_code"),
    ("enrollment", "school_id", "schools", "school_id"),
    ("children", "village_id", "villages", "village_id"),
    ("women", "village_id", "villages", "village_id"),
    ("births", "county_code", "counties", "county_code"),
    ("urbanisation", "county_code", "counties", "county_code"),
    ("township_history", "township_code", "townships", "township_code"),
)
"""Foreign keys: (layer, column, parent layer, parent column)."""

UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "children": ("village_id", "age"),
    "women": ("village_id", "age"),
    "enrollment": ("school_id", "year", "grade"),
    "births": ("county_code", "year"),
    "urbanisation": ("county_code", "year"),
    "township_history": ("township_code", "year"),
}
"""Tables without an id column whose rows are unique on these columns."""
