"""Generated village sites (kindergartens, grades 1-3 teaching points) and the min-size exemption.

Hand-built SYNTHETIC county. Geometry: terrain "hill" (circuity 1.4), rural bus 30 km/h =
500 m/min, so a straight-line distance of d km is d * 2.8 minutes.
"""

from __future__ import annotations

import math

import pandas as pd
from toy_region import demand_table, make_region

from layout.plan import LayoutParams, plan_layout

C = "510802"
SEAT, T2 = "510802001", "510802002"
V1, VR, VN, VS = "510802001001", "510802002001", "510802002002", "510802002003"
FAR = 60 / 2.8  # 60 minutes from the seat by bus


def _region(extra_villages: list[dict] | None = None, schools: list[dict] | None = None):
    tws = [{"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
           {"township_code": T2, "county_code": C}]
    vil = [{"village_id": V1, "township_code": SEAT, "x_km": 0.0, "y_km": 0.0, "urban": True},
           {"village_id": VR, "township_code": T2, "x_km": FAR, "y_km": 0.0},
           *(extra_villages or [])]
    sch = schools or [
        {"school_id": "K1", "school_type": "kindergarten", "township_code": SEAT, "x_km": 0.3,
         "y_km": 0.0, "capacity": 300, "enrollment": {"kindergarten": 100}},
        {"school_id": "P1", "school_type": "primary", "township_code": SEAT, "x_km": 0.3,
         "y_km": 0.0, "capacity": 1500, "beds": 0, "enrollment": {"primary": 600}},
    ]
    return make_region(tws, vil, sch, terrain={C: "hill"})


def _plan(region, rows, params=None):
    return plan_layout(region, demand_table(rows), params, target_year=2030, time_limit=30,
                       threads=1, seed=0)


def _new(plan: pd.DataFrame, level: str) -> pd.DataFrame:
    s = plan.schools
    return s[(s["action"] == "new") & (s["level"] == level)]


def test_remote_village_gets_a_village_kindergarten_sized_in_class_blocks():
    plan = _plan(_region(), [(V1, "kindergarten", 100), (VR, "kindergarten", 40)])
    new = _new(plan, "kindergarten")
    assert len(new) == 1
    site = new.iloc[0]
    kind = LayoutParams().village_sites.kindergarten
    # 40 children in classes of 30: two classes.
    assert site["seats_added"] == math.ceil(40 / kind.class_size) * kind.class_size
    assert site["reason"].startswith("新建村级幼儿园")
    assert "30 min" in site["reason"]
    a = plan.assignments.set_index(["demand_id", "grade_band"])
    assert a.loc[(VR, "kindergarten"), "school_id"] == site["school_id"]
    assert plan.unserved.empty
    pr = plan.projects[plan.projects["school_id"] == site["school_id"]]
    assert len(pr) == 1
    assert pr["kind"].iloc[0] == "new"
    assert pr["capital_cost"].iloc[0] == site["seats_added"] * kind.capital_per_seat


def test_one_site_serves_neighbouring_uncovered_villages():
    # Two remote villages 2 km apart (5.6 min): one village kindergarten serves both.
    near = {"village_id": VN, "township_code": T2, "x_km": FAR + 2.0, "y_km": 0.0}
    plan = _plan(_region([near]), [(V1, "kindergarten", 100), (VR, "kindergarten", 25),
                                   (VN, "kindergarten", 20)])
    new = _new(plan, "kindergarten")
    assert len(new) == 1
    assert new["seats_added"].iloc[0] == 60
    assert plan.unserved.empty


def test_grades_1_to_3_get_a_teaching_point_and_grades_4_to_6_board_in_the_township():
    plan = _plan(_region(), [(V1, "primary_lower", 200), (V1, "primary_upper", 200),
                             (VR, "primary_lower", 30), (VR, "primary_upper", 30)])
    new = _new(plan, "primary")
    assert len(new) == 1
    tp = new.iloc[0]
    assert tp["school_type"] == "teaching_point"
    assert tp["reason"].startswith("新建教学点(1-3年级)")
    a = plan.assignments.set_index(["demand_id", "grade_band"])
    assert a.loc[(VR, "primary_lower"), "school_id"] == tp["school_id"]
    assert not a.loc[(VR, "primary_lower"), "boarding"]
    # Upper grades never use the teaching point: they board at the seat's school (60 min).
    assert a.loc[(VR, "primary_upper"), "school_id"] == "P1"
    assert a.loc[(VR, "primary_upper"), "boarding"]
    assert tp["demand_target"] == 30
    assert plan.unserved.empty


def test_too_few_children_stay_unserved_with_a_recommendation():
    params = LayoutParams()
    n_min = params.village_sites.kindergarten.min_children
    plan = _plan(_region(), [(V1, "kindergarten", 100), (VR, "kindergarten", n_min - 4)])
    assert _new(plan, "kindergarten").empty
    un = plan.unserved
    assert list(un["demand_id"]) == [VR]
    reason = un["reason"].iloc[0]
    assert f"fewer than {n_min} children" in reason
    assert "school bus" in reason


def test_switched_off_reproduces_the_unserved_diagnosis():
    off = LayoutParams.model_validate({"village_sites": {
        "kindergarten": {"enabled": False}, "primary_lower": {"enabled": False}}})
    rows = [(V1, "kindergarten", 100), (VR, "kindergarten", 40), (V1, "primary_lower", 200),
            (VR, "primary_lower", 30)]
    plan = _plan(_region(), rows, off)
    assert not (plan.schools["action"] == "new").any()
    un = plan.unserved.sort_values("grade_band")
    assert list(un["demand_id"]) == [VR, VR]
    # Schools at x = 0.3 km: (FAR - 0.3) * 2.8 = 59.2 minutes.
    assert un["reason"].str.contains("nearest allowed school of the county 59 min away, cap 30").all()
    on = _plan(_region(), rows)
    assert on.unserved.empty
    # The rest of the plan is the same with and without the option.
    keep = ["school_id", "level", "action", "seats_added"]
    old = plan.schools.loc[:, keep].reset_index(drop=True)
    new = on.schools[on.schools["action"] != "new"].loc[:, keep].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, new)


