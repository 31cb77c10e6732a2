"""Where the forecast's independent per-county pieces run: a hook for a task scheduler.

The forecast itself never starts processes. Its independent per-county loops (the births
back-test: a few statsmodels fits per county and origin) call :func:`map_tasks`, which runs them
here, one after the other, unless a caller has installed a mapper with :func:`using_mapper`
(``layout.distributed`` installs one that submits the pieces as Dask tasks). A mapper must
return the results in the order of the items, so the forecast is the same wherever it ran.

Examples
--------
>>> map_tasks(pow, [1, 2, 3], 2)
[1, 4, 9]
>>> with using_mapper(lambda fn, items, *args: [fn(x, *args) for x in reversed(items)][::-1]):
...     map_tasks(pow, [1, 2, 3], 2)
[1, 4, 9]

"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Mapper = Callable[..., list[Any]]
"""``mapper(fn, items, *args) -> [fn(item, *args) for item in items]`` (in the items' order)."""

_MAPPER: ContextVar[Mapper | None] = ContextVar("forecasting_mapper", default=None)


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


@contextmanager
def using_mapper(mapper: Mapper | None) -> Iterator[None]:
    """Run :func:`map_tasks` through ``mapper`` in this context (``None``: in-process)."""
    token = _MAPPER.set(mapper)
    try:
        yield
    finally:
        _MAPPER.reset(token)
