"""The planner's own decisions (layout.fixed): honoured, priced, and bad entries named.

Small hand-built SYNTHETIC county (as in test_plan_rules): hill terrain, bus 30 km/h.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from toy_region import demand_table, make_region

from layout.errors import LayoutError, ScenarioError
from layout.plan import LayoutParams, plan_layout
from layout.plan.staged import plan_staged
from layout.scenario import load_scenario

C = "510802"
SEAT, T2 = "510802001", "510802002"
V1, V2 = "510802001001", "510802002001"


def _region():
    tws = [{"township_code": SEAT, "county_code": C, "is_county_seat": True, "urban": True},
           {"township_code": T2, "county_code": C}]
    vil = [{"village_id": V1, "township_code": SEAT, "x_km": 0, "y_km": 0, "urban": True},
           {"village_id": V2, "township_code": T2, "x_km": 30, "y_km": 0}]
    schools = [
        {"school_id": "H1", "school_type": "senior", "township_code": SEAT, "x_km": 0.5,
         "y_km": 0.2, "capacity": 500, "enrollment": {"senior": 450}},
        {"school_id": "H2", "school_type": "senior", "township_code": T2, "x_km": 30,
         "y_km": 0.2, "capacity": 500, "enrollment": {"senior": 300}},
    ]
    return make_region(tws, vil, schools)


ROWS = [(V1, "senior", 450), (V2, "senior", 300)]


def _plan(params=None):
    return plan_layout(_region(), demand_table(ROWS), params, target_year=2030, time_limit=30,
                       threads=1, seed=0)


def _row(plan, sid):
    return plan.schools.set_index("school_id").loc[sid]


def test_a_school_the_planner_keeps_stays_open_and_its_price_is_stated():
    assert _row(_plan(), "H2")["action"] == "merge"  # the model alone closes it
    p = LayoutParams.model_validate({"fixed": [{"id": "H2", "action": "keep"}]})
    plan = _plan(p)
    h2 = _row(plan, "H2")
    assert h2["action"] in ("keep", "expand")
    assert "fixed[0]" in h2["reason"]
    f = plan.fixed_decisions
    assert list(f["id"]) == ["H2"]
    assert f["price"].iloc[0] > 0  # keeping it costs more than the model's plan
    assert f["cost_with"].iloc[0] == pytest.approx(f["cost_without"].iloc[0] + f["price"].iloc[0])


def test_unknown_and_wrong_entries_are_named():
    p = LayoutParams.model_validate({"fixed": [{"id": "NOPE", "action": "keep"}]})
    with pytest.raises(LayoutError, match=r"layout.fixed\[0\].*'NOPE'.*not a school"):
        _plan(p)
    p = LayoutParams.model_validate({"fixed": [{"id": "H1", "action": "build"}]})
    with pytest.raises(LayoutError, match="candidate sites only"):
        _plan(p)


def test_contradictory_entries_are_a_scenario_error(tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text("name: t\nlayout:\n  fixed:\n    - {id: H2, action: keep}\n"
                 "    - {id: H2, action: close, year: 2030}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"fixed\[0\] and fixed\[1\] contradict"):
        load_scenario(f)


def test_staged_plan_honours_a_closure_year_and_prices_it():
    demand = {y: demand_table(ROWS) for y in (2025, 2030)}
    p = LayoutParams.model_validate({"fixed": [{"id": "H1", "action": "keep"},
                                               {"id": "H2", "action": "keep", "year": 2025},
                                               {"id": "H2", "action": "close", "year": 2030}]})
    plan = plan_staged(_region(), demand, p, target_year=2030, time_limit=30, threads=1, seed=0)
    s = plan.schools.set_index("school_id")
    assert s.loc["H2", "capacity_2025"] > 0
    assert s.loc["H2", "capacity_2030"] == 0
    assert s.loc["H2", "action_year"] == 2030
    assert len(plan.fixed_decisions) == 3
    assert pd.notna(plan.fixed_decisions["price"]).all()
