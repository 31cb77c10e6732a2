"""Province-scale benchmark of `schoolplan run`: serial in-process vs a local Dask cluster.

Usage (the province region is made first, it is too big to commit)::

    .venv/bin/python -m layout.synth --province 510000 --seed 20241 --out /tmp/sichuan
    .venv/bin/python benchmarks/province_bench.py --region /tmp/sichuan \
        [--counties 10,40,100,183] [--modes none,local] [--draws 100] [--out OUT]

For each size N a sub-region of N counties (spread evenly over the code order, so every size
mixes Chengdu districts and mountain counties) is cut from the region folder, and the baseline
scenario is run on it by the real command line, once per mode:

- ``none``:  ``--scheduler none --threads 1`` (one solve at a time, in-process);
- ``local``: ``--scheduler local`` (LocalCluster, one single-threaded worker process per core).

Recorded per run: wall time, the stage timings of ``manifest.json`` (load, forecast, forecast
outputs, plan, outputs), the peak resident memory of the main process and of each Dask worker
(sampled every 0.25 s with psutil over the process tree), and whether the plan tables are
byte-identical between the modes. Then, per mode, a least-squares line of wall time against
counties (slope s/county and R²), and the speed-up ``none`` / ``local``. Results go to
``OUT/province_bench.json`` and a text table ``OUT/province_bench.txt``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
SCHOOLPLAN = ROOT / ".venv" / "bin" / "schoolplan"
PLAN_TABLES = ("schools.csv", "assignments.csv", "unserved.csv", "kpis.csv", "projects.csv")
KEYS = {  # file -> column whose first 6 characters are the county code
    "villages.csv": "township_code", "children.csv": "village_id", "women.csv": "village_id",
    "schools.csv": "township_code", "enrollment.csv": "school_id",
    "candidate_sites.csv": "township_code", "births.csv": "county_code",
    "urbanisation.csv": "county_code", "township_history.csv": "township_code",
}


def county_codes(region: Path) -> list[str]:
    data = json.loads((region / "counties.geojson").read_text(encoding="utf-8"))
    return sorted(f["properties"]["county_code"] for f in data["features"])


def pick(codes: list[str], n: int) -> list[str]:
    idx = np.unique(np.round(np.linspace(0, len(codes) - 1, n)).astype(int))
    return [codes[i] for i in idx]


def _filter_csv(src: Path, dst: Path, column: str, keep: set[str]) -> None:
    text = src.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    head = [ln for ln in lines if ln.startswith("#")]
    body = "".join(lines[len(head):])
    rows = list(csv.reader(io.StringIO(body)))
    j = rows[0].index(column)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rows[0])
    w.writerows(r for r in rows[1:] if r[j][:6] in keep)
    dst.write_text("".join(head) + buf.getvalue(), encoding="utf-8")


def _filter_geojson(src: Path, dst: Path, keep: set[str]) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"]
                        if str(f["properties"].get("county_code", ""))[:6] in keep]
    dst.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def sub_region(region: Path, codes: list[str], out: Path) -> Path:
    """A region folder with only the counties ``codes`` (the province outline kept)."""
    out.mkdir(parents=True, exist_ok=True)
    keep = set(codes)
    for name in ("counties.geojson", "townships.geojson"):
        _filter_geojson(region / name, out / name, keep)
    for name, col in KEYS.items():
        _filter_csv(region / name, out / name, col, keep)
    for name in ("city.geojson", "region.yaml", "PROVENANCE.md"):
        if (region / name).exists():
            (out / name).write_bytes((region / name).read_bytes())
    return out


class Sampler:
    """Peak RSS of a process and each of its descendants (every 0.25 s)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak: dict[int, tuple[str, int]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    cmd = " ".join(p.cmdline())
                except psutil.Error:
                    continue
                role = ("main" if p.pid == self.root.pid else
                        "worker" if ("multiprocessing" in cmd and "resource_tracker" not in cmd)
                        else "other")
                old = self.peak.get(p.pid, (role, 0))
                self.peak[p.pid] = (role, max(old[1], rss))
            self.stop.wait(0.25)

    def close(self) -> dict[str, object]:
        self.stop.set()
        self.thread.join()
        gb = 1024 ** 3
        workers = sorted(r / gb for role, r in self.peak.values() if role == "worker")
        main = max([r for role, r in self.peak.values() if role == "main"], default=0) / gb
        return {"peak_main_gb": round(main, 3), "peak_worker_gb": [round(w, 3) for w in workers]}


def run_once(scenario: str, region: Path, out: Path, mode: str, draws: int | None) -> dict:
    args = [str(SCHOOLPLAN), "run", "-s", scenario, "--region", str(region), "--out", str(out),
            "-q", "--scheduler", mode]
    if mode == "none":
        args += ["--threads", "1"]
    if draws:
        args += ["--draws", str(draws)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(proc.pid)
    output, _ = proc.communicate()
    wall = time.perf_counter() - t0
    mem = sampler.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{output[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 1), "stages_s": manifest["wall_clock"]["timings_s"], **mem,
            "not_planned": [ln for ln in output.splitlines() if "not planned" in ln]}


def fit(xs: list[int], ys: list[float]) -> dict[str, float]:
    if len(xs) < 2:
        return {}
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    slope, icpt = np.polyfit(x, y, 1)
    pred = slope * x + icpt
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(((y - pred) ** 2).sum()) / ss if ss else 1.0
    return {"slope_s_per_county": round(float(slope), 3), "intercept_s": round(float(icpt), 1),
            "r2": round(r2, 4)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", type=Path, required=True)
    ap.add_argument("--counties", default="10,40,100,183")
    ap.add_argument("--modes", default="none,local")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/province_bench"))
    args = ap.parse_args(argv)
    codes = county_codes(args.region)
    sizes = [min(int(s), len(codes)) for s in args.counties.split(",")]
    modes = args.modes.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    for n in sizes:
        region = (args.region if n == len(codes) else
                  sub_region(args.region, pick(codes, n), args.out / f"region_{n}"))
        for mode in modes:
            run_out = args.out / f"run_{n}_{mode.replace('/', '_').replace(':', '_')}"
            r = run_once(args.scenario, region, run_out, mode, args.draws)
            r.update(counties=n, mode=mode)
            results.append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
        if len(modes) > 1:
            first = args.out / f"run_{n}_{modes[0]}"
            same = all((first / t).read_bytes() == (args.out / f"run_{n}_{m}" / t).read_bytes()
                       for m in modes[1:] for t in PLAN_TABLES)
            results.append({"counties": n, "identical_plan_tables": same})
            print(f"{n} counties: plan tables identical across {modes}: {same}", flush=True)
    runs = [r for r in results if "mode" in r]
    summary = {m: fit([r["counties"] for r in runs if r["mode"] == m],
                      [r["wall_s"] for r in runs if r["mode"] == m]) for m in modes}
    speedups = {}
    for n in sizes:
        t = {r["mode"]: r["wall_s"] for r in runs if r["counties"] == n}
        if "none" in t and "local" in t:
            speedups[n] = round(t["none"] / t["local"], 2)
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "scenario": args.scenario, "draws": args.draws, "runs": results,
              "fit": summary, "speedup_none_over_local": speedups}
    (args.out / "province_bench.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    lines = [f"{'counties':>8} {'mode':>6} {'wall s':>8} {'forecast':>9} {'plan':>7} "
             f"{'outputs':>8} {'main GB':>8} {'max worker GB':>14}"]
    for r in runs:
        st = r["stages_s"]
        lines.append(f"{r['counties']:>8} {r['mode']:>6} {r['wall_s']:>8.1f} "
                     f"{st.get('forecast', 0):>9.1f} {st.get('plan', 0):>7.1f} "
                     f"{st.get('outputs', 0):>8.1f} {r['peak_main_gb']:>8.2f} "
                     f"{max(r['peak_worker_gb'], default=0):>14.2f}")
    lines += [f"fit {m}: {v}" for m, v in summary.items()]
    lines.append(f"speed-up none/local: {speedups}")
    (args.out / "province_bench.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
