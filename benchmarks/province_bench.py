"""Province-scale benchmark of `schoolplan run`: serial in-process vs a local Dask cluster.

Usage (the province region is made first, it is too big to commit)::

    .venv/bin/python -m layout.synth --province 510000 --seed 20241 --out /tmp/sichuan
    .venv/bin/python benchmarks/province_bench.py --region /tmp/sichuan \
        [--counties 10,40,100,183] [--modes none,local] [--draws 100] [--out OUT]

For each size N a sub-region of N counties (spread evenly over the code order, so every size
mixes Chengdu districts and mountain counties) is cut from the region folder, and the baseline
scenario is run on it by the real command line, once per mode:

- ``none``:  ``--scheduler none --threads 1`` (one solve at a time, in-process);
- ``threads``: ``--scheduler none`` with the default solver threads (a thread pool of solves);
- ``local``: ``--scheduler local`` (LocalCluster, one single-threaded worker process per core).

Recorded per run: wall time, the stage timings of ``manifest.json`` (load, forecast, forecast
outputs, plan, outputs, and ``plots``: the wait for the forecast's plots after the plan stage,
which the workers draw while the main process builds the plan's models), the CPU time (user + system) of the main process and of the Dask
workers, the mean 1-minute load average of the machine during the run, the peak resident memory
of the main process and of each Dask worker (sampled every 0.25 s with psutil over the process
tree), and whether the plan tables are byte-identical between the modes. Then, per mode, a
least-squares line of wall and CPU time against counties (slope s/county and R²), and the
speed-up ``none`` / ``local``. Results go to ``OUT/province_bench.json`` and a text table
``OUT/province_bench.txt``, rewritten after every run (``--runs`` picks the runs one by one).

``--repeat K`` runs the whole list K times, one pass after the other (so a slow spell of a shared
machine hits every mode alike); the speed-up is then the ratio of the median wall times, with its
range (slowest ``none`` over fastest ``local`` and the other way round). A 40-second run (10
counties) varies by a few seconds from run to run, enough to move the ratio by 0.1.

``--node-limit N --time-limit T`` run a copy of the scenario whose solves stop at ``N``
branch-and-bound nodes with a wall-clock guard ``T`` that does not bind: the plan is then the
same whatever the load of the machine, and the modes can be compared table for table.
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
    """Peak RSS and CPU time of a process and each of its descendants (every 0.25 s).

    The CPU time of a process is its last sampled user + system time (a process that ends between
    two samples loses at most 0.25 s). The load average of the machine is sampled alongside:
    the machine may be shared, so wall times are read together with CPU times and the load.
    """

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, float] = {}
        self.loads: list[float] = []
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
                    t = p.cpu_times()
                except psutil.Error:
                    continue
                self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)
                role = ("main" if p.pid == self.root.pid else
                        "worker" if ("multiprocessing" in cmd and "resource_tracker" not in cmd)
                        else "other")
                old = self.peak.get(p.pid, (role, 0))
                self.peak[p.pid] = (role, max(old[1], rss))
            self.loads.append(os.getloadavg()[0])
            self.stop.wait(0.25)

    def close(self) -> dict[str, object]:
        self.stop.set()
        self.thread.join()
        gb = 1024 ** 3
        workers = sorted(r / gb for role, r in self.peak.values() if role == "worker")
        main = max([r for role, r in self.peak.values() if role == "main"], default=0) / gb
        roles = {pid: role for pid, (role, _) in self.peak.items()}
        cpu_main = sum(t for pid, t in self.cpu.items() if roles.get(pid) == "main")
        cpu_workers = sum(t for pid, t in self.cpu.items() if roles.get(pid) == "worker")
        cpu_all = sum(self.cpu.values())
        load = float(np.mean(self.loads)) if self.loads else float("nan")
        return {"peak_main_gb": round(main, 3), "peak_worker_gb": [round(w, 3) for w in workers],
                "cpu_main_s": round(cpu_main, 1), "cpu_workers_s": round(cpu_workers, 1),
                "cpu_total_s": round(cpu_all, 1), "load_avg_1min": round(load, 2)}


def bench_scenario(name: str, out: Path, time_limit: float | None,
                   node_limit: int | None) -> str:
    """The scenario to run: ``scenarios/<name>.yaml``, or a copy in ``out`` with solver limits.

    ``--node-limit`` with a ``--time-limit`` that does not bind makes every solve stop at the
    same place whatever the load of the machine, so the modes can be compared table for table
    (a solve stopped by its wall-clock limit depends on how busy the machine is).
    """
    src = ROOT / "scenarios" / f"{name}.yaml"
    if time_limit is None and node_limit is None:
        return name
    text = src.read_text(encoding="utf-8")
    if node_limit is not None:
        text = text.replace("layout: {}", f"layout: {{mip_node_limit: {node_limit}}}")
        if f"mip_node_limit: {node_limit}" not in text:
            raise SystemExit(f"--node-limit: {src} has no 'layout: {{}}' line to replace")
    if time_limit is not None:
        text += f"\nsolver:\n  time_limit: {time_limit}\n"
    path = out / f"{name}_bench.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_once(scenario: str, region: Path, out: Path, mode: str, draws: int | None) -> dict:
    args = [str(SCHOOLPLAN), "run", "-s", scenario, "--region", str(region), "--out", str(out),
            "-q", "--scheduler", "none" if mode == "threads" else mode]
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
    if len(set(xs)) < 2:  # a line needs two sizes (repeats of one size give none)
        return {}
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    slope, icpt = np.polyfit(x, y, 1)
    pred = slope * x + icpt
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(((y - pred) ** 2).sum()) / ss if ss else 1.0
    return {"slope_s_per_county": round(float(slope), 3), "intercept_s": round(float(icpt), 1),
            "r2": round(r2, 6)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", type=Path, required=True)
    ap.add_argument("--counties", default="10,40,100,183")
    ap.add_argument("--modes", default="none,local")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("/tmp/province_bench"))
    ap.add_argument("--time-limit", type=float, default=None,
                    help="solver.time_limit of the benchmark scenario (default: the scenario's)")
    ap.add_argument("--node-limit", type=int, default=None,
                    help="layout.mip_node_limit of the benchmark scenario (default: its own)")
    ap.add_argument("--runs", default=None,
                    help="explicit runs N:mode,... (e.g. 10:none,10:local,183:local) instead of "
                         "--counties x --modes")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the whole list this many times (speed-up on the medians)")
    args = ap.parse_args(argv)
    codes = county_codes(args.region)
    if args.runs:
        plan = [(min(int(n), len(codes)), m) for n, m in (r.split(":", 1) for r in args.runs.split(","))]
    else:
        plan = [(min(int(n), len(codes)), m) for n in args.counties.split(",")
                for m in args.modes.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    scenario = bench_scenario(args.scenario, args.out, args.time_limit, args.node_limit)
    results: list[dict] = []
    for rep, (n, mode) in ((k, run) for k in range(max(1, args.repeat)) for run in plan):
        region = (args.region if n == len(codes) else
                  sub_region(args.region, pick(codes, n), args.out / f"region_{n}"))
        run_out = args.out / f"run_{n}_{mode.replace('/', '_').replace(':', '_')}"
        r = run_once(scenario, region, run_out, mode, args.draws)
        r.update(counties=n, mode=mode, repeat=rep + 1)
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)
        report(args, scenario, results)
    print((args.out / "province_bench.txt").read_text(encoding="utf-8"))


def identical(out: Path, n: int, modes: list[str]) -> bool | None:
    """Plan tables of the runs of ``n`` counties byte-identical across ``modes`` (None: < 2 runs)."""
    folders = [out / f"run_{n}_{m.replace('/', '_').replace(':', '_')}" for m in modes]
    folders = [f for f in folders if (f / "manifest.json").is_file()]
    if len(folders) < 2:
        return None
    return all((folders[0] / t).read_bytes() == (f / t).read_bytes()
               for f in folders[1:] for t in PLAN_TABLES)


def report(args: argparse.Namespace, scenario: str, runs: list[dict]) -> None:
    """Write ``province_bench.json`` and ``province_bench.txt`` from the runs so far."""
    import datetime

    modes = sorted({r["mode"] for r in runs}, key=lambda m: (m != "none", m))
    sizes = sorted({r["counties"] for r in runs})
    summary = {m: {"wall": fit([r["counties"] for r in runs if r["mode"] == m],
                               [r["wall_s"] for r in runs if r["mode"] == m]),
                   "cpu": fit([r["counties"] for r in runs if r["mode"] == m],
                              [r["cpu_total_s"] for r in runs if r["mode"] == m])}
               for m in modes}
    speedups, ranges, same = {}, {}, {}
    for n in sizes:
        t = {m: [r["wall_s"] for r in runs if r["counties"] == n and r["mode"] == m]
             for m in ("none", "local")}
        if t["none"] and t["local"]:
            speedups[n] = round(float(np.median(t["none"]) / np.median(t["local"])), 2)
            ranges[n] = (round(min(t["none"]) / max(t["local"]), 2),
                         round(max(t["none"]) / min(t["local"]), 2), len(t["none"]),
                         len(t["local"]))
        same[n] = identical(args.out, n, [r["mode"] for r in runs if r["counties"] == n])
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    full = {"commit": commit, "date": date,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "scenario": scenario, "draws": args.draws, "runs": runs, "fit": summary,
            "speedup_none_over_local": speedups,
            "speedup_range_and_runs": {n: dict(zip(("low", "high", "runs_none", "runs_local"), v,
                                                    strict=True)) for n, v in ranges.items()},
            "identical_plan_tables": same}
    (args.out / "province_bench.json").write_text(json.dumps(full, indent=1), encoding="utf-8")
    lines = [f"province_bench: commit {commit}, {date}, {os.cpu_count()} CPUs, scenario "
             f"{scenario}, draws {args.draws or 'scenario'}",
             "wall and stage times in s (wall clock: the machine may be shared, see cpu and load);"
             " cpu = user+system of the run's processes (main + workers); GB = peak RSS",
             f"{'counties':>8} {'mode':>6} {'wall':>7} {'cpu':>7} {'load':>5} {'forecast':>8} "
             f"{'fc_out':>7} {'plan':>7} {'plots':>6} {'outputs':>7} {'main GB':>7} "
             f"{'worker GB':>9}"]
    for r in runs:
        st = r["stages_s"]
        lines.append(f"{r['counties']:>8} {r['mode']:>6} {r['wall_s']:>7.1f} "
                     f"{r['cpu_total_s']:>7.1f} {r['load_avg_1min']:>5.1f} "
                     f"{st.get('forecast', 0):>8.1f} {st.get('forecast_outputs', 0):>7.1f} "
                     f"{st.get('plan', 0):>7.1f} {st.get('forecast_plots', 0):>6.1f} "
                     f"{st.get('outputs', 0):>7.1f} "
                     f"{r['peak_main_gb']:>7.2f} {max(r['peak_worker_gb'], default=0):>9.2f}")
    lines += [f"fit {m} (time = slope x counties + intercept): wall {v['wall']}, cpu {v['cpu']}"
              for m, v in summary.items()]
    lines.append(f"speed-up wall none/local (medians): {speedups}")
    if any(v[2] > 1 or v[3] > 1 for v in ranges.values()):
        lines.append("  range (low, high, runs none, runs local): "
                     + ", ".join(f"{n}: {v}" for n, v in ranges.items()))
    lines.append(f"plan tables byte-identical across modes: {same}")
    (args.out / "province_bench.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
