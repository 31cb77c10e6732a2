"""Run the pipeline's independent pieces as Dask tasks: in-process, on a local cluster or on a real one.

``schoolplan run --scheduler none|local|tcp://HOST:PORT`` picks where the independent pieces of
a run go: the solver sub-problems of :func:`layout.plan.plan_layout` (and of the staged plan),
the forecast's pieces (the births back-test fits, the enrollment back-test, the projection per
group of counties: :mod:`forecasting.parallel`), the
forecast's per-county plots (:mod:`layout.forecast_outputs`), the staged plan's per-county
tables (:mod:`layout.plan.staged_finish`), the workbook and each prefecture's map and workbook
(:func:`layout.pipeline.write_plan_outputs`):

- ``local`` (the CLI's default): a :class:`dask.distributed.LocalCluster` started for the run,
  one single-threaded worker process per core (``--workers`` to change), closed at the end; if
  it cannot start, the CLI says so and runs in-process;
- ``none``: in this process (a thread pool of ``--threads`` solves); the Python API's default;
- an address (``tcp://10.0.0.5:8786``): a :class:`dask.distributed.Client` connected to a
  running scheduler (``dask scheduler`` + ``dask worker``, dask-jobqueue on a batch system, or
  dask-kubernetes); the workers need this package installed in the same version.

Every sub-problem is one task (:meth:`DaskExecutor.solve`), the largest first among those
waiting; the staged plan submits each county's as soon as its model is built
(:class:`SolveQueue`), so the workers solve while the main process builds the next county. The
forecast's pieces go as tasks of consecutive county groups (:meth:`DaskExecutor.map`). The results
are taken back in the submission order of the sub-problems, never in the order they finish, and
each solve depends only on its own model, seed and node limit, so the plan tables are identical
to ``--scheduler none``, and the forecast's pieces come back in county order, so the forecast
and its files are too. A sub-problem that raises on a worker (or whose worker dies) marks its
county as failed with the reason; the other counties are planned (the planner's isolation).

The executor reaches the planner and the forecast through context variables (:func:`using`), set
by :func:`layout.pipeline.run_scenario` for its stages, so their signatures stay as they are.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from schoolsystem.errors import ProjectError

SCHEDULER_CHOICES = ("none", "local")
"""Named schedulers; anything else must be a scheduler address (``tcp://HOST:PORT``)."""


class SchedulerError(ProjectError):
    """A ``--scheduler`` value that is neither a known name nor a reachable scheduler address."""


def check_scheduler(value: str) -> str:
    """``value`` if it is ``none``, ``local`` or a scheduler address, else :class:`SchedulerError`."""
    v = value.strip()
    if v.lower() in SCHEDULER_CHOICES:
        return v.lower()
    if "://" in v or (":" in v and v.rsplit(":", 1)[1].isdigit()):
        return v
    raise SchedulerError(f"--scheduler {value!r}: one of none, local or a scheduler address "
                         "such as tcp://HOST:8786")


def local_worker_count() -> int:
    """Cores this process may use (the default number of local workers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_client(scheduler: str, *, workers: int | None = None,
                memory_limit: str | None = None,
                say: Callable[[str], None] | None = None) -> Iterator[Any]:
    """A Dask client for ``scheduler`` (``None`` for ``none``), closed on exit.

    Parameters
    ----------
    scheduler : str
        ``none``, ``local`` or a scheduler address.
    workers : int, optional
        Worker processes of a ``local`` cluster (default: one per core).
    memory_limit : str, optional
        Memory limit per local worker (Dask's default: the machine's memory shared evenly).
    say : callable, optional
        Told when a ``local`` cluster cannot start (no worker processes allowed, no free
        port...): the run then goes on in-process (``None``), which gives the same files.
        Without it, :class:`SchedulerError` is raised instead.

    """
    scheduler = check_scheduler(scheduler)
    if scheduler == "none":
        yield None
        return
    if scheduler == "local":
        with _local_client(workers, memory_limit, say) as client:
            yield client
        return
    from dask.distributed import Client

    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler "
                             f"({exc})") from None
    with client:
        yield client


@contextmanager
def _local_client(workers: int | None, memory_limit: str | None,
                  say: Callable[[str], None] | None) -> Iterator[Any]:
    """:func:`open_client` of ``local``: a LocalCluster and its client, or ``None`` (see there)."""
    import dask
    from dask.distributed import Client, LocalCluster

    n = workers or local_worker_count()
    kwargs: dict[str, Any] = {"n_workers": n, "threads_per_worker": 1, "processes": True,
                              "dashboard_address": None}
    if memory_limit:
        kwargs["memory_limit"] = memory_limit
    stack = ExitStack()
    try:
        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which gives memory back to the
        # system eagerly; the solvers allocate and free large arrays all the time, and the same
        # eight staged sub-problems took 56.2 s in such workers against 46.6 s without it
        # (49.4 s in two threads of one process). Workers of this run get glibc's default.
        stack.enter_context(dask.config.set(
            {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}))
        cluster = stack.enter_context(LocalCluster(**kwargs))
        client = stack.enter_context(Client(cluster))
    except Exception as exc:  # the cluster could not start: nothing of the run is lost yet
        stack.close()
        reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        if say is None:
            raise SchedulerError(f"--scheduler local: cannot start a local Dask cluster "
                                 f"({reason}); use --scheduler none") from None
        say(f"WARNING: cannot start a local Dask cluster ({reason}); running in-process "
            "(--scheduler none), which gives the same files")
        client = None
    with stack:
        yield client


def _chunk_task(fn: Callable[..., Any], chunk: Sequence[Any], args: tuple[Any, ...]) -> list[Any]:
    """Worker side: ``fn`` over one group of items (one task of :meth:`DaskExecutor.map`)."""
    return [fn(item, *args) for item in chunk]


def chunks(n_items: int, n_workers: int, per_worker: int = 4) -> list[range]:
    """Consecutive index ranges: about ``per_worker`` groups per worker, at least one item each.

    Examples
    --------
    >>> [list(r) for r in chunks(5, 1, per_worker=2)]
    [[0, 1], [2, 3, 4]]
    >>> len(chunks(183, 2))
    8

    """
    n_groups = max(1, min(n_items, n_workers * per_worker))
    bounds = [round(i * n_items / n_groups) for i in range(n_groups + 1)]
    return [range(a, b) for a, b in itertools.pairwise(bounds) if b > a]


@contextmanager
def _quiet_submit() -> Iterator[None]:
    """Submit without Dask's notice on task data above 10 MB.

    A county group or a prefecture's plan has to reach a worker either way; the notice
    (advice on loading data with Dask) would only alarm the planner reading the run's output.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        yield


def _solve_task(sub: Any, params: Any, time_limit: float, threads: int, seed: int) -> Any:
    """Worker side: solve one sub-problem; ``(sub, None)`` or ``(None, reason)``."""
    from layout.plan.model import solve_subproblem
    from layout.plan.planner import failure_reason

    try:
        return solve_subproblem(sub, params, time_limit=time_limit, threads=threads,
                                seed=seed), None
    except Exception as exc:  # the county is set aside on the client, with this reason
        return None, f"{sub.name}: {failure_reason(exc)}"


@dataclass
class DaskExecutor:
    """Solves sub-problems as tasks on a Dask client (see the module notes).

    Attributes
    ----------
    client : dask.distributed.Client
    progress : bool
        Show a progress bar that follows the futures as they finish.

    """

    client: Any
    progress: bool = False

    def map(self, fn: Callable[..., Any], items: Sequence[Any], *args: Any) -> list[Any]:
        """``[fn(item, *args) for item in items]`` as tasks of county groups, in the items' order.

        The items are cut into consecutive groups (about four per worker thread, so a slow
        group does not leave the others idle); each group is one task. The results are taken
        back in the items' order, so they are the same as in-process. This is the mapper of
        :func:`forecasting.parallel.map_tasks` (the forecast's per-county pieces, the plots).
        A task that raises re-raises here, as it would in-process.
        """
        return self.start(fn, items, *args)()

    def start(self, fn: Callable[..., Any], items: Sequence[Any],
              *args: Any) -> Callable[[], list[Any]]:
        """Submit :meth:`map`'s tasks and return at once; the returned function waits for them.

        The starter of :func:`forecasting.parallel.start_tasks`: the caller goes on with its
        own work (writing files, building models) while the workers run the pieces.
        """
        from dask.distributed import as_completed
        from tqdm.auto import tqdm

        threads = sum(self.client.nthreads().values()) or 1
        groups = [[items[i] for i in r] for r in chunks(len(items), threads)]
        name = getattr(fn, "__name__", "task").strip("_")
        with _quiet_submit():
            futures = [self.client.submit(_chunk_task, fn, g, args, pure=False,
                                          key=f"{name}-{k}-{uuid.uuid4().hex[:8]}")
                       for k, g in enumerate(groups)]

        def results() -> list[Any]:
            bar = tqdm(total=len(futures), desc=name, unit="task", disable=not self.progress,
                       leave=False)
            for _ in as_completed(futures):
                bar.update(1)
            bar.close()
            out = [r for part in self.client.gather(futures) for r in part]
            futures.clear()
            return out

        return results

    def solve(self, subs: Sequence[Any], params: Any, *, time_limit: float, threads: int,
              seed: int, failed: dict[str, str] | None) -> None:
        """Solve ``subs`` on the cluster; each ``sub.model`` is replaced by the solved one.

        ``failed`` (county code -> reason) gets the counties of sub-problems that raised or were
        lost with their worker; without it the first failure is raised.
        """
        queue = self.queue(params, time_limit=time_limit, threads=threads, seed=seed)
        queue.add(subs)
        queue.finish(failed)

    def queue(self, params: Any, *, time_limit: float, threads: int, seed: int) -> SolveQueue:
        """A :class:`SolveQueue`: sub-problems submitted as they are built, collected at the end."""
        return SolveQueue(self.client, params, time_limit, threads, seed, self.progress)


@dataclass
class SolveQueue:
    """Sub-problems solved on the cluster while the caller builds the next ones.

    :meth:`add` submits one county's parts at once, so the workers start solving while the
    main process is still building the other counties' models; each task's Dask priority is
    its size, so among the tasks waiting the largest runs first (as :meth:`DaskExecutor.solve`
    orders them). :meth:`finish` waits for every task and puts each solved model back on its
    sub-problem in the order they were added, so the plan does not depend on the schedule.
    """

    client: Any
    params: Any
    time_limit: float
    threads: int
    seed: int
    progress: bool = False
    subs: list[Any] = field(default_factory=list)
    futures: list[Any] = field(default_factory=list)

    def add(self, subs: Sequence[Any]) -> None:
        """Submit ``subs`` (their order is kept for :meth:`finish`)."""
        for sub in subs:
            i = len(self.subs)
            self.subs.append(sub)
            with _quiet_submit():
                self.futures.append(self.client.submit(
                    _solve_task, sub, params=self.params, time_limit=self.time_limit,
                    threads=self.threads, seed=self.seed, pure=False,
                    key=f"solve-{sub.name}-{i}-{uuid.uuid4().hex[:8]}", priority=int(sub.size)))

    def finish(self, failed: dict[str, str] | None) -> None:
        """Wait for every task; see :meth:`DaskExecutor.solve` for ``failed``."""
        from dask.distributed import as_completed
        from tqdm.auto import tqdm

        bar = tqdm(total=len(self.futures), desc="solve", unit="task",
                   disable=not self.progress, leave=False)
        for _ in as_completed(self.futures):
            bar.update(1)
        bar.close()
        for sub, fut in zip(self.subs, self.futures, strict=True):
            try:
                solved, reason = fut.result()
            except Exception as exc:  # the worker died, or the task could not run
                from layout.plan.planner import failure_reason

                solved, reason = None, f"{sub.name}: {failure_reason(exc)}"
            if solved is None:
                if failed is None:
                    raise RuntimeError(reason)
                failed.setdefault(sub.county_code, str(reason))
                continue
            vars(sub).update(vars(solved))  # its solved state: the model, what refine learnt
        self.subs.clear()
        self.futures.clear()


_CURRENT: ContextVar[DaskExecutor | None] = ContextVar("layout_dask_executor", default=None)


def current_executor() -> DaskExecutor | None:
    """The executor set by :func:`using` in this context, or ``None`` (solve in-process)."""
    return _CURRENT.get()


@contextmanager
def using(executor: DaskExecutor | None) -> Iterator[None]:
    """Let the planner's solves and the forecast's pieces in this context go to ``executor``.

    ``None``: in-process. The forecast's per-county pieces, the plots and the staged plan's
    per-county tables reach the executor's :meth:`~DaskExecutor.map` and
    :meth:`~DaskExecutor.start` through :func:`forecasting.parallel.using_mapper`.
    """
    from forecasting.parallel import using_mapper

    token = _CURRENT.set(executor)
    try:
        with using_mapper(None if executor is None else executor.map,
                          getattr(executor, "start", None)):
            yield
    finally:
        _CURRENT.reset(token)


def executor_for(client: Any, progress: bool = False) -> DaskExecutor | None:
    """A :class:`DaskExecutor` on ``client``, or ``None`` when there is no client."""
    return None if client is None else DaskExecutor(client, progress=progress)


def describe(client: Any) -> str:
    """One line: where the sub-problems are solved."""
    if client is None:
        return "scheduler: none (in-process)"
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
    return f"scheduler: {client.scheduler.address} ({len(workers)} workers, {threads} threads)"

