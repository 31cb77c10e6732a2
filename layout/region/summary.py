"""One-screen text summary of a region, with Guangyuan's published figures beside the totals.

The reference column appears only for the Guangyuan region (code ``510800``); the figures come from
the city profile 2019 (end-2017 schools), the 7th census bulletin and the 2021 statistical
bulletin, as tabulated in ``../shared/reference/README.md`` §3 (the project's reference notes,
outside this repository) and summarised in ``data/geo/guangyuan/PROVENANCE.md``.
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from layout.region.model import Region
from schoolsystem.vocabulary import GRADE_LEVEL, LEVELS

GUANGYUAN_CODE = "510800"

LEVEL_LABELS = {
    "kindergarten": "幼儿园 kindergarten",
    "primary": "小学 primary",
    "junior": "初中 junior",
    "senior": "高中 senior",
    "vocational": "中职 vocational",
}

REFERENCE_2017: dict[str, tuple[int, int]] = {
    "kindergarten": (308, 68_600),
    "primary": (264, 154_100),
    "junior": (127, 65_800),
    "senior": (27, 51_100),
    "vocational": (12, 18_800),
}
"""Guangyuan schools and students, end of 2017, excluding village schools and teaching points."""

REFERENCE_NINE_YEAR_2017 = 67
REFERENCE_RESIDENTS_2020 = 2_305_657
REFERENCE_URBAN_SHARE_2021 = 0.4806
REFERENCE_BIRTH_RATE_2021 = 6.20
SMALL_PRIMARY_TYPES = ("village_primary", "teaching_point")


def _width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK characters count as two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns."""
    return text + " " * max(width - _width(text), 1)


def _rjust(text: str, width: int) -> str:
    """Right-align ``text`` in ``width`` terminal columns."""
    return " " * max(width - _width(text), 1) + text


def _county_table(region: Region) -> list[str]:
    names = region.counties.set_index("county_code")["name"]
    towns = region.townships.groupby("county_code").size()
    vill = region.villages.groupby("county_code").agg(
        villages=("village_id", "size"), population=("population", "sum")
    )
    urban_pop = region.villages["population"].where(region.villages["urban"], 0)
    vill["urban"] = urban_pop.groupby(region.villages["county_code"]).sum()
    lines = [
        _pad("区县 county", 18)
        + _rjust("乡镇 townships", 15)
        + _rjust("村/社区 villages", 18)
        + _rjust("常住人口 residents", 20)
        + _rjust("城镇 urban", 12)
    ]
    for code, name in names.items():
        row = (
            vill.loc[code]
            if code in vill.index
            else pd.Series({"villages": 0, "population": 0, "urban": 0})
        )
        share = row["urban"] / row["population"] if row["population"] else 0.0
        lines.append(
            _pad(code + " " + name, 18)
            + f"{int(towns.get(code, 0)):>15,}{int(row['villages']):>18,}"
            f"{int(row['population']):>20,}{share:>12.1%}"
        )
    total_pop = int(vill["population"].sum())
    total_share = vill["urban"].sum() / total_pop if total_pop else 0.0
    lines.append(
        _pad("合计 total", 18)
        + f"{len(region.townships):>15,}{len(region.villages):>18,}{total_pop:>20,}{total_share:>12.1%}"
    )
    return lines


def _school_table(region: Region) -> list[str]:
    names = region.counties.set_index("county_code")["name"]
    levels = region.school_levels.merge(
        region.schools[["school_id", "county_code"]], on="school_id"
    )
    table = pd.crosstab(levels["county_code"], levels["level"]).reindex(
        index=names.index, columns=list(LEVELS), fill_value=0
    )
    per_county = region.schools.groupby("county_code").size().reindex(names.index, fill_value=0)
    head = (
        _pad("学校 schools", 18) + "".join(f"{lv[:12]:>13}" for lv in LEVELS) + f"{'schools':>10}"
    )
    lines = [head]
    for code, name in names.items():
        lines.append(
            _pad(code + " " + name, 18)
            + "".join(f"{int(v):>13,}" for v in table.loc[code])
            + f"{int(per_county[code]):>10,}"
        )
    lines.append(
        _pad("合计 total", 18)
        + "".join(f"{int(v):>13,}" for v in table.sum())
        + f"{len(region.schools):>10,}"
    )
    types = region.schools["school_type"].value_counts()
    lines.append("school_type: " + ", ".join(f"{t} {n}" for t, n in types.items()))
    return lines