def test_school_below_min_size_with_no_larger_catchment_is_exempt_not_unserved():
    # A junior school is the only one the township's pupils can reach, and all the junior
    # demand that can reach it (150) is below the junior minimum (300): it stays open.
    schools = [
        {"school_id": "J1", "school_type": "junior", "township_code": SEAT, "x_km": 0.3,
         "y_km": 0.0, "capacity": 400, "enrollment": {"junior": 150}},
        {"school_id": "J2", "school_type": "junior", "township_code": SEAT, "x_km": 1.0,
         "y_km": 0.0, "capacity": 400, "enrollment": {"junior": 10}},
    ]
    other = {"village_id": VS, "township_code": SEAT, "x_km": 0.8, "y_km": 0.0, "urban": True}
    region = _region([other], schools)
    plan = _plan(region, [(V1, "junior", 100), (VS, "junior", 50)])
    assert plan.unserved.empty
    kept = plan.schools[plan.schools["action"] != "merge"]
    assert len(kept) == 1
    assert "no larger catchment possible" in kept["reason"].iloc[0]
    assert plan.assignments["students"].sum() == 150


def test_reasons_say_the_county_was_searched_and_never_round_up_to_the_minimum():
    from layout.plan.diagnose import _count

    # 9.7 children below a minimum of 10 must not read "only 10 children, fewer than 10"
    assert _count(9.7) == "9.7"
    assert _count(10.0) == "10"
    off = LayoutParams.model_validate({"village_sites": {
        "kindergarten": {"enabled": False}, "primary_lower": {"enabled": False}}})
    plan = _plan(_region(), [(V1, "kindergarten", 100), (VR, "kindergarten", 40)], off)
    reason = plan.unserved["reason"].iloc[0]
    assert "of the county" in reason
    assert "县内" in reason


