"""The printable planning report ``report.html`` (Chinese, for planners).

One self-contained page: inline CSS, charts as inline SVG (:mod:`layout.outputs.report_charts`),
no script, no font or image from anywhere else, so it opens offline and prints to PDF from any
browser (A4, each section on a new page, table headers repeated on every page). Identical inputs
give a byte-identical file: no timestamp, no random id, every table sorted.

Sections: title (region, scenario, target year, milestones; a SYNTHETIC banner for synthetic
data), summary (schools by action and level, seats added against the city's target, unserved
pupils, indicators per level), seats against demand (per county and level over the milestones of
a staged plan; per level at the target year of a one-year plan), projects by year (capital in
万元), exceptions (unserved demand by reason, schools kept below their level's minimum size,
schools kept in transition), notes and data provenance, indicators per county and level.

Codes (levels, actions, school types, site classes) are shown by their Chinese labels from
:mod:`schoolsystem.vocabulary`; column headers come from :mod:`schoolsystem.schemas`. Every user
string goes through :func:`layout.outputs.escape.html_text`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layout.outputs import report_charts as charts
from layout.outputs.atomic import write_text_atomic
from layout.outputs.escape import html_text
from layout.outputs.tables import plan_table
from schoolsystem.schemas import COLUMNS
from schoolsystem.vocabulary import (
    ACTION_LABELS_ZH,
    ACTIONS,
    LEVEL_LABELS_ZH,
    LEVELS,
    PROJECT_KINDS,
    SCHOOL_TYPE_LABELS_ZH,
    SITE_CLASS_LABELS_ZH,
)

__all__ = ["build_report", "write_report"]

CLOSED = ("close", "merge")
TRANSITION_MARK = "过渡保留"
"""Reason text of a school whose pupils stay there until the plan closes it (staged plans)."""
WAN = 10_000.0
"""CNY per 万元."""

_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
  "Microsoft YaHei", "PingFang SC", "SimHei", sans-serif; font-size: 10.5pt; color: #222;
  margin: 0 auto; max-width: 190mm; line-height: 1.45; }
h1 { font-size: 18pt; margin: 0 0 4pt 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #4a7fb5; padding-bottom: 2pt; margin: 0 0 8pt 0; }
h3 { font-size: 11.5pt; margin: 10pt 0 4pt 0; }
section { break-before: page; page-break-before: always; padding-top: 4pt; }
section.first { break-before: auto; page-break-before: auto; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt 0; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #e8eef6; font-weight: bold; }
td.n { text-align: right; white-space: nowrap; }
th.n { text-align: right; }
td:first-child { white-space: nowrap; }
td.sub { font-weight: bold; background: #f4f4f4; }
.code { font-size: 7.5pt; color: #666; font-family: "DejaVu Sans Mono", monospace; }
.synthetic { border: 2px solid #9c0006; background: #ffc7ce; color: #9c0006; padding: 6pt;
  font-weight: bold; margin: 6pt 0; }
.meta td:first-child { width: 28%; background: #f4f4f4; }
.kpi { display: flex; flex-wrap: wrap; gap: 6pt; margin: 6pt 0; }
.kpi div { border: 1px solid #bbb; padding: 4pt 8pt; min-width: 40mm; }
.kpi b { display: block; font-size: 14pt; }
.charts { display: flex; flex-wrap: wrap; gap: 4pt; }
.chart { break-inside: avoid; page-break-inside: avoid; }
.chart .ct { font-size: 11px; font-weight: bold; fill: #222; }
.chart .ax { font-size: 9px; fill: #444; }
.chart .grid { stroke: #ddd; stroke-width: 0.6; }
.chart .axis { stroke: #555; stroke-width: 1; }
.county { break-inside: avoid; page-break-inside: avoid; }
.legend { font-size: 9pt; }
.legend .sw { display: inline-block; width: 10pt; height: 8pt; margin: 0 2pt 0 8pt; }
.legend .ln { display: inline-block; width: 14pt; border-top: 2px solid; margin: 0 2pt 2pt 8pt; }
.note { font-size: 9pt; color: #555; }
pre.prov { white-space: pre-wrap; font-size: 8.5pt; background: #f7f7f7; padding: 6pt;
  border: 1px solid #ddd; }
.bar { height: 9pt; background: #eee; border: 1px solid #bbb; width: 100%; }
.bar span { display: block; height: 100%; background: #4a7fb5; }
@media print { body { max-width: none; } a { color: inherit; text-decoration: none; } }
"""


