"""The facility-location model object (API modelled on PySAL spopt).

Examples
--------
>>> import numpy as np
>>> cost = np.array([[1.0, 4.0], [3.0, 1.0], [2.0, 5.0]])
>>> m = FacilityLocation.from_cost_matrix(cost, np.ones(3), fixed_cost=[2.0, 3.0]).solve()
>>> m.status, m.objective, m.open.tolist(), m.assignment.tolist()
(<SolveStatus.OPTIMAL: 'optimal'>, 8.0, [True, False], [0, 0, 0])

"""

from __future__ import annotations

import time
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from layout.core import inputs
from layout.core.backends import SOLVERS, default_threads, solve_mip
from layout.core.capacitated import is_plain_capacitated, solve_capacitated
from layout.core.formulation import MipModel, formulate
from layout.core.greedy import greedy_plan
from layout.core.pmedian import is_simple, solve_simple
from layout.core.status import SolveStatus, relative_gap


class FacilityLocation:
    """Facility location, p-median and capacitated variants on plain arrays.

    Build with :meth:`from_cost_matrix` or :meth:`from_pairs`, then call :meth:`solve`.

    Parameters (of both constructors)
    ---------------------------------
    demand : array_like, shape (n,)
        Demand weight per demand point (>= 0); used by capacities and loads. Costs are NOT
        multiplied by it: ``cost[i, j]`` is already the cost of serving all of demand i from j.
    fixed_cost : array_like, shape (m,), optional
        Cost incurred if facility j is open (facility location). Default: 0.
    capacity : array_like, shape (m,), optional
        Capacity per facility; demand may be split across facilities unless ``single_source``.
        Default: uncapacitated.
    p : int, optional
        Exactly ``p`` facilities open (p-median when no fixed cost). Linked facilities count
        individually. Default: any number.
    single_source : bool
        Each demand point is served wholly by one facility. Default: ``False``.
    allowed : bool array or sparse matrix, shape (n, m), optional
        Permitted pairs (e.g. travel-time caps); only these enter the (sparse) model
        (:meth:`from_cost_matrix` only). Default: every pair of a dense ``cost``, the stored
        entries of a sparse one.
    closed_cost : array_like, shape (m,), optional
        Cost incurred if facility j is NOT open (e.g. closing an existing school). Default: 0.
    force_open, force_closed : bool array_like, shape (m,), optional
        Facilities that must be open / closed (applies to the whole link group). Default: none.
    link_group : int array_like, shape (m,), optional
        Facilities sharing a group id >= 0 open and close together (one decision; each still pays
        its own fixed cost and has its own capacity). -1 = not linked. Default: none linked.
    min_load, min_load_exempt : array_like, shape (m,), optional
        If open, facility j must serve at least ``min_load[j]`` demand, unless exempt.
        Default: no minimum load; no facility exempt.
    expansion_block, expansion_cost, max_blocks : array_like, shape (m,), optional
        An open facility may add up to ``max_blocks[j]`` blocks of ``expansion_block[j]`` seats,
        each costing ``expansion_cost[j]``. Needs ``capacity``. Default: no expansion.
    unserved_cost : array_like, shape (n,), optional
        If given, demand i may be left (partly) unserved at this cost (for all of it); lets an
        otherwise infeasible instance still produce a plan that shows where capacity is short.
        Default: all demand must be served.

    Attributes (after :meth:`solve`)
    --------------------------------
    open : ndarray of bool, shape (m,)
    assignment : ndarray of int, shape (n,)
        Facility serving the largest share of demand i; -1 when the unserved share is largest.
    flows : pandas.DataFrame
        Columns ``demand``, ``facility``, ``fraction`` (non-zero shares; exact split).
    load : ndarray of float, shape (m,)
        Demand served by each facility.
    blocks_added : ndarray of int, shape (m,)
    unserved : ndarray of float, shape (n,)
        Share of demand i left unserved (0 or 1 with ``single_source``).
    objective, bound, gap : float
        Plan cost, best proven lower bound and relative gap ``(objective - bound) / |objective|``.
    greedy_objective : float
        Cost of the greedy plan built from ``hint`` (``nan`` without hint or feasible greedy plan).
    status : SolveStatus
    wall_time : float
        Seconds spent in :meth:`solve` (model building included).
    solver : str
        Back end that solved the (last) MIP.
    method : str
        ``"direct"`` (one MIP of every pair) or ``"radius"`` (p-median: the radius formulation
        with lazily added distance levels of :mod:`layout.core.radius`) or ``"nearest-pairs"``
        (the exact fast path for uncapacitated facility location of :mod:`layout.core.pmedian`,
        and p-median with ``solver="scip"``) or
        ``"linking-cuts"`` (capacitated split demand, :mod:`layout.core.capacitated`).
    rounds, pairs_used : int
        With ``"nearest-pairs"``: restricted MIPs solved and pairs in the last one.
    threads, seed : int
    """

    def __init__(self, data: inputs.CoreData) -> None:
        """Wrap checked data; use :meth:`from_cost_matrix` or :meth:`from_pairs` instead."""
        self.data = data
        self.status: SolveStatus | None = None
        self.objective = float("nan")
        self.bound = float("nan")
        self.gap = float("nan")
        self.wall_time = float("nan")
        self.nodes: int = -1
        self.stopped_by: str = ""
        self.solver: str | None = None
        self.threads: int | None = None
        self.seed: int | None = None
        self.greedy_objective = float("nan")
        self.method = "direct"
        self.rounds = 0
        self.pairs_used = 0
        self._model: MipModel | None = None

    @classmethod
    def from_cost_matrix(
        cls, cost: ArrayLike | sp.spmatrix | sp.sparray, demand: ArrayLike, *,
        fixed_cost: ArrayLike | None = None, capacity: ArrayLike | None = None,
        p: int | None = None, single_source: bool = False,
        allowed: ArrayLike | sp.spmatrix | sp.sparray | None = None,
        closed_cost: ArrayLike | None = None, force_open: ArrayLike | None = None,
        force_closed: ArrayLike | None = None, link_group: ArrayLike | None = None,
        min_load: ArrayLike | None = None, min_load_exempt: ArrayLike | None = None,
        expansion_block: ArrayLike | None = None, expansion_cost: ArrayLike | None = None,
        max_blocks: ArrayLike | None = None, unserved_cost: ArrayLike | None = None,
    ) -> Self:
        """Build from an (n, m) cost matrix, dense or scipy-sparse, and an optional mask.

        A sparse ``cost`` without ``allowed`` permits exactly its stored entries. A dense
        ``cost`` with ``allowed`` is read only at allowed pairs (others may be ``inf``).
        See the class docstring for the other arguments and their defaults.

        Raises
        ------
        CoreInputError
            On invalid input (the message names the argument and index).

        """
        n, m, rows, cols, costs = inputs.pairs_from_matrix(cost, allowed)
        ext = inputs.Extensions(closed_cost, force_open, force_closed, link_group, min_load,
                                min_load_exempt, expansion_block, expansion_cost, max_blocks,
                                unserved_cost)
        return cls(inputs.build(n, m, rows, cols, costs, demand, fixed_cost=fixed_cost,
                                capacity=capacity, p=p, single_source=single_source,
                                extensions=ext))

    @classmethod
    def from_pairs(
        cls, rows: ArrayLike, cols: ArrayLike, costs: ArrayLike, demand: ArrayLike,
        n_facilities: int, *, fixed_cost: ArrayLike | None = None,
        capacity: ArrayLike | None = None, p: int | None = None, single_source: bool = False,
        closed_cost: ArrayLike | None = None, force_open: ArrayLike | None = None,
        force_closed: ArrayLike | None = None, link_group: ArrayLike | None = None,
        min_load: ArrayLike | None = None, min_load_exempt: ArrayLike | None = None,
        expansion_block: ArrayLike | None = None, expansion_cost: ArrayLike | None = None,
        max_blocks: ArrayLike | None = None, unserved_cost: ArrayLike | None = None,
    ) -> Self:
        """Build from permitted pairs: demand ``rows[k]`` may use facility ``cols[k]`` at ``costs[k]``.

        The number of demand points is ``len(demand)``. See the class docstring for the rest.
        """
        n = int(np.shape(demand)[0]) if np.ndim(demand) == 1 else -1
        if n < 0:
            raise inputs.CoreInputError(f"demand: expected a 1-D array, got shape {np.shape(demand)}")
        ext = inputs.Extensions(closed_cost, force_open, force_closed, link_group, min_load,
                                min_load_exempt, expansion_block, expansion_cost, max_blocks,
                                unserved_cost)
        return cls(inputs.build(n, int(n_facilities), rows, cols, costs, demand,
                                fixed_cost=fixed_cost, capacity=capacity, p=p,
                                single_source=single_source, extensions=ext))

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return self.data.n_demand

    @property
    def n_facilities(self) -> int:
        """Number of candidate facilities."""
        return self.data.n_facilities

    def solve(
        self, time_limit: float = 60, threads: int | None = None, seed: int = 0, *,
        solver: str = SOLVERS[0], gap: float = 1e-6, hint: ArrayLike | None = None,
        log: bool = False, method: str = "auto", node_limit: int | None = None,
    ) -> Self:
        """Solve and store the plan as attributes; returns ``self``.

        Parameters
        ----------
        time_limit : float
            Seconds; hitting it yields the best plan so far (status ``feasible``) or
            ``no_solution``, never an exception.
        threads : int, optional
            Solver threads (default ``min(8, cpu count)``).
        seed : int
            Random seed; same inputs, seed and threads give the same plan.
        solver : {"highs", "scip", "sat", "highspy"}
            Back end (see :mod:`layout.core.backends`); ``"highs"`` is the default (fastest in
            benchmarks/orlib.py); ``"highspy"`` is HiGHS with a MIP start.
        gap : float
            Relative gap tolerance at which the search stops.
        hint : array_like of bool, shape (m,), optional
            Facilities believed open. A greedy plan is built from them (see
            :mod:`layout.core.greedy`); when it is feasible it is the warm start of ``"scip"``,
            ``"sat"`` and ``"highspy"`` (``"highs"`` gets none: it crashed on hints) and the fallback of every back end:
            if the solver returns no plan, or a worse one, the greedy plan is kept (status
            ``fallback_greedy`` when the solver found none; ``gap`` still uses the solver's
            bound). Without a feasible greedy plan only the open/close hint is passed.
        log : bool
            Print the solver log.
        method : {"auto", "direct"}
            ``"auto"`` sends plain uncapacitated facility location and p-median (no capacity,
            minimum load, expansion, unserved option, link group or forced facility) to the exact
            fast path of :mod:`layout.core.pmedian` — interchange heuristic, p-median pair
            reduction, restricted MIPs on each point's nearest pairs grown until provably optimal
            — with ``solver`` ``"highs"``/``"highspy"`` run as ``"highspy"`` (MIP start) and
            ``"scip"`` as SCIP; ``hint`` is then not used, ``greedy_objective`` is the heuristic's
            cost. Plain capacitated split-demand location (capacity and nothing else, no
            ``hint``) with ``"highs"``/``"highspy"`` goes to :mod:`layout.core.capacitated`
            (linking rows added as cuts, LP-rounding plan as MIP start, ``highspy``; method
            ``"linking-cuts"``, ``rounds`` = LP cut rounds, ``pairs_used`` = linking rows kept).
            Every other instance, ``solver="sat"`` and ``method="direct"`` solve one MIP
            of all pairs.
        node_limit : int, optional
            Most branch-and-bound nodes of that one MIP (``"highspy"``): unlike the time
            limit, the same plan on a fast or a loaded machine. ``nodes`` and ``stopped_by``
            record what happened. Default: none.

        """
        start = time.perf_counter()
        threads = default_threads() if threads is None else int(threads)
        if method not in ("auto", "direct"):
            raise inputs.CoreInputError(f"method = {method!r}: must be 'auto' or 'direct'")
        if solver not in SOLVERS:
            raise inputs.CoreInputError(f"solver = {solver!r}: must be one of {', '.join(SOLVERS)}")
        if method == "auto" and solver != "sat" and is_simple(self.data):
            self._solve_simple(time_limit, threads, seed, solver, gap, log)
        elif (method == "auto" and solver in ("highs", "highspy") and hint is None
                and is_plain_capacitated(self.data)):
            self._solve_capacitated(time_limit, seed, gap, log)
        else:
            self._solve_direct(time_limit, threads, seed, solver, gap, hint, log, node_limit)
        self.wall_time = time.perf_counter() - start
        return self

    def _solve_direct(self, time_limit: float, threads: int, seed: int, solver: str, gap: float,
                      hint: ArrayLike | None, log: bool, node_limit: int | None = None) -> None:
        """One MIP of every pair, from the greedy plan of ``hint`` (also the fallback)."""
        if self._model is None:
            self._model = formulate(self.data)
        model = self._model
        full_hint, greedy = None, None
        if hint is not None:
            open_hint = np.asarray(hint, dtype=bool)
            full_hint = self._hint_vector(open_hint)
            greedy = greedy_plan(self.data, model, open_hint)
            if greedy is not None:
                full_hint = greedy
        res = solve_mip(model, solver=solver, time_limit=time_limit, threads=threads, seed=seed,
                        gap=gap, hint=full_hint, log=log, node_limit=node_limit)
        self.nodes, self.stopped_by = res.nodes, res.stopped_by
        status, values, objective = res.status, res.values, res.objective
        g_obj = float("nan")
        if greedy is not None:
            g_obj = float(model.obj @ greedy + model.offset)
            if values is None and status is not SolveStatus.INFEASIBLE:
                status, values, objective = SolveStatus.FALLBACK, greedy, g_obj
            elif values is not None and g_obj < objective - 1e-9 * max(1.0, abs(objective)):
                status, values, objective = SolveStatus.FEASIBLE, greedy, g_obj
        self._record(status, solver, res.threads, seed, "direct", 1, int(self.data.rows.size),
                     objective, res.bound, g_obj, values is not None)
        self._store(values)

    def _solve_simple(self, time_limit: float, threads: int, seed: int, solver: str, gap: float,
                      log: bool) -> None:
        backend = "scip" if solver == "scip" else "highspy"
        path = "radius" if backend == "highspy" and self.data.p is not None else "nearest-pairs"
        res = solve_simple(self.data, time_limit=time_limit, solver=backend, threads=threads,
                           seed=seed, gap=gap, log=log, method=path)
        d = self.data
        has = bool((res.choice >= 0).all()) and res.status is not SolveStatus.INFEASIBLE
        self._record(res.status, backend, res.threads, seed, path, res.rounds,
                     res.pairs, res.objective, res.bound, res.heuristic_objective, has)
        if has:
            x = np.zeros(d.rows.size)
            x[res.choice] = 1.0
            g_open = np.bincount(d.group, weights=res.open, minlength=d.n_groups) > 0
            self._store_parts(x, g_open, np.zeros(0), np.zeros(0))
        else:
            self._store_parts(None, None, None, None)

    def _solve_capacitated(self, time_limit: float, seed: int, gap: float, log: bool) -> None:
        res = solve_capacitated(self.data, time_limit=time_limit, seed=seed, gap=gap, log=log)
        self._model = res.model
        self._record(res.status, "highspy", 1, seed, "linking-cuts", res.rounds, res.cuts,
                     res.objective, res.bound, res.heuristic_objective, res.values is not None)
        self._store(res.values)

    def _record(self, status: SolveStatus, solver: str, threads: int, seed: int, method: str,
                rounds: int, pairs_used: int, objective: float, bound: float,
                greedy_objective: float, has_plan: bool) -> None:
        """Store the outcome attributes of a solve; ``gap`` only with a plan and a finite bound."""
        self.status, self.solver, self.threads, self.seed = status, solver, threads, seed
        self.method, self.rounds, self.pairs_used = method, rounds, pairs_used
        self.objective, self.bound = objective, bound
        self.greedy_objective = greedy_objective
        self.gap = (abs(relative_gap(objective, bound))
                    if has_plan and np.isfinite(bound) else float("nan"))

    def _hint_vector(self, open_hint: NDArray[np.bool_]) -> NDArray[np.float64]:
        if open_hint.shape != (self.n_facilities,):
            raise inputs.CoreInputError(f"hint: expected shape ({self.n_facilities},)")
        model = self._model
        assert model is not None
        vec = np.zeros(model.obj.size)
        g_open = np.bincount(self.data.group, weights=open_hint, minlength=self.data.n_groups) > 0
        vec[model.y] = g_open
        return vec

    def _store(self, values: NDArray[np.float64] | None) -> None:
        model = self._model
        assert model is not None
        if values is None:
            self._store_parts(None, None, None, None)
        else:
            self._store_parts(values[model.x], values[model.y] > 0.5, values[model.b],
                              values[model.u])

    def _store_parts(self, x_values: NDArray[np.float64] | None,
                     g_open: NDArray[np.bool_] | None, b_values: NDArray[np.float64] | None,
                     u_values: NDArray[np.float64] | None) -> None:
        """Plan attributes from pair shares, open groups, blocks added and unserved shares."""
        d, model = self.data, self._model
        n, m = d.n_demand, d.n_facilities
        if x_values is None or g_open is None or b_values is None or u_values is None:
            self.open = np.zeros(m, dtype=bool)
            self.assignment = np.full(n, -1, dtype=np.int64)
            self.flows = pd.DataFrame({"demand": pd.Series([], dtype="int64"),
                                       "facility": pd.Series([], dtype="int64"),
                                       "fraction": pd.Series([], dtype="float64")})
            self.load = np.zeros(m)
            self.blocks_added = np.zeros(m, dtype=np.int64)
            self.unserved = np.ones(n)
            return
        x = np.clip(x_values, 0.0, 1.0)
        x[x < 1e-7] = 0.0
        self.open = g_open[d.group]
        self.blocks_added = np.zeros(m, dtype=np.int64)
        self.unserved = np.zeros(n)
        if model is not None:
            self.blocks_added[model.b_facilities] = np.round(b_values).astype(np.int64)
            self.unserved[model.u_demands] = np.clip(u_values, 0.0, 1.0)
        self.unserved[self.unserved < 1e-7] = 0.0
        if d.single_source:
            x = np.round(x)
            self.unserved = np.round(self.unserved)
        keep = x > 0
        self.flows = pd.DataFrame({"demand": d.rows[keep], "facility": d.cols[keep],
                                   "fraction": x[keep]})
        self.load = np.bincount(d.cols, weights=x * d.demand[d.rows],
                                minlength=m).astype(np.float64, copy=False)
        # Largest share per demand point (pairs are sorted by demand, then facility).
        best_share = np.zeros(n)
        np.maximum.at(best_share, d.rows, x)
        self.assignment = np.full(n, -1, dtype=np.int64)
        is_best = keep & (x >= best_share[d.rows])
        first = np.flatnonzero(is_best)
        dem, pos = np.unique(d.rows[first], return_index=True)
        self.assignment[dem] = d.cols[first[pos]]
        self.assignment[self.unserved > best_share] = -1

    def __repr__(self) -> str:
        """Short summary."""
        return (f"FacilityLocation(n_demand={self.n_demand}, n_facilities={self.n_facilities}, "
                f"pairs={self.data.rows.size}, status={self.status}, objective={self.objective})")
