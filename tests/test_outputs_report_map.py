"""The staged plan's map: one network state per milestone behind the 学校网络 slider (tiny SYNTHETIC region).

The browser test skips loudly when no Chromium exists (install Debian's: apt-get install -y chromium).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from browser_util import find_browser, open_map

from layout.outputs.maps import write_map
from layout.pipeline import run_scenario
from layout.scenario import load_scenario

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("staged_map")
    sc = yaml.safe_load((FIX / "scenarios" / "tiny.yaml").read_text(encoding="utf-8"))
    sc["region"] = str(FIX / "region" / "tiny")
    sc["layout"] = {"milestones": [2025, 2027, 2030, 2035]}
    (tmp / "s.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    res = run_scenario(load_scenario(tmp / "s.yaml"), tmp / "run", stages=("forecast", "plan"),
                       progress=False)
    path = write_map(res.plan, res.region.townships, res.region.counties, tmp / "map.html")
    return res.plan, path


def _payloads(html: str) -> list[dict[str, Any]]:
    out = []
    for m in re.finditer(r"SchoolMap\.stagedSchoolLayer\(\s*\w+, ", html):
        obj, _end = json.JSONDecoder().raw_decode(html, m.end())
        out.append(obj)
    return out


def _open_at(schools: pd.DataFrame, year: int) -> pd.DataFrame:
    cap = pd.to_numeric(schools[f"capacity_{year}"], errors="coerce")
    return schools[cap.fillna(0) > 0]


def test_staged_map_has_one_network_state_per_milestone(staged: Any) -> None:
    plan, path = staged
    html = path.read_text(encoding="utf-8")
    payloads = _payloads(html)
    assert {p["level"] for p in payloads} == set(plan.schools["level"])
    for p in payloads:
        assert p["years"] == plan.milestones
        assert len(p["states"]) == len(plan.milestones)
        assert p["years"][p["index"]] == plan.target_year
        rows = plan.schools[plan.schools["level"] == p["level"]]
        for year, state in zip(p["years"], p["states"], strict=True):
            ids = {r[0] for r in state["rows"]}
            if p["level"] != "vocational":  # vocational: planned for the target year only
                assert ids == set(_open_at(rows, year)["school_id"].astype(str))
            ay = pd.to_numeric(rows["action_year"], errors="coerce")
            new_later = rows[(rows["action"] == "new") & (ay > year)]
            closed = rows[rows["action"].isin(["close", "merge"]) & (ay <= year)]
            assert not ids & set(new_later["school_id"].astype(str))
            assert not ids & set(closed["school_id"].astype(str))
    assert html.count("SchoolMap.addMilestoneSlider(") == 1


def test_one_year_map_has_no_milestone_slider(staged: Any, tmp_path: Path) -> None:
    plan, path = staged
    one = dataclasses.replace(plan, milestones=[])
    html = write_map(one, *_regions(path), tmp_path / "one.html").read_text(encoding="utf-8")
    assert "stagedSchoolLayer" not in html
    assert "SchoolMap.addMilestoneSlider(" not in html


def _regions(path: Path) -> tuple[Any, Any]:
    from layout.region import load_region

    region = load_region(FIX / "region" / "tiny")
    return region.townships, region.counties


def test_staged_map_is_byte_identical(staged: Any, tmp_path: Path) -> None:
    plan, path = staged
    again = write_map(plan, *_regions(path), tmp_path / "again.html")
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.skipif(find_browser() is None,
                    reason="NO CHROMIUM FOUND: the real-browser milestone map test did NOT run "
                    "(install with `apt-get install -y chromium`)")
def test_milestone_slider_switches_the_network(staged: Any) -> None:
    plan, path = staged
    payloads = _payloads(path.read_text(encoding="utf-8"))
    with open_map(path) as (page, log):
        assert page.locator(".sm-milestones").count() == 1
        assert page.evaluate("window.__milestoneYear") == plan.target_year
        for i, year in enumerate(plan.milestones):
            page.evaluate(f"window.__milestoneSlider.setYear({i})")
            counts = page.evaluate("window.__schoolLayerCounts")
            assert page.evaluate("window.__milestoneYear") == year
            assert counts == {p["level"]: len(p["states"][i]["rows"]) for p in payloads}
            assert page.evaluate("window.__schoolFeatureCount") == sum(counts.values())
    assert log.page_errors == []
    assert log.console_errors == []
    assert log.blocked_requests == []
