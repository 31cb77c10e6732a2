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
- the same two figures for the previous split of the census group 15-19 (``senior="spline"``:
  the spline's share of ages 15-17 kept), on the same code;
- which derivation costs most: base-year school-age population per township and level, derived
  vs true, for each cohort calibration (none / births / births+enrollment), each split of the
  5-year groups (PCHIP spline / Sprague / Beers) and each split of the group 15-19 (spline /
  senior-stage enrollment), and the same at village level (the village split).

    .venv/bin/python benchmarks/minimal_data_bench.py [--draws 500] [--work /tmp/minimal_bench]

All data are SYNTHETIC (only the county boundaries are real). Results are written to
``benchmarks/results/minimal_data.txt``.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

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


OPTIONS = [(mode, "pchip", senior) for senior in ("spline", "enrollment")
           for mode in ("none", "births", "births+enrollment")]
OPTIONS += [("births+enrollment", split, senior) for split in ("sprague", "beers")
            for senior in ("spline", "enrollment")]
"""(calibration, split of 5-year groups, split of the group 15-19) measured; default last of the
first block: births+enrollment, pchip, enrollment."""


def population_errors(truth: Region, workbook: Path, boundaries: Path, work: Path
                      ) -> pd.DataFrame:
    """Base-year school-age population MAPE (%) by level, per derivation option and geography.

    ``senior bias`` is the relative error (%) of the region's total residents 15-17.
    """
    rows = []
    true_senior = float(_school_age(truth, "township_code")["senior"].sum())
    for mode, split, senior in OPTIONS:
        out = work / f"pop_{mode.replace('+', '_')}_{split}_{senior}"
        import_workbook(workbook, out, ImportOptions(boundaries=boundaries, calibration=mode,
                                                     split=split, senior=senior))
        derived = load_region(out)
        for by in ("township_code", "village_id"):
            t, d = _school_age(truth, by), _school_age(derived, by)
            ok = t >= 5
            ape = ((d - t).abs() / t).where(ok)
            bias = (float(d["senior"].sum()) / true_senior - 1) * 100
            rows.append({"calibration": mode, "split": split, "15-19": senior,
                         "geography": by.split("_")[0], **(ape.mean() * 100).round(2).to_dict(),
                         "senior bias": round(bias, 2)})
    return pd.DataFrame(rows)


def commit() -> str:
    """The commit measured (``+ uncommitted changes`` when the working tree differs)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False
                              ).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "layout", "forecasting", "schoolsystem",
                "benchmarks/minimal_data_bench.py", "scenarios")
    return head + (" + uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> None:
    """Degrade, import, run both, compare, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--work", default="/tmp/minimal_bench")
    parser.add_argument("--year", type=int, default=2030)
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--commit", default=None,
                        help="commit measured, when run from an exported snapshot (no git)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    measured_on = args.commit or commit()
    truth = load_region()
    t0 = time.perf_counter()
    write_minimal(work / "inputs", truth)
    t_degrade = time.perf_counter() - t0
    book, bounds = work / "inputs" / WORKBOOK, work / "inputs" / BOUNDARIES
    t0 = time.perf_counter()
    import_workbook(book, work / "region_min", ImportOptions(boundaries=bounds))
    t_import = time.perf_counter() - t0
    import_workbook(book, work / "region_min_spline",
                    ImportOptions(boundaries=bounds, senior="spline"))
    t_full = run(truth.path, work / "run_full", args.draws)
    t_min = run(work / "region_min", work / "run_min", args.draws)
    t_spline = run(work / "region_min_spline", work / "run_min_spline", args.draws)
    mape = township_mape(work / "run_full", work / "run_min", args.year)
    mape_spline = township_mape(work / "run_full", work / "run_min_spline", args.year)
    share, n = decisions_identical(work / "run_full", work / "run_min")
    share_spline, _ = decisions_identical(work / "run_full", work / "run_min_spline")
    t0 = time.perf_counter()
    pop = population_errors(truth, book, bounds, work)
    t_pop = time.perf_counter() - t0
    table = pd.DataFrame({"minimal (default)": mape, "15-19 by spline": mape_spline})
    lines = [
        "Price of less data — embedded region (SYNTHETIC data, real county boundaries)",
        f"measured on commit {measured_on}; benchmarks/minimal_data_bench.py --draws {args.draws}",
        f"degrade {t_degrade:.1f} s; import {t_import:.1f} s; runs (baseline scenario, in "
        f"process): full {t_full:.1f} s, minimal {t_min:.1f} s, minimal with 15-19 by spline "
        f"{t_spline:.1f} s; {len(OPTIONS)} derivation imports {t_pop:.1f} s",
        "",
        f"township demand MAPE (%) at {args.year} vs the full-data run, by level "
        "(townships with demand >= 1; target <= 5 %):",
        table.to_string(),
        "",
        f"school decisions identical to the full-data run (school x level; action and merge "
        f"target; target >= 90 %): minimal (default) {share:.1%} of {n}; "
        f"15-19 by spline {share_spline:.1%}",
        "",
        "base-year school-age population MAPE (%), derived vs true (townships/villages >= 5 "
        "persons); senior bias = error of the region's residents 15-17:",
        pop.to_string(index=False),
    ]
    text = "\n".join(lines) + "\n"
    out = Path(args.results)
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
