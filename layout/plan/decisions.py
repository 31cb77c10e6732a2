"""Decisions per school from a solved county model: keep / expand / close / merge / convert / new.

* ``new`` — an opened candidate site (size = blocks built);
* ``merge`` — an existing school (level) not kept; ``merge_into`` is the school receiving most
  of its pupils, where a school's pupils are taken to be the demand whose nearest existing school
  of the level it is today (the status quo); ``close`` if it has none to hand over;
* ``convert`` — a village primary school or teaching point kept for grades 1-3 only (the stated
  exception of the 30-minute day journey);
* ``expand`` — kept with seats (class blocks) or beds added; beds = boarders beyond today's beds;
* ``keep`` — otherwise. Every non-``keep`` decision and every exception carries a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.plan.assemble import CountySolution, assignment_table
from layout.plan.candidates import nearest
from layout.plan.diagnose import diagnose_unserved
from layout.plan.model import CountyModel
from layout.plan.params import LayoutParams
from layout.plan.reasons import low_utilization_reasons, reuse_reasons, sole_pupils
from schoolsystem.vocabulary import VILLAGE_SCHOOL_TYPES

_EXEMPT_WHY = {
    "planner": ("规划既定", "fixed by the planner"),
    "village_site": ("新建村级学校, 规模按可及儿童数确定",
                     "a village site sized to the children within reach"),
    "township_kindergarten": ("乡镇保留公办幼儿园", "the township keeps one public kindergarten"),
    "sole_option": ("上限内唯一学校", "the only school within the cap, stated exception"),
    "catchment": ("可及范围内生源不足, 无更大服务范围",
                  "no larger catchment possible within the caps"),
    "held": ("附近新增同学段学位期间保留", "held open while seats of its level are built beside it"),
}


def status_quo(cm: CountyModel) -> pd.DataFrame:
    """Today's school of each demand row: nearest existing school of the level (no cap).

    Returns demand rows with ``col0`` (facility, -1 if the level has none) and ``minutes0``.
    """
    dem, fac = cm.demand, cm.facilities
    col0 = np.full(len(dem), -1, dtype=np.int64)
    dist0 = np.full(len(dem), np.nan)
    for level, rows in dem.groupby("level"):
        f = np.flatnonzero(((fac["level"] == level) & ~fac["is_site"]).to_numpy())
        if f.size == 0:
            continue
        idx, dist = nearest(rows[["x", "y"]].to_numpy(), fac[["x", "y"]].to_numpy()[f])
        pos = dem.index.get_indexer(rows.index)
        col0[pos], dist0[pos] = f[idx], dist
    out = dem.copy()
    out["col0"] = col0
    out["minutes0"] = dist0 * cm.circuity / dem["speed"].to_numpy()
    out["km0"] = dist0 * cm.circuity / 1000.0
    out["boarding0"] = out["minutes0"] > out["day_cap"]
    return out


def county_tables(
    cm: CountyModel, m: CountySolution, params: LayoutParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Schools, assignments and unserved tables of one solved county, plus the status quo rows.

    Returns
    -------
    schools, assignments, unserved, before : DataFrame
        ``schools`` has the extra columns ``open``, ``fixed_cost``, ``closed_cost`` and
        ``block_cost`` (used by the KPIs); ``before`` is :func:`status_quo`.

    """
    fac = cm.facilities.copy()
    dem = assignment_table(cm, m)
    before = status_quo(cm)
    fac["open"] = m.open & (~fac["is_site"] | (m.load > 0))
    fac["load"] = m.load
    fac["blocks"] = np.where(fac["open"], m.blocks_added, 0)
    served = dem[dem["col"] >= 0]
    st = served["students"].to_numpy()
    n = len(fac)
    cols = served["col"].to_numpy()
    fac["boarders"] = np.bincount(cols, weights=st * served["boarding"], minlength=n)
    fac["load_lower"] = np.bincount(
        cols, weights=st * (served["grade_band"] == "primary_lower"), minlength=n
    )
    fac["n_exception"] = np.bincount(cols, weights=~served["host"] & ~served["transition"],
                                     minlength=n)
    fac["n_transition"] = np.bincount(cols, weights=served["transition"], minlength=n)
    beyond = (served["minutes"] > served["day_cap"] + 1e-9) & ~served["boarding"]
    fac["beyond_students"] = np.bincount(cols, weights=st * beyond, minlength=n)
    fac["beyond_cap"] = pd.Series(served["day_cap"].to_numpy()[beyond.to_numpy()]).groupby(
        cols[beyond.to_numpy()]).max().reindex(range(n)).to_numpy()
    fac["seats_added"] = fac["blocks"] * fac["block"]
    fac["capacity_after"] = np.where(fac["open"], fac["capacity"] + fac["seats_added"], 0.0)
    fac["beds_added"] = np.where(
        fac["open"], np.maximum(0.0, np.ceil(fac["boarders"] - 1e-6) - fac["beds"]), 0.0
    )
    fac["utilization"] = np.where(fac["capacity_after"] > 0,
                                  fac["load"] / fac["capacity_after"].where(fac["capacity_after"] > 0, 1),
                                  np.nan)
    fac["merge_into"] = _merge_targets(fac, before, dem)
    _actions(fac, params)
    notes = [low_utilization_reasons(fac, sole_pupils(cm, dem)), reuse_reasons(fac)]
    for col in ("fixed_note", "held_note"):  # the planner's decisions; layout.plan.rebuild
        if col in fac:
            notes.append(fac[col])
    for extra in notes:
        fac["reason"] = _join_reasons(fac["reason"], extra)
    fac["demand_target"] = fac["load"]
    fac = fac[~fac["is_site"] | fac["open"]].copy()
    fac = fac.rename(columns={"fac_id": "school_id", "capacity": "capacity_base"})

    a = dem[dem["col"] >= 0]
    assignments = pd.DataFrame({
        "demand_id": a["demand_id"], "level": a["level"], "grade_band": a["grade_band"],
        "school_id": cm.facilities["fac_id"].to_numpy()[a["col"].to_numpy()],
        "students": a["students"], "travel_min": a["minutes"], "boarding": a["boarding"],
        "standard_min": a["day_cap"], "lon": a["lon"], "lat": a["lat"],
    })
    full = cm.facilities["capacity"] + cm.facilities["max_blocks"] * cm.facilities["block"]
    reasons = diagnose_unserved(dem, cm.pairs, cm.facilities, cm.circuity, str(m.status),
                                full - m.load, is_open=m.open)
    # a staged row with no pupils this milestone is nobody left unserved
    reasons = reasons[dem.loc[reasons.index, "students"].to_numpy() > 1e-9]
    u = dem.loc[reasons.index]
    unserved = pd.DataFrame({
        "demand_id": u["demand_id"], "level": u["level"], "grade_band": u["grade_band"],
        "students": u["students"], "reason": reasons.to_numpy(dtype=object),
    })
    return fac, assignments, unserved, before.assign(col=dem["col"].to_numpy(),
                                                     minutes=dem["minutes"].to_numpy(),
                                                     km=dem["km"].to_numpy(),
                                                     boarding=dem["boarding"].to_numpy())


