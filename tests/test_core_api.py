"""layout.core API: input forms, errors, statuses, time limits, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from layout.core import CoreInputError, FacilityLocation, SolveStatus


def points(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)), rng.random((m, 2))
    w = rng.integers(1, 10, size=n).astype(float)
    return np.linalg.norm(a[:, None] - b[None], axis=2) * w[:, None], w


def test_dense_sparse_and_pairs_agree() -> None:
    cost, w = points(40, 12, 1)
    allowed = cost < np.quantile(cost, 0.5)
    allowed[np.arange(40), cost.argmin(axis=1)] = True
    fixed = np.full(12, 2.0)
    dense = FacilityLocation.from_cost_matrix(np.where(allowed, cost, np.inf), w,
                                              fixed_cost=fixed, allowed=allowed).solve(threads=1)
    r, c = np.nonzero(allowed)
    sparse = FacilityLocation.from_cost_matrix(sp.csr_array((cost[r, c], (r, c)), shape=cost.shape),
                                               w, fixed_cost=fixed).solve(threads=1)
    pairs = FacilityLocation.from_pairs(r[::-1], c[::-1], cost[r, c][::-1], w, 12,
                                        fixed_cost=fixed).solve(threads=1)
    assert dense.data.rows.size == allowed.sum()
    assert dense.objective == pytest.approx(sparse.objective)
    assert dense.objective == pytest.approx(pairs.objective)
    full = FacilityLocation.from_cost_matrix(cost, w, fixed_cost=fixed).solve(threads=1)
    assert full.objective <= dense.objective + 1e-9
    assert (allowed[np.arange(40), dense.assignment]).all()


def test_result_attributes_are_consistent() -> None:
    cost, w = points(30, 8, 2)
    m = FacilityLocation.from_cost_matrix(cost, w, capacity=np.full(8, w.sum() / 5), p=6,
                                          fixed_cost=np.ones(8)).solve(threads=1)
    assert m.status == "optimal"
    assert m.open.sum() == 6
    assert m.gap == pytest.approx(0.0, abs=1e-5)
    assert set(m.flows.columns) == {"demand", "facility", "fraction"}
    np.testing.assert_allclose(m.flows.groupby("demand")["fraction"].sum(), 1.0)
    assert (m.load <= w.sum() / 5 + 1e-6).all()
    assert m.solver == "highs"
    assert m.threads == 1
    assert m.seed == 0
    assert m.wall_time > 0
    share = m.flows.sort_values("fraction").drop_duplicates("demand", keep="last")
    assert set(share["facility"].to_numpy()[np.argsort(share["demand"].to_numpy())]) \
        == set(m.assignment)


def test_infeasible_instance_reports_status() -> None:
    cost, w = points(10, 3, 3)
    m = FacilityLocation.from_cost_matrix(cost, w, capacity=np.full(3, w.sum() / 4))
    m.solve(threads=1)
    assert m.status == SolveStatus.INFEASIBLE
    assert np.isnan(m.objective)
    assert (m.assignment == -1).all()
    # With unserved_cost the same instance yields a plan that leaves some demand unserved.
    m2 = FacilityLocation.from_cost_matrix(cost, w, capacity=np.full(3, w.sum() / 4),
                                           unserved_cost=np.full(10, 1e3)).solve(threads=1)
    assert m2.status == SolveStatus.OPTIMAL
    assert (w * m2.unserved).sum() == pytest.approx(w.sum() / 4)


def test_single_source_infeasible_when_demand_exceeds_every_capacity() -> None:
    cost = np.ones((2, 2))
    m = FacilityLocation.from_cost_matrix(cost, [5.0, 1.0], capacity=[4.0, 4.0],
                                          single_source=True).solve(threads=1)
    assert m.status == "infeasible"
    split = FacilityLocation.from_cost_matrix(cost, [5.0, 1.0], capacity=[4.0, 4.0]).solve()
    assert split.status == "optimal"


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_tiny_time_limit_does_not_raise(solver: str) -> None:
    cost, w = points(400, 80, 4)
    m = FacilityLocation.from_cost_matrix(cost, w, p=7, capacity=np.full(80, w.sum() / 6))
    m.solve(time_limit=0.01, threads=1, solver=solver)
    assert m.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    if m.status == SolveStatus.FEASIBLE:
        assert m.gap > 0
        assert m.open.sum() == 7


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_deterministic(solver: str) -> None:
    cost, w = points(60, 15, 5)
    cost = np.round(cost, 1)  # ties make non-determinism visible
    runs = [FacilityLocation.from_cost_matrix(cost, w, p=4).solve(threads=2, seed=3, solver=solver)
            for _ in range(2)]
    assert runs[0].objective == runs[1].objective
    np.testing.assert_array_equal(runs[0].assignment, runs[1].assignment)
    np.testing.assert_array_equal(runs[0].open, runs[1].open)


def test_link_group_opens_together_and_hint_accepted() -> None:
    cost, w = points(20, 6, 6)
    group = np.array([0, 0, -1, -1, 1, 1])
    m = FacilityLocation.from_cost_matrix(cost, w, fixed_cost=np.full(6, 0.5), link_group=group,
                                          closed_cost=np.full(6, 0.1)).solve(threads=1)
    assert m.open[0] == m.open[1]
    assert m.open[4] == m.open[5]
    h = FacilityLocation.from_cost_matrix(cost, w, fixed_cost=np.full(6, 0.5), link_group=group,
                                          closed_cost=np.full(6, 0.1))
    h.solve(threads=1, solver="scip", hint=m.open)
    assert h.objective == pytest.approx(m.objective)


def test_sat_refuses_split_demand() -> None:
    cost, w = points(5, 2, 7)
    with pytest.raises(CoreInputError, match="sat"):
        FacilityLocation.from_cost_matrix(cost, w, capacity=[30.0, 30.0]).solve(solver="sat")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"demand": np.array([1.0, -1.0, 1.0])}, r"demand\[1\]"),
        ({"cost": np.array([[1.0, np.nan], [1, 1], [1, 1]])}, r"cost\[0, 1\]"),
        ({"cost": np.ones((2, 2))}, "demand: expected shape"),
        ({"fixed_cost": [1.0, 2.0, 3.0]}, "fixed_cost"),
        ({"p": 3}, "p = 3"),
        ({"allowed": np.array([[True, False], [False, False], [True, True]])}, "demand 1"),
        ({"capacity": [1.0, np.inf]}, r"capacity\[1\]"),
        ({"force_open": [True, False], "force_closed": [True, False]}, "facility 0"),
        ({"link_group": [0, 0], "force_open": [True, False], "force_closed": [False, True]},
         "facility 0"),
        ({"max_blocks": [1, 1], "expansion_block": [2.0, 2.0]}, "capacity"),
        ({"max_blocks": [1.5, 0], "expansion_block": [1, 1], "capacity": [1, 1]},
         r"max_blocks\[0\]"),
        ({"allowed": np.ones((3, 2), dtype=int)}, "boolean"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str | None) -> None:
    args = {"cost": np.ones((3, 2)), "demand": np.ones(3)}
    args.update(kwargs)
    cost, demand = args.pop("cost"), args.pop("demand")
    with pytest.raises(CoreInputError, match=match or "shape") as err:
        FacilityLocation.from_cost_matrix(cost, demand, **args)
    assert isinstance(err.value, ValueError)


def test_unknown_keyword_is_a_type_error() -> None:
    # The extension arguments are explicit keywords: a misspelt one is Python's TypeError.
    with pytest.raises(TypeError, match="bogus"):
        FacilityLocation.from_cost_matrix(np.ones((3, 2)), np.ones(3), bogus=1)  # type: ignore[call-arg]


def test_from_pairs_errors() -> None:
    with pytest.raises(CoreInputError, match="more than once"):
        FacilityLocation.from_pairs([0, 0], [1, 1], [1.0, 2.0], [1.0], 2)
    with pytest.raises(CoreInputError, match=r"cols\[0\]"):
        FacilityLocation.from_pairs([0], [5], [1.0], [1.0], 2)
    with pytest.raises(CoreInputError, match="sparse"):
        FacilityLocation.from_cost_matrix(sp.csr_array(np.eye(2)), [1.0, 1.0],
                                          allowed=np.ones((2, 2), dtype=bool))
