"""Single-source rounding of the multi-period root LP (split from :mod:`layout.core.multiperiod_lp`).

A school model sends each village (row) to one school per milestone. These steps turn the LP's
shares into such a choice and mend it: the largest share (:func:`_largest_share`), rows moved
off seats the LP did not buy (:func:`_spread`), off facilities above their room or into ones
below their minimum (:func:`_repair`), and the decisions to change when no move mends the plan
(:func:`_close_under_minimum`, :func:`_open_for_overflow`, :func:`_open_for_unserved`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from layout.core import multiperiod_model as mpm
from layout.core.formulation import MipModel

_TOL = 1e-6


def _open_for_unserved(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
                       v: NDArray[np.float64], choice: NDArray[np.int64]) -> bool:
    """Open (in ``g``) a closed pair for every row left unserved that the root LP ``v`` served.

    Rounding can close every decision a row's LP shares were spread over (a village split
    between a school below its minimum and a site rounded shut), leaving it unserved at the
    cost of unserved pupils where the LP built a few seats. The row's closed pair that can
    reach its minimum load with the row alone, then of largest LP share, then cheapest, is
    opened (:func:`_open_pair`); the caller re-solves and keeps the cheaper plan. Whether any
    was opened.
    """
    if d.unserved_cost is None:
        return False
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    u = v[lay.u].reshape(T, n)
    opened = False
    for t in range(T):
        for i in np.flatnonzero((choice[t] < 0) & (u[t] < 0.5)):
            is_open = g[t, d.group] > 0.5
            mine = d.rows == i
            if is_open[d.cols[mine]].any():  # a pair opened for it (an earlier period) will do
                continue
            alt = np.flatnonzero(mine & ~is_open[d.cols] & (d.y_ub[t, d.group[d.cols]] > 0.5))
            if not alt.size:
                continue
            short = d.min_load[d.cols[alt]] > d.demand[t, i] + _TOL
            k = int(alt[np.lexsort((d.pair_cost[t, alt], -x[t, alt], short))[0]])
            opened |= _open_pair(d, g, t, k)
    return opened


def _open_pair(d: mpm.MultiPeriodData, g: NDArray[np.float64], t: int, k: int) -> bool:
    """Open pair ``k``'s decision in ``g`` from period ``t`` on, or up to it; whether it could.

    A site opens from ``t`` on and an existing group up to ``t`` (its schedule stays monotone),
    if every period of that span allows it.
    """
    grp = d.group[d.cols[k]]
    span = slice(t, d.n_periods) if d.group_site[grp] and not d.group_existing[grp] else \
        slice(0, t + 1)
    if (d.y_ub[span, grp] < 0.5).any():
        return False
    g[span, grp] = 1.0
    return True


def _open_for_overflow(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
                       v: NDArray[np.float64], choice: NDArray[np.int64]) -> bool:
    """Open (in ``g``) a closed facility for a row of every facility still above its room.

    The row with the smallest LP share at the full facility goes to its closed pair of largest
    LP share (cheapest on ties); the facility's decision is opened from then on (a site) or
    up to then (an existing group), so the schedules stay monotone. Whether any was opened.
    """
    T, K = d.n_periods, d.rows.size
    x = v[lay.x].reshape(T, K)
    _, room = mpm.seats_room(d, lay)
    opened = False
    for t in range(T):
        served = choice[t] >= 0
        load = mpm.choice_load(d, choice, t)
        is_open = g[t, d.group] > 0.5
        for j in np.flatnonzero(is_open & (load > room + _TOL)):
            mine = np.flatnonzero(served & (d.cols[np.maximum(choice[t], 0)] == j))
            i = int(mine[np.argmin(x[t, choice[t, mine]])])
            alt = np.flatnonzero((d.rows == i) & ~is_open[d.cols]
                                 & (d.y_ub[t, d.group[d.cols]] > 0.5))
            if not alt.size:
                continue
            k = int(alt[np.lexsort((d.pair_cost[t, alt], -x[t, alt]))[0]])
            opened |= _open_pair(d, g, t, k)
    return opened


def _close_under_minimum(d: mpm.MultiPeriodData, g: NDArray[np.float64],
                         choice: NDArray[np.int64]) -> bool:
    """Close (in ``g``) every free decision below its minimum load; whether any was closed.

    As in :func:`layout.core.multiperiod_model.warm_start`: an existing group closes from that
    period on, a site stays closed up to it (the schedules stay monotone).
    """
    T = d.n_periods
    closed = False
    for t in range(T):
        load = mpm.choice_load(d, choice, t)
        for j in np.flatnonzero((g[t, d.group] > 0.5) & (load < d.min_load - _TOL)):
            grp = d.group[j]
            span = slice(t, T) if d.group_existing[grp] else slice(0, t + 1)
            if (d.y_lb[span, grp] > 0.5).any():
                return False  # fixed open below its minimum load
            g[span, grp] = 0.0
            closed = True
    return closed


def _largest_share(d: mpm.MultiPeriodData, lay: mpm.Layout,
                   v: NDArray[np.float64]) -> NDArray[np.int64]:
    """Pair with each row's largest LP share per period, shape (T, n); -1 where unserved wins."""
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    u = (v[lay.u].reshape(T, n) if d.unserved_cost is not None else np.zeros((T, n)))
    choice = np.full((T, n), -1, dtype=np.int64)
    for t in range(T):
        # pairs are sorted by row: the last of each row's pairs sorted by share is its largest
        order = np.lexsort((x[t], d.rows))
        last = np.r_[d.rows[order][1:] != d.rows[order][:-1], True]
        top = order[last]
        rows = d.rows[top]
        take = x[t, top] > u[t, rows]
        choice[t, rows[take]] = top[take]
    return choice


