"""Derivations are sum-preserving; BD-09/GCJ-02 round trips; Voronoi townships partition a county."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from layout.geo.gcj02 import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from layout.ingest.derive import apportion, reshape_within, split_groups
from layout.ingest.polygons import voronoi_cells

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
