"""LayoutParams: strict keys, documented defaults that match the values, cost annualisation."""

from __future__ import annotations

import re

import pydantic
import pytest

from layout.plan import params as params_mod
from layout.plan.params import CostParams, LayoutParams
from schoolsystem.vocabulary import GRADE_BANDS


@pytest.mark.parametrize(("data", "key"), [
    ({"bands": {"junior": {"day_cap_min": 30}}}, "day_cap_min"),
    ({"travle": {"bus_kmh": 25}}, "travle"),
    ({"costs": {"capital_per_seet": 1.0}}, "capital_per_seet"),
    ({"travel": {"circuity": {"mountian": 1.5}}}, "mountian"),
])
def test_unknown_key_is_rejected_naming_the_key(data, key):
    with pytest.raises(pydantic.ValidationError) as exc:
        LayoutParams.model_validate(data)
    assert key in str(exc.value)
    # A ValueError, like every project error (callers may catch ValueError).
    assert isinstance(exc.value, ValueError)


def test_out_of_range_value_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="bus_kmh"):
        LayoutParams.model_validate({"travel": {"bus_kmh": 0}})


def test_grades_1_to_3_never_board_and_keep_the_30_minute_cap():
    b = LayoutParams().bands
    assert b.primary_lower.boarding_cap_min == 0
    assert not b.primary_lower.boards
    assert b.primary_lower.day_cap_urban_min == 30
    assert b.primary_lower.day_cap_rural_min == 30
    assert b.primary_lower.max_cap_min == 30
    assert not b.kindergarten.boards
    # Upper primary, junior and senior may board (principle: resources to boarding schools).
    assert b.primary_upper.boards
    assert b.junior.boards
    assert b.senior.boards


def test_young_children_walk_in_town_and_ride_in_the_country():
    b = LayoutParams().bands
    for band in ("kindergarten", "primary_lower"):
        assert (b.get(band).mode_urban, b.get(band).mode_rural) == ("walk", "bus")
    for band in ("primary_upper", "junior", "senior", "vocational"):
        assert (b.get(band).mode_urban, b.get(band).mode_rural) == ("bus", "bus")
    assert {b.get(band) is not None for band in GRADE_BANDS} == {True}


def test_annuity_factor_30_years_at_4_percent():
    a = CostParams().annuity
    assert a == pytest.approx(0.04 / (1 - 1.04 ** -30))
    assert a == pytest.approx(0.0578, abs=5e-5)
    assert CostParams(interest_rate=0.0, lifetime_years=20).annuity == pytest.approx(0.05)
    assert CostParams(interest_rate=0.06).annuity > a


def test_module_doc_states_the_defaults_actually_used():
    doc = params_mod.__doc__
    p = LayoutParams()
    assert "30 min" in doc
    assert p.bands.primary_lower.day_cap_rural_min == 30
    assert "15 min urban / 30 min rural" in doc
    assert (p.bands.kindergarten.day_cap_urban_min, p.bands.kindergarten.day_cap_rural_min) == (15, 30)
    assert f"walking {p.travel.walk_kmh:g} km/h" in doc
    assert f"bus {p.travel.bus_kmh:g} km/h" in doc
    for terrain, factor in p.travel.circuity.items():
        assert re.search(rf"{terrain} {factor:g}\b", doc), terrain
    assert f"{p.costs.annuity:.4f}" in doc
    assert f"{p.costs.lifetime_years:g} years at {p.costs.interest_rate * 100:g} %" in doc
    assert p.levels.vocational.min_size == 1200
    assert p.city_target_seats == 25_000


def test_params_are_frozen():
    p = LayoutParams()
    with pytest.raises(pydantic.ValidationError):
        p.mip_gap = 0.1  # type: ignore[misc]


def test_grades_1_to_3_may_not_board_even_if_configured() -> None:
    with pytest.raises(ValueError, match="grades 1-3"):
        LayoutParams.model_validate({"bands": {"primary_lower": {"boarding_cap_min": 90}}})


def test_a_partial_band_or_site_setting_keeps_that_members_own_defaults() -> None:
    p = LayoutParams.model_validate({
        "bands": {"kindergarten": {"day_cap_urban_min": 10}},
        "village_sites": {"primary_lower": {"min_children": 5}}})
    kg = p.bands.kindergarten
    assert (kg.day_cap_urban_min, kg.day_cap_rural_min, kg.mode_urban) == (10, 30, "walk")
    assert kg.stretch_cap_urban_min == LayoutParams().bands.kindergarten.stretch_cap_urban_min
    tp = p.village_sites.primary_lower
    assert (tp.min_children, tp.max_capacity, tp.fixed_cost) == (5, 120, 200_000.0)


def test_the_stretch_is_refused_for_a_band_that_boards() -> None:
    with pytest.raises(ValueError, match="do not board"):
        LayoutParams.model_validate({"bands": {"junior": {"stretch_cap_rural_min": 60}}})


def test_keep_near_growth_levels_are_known_levels() -> None:
    p = LayoutParams.model_validate({"keep_near_growth_levels": ["kindergarten", "primary"]})
    assert p.keep_near_growth_levels == ("kindergarten", "primary")
    with pytest.raises(ValueError, match="not among"):
        LayoutParams.model_validate({"keep_near_growth_levels": ["vocational"]})
