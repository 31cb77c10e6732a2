"""``schoolplan batch``: several scenarios on one region, their counties on one Dask cluster.

Each scenario runs the whole pipeline (:func:`layout.pipeline.run_scenario`) into its own folder
``OUT/<scenario file stem>`` (written atomically, as ``run`` does). With a cluster the scenarios
run side by side: one thread of this process per scenario, each submitting its sub-problems to
the same client, so the cluster's queue holds scenarios × counties × sub-problems at once. The
work done in this process (forecast, model building, tables, plots — matplotlib is not
thread-safe) holds one lock that a scenario gives up only while its sub-problems are on the
cluster (:class:`_LockedExecutor`: its sub-problems, or its forecast's per-county pieces and
plots). Without a cluster the scenarios run one after the other. A
scenario that fails is reported with its reason and the others finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Say = Callable[[str], None]


@dataclass
class BatchItem:
    """Outcome of one scenario of a batch."""

    scenario: Path
    out: Path
    ok: bool = False
    error: str = ""
    seconds: float = 0.0
    summary: str = ""
    notes: list[str] = field(default_factory=list)


def output_folders(scenarios: list[Path], out: Path) -> list[Path]:
    """``out/<stem>`` per scenario; repeated stems get ``-2``, ``-3``... in the given order."""
    seen: dict[str, int] = {}
    folders = []
    for path in scenarios:
        stem = Path(path).stem
        seen[stem] = seen.get(stem, 0) + 1
        folders.append(out / (stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"))
    return folders


@dataclass
class _LockedQueue:
    """A :class:`layout.distributed.SolveQueue` that lets go of ``lock`` while waiting."""

    inner: Any
    lock: threading.Lock

    def add(self, subs: Any) -> None:
        """Submit ``subs`` (the scenario holds the lock while it builds them)."""
        self.inner.add(subs)

    def finish(self, failed: dict[str, str] | None) -> None:
        """Wait for the solves, other scenarios working here meanwhile."""
        self.lock.release()
        try:
            self.inner.finish(failed)
        finally:
            self.lock.acquire()


@dataclass
class _LockedExecutor:
    """A :class:`layout.distributed.DaskExecutor` that lets go of ``lock`` while solving."""

    inner: Any
    lock: threading.Lock

    def solve(self, subs: Any, params: Any, *, failed: dict[str, str] | None,
              **kwargs: Any) -> None:
        """Solve ``subs`` on the cluster, other scenarios working here meanwhile (its queue)."""
        queue = self.queue(params, **kwargs)
        queue.add(subs)
        queue.finish(failed)

    def queue(self, params: Any, **kwargs: Any) -> _LockedQueue:
        """A solve queue whose :meth:`~layout.distributed.SolveQueue.finish` lets go of ``lock``."""
        return _LockedQueue(self.inner.queue(params, **kwargs), self.lock)

    def map(self, fn: Callable[..., Any], items: Any, *args: Any) -> list[Any]:
        """Run the forecast's pieces on the cluster, other scenarios working here meanwhile."""
        return self.start(fn, items, *args)()

    def start(self, fn: Callable[..., Any], items: Any, *args: Any) -> Callable[[], list[Any]]:
        """Submit pieces to the cluster; while waiting for them, other scenarios work here."""
        pending = self.inner.start(fn, items, *args)

        def results() -> list[Any]:
            self.lock.release()
            try:
                return list(pending())
            finally:
                self.lock.acquire()

        return results


def _run_one(item: BatchItem, region: Path | None, draws: int | None, threads: int | None,
             executor: Any, lock: threading.Lock,
             error_text: Callable[[BaseException, Path], str]) -> BatchItem:
    import dataclasses

    from layout.outputs.atomic import staged_folder
    from layout.pipeline import run_scenario, summary_text
    from layout.plan.planner import NOT_PLANNED
    from layout.scenario import load_scenario

    t0 = time.perf_counter()
    try:
        sc = load_scenario(item.scenario)
        if threads is not None:
            sc = dataclasses.replace(sc, solver=sc.solver.model_copy(update={"threads": threads}))
        with lock, staged_folder(item.out) as stage:
            res = run_scenario(sc, stage, region_path=region, draws=draws, progress=False,
                               executor=executor)
        plan = res.require_plan()
        item.summary = summary_text(plan)
        item.notes = [n for n in plan.notes if NOT_PLANNED in n]
        item.ok = True
    except Exception as exc:  # one scenario's failure must not stop the batch
        item.error = error_text(exc, item.out)
    item.seconds = round(time.perf_counter() - t0, 1)
    return item


def run_batch(scenarios: list[Path], out: Path, *, region: Path | None = None,
              draws: int | None = None, threads: int | None = None, client: Any = None,
              parallel: int | None = None, progress: bool = True, say: Say | None = None,
              error_text: Callable[[BaseException, Path], str] | None = None) -> list[BatchItem]:
    """Run every scenario on ``region`` into ``out/<stem>``; return one item per scenario.

    Parameters
    ----------
    scenarios : list of Path
        Scenario files, in the order reported.
    out : Path
        Parent folder of the scenarios' output folders.
    region : Path, optional
        Region folder for every scenario (default: each scenario's own).
    draws, threads : int, optional
        Overrides of the Monte Carlo draws and solver threads.
    client : dask.distributed.Client, optional
        Cluster for the sub-problems (``None``: in-process, scenarios one at a time).
    parallel : int, optional
        Scenarios run at once with a client (default: all, at most 4).
    progress : bool
        A progress bar over the scenarios.
    say : callable, optional
        Receives one line per finished scenario.
    error_text : callable, optional
        Message of a failed scenario from its exception and output folder.

    """
    from tqdm.auto import tqdm

    from layout.distributed import executor_for

    say = say or (lambda _m: None)
    error_text = error_text or (lambda exc, _out: f"{type(exc).__name__}: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    items = [BatchItem(Path(s), o) for s, o in zip(scenarios, output_folders(scenarios, out),
                                                   strict=True)]
    lock = threading.Lock()
    inner = executor_for(client)
    executor = None if inner is None else _LockedExecutor(inner, lock)
    n = 1 if client is None else max(1, min(parallel or 4, len(items)))
    bar = tqdm(total=len(items), desc="batch", unit="scenario", disable=not progress)

    def one(item: BatchItem) -> BatchItem:
        done = _run_one(item, region, draws, threads, executor, lock, error_text)
        bar.update(1)
        say(f"{item.out.name}: " + (f"done in {done.seconds:.0f} s" if done.ok
                                     else f"FAILED: {done.error}"))
        for note in done.notes:
            say(f"{item.out.name}: WARNING: {note}")
        return done

    with ThreadPoolExecutor(max_workers=n) as pool:
        finished = list(pool.map(one, items))
    bar.close()
    return finished
