"""The capacitated split-demand path (linking rows as cuts) against the full strong model."""

from __future__ import annotations

import numpy as np
import pytest

from layout.core import FacilityLocation, SolveStatus
from layout.core.capacitated import is_plain_capacitated, transport


def _instance(seed: int, n: int = 40, m: int = 8, allowed: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    pts, sites = rng.random((n, 2)), rng.random((m, 2))
    demand = rng.integers(1, 20, size=n).astype(float)
    cost = np.linalg.norm(pts[:, None] - sites[None], axis=2) * demand[:, None] * 10
    cap = rng.integers(60, 200, size=m).astype(float)
    cap *= max(1.0, 1.3 * demand.sum() / cap.sum())
    kw: dict = {"fixed_cost": rng.integers(20, 200, size=m).astype(float), "capacity": cap}
    if allowed:
        mask = rng.random((n, m)) < 0.8
        mask[np.arange(n), rng.integers(0, m, size=n)] = True
        kw["allowed"] = mask
    return {"cost": cost, "demand": demand, "kw": kw}


@pytest.mark.parametrize("seed", range(8))
def test_cuts_match_full_model(seed: int) -> None:
    inst = _instance(seed, allowed=seed % 2 == 1)
    fast = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"])
    assert is_plain_capacitated(fast.data)
    fast.solve(time_limit=30, gap=1e-9)
    full = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"]).solve(
        time_limit=30, gap=1e-9, method="direct")
    assert fast.method == "linking-cuts"
    assert full.method == "direct"
    assert fast.status is SolveStatus.OPTIMAL
    assert full.status is SolveStatus.OPTIMAL
    assert fast.objective == pytest.approx(full.objective, rel=1e-7)
    assert fast.bound <= fast.objective + 1e-6
    # The plan is feasible: every point fully served, only open sites used, capacities kept.
    served = fast.flows.groupby("demand")["fraction"].sum()
    assert np.allclose(served.to_numpy(), 1.0)
    assert served.size == fast.n_demand
    assert fast.open[fast.flows["facility"].to_numpy()].all()
    assert (fast.load <= inst["kw"]["capacity"] * fast.open + 1e-6).all()
    cost = (inst["cost"][fast.flows["demand"], fast.flows["facility"]] * fast.flows["fraction"]).sum()
    assert cost + inst["kw"]["fixed_cost"][fast.open].sum() == pytest.approx(fast.objective)


def test_zero_demand_point_not_served_by_closed_site() -> None:
    inst = _instance(3)
    inst["demand"][0] = 0.0
    inst["cost"][0] = 0.0
    inst["cost"][0, 0] = -1000.0  # tempting, but site 0 must then be open
    fast = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"]).solve(
        time_limit=30, gap=1e-9)
    full = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"]).solve(
        time_limit=30, gap=1e-9, method="direct")
    assert fast.objective == pytest.approx(full.objective, rel=1e-7)
    assert fast.open[fast.flows["facility"].to_numpy()].all()


def test_infeasible_capacity() -> None:
    inst = _instance(1)
    inst["kw"]["capacity"] = np.full(8, inst["demand"].sum() / 10)
    fast = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"]).solve(
        time_limit=30)
    assert fast.status is SolveStatus.INFEASIBLE


def test_transport_matches_fixed_open_set() -> None:
    inst = _instance(5)
    fl = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"]).solve(
        time_limit=30, gap=1e-9)
    cost, x = transport(fl.data, fl.open)
    assert x is not None
    assert cost == pytest.approx(fl.objective, rel=1e-7)
    closed = np.zeros(fl.n_facilities, dtype=bool)
    closed[0] = True
    cost, _ = transport(fl.data, closed)  # one site cannot hold all demand
    assert cost == np.inf


def test_extensions_not_routed() -> None:
    inst = _instance(2)
    fl = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], single_source=True,
                                           **inst["kw"])
    assert not is_plain_capacitated(fl.data)
    fl2 = FacilityLocation.from_cost_matrix(inst["cost"], inst["demand"], **inst["kw"],
                                            min_load=np.full(8, 5.0))
    assert not is_plain_capacitated(fl2.data)
    assert fl2.solve(time_limit=30).method == "direct"
