"""Run a :class:`~layout.core.formulation.MipModel` through an OR-Tools solver or ``highspy``.

The model is handed to OR-Tools' ``model_builder`` helper in one call from its sparse arrays, so
building a model of a million pairs takes a fraction of a second. Supported back ends (OR-Tools
names): ``"highs"`` (HiGHS MIP), ``"scip"`` (SCIP) and ``"sat"`` (CP-SAT with
``linearization_level=2``; all-integer models only, i.e. ``single_source=True`` — through
model_builder it mis-handles continuous shares and reported split-demand cap44 infeasible). Each gets the relative gap tolerance, seed, thread count and time
limit explicitly. ``"highspy"`` runs the same HiGHS through its own Python API (``highspy``),
which accepts a MIP start and, on the school model, found plans where HiGHS through
OR-Tools found none (see layout/plan/params.py). Every ``highspy`` model of :mod:`layout.core`
(MIPs, cut-loop LPs, transportation LPs) is built by :func:`highs_lp` and run by
:func:`run_highs`; both keep HiGHS silent (no banner, no log) unless ``log=True``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from ortools.linear_solver.python import model_builder_helper as mbh

from layout.core.errors import CoreInputError
from layout.core.formulation import MipModel
from layout.core.status import SolveStatus

if TYPE_CHECKING:
    from highspy._core import _Highs

#: Back ends accepted by ``solver=``; the first is the default (chosen by measurement,
#: see benchmarks/orlib.py).
SOLVERS = ("highs", "scip", "sat", "highspy")

_STATUS = {
    mbh.SolveStatus.OPTIMAL: SolveStatus.OPTIMAL,
    mbh.SolveStatus.FEASIBLE: SolveStatus.FEASIBLE,
    mbh.SolveStatus.INFEASIBLE: SolveStatus.INFEASIBLE,
}


@dataclass(frozen=True)
class BackendResult:
    """Raw outcome of one solve.

    Attributes
    ----------
    status : SolveStatus
    values : ndarray of float or None
        Variable values of the best plan, ``None`` without a plan.
    objective, bound : float
        Objective of the plan (``nan`` without one) and best proven lower bound.
    wall_time : float
        Solver wall time in seconds.
    threads : int
        Threads the solver was allowed to use.
    nodes : int
        Branch-and-bound nodes explored (``highspy`` MIP; -1 where unknown).
    stopped_by : str
        What ended the search when the plan is not proven within the gap: ``"time"``,
        ``"nodes"`` or ``""``.

    """

    status: SolveStatus
    values: NDArray[np.float64] | None
    objective: float
    bound: float
    wall_time: float
    threads: int
    nodes: int = -1
    stopped_by: str = ""


def default_threads() -> int:
    """Threads used when the caller does not say: ``min(8, cpu count)``."""
    return max(1, min(8, os.cpu_count() or 1))


def _parameters(solver: str, gap: float, threads: int, seed: int) -> tuple[str, int]:
    if solver == "highs":
        # HiGHS' branch and bound is serial, and its thread pool is sized once per process: a
        # later solve asking for another count fails ("global scheduler already initialized").
        # So HiGHS always gets threads=1, which also keeps it deterministic.
        return (f"mip_rel_gap={gap}\nmip_abs_gap=1e-9\nrandom_seed={seed}\nthreads=1\n"
                "output_flag=false", 1)
    if solver == "scip":
        # SCIP as linked in OR-Tools is single-threaded.
        return (f"limits/gap = {gap}\nlimits/absgap = 1e-9\n"
                f"randomization/randomseedshift = {seed}", 1)
    return (f"relative_gap_limit:{gap} absolute_gap_limit:1e-9 num_workers:{threads} "
            f"random_seed:{seed} linearization_level:2", threads)


def solve_mip(
    model: MipModel, *, solver: str, time_limit: float, threads: int, seed: int, gap: float,
    hint: NDArray[np.float64] | None = None, log: bool = False, node_limit: int | None = None,
    stop_at: float | None = None,
) -> BackendResult:
    """Solve ``model`` with ``solver`` and return the best plan found.

    Only the chosen back end's model is built: an OR-Tools ``model_builder`` model, or a
    ``highspy`` one (:func:`highs_instance`).

    Parameters
    ----------
    model : MipModel
        The formulation.
    solver : {"highs", "scip", "sat", "highspy"}
        Back end (see the module docstring).
    time_limit : float
        Wall-clock limit in seconds; reaching it returns the best plan with status ``feasible``
        (or ``no_solution``), never an exception.
    threads, seed : int
        Worker count and random seed passed to the solver.
    gap : float
        Relative optimality gap at which the solver stops.
    hint : ndarray of float, optional
        A full solution vector to start from (used by SCIP, CP-SAT and ``highspy``; not passed to
        OR-Tools' HiGHS: with OR-Tools 9.15 a hint given to HiGHS through model_builder
        terminated the process). Default: no start.
    log : bool
        Print the solver log (default ``False``).
    node_limit : int, optional
        Most branch-and-bound nodes (``highspy`` only): a limit that, unlike ``time_limit``,
        gives the same plan on a fast or a loaded machine. Default: none.
    stop_at : float, optional
        Stop once a plan costs at most this (``highspy`` only; see :func:`run_highs`).

    Returns
    -------
    BackendResult

    """
    if solver not in SOLVERS:
        raise CoreInputError(f"solver = {solver!r}: must be one of {', '.join(SOLVERS)}")
    if solver == "sat" and not model.integer.all():
        raise CoreInputError(
            "solver = 'sat': CP-SAT handles only all-integer models; use single_source=True "
            "or solver='highs' / 'scip' for split demand"
        )
    if solver == "highspy":
        res = run_highs(highs_instance(model, integer=True, seed=seed, log=log),
                        time_limit=time_limit, gap=gap, hint=hint, node_limit=node_limit,
                        stop_at=stop_at)
    else:
        res = _solve_ortools(model, solver=solver, time_limit=time_limit, threads=threads,
                             seed=seed, gap=gap, hint=hint, log=log)
    if res.status is SolveStatus.OPTIMAL and not np.isfinite(res.bound):
        res = replace(res, bound=res.objective)
    return res


def _solve_ortools(
    model: MipModel, *, solver: str, time_limit: float, threads: int, seed: int, gap: float,
    hint: NDArray[np.float64] | None, log: bool,
) -> BackendResult:
    """Solve with an OR-Tools back end (``"highs"``, ``"scip"`` or ``"sat"``) via model_builder."""
    helper = mbh.ModelBuilderHelper()
    # OR-Tools' generated stubs spell these ``ndarray[float64[m, 1]]``, which no numpy array
    # type matches under mypy: pass them as ``Any``.
    vectors: tuple[Any, Any, Any, Any, Any] = (model.var_lb, model.var_ub, model.obj,
                                               model.row_lb, model.row_ub)
    helper.fill_model_from_sparse_data(*vectors, model.matrix)
    for idx in np.flatnonzero(model.integer):
        helper.set_var_integrality(int(idx), True)
    helper.set_objective_offset(model.offset)
    if hint is not None and solver != "highs":  # OR-Tools 9.15 + HiGHS: hints kill the process
        for idx in np.flatnonzero(model.integer):
            helper.add_hint(int(idx), float(hint[idx]))
    params, used_threads = _parameters(solver, gap, threads, seed)
    runner = mbh.ModelSolverHelper(solver)
    runner.set_solver_specific_parameters(params)
    runner.set_time_limit_in_seconds(float(time_limit))
    runner.enable_output(log)
    runner.solve(helper)
    raw = runner.status()
    has = runner.has_solution()
    status = _STATUS.get(raw, SolveStatus.NO_SOLUTION)
    if raw == mbh.SolveStatus.MODEL_INVALID or raw == mbh.SolveStatus.INVALID_SOLVER_PARAMETERS:
        raise RuntimeError(f"{solver} rejected the model: {runner.status_string()}")
    if status is SolveStatus.NO_SOLUTION and has:
        status = SolveStatus.FEASIBLE
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) and not has:
        status = SolveStatus.NO_SOLUTION
    values = np.asarray(runner.variable_values(), dtype=np.float64) if has else None
    objective = float(runner.objective_value()) if has else float("nan")
    bound = float(runner.best_objective_bound()) if raw != mbh.SolveStatus.INFEASIBLE else float("nan")
    return BackendResult(status, values, objective, bound, float(runner.wall_time()), used_threads)


def highs_lp(
    cost: NDArray[np.float64], col_lower: NDArray[np.float64], col_upper: NDArray[np.float64],
    matrix: sp.csc_array, row_lower: NDArray[np.float64], row_upper: NDArray[np.float64], *,
    integer: NDArray[np.bool_] | None = None, offset: float = 0.0, seed: int = 0,
    log: bool = False,
) -> _Highs:
    """A one-thread, silent ``highspy`` solver holding ``min cost @ v + offset`` s.t. rows, bounds.

    The only place in :mod:`layout.core` that builds a ``highspy`` model. The log (and the
    HiGHS banner) is switched off before anything else is done with the instance unless
    ``log``; the bare ``highspy._core._Highs`` is used because ``highspy.Highs()`` already prints
    the banner in its constructor.

    Parameters
    ----------
    cost, col_lower, col_upper : ndarray of float, shape (k,)
        Objective coefficient and bounds per variable.
    matrix : scipy.sparse.csc_array, shape (r, k)
        Constraint matrix, column-wise.
    row_lower, row_upper : ndarray of float, shape (r,)
        Row bounds.
    integer : ndarray of bool, shape (k,), optional
        Integrality per variable; default: none (an LP).
    offset : float
        Constant objective term (default 0).
    seed : int
        HiGHS ``random_seed`` (default 0, HiGHS' own default).
    log : bool
        Print the HiGHS log (default ``False``).

    Returns
    -------
    highspy._core._Highs

    """
    import highspy

    h = highspy._core._Highs()
    h.setOptionValue("output_flag", bool(log))
    h.setOptionValue("log_to_console", bool(log))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", int(seed))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(cost.size), int(matrix.shape[0])
    lp.col_cost_, lp.offset_ = cost, float(offset)
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    a = lp.a_matrix_
    a.start_, a.index_, a.value_ = matrix.indptr, matrix.indices, matrix.data
    if integer is not None:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    h.passModel(lp)
    return h


def _stop_at(h: _Highs, target: float) -> None:
    """Interrupt ``h``'s next MIP run once its best plan costs at most ``target``."""
    import highspy

    def stop(kind: Any, _msg: str, out: Any, inp: Any, _data: Any) -> None:
        if kind == highspy.cb.HighsCallbackType.kCallbackMipInterrupt and \
                out.mip_primal_bound <= target:
            inp.user_interrupt = True

    h.setCallback(stop, None)
    h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)


