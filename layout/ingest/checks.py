"""Cross-sheet checks of an input workbook: every code refers to a row of its parent sheet."""

from __future__ import annotations

import pandas as pd

from layout.errors import Problem
from layout.ingest.template import SHEETS

REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("townships", "county_code", "counties", "county_code"),
    ("township_ages", "township_code", "townships", "township_code"),
    ("villages", "township_code", "townships", "township_code"),
    ("village_children", "village_id", "villages", "village_id"),
    ("village_women", "village_id", "villages", "village_id"),
    ("schools", "township_code", "townships", "township_code"),
    ("enrollment", "school_id", "schools", "school_id"),
    ("candidate_sites", "township_code", "townships", "township_code"),
    ("births", "county_code", "counties", "county_code"),
    ("urbanisation", "county_code", "counties", "county_code"),
    ("township_history", "township_code", "townships", "township_code"),
)
"""(sheet, column, parent sheet, parent column)."""

UNIQUE_ROWS: dict[str, tuple[str, ...]] = {
    "township_ages": ("township_code", "age_group"),
    "enrollment": ("school_id", "year"),
    "births": ("county_code", "year"),
    "urbanisation": ("county_code", "year"),
    "township_history": ("township_code", "year"),
}
"""Sheets whose rows are unique on these columns."""


def _where(book: str, sheet: str) -> str:
    return f"{book} sheet {SHEETS[sheet].title}"


def _header(sheet: str, column: str) -> str:
    return f"{SHEETS[sheet].field(column).header} ({column})"


def check_references(tables: dict[str, pd.DataFrame], book: str) -> list[Problem]:
    """Codes that refer to no row of their parent sheet, and rows repeated on their key."""
    problems: list[Problem] = []
    for sheet, col, parent, pcol in REFERENCES:
        if sheet not in tables or parent not in tables:
            continue
        frame = tables[sheet]
        known = set(tables[parent][pcol].dropna())
        bad = frame[frame[col].notna() & ~frame[col].isin(known)]
        for r, value in zip(bad["_row"], bad[col], strict=True):
            problems.append(Problem(_where(book, sheet), str(r), _header(sheet, col), str(value),
                                    f"not found in sheet {SHEETS[parent].title}"))
    for sheet, key in UNIQUE_ROWS.items():
        frame = tables.get(sheet)
        if frame is None or frame.empty:
            continue
        dup = frame.duplicated(list(key), keep="first")
        for r, value in zip(frame.loc[dup, "_row"], frame.loc[dup, key[-1]], strict=True):
            problems.append(Problem(_where(book, sheet), str(r), _header(sheet, key[-1]),
                                    str(value), f"duplicate row: the same {' + '.join(key)} "
                                    "appears earlier in the sheet"))
    return problems


def check_region_row(tables: dict[str, pd.DataFrame], book: str) -> list[Problem]:
    """The 地区 sheet has exactly one row."""
    frame = tables.get("region")
    if frame is None or len(frame) == 1:
        return []
    return [Problem(_where(book, "region"), "", "", str(len(frame)),
                    "the 地区 sheet must hold exactly one data row")]


def check_coverage(tables: dict[str, pd.DataFrame], book: str) -> list[Problem]:
    """Every township has age groups (unless village ages are given in full)."""
    if "village_children" in tables and "village_women" in tables:
        return []
    ages = tables.get("township_ages")
    if ages is None:
        return [Problem(_where(book, "township_ages"), "", "", "",
                        "give the 乡镇年龄 sheet (or both 村儿童年龄 and 村育龄妇女)")]
    have = set(ages["township_code"].dropna())
    towns = tables["townships"]
    missing = towns[~towns["township_code"].isin(have)]
    return [Problem(_where(book, "townships"), str(r), _header("townships", "township_code"),
                    str(code), "township has no rows in sheet 乡镇年龄")
            for r, code in zip(missing["_row"], missing["township_code"], strict=True)]
