"""Template round trip on a region: fill the input workbook, import it, check it, run both.

Issue 10, "Done means": the template filled from the embedded region, imported, gives a region
that ``schoolplan data check`` accepts and whose run produces the same plan tables as the
original. This script does exactly that with the command line:

1. ``layout.ingest.fill.region_tables`` + ``layout.ingest.xlsx_out.write_workbook``: the input
   workbook at full detail (village single ages included; WGS84 unless ``--crs``);
2. ``schoolplan data import BOOK --out REGION --boundaries counties.geojson --townships
   townships.geojson`` (the original county and township polygons: a bureau holding its
   township polygons gives them);
3. ``schoolplan data check REGION``;
4. ``schoolplan run --scenario SCENARIO --region R --out ...`` on the original and on the
   imported region (both started at once, so both load the same code);
5. byte-for-byte comparison of the plan tables (and of every other output file, for
   information); where a table differs, the number of differing rows is printed.

    .venv/bin/python benchmarks/template_roundtrip.py [--region data/geo/guangyuan]
        [--scenario scenarios/baseline.yaml] [--work /tmp/template_roundtrip] [--crs wgs84]

The embedded region is SYNTHETIC (only its county and city boundaries are real).
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PLAN_TABLES = ("schools.csv", "assignments.csv", "unserved.csv", "kpis.csv", "projects.csv")
CLI = [sys.executable, "-m", "layout.cli"]


def fill(region: Path, book: Path, crs: str) -> float:
    """Write the input workbook filled from ``region``; return the wall time."""
    from layout.ingest.fill import region_tables
    from layout.ingest.xlsx_out import write_workbook
    from layout.region import load_region

    t0 = time.perf_counter()
    book.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(book, region_tables(load_region(region), crs))
    return time.perf_counter() - t0


def cli(args: list[str]) -> tuple[float, str]:
    """Run ``schoolplan ARGS``; return wall time and output; raise on a non-zero exit."""
    t0 = time.perf_counter()
    res = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"schoolplan {' '.join(args)} failed ({res.returncode}):\n"
                         f"{res.stdout}\n{res.stderr}")
    return time.perf_counter() - t0, res.stdout


def run_both(scenario: str, regions: dict[str, Path], work: Path) -> dict[str, float]:
    """``schoolplan run`` on every region at once; return each wall time."""
    procs = {}
    t0 = time.perf_counter()
    for name, region in regions.items():
        out = work / f"run_{name}"
        log = (work / f"run_{name}.log").open("w", encoding="utf-8")
        procs[name] = (subprocess.Popen([*CLI, "run", "--scenario", scenario, "--region",
                                         str(region), "--out", str(out), "-q"],
                                        stdout=log, stderr=subprocess.STDOUT), log)
    times = {}
    for name, (proc, log) in procs.items():
        code = proc.wait()
        log.close()
        times[name] = time.perf_counter() - t0
        if code != 0:
            raise SystemExit(f"run on {regions[name]} failed ({code}); see {log.name}")
    return times


def differing_rows(a: Path, b: Path) -> str:
    """How two CSV tables differ (row counts, rows present in one only)."""
    fa = pd.read_csv(a, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    fb = pd.read_csv(b, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if list(fa.columns) != list(fb.columns):
        return f"columns differ: {list(fa.columns)} vs {list(fb.columns)}"
    if len(fa) == len(fb) and (fa.to_numpy() == fb.to_numpy()).all():
        return "same values, different bytes (encoding/formatting)"
    m = fa.merge(fb, how="outer", indicator=True)
    only = m["_merge"].value_counts()
    same_sorted = len(fa) == len(fb) and fa.sort_values(list(fa.columns)).to_numpy().tolist() \
        == fb.sort_values(list(fb.columns)).to_numpy().tolist()
    return (f"{len(fa)} vs {len(fb)} rows; {only.get('left_only', 0)} only in the original, "
            f"{only.get('right_only', 0)} only in the imported"
            + ("; same rows in another order" if same_sorted else ""))


def compare(a: Path, b: Path) -> tuple[list[str], bool]:
    """Lines describing the comparison; whether every plan table is byte-identical."""
    lines, ok = [], True
    for name in PLAN_TABLES:
        same = filecmp.cmp(a / name, b / name, shallow=False)
        ok &= same
        lines.append(f"  {name:<18} {'identical' if same else 'DIFFERENT: ' + differing_rows(a / name, b / name)}")
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    other = [f for f in files if f not in PLAN_TABLES]
    differ = [f for f in other if not (b / f).is_file()
              or not filecmp.cmp(a / f, b / f, shallow=False)]
    lines.append(f"  other output files: {len(other) - len(differ)} of {len(other)} identical; "
                 f"differing: {', '.join(differ) or 'none'}")
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    """Fill, import, check, run both, compare; exit 1 when a plan table differs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--region", default="data/geo/guangyuan")
    parser.add_argument("--scenario", default="scenarios/baseline.yaml")
    parser.add_argument("--work", default="/tmp/template_roundtrip")
    parser.add_argument("--crs", default="wgs84", choices=("wgs84", "gcj02", "bd09"))
    args = parser.parse_args(argv)
    region, work = Path(args.region), Path(args.work)
    book, imported = work / "filled.xlsx", work / "region_imported"
    t_fill = fill(region, book, args.crs)
    t_import, out = cli(["data", "import", str(book), "--out", str(imported), "--boundaries",
                         str(region / "counties.geojson"), "--townships",
                         str(region / "townships.geojson")])
    derived = [ln for ln in out.splitlines() if ln.startswith("DERIVED")]
    t_check, check = cli(["data", "check", str(imported)])
    times = run_both(args.scenario, {"original": region, "imported": imported}, work)
    lines, ok = compare(work / "run_original", work / "run_imported")
    text = "\n".join([
        f"Template round trip: {region} -> {book.name} ({args.crs}) -> data import -> "
        f"data check -> run {args.scenario}",
        f"fill {t_fill:.1f} s; import {t_import:.1f} s; check {t_check:.1f} s "
        f"({check.strip().splitlines()[-1]}); runs (both at once on the same cores): "
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()),
        "derived by the import: " + ("; ".join(d.split(":")[0] for d in derived) or "nothing"),
        "plan tables, original vs imported region (byte for byte):",
        *lines,
        "RESULT: " + ("every plan table identical" if ok else "plan tables DIFFER"),
    ])
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
