"""Build and solve the layout model of one county (all compulsory/preschool/senior levels jointly).

Facilities are (school, level) and (candidate site, level) pairs of the county; demand rows are
(village, grade band) parts. Rules (see :mod:`layout.plan.params` for the numbers):

* **Pairs** come from radius queries (:mod:`layout.plan.candidates`) within the band's longest
  allowed journey; a pair beyond the band's day cap is a *boarding* pair (only bands that board).
* **Hosts** per band: kindergarten — any kindergarten; primary (both bands) — ``primary`` and
  ``nine_year`` schools that stand in a township seat, central town or the county seat
  (``site_class``, :func:`layout.plan.frames.site_classes`) and new sites; junior — schools and
  sites in county-seat townships and central towns (or proposed zones); senior — county-seat
  townships only. A demand row with at least one host pair may use host pairs only; a row with
  none may use the other schools of its level (village schools, teaching points, junior or
  senior schools elsewhere): a *stated exception*, e.g. the lower-grade small school kept where
  no township school lies within 30 minutes. New sites are only ever hosts.
* **Expansion** (class-size blocks) only at host schools — the boarding schools resources are
  concentrated in — and at kindergartens; new sites are built in blocks up to their size.
* **Village sites** (:mod:`layout.plan.village_sites`): kindergarten and grades 1-3 rows that no
  school or site of the level reaches within the cap get generated village kindergartens /
  lower-grade teaching points (hosts, grades 1-3 only for the teaching points).
* **Minimum size** per level if open, except forced-open schools, schools that are the only
  option of some demand row, exception-only schools, village sites, and existing schools whose
  whole reachable demand is below the minimum (no larger catchment possible); ``exempt_why``.
* **Campuses** whose levels are both hosts open or close together (one link group) and share one
  fixed cost (the larger of the two levels' costs, split between them).
* Each township keeps its largest public kindergarten (forced open).
* Unserved demand costs ``costs.unserved_cost`` per pupil, so a plan is always produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from layout.core import FacilityLocation
from layout.core.components import pair_components
from layout.plan.candidates import radius_pairs
from layout.plan.params import LayoutParams
from layout.plan.travel import RoadNetwork, circuity, speed_mpm
from layout.plan.village_sites import add_village_sites
from layout.plan.zones import Zones
from schoolsystem.vocabulary import BAND_LEVEL, GRADE_BANDS, PRIMARY_HOST_TYPES

FACILITY_MODEL_COLUMNS: dict[str, str] = {
    "fac_id": "school or site id", "level": "level of this row (one row per school and level)",
    "school_type": "school type (schoolsystem.vocabulary.SCHOOL_TYPES or 'new')",
    "site_class": "county_seat / central_town / township_seat / village (SITE_CLASSES)",
    "township_code": "township", "ownership": "public / private", "x": "projected x (m)",
    "y": "projected y (m)", "is_site": "candidate site (not an existing school)",
    "village_site": "generated village site", "capacity": "seats today",
    "max_capacity": "largest size of a site", "beds": "boarding beds today",
    "host": "may host the band's pupils under the layout principle",
    "fixed_cost": "annual running cost if open (campus share)",
    "closed_cost": "annualised closure cost if closed", "block": "seats per expansion block",
    "capital_per_seat": "capital per seat", "block_cost": "annualised cost of one block",
    "max_blocks": "most blocks that may be added", "force_open": "must stay open",
    "exception_only": "used only by rows without a host (stated exception)",
    "force_closed": "must stay closed (a planner's fixed decision)",
    "min_load": "minimum size if open", "exempt": "exempt from the minimum size",
    "exempt_why": "why exempt (village_site, township_kindergarten, sole_option, catchment)",
    "link": "campus link group (-1: none)",
}
"""Columns :func:`build_county` guarantees on :attr:`CountyModel.facilities` (read by
:mod:`layout.plan.assemble`, :mod:`layout.plan.decisions`, :mod:`layout.plan.kpis`)."""

DEMAND_MODEL_COLUMNS: dict[str, str] = {
    "demand_id": "village id", "level": "level", "grade_band": "grade band",
    "students": "pupils of this part", "urban": "urban village", "x": "projected x (m)",
    "y": "projected y (m)", "lon": "WGS84 longitude", "lat": "WGS84 latitude",
    "speed": "travel speed (m/min)", "day_cap": "longest day journey (min)",
    "max_cap": "longest journey incl. boarding (min)",
    "reach_cap": "longest journey to an existing school (min; max_cap or the band's stretch)",
}
"""Columns :func:`build_county` guarantees on :attr:`CountyModel.demand`."""

PAIR_COLUMNS: tuple[str, ...] = ("row", "col", "minutes", "km", "boarding", "host", "transition",
                                  "cost")
"""Columns of :attr:`CountyModel.pairs`: permitted (demand row, facility) journeys and costs."""


@dataclass(frozen=True)
class CountyModel:
    """The built model of one county (inputs of its solve; never changed after construction).

    Attributes
    ----------
    county_code : str
    facilities : DataFrame
        One row per facility (index = facility number), at least :data:`FACILITY_MODEL_COLUMNS`.
    demand : DataFrame
        One row per demand part (index = demand number), at least :data:`DEMAND_MODEL_COLUMNS`.
    pairs : DataFrame
        :data:`PAIR_COLUMNS`.
    zones : Zones
    circuity : float
        Route length / straight-line distance used for the county (1 with a road network).

    """

    county_code: str
    facilities: pd.DataFrame
    demand: pd.DataFrame
    pairs: pd.DataFrame
    zones: Zones
    circuity: float = 1.0

    def __post_init__(self) -> None:
        """Check the stated column contract (a missing column is a programming error)."""
        for what, frame, cols in (("facilities", self.facilities, FACILITY_MODEL_COLUMNS),
                                  ("demand", self.demand, DEMAND_MODEL_COLUMNS),
                                  ("pairs", self.pairs, PAIR_COLUMNS)):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise RuntimeError(f"CountyModel {self.county_code}.{what} lacks {missing}")


def split_demand(demand: pd.DataFrame, max_students: int) -> pd.DataFrame:
    """Split rows above ``max_students`` into equal parts (each part is assigned whole)."""
    d = demand[demand["students"] > 0].copy()
    parts = np.maximum(1, np.ceil(d["students"] / max_students)).astype(int)
    d = d.loc[d.index.repeat(parts)].copy()
    d["part"] = d.groupby(level=0).cumcount()
    d["students"] = d["students"] / parts.loc[d.index]
    return d.reset_index(drop=True)


def _host(fac: pd.DataFrame, band: str, seat: set[str], zones: Zones) -> np.ndarray:
    if band == "kindergarten":
        return np.ones(len(fac), dtype=bool)
    if band in ("primary_lower", "primary_upper"):
        # township schools by type *and* place: a nine-year school out in a village is not one
        return (fac["school_type"].isin(PRIMARY_HOST_TYPES)
                & ((fac["site_class"] != "village") | fac["is_site"])).to_numpy()
    if band == "junior":
        return fac["township_code"].isin(zones.townships).to_numpy()
    return fac["township_code"].isin(seat).to_numpy()


def build_county(
    county_code: str, facilities: pd.DataFrame, demand: pd.DataFrame, townships: pd.DataFrame,
    terrain: str, zones: Zones, params: LayoutParams, roads: RoadNetwork | None = None,
    transition: bool = False,
) -> CountyModel:
    """Build the model of one county (no solving).

    Parameters
    ----------
    county_code : str
        County being built.
    facilities : DataFrame
        The county's rows of :attr:`Frames.facilities` (vocational excluded).
    demand : DataFrame
        The county's demand rows (already split into parts), vocational excluded.
    townships : DataFrame
        The county's townships.
    terrain : str
        County terrain code (circuity factor).
    zones : Zones
        Junior host townships.
    params : LayoutParams
        Rules and costs.
    roads : RoadNetwork, optional
        User road network replacing straight lines x circuity.
    transition : bool
        Staged plan: rows may also keep using existing non-host schools (see
        :func:`_band_pairs`).

    """
    fac = facilities.reset_index(drop=True).copy()
    dem = demand.reset_index(drop=True).copy()
    seat = set(townships.loc[townships["is_county_seat"], "township_code"])
    circ = float(circuity([terrain], params.travel)[0]) if roads is None else 1.0
    pairs = _band_pairs(fac, dem, seat, zones, params, circ, roads, transition)
    fac, dem, pairs = add_village_sites(fac, dem, pairs, params, circ, roads)
    pairs["cost"] = _pair_costs(dem, pairs, params)
    _facility_costs(fac, params)
    _exemptions(fac, dem, pairs)
    _campus_links(fac)
    return CountyModel(county_code, fac, dem, pairs, zones, circ)


def _band_pairs(
    fac: pd.DataFrame, dem: pd.DataFrame, seat: set[str], zones: Zones, params: LayoutParams,
    circ: float, roads: RoadNetwork | None, transition: bool = False,
) -> pd.DataFrame:
    """Permitted (demand row, facility) journeys per grade band; sets the journey columns.

    Adds ``speed``, ``day_cap``, ``max_cap``, ``reach_cap`` to ``dem`` and ``host`` to ``fac``
    (in place).
    A row with no school or site within its cap may use existing schools up to the band's
    stretch (``stretch_cap_*_min``; a day journey beyond the standard, not boarding).
    With ``transition`` (the staged plan), a row that has a host may also keep using existing
    non-host schools until the plan closes them (pair column ``transition``): the pupils of a
    village junior section stay there while the central school would need new seats for a
    passing peak. Hosts and other schools each keep their ``max_candidates`` nearest.
    """
    dem[["speed", "day_cap", "max_cap", "reach_cap"]] = np.nan
    fac_xy = fac[["x", "y"]].to_numpy()
    pair_parts = []
    fac["host"] = False
    for band in GRADE_BANDS:
        level = BAND_LEVEL[band]
        rules = params.bands.get(band)
        d_idx = np.flatnonzero((dem["grade_band"] == band).to_numpy())
        f_idx = np.flatnonzero((fac["level"] == level).to_numpy())
        if d_idx.size == 0:
            continue
        urban = dem["urban"].to_numpy()[d_idx]
        speed = speed_mpm(np.where(urban, rules.mode_urban, rules.mode_rural), params.travel)
        day_cap = np.where(urban, rules.day_cap_urban_min, rules.day_cap_rural_min)
        max_cap = np.maximum(day_cap, rules.boarding_cap_min)
        dem.loc[d_idx, "speed"] = speed
        dem.loc[d_idx, "day_cap"] = day_cap
        dem.loc[d_idx, "max_cap"] = max_cap
        stretch = np.where(urban, rules.stretch_cap_urban_min, rules.stretch_cap_rural_min)
        reach = np.maximum(max_cap, stretch)
        dem.loc[d_idx, "reach_cap"] = reach
        if f_idx.size == 0:
            continue
        host = _host(fac.iloc[f_idx], band, seat, zones)
        fac.loc[f_idx[host], "host"] = True
        xy = dem[["x", "y"]].to_numpy()[d_idx]
        r, c, dist = radius_pairs(xy, fac_xy[f_idx], reach * speed / circ)
        if roads is not None and r.size:
            dist = roads.route_m(xy, fac_xy[f_idx], r, c)
        mins = dist * circ / speed[r]
        ok = np.isfinite(mins) & (mins <= reach[r])
        r, c, mins, dist = r[ok], c[ok], mins[ok], dist[ok]
        # Beyond the cap only where nothing lies within it, and only to existing schools.
        within = mins <= max_cap[r]
        has_within = np.bincount(r[within], minlength=d_idx.size) > 0
        existing = ~fac["is_site"].to_numpy(dtype=bool)[f_idx]
        ok = within | (~has_within[r] & existing[c])
        r, c, mins, dist = r[ok], c[ok], mins[ok], dist[ok]
        # Sites are hosts or nothing; a row with a host pair keeps host pairs only.
        site = fac["is_site"].to_numpy()[f_idx][c]
        has_host = np.bincount(r, weights=host[c], minlength=d_idx.size) > 0
        keep = (host[c] == has_host[r]) & ~(site & ~host[c])
        trans = np.zeros(r.size, dtype=bool)
        if transition:
            trans = ~host[c] & has_host[r] & ~site
            keep |= trans
        r, c, mins, dist, trans = r[keep], c[keep], mins[keep], dist[keep], trans[keep]
        # Keep each row's nearest ``max_candidates`` schools of each kind (pairs sorted by row).
        order = np.lexsort((c, mins, trans, r))
        r, c, mins, dist, trans = r[order], c[order], mins[order], dist[order], trans[order]
        group = r * 2 + trans
        start = np.searchsorted(group, group, side="left")
        near = (np.arange(r.size) - start) < params.max_candidates
        r, c, mins, dist, trans = r[near], c[near], mins[near], dist[near], trans[near]
        pair_parts.append(pd.DataFrame({
            "row": d_idx[r], "col": f_idx[c], "minutes": mins, "km": dist * circ / 1000.0,
            "boarding": (mins > day_cap[r]) & rules.boards, "host": host[c],
            "transition": trans,
        }))
    pairs = (pd.concat(pair_parts, ignore_index=True) if pair_parts else pd.DataFrame(
        {"row": [], "col": [], "minutes": [], "km": [], "boarding": [], "host": [],
         "transition": []}))
    return pairs.astype({"row": "int64", "col": "int64", "boarding": bool, "host": bool,
                         "transition": bool})


def _pair_costs(dem: pd.DataFrame, pairs: pd.DataFrame, params: LayoutParams) -> np.ndarray:
    """Annual transport and boarding cost of each pair (students x per-pupil cost)."""
    costs = params.costs
    students = dem["students"].to_numpy()[pairs["row"].to_numpy()]
    trips = np.where(pairs["boarding"], 2 * costs.boarding_weeks, 2 * costs.school_days)
    per_pupil = pairs["km"].to_numpy() * trips * costs.transport_per_km + np.where(
        pairs["boarding"], costs.boarding_cost + costs.capital_per_bed * costs.annuity, 0.0
    )
    return np.asarray(students * per_pupil, dtype=float)


def _facility_costs(fac: pd.DataFrame, params: LayoutParams) -> None:
    """Running, closure and expansion costs and expansion limits per facility (in place)."""
    annuity = params.costs.annuity
    lv = {name: params.levels.get(name) for name in fac["level"].unique()}
    fac["fixed_cost"] = fac["level"].map(lambda x: lv[x].fixed_cost).astype(float)
    fac["closed_cost"] = np.where(
        fac["is_site"], 0.0, fac["level"].map(lambda x: lv[x].closure_cost).astype(float) * annuity
    )
    fac["block"] = fac["level"].map(lambda x: lv[x].class_size).astype(float)
    fac["capital_per_seat"] = params.costs.capital_per_seat
    vs = fac["village_site"].to_numpy(dtype=bool)
    if vs.any():  # generated village sites: their own (smaller) sizes and costs
        for col, src in (("fixed_cost", "vs_fixed_cost"), ("block", "vs_block"),
                         ("capital_per_seat", "vs_capital")):
            fac.loc[vs, col] = fac.loc[vs, src].astype(float)
    fac["block_cost"] = fac["block"] * fac["capital_per_seat"] * annuity
    lvl_blocks = fac["level"].map(lambda x: lv[x].max_blocks).astype(int)
    site_blocks = np.floor(fac["max_capacity"] / fac["block"]).astype(int)
    can_expand = fac["host"] | (fac["level"] == "kindergarten")
    fac["max_blocks"] = np.where(
        fac["is_site"], site_blocks, np.where(can_expand, lvl_blocks, 0)
    )
    fac["min_load"] = fac["level"].map(lambda x: lv[x].min_size).astype(float)


def _exemptions(fac: pd.DataFrame, dem: pd.DataFrame, pairs: pd.DataFrame) -> None:
    """Forced-open kindergartens and exemptions from the minimum size, with why (in place)."""
    # Kindergarten per township: the largest public one is kept.
    kg = fac[(fac["level"] == "kindergarten") & ~fac["is_site"] & (fac["ownership"] == "public")]
    kg = kg.sort_values(["township_code", "capacity", "fac_id"], ascending=[True, False, True])
    fac["force_open"] = False
    fac["force_closed"] = False
    fac.loc[kg.drop_duplicates("township_code").index, "force_open"] = True
    # transition pairs (staged plan) neither make a school a row's sole option nor an
    # exception: such a school keeps the minimum size
    rule = pairs[~pairs["transition"]] if "transition" in pairs else pairs
    n_opts = rule.groupby("row")["col"].transform("size")
    sole = set(rule.loc[n_opts == 1, "col"])
    used_as_host = set(rule.loc[rule["host"], "col"])
    fac["exception_only"] = ~fac.index.isin(used_as_host) & fac.index.isin(set(rule["col"]))
    # An existing school whose whole reachable demand is below its minimum size can never meet
    # it: exempt (no larger catchment possible) rather than leave its pupils unserved.
    students = dem["students"].to_numpy()[pairs["row"].to_numpy()]
    reach = np.bincount(pairs["col"].to_numpy(), weights=students, minlength=len(fac))
    small_reach = (reach < fac["min_load"].to_numpy() - 1e-9) & ~fac["is_site"].to_numpy()
    vs = fac["village_site"].to_numpy(dtype=bool)
    fac["exempt"] = (fac["force_open"] | fac.index.isin(sole) | fac["exception_only"]
                     | small_reach | vs)
    fac["exempt_why"] = np.select(
        [vs, fac["force_open"].to_numpy(), fac.index.isin(sole) | fac["exception_only"],
         small_reach], ["village_site", "township_kindergarten", "sole_option", "catchment"], "")


def _campus_links(fac: pd.DataFrame) -> None:
    """Campuses whose levels are both hosts open or close as one and share the fixed cost."""
    fac["link"] = -1
    existing = fac[~fac["is_site"] & fac["host"]]
    multi = existing.groupby("fac_id")["level"].transform("size") > 1
    for gid, (_, grp) in enumerate(existing[multi].groupby("fac_id", sort=True)):
        fac.loc[grp.index, "link"] = gid
        fac.loc[grp.index, "fixed_cost"] = grp["fixed_cost"].max() / len(grp)


def subproblems(cm: CountyModel, small_pairs: int = 400, batch_pairs: int = 3000) -> list[np.ndarray]:
    """Facility sets of the independent sub-problems of ``cm`` (sorted facility indices).

    Components of the pair graph (:func:`layout.core.components.pair_components`: a row links
    the facilities it may use, a link group its campuses) never interact. Components with fewer
    than ``small_pairs`` pairs are batched together (in order) up to ``batch_pairs`` pairs.
    Facilities in a component without any pair are left out.
    """
    cols = cm.pairs["col"].to_numpy()
    active, r_loc = np.unique(cm.pairs["row"].to_numpy(), return_inverse=True)
    _, fac_label = pair_components(r_loc, cols, active.size, len(cm.facilities),
                                   cm.facilities["link"].to_numpy())
    size = np.bincount(fac_label[cols], minlength=len(cm.facilities))
    out: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    for lab in np.flatnonzero(size):  # labels follow the first facility: deterministic order
        members = np.flatnonzero(fac_label == lab)
        if size[lab] >= small_pairs:
            out.append(members)
            continue
        batch.append(members)
        if size[np.unique(fac_label[np.concatenate(batch)])].sum() >= batch_pairs:
            out.append(np.sort(np.concatenate(batch)))
            batch = []
    if batch:
        out.append(np.sort(np.concatenate(batch)))
    return out


@dataclass
class SubProblem:
    """One independent sub-problem of a county: a model on a subset of facilities and rows.

    Attributes
    ----------
    county_code, name : str
        County and sub-problem name (``"<county>/<levels>[#k]"``).
    facilities, rows : ndarray of int
        County facility and demand indices of the model's facilities and demand points.
    model : FacilityLocation
        The model (solved by :func:`solve_subproblem`).
    hint : ndarray of bool
        Facilities open in the warm start (the existing schools).

    """

    county_code: str
    name: str
    facilities: np.ndarray
    rows: np.ndarray
    model: FacilityLocation
    hint: np.ndarray

    @property
    def size(self) -> int:
        """Number of pairs of the model."""
        return int(self.model.data.rows.size)

    def refine(self, **solve: Any) -> None:
        """Nothing after the solve (a one-year sub-problem has no rule read from its plan)."""


def make_subproblems(cm: CountyModel, params: LayoutParams) -> list[SubProblem]:
    """Models of the independent sub-problems of ``cm`` (single source, unserved at a penalty).

    Rows without any permitted school are unserved whatever the plan and are left out. Each
    facility's expansion blocks are capped by what the demand that may reach it could fill.
    """
    fac, pairs = cm.facilities, cm.pairs
    students = cm.demand["students"].to_numpy(dtype=float)
    by_col = pairs.groupby("col").indices
    out: list[SubProblem] = []
    names: dict[str, int] = {}
    parts = subproblems(cm)
    part_pairs = [np.sort(np.concatenate([by_col.get(j, np.zeros(0, dtype=np.int64))
                                          for j in f])) for f in parts]
    for f_idx, p_idx in zip(parts, part_pairs, strict=True):
        sub = pairs.iloc[p_idx]
        rows, r_loc = np.unique(sub["row"].to_numpy(), return_inverse=True)
        c_loc = np.searchsorted(f_idx, sub["col"].to_numpy())
        sf = fac.iloc[f_idx]
        dem_st = students[rows]
        reach = np.bincount(c_loc, weights=dem_st[r_loc], minlength=f_idx.size)
        block = sf["block"].to_numpy()
        need = np.ceil(np.maximum(0.0, reach - sf["capacity"].to_numpy(dtype=float)) / block)
        max_blocks = np.minimum(sf["max_blocks"].to_numpy(), need.astype(np.int64))
        model = FacilityLocation.from_pairs(
            r_loc, c_loc, sub["cost"].to_numpy(), dem_st, f_idx.size,
            fixed_cost=sf["fixed_cost"].to_numpy(), capacity=sf["capacity"].to_numpy(dtype=float),
            single_source=True, closed_cost=sf["closed_cost"].to_numpy(),
            force_open=sf["force_open"].to_numpy(), force_closed=sf["force_closed"].to_numpy(),
            link_group=sf["link"].to_numpy(),
            min_load=sf["min_load"].to_numpy(), min_load_exempt=sf["exempt"].to_numpy(),
            expansion_block=block, expansion_cost=sf["block_cost"].to_numpy(),
            max_blocks=max_blocks, unserved_cost=dem_st * params.costs.unserved_cost,
        )
        levels = "+".join(sorted(set(sf["level"])))
        k = names.get(levels, 0)
        names[levels] = k + 1
        name = f"{cm.county_code}/{levels}" + (f"#{k + 1}" if k else "")
        out.append(SubProblem(cm.county_code, name, f_idx, rows, model,
                              ~sf["is_site"].to_numpy()))
    return out


class Solvable(Protocol):
    """What the solve loop needs of a sub-problem (one-year or staged)."""

    county_code: str
    name: str
    model: Any
    hint: Any

    @property
    def size(self) -> int:
        """Work estimate (largest solved first)."""
        ...

    def refine(self, **solve: Any) -> None:
        """After the solve, with the same solver arguments: rules read from the plan."""
        ...


S = TypeVar("S", bound=Solvable)


def solve_subproblem(
    sub: S, params: LayoutParams, *, time_limit: float, threads: int | None, seed: int,
) -> S:
    """Solve ``sub`` with ``params.solver`` from its warm start (also its fallback).

    Then ``sub.refine`` with the same solver arguments: a staged part holds open the schools
    its plan would close beside new seats (:func:`layout.plan.rebuild.hold_and_resolve`).
    """
    solve: dict[str, Any] = {
        "time_limit": max(float(time_limit), 1e-3), "threads": threads, "seed": seed,
        "solver": params.solver, "gap": params.mip_gap, "node_limit": params.mip_node_limit}
    sub.model.solve(hint=sub.hint, **solve)
    sub.refine(**solve)
    return sub
