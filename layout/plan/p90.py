"""The staged plan checked at the P90 of the forecast: what the high end would need.

The plan is decided on the median (P50) demand. At each milestone, its network (schools open,
blocks built by then) is kept as decided and the P90 demand is assigned to it, with temporary
seats allowed up to each school's limit (``temporary.max_share``) and no new building: the
temporary seats used and the pupils left unserved say how much of the high end the plan absorbs
with temporary measures alone. The check is a transport problem (a village's pupils may be split
between schools, as a planner would place the extra pupils of a high year), so its unserved
count is the least any assignment to the plan's network leaves; it was a single-source
assignment MIP per county, part and milestone, and then took longer than the plan itself. It is
one transport problem per county and milestone (its parts side by side: they share no village
and no school). Pupils with no permitted school within their journey cap at all are the
rule-based exceptions already listed in ``unserved``; pupils whose every permitted school is
closed by the milestone are unserved at the P90 too; the rest would need more than temporary
measures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.core import FacilityLocation
from layout.plan.model import CountyModel
from layout.plan.params import LayoutParams
from layout.plan.staged_model import StagedSolution, temp_limits

P90_COLUMNS = ("year", "county_code", "level", "demand_p90", "seats", "temporary_seats_p90",
               "unserved_p90", "unserved_p90_no_school")
"""Columns of the P90 check table (``p90_check.csv``)."""


def check_county(cm: CountyModel, sol: StagedSolution, parts: list[np.ndarray],
                 s90: np.ndarray, years: list[int], params: LayoutParams,
                 seed: int = 0) -> pd.DataFrame:
    """P90 check of one county (``parts``: facility sets of its independent parts).

    Returns rows of :data:`P90_COLUMNS` per milestone and level.
    """
    fac, pairs = cm.facilities, cm.pairs
    rows, cols = pairs["row"].to_numpy(), pairs["col"].to_numpy()
    per_pupil = pairs["cost"].to_numpy() / np.maximum(
        cm.demand["students"].to_numpy(dtype=float), 1e-9)[rows]
    has_pair = np.bincount(rows, minlength=len(cm.demand)) > 0
    cap0 = fac["capacity"].to_numpy(dtype=float)
    temp_max, share = temp_limits(fac, params)  # as in the staged model
    part_of = np.full(len(fac), -1)
    for k, f_idx in enumerate(parts):
        part_of[f_idx] = k
    levels = cm.demand["level"].to_numpy()
    in_part = part_of[cols] >= 0
    in_part_row = np.bincount(rows[in_part], minlength=len(cm.demand)) > 0
    out = []
    for t, year in enumerate(years):
        per = sol.periods[t]
        seats = cap0 + per.blocks_added * fac["block"].to_numpy()
        open_ = per.open.astype(bool)
        # as in the staged model: never more than that share of the seats it has then
        temp_t = (np.zeros(len(fac)) if temp_max is None or share is None
                  else np.minimum(temp_max, np.floor(share * seats)))
        temp_used = np.zeros(len(fac))
        unserved = np.where(has_pair, 0.0, s90[t])
        # every part at once: the parts share no row and no school, so one transport problem of
        # the county is their problems side by side (one solve per milestone, not per part)
        sel = in_part & open_[cols]
        closed = in_part_row & (np.bincount(rows[sel], minlength=len(cm.demand)) == 0)
        unserved[closed] = s90[t][closed]  # every school the row may attend is closed by then
        if sel.any():
            r_glob, r_loc = np.unique(rows[sel], return_inverse=True)
            f_glob, c_loc = np.unique(cols[sel], return_inverse=True)
            d = s90[t][r_glob]
            model = FacilityLocation.from_pairs(
                r_loc, c_loc, per_pupil[sel] * d[r_loc], d, f_glob.size,
                fixed_cost=np.zeros(f_glob.size), capacity=seats[f_glob] + temp_t[f_glob],
                force_open=np.ones(f_glob.size, dtype=bool),
                unserved_cost=d * params.costs.unserved_cost)
            model.solve(time_limit=30.0, threads=1, seed=seed, solver="highspy",
                        gap=params.mip_gap, node_limit=params.mip_node_limit, method="direct")
            temp_used[f_glob] = np.maximum(0.0, model.load - seats[f_glob])
            unserved[r_glob] = d * model.unserved
        out.extend(_level_rows(cm, year, levels, s90[t], seats, open_, temp_used, unserved,
                               has_pair))
    return pd.DataFrame(out, columns=list(P90_COLUMNS))


def _level_rows(cm: CountyModel, year: int, levels: np.ndarray, demand: np.ndarray,
                seats: np.ndarray, open_: np.ndarray, temp_used: np.ndarray,
                unserved: np.ndarray, has_pair: np.ndarray) -> list[dict[str, object]]:
    fac_level = cm.facilities["level"].to_numpy()
    return [{
        "year": year, "county_code": cm.county_code, "level": level,
        "demand_p90": demand[levels == level].sum(),
        "seats": seats[open_ & (fac_level == level)].sum(),
        "temporary_seats_p90": temp_used[fac_level == level].sum(),
        "unserved_p90": unserved[levels == level].sum(),
        "unserved_p90_no_school": demand[(levels == level) & ~has_pair].sum(),
    } for level in sorted(set(levels))]


def round_table(table: pd.DataFrame) -> pd.DataFrame:
    """Whole pupils and seats where people read them."""
    out = table.copy()
    for col in P90_COLUMNS[3:]:
        out[col] = np.round(out[col].astype(float)).astype(np.int64)
    return out.sort_values(["year", "county_code", "level"]).reset_index(drop=True)
