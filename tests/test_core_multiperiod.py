"""layout.core.MultiPeriodLocation: brute-force oracle, schedule properties, peaks, links, fixings."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from scipy.optimize import linprog

from layout.core import CoreInputError, FacilityLocation, MultiPeriodLocation, SolveStatus

# ---------------------------------------------------------------------------------------------
# Random toy instances and the brute-force oracle
# ---------------------------------------------------------------------------------------------


def random_instance(seed: int, *, single_source: bool = True, n: int = 4, m: int = 3,
                    n_periods: int | None = None) -> dict:
    rng = np.random.default_rng(seed)
    T = int(rng.integers(2, 4)) if n_periods is None else n_periods
    allowed = rng.random((n, m)) < 0.75
    allowed[np.arange(n), rng.integers(0, m, size=n)] = True
    rows, cols = np.nonzero(allowed)
    trend = rng.uniform(0.6, 1.5, size=n)
    base = rng.integers(3, 10, size=n).astype(float)
    demand = np.round(base[None, :] * (1 + (trend[None, :] - 1) * np.arange(T)[:, None] / 2))
    dist = rng.integers(1, 9, size=(n, m)).astype(float)
    pair_cost = demand[:, rows] * dist[rows, cols][None, :]
    kw: dict = {
        "existing": rng.random(m) < 0.6,
        "fixed_cost": rng.integers(5, 40, size=(T, m)).astype(float),
        "capacity": rng.integers(6, 16, size=m).astype(float),
        "single_source": single_source,
    }
    if rng.random() < 0.6:
        kw["closed_cost"] = rng.integers(0, 25, size=m).astype(float)
    if rng.random() < 0.6:
        kw["expansion_block"] = np.array([4.0, 0.0, 3.0])[:m]
        kw["expansion_cost"] = rng.integers(5, 30, size=m).astype(float)
        kw["max_blocks"] = np.array([2, 1, 1])[:m]
        kw["capital_discount"] = 0.9 ** np.arange(T)
    if rng.random() < 0.6:
        kw["temp_cost"] = rng.integers(1, 6, size=m).astype(float)
        kw["temp_max"] = np.array([0.0, 4.0, 3.0])[:m]
    if rng.random() < 0.5:
        kw["unserved_cost"] = rng.integers(40, 120, size=n).astype(float)
    if rng.random() < 0.4:
        kw["min_load"] = rng.integers(3, 9, size=m).astype(float)
        kw["min_load_exempt"] = np.array([True, False, False])[:m]
    if rng.random() < 0.3:
        kw["link_group"] = np.array([0, 0, -1])[:m]
    if rng.random() < 0.3:
        fix = np.full((T, m), -1)
        fix[rng.integers(0, T), rng.integers(0, m)] = rng.integers(0, 2)
        kw["fix_open"] = fix
    return {"rows": rows, "cols": cols, "pair_cost": pair_cost, "demand": demand,
            "n": n, "m": m, "T": T, "kw": kw}


def _schedules(existing: bool, T: int) -> list[tuple[bool, ...]]:
    """Every monotone open schedule: an existing facility closes once, a site opens once."""
    if existing:
        return [tuple(t < c for t in range(T)) for c in range(T + 1)]
    return [tuple(t >= o for t in range(T)) for o in range(T + 1)]


def brute_force(inst: dict) -> float:
    """Optimal objective by enumerating schedules, cumulative blocks and assignments."""
    n, m, T = inst["n"], inst["m"], inst["T"]
    rows, cols, pc, dem, kw = inst["rows"], inst["cols"], inst["pair_cost"], inst["demand"], inst["kw"]
    existing = np.asarray(kw["existing"], dtype=bool)
    fixed = kw["fixed_cost"]
    cap = kw["capacity"]
    closed = kw.get("closed_cost", np.zeros(m))
    block = kw.get("expansion_block", np.zeros(m))
    max_b = np.where(block > 0, kw.get("max_blocks", np.zeros(m, dtype=int)), 0)
    e_cost = kw.get("expansion_cost", np.zeros(m))
    disc = kw.get("capital_discount", np.ones(T))
    t_cost = kw.get("temp_cost", np.zeros(m))
    t_max = kw.get("temp_max", np.zeros(m))
    uns = kw.get("unserved_cost")
    ml = np.where(kw.get("min_load_exempt", np.zeros(m, dtype=bool)), 0.0,
                  kw.get("min_load", np.zeros(m)))
    group = kw.get("link_group")
    fix = kw.get("fix_open", np.full((T, m), -1))
    single = kw["single_source"]

    @cache
    def period_cost(t: int, is_open: tuple[bool, ...], b: tuple[int, ...]) -> float:
        op = np.array(is_open)
        perm = cap + block * np.array(b)
        ok = op[cols]
        if single:
            options = [list(np.flatnonzero((rows == i) & ok)) + ([-1] if uns is not None else [])
                       for i in range(n)]
            best = np.inf
            for choice in itertools.product(*options):
                load = np.zeros(m)
                val = 0.0
                for i, k in enumerate(choice):
                    if k < 0:
                        val += uns[i]
                    else:
                        load[cols[k]] += dem[t, i]
                        val += pc[t, k]
                tmp = np.maximum(0.0, load - perm)
                if (tmp > t_max + 1e-9).any() or (load < ml * op - 1e-9).any():
                    continue
                best = min(best, val + (t_cost * tmp).sum())
            return best
        return _split_period(t, op, perm, inst, uns, t_cost, t_max, ml)

    best = np.inf
    for sched in itertools.product(*(_schedules(bool(e), T) for e in existing)):
        y = np.array(sched).T  # (T, m)
        if group is not None and any(
            (y[:, group == g] != y[:, group == g][:, :1]).any() for g in set(group.tolist()) - {-1}
        ):
            continue
        if ((fix == 1) & ~y).any() or ((fix == 0) & y).any():
            continue
        before = np.vstack([np.ones((1, m), dtype=bool), y[:-1]])
        base = (fixed * y).sum() + (closed * existing * (before & ~y)).sum()
        ranges = [[tuple(0 for _ in range(T))] if max_b[j] == 0 else
                  [s for s in itertools.product(range(max_b[j] + 1), repeat=T)
                   if all(s[t] >= (s[t - 1] if t else 0) for t in range(T))
                   and all(s[t] == (s[t - 1] if t else 0) or y[t, j] for t in range(T))]
                  for j in range(m)]
        for bsched in itertools.product(*ranges):
            b = np.array(bsched).T  # (T, m)
            built = np.diff(b, axis=0, prepend=0)
            total = base + (disc[:, None] * built * e_cost).sum()
            for t in range(T):
                if total >= best:
                    break
                total += period_cost(t, tuple(y[t]), tuple(b[t]))
            best = min(best, total)
    return best


def _split_period(t, op, perm, inst, uns, t_cost, t_max, ml) -> float:
    """Min cost of period t's split-demand transport LP with facilities ``op`` open."""
    rows, cols, pc, dem, n, m = (inst["rows"], inst["cols"], inst["pair_cost"], inst["demand"],
                                 inst["n"], inst["m"])
    ks = np.flatnonzero(op[cols])
    nu = n if uns is not None else 0
    nv = ks.size + nu + m
    c = np.concatenate([pc[t, ks], uns if nu else [], t_cost])
    a_eq = np.zeros((n, nv))
    a_eq[rows[ks], np.arange(ks.size)] = 1
    if nu:
        a_eq[np.arange(n), ks.size + np.arange(n)] = 1
    if (a_eq.sum(axis=1) == 0).any():
        return np.inf
    a_ub = np.zeros((2 * m, nv))
    for j in range(m):
        sel = np.flatnonzero(cols[ks] == j)
        a_ub[j, sel] = dem[t, rows[ks[sel]]]
        a_ub[j, ks.size + nu + j] = -1.0
        a_ub[m + j, sel] = -dem[t, rows[ks[sel]]]
    b_ub = np.concatenate([perm * op, -ml * op])
    bounds = [(0, 1)] * (ks.size + nu) + [(0, t_max[j] * op[j]) for j in range(m)]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n), bounds=bounds,
                  method="highs")
    return float(res.fun) if res.status == 0 else np.inf


