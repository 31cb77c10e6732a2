"""County decomposition, parallel solve and the greedy fallback of the layout model (synthetic)."""

from __future__ import annotations

from functools import partial

import pytest
from toy_region import demand_table, make_region

import layout.core.facility as facility_mod
import layout.plan.model as model_mod
from layout.core import SolveStatus
from layout.core.backends import BackendResult
from layout.plan import LayoutParams, plan_layout

C = "510802"
SEAT, T2 = "510802001", "510802002"
V1, V2, V3 = "510802001001", "510802002001", "510802002002"


def _region():
    tw = [
        {"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
        {"township_code": T2, "county_code": C, "is_central_town": True},
    ]
    vil = [
        {"village_id": V1, "township_code": SEAT, "x_km": 0, "y_km": 0, "urban": True},
        {"village_id": V2, "township_code": T2, "x_km": 12, "y_km": 0},
        {"village_id": V3, "township_code": T2, "x_km": 13, "y_km": 1},
    ]
    sch = [
        {
            "school_id": "K1",
            "school_type": "kindergarten",
            "township_code": SEAT,
            "x_km": 0.2,
            "y_km": 0.1,
            "capacity": 300,
            "enrollment": {"kindergarten": 150},
        },
        {
            "school_id": "K2",
            "school_type": "kindergarten",
            "township_code": T2,
            "x_km": 12.2,
            "y_km": 0.1,
            "capacity": 300,
            "enrollment": {"kindergarten": 150},
        },
        {
            "school_id": "P1",
            "school_type": "primary",
            "township_code": SEAT,
            "x_km": 0.3,
            "y_km": 0.0,
            "capacity": 900,
            "enrollment": {"primary": 400},
        },
        {
            "school_id": "P2",
            "school_type": "primary",
            "township_code": T2,
            "x_km": 12.3,
            "y_km": 0.0,
            "capacity": 900,
            "enrollment": {"primary": 400},
        },
        {
            "school_id": "J1",
            "school_type": "junior",
            "township_code": SEAT,
            "x_km": 0.5,
            "y_km": 0.2,
            "capacity": 1500,
            "enrollment": {"junior": 600},
        },
    ]
    return make_region(tw, vil, sch)


_ROWS = [
    (V1, "kindergarten", 120),
    (V2, "kindergarten", 60),
    (V3, "kindergarten", 40),
    (V1, "primary_lower", 200),
    (V1, "primary_upper", 200),
    (V2, "primary_lower", 120),
    (V2, "primary_upper", 120),
    (V3, "primary_lower", 60),
    (V3, "primary_upper", 60),
    (V1, "junior", 300),
    (V2, "junior", 200),
    (V3, "junior", 100),
]


def _county(plan):
    return plan.solver_records[plan.solver_records["county_code"] == C]


def _plan(time_limit, params=None, threads=1):
    return plan_layout(
        _region(),
        demand_table(_ROWS),
        params,
        target_year=2030,
        time_limit=time_limit,
        threads=threads,
        seed=0,
    )


def test_county_is_split_and_every_subproblem_recorded(monkeypatch):
    whole = _plan(10)
    # Without batching of small components, each component is its own sub-problem.
    monkeypatch.setattr(model_mod, "subproblems", partial(model_mod.subproblems, small_pairs=1))
    plan = _plan(10)
    rec = plan.solver_records[plan.solver_records["county_code"] == C]
    assert len(rec) >= 3  # kindergarten, primary and junior never share a component here
    assert rec["subproblem"].str.startswith(f"{C}/").all()
    assert rec["subproblem"].is_unique
    assert any("kindergarten" in s and "+" not in s for s in rec["subproblem"])
    assert (rec["status"] == "optimal").all()
    assert plan.unserved.empty
    assert rec["objective"].sum() == pytest.approx(_county(whole)["objective"].sum(), rel=0.02)


def test_tiny_time_limit_still_gives_a_plan_without_solver_unserved():
    plan = _plan(0.001)
    rec = plan.solver_records[plan.solver_records["county_code"] == C]
    assert not rec["status"].isin(["no_solution", "infeasible"]).any()
    assert plan.unserved.empty
    assert plan.assignments["students"].sum() == sum(r[2] for r in _ROWS)


def test_solver_finding_nothing_falls_back_to_greedy(monkeypatch):
    def nothing(model, **_):
        return BackendResult(SolveStatus.NO_SOLUTION, None, float("nan"), float("nan"), 0.0, 1)

    monkeypatch.setattr(facility_mod, "solve_mip", nothing)
    plan = _plan(0.001)
    rec = plan.solver_records[plan.solver_records["county_code"] == C]
    assert (rec["status"] == "fallback_greedy").all()
    # Nothing shown unserved merely because the solver found nothing.
    assert plan.unserved.empty
    assert plan.assignments["students"].sum() == sum(r[2] for r in _ROWS)
    kept = plan.schools[plan.schools["action"] != "close"]
    assert set(kept["school_id"]) >= {"K1", "K2", "P1"}


def test_same_plan_with_one_or_two_worker_threads_and_solvers_agree_on_cost():
    a, b = _plan(10, threads=1), _plan(10, threads=2)
    assert a.assignments.equals(b.assignments)
    assert a.schools.equals(b.schools)
    scip = _plan(10, LayoutParams(solver="scip"))
    assert (_county(scip)["status"] == "optimal").all()
    assert (_county(scip)["solver"] == "scip").all()
    cost = _county(a)["objective"].sum()
    assert _county(scip)["objective"].sum() == pytest.approx(cost, rel=0.02)
