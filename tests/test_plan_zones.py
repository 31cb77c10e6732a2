"""Junior zones: a county without designated central towns gets zones proposed by clustering.

Toy county (hill, bus 500 m/min, circuity 1.4): villages in two groups, around the county seat
(x = 0-2 km) and around township T2 (x = 38-42 km), 1,200 junior pupils each; junior schools at
the seat, in T2 and in T3 halfway (x = 20 km). With no designated central town, k-means proposes
ceil(2,400 / 1,500) = 2 zones: the seat and T2. T3 is no zone centre, so its school merges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from toy_region import demand_table, make_region

from layout.plan import LayoutParams, plan_layout
from layout.plan.zones import junior_zones

C = "510821"
SEAT, T2, T3 = "510821001", "510821002", "510821003"


def _region(central_t3: bool = False):
    tws = [
        {"township_code": SEAT, "county_code": C, "is_county_seat": True},
        {"township_code": T2, "county_code": C},
        {"township_code": T3, "county_code": C, "is_central_town": central_t3},
    ]
    vil, rows = [], []
    for i, (tw, x0) in enumerate([(SEAT, 0.0), (T2, 38.0)]):
        for k in range(6):
            vid = f"{tw}{k:03d}"
            vil.append({"village_id": vid, "township_code": tw, "x_km": x0 + 0.8 * (k % 3),
                        "y_km": 1.0 * (k // 3) + 0.1 * i})
            rows.append((vid, "junior", 200))
    vil.append({"village_id": f"{T3}000", "township_code": T3, "x_km": 20.0, "y_km": 3.0})
    rows.append((f"{T3}000", "junior", 0))

    def j(sid, tw, x):
        return {"school_id": sid, "school_type": "junior", "township_code": tw, "x_km": x,
                "y_km": 0.5, "capacity": 1500, "enrollment": {"junior": 300}}

    schools = [j("J1", SEAT, 0.5), j("J2", T2, 40.0), j("J3", T3, 20.0)]
    return make_region(tws, vil, schools, terrain={C: "hill"}), rows


def _plan(region, rows, seed=0):
    return plan_layout(region, demand_table(rows), LayoutParams(), target_year=2030,
                       time_limit=10, threads=1, seed=seed)


def _school(plan, sid):
    return plan.schools.set_index("school_id").loc[sid]


def test_county_without_central_town_gets_proposed_zones_and_the_plan_says_so():
    region, rows = _region()
    plan = _plan(region, rows)
    notes = [n for n in plan.notes if n.startswith(C)]
    assert len(notes) == 1
    assert "k=2" in notes[0]
    assert "clustering" in notes[0]
    assert T2 in notes[0]
    assert T3 not in notes[0]
    # The proposed zone centre T2 hosts its group's pupils by day; T3 is no zone: merged.
    a = plan.assignments
    east = a[a["demand_id"].str.startswith(T2)]
    assert set(east["school_id"]) == {"J2"}
    assert not east["boarding"].any()
    assert _school(plan, "J2")["action"] in ("keep", "expand")
    assert _school(plan, "J3")["action"] in ("merge", "close")
    assert plan.unserved.empty


def test_designated_central_town_means_no_proposed_zones():
    region, rows = _region(central_t3=True)
    plan = _plan(region, rows)
    assert not [n for n in plan.notes if n.startswith(C)]
    # Hosts are the seat and T3 only: J2 (T2) is not a host and closes; its pupils go to a host.
    assert _school(plan, "J2")["action"] in ("merge", "close")
    assert set(plan.assignments["school_id"]) <= {"J1", "J3"}


def test_zone_plan_is_deterministic_for_a_seed():
    region, rows = _region()
    a, b = _plan(region, rows, seed=5), _plan(region, rows, seed=5)
    pd.testing.assert_frame_equal(a.schools, b.schools)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.notes == b.notes


def _blobs(seed: int):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [50_000, 0], [0, 50_000]], dtype=float)
    xy = np.vstack([c + rng.normal(0, 3_000, (40, 2)) for c in centres])
    tws = np.repeat(["T0", "T1", "T2"], 40)
    students = rng.integers(5, 40, 120).astype(float)
    return xy, tws, students


@pytest.mark.parametrize("zone_size", [400, 1500, 100_000])
def test_junior_zones_direct(zone_size):
    xy, tws, students = _blobs(0)
    townships = pd.DataFrame({"township_code": ["T0", "T1", "T2", "T9"],
                              "is_county_seat": [False, False, False, True],
                              "is_central_town": [False] * 4})
    schools_xy = np.array([[500.0, 0.0], [50_000.0, 800.0], [0.0, 49_000.0]])
    school_tws = np.array(["T0", "T1", "T2"])
    z1 = junior_zones(C, townships, xy, students, tws, schools_xy, school_tws,
                      zone_size=zone_size, seed=3)
    z2 = junior_zones(C, townships, xy, students, tws, schools_xy, school_tws,
                      zone_size=zone_size, seed=3)
    assert z1 == z2
    assert z1.proposed
    k = int(min(4, max(1, np.ceil(students.sum() / zone_size))))
    assert f"k={k}" in z1.note
    assert "T9" in z1.townships  # the county seat always hosts
    picked = z1.townships - {"T9"}
    assert len(picked) == min(k, 3)
    if k >= 3:  # three well separated groups: each group's school town is a zone centre
        assert picked == {"T0", "T1", "T2"}
