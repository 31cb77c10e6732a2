"""layout.core against a brute-force oracle on tiny random instances.

The oracle enumerates every open subset (and block counts); for split demand it solves the
remaining transport LP with scipy's linprog, for single sourcing it enumerates every assignment.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from layout.core import FacilityLocation, SolveStatus


def random_instance(seed: int, feature: str) -> dict:
    rng = np.random.default_rng(seed)
    n, m = 5, 4
    inst: dict = {
        "cost": rng.integers(1, 30, size=(n, m)).astype(float),
        "demand": rng.integers(1, 6, size=n).astype(float),
        "kw": {},
    }
    kw = inst["kw"]
    if feature != "pmedian":
        kw["fixed_cost"] = rng.integers(0, 40, size=m).astype(float)
    else:
        kw["p"] = int(rng.integers(1, m + 1))
    if feature in ("cap", "single", "expand", "minload", "unserved", "all"):
        kw["capacity"] = rng.integers(3, 12, size=m).astype(float)
    if feature in ("single", "all"):
        kw["single_source"] = True
    if feature in ("allowed", "unserved", "all"):
        allowed = rng.random((n, m)) < 0.7
        allowed[0] = False  # a demand point with no facility needs unserved_cost
        if feature == "allowed":
            allowed[0, 0] = True
        kw["allowed"] = allowed
    if feature in ("unserved", "all"):
        kw["unserved_cost"] = rng.integers(20, 80, size=n).astype(float)
    if feature in ("link", "all"):
        kw["link_group"] = np.array([0, 0, -1, 1]) if m == 4 else None
        kw["closed_cost"] = rng.integers(0, 20, size=m).astype(float)
    if feature in ("force", "all"):
        kw["force_open"] = np.array([False, True, False, False])
        kw["force_closed"] = np.array([False, False, False, True])
    if feature in ("minload", "all"):
        kw["min_load"] = rng.integers(4, 12, size=m).astype(float)
        kw["min_load_exempt"] = np.array([True, False, False, False])
    if feature in ("expand", "all"):
        kw["expansion_block"] = np.array([2.0, 3.0, 0.0, 2.0])
        kw["expansion_cost"] = rng.integers(1, 10, size=m).astype(float)
        kw["max_blocks"] = np.array([2, 1, 3, 2])
    return inst


def brute_force(inst: dict) -> float:
    """Optimal objective by enumeration (inf if infeasible)."""
    cost, dem, kw = inst["cost"], inst["demand"], inst["kw"]
    n, m = cost.shape
    fixed = kw.get("fixed_cost", np.zeros(m))
    closed = kw.get("closed_cost", np.zeros(m))
    cap = kw.get("capacity")
    allowed = kw.get("allowed", np.ones((n, m), dtype=bool))
    unserved = kw.get("unserved_cost")
    group = kw.get("link_group")
    f_open = kw.get("force_open", np.zeros(m, dtype=bool))
    f_closed = kw.get("force_closed", np.zeros(m, dtype=bool))
    min_load = np.where(kw.get("min_load_exempt", np.zeros(m, dtype=bool)), 0.0,
                        kw.get("min_load", np.zeros(m)))
    block = kw.get("expansion_block", np.zeros(m))
    max_blocks = np.where(block > 0, kw.get("max_blocks", np.zeros(m, dtype=int)), 0)
    exp_cost = kw.get("expansion_cost", np.zeros(m))
    best = np.inf
    for bits in itertools.product([False, True], repeat=m):
        is_open = np.array(bits)
        if group is not None and any(
            len(set(is_open[group == g])) > 1 for g in set(group.tolist()) - {-1}
        ):
            continue
        if (f_open & ~is_open).any() or (f_closed & is_open).any():
            continue
        if "p" in kw and is_open.sum() != kw["p"]:
            continue
        base = fixed[is_open].sum() + closed[~is_open].sum()
        ranges = [range(max_blocks[j] + 1) if (is_open[j] and cap is not None) else [0]
                  for j in range(m)]
        for blocks in itertools.product(*ranges):
            b = np.array(blocks)
            fixed_part = base + (exp_cost * b).sum()
            if fixed_part >= best:
                continue
            cap_j = None if cap is None else cap + block * b
            if kw.get("single_source"):
                val = _single(cost, dem, allowed & is_open, cap_j, min_load * is_open, unserved)
            else:
                val = _split(cost, dem, allowed & is_open, cap_j, min_load * is_open, unserved)
            best = min(best, fixed_part + val)
    return best


def _single(cost, dem, ok, cap, min_load, unserved) -> float:
    n, m = cost.shape
    choices = [[j for j in range(m) if ok[i, j]] + ([-1] if unserved is not None else [])
               for i in range(n)]
    best = np.inf
    for assign in itertools.product(*choices):
        a = np.array(assign)
        load = np.array([dem[a == j].sum() for j in range(m)])
        if cap is not None and (load > cap + 1e-9).any():
            continue
        if (load < min_load - 1e-9).any():
            continue
        val = sum(cost[i, j] if j >= 0 else unserved[i] for i, j in enumerate(assign))
        best = min(best, val)
    return best


def _split(cost, dem, ok, cap, min_load, unserved) -> float:
    n, m = cost.shape
    pairs = np.argwhere(ok)
    nu = n if unserved is not None else 0
    nv = len(pairs) + nu
    c = np.concatenate([cost[ok], unserved if nu else []])
    a_eq = np.zeros((n, nv))
    a_eq[pairs[:, 0], np.arange(len(pairs))] = 1
    if nu:
        a_eq[np.arange(n), len(pairs) + np.arange(n)] = 1
    if (a_eq.sum(axis=1) == 0).any():
        return np.inf
    a_ub, b_ub = [], []
    for j in range(m):
        row = np.zeros(nv)
        sel = pairs[:, 1] == j
        row[np.flatnonzero(sel)] = dem[pairs[sel, 0]]
        if cap is not None:
            a_ub.append(row)
            b_ub.append(cap[j])
        if min_load[j] > 0:
            a_ub.append(-row)
            b_ub.append(-min_load[j])
    res = linprog(c, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None, A_eq=a_eq,
                  b_eq=np.ones(n), bounds=(0, 1), method="highs")
    return res.fun if res.status == 0 else np.inf


def plan_cost(model: FacilityLocation, inst: dict) -> float:
    """Recompute the plan's cost from the result attributes and check its feasibility."""
    cost, dem, kw = inst["cost"], inst["demand"], inst["kw"]
    n, m = cost.shape
    f = model.flows
    share = np.zeros((n, m))
    share[f["demand"].to_numpy(), f["facility"].to_numpy()] = f["fraction"].to_numpy()
    np.testing.assert_allclose(share.sum(axis=1) + model.unserved, 1.0, atol=1e-6)
    assert (share[:, ~model.open] < 1e-9).all()
    if "allowed" in kw:
        assert (share[~kw["allowed"]] == 0).all()
    load = dem @ share
    np.testing.assert_allclose(model.load, load, atol=1e-6)
    block = kw.get("expansion_block", np.zeros(m))
    if "capacity" in kw:
        assert (load <= kw["capacity"] + block * model.blocks_added + 1e-6).all()
    if "min_load" in kw:
        need = np.where(kw["min_load_exempt"] | ~model.open, 0.0, kw["min_load"])
        assert (load >= need - 1e-6).all()
    if kw.get("single_source"):
        assert set(np.unique(share)) <= {0.0, 1.0}
    if "p" in kw:
        assert model.open.sum() == kw["p"]
    total = (cost * share).sum() + kw.get("fixed_cost", np.zeros(m))[model.open].sum()
    total += kw.get("closed_cost", np.zeros(m))[~model.open].sum()
    total += (kw.get("expansion_cost", np.zeros(m)) * model.blocks_added).sum()
    if "unserved_cost" in kw:
        total += (kw["unserved_cost"] * model.unserved).sum()
    return total