# --------------------------------------------------------------------------- small helpers
def whole(value: Any) -> str:
    """A count of pupils, seats or schools as a whole number with thousands separators.

    Examples
    --------
    >>> whole(1234.6), whole(None), whole(float("nan"))
    ('1,235', '—', '—')

    """
    if value is None or value is pd.NA:
        return "—"
    v = float(value)
    if not np.isfinite(v):
        return "—"
    return f"{int(np.round(v)):,}"


def wan(value: Any) -> str:
    """CNY as 万元 with one decimal.

    Examples
    --------
    >>> wan(1_234_567)
    '123.5'

    """
    if value is None or value is pd.NA or not np.isfinite(float(value)):
        return "—"
    return f"{float(value) / WAN:,.1f}"


def pct(value: Any) -> str:
    """A share as a percentage with one decimal (``—`` when missing)."""
    if value is None or value is pd.NA or not np.isfinite(float(value)):
        return "—"
    return f"{100.0 * float(value):.1f}%"


def _label(mapping: Mapping[str, str], code: Any) -> str:
    """Chinese label of a code (the code itself when unknown), escaped."""
    text = "" if code is None or (isinstance(code, float) and np.isnan(code)) else str(code)
    return html_text(mapping.get(text, text))


def _col(name: str) -> str:
    """Chinese header of a schema column (escaped)."""
    return html_text(COLUMNS[name].label_zh if name in COLUMNS else name)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Iterable[int] = ()) -> str:
    """An HTML table from escaped header and cell fragments; ``numeric`` columns right-aligned."""
    num = set(numeric)
    head = "".join(f'<th class="n">{h}</th>' if j in num else f"<th>{h}</th>"
                   for j, h in enumerate(headers))
    body = []
    for row in rows:
        cells = "".join(f'<td class="n">{c}</td>' if j in num else f"<td>{c}</td>"
                        for j, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">无</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _name_code(name: Any, code: Any) -> str:
    """A school or county name with its code in small print."""
    return f'{html_text(name)} <span class="code">{html_text(code)}</span>'


def _level_order(levels: Iterable[Any]) -> list[str]:
    have = {str(x) for x in levels}
    return [lv for lv in LEVELS if lv in have] + sorted(have - set(LEVELS))


def _is_open(schools: pd.DataFrame) -> pd.Series:
    """Open in the target year: seats then (a staged plan's later closures are still open)."""
    cap = pd.to_numeric(schools["capacity_after"], errors="coerce").fillna(0)
    return cap > 0


# --------------------------------------------------------------------------- sections
def _title(plan: Any, region: Any, scenario: Any) -> str:
    name = html_text(getattr(region, "name", ""))
    rows = [
        ("区域", _name_code(getattr(region, "name", ""), getattr(region, "code", ""))),
        ("情景", html_text(getattr(scenario, "name", ""))),
        ("目标年", html_text(plan.target_year)),
        ("基年", html_text(getattr(region, "base_year", ""))),
    ]
    if plan.milestones:
        rows.append(("分期里程碑年", html_text("、".join(str(y) for y in plan.milestones))))
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    banner = ""
    if getattr(region, "is_synthetic", False):
        layers = ", ".join(str(x) for x in getattr(region, "synthetic_layers", []) or [])
        banner = ('<div class="synthetic">合成数据 SYNTHETIC DATA — 仅供演示，'
                  "报告中的任何数字都不描述真实的学校或村庄"
                  + (f"（合成图层：{html_text(layers)}）" if layers else "") + "</div>")
    kind = "分期规划" if plan.milestones else "目标年规划"
    return (f'<section class="first"><h1>{name} 中小学幼儿园布局规划报告</h1>'
            f'<p>{html_text(getattr(scenario, "name", ""))} · {html_text(plan.target_year)}年 · '
            f"{kind}</p>{banner}"
            f'<table class="meta"><tbody>{body}</tbody></table>')


def _summary(plan: Any) -> str:
    s = plan_table(plan, "schools")
    levels = _level_order(s["level"])
    counts = s.groupby(["level", "action"]).size()
    headers = ["学段", *(html_text(ACTION_LABELS_ZH[a]) for a in ACTIONS), "合计"]
    rows = []
    for lv in levels:
        vals = [int(counts.get((lv, a), 0)) for a in ACTIONS]
        rows.append([_label(LEVEL_LABELS_ZH, lv), *(whole(v) for v in vals), whole(sum(vals))])
    tot = [int(counts.xs(a, level="action").sum()) if a in counts.index.get_level_values(1)
           else 0 for a in ACTIONS]
    rows.append(['<b>合计</b>', *(f"<b>{whole(v)}</b>" for v in tot), f"<b>{whole(sum(tot))}</b>"])
    target = int(plan.city_target_seats or 0)
    added = int(plan.seats_added_total)
    share = added / target if target else float("nan")
    unserved = pd.to_numeric(plan.unserved["students"], errors="coerce").sum()
    fill = min(100.0, 100.0 * share) if target else 0.0
    cards = (
        f'<div class="kpi"><div>新增学位<b>{whole(added)}</b></div>'
        f"<div>全市目标（措施7）<b>{whole(target)}</b></div>"
        f"<div>完成目标<b>{pct(share)}</b></div>"
        f"<div>未满足需求（人）<b>{whole(unserved)}</b></div></div>"
        f'<div class="bar"><span style="width:{fill:.1f}%"></span></div>'
    )
    return (f"<h2>一、规划概要</h2>{cards}<h3>各学段学校措施（所）</h3>"
            f"{_table(headers, rows, numeric=range(1, len(headers)))}"
            f"<h3>各学段主要指标（目标年 {html_text(plan.target_year)}）</h3>"
            f"{_level_kpis(plan, levels)}</section>")


def _level_kpis(plan: Any, levels: list[str]) -> str:
    """Indicators per level, summed over counties (travel and share weighted by pupils)."""
    s = plan_table(plan, "schools")
    k = plan_table(plan, "kpis").copy()
    demand = s.groupby(["county_code", "level"])["demand_target"].sum()
    k["w"] = demand.reindex(pd.MultiIndex.from_frame(k[["county_code", "level"]])).fillna(0.0)\
        .to_numpy()
    open_ = s[_is_open(s)]
    cap = open_.groupby("level")["capacity_after"].sum()
    dem = s.groupby("level")["demand_target"].sum()
    heads = ["学段", _col("schools_before"), _col("schools_after"), _col("seats_added"),
             "规划学位", "目标年需求（人）", _col("utilization"), _col("travel_mean_min"),
             _col("share_within_standard"), _col("boarders"), "年运行成本（万元）",
             "生均成本（元）"]
    rows = []
    for lv in levels:
        g = k[k["level"] == lv]
        w = g["w"].to_numpy(float)
        wsum = float(w.sum())

        def wmean(col: str, g: pd.DataFrame = g, w: np.ndarray = w, wsum: float = wsum) -> float:
            vals = pd.to_numeric(g[col], errors="coerce").to_numpy(float)
            ok = np.isfinite(vals)
            return float((vals[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() and w[ok].sum() \
                else float("nan")

        c, d = float(cap.get(lv, 0.0)), float(dem.get(lv, 0.0))
        cost = pd.to_numeric(g["cost_after"], errors="coerce").sum()
        rows.append([
            _label(LEVEL_LABELS_ZH, lv), whole(g["schools_before"].sum()),
            whole(g["schools_after"].sum()), whole(g["seats_added"].sum()), whole(c), whole(d),
            pct(d / c if c else float("nan")),
            f"{wmean('travel_mean_min'):.1f}" if wsum else "—",
            pct(wmean("share_within_standard")) if wsum else "—",
            whole(g["boarders"].sum()), wan(cost), whole(cost / d if d else float("nan")),
        ])
    return _table(heads, rows, numeric=range(1, len(heads)))


def demand_quantiles(outlook: Any) -> pd.DataFrame | None:
    """P10/P50/P90 per county, level and year summed over townships (``None`` without forecast).

    A sum of township quantiles is wider than the quantile of the sum: the band is an upper
    bound of the county's uncertainty.
    """
    td = getattr(outlook, "township_demand", None)
    if td is None or not {"county_code", "level", "year", "p10", "p50", "p90"} <= set(td.columns):
        return None
    return td.groupby(["county_code", "level", "year"], sort=True)[["p10", "p50", "p90"]].sum()


def _demand_section(plan: Any, outlook: Any, county_names: Mapping[str, str]) -> str:
    q = demand_quantiles(outlook)
    src = ("需求P10/P50/P90为各乡镇预测分位数之和（比全县真实区间略宽）。" if q is not None else
           "无预测结果：需求P50/P90取自规划时间表，无P10。")
    if plan.milestones and plan.timeline is not None:
        body = _staged_charts(plan, q, county_names)
        head = "<h2>二、学位与需求（各里程碑年）</h2>"
        note = ("<p class=\"note\">永久学位为开办学校的学位；临时学位为活动板房、租用校舍等。"
                "中职学校只按目标年规划，其他年份不画学位。" + src + "</p>")
    else:
        body = _one_year_chart(plan, q)
        head = f"<h2>二、学位与需求（目标年 {html_text(plan.target_year)}）</h2>"
        note = f'<p class="note">规划学位为目标年开办学校的学位之和。{src}</p>'
    return f"<section>{head}{note}{body}</section>"


def _opt(v: Any) -> float | None:
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return f if np.isfinite(f) else None


def _staged_charts(plan: Any, q: pd.DataFrame | None, county_names: Mapping[str, str]) -> str:
    t = plan.timeline.copy()
    t["county_code"] = t["county_code"].astype(str)
    years = sorted(int(y) for y in plan.milestones)
    out = [charts.legend_staged()]
    for county in sorted(t["county_code"].unique()):
        ct = t[t["county_code"] == county]
        figs = []
        for lv in _level_order(ct["level"]):
            rows = ct[ct["level"] == lv].set_index("year")
            seats, temp, p10, p50, p90 = [], [], [], [], []
            for y in years:
                r = rows.loc[y] if y in rows.index else None
                planned = not (lv == "vocational" and y != plan.target_year)
                seats.append(_opt(r["seats"]) if r is not None and planned else None)
                temp.append(_opt(r["temporary_seats"]) if r is not None and planned else None)
                if q is not None:
                    key = (county, lv, y)
                    got = q.loc[key] if key in q.index else None
                    p10.append(_opt(got["p10"]) if got is not None else None)
                    p50.append(_opt(got["p50"]) if got is not None else None)
                    p90.append(_opt(got["p90"]) if got is not None else None)
                else:
                    p10.append(None)
                    p50.append(_opt(r["demand_p50"]) if r is not None else None)
                    p90.append(_opt(r["demand_p90"]) if r is not None else None)
            if q is None:  # no P10: draw the band from P50 to P90
                p10 = list(p50)
            figs.append(charts.staged_chart(LEVEL_LABELS_ZH.get(lv, lv), years, seats, temp,
                                            p10, p50, p90))
        name = county_names.get(county, county)
        out.append(f'<div class="county"><h3>{_name_code(name, county)}</h3>'
                   f'<div class="charts">{"".join(figs)}</div></div>')
    out.append("<h3>分期时间表（全市合计）</h3>" + _timeline_table(plan))
    return "".join(out)


def _timeline_table(plan: Any) -> str:
    t = plan.timeline
    cols = ["schools_open", "seats", "temporary_seats", "idle_seats", "demand_p50", "demand_p90"]
    g = t.groupby(["year", "level"])[cols].sum(min_count=1)
    rows = []
    for y in sorted(int(x) for x in t["year"].unique()):
        for lv in _level_order(t.loc[t["year"] == y, "level"]):
            r = g.loc[(y, lv)]
            rows.append([html_text(y), _label(LEVEL_LABELS_ZH, lv), *(whole(r[c]) for c in cols)])
    return _table(["年份", "学段", *(_col(c) for c in cols)], rows, numeric=range(2, 2 + len(cols)))


def _one_year_chart(plan: Any, q: pd.DataFrame | None) -> str:
    s = plan_table(plan, "schools")
    levels = _level_order(s["level"])
    open_ = s[_is_open(s)]
    cap = open_.groupby("level")["capacity_after"].sum()
    dem = s.groupby("level")["demand_target"].sum()
    seats, p10, p50, p90 = [], [], [], []
    qy = None
    if q is not None:
        qq = q.reset_index()
        qy = qq[qq["year"] == plan.target_year].groupby("level")[["p10", "p50", "p90"]].sum()
    for lv in levels:
        seats.append(float(cap.get(lv, 0.0)))
        if qy is not None and lv in qy.index:
            p10.append(_opt(qy.loc[lv, "p10"]))
            p50.append(_opt(qy.loc[lv, "p50"]))
            p90.append(_opt(qy.loc[lv, "p90"]))
        else:
            p10.append(None)
            p50.append(_opt(dem.get(lv, 0.0)))
            p90.append(None)
    fig = charts.level_bars(f"{plan.target_year}年 各学段学位与需求",
                            [LEVEL_LABELS_ZH.get(lv, lv) for lv in levels], seats, p10, p50, p90)
    rows = [[_label(LEVEL_LABELS_ZH, lv), whole(seats[i]), whole(p10[i]), whole(p50[i]),
             whole(p90[i])] for i, lv in enumerate(levels)]
    table = _table(["学段", "规划学位", "需求P10", "需求P50", "需求P90"], rows, numeric=range(1, 5))
    return charts.legend_bars() + f'<div class="chart">{fig}</div>' + table


def _projects(plan: Any, county_names: Mapping[str, str]) -> str:
    p = plan_table(plan, "projects").copy()
    heads = [_col("project_id"), _col("name"), "县区", _col("kind"), _col("level"),
             _col("seats"), _col("beds"), "投资估算（万元）"]
    out = ["<section><h2>三、建设项目（按年份）</h2>"]
    if p.empty:
        out.append("<p>本规划无建设项目。</p></section>")
        return "".join(out)
    p["year"] = pd.to_numeric(p["year"], errors="coerce").fillna(plan.target_year).astype(int)
    p = p.sort_values(["year", "county_code", "project_id"], kind="stable")
    summary = []
    for y, g in p.groupby("year", sort=True):
        summary.append([html_text(y), whole(len(g)), whole(g["seats"].sum()),
                        whole(g["beds"].sum()), wan(g["capital_cost"].sum())])
    summary.append(["<b>合计</b>", f"<b>{whole(len(p))}</b>", f"<b>{whole(p['seats'].sum())}</b>",
                    f"<b>{whole(p['beds'].sum())}</b>", f"<b>{wan(p['capital_cost'].sum())}</b>"])
    out.append(_table(["年份", "项目数", "学位", "床位", "投资估算（万元）"], summary,
                      numeric=range(1, 5)))
    for y, g in p.groupby("year", sort=True):
        rows = [[f'<span class="code">{html_text(r.project_id)}</span>',
                 _name_code(r.name, r.school_id),
                 html_text(county_names.get(str(r.county_code), str(r.county_code))),
                 _label(PROJECT_KINDS, r.kind), _label(LEVEL_LABELS_ZH, r.level),
                 whole(r.seats), whole(r.beds), wan(r.capital_cost)]
                for r in g.itertuples(index=False)]
        out.append(f"<h3>{html_text(y)}年</h3>" + _table(heads, rows, numeric=(5, 6, 7)))
    out.append("</section>")
    return "".join(out)


def _exceptions(plan: Any, county_names: Mapping[str, str]) -> str:
    out = ["<section><h2>四、例外与遗留问题</h2>"]
    out.append(_unserved(plan))
    s = plan_table(plan, "schools")
    out.append(_below_min(plan, s, county_names))
    out.append(_transition(s, county_names))
    out.append("</section>")
    return "".join(out)


def _unserved(plan: Any) -> str:
    by_year = getattr(plan, "unserved_by_year", None)
    u = by_year if by_year is not None else plan_table(plan, "unserved").assign(
        year=plan.target_year)
    head = "<h3>未满足需求（按原因）</h3>"
    if u is None or u.empty:
        return head + "<p>各年需求均已满足。</p>"
    u = u.copy()
    u["reason"] = u["reason"].fillna("").astype(str)
    u["students"] = pd.to_numeric(u["students"], errors="coerce").fillna(0.0)
    rows = []
    for (year, reason), g in u.groupby(["year", "reason"], sort=True):
        levels = "、".join(LEVEL_LABELS_ZH.get(lv, str(lv)) for lv in _level_order(g["level"]))
        points = sorted(str(x) for x in g["demand_id"].unique())
        more = f" 等{len(points)}个" if len(points) > 8 else ""
        rows.append([html_text(year), html_text(reason), html_text(levels),
                     f'<span class="code">{html_text(", ".join(points[:8]) + more)}</span>',
                     whole(g["students"].sum())])
    return head + _table(["年份", _col("reason"), _col("level"), _col("demand_id"), "学生（人）"],
                         rows, numeric=(4,))


def _below_min(plan: Any, s: pd.DataFrame, county_names: Mapping[str, str]) -> str:
    levels = getattr(getattr(plan, "params", None), "levels", None)
    head = "<h3>低于学段最小规模而保留的学校（目标年）</h3>"
    if levels is None:
        return head + "<p>无参数，未检查。</p>"
    mins = {lv: getattr(getattr(levels, lv, None), "min_size", None) for lv in LEVELS}
    open_ = s[_is_open(s)].copy()
    open_["min_size"] = open_["level"].map(mins)
    small = open_[open_["min_size"].notna()
                  & (pd.to_numeric(open_["demand_target"], errors="coerce").fillna(0.0)
                     < open_["min_size"])]
    small = small.sort_values(["county_code", "level", "school_id"], kind="stable")
    rows = [[_name_code(r.name, r.school_id),
             html_text(county_names.get(str(r.county_code), str(r.county_code))),
             _label(LEVEL_LABELS_ZH, r.level), _label(SCHOOL_TYPE_LABELS_ZH, r.school_type),
             _label(SITE_CLASS_LABELS_ZH, r.site_class), _label(ACTION_LABELS_ZH, r.action),
             whole(r.demand_target), whole(r.min_size), html_text(r.reason)]
            for r in small.itertuples(index=False)]
    heads = [_col("name"), "县区", _col("level"), _col("school_type"), _col("site_class"),
             _col("action"), "目标年学生（人）", "最小规模", _col("reason")]
    return head + _table(heads, rows, numeric=(6, 7))


def _transition(s: pd.DataFrame, county_names: Mapping[str, str]) -> str:
    head = "<h3>过渡期保留的学校</h3>"
    mark = s["reason"].fillna("").astype(str).str.contains(TRANSITION_MARK, regex=False)
    if "n_transition" in s:
        mark |= pd.to_numeric(s["n_transition"], errors="coerce").fillna(0) > 0
    t = s[mark].sort_values(["county_code", "level", "school_id"], kind="stable")
    if t.empty:
        return head + "<p>无。</p>"
    rows = [[_name_code(r.name, r.school_id),
             html_text(county_names.get(str(r.county_code), str(r.county_code))),
             _label(LEVEL_LABELS_ZH, r.level), _label(ACTION_LABELS_ZH, r.action),
             html_text("" if pd.isna(r.action_year) else int(r.action_year)),
             html_text(r.reason)]
            for r in t.itertuples(index=False)]
    return head + _table([_col("name"), "县区", _col("level"), _col("action"), _col("action_year"),
                          _col("reason")], rows)


def _notes(plan: Any, note: str | None, county_names: Mapping[str, str]) -> str:
    out = ["<section><h2>五、说明与数据来源</h2>"]
    if plan.notes:
        out.append("<h3>规划说明</h3><ul>"
                   + "".join(f"<li>{html_text(n)}</li>" for n in plan.notes) + "</ul>")
    if note:
        out.append(f'<h3>数据来源</h3><pre class="prov">{html_text(note)}</pre>')
    out.append("<h3>各县区、学段指标</h3>")
    k = plan_table(plan, "kpis").sort_values(["county_code", "level"], kind="stable")
    cols = ["schools_before", "schools_after", "seats_added", "boarders", "travel_mean_min",
            "travel_p95_min", "share_within_standard", "utilization"]
    rows = []
    for r in k.itertuples(index=False):
        vals = [whole(getattr(r, c)) for c in cols[:4]]
        vals += [f"{float(getattr(r, c)):.1f}" if pd.notna(getattr(r, c)) else "—"
                 for c in cols[4:6]]
        vals += [pct(getattr(r, c)) for c in cols[6:]]
        rows.append([html_text(county_names.get(str(r.county_code), str(r.county_code))),
                     _label(LEVEL_LABELS_ZH, r.level), *vals])
    out.append(_table(["县区", "学段", *(_col(c) for c in cols)], rows,
                      numeric=range(2, 2 + len(cols))))
    out.append("</section>")
    return "".join(out)


# --------------------------------------------------------------------------- entry points
def build_report(plan: Any, region: Any, scenario: Any, outlook: Any = None,
                 note: str | None = None) -> str:
    """The report page as one HTML string.

    Parameters
    ----------
    plan : LayoutPlan
        One-year or staged plan (``plan.milestones`` non-empty, ``plan.timeline`` present).
    region : Region-like
        ``name``, ``code``, ``base_year``, ``is_synthetic``, ``synthetic_layers`` and
        ``counties`` (``county_code``, ``name``).
    scenario : Scenario-like
        ``name``.
    outlook : RegionOutlook, optional
        The forecast: its ``township_demand`` gives demand P10/P50/P90 per county, level, year.
    note : str, optional
        Provenance text (:func:`layout.pipeline.data_note`).

    """
    counties = getattr(region, "counties", None)
    county_names: dict[str, str] = {}
    if counties is not None and {"county_code", "name"} <= set(counties.columns):
        county_names = {str(c): str(n) for c, n in zip(counties["county_code"], counties["name"],
                                                       strict=True)}
    title = (f"{getattr(region, 'name', '')} 学校布局规划报告 {plan.target_year} · "
             f"{getattr(scenario, 'name', '')}")
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html_text(title)}</title><style>{_CSS}</style></head><body>",
        _title(plan, region, scenario), _summary(plan), _demand_section(plan, outlook, county_names),
        _projects(plan, county_names), _exceptions(plan, county_names),
        _notes(plan, note, county_names), "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(plan: Any, path: str | os.PathLike[str], region: Any, scenario: Any,
                 outlook: Any = None, note: str | None = None) -> Path:
    """Build the report (arguments as :func:`build_report`) and write it atomically to ``path``."""
    return write_text_atomic(path, build_report(plan, region, scenario, outlook, note))