def solve(inst: dict, **solve_kw) -> MultiPeriodLocation:
    return MultiPeriodLocation.from_pairs(inst["rows"], inst["cols"], inst["pair_cost"],
                                          inst["demand"], inst["m"], **inst["kw"]).solve(
        time_limit=30, gap=1e-9, **solve_kw)


def check_plan(mp: MultiPeriodLocation, inst: dict) -> None:
    """The stored plan satisfies the model's rules and its cost breakdown sums to the objective."""
    kw = inst["kw"]
    existing = np.asarray(kw["existing"], dtype=bool)
    op = mp.open_
    assert (np.diff(op[:, existing].astype(int), axis=0) <= 0).all(), "an existing facility reopened"
    assert (np.diff(op[:, ~existing].astype(int), axis=0) >= 0).all(), "a new site closed again"
    assert (np.diff(mp.blocks, axis=0) >= 0).all(), "a block was removed"
    built = np.diff(mp.blocks, axis=0, prepend=0)
    assert not ((built > 0) & ~op).any(), "a block was built at a closed facility"
    assert (mp.load[~op] == 0).all()
    assert (mp.temporary[~op] == 0).all()
    cap = kw["capacity"] + kw.get("expansion_block", 0.0) * mp.blocks
    assert (mp.load <= cap * op + mp.temporary + 1e-6).all()
    assert np.isclose(mp.costs["total"].sum(), mp.objective)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(24))
