"""Candidate pairs from BallTree radius queries equal a brute-force radius filter; caps hold."""

from __future__ import annotations

import numpy as np
import pytest
from toy_region import demand_table, make_region

from layout.plan import LayoutParams, plan_layout
from layout.plan.candidates import nearest, radius_pairs


def _brute(d, f, r):
    dist = np.sqrt(((d[:, None, :] - f[None, :, :]) ** 2).sum(-1))  # test only: tiny sets
    rows, cols = np.nonzero(dist <= r[:, None])
    return rows, cols, dist[rows, cols]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_radius_pairs_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    origin = np.array([500_000.0, 3_575_000.0])
    d = rng.uniform(0, 50_000, (300, 2)) + origin
    f = rng.uniform(0, 50_000, (40, 2)) + origin
    r = rng.uniform(0, 15_000, 300)
    r[:5] = 0.0  # some points search nothing
    rows, cols, dist = radius_pairs(d, f, r)
    br, bc, bd = _brute(d, f, r)
    assert rows.size == br.size > 0
    assert np.array_equal(rows, br)  # brute force is row-major: rows then cols ascending
    assert np.array_equal(cols, bc)
    assert dist == pytest.approx(bd, rel=1e-12, abs=1e-6)
    assert (dist <= r[rows] + 1e-9).all()
    assert rows.dtype == np.int64
    assert cols.dtype == np.int64


def test_radius_pairs_empty_inputs():
    d = np.zeros((3, 2))
    rows, cols, dist = radius_pairs(d, np.zeros((0, 2)), np.ones(3))
    assert rows.size == cols.size == dist.size == 0
    rows, cols, dist = radius_pairs(d, np.array([[1e6, 0.0]]), np.ones(3))
    assert rows.size == 0


def test_nearest_equals_brute_force():
    rng = np.random.default_rng(7)
    d = rng.uniform(0, 10_000, (200, 2))
    f = rng.uniform(0, 10_000, (25, 2))
    idx, dist = nearest(d, f)
    full = np.sqrt(((d[:, None, :] - f[None, :, :]) ** 2).sum(-1))
    assert np.array_equal(idx, full.argmin(1))
    assert dist == pytest.approx(full.min(1))
    idx, dist = nearest(d, np.zeros((0, 2)))
    assert (idx == -1).all()
    assert np.isinf(dist).all()


C = "510802"
TWS = [f"{C}{i:03d}" for i in range(1, 5)]


def _random_county(seed: int):
    rng = np.random.default_rng(seed)
    tws = [{"township_code": t, "county_code": C, "is_county_seat": i == 0, "urban": i == 0,
            "is_central_town": i == 1} for i, t in enumerate(TWS)]
    centres = np.array([[0, 0], [25, 0], [0, 25], [25, 25]], dtype=float)
    vil, rows = [], []
    for i, t in enumerate(TWS):
        for k in range(8):
            x, y = centres[i] + rng.normal(0, 5, 2)
            vid = f"{t}{k:03d}"
            vil.append({"village_id": vid, "township_code": t, "x_km": x, "y_km": y,
                        "urban": bool(i == 0 and k < 4)})
            for band in ("kindergarten", "primary_lower", "primary_upper", "junior", "senior"):
                rows.append((vid, band, int(rng.integers(5, 60))))
    types = ["kindergarten", "primary", "village_primary", "teaching_point", "junior", "senior"]
    level = {"kindergarten": "kindergarten", "primary": "primary", "village_primary": "primary",
             "teaching_point": "primary", "junior": "junior", "senior": "senior"}
    schools = []
    for i, t in enumerate(TWS):
        for k, st in enumerate(types):
            x, y = centres[i] + rng.normal(0, 4, 2)
            schools.append({"school_id": f"S{i}{k}", "school_type": st, "township_code": t,
                            "x_km": x, "y_km": y, "capacity": int(rng.integers(100, 900)),
                            "enrollment": {level[st]: int(rng.integers(20, 400))}})
    return make_region(tws, vil, schools, terrain={C: "mountain"}), rows


@pytest.mark.parametrize("seed", [3, 4])
def test_plan_never_exceeds_the_journey_caps(seed):
    region, rows = _random_county(seed)
    p = LayoutParams()
    plan = plan_layout(region, demand_table(rows), p, target_year=2030, time_limit=10, threads=1,
                       seed=0)
    a = plan.assignments.merge(
        region.villages[["village_id", "urban"]], left_on="demand_id", right_on="village_id")
    assert len(a) == len(plan.assignments) > 0
    for band, grp in a.groupby("grade_band"):
        rules = p.bands.get(band)
        day_cap = np.where(grp["urban"], rules.day_cap_urban_min, rules.day_cap_rural_min)
        assert (grp["travel_min"] <= np.maximum(day_cap, rules.boarding_cap_min) + 1e-9).all(), band
        # Within the day cap a pupil is a day pupil; beyond it only a band that boards may go.
        over = grp["travel_min"].to_numpy() > day_cap + 1e-9
        assert np.array_equal(grp["boarding"].to_numpy(), over), band
        if not rules.boards:
            assert not grp["boarding"].any(), band
    # Every pupil is either assigned or listed unserved with a reason.
    total = sum(r[2] for r in rows)
    assert a["students"].sum() + plan.unserved["students"].sum() == pytest.approx(total)
    assert (plan.unserved["reason"].str.len() > 0).all()