def test_a_community_its_only_kindergarten_cannot_hold_gets_a_village_kindergarten():
    # K1 (30 seats, at most 9 classes of 30 more, 30 % temporary on top: 390) is the only
    # kindergarten within a 15-minute walk of V1's 600 children: without a site the rest
    # would stay unserved for good
    small = [{"school_id": "K1", "school_type": "kindergarten", "township_code": SEAT,
              "x_km": 0.3, "y_km": 0.0, "capacity": 30, "enrollment": {"kindergarten": 30}},
             {"school_id": "P1", "school_type": "primary", "township_code": SEAT, "x_km": 0.3,
              "y_km": 0.0, "capacity": 1500, "beds": 0, "enrollment": {"primary": 600}}]
    plan = _plan(_region(schools=small), [(V1, "kindergarten", 600)])
    new = _new(plan, "kindergarten")
    assert len(new) == 1
    assert "cannot hold these children even when fully expanded" in new["reason"].iloc[0]
    assert plan.unserved.empty


def test_a_site_grows_for_the_rows_its_neighbours_left_over():
    import numpy as np

    from layout.plan.village_sites import _grow_for_the_rest

    # rows 0 and 1 reach site 0 (nearest) and site 1; row 1 was left with 40 children
    cap = np.array([90.0, 60.0])
    r, c = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    grown = _grow_for_the_rest(cap, r, c, np.array([0.0, 40.0]), 30.0)
    assert grown.tolist() == [150.0, 60.0]  # 90 + 40 -> 130, in classes of 30: 150


def test_a_village_kindergarten_moves_into_a_village_schools_building_nearby():
    # a teaching point 0.4 km from the remote village (not a host: its pupils belong to the
    # township's central school) lends its building; the capital is the conversion's
    tp = {"school_id": "T1", "school_type": "teaching_point", "township_code": T2,
          "x_km": FAR + 0.4, "y_km": 0.0, "capacity": 60, "beds": 0,
          "enrollment": {"primary": 10}}
    base = [{"school_id": "K1", "school_type": "kindergarten", "township_code": SEAT,
             "x_km": 0.3, "y_km": 0.0, "capacity": 300, "enrollment": {"kindergarten": 100}},
            {"school_id": "P1", "school_type": "primary", "township_code": SEAT, "x_km": 0.3,
             "y_km": 0.0, "capacity": 1500, "beds": 0, "enrollment": {"primary": 600}}]
    plan = _plan(_region(schools=[*base, tp]), [(V1, "kindergarten", 100),
                                                (VR, "kindergarten", 40)])
    new = _new(plan, "kindergarten")
    assert len(new) == 1
    site = new.iloc[0]
    assert "in the building of T1, converted" in site["reason"]
    assert "seats by conversion" in site["reason"]
    kind = LayoutParams().village_sites.kindergarten
    pr = plan.projects[plan.projects["school_id"] == site["school_id"]]
    assert pr["capital_cost"].iloc[0] == site["seats_added"] * kind.conversion_capital_per_seat
    # switched off: a new building at the village's own point, at the building's capital
    off = LayoutParams.model_validate({"village_sites": {"kindergarten": {"reuse_within_m": 0}}})
    plan2 = _plan(_region(schools=[*base, tp]), [(V1, "kindergarten", 100),
                                                 (VR, "kindergarten", 40)], off)
    site2 = _new(plan2, "kindergarten").iloc[0]
    assert "converted" not in site2["reason"]
    pr2 = plan2.projects[plan2.projects["school_id"] == site2["school_id"]]
    assert pr2["capital_cost"].iloc[0] == site2["seats_added"] * kind.capital_per_seat