def test_single_source_matches_brute_force(seed: int) -> None:
    inst = random_instance(seed)
    expected = brute_force(inst)
    mp = solve(inst)
    if not np.isfinite(expected):
        assert mp.status is SolveStatus.INFEASIBLE
        return
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    check_plan(mp, inst)


@pytest.mark.parametrize("seed", range(100, 110))
def test_split_demand_matches_brute_force(seed: int) -> None:
    inst = random_instance(seed, single_source=False)
    expected = brute_force(inst)
    mp = solve(inst)
    if not np.isfinite(expected):
        assert mp.status is SolveStatus.INFEASIBLE
        return
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    check_plan(mp, inst)


@pytest.mark.parametrize("seed", range(200, 212))
def test_schedules_are_monotone(seed: int) -> None:
    """Closures are never reversed, openings never undone, blocks never removed."""
    inst = random_instance(seed, n=9, m=3, n_periods=4, single_source=bool(seed % 2))
    inst["kw"]["unserved_cost"] = np.full(inst["n"], 500.0)  # always feasible
    inst["kw"].pop("fix_open", None)
    mp = solve(inst)
    assert mp.status is SolveStatus.OPTIMAL
    check_plan(mp, inst)


def _peak(temp_cost: float) -> MultiPeriodLocation:
    """One school of 100 seats; demand 100, 160, 100; blocks of 60 seats cost 500."""
    demand = np.array([[100.0], [160.0], [100.0]])
    return MultiPeriodLocation.from_pairs(
        [0], [0], demand * 1.0, demand, 1, existing=[True], fixed_cost=10.0, capacity=[100.0],
        expansion_block=[60.0], expansion_cost=[500.0], max_blocks=[2],
        temp_cost=[temp_cost], temp_max=[100.0]).solve()


def test_peak_uses_temporary_seats_when_cheaper() -> None:
    mp = _peak(temp_cost=2.0)  # 60 seats for one period: 120 < 500
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.temporary[:, 0].tolist() == [0.0, 60.0, 0.0]
    assert mp.blocks.sum() == 0
    assert mp.costs["temporary"].tolist() == [0.0, 120.0, 0.0]
    assert mp.objective == pytest.approx(30 + 360 + 120)


def test_peak_builds_a_block_when_temporary_seats_are_dear() -> None:
    mp = _peak(temp_cost=20.0)  # 60 seats for one period: 1200 > 500
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.temporary.sum() == 0
    assert mp.blocks[:, 0].tolist() == [0, 1, 1]  # built for the peak, then kept
    assert mp.costs["capital"].tolist() == [0.0, 500.0, 0.0]


def test_capital_discount_delays_the_block() -> None:
    """Demand grows 100, 160, 160: a discounted later block is not built early."""
    demand = np.array([[100.0], [100.0], [160.0]])
    mp = MultiPeriodLocation.from_pairs(
        [0], [0], demand, demand, 1, existing=[True], capacity=[100.0], expansion_block=[60.0],
        expansion_cost=[500.0], max_blocks=[1], capital_discount=[1.0, 0.8, 0.6]).solve()
    assert mp.blocks[:, 0].tolist() == [0, 0, 1]
    assert mp.costs["capital"].tolist() == pytest.approx([0.0, 0.0, 300.0])


def _two_sites(**kw) -> MultiPeriodLocation:
    """Rows 0, 1 near facility 0/1 (existing), far from sites 2, 3; demand moves to the sites."""
    rows = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    cols = np.array([0, 2, 1, 3, 2, 0, 3, 1])
    demand = np.array([[20.0, 20.0, 0.0, 0.0], [10.0, 10.0, 10.0, 10.0],
                       [0.0, 0.0, 20.0, 20.0]])
    dist = np.array([1.0, 5.0, 1.0, 5.0, 1.0, 5.0, 1.0, 5.0])
    return MultiPeriodLocation.from_pairs(
        rows, cols, demand[:, rows] * dist, demand, 4, existing=[True, True, False, False],
        fixed_cost=[30.0, 30.0, 30.0, 30.0], capacity=40.0, closed_cost=[10.0, 10.0, 0.0, 0.0],
        **kw).solve()