FEATURES = ["uflp", "pmedian", "cap", "single", "allowed", "unserved", "link", "force", "minload",
            "expand", "all"]


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_matches_brute_force(feature: str, solver: str) -> None:
    checked = 0
    for seed in range(6):
        inst = random_instance(seed, feature)
        expected = brute_force(inst)
        model = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"])
        model.solve(time_limit=20, threads=1, seed=0, solver=solver)
        if not np.isfinite(expected):
            assert model.status == SolveStatus.INFEASIBLE
            continue
        assert model.status == SolveStatus.OPTIMAL, (seed, model.status)
        assert model.objective == pytest.approx(expected, rel=1e-6, abs=1e-6), seed
        assert plan_cost(model, inst) == pytest.approx(expected, rel=1e-6, abs=1e-6), seed
        assert model.bound <= model.objective + 1e-6
        checked += 1
    assert checked >= 3  # most random instances are feasible; the test must check some plans


@pytest.mark.parametrize("feature", ["single", "all"])
def test_cp_sat_single_source_matches(feature: str) -> None:
    for seed in range(3):
        inst = random_instance(seed, feature)
        expected = brute_force(inst)
        model = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"])
        model.solve(time_limit=20, threads=1, solver="sat")
        if np.isfinite(expected):
            assert model.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
        else:
            assert model.status == SolveStatus.INFEASIBLE
