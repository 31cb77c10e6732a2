"""Integration of secondary vocational schools under 1,200 students (Measure 6), city by city.

Two toy counties on one plane. VA (county 1, 702 pupils, manufacturing + IT) is compatible with
VB (county 2, 20 km away, IT + health) and with VC (county 1, 60 km away, agriculture +
manufacturing), and sits 5 km from VD (county 1, 501 pupils, arts only: compatible with no
one). Integration is city-wide, so VA merges into VB across the county line; VD stays with a
stated reason.
"""

from __future__ import annotations

import pandas as pd
import pytest
from toy_region import demand_table, make_region

from layout.plan import LayoutParams, plan_layout

C1, C2 = "510821", "510822"
T1, T2 = "510821001", "510822001"
W1, W2 = "510821001001", "510822001001"


def _v(sid, tw, x, students, cap, groups):
    return {"school_id": sid, "school_type": "vocational", "township_code": tw, "x_km": x,
            "y_km": 0.0, "capacity": cap, "enrollment": {"vocational": students},
            "programme_groups": groups}


def _region(schools):
    tws = [{"township_code": T1, "county_code": C1, "is_county_seat": True},
           {"township_code": T2, "county_code": C2, "is_county_seat": True}]
    vil = [{"village_id": W1, "township_code": T1, "x_km": 0.0, "y_km": 1.0},
           {"village_id": W2, "township_code": T2, "x_km": 20.0, "y_km": 1.0}]
    return make_region(tws, vil, schools, terrain={C1: "mountain", C2: "hill"})


def _plan(region, rows, params=None):
    return plan_layout(region, demand_table(rows), params, target_year=2030, time_limit=5,
                       threads=1)


SCHOOLS = [
    _v("VA", T1, 0.0, 702, 900, "manufacturing;it"),
    _v("VB", T2, 20.0, 1500, 1600, "it;health"),
    _v("VC", T1, -60.0, 2100, 2200, "agriculture;manufacturing"),
    _v("VD", T1, 5.0, 501, 600, "arts"),
]


@pytest.fixture(scope="module")
def plan():
    # Demand equal to today's enrollment: the forecast does not change any school's size.
    return _plan(_region(SCHOOLS), [(W1, "vocational", 2700), (W2, "vocational", 2103)])


def _row(plan, sid):
    r = plan.schools[(plan.schools["school_id"] == sid) & (plan.schools["level"] == "vocational")]
    assert len(r) == 1
    return r.iloc[0]


def test_small_school_merges_city_wide_into_nearest_compatible_which_expands(plan):
    va, vb = _row(plan, "VA"), _row(plan, "VB")
    assert va["action"] == "merge"
    assert va["merge_into"] == "VB"  # 20 km across the county line, not VC 60 km away
    assert va["county_code"] != vb["county_code"]
    assert "1200" in va["reason"]
    assert vb["action"] == "expand"
    assert vb["capacity_after"] >= va["enrollment_base"] + vb["enrollment_base"]
    assert vb["seats_added"] % LayoutParams().levels.vocational.class_size == 0
    assert vb["seats_added"] > 0
    assert vb["capacity_after"] == vb["capacity_base"] + vb["seats_added"]
    # The nearest school VD (5 km) was not chosen: no shared programme group.
    assert _row(plan, "VD")["action"] != "merge"


def test_incompatible_small_school_is_kept_with_a_stated_reason(plan):
    vd = _row(plan, "VD")
    assert vd["action"] == "keep"
    assert vd["merge_into"] == ""
    assert "compatible" in vd["reason"]
    assert any("VD" in n for n in plan.notes)


def test_every_remaining_school_is_big_enough_or_has_a_reason(plan):
    s = plan.schools[plan.schools["level"] == "vocational"]
    remaining = s[~s["action"].isin(["merge", "close"])]
    assert set(remaining["school_id"]) == {"VB", "VC", "VD"}
    for r in remaining.itertuples():
        assert r.demand_target >= 1200 or r.reason, r.school_id
    # Merged schools name an open receiver.
    merged = s[s["action"] == "merge"]
    assert set(merged["merge_into"]) <= set(remaining["school_id"])
    # Pupils go only to remaining schools.
    voc = plan.assignments[plan.assignments["level"] == "vocational"]
    assert set(voc["school_id"]) <= set(remaining["school_id"])
    assert voc["students"].sum() == pytest.approx(2700 + 2103)


def test_forecast_below_threshold_triggers_the_merge():
    schools = [_v("VB", T2, 20.0, 1500, 1600, "it;health"),
               _v("VE", T1, 0.0, 1302, 1400, "health")]
    region = _region(schools)
    today = _plan(region, [(W1, "vocational", 1302), (W2, "vocational", 1500)])
    assert _row(today, "VE")["action"] == "keep"  # 1,302 today and forecast: above 1,200
    # Forecast demand 20 % lower: VE falls to 1,042 (< 1,200), VB stays at 1,200.
    shrink = _plan(region, [(W1, "vocational", 1000), (W2, "vocational", 1241.6)])
    ve = _row(shrink, "VE")
    assert ve["action"] == "merge"
    assert ve["merge_into"] == "VB"
    assert _row(shrink, "VB")["action"] in ("keep", "expand")


