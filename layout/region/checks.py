"""Cross-layer validation of a region: references, codes, consistency, age ranges, metadata.

:func:`validate` runs every check on the parsed layers and returns the complete, sorted problem
list; :func:`raise_if_problems` turns it into one :class:`layout.errors.RegionDataError` whose
message lists the first :data:`MAX_LISTED` problems (``problems`` stays complete), root causes
first: problems of a file itself, then each file's own bad rows, then the follow-on problems found
by comparing layers (one damaged ``villages.csv`` row can make thousands of ``children.csv``
references fail). The message always ends with a count of the problems by file and kind.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyproj
from shapely.geometry.base import BaseGeometry

from layout.errors import Problem, RegionDataError
from layout.region import spatial
from layout.region.parse import FILE_LEVEL, FOLLOW_ON, OWN_ROWS, ParsedLayer, ProblemList
from layout.region.readers import YAML_NAME
from layout.region.readiness import check_readiness
from layout.region.schema import (
    LAYERS,
    MAX_CENTRAL_TOWNS,
    PROGRAMME_GROUPS,
    REFERENCES,
    REGION_YAML_KEYS,
    UNIQUE_KEYS,
)
from schoolsystem.vocabulary import (
    CHILD_AGES,
    LEVELS,
    SCHOOL_TYPE_GRADE_LIMITS,
    WOMEN_AGES,
)
from schoolsystem.vocabulary import GRADE_LEVEL as GRADES
from schoolsystem.vocabulary import SCHOOL_TYPE_LEVELS as SCHOOL_TYPES

MAX_LISTED = 200
"""Problems listed in the error message; the rest are summarised as "... and N more"."""


def split_levels(levels: pd.Series) -> pd.Series:
    """Explode a ``;``-joined level column to one stripped code per row (index repeated)."""
    parts = levels.fillna("").astype(str).str.split(";").explode().str.strip()
    return parts[parts != ""]


def check_meta(meta: dict[str, Any] | None, out: ProblemList) -> None:
    """Check ``region.yaml``: required keys, types, a parseable projected CRS, known layer names."""
    if meta is None:
        return
    for key, kind in REGION_YAML_KEYS.items():
        if key not in meta or meta[key] is None:
            out.append(Problem(YAML_NAME, "", key, "", "required key is missing"))
        elif not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            out.append(
                Problem(
                    YAML_NAME, "", key, str(meta[key]), f"wrong type {type(meta[key]).__name__}"
                )
            )
    code = meta.get("code")
    if code is not None and not re.fullmatch(r"\d{6}", str(code)):
        out.append(
            Problem(YAML_NAME, "", "code", str(code), "must be a 6-digit administrative code")
        )
    year = meta.get("base_year")
    if isinstance(year, int) and not 1990 <= year <= 2100:
        out.append(Problem(YAML_NAME, "", "base_year", str(year), "implausible base year"))
    crs = meta.get("projected_crs")
    if isinstance(crs, str):
        try:
            parsed = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError:
            out.append(Problem(YAML_NAME, "", "projected_crs", crs, "unknown CRS"))
        else:
            if not parsed.is_projected:
                out.append(
                    Problem(YAML_NAME, "", "projected_crs", crs, "must be a projected CRS (metres)")
                )
    synthetic = meta.get("synthetic_layers")
    if isinstance(synthetic, list):
        for name in synthetic:
            if str(name) not in LAYERS:
                out.append(
                    Problem(YAML_NAME, "", "synthetic_layers", str(name), "unknown layer name")
                )


def check_city(city: ParsedLayer | None, meta: dict[str, Any] | None, out: ProblemList) -> None:
    """The city layer holds exactly one outline whose code matches ``region.yaml``."""
    if city is None:
        return
    if len(city.frame) != 1:
        out.append(
            Problem(
                city.file,
                "",
                "",
                str(len(city.frame)),
                "must contain exactly one feature (the region outline)",
            )
        )
    code = meta.get("code") if isinstance(meta, dict) else None
    if code is not None and city.has("code"):
        bad = (city.frame["code"] != "") & (city.frame["code"] != str(code))
        out.add_rows(
            city,
            bad.to_numpy(),
            "code",
            city.frame["code"],
            f"differs from region.yaml code {code}",
        )


def check_references(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Every foreign key must exist in its parent layer."""
    for name, column, parent, parent_column in REFERENCES:
        child, dad = layers.get(name), layers.get(parent)
        if child is None or dad is None or not child.has(column) or not dad.has(parent_column):
            continue
        values = child.frame[column]
        bad = (values != "") & ~values.isin(dad.frame[parent_column])
        out.add_rows(child, bad.to_numpy(), column, values, f"unknown {column}: not in {dad.file}")