def _level_totals(region: Region, reference: bool) -> list[str]:
    year = region.base_year
    enr = region.enrollment[region.enrollment["year"] == year]
    students = enr.groupby(enr["grade"].map(dict(GRADE_LEVEL)))["students"].sum()
    levels = region.school_levels.merge(
        region.schools[["school_id", "school_type"]], on="school_id"
    )
    counted = levels[~levels["school_type"].isin(SMALL_PRIMARY_TYPES)]
    n_all = levels.groupby("level").size()
    n_main = counted.groupby("level").size()
    head = _pad("学段 level", 22) + f"{'schools':>9}{'excl. small':>12}{f'students {year}':>16}"
    if reference:
        head += f"{'reference end-2017 (schools / students)':>42}"
    lines = [head]
    for lv in LEVELS:
        line = (
            _pad(LEVEL_LABELS[lv], 22)
            + f"{int(n_all.get(lv, 0)):>9,}{int(n_main.get(lv, 0)):>12,}{int(students.get(lv, 0)):>16,}"
        )
        if reference:
            ref_n, ref_s = REFERENCE_2017[lv]
            line += f"{f'{ref_n} / {ref_s / 1000:.1f}k':>42}"
        lines.append(line)
    nine = int((region.schools["school_type"] == "nine_year").sum())
    note = f"  of which nine-year schools 九年一贯制: {nine}"
    if reference:
        note += f" (reference 2017: {REFERENCE_NINE_YEAR_2017})"
    lines.append(note)
    lines.append(
        "  'excl. small' leaves out village primaries 村小 and teaching points 教学点 (as the city statistics do)"
    )
    return lines


def _history(region: Region, year: int) -> tuple[int, float, float] | None:
    """Residents, urban share and birth rate (per mille) of ``year`` from the county tables."""
    urb = region.urbanisation[region.urbanisation["year"] == year]
    pop = int(urb["population"].sum())
    if urb.empty or pop == 0:
        return None
    share = float((urb["population"] * urb["urban_share"]).sum()) / pop
    births = int(region.births.loc[region.births["year"] == year, "births"].sum())
    return pop, share, births / pop * 1000


def _population_totals(region: Region, reference: bool) -> list[str]:
    year = region.base_year
    pop = int(region.villages["population"].sum())
    urban = region.villages.loc[region.villages["urban"], "population"].sum() / pop if pop else 0.0
    births = int(region.births.loc[region.births["year"] == year, "births"].sum())
    rate = births / pop * 1000 if pop else 0.0
    rows = [
        (f"常住人口 residents {year} (villages)", f"{pop:,}", ""),
        (f"城镇化率 urban share {year} (villages)", f"{urban:.2%}", ""),
        (f"出生率 birth rate {year}", f"{rate:.2f} ‰", ""),
    ]
    if reference:
        census = _history(region, 2020)
        if census is not None:
            rows.append(
                (
                    "常住人口 residents 2020 (urbanisation)",
                    f"{census[0]:,}",
                    f"{REFERENCE_RESIDENTS_2020:,} (2020 census)",
                )
            )
        y2021 = _history(region, 2021)
        if y2021 is not None:
            rows.append(
                (
                    "城镇化率 urban share 2021",
                    f"{y2021[1]:.2%}",
                    f"{REFERENCE_URBAN_SHARE_2021:.2%} (2021)",
                )
            )
            rows.append(
                (
                    "出生率 birth rate 2021",
                    f"{y2021[2]:.2f} ‰",
                    f"{REFERENCE_BIRTH_RATE_2021:.2f} ‰ (2021)",
                )
            )
    lines = []
    for label, value, ref in rows:
        lines.append(_pad(label, 38) + f"{value:>12}" + (f"   reference: {ref}" if ref else ""))
    return lines


def summarise(region: Region) -> str:
    """Return a one-screen text summary of ``region``.

    Parameters
    ----------
    region : Region
        A loaded region.

    Returns
    -------
    str
        Name, code, base year and CRS; a synthetic-data label when any layer is synthetic; townships,
        villages, residents and urban share by county; schools by county and level; school types;
        schools and students by level in the base year; population totals. For Guangyuan
        (code 510800) the published reference figures are shown beside the totals.

    """
    reference = region.code == GUANGYUAN_CODE
    lines = [
        f"{region.name} ({region.code}) — base year {region.base_year} — projected CRS {region.projected_crs}"
    ]
    if region.is_synthetic:
        lines.append(
            "SYNTHETIC DATA 合成数据: "
            + ", ".join(region.synthetic_layers)
            + " — not real statistics"
        )
    lines += [
        "",
        *_county_table(region),
        "",
        *_school_table(region),
        "",
        *_level_totals(region, reference),
    ]
    lines += ["", *_population_totals(region, reference)]
    return "\n".join(lines)
