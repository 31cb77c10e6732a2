"""Map HTML tests without a browser (SYNTHETIC fixtures from layout.outputs.synthetic_plan)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from synthetic_plan import (
    SYNTHETIC_NOTE,
    synthetic_plan,
    synthetic_region,
    synthetic_years_series,
)

from layout.errors import LayoutError
from layout.outputs import maps
from layout.outputs.assets import inline_assets, remote_asset_refs
from layout.outputs.escape import html_text, json_for_script

HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(2)</script>",
           "`${alert(3)}`", "=HYPERLINK(\"http://x\")"]  # fmt: skip


@pytest.fixture(scope="module")
def region():
    return synthetic_region(n_counties=3, townships_per_side=6)


@pytest.fixture(scope="module")
def plan(region):
    return synthetic_plan(n_schools=40, n_villages=80, townships=region[1], names=HOSTILE, seed=3)


@pytest.fixture(scope="module")
def html(plan, region):
    counties, townships = region
    fmap = maps.build_map(plan, townships, counties,
                          years_series=synthetic_years_series(townships), note=SYNTHETIC_NOTE)  # fmt: skip
    return maps.render_html(fmap)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_no_remote_assets_and_everything_inline(html):
    parser = _Tags()
    parser.feed(html)
    scripts = [a for t, a in parser.tags if t == "script"]
    links = [a for t, a in parser.tags if t == "link"]
    assert scripts, "page has scripts"
    assert all("src" not in a for a in scripts), [a for a in scripts if "src" in a]
    assert all("href" not in a for a in links), links
    assert remote_asset_refs(html) == []
    for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "bootstrapcdn",
                 "unpkg.com", "fonts.googleapis"):
        assert host not in html
    assert "layout-asset:" not in html
    # Leaflet and the three plugins really are inlined
    for marker in ("L.Control.Measure", "L.Control.MiniMap", "fullscreen", "leaflet-container"):
        assert marker in html


def test_remote_asset_detector_finds_cdn_links():
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css"/><script src="//cdn.x/y.js">'
            "</script><style>a{background:url(http://x/y.png)}</style><a href='https://ok'>k</a>")
    assert sorted(remote_asset_refs(page)) == sorted(
        ["https://cdn.example/x.css", "//cdn.x/y.js", "http://x/y.png"]
    )


def test_unknown_asset_reference_is_an_error():
    with pytest.raises(LayoutError, match="not found"):
        inline_assets('<script src="layout-asset:nope/x.js"></script>')


def test_hostile_names_never_appear_raw_in_source(html):
    for name in HOSTILE:
        assert name not in html
    assert "<img src=x" not in html
    assert "${alert" not in html
    # exactly one </script> closes each <script> element
    assert html.count("</script>") == len(re.findall(r"<script[\s>]", html))


def test_payload_keeps_names_exact(plan, region, html):
    # the JSON literal in the page decodes back to the exact raw names
    decoded = set()
    for match in re.finditer(r'"rows":(\[\[.*?\]\]),"reasons"', html):
        decoded |= {row[1] for row in json.loads(match.group(1))}
    assert set(HOSTILE) <= decoded
    assert decoded == set(plan.schools["name"])


def test_layer_names_and_counts(plan, html):
    for label in ("学校：小学", "学校：幼儿园", "服务范围：初中", "县区界", "乡镇学龄人口变化"):
        assert json.dumps(label)[1:-1] in html or label in html
    total = sum(len(json.loads(m.group(1))) for m in re.finditer(r'"rows":(\[\[.*?\]\]),"reasons"', html))
    assert total == len(plan.schools)


def test_escape_helpers():
    assert html_text("<b>${x}</b>") == "&lt;b&gt;&#36;{x}&lt;/b&gt;"
    assert html_text(float("nan")) == ""
    raw = {"a": "</script><!-- ${x} `y` \u2028"}
    enc = json_for_script(raw)
    assert "<" not in enc
    assert "$" not in enc
    assert "`" not in enc
    assert json.loads(enc) == raw
    with pytest.raises(ValueError, match="ut of range float"):
        json_for_script({"x": float("nan")})


def test_tianditu_needs_key(plan, region, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(LayoutError, match="TIANDITU_KEY"):
        maps.build_map(plan, region[1], region[0], tiles="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "k123")
    html = maps.render_html(maps.build_map(plan, region[1], region[0], tiles="tianditu"))
    assert "tianditu.gov.cn" in html
    assert "tk=k123" in html
    assert remote_asset_refs(html) == []  # tiles are data, not page assets


def test_unknown_tiles_rejected(plan, region):
    with pytest.raises(LayoutError, match="unknown tiles"):
        maps.build_map(plan, region[1], region[0], tiles="bing")


def _school_positions(html):
    pos = {}
    for m in re.finditer(r'"cols":(\[.*?\]),"rows":(\[\[.*?\]\]),"reasons"', html):
        cols = json.loads(m.group(1))
        for row in json.loads(m.group(2)):
            pos[row[cols.index("school_id")]] = (row[cols.index("lon")], row[cols.index("lat")])
    return pos


def test_gaode_shifts_only_the_drawn_copy(plan, region):
    gcj02 = pytest.importorskip("layout.geo.gcj02")
    before = plan.schools.copy()
    plain = _school_positions(maps.render_html(maps.build_map(plan, region[1], region[0])))
    shifted = _school_positions(maps.render_html(maps.build_map(plan, region[1], region[0],
                                                                tiles="gaode")))  # fmt: skip
    assert plan.schools.equals(before)  # the plan's (distance) data untouched
    sid = plan.schools["school_id"].iloc[0]
    lon, lat = gcj02.wgs84_to_gcj02(np.array([plan.schools["lon"].iloc[0]]),
                                    np.array([plan.schools["lat"].iloc[0]]))  # fmt: skip
    assert plain[sid] == pytest.approx((plan.schools["lon"].iloc[0], plan.schools["lat"].iloc[0]),
                                       abs=1e-5)  # fmt: skip
    assert shifted[sid] == pytest.approx((float(lon[0]), float(lat[0])), abs=1e-5)
    assert abs(shifted[sid][0] - plain[sid][0]) > 1e-3  # a visible GCJ-02 offset


def test_polygons_simplified_and_rounded(region):
    from layout.outputs.map_layers import simplified_geojson

    _counties, townships = region
    dense = townships.copy()
    dense["geometry"] = dense.geometry.segmentize(0.001)  # many redundant vertices
    geo = simplified_geojson(dense, dense[["township_code"]])
    n_out = sum(len(f["geometry"]["coordinates"][0]) for f in geo["features"])
    n_in = int(dense.geometry.count_coordinates().sum())
    assert n_out < n_in / 10
    coords = np.array([c for f in geo["features"] for c in f["geometry"]["coordinates"][0]])
    assert np.allclose(coords, np.round(coords, 5))


def test_write_map_is_atomic_and_offline(plan, region, tmp_path):
    out = maps.write_map(plan, region[1], region[0], tmp_path / "map.html")
    assert out.exists()
    assert remote_asset_refs(out.read_text(encoding="utf-8")) == []
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_20000_school_map_stays_under_10_mb(tmp_path):
    # size, not speed (speed is measured by benchmarks/map_bench.py)
    counties, townships = synthetic_region(n_counties=8, townships_per_side=40)
    big = synthetic_plan(n_schools=20_000, n_villages=20_000, townships=townships)
    path = maps.write_map(big, townships, counties, tmp_path / "big.html",
                          years_series=synthetic_years_series(townships))  # fmt: skip
    html = path.read_text(encoding="utf-8")
    assert html.count('"rows":[[') == 5  # one GeoJSON layer per level, not a marker each
    assert path.stat().st_size < 10_000_000
