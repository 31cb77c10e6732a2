"""Local search around overfull facilities (layout.core.multiperiod_lns) and the 'search' stop."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from layout.core import MultiPeriodLocation
from layout.core import multiperiod as mp_mod
from layout.core import multiperiod_lns as lns
from layout.core import multiperiod_model as mpm
from layout.core.multiperiod_lp import root_lp
from tests.test_core_multiperiod import brute_force, check_plan, random_instance


def _model(inst: dict) -> MultiPeriodLocation:
    return MultiPeriodLocation.from_pairs(inst["rows"], inst["cols"], inst["pair_cost"],
                                          inst["demand"], inst["m"], **inst["kw"])


def _packed(n_rows: int = 6, T: int = 2) -> MultiPeriodLocation:
    """Two schools of 12 seats; every row can reach both, school 0 is nearer to all."""
    rows = np.repeat(np.arange(n_rows), 2)
    cols = np.tile([0, 1], n_rows)
    dist = np.tile([1.0, 3.0], n_rows)
    demand = np.full((T, n_rows), 4.0)
    return MultiPeriodLocation.from_pairs(
        rows, cols, demand[:, rows] * dist[None, :], demand, 2, capacity=[12.0, 12.0],
        existing=[True, True], single_source=True, temp_max=[24.0, 24.0],
        temp_cost=np.full((T, 2), 50.0))


def _all_at(mp: MultiPeriodLocation, j: int) -> np.ndarray:
    """Every row at facility ``j`` in every period, the overflow on temporary seats."""
    model, lay = mp._build()
    d = mp.data
    v = np.zeros(model.obj.size)
    x = np.tile((d.cols == j).astype(float), d.n_periods)
    v[lay.x] = x
    v[lay.y] = 1.0
    load = d.demand.sum(axis=1)  # (T,)
    s = np.zeros((d.n_periods, lay.s_fac.size))
    s[:, np.flatnonzero(lay.s_fac == j)] = np.maximum(0.0, load - 12.0)[:, None]
    v[lay.s] = s.ravel()
    assert mpm.is_feasible(model, v)
    return v


def test_overflow_moves_to_the_school_with_seats_left() -> None:
    mp = _packed()
    model, lay = mp._build()
    start = _all_at(mp, 0)
    v, cost = lns.improve(model, lay, mp.data, start, lb=model.var_lb, ub=model.var_ub)
    assert mpm.is_feasible(model, v)
    assert cost == pytest.approx(model.obj @ v + model.offset)
    assert v[lay.s].sum() == pytest.approx(0.0)  # no temporary seats left
    assert cost == pytest.approx(mp.solve(gap=1e-9).objective)  # here that is the optimum


def test_columns_outside_the_neighbourhood_keep_their_values() -> None:
    mp = _packed()
    model, lay = mp._build()
    start = _all_at(mp, 0)
    d = mp.data
    paid = lns.overflow_cost(model, lay, d, start)
    assert paid.shape == (d.n_periods, 2)
    assert (paid[:, 0] > 0).all()
    assert (paid[:, 1] == 0).all()
    free = lns.neighbourhood(lay, d, start, 0, np.array([1]))  # the second period only
    out = lns.sub_mip(model, sp.csc_array(model.matrix), start, free, model.var_lb,
                      model.var_ub)
    assert out is not None
    held = np.setdiff1d(np.arange(start.size), free)
    assert np.array_equal(out[held], start[held])
    first = slice(lay.x.start, lay.x.start + d.rows.size)  # period 0's shares are held
    assert np.array_equal(out[first], start[first])
    assert model.obj @ out < model.obj @ start


def test_budgets_and_target_stop_the_search() -> None:
    mp = _packed()
    model, lay = mp._build()
    start = _all_at(mp, 0)
    cost0 = float(model.obj @ start + model.offset)
    for kw in ({"max_subs": 0}, {"rounds": 0}, {"stop_at": cost0}):
        v, cost = lns.improve(model, lay, mp.data, start, lb=model.var_lb, ub=model.var_ub,
                              **kw)
        assert np.array_equal(v, start)
        assert cost == cost0
    # Fixed columns are respected: with every share held the plan cannot change.
    lb, ub = model.var_lb.copy(), model.var_ub.copy()
    lb[lay.x] = ub[lay.x] = start[lay.x]
    v, cost = lns.improve(model, lay, mp.data, start, lb=lb, ub=ub)
    assert np.array_equal(v[lay.x], start[lay.x])


@pytest.mark.parametrize("seed", range(600, 624))
def test_search_never_goes_below_the_optimum_and_keeps_the_rules(seed: int) -> None:
    inst = random_instance(seed, n=5)
    expected = brute_force(inst)
    if not np.isfinite(expected):
        pytest.skip("infeasible instance")
    mp = _model(inst)
    model, lay = mp._build()
    root = root_lp(mp.data, model, lay)
    if root.values is None:
        pytest.skip("no rounded plan")
    v, cost = lns.improve(model, lay, mp.data, root.values, lb=model.var_lb, ub=model.var_ub)
    assert mpm.is_feasible(model, v)
    assert cost <= root.objective + 1e-9 * max(1.0, abs(root.objective))
    assert cost >= expected - 1e-6 * max(1.0, abs(expected))


def test_large_single_source_model_stops_after_the_search(monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    found = 0
    for seed in range(600, 640):
        inst = random_instance(seed, n=5)
        expected = brute_force(inst)
        if not np.isfinite(expected):
            continue
        monkeypatch.setattr(mp_mod, "FINAL_MIP_VARS", 0)
        mp = _model(inst).solve(time_limit=30, gap=1e-9)
        monkeypatch.setattr(mp_mod, "FINAL_MIP_VARS", 10**9)
        full = _model(inst).solve(time_limit=30, gap=1e-9)
        assert full.objective == pytest.approx(expected)
        check_plan(mp, inst)
        assert mp.objective >= expected - 1e-6 * max(1.0, abs(expected))
        if mp.stopped_by == "search":
            found += 1
            assert mp.status == "feasible"
            assert mp.gap == pytest.approx(abs(mp.objective - mp.bound) / abs(mp.objective))
        else:
            assert mp.objective == pytest.approx(expected)
    assert found > 0  # some instances do end on the search


def test_a_weak_root_skips_the_searches_and_runs_the_whole_mip(monkeypatch: pytest.MonkeyPatch,
                                                               ) -> None:
    # Every rounded plan counts as far above the bound: the whole MIPs run, as for models
    # that are not single-source, and reach the optimum even with FINAL_MIP_VARS = 0.
    monkeypatch.setattr(mp_mod, "FINAL_MIP_VARS", 0)
    monkeypatch.setattr(mp_mod, "WEAK_ROOT_GAP", -1.0)
    calls: list[int] = []
    real = lns.improve

    def counted(*args: object, **kw: object) -> object:
        calls.append(1)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mp_mod, "improve", counted)
    monkeypatch.setattr("layout.core.multiperiod_lp.improve", counted)
    for seed in range(600, 616):
        inst = random_instance(seed, n=5)
        expected = brute_force(inst)
        if not np.isfinite(expected):
            continue
        mp = _model(inst).solve(time_limit=30, gap=1e-9)
        assert mp.stopped_by != "search"
        assert mp.objective == pytest.approx(expected)
    assert not calls