def _join_reasons(first: pd.Series, more: pd.Series) -> pd.Series:
    """``first; more`` where both are set, else whichever is."""
    a, b = first.fillna("").astype(str), more.fillna("").astype(str)
    return a.where(b == "", a.where(a == "", a + "; ") + b)


def _expansion_reason(seats: float, beds: float) -> str:
    """``扩建 60 学位, 20 床位 (adds 60 seats, 20 beds)``, naming only what is added."""
    zh = [f"{v:.0f} {unit}" for v, unit in ((seats, "学位"), (beds, "床位")) if v >= 0.5]
    en = [f"{v:.0f} {unit}" for v, unit in ((seats, "seats"), (beds, "beds")) if v >= 0.5]
    return f"扩建 {', '.join(zh)} (adds {', '.join(en)}: receives pupils or boarders)"


def _actions(fac: pd.DataFrame, params: LayoutParams) -> None:
    """Fill ``action`` and ``reason`` in place."""
    action = np.full(len(fac), "keep", dtype=object)
    reason = np.full(len(fac), "", dtype=object)
    is_open = fac["open"].to_numpy()
    site = fac["is_site"].to_numpy()
    village = fac["school_type"].isin(VILLAGE_SCHOOL_TYPES).to_numpy()
    lower_only = (fac["load_lower"] > 0).to_numpy() & np.isclose(fac["load_lower"], fac["load"])
    grow = (fac["seats_added"] > 0).to_numpy() | (fac["beds_added"] > 0).to_numpy()
    min_size = fac["level"].map(lambda lv: params.levels.get(lv).min_size).to_numpy()
    small = is_open & (fac["load"].to_numpy() < min_size)
    for i in range(len(fac)):
        if site[i]:
            action[i] = "new"
            seats = fac["seats_added"].iat[i]
            note = fac["site_note"].iat[i] if "site_note" in fac else ""
            conv = "converted_from" in fac and bool(fac["converted_from"].iat[i])
            made = (f"改建 {seats:.0f} 个学位 ({seats:.0f} seats by conversion)" if conv
                    else f"新建 {seats:.0f} 个学位 ({seats:.0f} seats)")
            reason[i] = f"{note}; {made}" if note else f"新建 {seats:.0f} 个学位 (new school)"
        elif not is_open[i]:
            target = fac["merge_into"].iat[i]
            action[i] = "merge" if target else "close"
            why = ("非集中办学点, 按布局原则撤并 (not a host under the layout principle)"
                   if not fac["host"].iat[i] else "规模与成本更优方案 (lower-cost plan)")
            reason[i] = (f"并入 {target}: {why}" if target else f"撤销, 无在读学生需转移: {why}")
        elif fac["level"].iat[i] == "primary" and village[i] and lower_only[i]:
            action[i] = "convert"
            reason[i] = ("保留为1-3年级小规模学校: 30分钟内无乡镇小学 "
                         "(kept for grades 1-3: no township school within the 30-minute day journey)")
        elif grow[i]:
            action[i] = "expand"
            reason[i] = _expansion_reason(fac["seats_added"].iat[i], fac["beds_added"].iat[i])
        if is_open[i] and not site[i] and fac["n_transition"].iat[i] > 0:
            reason[i] = (reason[i] + "; " if reason[i] else "") + (
                "过渡保留: 学生暂留本校, 待生源下降后并入集中办学点 (kept during the transition: "
                "its pupils stay until falling numbers let the host school take them)")
        if is_open[i] and not site[i] and fac["n_exception"].iat[i] > 0 and action[i] != "convert":
            reason[i] = (reason[i] + "; " if reason[i] else "") + (
                "例外保留: 上限内无集中办学点 (exception: no host school within the cap)")
        if is_open[i] and fac["beyond_students"].iat[i] > 0.5:
            k, cap = fac["beyond_students"].iat[i], fac["beyond_cap"].iat[i]
            reason[i] = (reason[i] + "; " if reason[i] else "") + (
                f"接收 {k:.0f} 名超出{cap:.0f}分钟就近标准的儿童: 标准内无学校, 保留现有学校而非新建 "
                f"(serves {k:.0f} children beyond the {cap:.0f}-min standard: none lies within "
                "it; an existing school serves them instead of a new one)")
        if small[i] and action[i] != "convert":
            zh, en = _EXEMPT_WHY.get(
                str(fac["exempt_why"].iat[i]) if "exempt_why" in fac else "",
                _EXEMPT_WHY["sole_option"])
            reason[i] = (reason[i] + "; " if reason[i] else "") + (
                f"低于最小规模 {min_size[i]}: 例外 ({zh}; below minimum size: {en})")
    fac["action"] = action
    fac["reason"] = reason