def clone_highs(h: _Highs) -> _Highs:
    """A second ``highspy`` solver holding ``h``'s model, options and basis (for another thread).

    The copy is independent: bounds, rows and solves of one never touch the other.
    """
    import highspy

    c = highspy._core._Highs()
    for name in ("output_flag", "log_to_console", "threads", "random_seed", "presolve",
                 "solver", "objective_bound"):
        c.setOptionValue(name, h.getOptionValue(name)[1])
    c.passModel(h.getLp())
    basis = h.getBasis()
    if basis.valid:
        c.setBasis(basis)
    return c


def highs_instance(model: MipModel, *, integer: bool = True, seed: int = 0,
                   log: bool = False) -> _Highs:
    """A one-thread ``highspy`` solver holding ``model`` (as its LP relaxation unless ``integer``).

    See :func:`highs_lp` (silent unless ``log``).
    """
    return highs_lp(model.obj, model.var_lb, model.var_ub, model.matrix.tocsc(), model.row_lb,
                    model.row_ub, integer=model.integer if integer else None,
                    offset=model.offset, seed=seed, log=log)


def run_highs(
    h: _Highs, *, time_limit: float | None = None, gap: float | None = None,
    hint: NDArray[np.float64] | None = None, node_limit: int | None = None,
    stop_at: float | None = None, options: Mapping[str, bool | int | float] | None = None,
) -> BackendResult:
    """Run a ``highspy`` solver (from :func:`highs_lp`) and read its outcome.

    The only place in :mod:`layout.core` that runs a ``highspy`` model (LP or MIP; one
    thread, so deterministic).

    Parameters
    ----------
    h : highspy._core._Highs
        The solver holding the model; it may be run again (e.g. after adding rows).
    time_limit : float, optional
        Seconds; default: the limit already set (HiGHS' default: none).
    gap : float, optional
        Relative MIP gap (the absolute one is then 1e-9); default: leave as set.
    hint : ndarray of float, optional
        Full solution vector given as MIP start; default: none.
    node_limit : int, optional
        Most branch-and-bound nodes (deterministic, unlike the time limit); default: none.
    stop_at : float, optional
        A MIP stops as soon as it holds a plan costing at most this (e.g. within the caller's
        gap of a bound HiGHS does not know, such as the root LP of a larger model); status
        ``feasible``, ``stopped_by`` "target". Default: none.
    options : mapping, optional
        Further HiGHS options for this run (name to value), e.g. ``{"mip_allow_restart":
        False}``; they stay set on ``h``. Default: none.

    Returns
    -------
    BackendResult
        ``bound`` is HiGHS' ``mip_dual_bound`` as reported (meaningless for an LP).

    """
    import highspy

    if time_limit is not None:
        # HiGHS' clock runs on across run() calls of one instance: the limit is on its total.
        h.setOptionValue("time_limit", float(time_limit) + float(h.getRunTime()))
    if gap is not None:
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("mip_abs_gap", 1e-9)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    if hint is not None:
        start = highspy.HighsSolution()
        start.col_value = hint.tolist()
        start.value_valid = True
        h.setSolution(start)
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    if stop_at is not None:
        _stop_at(h, float(stop_at))
    h.run()
    if stop_at is not None:
        h.stopCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
    info = h.getInfo()
    raw = h.getModelStatus()
    has = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    if raw == highspy.HighsModelStatus.kOptimal and has:
        status = SolveStatus.OPTIMAL
    elif raw == highspy.HighsModelStatus.kInfeasible:
        status, has = SolveStatus.INFEASIBLE, False
    else:
        status = SolveStatus.FEASIBLE if has else SolveStatus.NO_SOLUTION
    values = np.asarray(h.getSolution().col_value, dtype=np.float64) if has else None
    objective = float(info.objective_function_value) if has else float("nan")
    stopped = {highspy.HighsModelStatus.kTimeLimit: "time",
               highspy.HighsModelStatus.kSolutionLimit: "nodes",
               highspy.HighsModelStatus.kInterrupt: "target"}.get(raw, "")
    return BackendResult(status, values, objective, float(info.mip_dual_bound),
                         float(h.getRunTime()), 1, int(info.mip_node_count), stopped)
