"""Region layers (the data contract's tables) from the typed workbook sheets.

Each function returns one layer of ``data/geo/README.md`` with its columns in contract order;
where the bureau's workbook lacks the detail, the layer is derived and the caller records it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schoolsystem.vocabulary import CHILD_AGES, GRADES, LEVELS, SCHOOL_TYPE_LEVELS, WOMEN_AGES


def _ints(series: pd.Series) -> pd.Series:
    return series.fillna(0).astype("int64")


def schools_layer(schools: pd.DataFrame) -> pd.DataFrame:
    """``schools`` with ``levels`` from the school type (in level order)."""
    levels = schools["school_type"].map(
        lambda t: ";".join(lv for lv in LEVELS if lv in SCHOOL_TYPE_LEVELS[t]))
    out = pd.DataFrame({
        "school_id": schools["school_id"], "name": schools["name"],
        "township_code": schools["township_code"], "lon": schools["lon"], "lat": schools["lat"],
        "school_type": schools["school_type"], "levels": levels,
        "ownership": schools["ownership"],
    })
    for col in ("capacity", "boarding_beds", "classrooms", "teachers"):
        out[col] = _ints(schools[col])
    out["programme_groups"] = schools["programme_groups"].fillna("")
    return out.reset_index(drop=True)


def enrollment_layer(wide: pd.DataFrame) -> pd.DataFrame:
    """Long ``school_id, year, grade, students`` from one row per school and year (empty = none)."""
    long = wide.melt(id_vars=["school_id", "year"], value_vars=list(GRADES),
                     var_name="grade", value_name="students", ignore_index=False)
    long = long.dropna(subset=["students"])
    long["_pos"] = long.index
    long["_grade"] = long["grade"].map({g: i for i, g in enumerate(GRADES)})
    long = long.sort_values(["_pos", "_grade"], kind="stable")
    long["students"] = long["students"].astype("int64")
    long["year"] = long["year"].astype("int64")
    return long[["school_id", "year", "grade", "students"]].reset_index(drop=True)


def wide_ages(frame: pd.DataFrame, ages: range) -> pd.DataFrame:
    """Long ``village_id, age, persons`` from the wide 村儿童年龄 / 村育龄妇女 sheet."""
    cols = [f"age_{a}" for a in ages]
    values = frame[cols].fillna(0).to_numpy(np.int64)
    return pd.DataFrame({
        "village_id": np.repeat(frame["village_id"].to_numpy(), len(ages)),
        "age": np.tile(np.asarray(ages), len(frame)),
        "persons": values.ravel(),
    })


def villages_layer(villages: pd.DataFrame, seats: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Villages with WGS84 points; those without coordinates placed at their township seat.

    Returns
    -------
    villages : pandas.DataFrame
    placed : int
        Number of villages placed at their seat.

    """
    v = villages.merge(seats[["township_code", "seat_lon", "seat_lat"]], on="township_code",
                       how="left")
    missing = v["lon"].isna() | v["lat"].isna()
    v.loc[missing, "lon"] = v.loc[missing, "seat_lon"]
    v.loc[missing, "lat"] = v.loc[missing, "seat_lat"]
    out = pd.DataFrame({
        "village_id": v["village_id"], "name": v["name"], "township_code": v["township_code"],
        "lon": v["lon"], "lat": v["lat"], "urban": v["urban"].astype(bool),
        "population": _ints(v["population"]),
    })
    return out, int(missing.sum())


def history_layer(townships: pd.DataFrame, villages: pd.DataFrame,
                  urbanisation: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """Township population per year = base-year population x county population index."""
    pop = villages.groupby("township_code")["population"].sum()
    urb = urbanisation.pivot_table(index="county_code", columns="year", values="population")
    rows = []
    for code, county in zip(townships["township_code"], townships["county_code"], strict=True):
        if county not in urb.index or base_year not in urb.columns:
            continue
        series = urb.loc[county].dropna()
        for year, value in series.items():
            index = value / urb.loc[county, base_year]
            rows.append((code, int(year), round(pop.get(code, 0) * index)))
    return pd.DataFrame(rows, columns=["township_code", "year", "population"])


CHILD_RANGE = CHILD_AGES
WOMEN_RANGE = WOMEN_AGES