def _merge_targets(fac: pd.DataFrame, before: pd.DataFrame, dem: pd.DataFrame) -> np.ndarray:
    """``merge_into`` of each closed school: where most of today's pupils go (else nearest).

    A school's pupils today are the demand whose nearest existing school of the level it is
    (:func:`status_quo`); a school without such pupils goes into the nearest open school of
    its level. Open schools and closed ones with nowhere to go get "".
    """
    moved = before.assign(col=dem["col"].to_numpy())
    moved = moved[(moved["col0"] >= 0) & (moved["col"] >= 0)]
    flows = moved.groupby(["col0", "col"], as_index=False)["students"].sum()
    flows = flows.sort_values(["col0", "students", "col"], ascending=[True, False, True])
    top = flows.drop_duplicates("col0").set_index("col0")["col"]
    merge_col = np.array(pd.Series(fac.index, index=fac.index).map(top).fillna(-1), dtype=np.int64)
    is_open = fac["open"].to_numpy(dtype=bool)
    open_idx = np.flatnonzero(is_open)
    level = fac["level"].to_numpy()
    xy = fac[["x", "y"]].to_numpy()
    for i in np.flatnonzero(~is_open & ~fac["is_site"].to_numpy(dtype=bool)):
        if merge_col[i] >= 0 and merge_col[i] != i:
            continue
        same = open_idx[level[open_idx] == level[i]]
        if same.size:
            j, _ = nearest(xy[[i]], xy[same])
            merge_col[i] = int(same[j[0]])
        else:
            merge_col[i] = -1
    return np.where(~is_open & (merge_col >= 0),
                    fac["fac_id"].to_numpy()[np.clip(merge_col, 0, None)], "")
