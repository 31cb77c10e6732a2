"""Children 0-17 and women 15-49 by village and single age, derived from township age groups.

The census township table (乡镇年龄) gives persons (and women) per township and age group;
:func:`derive_population` turns it into the region contract's ``children`` and ``women`` tables
with the sum-preserving methods of :mod:`layout.ingest.derive`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layout.errors import Problem
from layout.ingest.derive import (
    MAX_AGE,
    SENIOR_AGES,
    apportion_villages,
    cohort_indicators,
    parse_group,
    rescale_ages,
    reshape_within,
    round_groups,
    senior_stage_estimate,
    split_groups,
)
from schoolsystem.vocabulary import CHILD_AGES, WOMEN_AGES

CALIBRATIONS = ("births+enrollment", "births", "none")
"""Cohort reshaping applied after the spline: births for ages 0-5 and enrollment for 6-17,
births only (ages 0-18), or none."""

SENIOR_SPLITS = ("enrollment", "spline")
"""How the census group holding ages 15-17 (``15-19``) is split between 15-17 and the rest:
``enrollment`` scales each township's spline sub-total 15-17 by the county's senior-stage
estimate (:func:`layout.ingest.derive.senior_stage_estimate`) / spline, ``spline`` keeps the
spline's split."""


@dataclass(frozen=True)
class PopulationInputs:
    """Tables the derivation reads (typed sheet rows; ``_row`` = Excel row)."""

    ages: pd.DataFrame
    townships: pd.DataFrame
    villages: pd.DataFrame
    births: pd.DataFrame
    enrollment: pd.DataFrame
    base_year: int
    reference: pd.DataFrame | None = None
    where: str = "乡镇年龄"


def _reference(frame: pd.DataFrame | None, column: str) -> np.ndarray | None:
    if frame is None or frame.empty or frame[column].isna().all():
        return None
    ref = np.zeros(MAX_AGE + 1)
    ages = frame["age"].clip(0, MAX_AGE).astype(int).to_numpy()
    np.add.at(ref, ages, frame[column].fillna(0).to_numpy(float))
    return ref


def _covers(groups: dict[str, float], ages: range) -> bool:
    covered = np.zeros(MAX_AGE + 1, bool)
    for label in groups:
        lo, hi = parse_group(label)
        covered[lo:hi + 1] = True
    return bool(covered[ages.start:ages.stop].all())


def _overlap(labels: list[str]) -> bool:
    seen = np.zeros(MAX_AGE + 1, int)
    for label in labels:
        lo, hi = parse_group(label)
        seen[lo:hi + 1] += 1
    return bool((seen > 1).any())


def _indicators(inp: PopulationInputs, county: str, mode: str) -> list[dict[int, float]]:
    if mode == "none":
        return []
    if mode == "births":
        b = inp.births[inp.births["county_code"] == county].set_index("year")["births"]
        years = {a: float(b[inp.base_year - a]) for a in range(19)
                 if inp.base_year - a in b.index}
        return [years]
    by_birth, by_grade = cohort_indicators(inp.births, inp.enrollment, inp.base_year, county)
    return [by_birth, by_grade]


