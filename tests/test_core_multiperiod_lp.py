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
        for data in (None, mp.data):  # with the data: the split-rows MIP first
            plan, cost = fix_and_optimise(model, lay, root.decisions, root.values,
                                          time_limit=30, gap=1e-9, d=data)
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


def _lonely_row(u_root: float) -> tuple[mpm.MultiPeriodData, mpm.Layout, np.ndarray]:
    """One village of 50 pupils: an existing school that needs 100, or a new site."""
    mp = MultiPeriodLocation.from_pairs(
        [0, 0], [0, 1], [[1.0, 2.0], [1.0, 2.0]], [[50.0], [50.0]], 2,
        existing=[True, False], fixed_cost=[10.0, 10.0], min_load=[100.0, 0.0],
        unserved_cost=[[1e6], [1e6]], single_source=True)
    d = mp.data
    lay = mpm.layout_of(d)
    v = np.zeros(lay.n_var)
    v[lay.u] = u_root
    return d, lay, v


def test_a_row_the_lp_served_but_rounding_left_unserved_gets_a_site_opened() -> None:
    from layout.core.multiperiod_single import _open_for_unserved

    d, lay, v = _lonely_row(0.0)
    g = np.zeros((d.n_periods, d.n_groups))
    choice = np.full((d.n_periods, d.n_demand), -1, dtype=np.int64)
    assert _open_for_unserved(d, lay, g, v, choice)
    site, school = d.group[1], d.group[0]
    assert (g[:, site] == 1).all()  # opened from the first period on (a site stays open)
    assert (g[:, school] == 0).all()  # the school below its minimum with this row alone stays shut
    d, lay, v = _lonely_row(1.0)  # the LP itself left the row unserved: nothing to mend
    g = np.zeros((d.n_periods, d.n_groups))
    assert not _open_for_unserved(d, lay, g, v, choice)
    assert (g == 0).all()


def test_mip_stops_at_a_plan_within_the_target() -> None:
    import scipy.sparse as sp

    from layout.core.backends import highs_lp, run_highs

    rng = np.random.default_rng(8)
    k = 60  # a multi-knapsack HiGHS has to branch on: maximise value, three weight rows
    value, weight = rng.integers(10, 60, k).astype(float), rng.integers(5, 40, (3, k))
    cap = weight.sum(axis=1) / 3

    def solve(**kw):  # type: ignore[no-untyped-def]
        h = highs_lp(-value, np.zeros(k), np.ones(k), sp.csc_array(weight.astype(float)),
                     np.full(3, -np.inf), cap, integer=np.ones(k, dtype=bool))
        return run_highs(h, time_limit=60, gap=0.0, **kw)

    full = solve()
    greedy = np.zeros(k)  # a plan to start from: items by value per weight while they fit
    for j in np.argsort(-value / weight.sum(axis=0), kind="stable"):
        if (weight @ greedy + weight[:, j] <= cap).all():
            greedy[j] = 1.0
    target = float(-value @ greedy)
    early = solve(hint=greedy, stop_at=target)
    assert full.status is SolveStatus.OPTIMAL
    assert full.stopped_by == ""
    assert full.objective < target  # the start is not optimal: stopping there is a choice
    assert early.stopped_by == "target"
    assert early.status is SolveStatus.FEASIBLE
    assert full.objective <= early.objective <= target


def test_spread_moves_a_split_row_off_temporary_seats() -> None:
    """Row 0 (40 pupils) sits at school 0 (30 seats, temporary seats dear); school 1 has room."""
    from layout.core.multiperiod_single import _spread

    def data(pair_cost: list[float], min_load: float = 0.0):  # type: ignore[no-untyped-def]
        mp = MultiPeriodLocation.from_pairs(
            [0, 0, 1], [0, 1, 1], [pair_cost], [[40.0, 10.0]], 2, existing=[True, True],
            capacity=[30.0, 60.0], temp_cost=[100.0, 100.0], temp_max=[20.0, 20.0],
            min_load=[min_load, 0.0], single_source=True)
        model, lay = mp._build()
        v = np.zeros(lay.n_var)
        v[lay.x] = [0.6, 0.4, 1.0]  # the LP split row 0 between the two schools
        return mp.data, model, lay, v

    d, model, lay, v = data([1.0, 2.0, 1.0])
    g = np.ones((1, d.n_groups))
    choice = np.array([[0, 2]])  # row 0 whole at school 0: 10 seats above its 30
    moved = _spread(d, model, lay, g, v, choice)
    assert moved[0, 0] == 1  # to school 1, which has the seats
    assert moved[0, 1] == 2
    d, model, lay, v = data([1.0, 5000.0, 1.0])  # the longer journey costs more than 10 seats
    assert _spread(d, model, lay, g, v, choice)[0, 0] == 0
    d, model, lay, v = data([1.0, 2.0, 1.0], min_load=40.0)  # school 0 would fall below 40
    assert _spread(d, model, lay, g, v, choice)[0, 0] == 0
