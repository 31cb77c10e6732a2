"""Benchmark: the price of less data, on the embedded SYNTHETIC region.

The embedded region holds the full detail (children 0-17 and women 15-49 by single age in every
village, township polygons). This script degrades it to what a county bureau holds
(:mod:`layout.ingest.minimal`: township 5-year groups, village totals without ages, no township
polygons, coordinates in GCJ-02), imports that workbook (deriving the rest), runs the pipeline on
both regions with the same scenario and compares:

- township demand (mean of the Monte Carlo draws, summed over grade bands) by level at the
  target year: mean absolute percentage error of the minimal-data run against the full-data run
  over townships with demand >= 1 pupil;
- the share of school decisions (school x level: action and merge target) that are identical;
- which derivation costs most: base-year school-age population per township and level, derived
  vs true, for each cohort calibration (none / births / births+enrollment), and the same at
  village level (the village split).

    .venv/bin/python benchmarks/minimal_data_bench.py [--draws 500] [--work /tmp/minimal_bench]

All data are SYNTHETIC (only the county boundaries are real). Results are written to
``benchmarks/results/minimal_data.txt``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from layout.ingest.importer import ImportOptions, import_workbook
from layout.ingest.minimal import BOUNDARIES, WORKBOOK, write_minimal
from layout.region import load_region
from layout.region.model import Region
from schoolsystem.vocabulary import AGE_GROUPS, BAND_LEVEL

RESULTS = Path(__file__).parent / "results" / "minimal_data.txt"
SCHOOL_LEVEL_AGES = {lv: AGE_GROUPS[lv] for lv in ("kindergarten", "primary", "junior", "senior")}


def run(region: Path, out: Path, draws: int) -> float:
    """Run the baseline scenario end to end; return the wall time."""
    from layout.pipeline import run_scenario
    from layout.scenario import load_scenario

    sc = load_scenario("scenarios/baseline.yaml")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    run_scenario(sc, out, region_path=region, draws=draws, progress=False, say=lambda m: None)
    return time.perf_counter() - t0


def township_mape(full: Path, minimal: Path, year: int) -> pd.Series:
    """MAPE (%) by level of township demand at ``year``, minimal vs full."""
    def load(folder: Path) -> pd.Series:
        td = pd.read_csv(folder / "forecast" / "forecast_township_demand.csv",
                         dtype={"township_code": str}, encoding="utf-8-sig")
        td = td[td["year"] == year]
        td["level"] = td["grade_band"].map(dict(BAND_LEVEL))
        return td.groupby(["level", "township_code"])["demand"].sum()
    a, b = load(full), load(minimal)
    frame = pd.DataFrame({"full": a, "minimal": b}).dropna()
    frame = frame[frame["full"] >= 1]
    ape = (frame["minimal"] - frame["full"]).abs() / frame["full"]
    return (ape.groupby(level="level").mean() * 100).round(2)


def decisions_identical(full: Path, minimal: Path) -> tuple[float, int]:
    """Share of (school, level) decisions with the same action and merge target."""
    cols = ["school_id", "level", "action", "merge_into"]
    a = pd.read_csv(full / "schools.csv", dtype=str, encoding="utf-8-sig")[cols].fillna("")
    b = pd.read_csv(minimal / "schools.csv", dtype=str, encoding="utf-8-sig")[cols].fillna("")
    m = a.merge(b, on=["school_id", "level"], how="outer", suffixes=("_f", "_m")).fillna("")
    same = (m["action_f"] == m["action_m"]) & (m["merge_into_f"] == m["merge_into_m"])
    return float(same.mean()), len(m)


def _school_age(region: Region, by: str) -> pd.DataFrame:
    c = region.children.merge(region.villages[["village_id", "township_code"]], on="village_id")
    rows = {lv: c[c["age"].between(lo, hi)].groupby(by)["persons"].sum()
            for lv, (lo, hi) in SCHOOL_LEVEL_AGES.items()}
    return pd.DataFrame(rows)


def population_errors(truth: Region, workbook: Path, boundaries: Path, work: Path
                      ) -> pd.DataFrame:
    """Base-year school-age population MAPE (%) by level, per calibration and geography."""
    rows = []
    for mode in ("none", "births", "births+enrollment"):
        out = work / f"pop_{mode.replace('+', '_')}"
        import_workbook(workbook, out, ImportOptions(boundaries=boundaries, calibration=mode))
        derived = load_region(out)
        for by in ("township_code", "village_id"):
            t, d = _school_age(truth, by), _school_age(derived, by)
            ok = t >= 5
            ape = ((d - t).abs() / t).where(ok)
            rows.append({"calibration": mode, "geography": by.split("_")[0],
                         **(ape.mean() * 100).round(2).to_dict()})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    """Degrade, import, run both, compare, write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--work", default="/tmp/minimal_bench")
    parser.add_argument("--year", type=int, default=2030)
    args = parser.parse_args(argv)
    work = Path(args.work)
    truth = load_region()
    t0 = time.perf_counter()
    write_minimal(work / "inputs", truth)
    book, bounds = work / "inputs" / WORKBOOK, work / "inputs" / BOUNDARIES
    import_workbook(book, work / "region_min", ImportOptions(boundaries=bounds))
    t_import = time.perf_counter() - t0
    t_full = run(truth.path, work / "run_full", args.draws)
    t_min = run(work / "region_min", work / "run_min", args.draws)
    mape = township_mape(work / "run_full", work / "run_min", args.year)
    share, n = decisions_identical(work / "run_full", work / "run_min")
    pop = population_errors(truth, book, bounds, work)
    lines = [
        "Price of less data — embedded region (SYNTHETIC data, real county boundaries)",
        f"draws {args.draws}; degrade + import {t_import:.1f} s; full run {t_full:.1f} s; "
        f"minimal run {t_min:.1f} s",
        "",
        f"township demand MAPE (%) at {args.year}, minimal vs full, by level:",
        mape.to_string(),
        "",
        f"school decisions identical: {share:.1%} of {n} (school x level)",
        "",
        "base-year school-age population MAPE (%), derived vs true (townships/villages >= 5):",
        pop.to_string(index=False),
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    print(np.__name__ and f"written to {RESULTS}")


if __name__ == "__main__":
    main()
