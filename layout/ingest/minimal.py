"""The degraded example: the embedded region reduced to what a county bureau holds.

``python -m layout.ingest.minimal --out data/geo/guangyuan_minimal`` writes

- ``guangyuan_minimal.xlsx`` — the input workbook with: the school roster and enrollment by grade
  (coordinates in GCJ-02, as copied from AMap), township census tables in 5-year groups
  (persons 0-4 ... 15-19, women 15-19 ... 45-49), villages with totals and points but **no ages**,
  county births and urbanisation, township history — and **no township polygons**;
- ``counties.geojson`` — the county boundaries (real, WGS84, copied from the embedded region).

Everything except the county boundaries is SYNTHETIC (the embedded region's generator). The
embedded region holds children 0-17 and women 15-49 only, so the census group 15-19 is completed
with persons 18-19 = 2 x women 18-19 (a documented assumption of this example, sex ratio 1).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from layout.ingest.fill import region_tables
from layout.ingest.xlsx_out import write_workbook
from layout.region import load_region
from layout.region.model import Region

WORKBOOK = "guangyuan_minimal.xlsx"
BOUNDARIES = "counties.geojson"
NOTE = ("SYNTHETIC 合成数据: degraded copy of the embedded synthetic Guangyuan region (only the "
        "county boundaries are real); describes no real school, village or township.")


def _groups(long: pd.DataFrame, villages: pd.DataFrame, step: int = 5) -> pd.DataFrame:
    """Township persons per 5-year group from village single ages."""
    town = long["village_id"].map(villages.set_index("village_id")["township_code"])
    lo = (long["age"] // step) * step
    frame = pd.DataFrame({"township_code": town, "lo": lo, "persons": long["persons"]})
    return frame.groupby(["township_code", "lo"], sort=False)["persons"].sum().reset_index()


def township_age_groups(region: Region) -> pd.DataFrame:
    """The 乡镇年龄 sheet a census table would give (persons 0-19, women 15-49)."""
    kids = _groups(region.children, region.villages)
    women = _groups(region.women, region.villages)
    w1819 = region.women[region.women["age"].isin([18, 19])]
    extra = _groups(w1819, region.villages).set_index("township_code")["persons"] * 2
    rows = []
    for code in region.townships["township_code"]:
        k = kids[kids["township_code"] == code].set_index("lo")["persons"]
        f = women[women["township_code"] == code].set_index("lo")["persons"]
        for lo in (0, 5, 10, 15):
            persons = int(k.get(lo, 0)) + (int(extra.get(code, 0)) if lo == 15 else 0)
            rows.append((code, f"{lo}-{lo + 4}", persons, int(f[lo]) if lo == 15 else None))
        for lo in range(20, 50, 5):
            rows.append((code, f"{lo}-{lo + 4}", int(2 * f[lo]), int(f[lo])))
    return pd.DataFrame(rows, columns=["township_code", "age_group", "persons", "female"])


def degrade(region: Region) -> dict[str, pd.DataFrame]:
    """The embedded region's workbook sheets, reduced to what a bureau holds."""
    tables = region_tables(region, crs="gcj02", synthetic=True)
    for sheet in ("village_children", "village_women"):
        tables.pop(sheet)
    tables["township_ages"] = township_age_groups(region)
    tables["townships"] = tables["townships"].assign(seat_lon=np.nan, seat_lat=np.nan)
    row = tables["region"].iloc[0].to_dict()
    row["provenance"] = NOTE + " Counties: " + str(region.meta.get("provenance", ""))[:200]
    tables["region"] = pd.DataFrame([row])
    return tables


def write_minimal(out: str | Path, region: Region | None = None) -> list[Path]:
    """Write the degraded example's workbook and county boundaries into ``out``."""
    region = region or load_region()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    book = write_workbook(folder / WORKBOOK, degrade(region), note=NOTE)
    shutil.copyfile(region.path / BOUNDARIES, folder / BOUNDARIES)
    return [book, folder / BOUNDARIES]


def main(argv: list[str] | None = None) -> None:
    """Command line: write the degraded example."""
    parser = argparse.ArgumentParser(prog="python -m layout.ingest.minimal",
                                     description="Write the degraded (minimal-data) example.")
    parser.add_argument("--out", default="data/geo/guangyuan_minimal")
    args = parser.parse_args(argv)
    for path in write_minimal(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