def check_unique_keys(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Tables must not repeat their natural key (e.g. (village_id, age))."""
    for name, key in UNIQUE_KEYS.items():
        layer = layers.get(name)
        if layer is None or not layer.has(*key):
            continue
        frame = layer.frame[list(key)]
        dup = frame.duplicated(keep=False)
        if not dup.any():
            continue
        dup &= frame.notna().all(axis=1) & (frame.astype(str) != "").all(axis=1)
        if dup.any():
            text = frame.astype(str)
            for col in key:
                if pd.api.types.is_float_dtype(frame[col]):
                    text[col] = frame[col].map(lambda v: f"{v:g}")
            values = text.agg(", ".join, axis=1)
            out.add_rows(
                layer, dup.to_numpy(), ", ".join(key), values, f"duplicate ({', '.join(key)}) row"
            )


def check_school_codes(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Known level codes, levels consistent with school_type, programme groups."""
    schools = layers.get("schools")
    if schools is not None and schools.has("levels"):
        _check_level_codes(schools, out)
        if schools.has("school_type"):
            parts = split_levels(schools.frame["levels"])
            known = parts[parts.isin(LEVELS)]
            canon = known.groupby(level=0).agg(lambda s: ";".join(sorted(set(s))))
            canon = canon.reindex(schools.frame.index).fillna("")
            expected = schools.frame["school_type"].map(
                {t: ";".join(sorted(lv)) for t, lv in SCHOOL_TYPES.items()}
            )
            all_known = ~schools.frame.index.isin(parts[~parts.isin(LEVELS)].index)
            bad = expected.notna() & all_known & (canon != expected)
            message = (
                "levels do not match school_type "
                + schools.frame["school_type"]
                + " (expected "
                + expected.fillna("")
                + ")"
            )
            out.add_rows(schools, bad.to_numpy(), "levels", schools.frame["levels"], message)
    if schools is not None and schools.has("programme_groups"):
        groups = split_levels(schools.frame["programme_groups"])
        unknown = groups[~groups.isin(PROGRAMME_GROUPS)]
        bad = schools.frame.index.isin(unknown.index)
        out.add_rows(
            schools,
            bad,
            "programme_groups",
            schools.frame["programme_groups"],
            "unknown programme group code (expected one of: "
            + ", ".join(sorted(PROGRAMME_GROUPS))
            + ")",
        )
        if schools.has("school_type"):
            extra = (schools.frame["school_type"] != "vocational") & (
                schools.frame["programme_groups"] != ""
            )
            out.add_rows(
                schools,
                extra.to_numpy(),
                "programme_groups",
                schools.frame["programme_groups"],
                "programme groups are for vocational schools only",
            )
    sites = layers.get("candidate_sites")
    if sites is not None and sites.has("levels"):
        _check_level_codes(sites, out)


def _check_level_codes(layer: ParsedLayer, out: ProblemList) -> None:
    parts = split_levels(layer.frame["levels"])
    unknown = parts[~parts.isin(LEVELS)]
    if unknown.empty:
        return
    first = unknown.groupby(level=0).first().reindex(layer.frame.index)
    message = "unknown level code '" + first.fillna("") + "' (expected: " + ", ".join(LEVELS) + ")"
    out.add_rows(layer, first.notna().to_numpy(), "levels", layer.frame["levels"], message)


def check_enrollment_grades(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Each enrollment grade must belong to a level the school hosts (and fit its school_type)."""
    schools, enr = layers.get("schools"), layers.get("enrollment")
    if (
        schools is None
        or enr is None
        or not schools.has("school_id", "levels")
        or not enr.has("school_id", "grade")
    ):
        return
    parts = split_levels(schools.frame["levels"])
    hosted = set(
        schools.frame["school_id"].reindex(parts.index).to_numpy(dtype=object)
        + "|"
        + parts.to_numpy(dtype=object)
    )
    level = enr.frame["grade"].map(GRADES)
    ids = enr.frame["school_id"]
    known = level.notna() & ids.isin(schools.frame["school_id"])
    key = ids + "|" + level.fillna("")
    bad = known & ~key.isin(hosted)
    message = (
        "grade "
        + enr.frame["grade"]
        + " ("
        + level.fillna("")
        + ") is not a level this school hosts"
    )
    out.add_rows(enr, bad.to_numpy(), "grade", enr.frame["grade"], message)
    if schools.has("school_type"):
        stype = ids.map(
            schools.frame.drop_duplicates("school_id").set_index("school_id")["school_type"]
        )
        for school_type, grades in SCHOOL_TYPE_GRADE_LIMITS.items():
            over = known & ~bad & (stype == school_type) & ~enr.frame["grade"].isin(grades)
            out.add_rows(
                enr,
                over.to_numpy(),
                "grade",
                enr.frame["grade"],
                f"a {school_type} teaches at most grades {', '.join(sorted(grades))}",
            )


def _ranges(ages: list[int]) -> str:
    """Compress ``[3, 4, 5, 9]`` to ``"3-5, 9"``."""
    out: list[str] = []
    start = prev = ages[0]
    for a in [*ages[1:], None]:
        if a is not None and a == prev + 1:
            prev = a
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if a is not None:
            start = prev = a
    return ", ".join(out)


def check_age_gaps(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Every village must have one row per age (0-17 in children, 15-49 in women)."""
    villages = layers.get("villages")
    if villages is None or not villages.has("village_id"):
        return
    ids = pd.unique(villages.frame["village_id"][villages.frame["village_id"] != ""])
    for name, ages in (("children", CHILD_AGES), ("women", WOMEN_AGES)):
        layer = layers.get(name)
        if layer is None or not layer.has("village_id", "age"):
            continue
        present = pd.MultiIndex.from_arrays(
            [layer.frame["village_id"].to_numpy(dtype=object), layer.frame["age"].to_numpy()]
        )
        full = pd.MultiIndex.from_product([ids, np.arange(ages.start, ages.stop, dtype=float)])
        missing = full[~full.isin(present)]
        if len(missing) == 0:
            continue
        gaps = pd.Series(missing.get_level_values(1).astype(int), index=missing.get_level_values(0))
        grouped = gaps.groupby(level=0, sort=True).agg(lambda s: _ranges(sorted(s)))
        for village, text in grouped.items():
            out.append(
                Problem(
                    layer.file,
                    str(village),
                    "age",
                    text,
                    f"village has no row for these ages (every village needs ages "
                    f"{ages.start}-{ages.stop - 1})",
                )
            )


def check_townships(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """At least one county-seat township per county and at most four central towns."""
    towns, counties = layers.get("townships"), layers.get("counties")
    if towns is None or counties is None or not counties.has("county_code"):
        return
    if not towns.has("county_code", "is_county_seat", "is_central_town"):
        return
    frame = towns.frame
    seats = frame["is_county_seat"].fillna(False).astype(bool).groupby(frame["county_code"]).sum()
    central = (
        frame["is_central_town"].fillna(False).astype(bool).groupby(frame["county_code"]).sum()
    )
    for code in counties.frame["county_code"]:
        if code and seats.get(code, 0) < 1:
            out.append(
                Problem(
                    towns.file, code, "is_county_seat", "0", "county has no county-seat township"
                )
            )
        if code and central.get(code, 0) > MAX_CENTRAL_TOWNS:
            out.append(
                Problem(
                    towns.file,
                    code,
                    "is_central_town",
                    str(central[code]),
                    f"more than {MAX_CENTRAL_TOWNS} central towns in this county",
                )
            )


def check_years(layers: dict[str, ParsedLayer], base_year: int | None, out: ProblemList) -> None:
    """History tables must not run past the base year."""
    if base_year is None:
        return
    for name in ("enrollment", "births", "urbanisation", "township_history"):
        layer = layers.get(name)
        if layer is not None and layer.has("year"):
            late = (layer.frame["year"] > base_year).to_numpy()
            out.add_rows(
                layer,
                late,
                "year",
                layer.frame["year"].map(lambda v: f"{v:g}"),
                f"year after the base year {base_year}",
            )


def township_county(layers: dict[str, ParsedLayer], child: ParsedLayer) -> pd.Series:
    """Declared county of each row of a point layer, via its township (missing if unknown)."""
    towns = layers.get("townships")
    if (
        towns is None
        or not towns.has("township_code", "county_code")
        or not child.has("township_code")
    ):
        return pd.Series(pd.NA, index=child.frame.index, dtype=object)
    lookup = towns.frame.drop_duplicates("township_code").set_index("township_code")["county_code"]
    return child.frame["township_code"].map(lookup)


def validate(layers: dict[str, ParsedLayer], meta: dict[str, Any] | None, out: ProblemList) -> None:
    """Run every cross-layer check, appending to ``out``.

    Checks of a layer's own rows come first; the checks comparing layers (references, age rows,
    points inside their county, readiness for the forecast) are tagged as follow-on problems.
    """
    check_meta(meta, out)
    for name in ("counties", "city", "townships"):
        if name in layers:
            spatial.check_polygons(layers[name], out)
    check_city(layers.get("city"), meta, out)
    check_unique_keys(layers, out)
    check_school_codes(layers, out)
    base_year = meta.get("base_year") if isinstance(meta, dict) else None
    check_years(layers, base_year if isinstance(base_year, int) else None, out)
    out.stage = FOLLOW_ON
    region: BaseGeometry | None = None
    per_county: dict[str, BaseGeometry] = {}
    if "counties" in layers:
        region, per_county = spatial.county_areas(layers["counties"])
    if "townships" in layers:
        spatial.check_townships_in_counties(layers["townships"], per_county, out)
    for name in ("villages", "schools", "candidate_sites"):
        if name in layers:
            spatial.check_points(
                layers[name], township_county(layers, layers[name]), region, per_county, out
            )
    check_references(layers, out)
    check_enrollment_grades(layers, out)
    check_age_gaps(layers, out)
    check_townships(layers, out)
    check_readiness(layers, meta, out)


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


STAGE_LABELS = {FILE_LEVEL: "file", OWN_ROWS: "rows", FOLLOW_ON: "follow-on"}
"""How :func:`problem_summary` labels the stages of :mod:`layout.region.parse`."""


def problem_stages(problems: list[Problem]) -> list[int]:
    """Stage of each problem: file-level, own row, or follow-on (see :class:`ProblemList`).

    A plain list (no recorded stages) counts as own rows; a problem about a whole file or column
    (empty row) of a file's own checks is file-level.
    """
    stages = getattr(problems, "stages", None) or [OWN_ROWS] * len(problems)
    return [
        FILE_LEVEL if stage == FILE_LEVEL or (stage == OWN_ROWS and not p.row) else stage
        for p, stage in zip(problems, stages, strict=True)
    ]


def sort_problems(problems: list[Problem], stages: list[int] | None = None) -> list[Problem]:
    """Sort root causes first: by stage, then file (parents first), then row (natural order).

    Stable within a row. ``stages`` defaults to :func:`problem_stages`.
    """
    stages = problem_stages(problems) if stages is None else stages
    return [problems[i] for i in _order(problems, stages)]


def file_rank(file: str) -> int:
    """Position of a file in :data:`LAYERS` order (parents before the tables that refer to them).

    ``region.yaml`` comes first, GeoPackage layers (``region.gpkg:villages``) rank as their layer,
    unknown names last.
    """
    if file == YAML_NAME:
        return -1
    stem = file.split(":", 1)[-1].rsplit(".", 1)[0] if ":" in file else file.rsplit(".", 1)[0]
    names = list(LAYERS)
    return names.index(stem) if stem in names else len(names)


def _order(problems: list[Problem], stages: list[int]) -> list[int]:
    """Positions of ``problems`` sorted by stage, file (layer order) and natural row (stable)."""
    return sorted(
        range(len(problems)),
        key=lambda i: (stages[i], file_rank(problems[i].file), problems[i].file,
                       _natural(problems[i].row)),
    )


def problem_kind(message: str) -> str:
    """Kind of a problem for the summary: its message without details in brackets or quotes."""
    kind = re.sub(r"'[^']*'", "'…'", message.split(" (", 1)[0])
    return kind.strip()


def problem_summary(problems: list[Problem], stages: list[int]) -> str:
    """Count problems by stage, file and kind, root causes first.

    Returns
    -------
    str
        One line per (file, kind), e.g. ``villages.csv   1 × not a number [rows]``.

    """
    table = pd.DataFrame({
        "stage": stages,
        "file": [p.file for p in problems],
        "kind": [problem_kind(p.message) for p in problems],
    })
    table["rank"] = table["file"].map(file_rank)
    counts = table.groupby(["stage", "rank", "file", "kind"], sort=True).size()
    counts = counts.reset_index(name="n")
    width = max(len(f) for f in counts["file"])
    lines = ["Problems by file and kind (root causes first; follow-on problems often vanish "
             "once those are fixed):"]
    lines += [
        f"  {row.file:<{width}} {row.n:>6} × {row.kind} [{STAGE_LABELS[row.stage]}]"
        for row in counts.itertuples(index=False)
    ]
    return "\n".join(lines)


class RegionCheckError(RegionDataError):
    """:class:`RegionDataError` whose message ends with :func:`problem_summary`.

    ``problems`` holds every problem, root causes first; the message lists the first
    ``max_listed`` and always ends with the counts by file and kind.
    """

    def __init__(self, problems: list[Problem], stages: list[int], *, source: str = "",
                 max_listed: int = MAX_LISTED) -> None:
        super().__init__(problems, source=source, max_listed=max_listed)
        self.stages = list(stages)
        self.args = (f"{self.args[0]}\n{problem_summary(self.problems, self.stages)}",)


def raise_if_problems(problems: list[Problem], folder: str) -> None:
    """Raise one :class:`RegionDataError` listing the problems, root causes first.

    Raises
    ------
    RegionDataError
        If ``problems`` is not empty; ``error.problems`` holds all of them, sorted by
        :func:`sort_problems`; the message is capped at :data:`MAX_LISTED` problems and ends
        with :func:`problem_summary`.

    """
    if not problems:
        return
    stages = problem_stages(problems)
    order = _order(problems, stages)
    raise RegionCheckError([problems[i] for i in order], [stages[i] for i in order],
                           source=folder, max_listed=MAX_LISTED)
