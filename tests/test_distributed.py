"""`--scheduler local|ADDRESS`: the plan's sub-problems as Dask tasks (tiny SYNTHETIC region).

The same plan tables as in-process; a county whose solve raises on a worker is reported by name
and the other county is planned; `schoolplan batch` runs scenarios on one cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from layout.cli import app
from layout.distributed import SchedulerError, check_scheduler

FIX = Path(__file__).parent / "fixtures"
TINY_SCENARIO = FIX / "scenarios" / "tiny.yaml"
TINY_REGION = FIX / "region" / "tiny"
PLAN_TABLES = ("schools.csv", "assignments.csv", "unserved.csv", "kpis.csv", "projects.csv")
runner = CliRunner()

pytestmark = pytest.mark.timeout(600)


def _run(out: Path, *extra: str, quiet: bool = True) -> str:
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(out),
                              *(["-q"] if quiet else []), *extra])
    assert res.exit_code == 0, res.output
    return res.output


def _records(folder: Path) -> pd.DataFrame:
    rec = pd.read_csv(folder / "solver_records.csv", encoding="utf-8-sig", dtype=str)
    return rec.drop(columns=[c for c in ("wall_time",) if c in rec])


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A 2-worker LocalCluster (one single-threaded process each), as `--scheduler local`."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:
        yield c


def test_local_cluster_gives_the_same_plan_tables_as_in_process(tmp_path: Path) -> None:
    _run(tmp_path / "none", "--scheduler", "none")
    said = _run(tmp_path / "local", "--scheduler", "local", "--workers", "2", quiet=False)
    assert "2 workers" in said
    for name in PLAN_TABLES:
        assert (tmp_path / "none" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    pd.testing.assert_frame_equal(_records(tmp_path / "none"), _records(tmp_path / "local"))
    # the forecast's per-county pieces (births back-test fits) and plots ran as tasks: same files
    forecast = sorted(p.relative_to(tmp_path / "none") for p in (tmp_path / "none" / "forecast")
                      .rglob("*") if p.is_file())
    assert any(p.suffix == ".png" for p in forecast)
    for rel in forecast:
        assert (tmp_path / "none" / rel).read_bytes() == (tmp_path / "local" / rel).read_bytes(), rel


def test_executor_map_keeps_the_items_order(cluster: object) -> None:
    from dask.distributed import Client

    from forecasting.parallel import map_tasks
    from layout.distributed import executor_for, using

    items = list(range(23))
    with Client(cluster.scheduler_address) as client, using(executor_for(client)):  # type: ignore[attr-defined]
        got = map_tasks(pow, items, 3)
    assert got == [i**3 for i in items]


def _without_women(src: Path, dst: Path, county: str) -> Path:
    """A copy of the tiny region in which ``county`` has no women aged 15-49."""
    import shutil

    shutil.copytree(src, dst)
    lines = (dst / "women.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    out = []
    for line in lines:
        cells = line.rstrip("\n").split(",")
        if cells[0].startswith(county) and len(cells) == 3:
            line = f"{cells[0]},{cells[1]},0\n"
        out.append(line)
    (dst / "women.csv").write_text("".join(out), encoding="utf-8")
    return dst


def test_a_county_without_women_is_named_and_the_other_is_planned(
    tmp_path: Path, cluster: object
) -> None:
    region = _without_women(TINY_REGION, tmp_path / "region", "519902")
    addr = cluster.scheduler_address  # type: ignore[attr-defined]
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "--region", str(region),
                              "-o", str(tmp_path / "out"), "-q", "--scheduler", addr])
    assert res.exit_code == 0, res.output
    warning = [line for line in res.output.splitlines() if "not planned" in line]
    assert len(warning) == 1, res.output
    assert "county 519902" in warning[0]
    assert "no women aged 15-49" in warning[0]
    schools = pd.read_csv(tmp_path / "out" / "schools.csv", encoding="utf-8-sig", dtype=str)
    assert set(schools["county_code"]) == {"519901"}
    rec = _records(tmp_path / "out")
    failed = rec[rec["status"] == "failed"]
    assert failed["county_code"].tolist() == ["519902"]
    assert "women aged 15-49" in failed["reason"].iloc[0]
    manifest = (tmp_path / "out" / "manifest.json").read_text(encoding="utf-8")
    assert str(region) in manifest  # the inputs as given, not the filtered copy


def _break_county_519902() -> None:
    """Runs on each worker: the solve of county 519902 raises (a solver error)."""
    import layout.plan.model as model

    real = model.solve_subproblem

    def broken(sub, *args, **kwargs):  # type: ignore[no-untyped-def]
        if sub.county_code == "519902":
            raise ValueError("injected solver failure in 山乡")
        return real(sub, *args, **kwargs)

    model._real_solve_subproblem = real  # type: ignore[attr-defined]
    model.solve_subproblem = broken


def _mend_county_519902() -> None:
    """Runs on each worker: undo :func:`_break_county_519902` (quicker than a restart)."""
    import layout.plan.model as model

    model.solve_subproblem = model._real_solve_subproblem  # type: ignore[attr-defined]


def test_a_county_failing_on_a_worker_is_named_and_the_other_is_written(
    tmp_path: Path, cluster: object
) -> None:
    import cloudpickle
    from dask.distributed import Client

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    addr = cluster.scheduler_address  # type: ignore[attr-defined]
    with Client(addr) as client:
        client.run(_break_county_519902)
        try:
            said = _run(tmp_path / "out", "--scheduler", addr)
        finally:
            client.run(_mend_county_519902)  # undo the patch for other tests on this cluster
    warning = [line for line in said.splitlines() if "not planned" in line]
    assert len(warning) == 1, said
    assert "county 519902" in warning[0]
    assert "injected solver failure" in warning[0]
    schools = pd.read_csv(tmp_path / "out" / "schools.csv", encoding="utf-8-sig", dtype=str)
    assert set(schools.loc[schools["level"] != "vocational", "county_code"]) == {"519901"}
    rec = _records(tmp_path / "out")
    failed = rec[rec["status"] == "failed"]
    assert failed["county_code"].tolist() == ["519902"]
    assert "injected solver failure" in failed["reason"].iloc[0]


def test_batch_runs_scenarios_on_one_cluster_and_isolates_a_bad_one(
    tmp_path: Path, cluster: object
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_SCENARIO.read_text(encoding="utf-8") + "\nunknown_key: 1\n",
                   encoding="utf-8")
    addr = cluster.scheduler_address  # type: ignore[attr-defined]
    res = runner.invoke(app, ["batch", str(TINY_SCENARIO), str(bad), "--region", str(TINY_REGION),
                              "--out", str(tmp_path / "out"), "-q", "--scheduler", addr])
    assert res.exit_code == 1, res.output
    assert "1 of 2 scenarios written" in res.output
    assert "unknown_key" in res.output
    for name in PLAN_TABLES:
        assert (tmp_path / "out" / "tiny" / name).is_file(), name
    assert not (tmp_path / "out" / "bad").exists()
    # the batch's plan equals a single in-process run of the same scenario
    _run(tmp_path / "single")
    for name in PLAN_TABLES:
        assert ((tmp_path / "out" / "tiny" / name).read_bytes()
                == (tmp_path / "single" / name).read_bytes()), name


def test_scheduler_values() -> None:
    assert check_scheduler("LOCAL") == "local"
    assert check_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert check_scheduler("scheduler-host:8786") == "scheduler-host:8786"
    with pytest.raises(SchedulerError, match="one of none, local"):
        check_scheduler("threads")


def test_bad_scheduler_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "-s", str(TINY_SCENARIO), "-o", str(tmp_path / "o"), "-q",
                              "--scheduler", "cluster-please"])
    assert res.exit_code == 2, res.output
    assert "--scheduler" in res.output
    assert not (tmp_path / "o").exists()


def test_local_workers_keep_glibc_default_memory_trimming(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask's eager MALLOC_TRIM_THRESHOLD_ slowed the solves by 17 %; local workers go without it.

    A cluster started by another test (Dask's default) leaves the variable in this process's
    environment, which workers inherit; a ``schoolplan run`` starts without it.
    """
    import os

    from layout.distributed import open_client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with open_client("local", workers=1) as client:
        seen = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(seen.values()) == [None]


