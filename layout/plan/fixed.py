"""The planner's own decisions (``layout.fixed``): applied to the models, checked, and priced.

Each entry names a school or candidate site (``id``, optionally one ``level``) and an action:

* ``keep`` — stays open (until ``year`` inclusive; no year: throughout);
* ``close`` — closed (from ``year``; no year: from the start);
* ``build`` — a candidate site opened (by ``year``: a project already under construction);
* ``exclude`` — a candidate site ruled out;
* ``no_boarding`` — the school may not take boarders (its boarding journeys are removed).

In a one-year plan an entry applies when its year covers the target year; in a staged plan it
fixes the milestones its year covers. Unknown ids and contradictory entries are errors naming
the entry. Each entry's price is the plan's cost with it minus the cost without it, re-solving
only the part of the county it touches (annual cost for a one-year plan, discounted cost over
the horizon for a staged plan).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from layout.errors import LayoutError
from layout.plan.model import CountyModel
from layout.plan.params import FixedDecision

FIXED_COLUMNS = ("entry", "id", "level", "action", "year", "county_code", "cost_with",
                 "cost_without", "price")
"""Columns of the priced fixed decisions (``fixed_decisions.csv``)."""

NEVER = 10_000
"""A year no plan reaches."""


def check_ids(fixed: Sequence[FixedDecision], facilities: pd.DataFrame) -> None:
    """Every entry names a school or site (and level) of the region, else a named error."""
    known = set(zip(facilities["fac_id"].astype(str), facilities["level"].astype(str),
                    strict=True))
    ids = {i for i, _ in known}
    sites = set(facilities.loc[facilities["is_site"], "fac_id"].astype(str))
    problems = []
    for k, e in enumerate(fixed):
        where = f"layout.fixed[{k}] (id {e.id!r}"
        if e.id not in ids:
            problems.append(f"{where}): not a school or candidate site of the region")
        elif e.level is not None and (e.id, e.level) not in known:
            problems.append(f"{where}): has no {e.level} level")
        elif e.action in ("build", "exclude") and e.id not in sites:
            problems.append(f"{where}): '{e.action}' applies to candidate sites only")
        elif e.action in ("keep", "close", "no_boarding") and e.id in sites:
            problems.append(f"{where}): '{e.action}' applies to existing schools only")
        elif set(facilities.loc[facilities["fac_id"].astype(str) == e.id, "level"]) == {
                "vocational"}:
            problems.append(f"{where}): vocational schools are integrated city-wide "
                            "(Measure 6); fixed decisions apply to the other levels")
    if problems:
        raise LayoutError("; ".join(problems))


def _rows(fac: pd.DataFrame, e: FixedDecision) -> np.ndarray:
    hit = fac["fac_id"].astype(str).to_numpy() == e.id
    if e.level is not None:
        hit &= fac["level"].astype(str).to_numpy() == e.level
    return hit


def schedule(fac: pd.DataFrame, fixed: Sequence[FixedDecision],
             years: Sequence[int]) -> np.ndarray:
    """Fixings per period and facility: -1 free, 0 closed, 1 open; shape (T, m)."""
    out = np.full((len(years), len(fac)), -1, dtype=np.int64)
    y = np.asarray(years)[:, None]
    for e in fixed:
        hit = _rows(fac, e)[None, :]
        if e.action == "keep":
            out = np.where(hit & (y <= (e.year or NEVER)), 1, out)
        elif e.action == "close":
            out = np.where(hit & (y >= (e.year or 0)), 0, out)
        elif e.action == "build":
            out = np.where(hit & (y >= (e.year or 0)), 1, out)
        elif e.action == "exclude":
            out = np.where(hit, 0, out)
    return out


def apply(cm: CountyModel, fixed: Sequence[FixedDecision]) -> CountyModel:
    """``cm`` with the planner's entries marked on its facilities.

    Boarding journeys of ``no_boarding`` schools are removed; a school or site the planner keeps
    or builds is exempt from the minimum size (``exempt_why`` = ``planner``); every named
    facility gets a ``fixed_note`` for its reason. Open/closed fixings are applied by
    :func:`one_year_flags` or, in a staged plan, :func:`schedule`.
    """
    if not fixed:
        return cm
    fac = cm.facilities.copy()
    fac["fixed_note"] = ""
    cut = np.zeros(len(fac), dtype=bool)
    for k, e in enumerate(fixed):
        hit = _rows(fac, e)
        if e.action == "no_boarding":
            cut |= hit
        if e.action in ("keep", "build"):
            fac.loc[hit, "exempt"] = True
            fac.loc[hit, "exempt_why"] = "planner"
        when = f" {e.year}" if e.year else ""
        fac.loc[hit, "fixed_note"] = (fac.loc[hit, "fixed_note"] + f"规划既定 fixed[{k}]: "
                                      f"{e.action}{when}; ")
    fac["fixed_note"] = fac["fixed_note"].str.rstrip("; ")
    pairs = cm.pairs
    if cut.any():
        drop = cut[pairs["col"].to_numpy()] & pairs["boarding"].to_numpy(dtype=bool)
        pairs = pairs[~drop].reset_index(drop=True)
    return dataclasses.replace(cm, facilities=fac, pairs=pairs)


def one_year_flags(cm: CountyModel, fixed: Sequence[FixedDecision],
                   year: int) -> CountyModel:
    """``cm`` with the entries covering ``year`` as forced open / closed facilities."""
    cm = apply(cm, fixed)
    fix = schedule(cm.facilities, fixed, [year])[0]
    pairs = cm.pairs
    if "transition" in pairs:  # only a school the planner keeps serves pupils it would lose
        trans = pairs["transition"].to_numpy(dtype=bool)
        pairs = pairs[~trans | (fix[pairs["col"].to_numpy()] == 1)].reset_index(drop=True)
    if (fix < 0).all():
        return dataclasses.replace(cm, pairs=pairs)
    fac = cm.facilities.copy()
    # the planner's decision wins over the model's own rules (e.g. the township kindergarten)
    fac["force_open"] = (fac["force_open"].to_numpy(dtype=bool) & (fix != 0)) | (fix == 1)
    fac["force_closed"] = fac["force_closed"].to_numpy(dtype=bool) | (fix == 0)
    return dataclasses.replace(cm, facilities=fac, pairs=pairs)


def touches(cm: CountyModel, e: FixedDecision) -> bool:
    """Whether entry ``e`` names a facility of county model ``cm``."""
    return bool(_rows(cm.facilities, e).any())


def outside_cost(cm: CountyModel, cols: np.ndarray) -> float:
    """Cost of facilities no demand may reach (no part holds them): run if forced, else closed."""
    fac = cm.facilities.iloc[cols]
    forced = fac["force_open"].to_numpy(dtype=bool)
    return float(np.where(forced, fac["fixed_cost"], fac["closed_cost"]).sum())


def price_entries(
    fixed: Sequence[FixedDecision], models: Sequence[CountyModel],
    part_cost: Callable[[CountyModel, list[FixedDecision], np.ndarray], float],
) -> pd.DataFrame:
    """Price of each entry: cost of its part with every entry minus without this one.

    ``part_cost(cm, entries, facilities_of_entry)`` solves the part of ``cm`` that holds the
    entry's facilities under ``entries`` and returns its cost.
    """
    rows: list[dict[str, Any]] = []
    for k, e in enumerate(fixed):
        cm = next((m for m in models if touches(m, e)), None)
        if cm is None:  # its county was not planned (left out, or not among --counties)
            continue
        cols = np.flatnonzero(_rows(cm.facilities, e))
        others = [x for j, x in enumerate(fixed) if j != k]
        with_ = part_cost(cm, list(fixed), cols)
        without = part_cost(cm, others, cols)
        rows.append({"entry": k, "id": e.id, "level": e.level or "", "action": e.action,
                     "year": e.year, "county_code": cm.county_code, "cost_with": with_,
                     "cost_without": without, "price": with_ - without})
    return pd.DataFrame(rows, columns=list(FIXED_COLUMNS))
