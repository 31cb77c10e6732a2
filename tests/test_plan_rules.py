"""Each layout rule on a small hand-built (synthetic) county whose optimal plan is known.

Geometry: terrain "hill" (circuity 1.4), bus 30 km/h = 500 m/min, so a straight-line distance of
d km is d * 2.8 minutes by bus.
"""

from __future__ import annotations

import pandas as pd
import pytest
from toy_region import demand_table, make_region

from layout.plan import LayoutParams, plan_layout

C = "510802"
SEAT, T2, T3 = "510802001", "510802002", "510802003"


def _tw(central: bool = False) -> list[dict]:
    return [
        {"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
        {"township_code": T2, "county_code": C, "is_central_town": central},
        {"township_code": T3, "county_code": C},
    ]


def _v(vid: str, tw: str, x: float, y: float = 0.0, urban: bool = False) -> dict:
    return {"village_id": vid, "township_code": tw, "x_km": x, "y_km": y, "urban": urban}


def _s(sid: str, stype: str, tw: str, x: float, cap: int, enr: dict, y: float = 0.2, **kw) -> dict:
    return {"school_id": sid, "school_type": stype, "township_code": tw, "x_km": x, "y_km": y,
            "capacity": cap, "enrollment": enr, **kw}


def _plan(region, rows, params=None, seed=0):
    return plan_layout(region, demand_table(rows), params, target_year=2030, time_limit=30,
                       threads=1, seed=seed)


def _row(plan, sid, level):
    r = plan.schools[(plan.schools["school_id"] == sid) & (plan.schools["level"] == level)]
    assert len(r) == 1, (sid, level)
    return r.iloc[0]


V1, V2, V3 = "510802001001", "510802002001", "510802003001"


def test_senior_outside_county_seat_merges_into_seat_school_which_expands():
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True), _v(V2, T2, 30)], [
        _s("H1", "senior", SEAT, 0.5, 500, {"senior": 450}),
        _s("H2", "senior", T2, 30, 500, {"senior": 300}),
    ])
    plan = _plan(region, [(V1, "senior", 450), (V2, "senior", 300)])
    h1, h2 = _row(plan, "H1", "senior"), _row(plan, "H2", "senior")
    assert h2["action"] == "merge"
    assert h2["merge_into"] == "H1"
    assert h1["action"] == "expand"
    assert h1["capacity_after"] >= 750
    assert h1["seats_added"] % 50 == 0
    far = plan.assignments[plan.assignments["demand_id"] == V2]
    assert far["boarding"].all()
    assert h1["beds_added"] == 300
    assert plan.unserved.empty


def test_teaching_point_40_min_from_township_school_is_converted_not_closed():
    x = 40 / 2.8  # 40 minutes by bus
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True), _v(V2, T2, x)], [
        _s("P1", "primary", SEAT, 0.3, 1200, {"primary": 400}, y=0.0),
        _s("TP", "teaching_point", T2, x, 80, {"primary": 40}, y=0.0),
    ])
    plan = _plan(region, [(V1, "primary_lower", 200), (V1, "primary_upper", 200),
                          (V2, "primary_lower", 20), (V2, "primary_upper", 20)])
    tp = _row(plan, "TP", "primary")
    assert tp["action"] == "convert"
    assert "30" in tp["reason"]
    a = plan.assignments.set_index(["demand_id", "grade_band"])
    assert a.loc[(V2, "primary_lower"), "school_id"] == "TP"
    assert not a.loc[(V2, "primary_lower"), "boarding"]
    # Grades 4-6 go to the township school (beyond the 40-minute rural day cap: boarding).
    assert a.loc[(V2, "primary_upper"), "school_id"] == "P1"


def test_grades_1_to_3_never_board_and_far_demand_is_diagnosed():
    x = 0.3 + 52 / 2.8  # nearest school (at x=0.3) 52 minutes away
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True), _v(V3, T3, x)], [
        _s("P1", "primary", SEAT, 0.3, 1200, {"primary": 400}, y=0.0),
    ])
    # Without generated village sites (tests/test_plan_village_sites.py covers them).
    off = LayoutParams.model_validate({"village_sites": {"primary_lower": {"enabled": False}}})
    plan = _plan(region, [(V1, "primary_lower", 200), (V3, "primary_lower", 30),
                          (V3, "primary_upper", 30)], off)
    lower = plan.assignments[plan.assignments["grade_band"] == "primary_lower"]
    assert not lower["boarding"].any()
    assert (lower["travel_min"] <= 30 + 1e-9).all()
    un = plan.unserved
    assert list(un["demand_id"]) == [V3]
    assert list(un["grade_band"]) == ["primary_lower"]
    assert "52 min away" in un["reason"].iloc[0]
    assert "cap 30 min" in un["reason"].iloc[0]
    # Upper grades may board at the township school.
    up = plan.assignments[(plan.assignments["demand_id"] == V3)]
    assert up["boarding"].all()