def _spread(d: mpm.MultiPeriodData, model: MipModel, lay: mpm.Layout, g: NDArray[np.float64],
            v: NDArray[np.float64], choice: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move rows off seats the LP did not pay for (single source, before :func:`_repair`).

    A row the LP split between facilities lands whole on one, which may then need temporary
    seats the LP never bought. A facility above its seats and the blocks of the LP ``v``
    (rounded up) gives rows, smallest LP share first, each to its open pair of largest share
    with seats left in that sense, while it stays at or above its minimum and the longer
    journey costs less than the temporary seats it saves. Nothing moves into such an excess,
    so the total excess only falls.
    """
    if d.capacity is None:
        return choice
    T, m, K = d.n_periods, d.n_facilities, d.rows.size
    x = v[lay.x].reshape(T, K)
    cap, _ = mpm.seats_room(d, lay)
    blocks = np.zeros((T, m))
    blocks[:, lay.b_fac] = np.ceil(v[lay.b].reshape(T, -1) - _TOL)
    seat_cost = np.full((T, m), np.inf)  # of a temporary seat (inf: no temporary seats there)
    if lay.s_fac.size:
        seat_cost[:, lay.s_fac] = model.obj[lay.s].reshape(T, -1)
    choice = choice.copy()
    for t in range(T):
        seats = cap + blocks[t] * d.expansion_block
        is_open = g[t, d.group] > 0.5
        ok_pair = is_open[d.cols]
        dem = d.demand[t]
        load = mpm.choice_load(d, choice, t)
        served = choice[t] >= 0
        for j in np.flatnonzero(is_open & (load > seats + _TOL)):
            mine = np.flatnonzero(served & (d.cols[np.maximum(choice[t], 0)] == j))
            for i in mine[np.argsort(x[t, choice[t, mine]], kind="stable")]:
                over = load[j] - seats[j]
                if over <= _TOL or load[j] - dem[i] < d.min_load[j] - _TOL:
                    break
                alt = np.flatnonzero((d.rows == i) & ok_pair & (d.cols != j))
                alt = alt[(load[d.cols[alt]] + dem[i] <= seats[d.cols[alt]] + _TOL)
                          & (d.pair_cost[t, alt] - d.pair_cost[t, choice[t, i]]
                             < seat_cost[t, j] * min(dem[i], over))]
                if alt.size:
                    k = int(alt[np.argmax(x[t, alt])])
                    load[j] -= dem[i]
                    load[d.cols[k]] += dem[i]
                    choice[t, i] = k
    return choice


def _repair(d: mpm.MultiPeriodData, lay: mpm.Layout, g: NDArray[np.float64],
            v: NDArray[np.float64], choice: NDArray[np.int64]) -> NDArray[np.int64]:
    """Move rows so that no open facility is above its room or below its minimum load.

    A facility above its room (capacity, every block, temporary seats) gives away its rows
    with the smallest LP shares, each to its open pair of largest share with room left; a
    facility below its minimum load takes back the rows with a positive LP share at it whose
    facility stays at or above its own minimum. Rounds until nothing moves (at most n per
    period); what is left is caught by the feasibility check of the plan.
    """
    T, n, K = d.n_periods, d.n_demand, d.rows.size
    x = v[lay.x].reshape(T, K)
    _, room = mpm.seats_room(d, lay)
    choice = choice.copy()
    for t in range(T):
        is_open = g[t, d.group] > 0.5
        ok_pair = is_open[d.cols]
        dem = d.demand[t]
        for _ in range(n):
            served = choice[t] >= 0
            load = mpm.choice_load(d, choice, t)
            over = np.flatnonzero(is_open & (load > room + _TOL))
            under = np.flatnonzero(is_open & (load < d.min_load - _TOL))
            if over.size:
                j = int(over[0])
                mine = np.flatnonzero(served & (d.cols[np.maximum(choice[t], 0)] == j))
                moved = False
                for i in mine[np.argsort(x[t, choice[t, mine]], kind="stable")]:
                    alt = np.flatnonzero((d.rows == i) & ok_pair & (d.cols != j))
                    alt = alt[load[d.cols[alt]] + dem[i] <= room[d.cols[alt]] + _TOL]
                    if alt.size:
                        choice[t, i] = int(alt[np.argmax(x[t, alt])])
                        moved = True
                        break
                if not moved:
                    break
            elif under.size:
                j = int(under[0])
                pulls = np.flatnonzero((d.cols == j) & (x[t] > _TOL))
                pulls = pulls[choice[t, d.rows[pulls]] != pulls]
                donors = choice[t, d.rows[pulls]]
                keep = (donors < 0) | (load[d.cols[np.maximum(donors, 0)]] - dem[d.rows[pulls]]
                                       >= d.min_load[d.cols[np.maximum(donors, 0)]] - _TOL)
                pulls = pulls[keep]
                if not pulls.size:
                    break
                k = int(pulls[np.argmax(x[t, pulls])])
                choice[t, d.rows[k]] = k
            else:
                break
    return choice
