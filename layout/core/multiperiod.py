"""Multi-period (staged) facility location: when to close, open, expand and rent seats.

Dynamic school-network planning in the sense of Antunes & Peeters (2000, "A dynamic optimization
model for school network planning", Socio-Economic Planning Sciences 34) and Haase & Müller
(2013, "Management of school locations allowing for free school choice", Omega 41): over
periods ``t = 0..T-1`` (e.g. milestone years) existing facilities may close (and stay closed),
candidate sites may open (and stay open), open facilities may add permanent capacity blocks
(cumulative) and rent temporary seats (per period), and every period's demand is served,
or left unserved at a cost. The MIP is in :mod:`layout.core.multiperiod_model`.

Cost convention
---------------
``pair_cost[t, k]`` is the whole cost of serving the row's demand through pair k during period
t (already multiplied by its students and the years the period stands for). The running costs
``fixed_cost``, ``temp_cost`` and ``unserved_cost`` may each be given per period (2-D, shape
``(T, m)`` or ``(T, n)``: used as given) or once (1-D or scalar: a rate per year, multiplied by
``period_weight[t]``, the years period t stands for; default 1, i.e. the rate is per period).
One-off costs are never weighted: ``closed_cost`` (1-D, or 2-D per period) is charged in the
period a facility closes, and ``expansion_cost`` per block is charged in the period the block is
built, times ``capital_discount[t]`` (default 1).

Examples
--------
Two schools open at the start and a candidate site; demand peaks in period 1. Temporary seats
(3 per seat) are cheaper than a permanent block (10 seats for 100), so school 0 rents seats
for the peak only; the site never opens:

>>> import numpy as np
>>> rows, cols = np.array([0, 0, 1, 1]), np.array([0, 2, 1, 2])
>>> demand = np.array([[30.0, 20.0], [45.0, 20.0], [30.0, 20.0]])
>>> pair_cost = np.array([demand[:, 0], 2 * demand[:, 0], demand[:, 1], 2 * demand[:, 1]]).T
>>> mp = MultiPeriodLocation.from_pairs(
...     rows, cols, pair_cost, demand, 3, existing=[True, True, False],
...     fixed_cost=[50.0, 50.0, 200.0], capacity=[35.0, 30.0, 60.0],
...     expansion_block=10.0, expansion_cost=100.0, max_blocks=2,
...     temp_cost=3.0, temp_max=[20.0, 0.0, 0.0]).solve()
>>> mp.status, round(mp.objective, 6)
(<SolveStatus.OPTIMAL: 'optimal'>, 495.0)
>>> mp.open_.astype(int).tolist()
[[1, 1, 0], [1, 1, 0], [1, 1, 0]]
>>> mp.temporary[:, 0].tolist(), int(mp.blocks.sum())
([0.0, 10.0, 0.0], 0)
>>> mp.costs.loc[1, ["fixed", "assignment", "temporary", "total"]].tolist()
[100.0, 65.0, 30.0, 195.0]

"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from layout.core import multiperiod_lp as mpm_lp
from layout.core import multiperiod_model as mpm
from layout.core import multiperiod_peak as mpp
from layout.core.backends import SOLVERS, BackendResult, default_threads, solve_mip
from layout.core.errors import CoreInputError
from layout.core.formulation import MipModel
from layout.core.multiperiod_lns import LNS_DECISION_SUBS, improve
from layout.core.status import SolveStatus, relative_gap, within_gap

#: Branch-and-bound nodes of the fix-and-optimise step (a deterministic budget).
FIX_NODES = 200

#: Single-source models with more variables than this end after fix and optimise and the
#: local searches (:mod:`layout.core.multiperiod_lns`) when that plan is not within the gap:
#: the whole MIP spent its time limit in root cuts that cannot close the packing gap of whole
#: rows (status ``feasible``, ``stopped_by`` "search", or "time" when the searches ran out of
#: time). Smaller ones run the whole MIP from that plan, and so do larger ones whose plan is
#: more than ``SEARCH_GAP`` above the LP bound: there the LP is weak (unserved pupils, peak
#: overflow), and the whole MIP's presolve and cuts raise the bound and find the plan quickly.
FINAL_MIP_VARS = 12_000

#: See ``FINAL_MIP_VARS``.
SEARCH_GAP = 0.04

#: A single-source model whose best rounded plan is more than this above the root LP bound
#: skips the local searches and runs fix and optimise and the whole MIP as other models do
#: (on the synthetic province, rounded plans of whole rows packed into schools were 2.4-7 %
#: above the bound, those of a weak LP 20-200 %).
WEAK_ROOT_GAP = 0.10

#: The whole MIP runs after the plan of the root LP only if the time left is at least this
#: many times the root LP's solve: HiGHS does not look at its clock while it separates cuts at
#: the root, which on the largest school models (100,000 binaries) took 16 times the LP solve
#: (34 s after a 2.2 s LP) and overran a 25 s limit by 20-27 s, without a better plan.
WHOLE_MIP_LP_TIMES = 20.0

#: Columns of :attr:`MultiPeriodLocation.costs` (before ``total``).
COST_PARTS = ("fixed", "assignment", "temporary", "unserved", "capital", "closure", "peak",
              "idle")


class MultiPeriodLocation:
    """Multi-period facility location with closures, openings, expansion and temporary seats.

    Build with :meth:`from_pairs`, then call :meth:`solve`. T periods, n demand rows, m
    facilities; the permitted (row, facility) pairs are shared by every period. See the module
    docstring for the cost convention.

    Parameters (of :meth:`from_pairs`)
    ----------------------------------
    rows, cols : int array_like, shape (K,)
        Row and facility of each permitted pair.
    pair_cost : array_like, shape (T, K)
        Cost of serving all of the row's demand through the pair in period t.
    demand : array_like, shape (T, n)
        Demand (students) per period and row; used by capacities and loads.
    n_facilities : int
        m.
    existing : bool array_like, shape (m,), optional
        Open at the start; may close in some period and then stays closed. The others are
        candidate sites: may open in some period and then stay open. Default: none existing.
    fixed_cost : array_like, shape (m,) or (T, m), optional
        Running cost of an open facility (1-D: per year, times ``period_weight``). Default 0.
    period_weight : array_like, shape (T,), optional
        Years each period stands for, multiplying 1-D running costs. Default: 1 each.
    capacity : array_like, shape (m,), optional
        Seats at the start. Default: uncapacitated (then no blocks, no temporary seats).
    closed_cost : array_like, shape (m,) or (T, m), optional
        One-off cost of closing an existing facility, charged in the period it closes (closing
        in period 0 counts from the start state). Ignored for candidate sites. Default 0.
    force_open : bool array_like, shape (m,), optional
        Open in every period (with its link group). Default: none.
    link_group : int array_like, shape (m,), optional
        Facilities sharing a group id >= 0 open and close together in every period (a group
        holding both an existing facility and a site is then open in all periods or none).
        -1 = not linked. Default: none linked.
    min_load, min_load_exempt : array_like, shape (m,), optional
        An open facility serves at least ``min_load[j]`` in every period it is open, unless
        exempt. Default: no minimum; none exempt.
    expansion_block, expansion_cost, max_blocks : array_like, shape (m,), optional
        Permanent blocks of ``expansion_block[j]`` seats, at most ``max_blocks[j]`` in all
        (cumulative, never removed, built only in a period the facility is open), each costing
        ``expansion_cost[j] * capital_discount[t]`` in the period it is built. Default: none.
    capital_discount : array_like, shape (T,), optional
        Discount factor of capital spent in period t. Default: 1 each.
    temp_cost, temp_max : array_like, optional
        Temporary seats: cost per seat per period (shape (m,) per year times
        ``period_weight``, or (T, m)), and at most ``temp_max[j]`` seats per period at an open
        facility (0 = none). Default: none.
    temp_share : array_like, shape (m,), optional
        Temporary seats in a period also at most ``temp_share[j]`` times the facility's
        permanent seats then (capacity and blocks built), so a facility never runs on temporary
        seats alone. Default: no such limit.
    unserved_cost : array_like, shape (n,) or (T, n), optional
        Cost of leaving all of row i's demand unserved in period t (1-D: per year, times
        ``period_weight``). Default: all demand must be served.
    single_source : bool
        Each row is served by one facility (or unserved) in each period. Default ``False``.
    fix_open : int array_like, shape (T, m) or (m,), optional
        Fixed decisions: -1 free, 0 closed, 1 open in that period (applies to the link group;
        with the monotone schedules, an existing facility fixed open in period t is open in
        every earlier period, a site fixed open is open in every later one). Default: all free.
    fix_blocks : int array_like, shape (T, m), optional
        Fixed cumulative permanent blocks: -1 free, else the blocks facility j holds by period t
        (at most ``max_blocks[j]``, never fewer than an earlier fixed value), e.g. the first
        stage of a plan fixed in period 0 (:mod:`layout.plan.robust`). Default: all free.
    peak_demand : array_like, shape (T, n), optional
        A high demand (e.g. a forecast's P90) each facility's catchment must fit with its
        permanent capacity plus the most temporary capacity it may add; what does not fit is
        ``overflow``, charged ``peak_cost`` per unit (:mod:`layout.core.multiperiod_peak`).
        Needs ``capacity``. Default: no such check.
    peak_cost : array_like, shape (m,) or (T, m), optional
        Cost per unit of overflow (1-D: per year, times ``period_weight``). Default 0.
    idle_cost : array_like, shape (m,), optional
        Cost per unit of added capacity (blocks) that stands unused in the last period: the
        residual value a building only keeps if it is used. A facility that added capacity and
        ends below its own capacity pays for all its empty seats. Default: none.

    Attributes (after :meth:`solve`)
    --------------------------------
    open_ : ndarray of bool, shape (T, m)
    blocks : ndarray of int, shape (T, m)
        Cumulative permanent blocks built by each period.
    temporary : ndarray of float, shape (T, m)
        Temporary seats per period.
    load : ndarray of float, shape (T, m)
        Demand served by each facility in each period.
    assignment : ndarray of int, shape (T, n)
        Facility serving the largest share of row i in period t; -1 when the unserved share is
        largest (with ``single_source`` the one facility, or -1 for unserved).
    flows : pandas.DataFrame
        Columns ``period``, ``demand``, ``facility``, ``fraction`` (non-zero shares; exact split).
    unserved : ndarray of float, shape (T, n)
        Share of each row's demand left unserved.
    overflow : ndarray of float, shape (T, m)
        High demand (``peak_demand``) each facility could not take even with temporary
        capacity (zeros without ``peak_demand``).
    costs : pandas.DataFrame
        One row per period, columns ``fixed``, ``assignment``, ``temporary``, ``unserved``,
        ``capital``, ``closure``, ``peak`` (overflow), ``idle`` (added capacity unused in the
        last period) and ``total``, recomputed from the stored plan.
    objective, bound, gap : float
        Cost of the stored plan (the total of ``costs``), best proven lower bound and relative
        gap ``|objective - bound| / |objective|``.
    hint_objective : float
        Cost of the MIP start: the better of the warm start and the plans rounded from the
        root LP (``nan`` when there is none).
    status : SolveStatus
    wall_time : float
        Seconds spent in :meth:`solve` (model building included).
    build_time : float
        Seconds spent building the MIP (the first :meth:`solve` only).
    solver : str
    threads, seed : int
    n_variables, n_constraints : int
        Size of the MIP.

    Notes
    -----
    One MIP over all periods (the strong formulation, one linking row per pair and period).
    Its LP relaxation grows faster than linearly with the number of periods: on
    benchmarks/multiperiod_bench.py (800 rows, 120 facilities, 8 candidates per row) HiGHS
    needs about 1 s for the root LP of one period, 4 s for two and 25-30 s for four, so
    within a short time limit the warm start may well be the plan returned (status
    ``feasible``, ``gap`` against the root bound). :meth:`solve` therefore first solves the LP
    relaxation and rounds it to plans (:mod:`layout.core.multiperiod_lp`); on the school models
    a rounded plan is usually within the requested gap of the LP bound, and the MIP is skipped.

    """

    def __init__(self, data: mpm.MultiPeriodData) -> None:
        """Wrap checked data; use :meth:`from_pairs` instead."""
        self.data = data
        self.status: SolveStatus | None = None
        self.objective = float("nan")
        self.bound = float("nan")
        self.gap = float("nan")
        self.wall_time = float("nan")
        self.nodes: int = -1
        self.stopped_by: str = ""
        self.build_time = float("nan")
        self.hint_objective = float("nan")
        self.solver: str | None = None
        self.threads: int | None = None
        self.seed: int | None = None
        self._model: MipModel | None = None
        self._layout: mpm.Layout | None = None
        self._store(None)

    @classmethod
    def from_pairs(
        cls, rows: ArrayLike, cols: ArrayLike, pair_cost: ArrayLike, demand: ArrayLike,
        n_facilities: int, *, existing: ArrayLike | None = None,
        fixed_cost: ArrayLike | None = None, period_weight: ArrayLike | None = None,
        capacity: ArrayLike | None = None, closed_cost: ArrayLike | None = None,
        force_open: ArrayLike | None = None, link_group: ArrayLike | None = None,
        min_load: ArrayLike | None = None, min_load_exempt: ArrayLike | None = None,
        expansion_block: ArrayLike | None = None, expansion_cost: ArrayLike | None = None,
        max_blocks: ArrayLike | None = None, capital_discount: ArrayLike | None = None,
        temp_cost: ArrayLike | None = None, temp_max: ArrayLike | None = None,
        unserved_cost: ArrayLike | None = None, single_source: bool = False,
        fix_open: ArrayLike | None = None, fix_blocks: ArrayLike | None = None,
        temp_share: ArrayLike | None = None, peak_demand: ArrayLike | None = None,
        peak_cost: ArrayLike | None = None, idle_cost: ArrayLike | None = None,
    ) -> Self:
        """Build from permitted pairs shared by every period (see the class docstring).

        Raises
        ------
        CoreInputError
            On invalid input (the message names the argument and index), including fixings
            that no monotone schedule can follow.

        """
        return cls(mpm.build(
            rows, cols, pair_cost, demand, n_facilities, existing=existing,
            fixed_cost=fixed_cost, period_weight=period_weight, capacity=capacity,
            closed_cost=closed_cost, force_open=force_open, link_group=link_group,
            min_load=min_load, min_load_exempt=min_load_exempt, expansion_block=expansion_block,
            expansion_cost=expansion_cost, max_blocks=max_blocks,
            capital_discount=capital_discount, temp_cost=temp_cost, temp_max=temp_max,
            unserved_cost=unserved_cost, single_source=single_source, fix_open=fix_open,
            fix_blocks=fix_blocks, temp_share=temp_share, peak_demand=peak_demand,
            peak_cost=peak_cost, idle_cost=idle_cost,
        ))

    @property
    def n_periods(self) -> int:
        """Number of periods T."""
        return self.data.n_periods

    @property
    def n_demand(self) -> int:
        """Number of demand rows n."""
        return self.data.n_demand

    @property
    def n_facilities(self) -> int:
        """Number of facilities m."""
        return self.data.n_facilities

    @property
    def n_variables(self) -> int:
        """Variables of the MIP (built on first use)."""
        return int(self._build()[0].obj.size)

    @property
    def n_constraints(self) -> int:
        """Constraint rows of the MIP (built on first use)."""
        return int(self._build()[0].matrix.shape[0])

    def __getstate__(self) -> dict[str, Any]:
        """State to pickle: without the built MIP (rebuilt on first use).

        A solved part sent back from a Dask worker is then a tenth of the size (5.3 -> 0.5 MB
        for a county's senior part).
        """
        state = self.__dict__.copy()
        state["_model"] = state["_layout"] = None
        return state

    def _build(self) -> tuple[MipModel, mpm.Layout]:
        if self._model is None or self._layout is None:
            start = time.perf_counter()
            self._model, self._layout = mpm.formulate(self.data)
            self.build_time = time.perf_counter() - start
        return self._model, self._layout

    def solve(
        self, time_limit: float = 60, threads: int | None = None, seed: int = 0, *,
        gap: float = 1e-6, hint: ArrayLike | str | None = "existing",
        solver: str = "highspy", log: bool = False, node_limit: int | None = None,
        root_lp: bool = True,
    ) -> Self:
        """Solve and store the plan as attributes; returns ``self``.

        Parameters
        ----------
        time_limit : float
            Seconds; hitting it yields the best plan so far (status ``feasible``) or
            ``no_solution``, never an exception.
        threads : int, optional
            Threads for back ends that use them (``"sat"``); HiGHS always runs one
            thread (see :mod:`layout.core.backends`). Default ``min(8, cpu count)``.
        seed : int
            Random seed; same inputs and seed give the same plan.
        gap : float
            Relative gap tolerance at which the search stops.
        hint : "existing", bool array_like of shape (m,) or (T, m), or None
            Warm start: the facilities believed open (``"existing"``: every existing facility in
            every period, plus what is forced or fixed open). It is clipped to the fixings, made
            monotone, and completed by :func:`layout.core.multiperiod_model.warm_start`
            (cheapest open facility with room per row); if that plan is feasible it is the MIP
            start (``"highspy"``, ``"scip"``, ``"sat"``) and the fallback when the solver
            returns none (status ``fallback_greedy``). ``None``: no start.
        solver : {"highspy", "highs", "scip", "sat"}
            Back end (:func:`layout.core.backends.solve_mip`); ``"highspy"`` (default) is HiGHS
            through :func:`~layout.core.backends.highs_lp` / :func:`~layout.core.backends.run_highs`,
            silent, with the MIP start. ``"sat"`` needs ``single_source=True``.
        log : bool
            Print the solver log.
        node_limit : int, optional
            Most branch-and-bound nodes (``"highspy"``): the same plan on a fast or a loaded
            machine, unlike ``time_limit``. ``nodes`` and ``stopped_by`` record what happened.
        root_lp : bool
            First solve the LP relaxation and round it to plans
            (:func:`layout.core.multiperiod_lp.root_lp`): the best of them and the warm start is
            the MIP start, and when it is within ``gap`` of the LP bound it is returned without
            running the MIP (status ``optimal``, ``nodes`` 0). Otherwise fix and optimise
            follows (:func:`layout.core.multiperiod_lp.fix_and_optimise`), then for
            single-source models a search that may change the decisions around the facilities
            the plan and the LP disagree on (:func:`layout.core.multiperiod_lns.improve`), and
            the whole MIP only when the model is small or the plan still far from the LP bound
            (see ``FINAL_MIP_VARS``, ``SEARCH_GAP`` and ``WEAK_ROOT_GAP``).
            Default ``True``.

        """
        start = time.perf_counter()
        threads = default_threads() if threads is None else int(threads)
        if solver not in SOLVERS:
            raise CoreInputError(f"solver = {solver!r}: must be one of {', '.join(SOLVERS)}")
        model, lay = self._build()
        d = self.data
        start_vec = None
        self.hint_objective = float("nan")
        if hint is not None:
            g_open = self._hint_groups(hint)
            start_vec = mpm.warm_start(d, model, lay, g_open)
            if start_vec is not None:
                self.hint_objective = float(model.obj @ start_vec + model.offset)
        root = (mpm_lp.root_lp(d, model, lay, time_limit=time_limit, seed=seed) if root_lp
                else None)
        if root is not None and root.values is not None and not (
                self.hint_objective <= root.objective):
            start_vec, self.hint_objective = root.values, root.objective
        lp_bound = root.bound if root is not None else -np.inf
        # A rounded plan far above the LP bound means a weak LP (unserved pupils, peak
        # overflow), not whole rows packed: the whole MIPs' presolve and cuts do better there.
        search = (d.single_source
                  and relative_gap(self.hint_objective, lp_bound) <= WEAK_ROOT_GAP)
        if (root is not None and root.decisions is not None
                and not relative_gap(self.hint_objective, lp_bound) <= gap):
            fixed_vec, fixed_obj = mpm_lp.fix_and_optimise(
                model, lay, root.decisions, start_vec, gap=gap / 2, seed=seed,
                time_limit=max(1e-3, time_limit - (time.perf_counter() - start)),
                node_limit=FIX_NODES, stop_at=within_gap(lp_bound, gap), d=d, search=search)
            if fixed_vec is not None and not self.hint_objective <= fixed_obj:
                start_vec, self.hint_objective = fixed_vec, fixed_obj
            if (search and start_vec is not None and root.lp_decisions is not None
                    and not relative_gap(self.hint_objective, lp_bound) <= gap):
                # Decisions next: sub-MIPs around the facilities the plan and the LP disagree on.
                start_vec, self.hint_objective = improve(
                    model, lay, d, start_vec, lb=model.var_lb, ub=model.var_ub, seed=seed,
                    deadline=start + time_limit, stop_at=within_gap(lp_bound, gap),
                    lp_decisions=root.lp_decisions, max_subs=LNS_DECISION_SUBS)
        if start_vec is not None and abs(relative_gap(self.hint_objective, lp_bound)) <= gap:
            res = BackendResult(SolveStatus.OPTIMAL, start_vec, self.hint_objective, lp_bound,
                                0.0, 1, 0, "")
        elif (start_vec is not None and root is not None and search
              and model.obj.size > FINAL_MIP_VARS
              and relative_gap(self.hint_objective, lp_bound) <= SEARCH_GAP):
            out_of_time = time.perf_counter() - start >= time_limit
            res = BackendResult(SolveStatus.FEASIBLE, start_vec, self.hint_objective, lp_bound,
                                0.0, 1, 0, "time" if out_of_time else "search")
        elif (start_vec is not None and root is not None
              and time_limit - (time.perf_counter() - start) < WHOLE_MIP_LP_TIMES * root.lp_time):
            # Too little time left for the whole MIP's root: it would overrun the limit.
            res = BackendResult(SolveStatus.FEASIBLE, start_vec, self.hint_objective, lp_bound,
                                0.0, 1, 0, "time")
        else:
            left = max(1e-3, time_limit - (time.perf_counter() - start))
            res = solve_mip(model, solver=solver, time_limit=left, threads=threads, seed=seed,
                            gap=gap, hint=start_vec, log=log, node_limit=node_limit,
                            stop_at=within_gap(lp_bound, gap) if solver == "highspy" else None)
            res = dataclasses.replace(res, bound=float(np.fmax(res.bound, lp_bound)))
            if res.values is not None and relative_gap(res.objective, res.bound) <= gap:
                res = dataclasses.replace(res, status=SolveStatus.OPTIMAL)
        self.nodes, self.stopped_by = res.nodes, res.stopped_by
        status, values, objective = res.status, res.values, res.objective
        if start_vec is not None and status is not SolveStatus.INFEASIBLE:
            if values is None:
                status, values, objective = SolveStatus.FALLBACK, start_vec, self.hint_objective
            elif self.hint_objective < objective - 1e-9 * max(1.0, abs(objective)):
                status, values, objective = SolveStatus.FEASIBLE, start_vec, self.hint_objective
        self.status, self.solver, self.threads, self.seed = status, solver, res.threads, seed
        self._store(values)
        if values is not None:
            # The cost of the plan as stored (the solver's value differs by its tolerances).
            objective = float(self.costs["total"].sum())
        self.objective, self.bound = objective, res.bound
        self.gap = (abs(relative_gap(objective, res.bound))
                    if values is not None and np.isfinite(res.bound) else float("nan"))
        self.wall_time = time.perf_counter() - start
        return self

    def _hint_groups(self, hint: ArrayLike | str) -> NDArray[np.bool_]:
        """Open groups per period (T, G) believed open from ``hint``."""
        d = self.data
        if isinstance(hint, str):
            if hint != "existing":
                raise CoreInputError(f"hint = {hint!r}: must be 'existing', an array or None")
            fac = np.broadcast_to(d.existing, (d.n_periods, d.n_facilities))
        else:
            arr = np.asarray(hint)
            if arr.shape == (d.n_facilities,):
                arr = np.broadcast_to(arr, (d.n_periods, d.n_facilities))
            if arr.shape != (d.n_periods, d.n_facilities):
                raise CoreInputError(f"hint: expected shape ({d.n_facilities},) or "
                                     f"({d.n_periods}, {d.n_facilities}), got {arr.shape}")
            fac = arr.astype(bool)
        g = np.zeros((d.n_periods, d.n_groups), dtype=bool)
        for t in range(d.n_periods):
            g[t] = np.bincount(d.group, weights=fac[t], minlength=d.n_groups) > 0
        return g

    def _store(self, values: NDArray[np.float64] | None) -> None:
        """Plan attributes from a full solution vector (empty plan for ``None``)."""
        d = self.data
        T, n, m, K = d.n_periods, d.n_demand, d.n_facilities, d.rows.size
        if values is None or self._layout is None:
            self.open_ = np.zeros((T, m), dtype=bool)
            self.blocks = np.zeros((T, m), dtype=np.int64)
            self.temporary = np.zeros((T, m))
            self.load = np.zeros((T, m))
            self.assignment = np.full((T, n), -1, dtype=np.int64)
            self.unserved = np.ones((T, n))
            self.overflow = np.zeros((T, m))
            self.flows = pd.DataFrame({c: pd.Series([], dtype="int64")
                                       for c in ("period", "demand", "facility")})
            self.flows["fraction"] = pd.Series([], dtype="float64")
            self.costs = pd.DataFrame(np.full((T, len(COST_PARTS) + 1), np.nan),
                                      columns=[*COST_PARTS, "total"],
                                      index=pd.RangeIndex(T, name="period"))
            return
        lay = self._layout
        x = np.clip(values[lay.x], 0.0, 1.0).reshape(T, K)
        x[x < 1e-7] = 0.0
        y = values[lay.y].reshape(T, d.n_groups) > 0.5
        self.open_ = y[:, d.group]
        self.blocks = np.zeros((T, m), dtype=np.int64)
        self.blocks[:, lay.b_fac] = np.round(values[lay.b].reshape(T, -1)).astype(np.int64)
        self.temporary = np.zeros((T, m))
        s = np.clip(values[lay.s].reshape(T, -1), 0.0, None)
        s[s < 1e-7] = 0.0
        self.temporary[:, lay.s_fac] = s
        self.unserved = np.zeros((T, n))
        if d.unserved_cost is not None:
            self.unserved = np.clip(values[lay.u].reshape(T, n), 0.0, 1.0)
            self.unserved[self.unserved < 1e-7] = 0.0
        if d.single_source:
            x = np.round(x)
            self.unserved = np.round(self.unserved)
        self.load = np.zeros((T, m))
        self.assignment = np.full((T, n), -1, dtype=np.int64)
        for t in range(T):
            self.load[t] = np.bincount(d.cols, weights=x[t] * d.demand[t, d.rows], minlength=m)
            best = np.zeros(n)
            np.maximum.at(best, d.rows, x[t])
            first = np.flatnonzero((x[t] > 0) & (x[t] >= best[d.rows]))
            dem, pos = np.unique(d.rows[first], return_index=True)
            self.assignment[t, dem] = d.cols[first[pos]]
            self.assignment[t, self.unserved[t] > best] = -1
        peak_load = mpp.peak_load_of(d, x)
        self.overflow = (np.zeros((T, m)) if peak_load is None else
                         mpp.overflow_of(d, self.open_, self.blocks.astype(float), peak_load))
        if d.capacity is not None and lay.s_fac.size:
            # The seats the plan needs (the solver's value may be off by its tolerance).
            need = (self.load - d.capacity * self.open_
                    - d.expansion_block * self.blocks)[:, lay.s_fac]
            self.temporary[:, lay.s_fac] = np.clip(
                np.where(np.abs(need - s) < 1e-5 * np.maximum(1.0, np.abs(need)), need, s),
                0.0, d.temp_max[lay.s_fac])
        tt, kk = np.nonzero(x)
        self.flows = pd.DataFrame({"period": tt.astype(np.int64), "demand": d.rows[kk],
                                   "facility": d.cols[kk], "fraction": x[tt, kk]})
        self.costs = self._breakdown(x)

    def _breakdown(self, x: NDArray[np.float64]) -> pd.DataFrame:
        """Cost per component and period of the stored plan."""
        d = self.data
        op = self.open_.astype(float)
        before = np.vstack([np.ones((1, d.n_facilities)), op[:-1]])
        built = np.diff(self.blocks, axis=0, prepend=0)
        parts = {
            "fixed": (d.fixed_cost * op).sum(axis=1),
            "assignment": (d.pair_cost * x).sum(axis=1),
            "temporary": (d.temp_cost * self.temporary).sum(axis=1),
            "unserved": (np.zeros(d.n_periods) if d.unserved_cost is None
                         else (d.unserved_cost * self.unserved).sum(axis=1)),
            "capital": d.capital_discount * (built * d.expansion_cost).sum(axis=1),
            "closure": (d.closed_cost * d.existing * (before - op)).sum(axis=1),
            "peak": (np.zeros(d.n_periods) if d.peak_cost is None
                     else (d.peak_cost * self.overflow).sum(axis=1)),
            "idle": np.zeros(d.n_periods),
        }
        if d.idle_cost is not None and self._layout is not None and self._layout.e_fac.size:
            j = self._layout.e_fac
            used, _ = mpp.used_added(d, j, self.blocks[-1].astype(float), self.load[-1])
            added = d.expansion_block[j] * self.blocks[-1, j]
            parts["idle"][-1] = float((d.idle_cost[j] * (added - used)).sum())
        frame = pd.DataFrame(parts, index=pd.RangeIndex(d.n_periods, name="period"))
        frame["total"] = frame.sum(axis=1)
        return frame

    def __repr__(self) -> str:
        """Short summary."""
        return (f"MultiPeriodLocation(n_periods={self.n_periods}, n_demand={self.n_demand}, "
                f"n_facilities={self.n_facilities}, pairs={self.data.rows.size}, "
                f"status={self.status}, objective={self.objective})")