def test_threshold_is_a_parameter():
    p = LayoutParams.model_validate({"levels": {"vocational": {"min_size": 500}}})
    plan = _plan(_region(SCHOOLS), [(W1, "vocational", 2700), (W2, "vocational", 2103)], p)
    s = plan.schools.set_index("school_id")
    assert (s["action"] != "merge").all()
    assert s.loc["VD", "reason"] == ""


def test_merge_chain_and_determinism():
    # Smallest first: S1 (300) merges into S2 (10 km) -> S2 750, now the smallest under 1,200,
    # merges into S3 (10 km) -> 1,750. S1's pupils follow: merge_into is re-pointed to S3.
    schools = [_v("S1", T1, 0.0, 300, 400, "it"), _v("S2", T1, 10.0, 450, 500, "it"),
               _v("S3", T2, 20.0, 1002, 1100, "it")]
    rows = [(W1, "vocational", 750), (W2, "vocational", 1002)]
    a = _plan(_region(schools), rows)
    b = _plan(_region(schools), rows)
    pd.testing.assert_frame_equal(a.schools, b.schools)
    s = a.schools.set_index("school_id")
    assert s.loc["S1", "merge_into"] == "S3"
    assert s.loc["S2", "merge_into"] == "S3"
    assert s.loc["S3", "action"] == "expand"
    assert s.loc["S3", "capacity_after"] >= 1752
    assert s.loc["S3", "demand_target"] >= 1200


def test_a_county_whose_pupils_could_fill_a_school_keeps_its_last_one():
    # S1 (C1) enrolls 1,000 today, under 1,200, but C1's own vocational pupils number 1,300:
    # it stays as C1's only vocational school, with the rule named; switched off, it merges.
    schools = [_v("S1", T1, 0.0, 1000, 1100, "it"), _v("S2", T2, 20.0, 2000, 2100, "it")]
    rows = [(W1, "vocational", 1300), (W2, "vocational", 1700)]
    kept = _plan(_region(schools), rows).schools.set_index("school_id")
    assert kept.loc["S1", "action"] in ("keep", "expand")
    assert "county's last vocational school" in kept.loc["S1", "reason"]
    off = LayoutParams(vocational_keep_one_per_county=False)
    merged = _plan(_region(schools), rows, off).schools.set_index("school_id")
    assert merged.loc["S1", "action"] == "merge"


C3, T3, W3 = "510922", "510922001", "510922001001"  # county 2 moved to prefecture 510900


def _two_cities():  # type: ignore[no-untyped-def]
    """SCHOOLS, with county 2 replaced by C3 of another prefecture (same places)."""
    schools = [{**s, "township_code": T3} if s["township_code"] == T2 else s for s in SCHOOLS]
    tws = [{"township_code": T1, "county_code": C1, "is_county_seat": True},
           {"township_code": T3, "county_code": C3, "is_county_seat": True}]
    vil = [{"village_id": W1, "township_code": T1, "x_km": 0.0, "y_km": 1.0},
           {"village_id": W3, "township_code": T3, "x_km": 20.0, "y_km": 1.0}]
    return make_region(tws, vil, schools, terrain={C1: "mountain", C3: "hill"})


def test_each_prefecture_of_a_province_integrates_its_own_schools():
    # The same schools, but county 2 is in another prefecture (5109xx): Measure 6 is each city's
    # own, so VA merges into VC (60 km, same prefecture), not VB (20 km, the other city), and
    # each city's pupils go to its own schools.
    region = _two_cities()
    plan = _plan(region, [(W1, "vocational", 2700), (W3, "vocational", 2103)])
    s = plan.schools[plan.schools["level"] == "vocational"].set_index("school_id")
    assert s.loc["VA", "action"] == "merge"
    assert s.loc["VA", "merge_into"] == "VC"
    assert s.loc["VB", "action"] in ("keep", "expand")
    voc = plan.assignments[plan.assignments["level"] == "vocational"]
    assert set(voc.loc[voc["demand_id"] == W3, "school_id"]) == {"VB"}
    assert set(voc.loc[voc["demand_id"] == W1, "school_id"]) <= {"VC", "VD"}
    assert voc["students"].sum() == pytest.approx(2700 + 2103)
    records = set(plan.solver_records["subproblem"])
    assert {"510800/vocational", "510900/vocational"} <= records


def test_a_prefecture_whose_integration_fails_is_named_and_the_other_is_planned(monkeypatch):
    import layout.plan.vocational_step as step

    region = _two_cities()
    real = step.integrate_vocational

    def broken(voc_f, voc_d, terrain, p):  # type: ignore[no-untyped-def]
        if (voc_f["county_code"].astype(str) == C3).any():
            raise ValueError("injected failure")
        return real(voc_f, voc_d, terrain, p)

    monkeypatch.setattr(step, "integrate_vocational", broken)
    plan = _plan(region, [(W1, "vocational", 2700), (W3, "vocational", 2103)])
    voc = plan.schools[plan.schools["level"] == "vocational"]
    assert set(voc["school_id"]) == {"VA", "VC", "VD"}  # prefecture 510800 is planned
    failed = plan.solver_records[plan.solver_records["status"] == "failed"]
    assert "prefecture 510900" in failed["reason"].iloc[0]
    assert "injected failure" in failed["reason"].iloc[0]
    assert any("vocational integration" in n and "510900" in n for n in plan.notes)
