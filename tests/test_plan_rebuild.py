"""No kindergarten closed while seats are built beside it for its children (staged plan).

Hand-built SYNTHETIC county (hill terrain, circuity 1.4; rural kindergarten children go by bus
at 30 km/h, so both kindergartens 1 km apart are within their 30-minute standard).
"""

from __future__ import annotations

import numpy as np
from toy_region import demand_table, make_region

from layout.plan import LayoutParams
from layout.plan.rebuild import near_pairs, rebuilt_beside
from layout.plan.staged import plan_staged

C = "510802"
SEAT, T2 = "510802001", "510802002"
V1, V2 = "510802002001", "510802002002"


def _plan(params: LayoutParams | None = None):
    tws = [{"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
           {"township_code": T2, "county_code": C}]
    vil = [{"village_id": V1, "township_code": T2, "x_km": 20.0, "y_km": 0.0},
           {"village_id": V2, "township_code": T2, "x_km": 21.0, "y_km": 0.0}]
    # K2 is the township's largest public kindergarten (kept by rule); K1 may close, and K2
    # would have to build two classes to take its 60 children
    sch = [{"school_id": "K1", "school_type": "kindergarten", "township_code": T2, "x_km": 20.0,
            "y_km": 0.0, "capacity": 60, "enrollment": {"kindergarten": 60}},
           {"school_id": "K2", "school_type": "kindergarten", "township_code": T2, "x_km": 21.0,
            "y_km": 0.0, "capacity": 90, "enrollment": {"kindergarten": 60}}]
    region = make_region(tws, vil, sch, terrain={C: "hill"})
    rows = [(V1, "kindergarten", 60), (V2, "kindergarten", 60)]
    demand = {y: demand_table(rows) for y in (2025, 2030)}
    return plan_staged(region, demand, params, target_year=2030, time_limit=30, threads=1,
                       seed=0)


def test_a_kindergarten_is_kept_rather_than_its_seats_rebuilt_next_door():
    s0 = _plan().schools.set_index("school_id")  # the rule is off by default
    # the cost model alone closes K1 and builds its seats 1 km away at K2
    assert s0.loc["K1", "action"] == "merge"
    assert s0.loc["K2", "seats_added"] > 0
    s = _plan(LayoutParams.model_validate({"keep_near_growth_m": 2000})).schools.set_index(
        "school_id")
    assert s.loc["K1", "action"] == "keep"
    assert s.loc["K1", "capacity_2030"] > 0
    assert s.loc["K1", "enrollment_2030"] >= 30
    assert s.loc["K2", "seats_added"] == 0
    assert "not closed and rebuilt beside" in s.loc["K1", "reason"]


def test_rebuilt_beside_needs_the_closed_school_reachable_and_closed_then():
    # two periods; school 0 closes in period 1 while school 1 builds then
    open_ = np.array([[True, True], [False, True]])
    blocks = np.array([[0, 0], [0, 2]])
    assignment = np.array([[0, 1], [1, 1]])
    rows, cols = np.array([0, 0, 1]), np.array([0, 1, 1])
    near = np.array([[0, 1]])
    assert rebuilt_beside(open_, blocks, assignment, rows, cols, near) == {0: 1}
    # building while the school is still open is no rebuild
    assert rebuilt_beside(np.ones((2, 2), bool), blocks, assignment, rows, cols, near) == {}
    # nor building for children who could not have gone to it
    assert rebuilt_beside(open_, blocks, np.array([[0, 1], [-1, 1]]), rows, cols, near) == {}


def test_near_pairs_keep_to_one_level_and_to_schools_that_may_close():
    import pandas as pd

    sf = pd.DataFrame({
        "x": [0.0, 800.0, 900.0, 1000.0], "y": 0.0,
        "level": ["kindergarten", "kindergarten", "primary", "kindergarten"],
        "fac_id": ["K1", "K2", "P1", "K3"], "is_site": [False, False, False, True],
        "host": True, "force_open": [False, False, False, False], "max_blocks": 2})
    got = near_pairs(sf, 2000.0, ["kindergarten"]).tolist()
    # K1 and K2 may each close beside the other's or the site's growth; no primary, no site
    assert got == [[0, 1], [0, 3], [1, 0], [1, 3]]
    assert near_pairs(sf, 0.0, ["kindergarten"]).size == 0
    assert near_pairs(sf, 2000.0, ["junior"]).size == 0
