"""Real-browser tests of map.html: headless Chromium, all network blocked (SYNTHETIC data).

Skipped only when no Chromium executable exists (install Debian's: apt-get install -y chromium).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_util import find_browser, open_map
from synthetic_plan import (
    SYNTHETIC_NOTE,
    synthetic_plan,
    synthetic_region,
    synthetic_years_series,
)

from layout.outputs import maps

pytestmark = pytest.mark.skipif(
    find_browser() is None,
    reason="NO CHROMIUM FOUND: the real-browser map tests did NOT run "
    "(install with `apt-get install -y chromium`)",
)
HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>",
           "`${alert(3)}`"]  # fmt: skip
EXPECTED_LAYERS = ["乡镇学龄人口变化", "县区界"] + [
    f"{kind}：{lv}" for lv in ("幼儿园", "小学", "初中", "高中", "中职") for kind in ("服务范围", "学校")
]


def _shot_dir(tmp_path: Path) -> Path:
    root = Path(__file__).resolve().parent.parent / "test-output"
    try:
        root.mkdir(exist_ok=True)
        return root
    except OSError:
        return tmp_path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    counties, townships = synthetic_region(n_counties=3, townships_per_side=6)
    plan = synthetic_plan(n_schools=50, n_villages=120, townships=townships, names=HOSTILE, seed=5)
    folder = tmp_path_factory.mktemp("map")
    path = maps.write_map(plan, townships, counties, folder / "map.html", prefer_canvas=False,
                          years_series=synthetic_years_series(townships), note=SYNTHETIC_NOTE)  # fmt: skip
    return plan, path


def test_map_loads_offline_without_errors(built, tmp_path):
    plan, path = built
    with open_map(path) as (page, log):
        layers = [t.strip() for t in
                  page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]  # fmt: skip
        count = page.evaluate("window.__schoolFeatureCount")
        svg_circles = page.locator("path.sm-school").count()
        controls = {sel: page.locator(sel).count() for sel in
                    (".leaflet-control-zoom-fullscreen", ".leaflet-control-measure",
                     ".leaflet-control-minimap", ".sm-legend", ".sm-slider")}  # fmt: skip
        shot = _shot_dir(tmp_path) / "outputs_map_small.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
    assert log.page_errors == []
    assert log.console_errors == []
    assert log.failed_requests == []
    assert log.blocked_requests == []
    assert all(u.startswith(("file://", "data:")) for u in log.requests)
    assert layers == EXPECTED_LAYERS
    assert count == len(plan.schools)
    assert svg_circles == len(plan.schools)  # every school drawn (all school layers are on)
    assert all(n == 1 for n in controls.values()), controls
    assert log.dialogs == []


def test_hostile_names_render_as_text(built):
    _plan, path = built
    with open_map(path) as (page, log):
        # a real mouse hover and click on one hostile school
        xy = page.evaluate(
            """(name) => {
                for (const layer of SchoolMap.schoolLayers) for (const m of layer.getLayers())
                    if (m.feature.properties.name === name) {
                        const p = window.__schoolMap.latLngToContainerPoint(m.getLatLng());
                        const r = window.__schoolMap.getContainer().getBoundingClientRect();
                        return [p.x + r.left, p.y + r.top];
                    }
            }""",
            HOSTILE[0],
        )
        page.mouse.move(*xy)
        page.wait_for_selector(".leaflet-tooltip", timeout=5000)
        page.mouse.click(*xy)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        popup = page.locator(".leaflet-popup-content").inner_text()
        page.mouse.click(5, 5)  # close it before the API checks
        for name in HOSTILE:
            texts = page.evaluate(
                """(name) => {
                    for (const layer of SchoolMap.schoolLayers) {
                        for (const m of layer.getLayers()) {
                            if (m.feature.properties.name !== name) continue;
                            m.openTooltip();
                            const tip = m.getTooltip().getElement().querySelector('b').textContent;
                            m.closeTooltip();
                            m.openPopup();
                            const pop = m.getPopup().getElement()
                                .querySelector('.leaflet-popup-content');
                            const first = pop.querySelector('td').textContent;
                            const imgs = pop.querySelectorAll('img,script').length;
                            m.closePopup();
                            return [tip, first, imgs];
                        }
                    }
                    return null;
                }""",
                name,
            )
            assert texts == [name, name, 0], (name, texts)
        page.wait_for_timeout(300)
    assert log.dialogs == [], log.dialogs
    assert log.page_errors == []
    assert log.console_errors == []
    assert "名称" in popup
    assert "措施" in popup
    assert HOSTILE[0] in popup


def test_year_slider_restyles_choropleth(built):
    _plan, path = built
    with open_map(path) as (page, log):
        def fills():
            return page.evaluate(
                "() => window.__yearSlider.layer.getLayers().map(l => l.options.fillColor)"
            )

        last = fills()
        slider = page.locator(".sm-slider input")
        slider.fill("0")  # base year: no change anywhere
        first = fills()
        label = page.locator(".sm-slider-label").inner_text()
    assert "2023" in label
    assert set(first) == {"#f7f7f7"}  # the -5%..+5% class
    assert first != last
    assert log.page_errors == []
    assert log.console_errors == []


@pytest.mark.skipif(os.environ.get("CI_SKIP_TILES") == "1", reason="explicitly disabled")
def test_gaode_map_without_network_still_renders(tmp_path):
    # with tiles the page requests tile images; they are blocked here, the vectors still draw
    counties, townships = synthetic_region(n_counties=2, townships_per_side=4)
    plan = synthetic_plan(n_schools=12, n_villages=20, townships=townships, seed=1)
    path = maps.write_map(plan, townships, counties, tmp_path / "g.html", tiles="gaode",
                          prefer_canvas=False)  # fmt: skip
    with open_map(path) as (page, log):
        assert page.evaluate("window.__schoolFeatureCount") == len(plan.schools)
    assert log.page_errors == []
    assert all("autonavi.com" in u for u in log.blocked_requests)
