"""Travel times: straight line x circuity(terrain) / speed(mode), mode by band and urban flag.

Hand-computed points on the EPSG:4544 plane (toy builders place points in km there, so a
distance of d km between two toy points is exactly d km in the model).
"""

from __future__ import annotations

import numpy as np
import pytest
from toy_region import CRS, X0, Y0, demand_table, make_region

from layout.plan import LayoutParams, plan_layout
from layout.plan.params import TravelParams
from layout.plan.travel import circuity, minutes, project, speed_mpm

C = "510802"
SEAT, T2 = "510802001", "510802002"
V_URB, V_RUR = "510802001001", "510802002001"


def test_project_puts_the_central_meridian_at_the_false_easting():
    xy = project([105.0, 105.0], [32.0, 33.0], CRS)
    assert xy[:, 0] == pytest.approx([500_000.0, 500_000.0], abs=1e-6)
    # One degree of latitude is about 110.9 km here.
    assert xy[1, 1] - xy[0, 1] == pytest.approx(110_900, rel=2e-3)


def test_minutes_formula_on_hand_computed_points():
    tp = TravelParams()
    a = np.array([X0, Y0])
    b = np.array([X0 + 3_000.0, Y0 + 4_000.0])  # 5 km apart
    d = float(np.hypot(*(b - a)))
    assert d == 5_000.0
    bus = speed_mpm(["bus"], tp)
    walk = speed_mpm(["walk"], tp)
    assert bus[0] == pytest.approx(500.0)  # 30 km/h
    assert walk[0] == pytest.approx(4000 / 60)  # 4 km/h
    circ = circuity(["mountain", "hill", "urban", "plateau"], tp)
    assert circ.tolist() == [1.6, 1.4, 1.25, 1.6]  # unknown terrain -> mountain (conservative)
    got = minutes([d] * 4, circ, np.repeat(bus, 4))
    assert got == pytest.approx([5 * 1.6 / 30 * 60, 5 * 1.4 / 30 * 60, 5 * 1.25 / 30 * 60, 16.0])
    assert minutes(d, 1.25, walk)[0] == pytest.approx(5 * 1.25 / 4 * 60)  # 93.75 min


def test_user_speeds_and_circuity_are_used():
    tp = TravelParams(bus_kmh=20, circuity={"mountain": 2.0, "hill": 1.5, "urban": 1.1})
    assert speed_mpm(["bus", "walk"], tp) == pytest.approx([20_000 / 60, 4_000 / 60])
    assert circuity(["hill"], tp)[0] == 1.5
    assert minutes(1_000.0, circuity(["mountain"], tp), speed_mpm(["bus"], tp))[0] == pytest.approx(6.0)


