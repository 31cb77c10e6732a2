"""Benchmark: a 20,000-school SYNTHETIC map — HTML size, build time, headless render time.

Usage: .venv/bin/python benchmarks/map_bench.py [--schools 20000] [--villages 20000] [--out DIR]

Data are synthetic (layout.outputs.synthetic_plan); the figures measure the map machinery only.
Render time = performance.now() when the page sets window.__mapReady (all layers built and the
controls added), measured inside headless Chromium with all network blocked.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import find_browser, open_map  # noqa: E402
from synthetic_plan import (  # noqa: E402
    SYNTHETIC_NOTE,
    synthetic_plan,
    synthetic_region,
    synthetic_years_series,
)

from layout.outputs import maps  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--villages", type=int, default=20_000)
    parser.add_argument("--townships-per-side", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "test-output")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    counties, townships = synthetic_region(n_counties=8, townships_per_side=args.townships_per_side)
    plan = synthetic_plan(n_schools=args.schools, n_villages=args.villages, townships=townships)
    series = synthetic_years_series(townships)
    t1 = time.perf_counter()
    path = maps.write_map(plan, townships, counties, args.out / "map_bench.html",
                          years_series=series, note=SYNTHETIC_NOTE)  # fmt: skip
    t2 = time.perf_counter()
    size = path.stat().st_size
    print(f"SYNTHETIC map: {len(plan.schools)} schools, {len(plan.assignments)} assignment lines, "
          f"{len(townships)} townships, {len(series['year'].unique())} years")  # fmt: skip
    print(f"synthetic data: {t1 - t0:.2f} s; build+render+write map.html: {t2 - t1:.2f} s")
    print(f"HTML size: {size / 1e6:.2f} MB ({size} bytes) -> {path}")
    if find_browser() is None:
        print("no Chromium found: render time not measured")
        return
    t3 = time.perf_counter()
    with open_map(path) as (page, log):
        t4 = time.perf_counter()
        ready_ms = page.evaluate("window.__mapReadyAt")
        count = page.evaluate("window.__schoolFeatureCount")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        paint_ms = page.evaluate("performance.now()")
        shot = args.out / "map_bench.png"
        page.screenshot(path=str(shot))
    print(f"headless Chromium: __mapReady at {ready_ms:.0f} ms after navigation start; "
          f"painted by {paint_ms:.0f} ms; goto+ready wall {t4 - t3:.2f} s")
    print(f"school features in page: {count}; console errors: {len(log.console_errors)}; "
          f"page errors: {len(log.page_errors)}; blocked requests: {len(log.blocked_requests)}")
    print(f"screenshot: {shot}")


if __name__ == "__main__":
    main()
