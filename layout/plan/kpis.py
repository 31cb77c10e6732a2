"""KPIs per county x level: schools, journeys, boarders, seats, utilisation, annual cost.

Definitions
-----------
* travel mean / p95: pupil-weighted over served demand (minutes, one way);
* share within standard: pupils served with a day journey within the band's day cap, over all
  pupils of the level (boarders and unserved pupils count as outside the standard);
* utilization: pupils / seats over the schools open after the plan;
* cost before: annual running cost of today's schools (fixed + per pupil) + transport and
  boarding of each pupil at today's nearest school of the level (the status-quo proxy);
* cost after: fixed cost of schools open + per-pupil cost of pupils served + transport and
  boarding + annualised capital of new seats and beds + annualised closure costs;
* cost per pupil: cost after / pupils served. All CNY per year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.plan.params import LayoutParams
from schoolsystem.schemas import KPI_COLUMNS


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Pupil-weighted quantile (the smallest value with cumulative weight >= q of the total)."""
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, q * cum[-1] - 1e-9)])


def _transport(km: pd.Series, boarding: pd.Series, students: pd.Series, p: LayoutParams) -> pd.Series:
    c = p.costs
    trips = np.where(boarding, 2 * c.boarding_weeks, 2 * c.school_days)
    return km.fillna(0.0) * trips * c.transport_per_km * students + np.where(
        boarding, c.boarding_cost * students, 0.0
    )


def compute_kpis(schools: pd.DataFrame, demand: pd.DataFrame, params: LayoutParams) -> pd.DataFrame:
    """KPI table per county x level.

    Parameters
    ----------
    schools : DataFrame
        Decision rows with county_code, level, is_site, open, load, capacity_after, seats_added,
        beds_added, boarders, fixed_cost, closed_cost.
    demand : DataFrame
        Demand rows with county_code, level, students, col (-1 unserved), minutes, km, boarding,
        day_cap, minutes0, boarding0, km0.
    params : LayoutParams
        Cost figures.

    """
    p = params
    annuity = p.costs.annuity
    per_student = {lv: p.levels.get(lv).per_student_cost for lv in schools["level"].unique()}
    d = demand.copy()
    d["served"] = d["col"] >= 0
    d["within"] = d["served"] & (d["minutes"] <= d["day_cap"] + 1e-9)
    d["t_after"] = np.where(d["served"], _transport(d["km"], d["boarding"], d["students"], p), 0.0)
    d["t_before"] = _transport(d["km0"], d["boarding0"], d["students"], p)
    s = schools.copy()
    s["existing"] = ~s["is_site"]
    s["fixed_before"] = np.where(s["existing"], s["fixed_cost"], 0.0)
    s["cost_open"] = np.where(s["open"], s["fixed_cost"], s["closed_cost"] * s["existing"])
    per_seat = (s["capital_per_seat"].fillna(p.costs.capital_per_seat)
                if "capital_per_seat" in s else p.costs.capital_per_seat)
    s["capital"] = (s["seats_added"] * per_seat
                    + s["beds_added"] * p.costs.capital_per_bed) * annuity
    s["seats_open"] = np.where(s["open"], s["capacity_after"], 0.0)
    s["load_open"] = np.where(s["open"], s["load"], 0.0)
    g_s = s.groupby(["county_code", "level"]).agg(
        schools_before=("existing", "sum"), schools_after=("open", "sum"),
        boarders=("boarders", "sum"), seats_added=("seats_added", "sum"),
        seats_open=("seats_open", "sum"), load_open=("load_open", "sum"),
        fixed_before=("fixed_before", "sum"), cost_open=("cost_open", "sum"),
        capital=("capital", "sum"),
    )
    rows = []
    for (county, level), grp in d.groupby(["county_code", "level"]):
        sv = grp[grp["served"]]
        w = sv["students"].to_numpy()
        total = grp["students"].sum()
        rows.append({
            "county_code": county, "level": level,
            "travel_mean_min": float(np.average(sv["minutes"], weights=w)) if w.sum() > 0 else np.nan,
            "travel_p95_min": weighted_quantile(sv["minutes"].to_numpy(), w, 0.95),
            "share_within_standard": float(grp.loc[grp["within"], "students"].sum() / total)
            if total > 0 else np.nan,
            "pupils": total, "served": sv["students"].sum(),
            "t_before": grp["t_before"].sum(), "t_after": grp["t_after"].sum(),
        })
    g_d = pd.DataFrame(rows).set_index(["county_code", "level"])
    k = g_s.join(g_d, how="outer").reset_index()
    k = k.fillna(dict.fromkeys(("schools_before", "schools_after", "boarders", "seats_added", "seats_open", "load_open", "fixed_before", "cost_open", "capital", "pupils", "served", "t_before", "t_after"), 0.0))
    ps = k["level"].map(per_student).fillna(0.0)
    k["cost_before"] = k["fixed_before"] + ps * k["pupils"] + k["t_before"]
    k["cost_after"] = k["cost_open"] + ps * k["served"] + k["t_after"] + k["capital"]
    k["cost_per_pupil"] = k["cost_after"] / k["served"].where(k["served"] > 0)
    k["utilization"] = k["load_open"] / k["seats_open"].where(k["seats_open"] > 0)
    for col in ("schools_before", "schools_after", "seats_added"):
        k[col] = k[col].astype(np.int64)
    k["boarders"] = np.round(k["boarders"]).astype(np.int64)
    return k.loc[:, list(KPI_COLUMNS)].sort_values(["county_code", "level"]).reset_index(drop=True)