def test_link_group_opens_and_closes_together() -> None:
    free = _two_sites()
    linked = _two_sites(link_group=[0, 1, 0, 1])
    assert free.status is linked.status is SolveStatus.OPTIMAL
    # Linked pairs (0, 2) and (1, 3) contain an existing facility and a site: constant schedules.
    for a, b in ((0, 2), (1, 3)):
        assert (linked.open_[:, a] == linked.open_[:, b]).all()
    assert (linked.open_ == linked.open_[:1]).all()
    assert linked.objective >= free.objective - 1e-9
    sites = _two_sites(link_group=[-1, -1, 5, 5])
    assert (sites.open_[:, 2] == sites.open_[:, 3]).all()


def test_fixed_decisions_are_honoured() -> None:
    free = _two_sites()
    fix = np.full((3, 4), -1)
    fix[2, 0] = 1  # keep facility 0 open to the end (so also in every earlier period)
    fix[1, 3] = 0  # site 3 not yet open in period 1 (so not in period 0 either)
    fixed = _two_sites(fix_open=fix)
    assert fixed.status is SolveStatus.OPTIMAL
    assert fixed.open_[:, 0].all()
    assert not fixed.open_[:2, 3].any()
    assert fixed.objective >= free.objective - 1e-9
    forced = _two_sites(force_open=[False, True, False, False])
    assert forced.open_[:, 1].all()


def test_fixings_no_schedule_can_follow_are_rejected() -> None:
    fix = np.full((3, 4), -1)
    fix[0, 0], fix[2, 0] = 0, 1  # an existing facility closed, then open again
    with pytest.raises(CoreInputError, match="never reopens"):
        _two_sites(fix_open=fix)
    fix = np.full((3, 4), -1)
    fix[0, 2], fix[1, 2] = 1, 0  # a site open, then closed again
    with pytest.raises(ValueError, match="fix_open"):
        _two_sites(fix_open=fix)
    with pytest.raises(CoreInputError, match="but force_open"):
        _two_sites(fix_open=np.array([[0, -1, -1, -1]] * 3), force_open=[True, False, False, False])
    with pytest.raises(CoreInputError, match="fixed both open and closed in period 1"):
        _two_sites(fix_open=np.array([[-1] * 4, [1, -1, 0, -1], [-1] * 4]),
                   link_group=[0, -1, 0, -1])


def test_input_errors_name_the_argument() -> None:
    d = np.ones((2, 2))
    with pytest.raises(CoreInputError, match="pair_cost"):
        MultiPeriodLocation.from_pairs([0, 1], [0, 0], np.ones((3, 2)), d, 1)
    with pytest.raises(CoreInputError, match="demand"):
        MultiPeriodLocation.from_pairs([0, 1], [0, 0], np.ones((2, 2)), np.ones(2), 1)
    with pytest.raises(CoreInputError, match="row 1 has no permitted"):
        MultiPeriodLocation.from_pairs([0], [0], np.ones((2, 1)), d, 1)
    with pytest.raises(CoreInputError, match="need capacity"):
        MultiPeriodLocation.from_pairs([0, 1], [0, 0], np.ones((2, 2)), d, 1, temp_max=[3.0])
    with pytest.raises(CoreInputError, match=r"fixed_cost\[1, 0\]"):
        MultiPeriodLocation.from_pairs([0, 1], [0, 0], np.ones((2, 2)), d, 1,
                                       fixed_cost=[[1.0], [np.nan]])


def test_period_weight_scales_per_year_costs() -> None:
    demand = np.array([[10.0], [10.0]])
    a = MultiPeriodLocation.from_pairs([0], [0], demand, demand, 1, fixed_cost=[3.0],
                                       period_weight=[5.0, 10.0]).solve()
    b = MultiPeriodLocation.from_pairs([0], [0], demand, demand, 1,
                                       fixed_cost=[[15.0], [30.0]]).solve()
    assert a.costs["fixed"].tolist() == b.costs["fixed"].tolist() == [15.0, 30.0]
    assert a.objective == pytest.approx(b.objective)