def test_capacity_shortfall_is_diagnosed_with_seats_missing():
    # no block may be built and no village kindergarten proposed (it would be, for a community
    # its only kindergarten cannot hold): the shortfall stays, diagnosed
    params = LayoutParams.model_validate({"levels": {"kindergarten": {
        "min_size": 30, "class_size": 30, "max_blocks": 0, "fixed_cost": 3e5,
        "per_student_cost": 8e3}}, "village_sites": {"kindergarten": {"enabled": False}}})
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True)], [
        _s("K1", "kindergarten", SEAT, 0.3, 100, {"kindergarten": 90}, y=0.0),
    ])
    plan = _plan(region, [(V1, "kindergarten", 500)], params)
    assert plan.unserved["students"].sum() > 0
    assert plan.unserved["reason"].str.contains("capacity short by").all()
    served = plan.assignments["students"].sum()
    assert served <= 100
    # The shortfall named is what the schools in reach cannot hold.
    short = int(plan.unserved["reason"].iloc[0].split("capacity short by ")[1].split()[0])
    assert short == 500 - 100


def test_nine_year_campus_closes_as_one():
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True)], [
        _s("N1", "nine_year", SEAT, 0.2, 100, {"primary": 50, "junior": 50}, y=0.0),
        _s("P1", "primary", SEAT, 0.3, 1500, {"primary": 250}, y=0.0),
        _s("J1", "junior", SEAT, 0.3, 1500, {"junior": 250}, y=0.1),
    ])
    plan = _plan(region, [(V1, "primary_lower", 150), (V1, "primary_upper", 150),
                          (V1, "junior", 300)])
    n_p, n_j = _row(plan, "N1", "primary"), _row(plan, "N1", "junior")
    assert n_p["action"] == "merge"
    assert n_j["action"] == "merge"
    assert n_p["merge_into"] == "P1"
    assert n_j["merge_into"] == "J1"


def test_each_township_keeps_its_largest_public_kindergarten():
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True), _v(V2, T2, 5)], [
        _s("KA", "kindergarten", SEAT, 0.2, 600, {"kindergarten": 100}, y=0.0),
        _s("K1", "kindergarten", T2, 5, 60, {"kindergarten": 10}),
        _s("K2", "kindergarten", T2, 5.1, 120, {"kindergarten": 10}),
        _s("K3", "kindergarten", T2, 5.2, 300, {"kindergarten": 10}, ownership="private"),
    ])
    plan = _plan(region, [(V1, "kindergarten", 100), (V2, "kindergarten", 10)])
    assert _row(plan, "K2", "kindergarten")["action"] in ("keep", "expand")
    assert _row(plan, "K1", "kindergarten")["action"] == "merge"
    assert _row(plan, "K3", "kindergarten")["action"] == "merge"


def test_junior_concentrates_in_central_town_with_remote_exception():
    far = 150 / 2.8  # beyond the 120-minute boarding cap from the central town
    region = make_region(_tw(central=True), [
        _v(V1, SEAT, 0, urban=True), _v(V2, T2, 20), _v(V3, T3, 20 + far)], [
        _s("J0", "junior", SEAT, 0.2, 1500, {"junior": 500}),
        _s("J2", "junior", T2, 20, 1500, {"junior": 400}),
        _s("J3", "junior", T3, 20.5, 200, {"junior": 100}),
        _s("J4", "junior", T3, 20 + far, 300, {"junior": 60}),
    ], terrain={C: "hill"})
    plan = _plan(region, [(V1, "junior", 500), (V2, "junior", 400), (V3, "junior", 60)])
    assert _row(plan, "J3", "junior")["action"] == "merge"
    assert _row(plan, "J3", "junior")["merge_into"] == "J2"
    j4 = _row(plan, "J4", "junior")
    assert j4["action"] == "keep"
    assert "exception" in j4["reason"]
    assert "minimum size" in j4["reason"]