def _toy(terrain: str):
    tws = [
        {"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
        {"township_code": T2, "county_code": C},
    ]
    vil = [
        {"village_id": V_URB, "township_code": SEAT, "x_km": 0.0, "y_km": 0.0, "urban": True},
        {"village_id": V_RUR, "township_code": T2, "x_km": 10.0, "y_km": 0.0, "urban": False},
    ]

    def s(sid, stype, tw, x, y, enr):
        return {"school_id": sid, "school_type": stype, "township_code": tw, "x_km": x, "y_km": y,
                "capacity": 2000, "enrollment": enr}

    schools = [
        s("K1", "kindergarten", SEAT, 0.6, 0.0, {"kindergarten": 60}),
        s("K2", "kindergarten", T2, 10.0, 0.8, {"kindergarten": 60}),
        s("P1", "primary", SEAT, 0.0, 0.5, {"primary": 300}),
        s("P2", "primary", T2, 10.3, 0.4, {"primary": 300}),
        s("J1", "junior", SEAT, 0.3, 0.4, {"junior": 600}),
    ]
    return make_region(tws, vil, schools, terrain={C: terrain})


@pytest.mark.parametrize("terrain", ["mountain", "hill"])
def test_plan_travel_minutes_use_mode_by_band_and_urban_flag(terrain):
    region = _toy(terrain)
    rows = [(v, band, 60) for v in (V_URB, V_RUR)
            for band in ("kindergarten", "primary_lower", "primary_upper", "junior")]
    plan = plan_layout(region, demand_table(rows), target_year=2030, time_limit=10, threads=1)
    p = LayoutParams()
    circ = p.travel.circuity[terrain]
    walk, bus = p.travel.walk_kmh * 1000 / 60, p.travel.bus_kmh * 1000 / 60
    pts = {"K1": (0.6, 0.0), "K2": (10.0, 0.8), "P1": (0.0, 0.5), "P2": (10.3, 0.4),
           "J1": (0.3, 0.4)}
    vxy = {V_URB: (0.0, 0.0), V_RUR: (10.0, 0.0)}
    expected_mode = {  # (band, urban) -> speed (params.py: young children walk in town only)
        ("kindergarten", True): walk, ("kindergarten", False): bus,
        ("primary_lower", True): walk, ("primary_lower", False): bus,
        ("primary_upper", True): bus, ("primary_upper", False): bus,
        ("junior", True): bus, ("junior", False): bus,
    }
    a = plan.assignments
    assert len(a) == len(rows)
    assert plan.unserved.empty
    for r in a.itertuples():
        sx, sy = pts[r.school_id]
        vx, vy = vxy[r.demand_id]
        d_m = float(np.hypot(sx - vx, sy - vy)) * 1000
        speed = expected_mode[(r.grade_band, r.demand_id == V_URB)]
        assert r.travel_min == pytest.approx(d_m * circ / speed, rel=1e-6, abs=1e-6), r
    # The urban kindergarten pupil walks 600 m: under the 15-minute urban standard.
    kg = a[(a["demand_id"] == V_URB) & (a["grade_band"] == "kindergarten")].iloc[0]
    assert kg["school_id"] == "K1"
    assert kg["travel_min"] == pytest.approx(600 * circ / walk)
    assert kg["travel_min"] <= 15


def _one_walker(km: float, params: LayoutParams | None = None):
    """An urban kindergarten row of 30 children ``km`` from the county's only kindergarten."""
    tws = [{"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True}]
    vil = [{"village_id": V_URB, "township_code": SEAT, "x_km": 0.0, "y_km": 0.0, "urban": True}]
    sch = [{"school_id": "K1", "school_type": "kindergarten", "township_code": SEAT, "x_km": km,
            "y_km": 0.0, "capacity": 100, "enrollment": {"kindergarten": 30}}]
    region = make_region(tws, vil, sch, terrain={C: "hill"})
    return plan_layout(region, demand_table([(V_URB, "kindergarten", 30)]), params,
                       target_year=2030, time_limit=5, threads=1)


def test_walking_band_beyond_its_cap_is_unserved_not_bussed():
    # An urban kindergarten pupil 1.5 km from the only kindergarten walks 1.5*1.4/4*60 = 31.5 min
    # > 15-minute urban cap: with the stretch and village sites off, unserved with a reason
    # giving the journey, never silently bussed.
    off = LayoutParams.model_validate({
        "village_sites": {"kindergarten": {"enabled": False}},
        "bands": {"kindergarten": {"stretch_cap_urban_min": 0}}})
    plan = _one_walker(1.5, off)
    assert plan.assignments.empty
    assert len(plan.unserved) == 1
    reason = plan.unserved["reason"].iloc[0]
    assert "32 min" in reason or "31 min" in reason  # 31.5 min, formatted to whole minutes
    assert "cap 15" in reason


def test_todays_kindergarten_serves_beyond_the_standard_instead_of_a_new_one():
    # The same child at 31.5 min, default rules: the stretch (40 min urban) lets today's
    # kindergarten keep it; no village kindergarten is built 1.5 km from one with free seats.
    plan = _one_walker(1.5)
    a = plan.assignments
    assert a["school_id"].tolist() == ["K1"]
    assert a["travel_min"].iloc[0] == pytest.approx(31.5)
    assert not a["boarding"].iloc[0]
    s = plan.schools.set_index("school_id")
    assert set(s.index) == {"K1"}  # nothing new
    assert "beyond the 15-min standard" in s.loc["K1", "reason"]
    assert plan.kpis["share_within_standard"].iloc[0] == pytest.approx(0.0)
    # Beyond the stretch (2.5 km = 52.5 min): a village kindergarten at the village.
    far = _one_walker(2.5)
    new = far.schools[far.schools["action"] == "new"]
    assert len(new) == 1
    assert "no existing one within 40 min" in new["reason"].iloc[0]
    assert far.assignments["school_id"].tolist() == new["school_id"].tolist()
    # ... or, without village sites, unserved with both limits named.
    off = LayoutParams.model_validate({"village_sites": {"kindergarten": {"enabled": False}}})
    reason = _one_walker(2.5, off).unserved["reason"].iloc[0]
    assert "53 min" in reason or "52 min" in reason
    assert "cap 15 min; existing schools up to 40 min" in reason
