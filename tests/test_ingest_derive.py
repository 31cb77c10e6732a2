"""Derivations are sum-preserving; BD-09/GCJ-02 round trips; Voronoi townships partition a county."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from layout.geo.gcj02 import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from layout.ingest.derive import (
    apportion,
    rescale_ages,
    reshape_within,
    senior_stage_estimate,
    split_groups,
)
from layout.ingest.polygons import voronoi_cells
from layout.ingest.population import PopulationInputs, township_single_ages

TINY = Path(__file__).parent / "fixtures" / "region" / "tiny"


def test_five_year_split_keeps_every_group_and_is_non_negative():
    groups = {f"{a}-{a + 4}": n for a, n in zip(range(0, 50, 5),
                                                 [900, 1300, 1500, 1400, 800, 950, 1200, 1300,
                                                  1250, 1100], strict=True)}
    single = split_groups(groups)
    assert (single >= 0).all()
    for label, n in groups.items():
        lo, hi = map(int, label.split("-"))
        assert single[lo:hi + 1].sum() == pytest.approx(n, abs=1e-9)


def test_broad_groups_follow_the_reference_structure():
    ref = np.arange(101, dtype=float)
    single = split_groups({"0-14": 150, "15-59": 450, "60+": 100}, ref)
    assert single[:15].sum() == pytest.approx(150)
    assert single[1] / single[2] == pytest.approx(0.5)


def test_reshape_and_apportion_keep_totals():
    single = split_groups({"0-4": 500, "5-9": 600})
    out = reshape_within(single, [(0, 4), (5, 9)], {0: 90, 1: 100, 2: 110, 3: 120, 4: 130})
    assert out[:5].sum() == pytest.approx(500)
    assert out[5:10].sum() == pytest.approx(600)
    assert out[0] < out[4]
    parts = apportion(101, np.array([3.0, 1.0, 1.0]))
    assert parts.sum() == 101


def test_bd09_gcj02_wgs84_round_trips_below_a_millimetre():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(104, 107, 2000), rng.uniform(30.5, 33.5, 2000)
    g = wgs84_to_gcj02(lon, lat)
    back = bd09_to_gcj02(*gcj02_to_bd09(*g))
    assert np.abs(back[0] - g[0]).max() < 1e-8
    assert np.abs(back[1] - g[1]).max() < 1e-8
    w = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert np.abs(w[0] - lon).max() < 1e-8
    assert np.abs(w[1] - lat).max() < 1e-8


def test_bd09_offset_matches_the_published_formula():
    # Baidu's public sample: GCJ-02 (116.404, 39.915) -> BD-09 (116.41036, 39.92133)
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036, abs=2e-5)
    assert float(lat) == pytest.approx(39.92133, abs=2e-5)


def test_voronoi_cells_partition_the_county():
    county = shapely.box(105.0, 32.0, 105.5, 32.4)
    seats = np.array([[105.1, 32.1], [105.4, 32.3], [105.2, 32.35], [105.2, 32.35]])
    cells = voronoi_cells(seats, county)
    assert len(cells) == 4
    assert sum(c.area for c in cells) == pytest.approx(county.area, rel=1e-9)
    assert shapely.union_all(cells).symmetric_difference(county).area < 1e-9


GROUPS = {f"{a}-{a + 4}": n for a, n in zip(range(0, 50, 5),
                                             [900, 1300, 1500, 1400, 800, 950, 1200, 1300,
                                              1250, 1100], strict=True)}


@pytest.mark.parametrize("method", ["sprague", "beers"])
def test_osculatory_split_keeps_every_group(method):
    single = split_groups(GROUPS, method=method)
    assert (single >= 0).all()
    for label, n in GROUPS.items():
        lo, hi = map(int, label.split("-"))
        assert single[lo:hi + 1].sum() == pytest.approx(n, abs=1e-9)
    # groups without two 5-year neighbours on each side keep the spline
    pchip = split_groups(GROUPS)
    assert np.allclose(single[:10], pchip[:10])
    assert not np.allclose(single[10:15], pchip[10:15])


def test_rescale_ages_keeps_the_group_and_caps_at_its_total():
    x = np.zeros(101)
    x[15:20] = [10, 10, 10, 30, 40]
    y = rescale_ages(x, (15, 19), (15, 17), 2.0)
    assert y[15:20].sum() == pytest.approx(100)
    assert y[15:18].tolist() == [20, 20, 20]
    assert y[18] / y[19] == pytest.approx(30 / 40)
    z = rescale_ages(x, (15, 19), (15, 17), 10.0, shape=np.array([1.0, 2.0, 1.0]))
    assert z[15:18].tolist() == [25, 50, 25]
    assert z[18:20].sum() == 0


def _enrollment(county: str, g9_before: int, junior: int, senior: list[int]) -> pd.DataFrame:
    rows = [(county, 2022, "G9", g9_before)]
    rows += [(county, 2023, g, junior // 3) for g in ("G7", "G8", "G9")]
    rows += [(county, 2023, g, n) for g, n in zip(("G10", "G11", "G12"), senior, strict=True)]
    return pd.DataFrame(rows, columns=["county_code", "year", "grade", "students"])


def test_senior_stage_estimate_inverts_participation_and_coverage():
    # 900 residents 12-14, junior coverage 0.9 (810 pupils); 300 per age 15-17 of whom 80 %
    # continue: G10 = G9 of last year (270 = 300 x 0.9) x 0.8
    e = _enrollment("1", 270, 810, [216, 216, 216])
    est = senior_stage_estimate(e, 2023, "1", 900.0)
    assert est is not None
    assert est.tolist() == pytest.approx([300, 300, 300])
    assert senior_stage_estimate(e, 2023, "2", 900.0) is None  # no enrollment: spline kept
    assert senior_stage_estimate(e[e["year"] == 2023], 2023, "1", 900.0) is None


def test_senior_split_follows_the_county_estimate_and_keeps_group_totals():
    # two townships with a flat census table (100 per age): the spline gives 300 of the 500
    # persons 15-19 to ages 15-17, the county's enrollment says 270
    ages = pd.DataFrame([(t, f"{a}-{a + 4}", 500, 250 if a >= 15 else None)
                         for t in ("100000001", "100000002") for a in range(0, 50, 5)],
                        columns=["township_code", "age_group", "persons", "female"])
    ages["_row"] = range(3, 3 + len(ages))
    towns = pd.DataFrame({"township_code": ["100000001", "100000002"],
                          "county_code": ["100000", "100000"]})
    # county: 600 residents 12-14, 540 junior pupils (coverage 0.9), G9 last year 162, half of
    # them continue (G10 81): residents 15-17 = 81 / (0.5 x 0.9) = 180 per age, 270 a township
    e = _enrollment("100000", 162, 540, [81, 81, 81])
    births = pd.DataFrame(columns=["county_code", "year", "births"])
    inp = PopulationInputs(ages, towns, pd.DataFrame(), births, e, 2023)
    problems: list = []
    plain, _ = township_single_ages(inp, problems, "none", senior="spline")
    kids, women = township_single_ages(inp, problems, "none", senior="enrollment")
    assert problems == []
    for code in kids:
        assert plain[code][15:18].sum() == 300
        assert kids[code][15:18].sum() == 270
        assert kids[code][15:18].tolist() == [90, 90, 90]
        assert kids[code][:15].tolist() == plain[code][:15].tolist()
        assert women[code].sum() == 7 * 250
