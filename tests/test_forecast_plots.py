import pandas as pd

from forecasting.plots import cjk_font, fan_chart, fan_charts_by_county, population_pyramid

PNG = b"\x89PNG\r\n\x1a\n"


def _demand():
    rows = []
    for area in ("510802001", "510811001"):
        for band in ("junior", "senior"):
            for y in range(2024, 2036):
                m = 100.0 + y - 2024
                rows.append((area, "x", band, y, m, m * 0.8, m, m * 1.2))
    return pd.DataFrame(
        rows, columns=["area", "level", "grade_band", "year", "demand", "p10", "p50", "p90"]
    )


def test_fan_chart_writes_png(tmp_path):
    hist = pd.DataFrame({"year": [2019, 2020, 2021, 2022, 2023], "demand": [90, 92, 95, 97, 99]})
    out = fan_chart(
        _demand(), tmp_path / "sub" / "fan.png", history=hist, title="t", title_zh="初中"
    )
    data = out.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 2000
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_fan_charts_by_county(tmp_path):
    paths = fan_charts_by_county(_demand(), tmp_path, county_names={"510802": "利州区"})
    assert sorted(p.name for p in paths) == [
        "fan_510802_junior.png",
        "fan_510802_senior.png",
        "fan_510811_junior.png",
        "fan_510811_senior.png",
    ]
    assert all(p.read_bytes().startswith(PNG) for p in paths)


def test_population_pyramid(tmp_path):
    base = pd.DataFrame({"age": range(18), "population": [100 - a for a in range(18)]})
    target = pd.DataFrame({"age": range(18), "population": [60 + a for a in range(18)]})
    women = pd.DataFrame({"age": range(15, 50), "persons": 50})
    out = population_pyramid(
        base, target, tmp_path / "p.png", base_year=2023, target_year=2035, women=women
    )
    assert out.read_bytes().startswith(PNG)
    assert out.stat().st_size > 2000


def test_cjk_font_probe_returns_name_or_none():
    font = cjk_font()
    assert font is None or isinstance(font, str)
