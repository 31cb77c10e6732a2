"""Lagrangian lower bound and exact facility fixing for p-median / uncapacitated facility location.

Relaxing every client's assignment constraint with a multiplier ``lam_i`` gives, for any ``lam``,

``L(lam) = sum_i lam_i + min over open sets S of sum_{j in S} rho_j``,
``rho_j = f_j + sum_i min(0, c_ij - lam_i)``,

where the minimum takes the ``p`` smallest ``rho_j`` (p-median) or every negative one (no ``p``).
``L(lam)`` is a lower bound of the optimum (Beasley 1985); it is maximised by subgradient steps.
Forcing facility j open (closed) changes the inner minimum in closed form, so with a known plan
of cost ``UB``: if the bound with j forced open exceeds ``UB``, no optimal plan opens j and it is
fixed closed; likewise for forced closed. Fixing is exact (it only removes non-optimal plans).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from layout.core.status import relative_gap


@dataclass(frozen=True)
class LagrangeResult:
    """Lagrangian lower bound and the facilities it fixes (outcome of :func:`lagrange_fix`).

    Also the base of :class:`layout.core.cap_lagrange.CapacitatedLagrangeResult`, which adds
    the plan found on the way.

    Attributes
    ----------
    bound : float
        Best Lagrangian lower bound found.
    fixed_closed, fixed_open : ndarray of bool, shape (m,)
        Facilities proven closed / open in every plan cheaper than the known plan's cost.
    iterations : int
        Subgradient iterations.

    """

    bound: float
    fixed_closed: NDArray[np.bool_]
    fixed_open: NDArray[np.bool_]
    iterations: int


def _inner(c: NDArray[np.float64], lam: NDArray[np.float64], fixed: NDArray[np.float64],
           p: int | None) -> tuple[float, NDArray[np.float64], NDArray[np.bool_]]:
    """``L(lam)``, the net facility values ``rho`` and the open set of the inner minimum."""
    rho = fixed + np.minimum(0.0, c - lam[:, None]).sum(axis=0)
    if p is None:
        chosen = rho < 0
        value = float(rho[chosen].sum())
    else:
        order = np.argsort(rho, kind="stable")
        chosen = np.zeros(rho.size, dtype=bool)
        chosen[order[:p]] = True
        value = float(rho[order[:p]].sum())
    return float(lam.sum()) + value, rho, chosen


def lagrange_fix(
    cost: NDArray[np.float64], fixed: NDArray[np.float64], p: int | None, upper: float,
    lam0: NDArray[np.float64], max_iter: int = 400, time_budget: float = np.inf,
) -> LagrangeResult:
    """Subgradient ascent on ``L(lam)`` from ``lam0``, then fix facilities against ``upper``.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Costs, ``inf`` where a pair is not permitted.
    fixed : ndarray, shape (m,)
        Net fixed cost per facility.
    p : int, optional
        Exact number of open facilities.
    upper : float
        Cost of a known feasible plan.
    lam0 : ndarray, shape (n,)
        Starting multipliers (e.g. each client's cost in the known plan).
    max_iter : int
        Most subgradient steps.
    time_budget : float
        Seconds after which the ascent stops.

    Returns
    -------
    LagrangeResult

    Examples
    --------
    >>> c = np.array([[0.0, 4.0], [4.0, 0.0], [1.0, 5.0]])
    >>> r = lagrange_fix(c, np.zeros(2), 1, upper=5.0, lam0=np.array([0.0, 4.0, 1.0]))
    >>> round(r.bound, 6), r.fixed_closed.tolist()
    (5.0, [False, True])

    """
    t_end = time.perf_counter() + time_budget
    m = cost.shape[1]
    c = cost
    lam = np.asarray(lam0, dtype=np.float64).copy()
    lam = np.minimum(lam, np.where(np.isfinite(c), c, -np.inf).max(axis=1, initial=0.0))
    best, best_lam = -np.inf, lam.copy()
    theta, stall, it = 2.0, 0, 0
    for it in range(1, max_iter + 1):  # noqa: B007
        value, _, chosen = _inner(c, lam, fixed, p)
        if not np.isfinite(best) or value > best + 1e-12 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2, 0
        if theta < 1e-4 or relative_gap(upper, best, floor=1.0) <= 1e-9 \
                or time.perf_counter() > t_end:
            break
        g = 1.0 - (c[:, chosen] < lam[:, None]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.maximum(lam + theta * (upper - value) / norm * g, 0.0)
    value, rho, chosen = _inner(c, best_lam, fixed, p)
    tol = 1e-9 * max(1.0, abs(upper))
    if p is None:
        lb_open = value + np.maximum(rho, 0.0)  # j forced open
        lb_closed = value - np.minimum(rho, 0.0)  # j forced closed
    else:
        srt = np.sort(rho)
        pth = srt[p - 1] if p >= 1 else np.inf
        nxt = srt[p] if p < m else np.inf
        lb_open = np.where(chosen, value, value + rho - pth)
        lb_closed = np.where(chosen, value - rho + nxt, value)
    fixed_closed = lb_open > upper + tol
    fixed_open = lb_closed > upper + tol
    return LagrangeResult(bound=float(value), fixed_closed=fixed_closed,
                          fixed_open=fixed_open & ~fixed_closed, iterations=it)
