"""Run a :class:`~layout.core.formulation.MipModel` through an OR-Tools solver.

The model is handed to OR-Tools' ``model_builder`` helper in one call from its sparse arrays, so
building a model of a million pairs takes a fraction of a second. Supported back ends (OR-Tools
names): ``"highs"`` (HiGHS MIP), ``"scip"`` (SCIP) and ``"sat"`` (CP-SAT with
``linearization_level=2``; all-integer models only, i.e. ``single_source=True`` — through
model_builder it mis-handles continuous shares and reported split-demand cap44 infeasible). Each gets the relative gap tolerance, seed, thread count and time
limit explicitly. ``"highspy"`` runs the same HiGHS through its own Python API (``highspy``),
which accepts a MIP start and, on the school model, found plans where HiGHS through
OR-Tools found none (see layout/plan/params.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.linear_solver.python import model_builder_helper as mbh

from layout.core.errors import CoreInputError
from layout.core.formulation import MipModel
from layout.core.status import SolveStatus

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

    """

    status: SolveStatus
    values: NDArray[np.float64] | None
    objective: float
    bound: float
    wall_time: float
    threads: int


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
    hint: NDArray[np.float64] | None = None, log: bool = False,
) -> BackendResult:
    """Solve ``model`` with ``solver`` and return the best plan found.

    Parameters
    ----------
    model : MipModel
        The formulation.
    solver : {"highs", "scip", "sat"}
        OR-Tools back end.
    time_limit : float
        Wall-clock limit in seconds; reaching it returns the best plan with status ``feasible``
        (or ``no_solution``), never an exception.
    threads, seed : int
        Worker count and random seed passed to the solver.
    gap : float
        Relative optimality gap at which the solver stops.
    hint : ndarray, optional
        A full solution vector to start from (used by SCIP and CP-SAT; not passed to HiGHS: with
        OR-Tools 9.15 a hint given to HiGHS through model_builder terminated the process).
    log : bool
        Print the solver log.

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
    helper = mbh.ModelBuilderHelper()
    helper.fill_model_from_sparse_data(
        model.var_lb, model.var_ub, model.obj, model.row_lb, model.row_ub, model.matrix,
    )
    for idx in np.flatnonzero(model.integer):
        helper.set_var_integrality(int(idx), True)
    helper.set_objective_offset(model.offset)
    if hint is not None and solver != "highs":  # OR-Tools 9.15 + HiGHS: hints kill the process
        for idx in np.flatnonzero(model.integer):
            helper.add_hint(int(idx), float(hint[idx]))
    if solver == "highspy":
        return _solve_highspy(model, time_limit=time_limit, seed=seed, gap=gap, hint=hint, log=log)
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
    if status is SolveStatus.OPTIMAL and not np.isfinite(bound):
        bound = objective
    return BackendResult(status, values, objective, bound, float(runner.wall_time()), used_threads)


def highs_instance(model: MipModel, *, integer: bool = True, seed: int = 0,
                   log: bool = False) -> Any:
    """A one-thread ``highspy.Highs`` holding ``model`` (as its LP relaxation unless ``integer``)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", int(seed))
    a = model.matrix.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(model.obj.size), int(a.shape[0])
    lp.col_cost_, lp.offset_ = model.obj, float(model.offset)
    lp.col_lower_, lp.col_upper_ = model.var_lb, model.var_ub
    lp.row_lower_, lp.row_upper_ = model.row_lb, model.row_ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in model.integer]
    h.passModel(lp)
    return h


def _solve_highspy(
    model: MipModel, *, time_limit: float, seed: int, gap: float,
    hint: NDArray[np.float64] | None, log: bool,
) -> BackendResult:
    """Solve with HiGHS through ``highspy`` (one thread, so deterministic; MIP start = hint)."""
    import highspy

    h = highs_instance(model, integer=True, seed=seed, log=log)
    for key, value in (("time_limit", float(time_limit)), ("mip_rel_gap", float(gap)),
                       ("mip_abs_gap", 1e-9)):
        h.setOptionValue(key, value)
    if hint is not None:
        start = highspy.HighsSolution()
        start.col_value = [float(v) for v in hint]
        start.value_valid = True
        h.setSolution(start)
    h.run()
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
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound) and status is SolveStatus.OPTIMAL:
        bound = objective
    return BackendResult(status, values, objective, bound, float(h.getRunTime()), 1)