@pytest.mark.parametrize(("seed", "single"), [(s, s % 2 == 0) for s in range(300, 308)])
def test_one_period_equals_facility_location(seed: int, single: bool) -> None:
    rng = np.random.default_rng(seed)
    n, m = 12, 5
    allowed = rng.random((n, m)) < 0.6
    allowed[np.arange(n), rng.integers(0, m, size=n)] = True
    rows, cols = np.nonzero(allowed)
    demand = rng.integers(1, 10, size=n).astype(float)
    costs = demand[rows] * rng.integers(1, 20, size=rows.size)
    kw = {
        "fixed_cost": rng.integers(10, 60, size=m).astype(float),
        "capacity": rng.integers(10, 30, size=m).astype(float),
        "closed_cost": rng.integers(0, 20, size=m).astype(float),
        "link_group": np.array([0, 0, -1, -1, -1]),
        "force_open": np.array([False, False, True, False, False]),
        "min_load": np.full(m, 5.0), "min_load_exempt": np.array([False, True, False, False, False]),
        "expansion_block": np.full(m, 5.0), "expansion_cost": rng.integers(5, 30, size=m) * 1.0,
        "max_blocks": np.full(m, 2), "unserved_cost": np.full(n, 400.0),
        "single_source": single,
    }
    fl = FacilityLocation.from_pairs(rows, cols, costs, demand, m, **kw).solve(
        method="direct", gap=1e-9)
    mp = MultiPeriodLocation.from_pairs(rows, cols, costs[None, :], demand[None, :], m,
                                        existing=np.ones(m, dtype=bool), **kw).solve(gap=1e-9)
    assert fl.status is mp.status is SolveStatus.OPTIMAL
    assert mp.objective == pytest.approx(fl.objective, rel=1e-6)
    assert mp.costs.shape == (1, 9)


def test_warm_start_and_results_shapes() -> None:
    inst = random_instance(7, n=9, m=3, n_periods=3)
    inst["kw"]["unserved_cost"] = np.full(inst["n"], 500.0)
    inst["kw"].pop("fix_open", None)
    inst["kw"].pop("min_load", None)
    mp = solve(inst)
    assert np.isfinite(mp.hint_objective)  # the all-existing warm start is feasible here
    assert mp.objective <= mp.hint_objective + 1e-6
    cold = solve(inst, hint=None, root_lp=False)
    assert np.isnan(cold.hint_objective)
    assert cold.objective == pytest.approx(mp.objective)
    T, n, m = inst["T"], inst["n"], inst["m"]
    assert mp.open_.shape == mp.blocks.shape == mp.temporary.shape == mp.load.shape == (T, m)
    assert mp.assignment.shape == mp.unserved.shape == (T, n)
    assert set(mp.flows.columns) == {"period", "demand", "facility", "fraction"}
    served = mp.flows.groupby(["period", "demand"])["fraction"].sum()
    for (t, i), share in served.items():
        assert share + mp.unserved[t, i] == pytest.approx(1.0)
    assert mp.gap <= 1e-6
    assert mp.wall_time > 0
    assert mp.build_time >= 0
    assert "MultiPeriodLocation" in repr(mp)


def test_infeasible_reports_no_plan() -> None:
    demand = np.array([[10.0], [30.0]])
    mp = MultiPeriodLocation.from_pairs([0], [0], demand, demand, 1, existing=[True],
                                        capacity=[20.0], single_source=True).solve()
    assert mp.status is SolveStatus.INFEASIBLE
    assert np.isnan(mp.objective)
    assert (mp.assignment == -1).all()


def test_warm_start_closes_facilities_below_minimum_load() -> None:
    """Keeping every existing school open leaves schools 0 and 1 empty in period 2."""
    mp = _two_sites(min_load=15.0, unserved_cost=1000.0)
    assert np.isfinite(mp.hint_objective)
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.objective <= mp.hint_objective + 1e-9
    assert not mp.open_[2, :2].any()
    assert (mp.load[mp.open_] >= 15.0 - 1e-9).all()


def test_a_solved_model_travels_without_its_mip_and_keeps_its_plan() -> None:
    """What a Dask worker sends back: the plan and costs, not the built MIP (rebuilt on use)."""
    import pickle

    mp = solve(random_instance(205))
    mp.n_constraints  # noqa: B018  (builds the MIP)
    assert mp._model is not None
    back = pickle.loads(pickle.dumps(mp))
    assert back._model is None
    assert back.objective == mp.objective
    assert (back.open_ == mp.open_).all()
    assert back.costs.equals(mp.costs)
    assert back.n_constraints == mp.n_constraints  # rebuilt on first use
    assert back.solve(time_limit=30).objective == pytest.approx(mp.objective)
