"""The planning report ``report.html`` of `schoolplan run` (tiny SYNTHETIC region, one-year and staged).

The browser tests skip loudly when no Chromium exists (install Debian's: apt-get install -y chromium).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_util import LAUNCH_ARGS, find_browser

from layout.outputs.report import build_report, write_report
from layout.pipeline import data_note, run_scenario
from layout.scenario import load_scenario

FIX = Path(__file__).parent / "fixtures"
HOSTILE = "<script>alert(1)</script>"
TEMPLATE = "${x}"
needs_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="NO CHROMIUM FOUND: the real-browser report tests did NOT run "
    "(install with `apt-get install -y chromium`)",
)


def _scenario(tmp: Path, staged: bool) -> Path:
    sc = yaml.safe_load((FIX / "scenarios" / "tiny.yaml").read_text(encoding="utf-8"))
    sc["region"] = str(FIX / "region" / "tiny")
    if staged:
        sc["layout"] = {"milestones": [2025, 2027, 2030, 2035]}
    path = tmp / ("staged.yaml" if staged else "one.yaml")
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["one", "staged"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp(f"report_{request.param}")
    scenario = load_scenario(_scenario(tmp, request.param == "staged"))
    res = run_scenario(scenario, tmp / "run", progress=False)
    return res, tmp / "run"


def test_report_written_by_every_run(run: Any) -> None:
    res, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert out / "report.html" in res.files
    assert "<!DOCTYPE html>" in html
    assert "</html>" in html
    assert res.region.name in html
    assert res.scenario.name in html
    assert "合成数据 SYNTHETIC DATA" in html  # the tiny region is synthetic
    for heading in ("一、规划概要", "二、学位与需求", "三、建设项目", "四、例外与遗留问题"):
        assert heading in html
    assert "<svg" in html
    if res.plan.milestones:
        assert "各里程碑年" in html
        assert html.count('<svg class="chart"') >= res.plan.timeline[["county_code", "level"]]\
            .drop_duplicates().shape[0]
    assert "README.txt" not in html
    assert "report.html" in (out / "README.txt").read_text(encoding="utf-8")


def test_report_reads_in_chinese_with_whole_pupils(run: Any) -> None:
    _res, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    for label in ("保留", "新建", "合并", "幼儿园", "小学", "初中"):
        assert label in html
    # codes of levels and actions are not shown as table text
    assert not re.search(r"<td>(kindergarten|primary|junior|keep|merge|new)</td>", html)
    # no fractional pupils in the tables' numeric cells (but percentages, minutes, 万元)
    cells = re.findall(r'<td class="n">([^<]*)</td>', html)
    assert cells
    frac = [c for c in cells if re.fullmatch(r"-?[\d,]+\.\d+", c)]
    assert len(frac) < len(cells)


def test_report_is_offline_and_byte_identical(run: Any, tmp_path: Path) -> None:
    res, out = run
    html = (out / "report.html").read_bytes()
    text = html.decode("utf-8")
    assert not re.search(r"https?://", text), "no URL at all, so no remote asset"
    assert "<script" not in text
    assert "<link" not in text
    assert "@import" not in text
    again = write_report(res.plan, tmp_path / "again.html", res.region, res.scenario,
                         res.outlook, note=data_note(res.region, res.scenario))
    assert again.read_bytes() == html


def _hostile_plan(plan: Any) -> Any:
    schools = plan.schools.copy()
    schools["name"] = [f"{HOSTILE}{TEMPLATE}{i}" for i in range(len(schools))]
    schools["reason"] = schools["reason"].fillna("").astype(str) + " " + HOSTILE
    projects = plan.projects.copy()
    projects["name"] = HOSTILE + TEMPLATE
    unserved = plan.unserved.copy()
    unserved["reason"] = HOSTILE + TEMPLATE
    changes: dict[str, Any] = {"schools": schools, "projects": projects, "unserved": unserved,
                               "notes": [*plan.notes, HOSTILE + TEMPLATE]}
    if plan.unserved_by_year is not None:
        changes["unserved_by_year"] = plan.unserved_by_year.assign(reason=HOSTILE + TEMPLATE)
    return dataclasses.replace(plan, **changes)


def test_report_escapes_hostile_names(run: Any) -> None:
    res, _out = run
    html = build_report(_hostile_plan(res.plan), res.region, res.scenario, res.outlook)
    assert HOSTILE not in html
    assert "<script" not in html
    assert TEMPLATE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#36;{x}" in html


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = find_browser()
    assert exe is not None
    return subprocess.run([exe, *LAUNCH_ARGS, *args], capture_output=True, text=True,
                          timeout=180, check=False)


@needs_browser
def test_report_opens_in_chromium_without_errors(run: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    res, out = run
    page_file = tmp_path / "hostile.html"
    write_report(_hostile_plan(res.plan), page_file, res.region, res.scenario, res.outlook)
    for path in (out / "report.html", page_file):
        errors: list[str] = []
        requests: list[str] = []
        dialogs: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_browser(), args=LAUNCH_ARGS,
                                         headless=True)
            try:
                context = browser.new_context(offline=True)
                page = context.new_page()
                page.on("console", lambda m, e=errors: m.type == "error" and e.append(m.text))
                page.on("pageerror", lambda x, e=errors: e.append(str(x)))
                page.on("request", lambda r, q=requests: q.append(r.url))
                page.on("dialog", lambda d, a=dialogs: (a.append(d.message), d.dismiss()))
                page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
                text = page.inner_text("body")
                svgs = page.locator("svg.chart").count()
            finally:
                browser.close()
        assert errors == [], errors
        assert dialogs == []
        assert all(u.startswith(("file://", "data:")) for u in requests), requests
        assert svgs >= 1
        assert "规划概要" in text
        if path == page_file:
            assert HOSTILE + TEMPLATE in text  # the name is shown as text


@needs_browser
def test_report_prints_to_pdf(run: Any, tmp_path: Path) -> None:
    _res, out = run
    pdf = tmp_path / "report.pdf"
    proc = _chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                     (out / "report.html").resolve().as_uri())
    assert pdf.is_file(), proc.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4, pages  # the sections start on new pages


def test_workbook_layout_sheet_has_chinese_labels_and_whole_pupils(run: Any) -> None:
    import openpyxl

    res, out = run
    ws = openpyxl.load_workbook(out / "layout.xlsx", read_only=True)["推荐布局"]
    rows = list(ws.iter_rows(values_only=True))
    heads = list(rows[1])
    for code, label in (("level", "level_label"), ("school_type", "school_type_label"),
                        ("site_class", "site_class_label"), ("action", "action_label")):
        assert heads[heads.index(code) + 1] == label
    data = rows[2:]
    assert len(data) == len(res.plan.schools)
    col = {h: i for i, h in enumerate(heads)}
    assert {r[col["level_label"]] for r in data} <= {"幼儿园", "小学", "初中", "高中", "中职"}
    assert {r[col["action_label"]] for r in data} <= {"保留", "扩建", "撤并(关闭)", "合并", "转型",
                                                      "新建"}
    assert all(r[col["school_type_label"]] for r in data)
    pupils = [h for h in heads if h in ("demand_target", "boarders")
              or (h.startswith("enrollment_") and h != "enrollment_base")]
    assert ("enrollment_2025" in pupils) == bool(res.plan.milestones)
    for h in pupils:
        assert all(r[col[h]] is None or isinstance(r[col[h]], int) for r in data), h
