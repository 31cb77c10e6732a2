"""Where the forecast's independent per-county pieces run: a hook for a task scheduler.

The forecast itself never starts processes. Its independent per-county loops (the births
back-test: a few statsmodels fits per county and origin) call :func:`map_tasks`, which runs them
here, one after the other, unless a caller has installed a mapper with :func:`using_mapper`
(``layout.distributed`` installs one that submits the pieces as Dask tasks). A mapper must
return the results in the order of the items, so the forecast is the same wherever it ran.

:func:`start_tasks` is the same without waiting: it hands the pieces to the installed starter
(the Dask executor submits them at once) and returns a function that waits for them and gives the
results; the caller does its own work in between. Without a starter the pieces run when that
function is called, in this process, so the results are the same either way.

Examples
--------
>>> map_tasks(pow, [1, 2, 3], 2)
[1, 4, 9]
>>> with using_mapper(lambda fn, items, *args: [fn(x, *args) for x in reversed(items)][::-1]):
...     map_tasks(pow, [1, 2, 3], 2)
[1, 4, 9]
>>> results = start_tasks(pow, [1, 2, 3], 2)  # nothing has run yet (no starter installed)
>>> results()
[1, 4, 9]

"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Mapper = Callable[..., list[Any]]
"""``mapper(fn, items, *args) -> [fn(item, *args) for item in items]`` (in the items' order)."""

Pending = Callable[[], list[Any]]
"""Waits for pieces started by :func:`start_tasks` and returns their results in the items' order."""

Starter = Callable[..., Pending]
"""``starter(fn, items, *args) -> Pending``: submits the pieces and returns at once."""

_MAPPER: ContextVar[Mapper | None] = ContextVar("forecasting_mapper", default=None)
_STARTER: ContextVar[Starter | None] = ContextVar("forecasting_starter", default=None)


def map_tasks(fn: Callable[..., Any], items: Sequence[Any], *args: Any) -> list[Any]:
    """``[fn(item, *args) for item in items]``, through the installed mapper if any.

    Parameters
    ----------
    fn : callable
        A module-level function (it may be sent to another process).
    items : sequence
        One piece of work each (e.g. a county's series).
    *args
        Shared arguments, the same for every item.

    Returns
    -------
    list
        The results in the order of ``items``.

    """
    mapper = _MAPPER.get()
    if mapper is None or len(items) < 2:
        return [fn(item, *args) for item in items]
    return list(mapper(fn, items, *args))


def start_tasks(fn: Callable[..., Any], items: Sequence[Any], *args: Any) -> Pending:
    """Start ``[fn(item, *args) for item in items]`` and return a function that waits for it.

    With a starter installed (:func:`using_mapper`) the pieces are submitted now and run while
    the caller goes on; without one they run, in this process, when the returned function is
    called. Arguments as :func:`map_tasks`.

    Returns
    -------
    callable
        Called without arguments: the results in the order of ``items`` (it may be called once).

    """
    starter = _STARTER.get()
    if starter is None or not items:
        return lambda: [fn(item, *args) for item in items]
    return starter(fn, items, *args)


@contextmanager
def using_mapper(mapper: Mapper | None, starter: Starter | None = None) -> Iterator[None]:
    """Run :func:`map_tasks` through ``mapper``, :func:`start_tasks` through ``starter``.

    ``None``: in-process.
    """
    token, token_start = _MAPPER.set(mapper), _STARTER.set(starter)
    try:
        yield
    finally:
        _MAPPER.reset(token)
        _STARTER.reset(token_start)