def test_started_tasks_come_back_in_order_after_other_work(cluster: object) -> None:
    from dask.distributed import Client

    from forecasting.parallel import start_tasks
    from layout.distributed import executor_for, using

    items = list(range(17))
    with Client(cluster.scheduler_address) as client, using(executor_for(client)):  # type: ignore[attr-defined]
        pending = start_tasks(pow, items, 2)
        assert client.futures  # submitted before anyone waits
        here = sum(items)  # the caller's own work meanwhile
        got = pending()
    assert here == 136
    assert got == [i**2 for i in items]


def test_batch_executor_lets_go_of_the_lock_only_while_waiting() -> None:
    import threading

    from layout.batch import _LockedExecutor

    lock, held = threading.Lock(), []

    class Inner:
        def start(self, fn, items, *args):  # type: ignore[no-untyped-def]
            held.append(lock.locked())

            def wait() -> list[int]:
                held.append(lock.locked())
                return [fn(i, *args) for i in items]

            return wait

    lock.acquire()
    executor = _LockedExecutor(Inner(), lock)
    pending = executor.start(pow, [1, 2, 3], 2)
    assert executor.map(pow, [4], 2) == [16]
    assert pending() == [1, 4, 9]
    assert lock.locked()  # taken back for the scenario's own work
    assert held == [True, True, False, False]  # submitting holds it, waiting lets it go


