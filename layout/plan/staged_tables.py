"""Tables of a staged plan, from its one-year tables at every milestone.

* :func:`combine_schools` — one row per (school, level): what happens to it and in which year
  (``action``, ``action_year``), and its seats, pupils and temporary seats at every milestone;
* :func:`staged_projects` — construction projects with their year and capital;
* :func:`timeline` — per milestone, county and level: schools open, seats, demand (P50, P90),
  temporary and idle seats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from layout.plan.params import LayoutParams
from layout.plan.reasons import REUSE_RADIUS_M
from schoolsystem.schemas import PROJECT_COLUMNS, TIMELINE_COLUMNS

KEYS = ["school_id", "level"]
_CLOSED = ("close", "merge")


def _long(schools_y: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """All one-year rows stacked with their ``year``."""
    return pd.concat([df.assign(year=y) for y, df in sorted(schools_y.items())],
                     ignore_index=True)


def _first_year(long: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """First year per (school, level) where ``mask`` holds (missing where it never does)."""
    return long.loc[mask].groupby(KEYS)["year"].min()


def combine_schools(schools_y: dict[int, pd.DataFrame], years: list[int],
                    target_year: int) -> pd.DataFrame:
    """One row per (school, level) of a staged plan.

    ``action`` is the lasting decision: ``close``/``merge`` in the year the school closes (it
    never reopens), ``new`` in the year a site opens, ``expand`` in the year its first block is
    built, ``convert`` in the year it becomes a grades 1-3 school, else ``keep``; ``reason`` is
    that year's, prefixed with the year. ``demand_target``, ``capacity_after``, ``boarders`` and
    ``utilization`` are the target year's; ``seats_added`` counts every block built by the last
    milestone and ``beds_added`` the most beds any milestone needs. Per milestone:
    ``capacity_<year>`` (permanent seats of an open school, 0 closed or not yet built),
    ``enrollment_<year>``, ``temporary_<year>`` (empty in a year the school is not planned for:
    vocational schools outside the target year).
    """
    long = _long(schools_y)
    long["is_open"] = ~long["action"].isin(_CLOSED)
    closed = _first_year(long, ~long["is_open"] & ~long["is_site"].astype(bool))
    opened = _first_year(long, long["is_site"].astype(bool))
    built = _first_year(long, long["seats_added"] > 0)
    converted = _first_year(long, long["action"] == "convert")
    out = long.drop_duplicates(KEYS, keep="last").set_index(KEYS)
    target = long[long["year"] == target_year].set_index(KEYS)
    decisive = pd.Series(np.nan, index=out.index)
    action = pd.Series("keep", index=out.index, dtype=object)
    for act, years_ in (("convert", converted), ("expand", built), ("new", opened)):
        hit = years_.reindex(out.index).notna()
        action[hit] = act
        decisive[hit] = years_.reindex(out.index)[hit]
    hit = closed.reindex(out.index).notna()
    decisive[hit] = closed.reindex(out.index)[hit]
    at_close = long.set_index([*KEYS, "year"])
    idx = [(*k, int(y)) for k, y in zip(out.index[hit], decisive[hit], strict=True)]
    action[hit] = at_close.loc[idx, "action"].to_numpy()
    out["merge_into"] = out["merge_into"].where(~hit, "")
    out.loc[hit, "merge_into"] = at_close.loc[idx, "merge_into"].to_numpy()
    out["action"] = action
    out["action_year"] = decisive.astype("Int64")
    reason_at = at_close["reason"].reindex(
        [(*k, int(y) if pd.notna(y) else target_year) for k, y in zip(out.index, decisive,
                                                                      strict=True)]).to_numpy()
    out["reason"] = np.where(decisive.notna(),
                             decisive.astype("Int64").astype(str) + "年: " + pd.Series(
                                 reason_at, index=out.index).fillna(""),
                             pd.Series(reason_at, index=out.index).fillna(""))
    out["reason"] = _other_years(out, long, decisive)
    _target_view(out, target, long)
    _per_year(out, long, years)
    return out.reset_index()


def _top_parts(text: str) -> list[str]:
    """``text`` split at the ``"; "`` outside parentheses (a reason's own parts)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth -= 1
        elif depth == 0 and text.startswith("; ", i):
            out.append(text[start:i])
            start = i + 2
    out.append(text[start:])
    return [p for p in out if p]


def _other_years(out: pd.DataFrame, long: pd.DataFrame, decisive: pd.Series) -> pd.Series:
    """``reason`` plus what other milestones say of an open school, each part once.

    A school kept under 30 % of its seats in 2035 only, or a new village site below its level's
    minimum size from 2030 on, says so with that year, though its decisive reason is another
    year's (or the target year's).
    """
    is_open = long[long["is_open"] & long["reason"].fillna("").astype(bool)]
    if is_open.empty:
        return out["reason"]
    parts = is_open.assign(part=is_open["reason"].astype(str).map(_top_parts)).explode("part")
    parts = parts[parts["part"].str.len() > 0]
    first = parts.groupby([*KEYS, "part"], sort=False)["year"].min().reset_index()
    first = first.join(out["reason"].astype(str).rename("own"), on=KEYS, how="inner")
    first = first.join(decisive.rename("when"), on=KEYS)
    new = np.array([p not in own for p, own in zip(first["part"], first["own"], strict=True)],
                   dtype=bool)
    # not before the school's own decision (a site not yet built)
    first = first[new & ~(first["year"] < first["when"])]
    if first.empty:
        return out["reason"]
    first = first.sort_values([*KEYS, "year"], kind="stable")
    per_year = first.groupby([*KEYS, "year"], sort=False)["part"].agg("; ".join)
    per_year = per_year.index.get_level_values("year").astype(str) + "年: " + per_year
    add = per_year.groupby(level=KEYS, sort=False).agg("; ".join).reindex(out.index)
    base = out["reason"].fillna("").astype(str)
    return base.where(add.isna(), np.where(base == "", add.fillna(""),
                                           base + "; " + add.fillna("")))


def _target_view(out: pd.DataFrame, target: pd.DataFrame, long: pd.DataFrame) -> None:
    """Target-year columns and lasting totals (in place)."""
    t = target.reindex(out.index)
    out["demand_target"] = t["demand_target"].fillna(0.0).to_numpy()
    open_t = t["action"].notna() & ~t["action"].isin(_CLOSED)
    out["capacity_after"] = np.where(open_t, t["capacity_after"].fillna(0.0), 0.0)
    out["boarders"] = t["boarders"].fillna(0.0).to_numpy()
    out["utilization"] = np.where(out["capacity_after"] > 0,
                                  out["demand_target"] / out["capacity_after"].where(
                                      out["capacity_after"] > 0, 1.0), np.nan)
    last = long.groupby(KEYS)[["seats_added", "beds_added"]].max()
    out["seats_added"] = np.round(last["seats_added"].reindex(out.index).fillna(0)).astype(
        np.int64)
    out["beds_added"] = np.round(last["beds_added"].reindex(out.index).fillna(0)).astype(np.int64)
    out["capacity_after"] = np.round(out["capacity_after"]).astype(np.int64)
    out["capacity_base"] = np.round(out["capacity_base"].astype(float)).astype(np.int64)
    out["boarders"] = np.round(out["boarders"]).astype(np.int64)


def _per_year(out: pd.DataFrame, long: pd.DataFrame, years: list[int]) -> None:
    """``capacity_<y>``, ``enrollment_<y>``, ``temporary_<y>`` columns (in place)."""
    long = long.assign(cap_open=np.where(long["is_open"], long["capacity_after"], 0.0))
    site = out["is_site"].astype(bool).to_numpy()
    for col, src in (("capacity", "cap_open"), ("enrollment", "demand_target"),
                     ("temporary", "temporary")):
        wide = long.pivot_table(index=KEYS, columns="year", values=src, aggfunc="sum")
        for y in years:
            vals = wide[y].reindex(out.index) if y in wide else pd.Series(np.nan, out.index)
            # a site not yet built has 0; a school not planned that year (vocational schools
            # are planned for the target year only) has no figure
            vals = vals.where(vals.notna() | ~site, 0.0)
            # whole seats: temporary seats are rounded up so they cover the pupils they serve
            whole = np.ceil(vals.to_numpy(dtype=float) - 1e-6) if col == "temporary" else \
                np.round(vals.to_numpy(dtype=float))
            out[f"{col}_{y}"] = pd.array(whole, dtype="Int64")


def staged_projects(schools_y: dict[int, pd.DataFrame], years: list[int],
                    p: LayoutParams) -> pd.DataFrame:
    """Projects by year: new sites, blocks added, beds added; capital at build prices (CNY)."""
    long = _long(schools_y).sort_values([*KEYS, "year"], kind="stable")
    g = long.groupby(KEYS)
    long["seats"] = g["seats_added"].diff().fillna(long["seats_added"]).clip(lower=0)
    beds_needed = g["beds_added"].cummax()
    long["beds"] = beds_needed.groupby([long[k] for k in KEYS]).diff().fillna(beds_needed)
    long["beds"] = long["beds"].clip(lower=0)
    pr = long[(long["seats"] > 0) | (long["beds"] > 0)].copy()
    first_site = pr["is_site"].astype(bool) & ~pr.duplicated(KEYS)
    pr["kind"] = np.where(first_site, "new", "expansion")
    per_seat = (pr["capital_per_seat"].fillna(p.costs.capital_per_seat).to_numpy(dtype=float)
                if "capital_per_seat" in pr else p.costs.capital_per_seat)
    pr["capital_cost"] = pr["seats"] * per_seat + pr["beds"] * p.costs.capital_per_bed
    pr = pr.sort_values(["year", "county_code", "school_id", "level"], kind="stable")
    pr["project_id"] = [f"P{i + 1:04d}" for i in range(len(pr))]
    for col in ("seats", "beds"):
        pr[col] = np.round(pr[col]).astype(np.int64)
    return pr.loc[:, list(PROJECT_COLUMNS)].reset_index(drop=True)


def timeline(schools_y: dict[int, pd.DataFrame], demand: pd.DataFrame, years: list[int],
             demand_p90: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per milestone, county and level: schools open, seats, demand, temporary and idle seats.

    ``demand`` holds ``county_code, level`` and the students per milestone ``s0, s1, ...``;
    ``demand_p90`` the same at the P90 of the forecast (NaN without it). Seats are the
    permanent seats of the open schools; idle seats those of them no pupil fills.
    """
    long = _long(schools_y)
    long = long[~long["action"].isin(_CLOSED)].assign(
        idle=lambda d: np.maximum(0.0, d["capacity_after"] - d["demand_target"]))
    net = long.groupby(["year", "county_code", "level"]).agg(
        schools_open=("school_id", "size"), seats=("capacity_after", "sum"),
        temporary_seats=("temporary", "sum"), idle_seats=("idle", "sum"))
    parts = []
    for t, y in enumerate(years):
        d50 = demand.groupby(["county_code", "level"])[f"s{t}"].sum().rename("demand_p50")
        frame = d50.to_frame()
        if demand_p90 is not None:
            frame["demand_p90"] = demand_p90.groupby(["county_code", "level"])[f"s{t}"].sum()
        parts.append(frame.assign(year=y).reset_index())
    dem = pd.concat(parts, ignore_index=True).set_index(["year", "county_code", "level"])
    out = net.join(dem, how="outer").reset_index()
    if "demand_p90" not in out:
        out["demand_p90"] = np.nan
    out[["schools_open", "seats", "temporary_seats", "idle_seats"]] = out[
        ["schools_open", "seats", "temporary_seats", "idle_seats"]].fillna(0)
    for col in ("schools_open", "seats", "temporary_seats", "idle_seats", "demand_p50",
                "demand_p90"):
        out[col] = np.round(out[col].astype(float)).astype("Int64")
    return out.loc[:, list(TIMELINE_COLUMNS)].sort_values(
        ["year", "county_code", "level"]).reset_index(drop=True)


_EARTH_M = 6_371_000.0


def staged_summary(schools: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """The figures a planner checks first, as rows ``metric, level, year, value``.

    * ``new_permanent_seats`` — seats built over the plan (new schools and blocks);
    * ``peak_net_need`` — over schools, the most pupils any milestone assigns beyond the seats
      the school has today (a new school: all its pupils), summed: the seats the plan could not
      do without if every school kept its catchment;
    * ``new_seats_idle_share`` (last milestone) — of the new permanent seats, the share left
      empty in the last milestone;
    * ``utilization_median`` (per level and milestone) — median pupils / seats of the open
      schools;
    * ``kept_under_30pct`` (per level and milestone) — kindergartens and primaries kept with
      under 30 % of their seats filled (each names its rule, with the year, in ``reason``);
    * ``new_near_closed`` (per level) — new schools within :data:`REUSE_RADIUS_M` of a school of
      the same level the plan closes: what a planner asks about first (each names the nearest
      idle building in its ``reason``);
    * ``seats_added_near_closed`` (per level) — seats built (new schools and expansions) within
      :data:`REUSE_RADIUS_M` of a school of the same level the plan closes.
    """
    s = schools[schools["level"] != "vocational"]
    enr = s[[f"enrollment_{y}" for y in years]].astype(float).fillna(0.0).to_numpy()
    cap = s[[f"capacity_{y}" for y in years]].astype(float).fillna(0.0).to_numpy()
    base = np.where(s["action"] == "new", 0.0, s["capacity_base"].astype(float))
    rows = [("new_permanent_seats", "all", years[-1], float(s["seats_added"].sum())),
            ("peak_net_need", "all", years[-1],
             float(np.maximum(0.0, enr.max(axis=1) - base).sum()))]
    added = s["seats_added"].astype(float).to_numpy()
    idle_new = np.minimum(added, np.maximum(0.0, cap[:, -1] - enr[:, -1]))
    rows.append(("new_seats_idle_share", "all", years[-1],
                 float(idle_new.sum() / added.sum()) if added.sum() > 0 else 0.0))
    for level, grp in s.groupby("level"):
        low = []
        for y in years:
            c = grp[f"capacity_{y}"].astype(float).fillna(0.0)
            e = grp[f"enrollment_{y}"].astype(float).fillna(0.0)
            u = (e / c)[c > 0]
            rows.append(("utilization_median", str(level), y,
                         float(u.median()) if len(u) else float("nan")))
            kept = (c > 0) & (grp["action"] != "new")
            low.append(("kept_under_30pct", str(level), y, float((kept & (e < 0.3 * c)).sum())))
        if level in ("kindergarten", "primary"):
            rows.extend(low)
        near = _near_closed(grp)
        rows.append(("new_near_closed", str(level), years[-1],
                     float((near & (grp["action"] == "new").to_numpy()).sum())))
        rows.append(("seats_added_near_closed", str(level), years[-1],
                     float(grp["seats_added"].astype(float).to_numpy()[near].sum())))
    return pd.DataFrame(rows, columns=["metric", "level", "year", "value"])


def _near_closed(grp: pd.DataFrame) -> np.ndarray:
    """Schools of one level that build seats near one of its closed schools (bool per row).

    Within :data:`REUSE_RADIUS_M`; a KD-tree on the unit sphere, so a province stays linear
    (a dense schools x closed matrix took 4 GB at 183 counties).
    """
    closed = grp["action"].isin(_CLOSED).to_numpy()
    ask = ~closed & ((grp["action"] == "new").to_numpy()
                     | (grp["seats_added"].astype(float).to_numpy() > 0))
    out = np.zeros(len(grp), dtype=bool)
    if not closed.any() or not ask.any():
        return out
    lon = np.radians(grp["lon"].to_numpy(dtype=float))
    lat = np.radians(grp["lat"].to_numpy(dtype=float))
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    chord = 2.0 * np.sin(REUSE_RADIUS_M / _EARTH_M / 2.0)
    dist, _ = cKDTree(xyz[closed]).query(xyz[ask], distance_upper_bound=chord)
    out[ask] = np.isfinite(dist)
    return out