def test_new_site_opens_when_hosts_are_full():
    region = make_region(_tw(), [_v(V1, SEAT, 0, urban=True)], [
        _s("K1", "kindergarten", SEAT, 0.2, 100, {"kindergarten": 100}, y=0.0),
    ], sites=[{"site_id": "S510802001", "township_code": SEAT, "x_km": 0.1, "y_km": 0.1,
               "levels": "kindergarten", "max_capacity": 360}])
    params = LayoutParams.model_validate({"levels": {"kindergarten": {
        "min_size": 30, "class_size": 30, "max_blocks": 0, "fixed_cost": 3e5,
        "per_student_cost": 8e3}}})
    plan = _plan(region, [(V1, "kindergarten", 280)], params)  # two parts of 140 > 100
    new = _row(plan, "S510802001", "kindergarten")
    assert new["action"] == "new"
    assert new["seats_added"] >= 280
    assert plan.unserved.empty
    assert (plan.projects["kind"] == "new").sum() == 1
    assert plan.seats_added_total == int(plan.schools["seats_added"].sum())


def test_same_inputs_seed_threads_give_the_same_plan():
    region = make_region(_tw(central=True), [
        _v(V1, SEAT, 0, urban=True), _v(V2, T2, 8), _v(V3, T3, 14)], [
        _s("N1", "nine_year", T2, 8, 900, {"primary": 300, "junior": 200}),
        _s("P1", "primary", SEAT, 0.2, 900, {"primary": 400}),
        _s("VP", "village_primary", T3, 14, 120, {"primary": 60}),
        _s("J0", "junior", SEAT, 0.3, 900, {"junior": 300}),
        _s("K0", "kindergarten", SEAT, 0.1, 300, {"kindergarten": 150}),
        _s("K2", "kindergarten", T2, 8.1, 200, {"kindergarten": 60}),
    ])
    rows = [(v, b, s) for v, s in ((V1, 200), (V2, 90), (V3, 40))
            for b in ("kindergarten", "primary_lower", "primary_upper", "junior")]
    a, b = _plan(region, rows, seed=3), _plan(region, rows, seed=3)
    pd.testing.assert_frame_equal(a.schools, b.schools)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)


@pytest.mark.parametrize("level", ["kindergarten", "primary", "junior"])
def test_kpis_cover_every_county_level_with_demand(level):
    region = make_region(_tw(central=True), [_v(V1, SEAT, 0, urban=True)], [
        _s("N1", "nine_year", SEAT, 0.2, 900, {"primary": 300, "junior": 200}, y=0.0),
        _s("K0", "kindergarten", SEAT, 0.1, 300, {"kindergarten": 150}, y=0.0),
    ])
    rows = [(V1, b, 100) for b in ("kindergarten", "primary_lower", "primary_upper", "junior")]
    plan = _plan(region, rows)
    k = plan.kpis.set_index(["county_code", "level"]).loc[(C, level)]
    assert k["schools_before"] == 1
    assert k["share_within_standard"] == pytest.approx(1.0)
    served = plan.assignments.query("level == @level")["students"].sum()
    assert k["cost_per_pupil"] == pytest.approx(k["cost_after"] / served)


def test_a_nine_year_school_out_in_a_village_is_not_a_township_primary():
    # T3's seat is its largest village V3 (x = 60 km); a second village 6 km out hosts a
    # nine-year school. Its primary section is a village school: the township primary at the
    # seat (9 minutes away by bus) takes its pupils; the near one would have been kept as a host.
    vfar = "510802003002"
    villages = [_v(V1, SEAT, 0, urban=True), _v(V3, T3, 60), _v(vfar, T3, 63.2)]
    villages[1]["population"], villages[2]["population"] = 3000, 800
    region = make_region(_tw(), villages, [
        _s("P3", "primary", T3, 60.0, 540, {"primary": 300}),
        _s("N3", "nine_year", T3, 63.2, 540, {"primary": 150, "junior": 0}),
    ])
    plan = _plan(region, [(V3, "primary_upper", 300), (vfar, "primary_upper", 150)])
    schools = plan.schools.set_index(["school_id", "level"])
    assert schools.loc[("P3", "primary"), "site_class"] == "township_seat"
    assert schools.loc[("N3", "primary"), "site_class"] == "village"
    assert schools.loc[("N3", "primary"), "action"] in {"merge", "close"}
    assert schools.loc[("N3", "primary"), "merge_into"] == "P3"