def test_batch_solve_queue_lets_go_of_the_lock_only_while_waiting() -> None:
    import threading

    from layout.batch import _LockedExecutor

    lock, held = threading.Lock(), []

    class Queue:
        def add(self, subs):  # type: ignore[no-untyped-def]
            held.append(("add", lock.locked()))

        def finish(self, failed):  # type: ignore[no-untyped-def]
            held.append(("finish", lock.locked()))
            failed["519902"] = "reason"

    class Inner:
        def queue(self, params, **kwargs):  # type: ignore[no-untyped-def]
            return Queue()

    lock.acquire()
    queue = _LockedExecutor(Inner(), lock).queue(None, time_limit=1, threads=1, seed=0)
    queue.add([1])
    queue.add([2])
    failed: dict[str, str] = {}
    queue.finish(failed)
    assert failed == {"519902": "reason"}
    assert lock.locked()  # taken back for the scenario's own work
    # building and submitting a county's parts holds the lock, waiting for the solves lets it go
    assert held == [("add", True), ("add", True), ("finish", False)]


def test_a_local_cluster_that_cannot_start_runs_in_process_and_says_so(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`--scheduler local` is the default: where no worker process may start, the run goes on
    in-process with a warning (the same files); the Python API raises a SchedulerError."""
    import dask.distributed

    from layout.distributed import open_client

    def no_cluster(**_kwargs: object) -> object:
        raise OSError("no worker processes allowed here")

    monkeypatch.setattr(dask.distributed, "LocalCluster", no_cluster)
    heard: list[str] = []
    with open_client("local", say=heard.append) as client:
        assert client is None
    assert "no worker processes allowed here" in heard[0]
    assert "in-process" in heard[0]
    with pytest.raises(SchedulerError, match="--scheduler none"), open_client("local"):
        pass
    out = tmp_path / "o"
    output = _run(out)  # the CLI's default scheduler
    assert "cannot start a local Dask cluster" in output
    assert (out / "schools.csv").exists()