def _senior_group(bounds: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The group holding all of ages 15-17 and more (None when 15-17 is its own group)."""
    lo, hi = SENIOR_AGES
    for g in bounds:
        if g[0] <= lo and g[1] >= hi and g != (lo, hi):
            return g
    return None


def _senior_adjust(inp: PopulationInputs, singles: dict[str, tuple[np.ndarray, list]],
                   county_of: dict[str, str]) -> None:
    """Scale the townships' 15-17 sub-totals by their county's enrollment estimate (in place)."""
    lo, hi = SENIOR_AGES
    by_county: dict[str, list[str]] = {}
    for code in singles:
        by_county.setdefault(county_of.get(code, ""), []).append(code)
    for county, codes in by_county.items():
        total = np.sum([singles[c][0] for c in codes], axis=0)
        est = senior_stage_estimate(inp.enrollment, inp.base_year, county,
                                    float(total[12:15].sum()))
        spline = float(total[lo:hi + 1].sum())
        if est is None or spline <= 0:
            continue
        factor = float(est.sum()) / spline
        for c in codes:
            single, bounds = singles[c]
            group = _senior_group(bounds)
            if group is not None:
                singles[c] = (rescale_ages(single, group, SENIOR_AGES, factor, est), bounds)


def township_single_ages(inp: PopulationInputs, problems: list[Problem],
                         mode: str = "births+enrollment", split: str = "pchip",
                         senior: str = "enrollment"
                         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Whole persons by single age (children 0-17 and women 15-49) per township.

    Parameters
    ----------
    inp : PopulationInputs
        Census township groups, townships, villages, births and enrollment.
    problems : list of Problem
        Receives a problem per township whose groups overlap or do not cover the ages.
    mode : str
        Cohort reshaping (:data:`CALIBRATIONS`).
    split : str
        ``pchip``, ``sprague`` or ``beers`` (:func:`layout.ingest.derive.split_groups`).
    senior : str
        Split of the group holding ages 15-17 (:data:`SENIOR_SPLITS`).

    Returns
    -------
    children, women : dict of str to numpy.ndarray
        Township code -> persons aged 0..17, women aged 15..49 (integers; group totals kept).

    """
    ref_all, ref_f = _reference(inp.reference, "persons"), _reference(inp.reference, "female")
    county_of = {str(k): str(v) for k, v in zip(inp.townships["township_code"],
                                                inp.townships["county_code"], strict=True)}
    singles: dict[str, tuple[np.ndarray, list]] = {}
    women: dict[str, np.ndarray] = {}
    for code, rows in inp.ages.groupby("township_code", sort=False):
        first = int(rows["_row"].min())
        labels = rows["age_group"].tolist()
        if _overlap(labels):
            problems.append(Problem(inp.where, str(first), "年龄组 (age_group)", ", ".join(labels),
                                    f"age groups of township {code} overlap (give either 5-year "
                                    "groups or broad groups, not both)"))
            continue
        persons = dict(zip(labels, rows["persons"].astype(float), strict=True))
        female = {k: float(v) for k, v in zip(labels, rows["female"], strict=True) if pd.notna(v)}
        if not _covers(persons, CHILD_AGES) or not _covers(female, WOMEN_AGES):
            problems.append(Problem(inp.where, str(first), "年龄组 (age_group)", ", ".join(labels),
                                    f"township {code}: persons must cover ages 0-17 and 其中女性 "
                                    "ages 15-49"))
            continue
        single = split_groups(persons, ref_all, split)
        bounds = [parse_group(k) for k in persons]
        for indicator in _indicators(inp, county_of.get(str(code), ""), mode):
            single = reshape_within(single, bounds, indicator)
        singles[str(code)] = (single, bounds)
        fsingle = split_groups(female, ref_f, split)
        fb = [parse_group(k) for k in female]
        women[str(code)] = round_groups(fsingle, fb)[WOMEN_AGES.start:WOMEN_AGES.stop]
    if senior == "enrollment":
        _senior_adjust(inp, singles, county_of)
    children = {code: round_groups(single, bounds)[CHILD_AGES.start:CHILD_AGES.stop]
                for code, (single, bounds) in singles.items()}
    return children, women


def villages_from_townships(per_township: dict[str, np.ndarray], villages: pd.DataFrame,
                            ages: range) -> pd.DataFrame:
    """Long ``village_id, age, persons``: township single ages x village population share.

    Villages keep the order of ``villages``; a township whose villages all have population 0
    is split equally.
    """
    parts = []
    for code, vill in villages.groupby("township_code", sort=False):
        counts = per_township.get(str(code))
        if counts is None:
            continue
        pop = vill["population"].to_numpy(float)
        weights = pop if pop.sum() > 0 else np.ones(len(pop))
        table = apportion_villages(dict(zip(ages, counts.tolist(), strict=True)), weights)
        parts.append(pd.DataFrame({
            "village_id": np.repeat(vill["village_id"].to_numpy(), len(ages)),
            "age": np.tile(np.asarray(ages), len(vill)),
            "persons": table.ravel(),
            "_order": np.repeat(vill.index.to_numpy(), len(ages)),
        }))
    if not parts:
        return pd.DataFrame({"village_id": [], "age": [], "persons": []})
    out = pd.concat(parts).sort_values(["_order", "age"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def elderly_shares(ages: pd.DataFrame) -> dict[str, float]:
    """Share 65+ per township from its age groups (60+ x 0.70 when only 60+ is given)."""
    out: dict[str, float] = {}
    for code, rows in ages.groupby("township_code", sort=False):
        total = float(rows["persons"].sum())
        bounds = [parse_group(k) for k in rows["age_group"]]
        old = sum(p for (lo, _), p in zip(bounds, rows["persons"], strict=True) if lo >= 65)
        if not any(lo >= 65 for lo, _ in bounds):
            old = 0.70 * sum(p for (lo, _), p in zip(bounds, rows["persons"], strict=True)
                             if lo >= 60)
        covers_all = max(hi for _, hi in bounds) == MAX_AGE
        if total > 0 and covers_all:
            out[str(code)] = round(old / total, 3)
    return out
