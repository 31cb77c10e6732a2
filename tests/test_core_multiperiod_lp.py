"""The root LP of the multi-period model: a valid bound, feasible rounded plans, early stop."""

from __future__ import annotations

import numpy as np
import pytest

from layout.core import MultiPeriodLocation
from layout.core import multiperiod_model as mpm
from layout.core.multiperiod_lp import fix_and_optimise, root_lp
from layout.core.status import SolveStatus
from tests.test_core_multiperiod import brute_force, check_plan, random_instance


def _model(inst: dict) -> MultiPeriodLocation:
    return MultiPeriodLocation.from_pairs(inst["rows"], inst["cols"], inst["pair_cost"],
                                          inst["demand"], inst["m"], **inst["kw"])


@pytest.mark.parametrize(("seed", "single"), [(s, True) for s in range(300, 316)]
                         + [(s, False) for s in range(400, 408)])
def test_root_bound_and_rounded_plans_against_brute_force(seed: int, single: bool) -> None:
    inst = random_instance(seed, single_source=single)
    expected = brute_force(inst)
    mp = _model(inst)
    model, lay = mp._build()
    root = root_lp(mp.data, model, lay)
    if not np.isfinite(expected):
        assert root.values is None
        return
    assert root.bound <= expected + 1e-6 * max(1.0, abs(expected))  # a lower bound
    if root.values is not None:  # a rounded plan is a plan: feasible, never below the optimum
        assert mpm.is_feasible(model, root.values)
        assert root.objective >= expected - 1e-6 * max(1.0, abs(expected))
        assert root.objective == pytest.approx(model.obj @ root.values + model.offset)
    if root.decisions is not None:  # fixing decisions never yields a plan below the optimum
        plan, cost = fix_and_optimise(model, lay, root.decisions, root.values, time_limit=30,
                                      gap=1e-9)
        if plan is not None:
            assert mpm.is_feasible(model, plan)
            assert cost >= expected - 1e-6 * max(1.0, abs(expected))
            assert cost <= root.objective + 1e-9


@pytest.mark.parametrize("seed", range(500, 512))
def test_loose_gap_plan_is_within_the_gap_of_the_optimum(seed: int) -> None:
    inst = random_instance(seed)
    expected = brute_force(inst)
    mp = _model(inst).solve(time_limit=30, gap=0.05)
    if not np.isfinite(expected):
        assert mp.status is SolveStatus.INFEASIBLE
        return
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.bound <= expected + 1e-6 * max(1.0, abs(expected))
    assert mp.objective <= expected * 1.05 + 1e-6
    assert mp.gap <= 0.05 + 1e-9
    check_plan(mp, inst)


def test_root_lp_off_gives_the_same_optimum() -> None:
    inst = random_instance(3)
    on = _model(inst).solve(time_limit=30, gap=1e-9)
    off = _model(inst).solve(time_limit=30, gap=1e-9, root_lp=False)
    assert on.objective == pytest.approx(off.objective, rel=1e-6)
