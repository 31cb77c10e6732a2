"""The branch and bound of :mod:`layout.core.radius_bb` on several LP copies at once.

With ``workers`` > 1 (the solver's ``threads``) each worker holds its own copy of the radius LP
(:func:`layout.core.backends.clone_highs`; HiGHS releases the GIL while it solves, so the
copies run side by side) and its own depth-first stack. The search goes in **rounds**: every
worker explores up to ``batch`` nodes of its own stack with the best plan known at the start of
the round (and the ones it finds itself); then, in worker order, the best plans are merged and
a worker whose stack ran dry takes the oldest node (the largest subtree) of the fullest stack.
While a worker has nothing to do (at the start, near the end) rounds are one node long.

Each worker's LP sees the same sequence of nodes whatever the timing of the threads, so the
search, its node counts and the plan it returns are the same from run to run for the same
``workers``. Level rows are valid everywhere: a worker adds the ones its nodes need, and a node
taken from another worker has its fixed levels mapped to the taker's columns (added if
missing). Exactness is that of the serial search: every node is explored or pruned against a
plan that exists.
"""

from __future__ import annotations

import copy
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from layout.core.backends import clone_highs
from layout.core.radius_bb import (
    TreeResult,
    _Node,
    _release,
    _result,
    _work,
    _Worker,
)

if TYPE_CHECKING:
    from layout.core.radius import _Run
    from layout.core.radius_model import _Model

BATCH = 4
"""Nodes a worker explores per round."""


def clone_model(model: _Model) -> _Model:
    """An independent copy of a radius model (its own LP, levels and rows)."""
    c = copy.copy(model)
    for name in ("in_s", "zcol", "coef", "zpos", "hard"):
        setattr(c, name, getattr(model, name).copy())
    c._anchor_cache = None
    c.h = clone_highs(model.h)
    return c


def _adopt(node: _Node, src: _Model, dst: _Model, m: int) -> _Node:
    """``node`` of a worker on ``src`` for a worker on ``dst``: level columns mapped, no basis."""
    pos = src.zpos[node.zoff - m]
    missing = pos[dst.zcol[pos] < 0]
    if missing.size:
        dst.add(missing.astype(np.int64), np.zeros(0, dtype=np.int64))
    cols = np.unique(dst.zcol[pos]).astype(np.int32)
    return _Node(node.lo, node.hi, cols, node.bound, None)


def _balance(ws: list[_Worker], m: int) -> None:
    """Give each worker without nodes the oldest node of the fullest stack (worker order)."""
    for w in ws:
        if w.stack:
            continue
        donor = max(ws, key=lambda v: len(v.stack))
        if len(donor.stack) < 2:
            return
        w.stack.append(_adopt(donor.stack.pop(0), donor.run.model, w.run.model, m))


def parallel_tree(run: _Run, root: _Node, workers: int, batch: int = BATCH) -> TreeResult:
    """Branch and bound from ``root`` with ``workers`` LP copies in threads (module docstring).

    Parameters
    ----------
    run : layout.core.radius._Run
        As in :func:`layout.core.radius_bb.branch_and_bound`; its model is worker 0's LP and
        its best plan is updated.
    root : layout.core.radius_bb._Node
        The root node.
    workers : int
        LP copies and threads.
    batch : int
        Nodes per worker and round.

    Returns
    -------
    TreeResult

    """
    m = run.d.n_facilities
    models = [run.model] + [clone_model(run.model) for _ in range(workers - 1)]
    ws = [_Worker(dataclasses.replace(run, model=mm), []) for mm in models]
    ws[0].stack.append(root)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="radius") as pool:
        while any(w.stack for w in ws):
            _balance(ws, m)
            # while a worker has nothing to do, short rounds: the others hand nodes over sooner
            most = batch if all(w.stack for w in ws) else 1
            for w in ws:
                w.run.ub, w.run.best_open = run.ub, run.best_open
            list(pool.map(_work, ws, [most] * len(ws)))
            for w in ws:
                if w.run.ub < run.ub:
                    run.consider(w.run.best_open, polish=False)
            if any(w.stopped for w in ws):
                break
    _release(run, root.lo, root.hi, ws[0].zoff_now)
    stack = [n for w in ws for n in w.stack]
    return _result(run, stack, sum(w.nodes for w in ws), sum(w.solves for w in ws))
