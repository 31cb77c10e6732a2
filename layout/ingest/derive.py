"""Sum-preserving derivations: single ages from census age groups, villages from townships.

Every function here keeps the totals it starts from: a group's persons are split over its single
ages and nothing is added or lost; a township's persons of one age are apportioned over its
villages with the largest-remainder method so integer villages add up to the integer township.

Methods (recorded in ``region.yaml`` by the importer, see :data:`layout.ingest.readme.DERIVATIONS`):

1. **Monotone spline of the cumulative count** (:func:`split_groups`) for runs of contiguous
   5-year groups: the cumulative count ``C(x)`` (persons younger than ``x``) is known at the group
   boundaries; a PCHIP interpolant (Fritsch-Carlson, monotone, so no negative counts) gives
   ``C`` at every whole age and single ages are its differences — exactly the group totals at the
   boundaries. Broad groups (0-14, 15-59, 60+) are split by a reference single-age structure
   (the 年龄结构 sheet), else uniformly. Optionally (``method="sprague"`` / ``"beers"``) a 5-year
   group with two 5-year neighbours on each side is split by the classical osculatory
   multipliers (middle panel) instead, clipped at 0 and rescaled to its total.
2. **Cohort reshaping** (:func:`reshape_within`): within each group, the ages for which a county
   indicator exists (births of the birth year for ages 0-5, base-year enrollment of the grade
   for ages 6-17) share the sub-total those ages already had, in proportion to the indicator.
3. **Senior-stage cohort** (:func:`senior_stage_estimate`): the census group holding ages 15-17
   (``15-19``) mixes the senior-stage ages with 18-19, which the spline cannot separate when the
   age structure bends at 18. The county's residents aged 15-17 are estimated from enrollment by
   grade: senior-stage enrollment (G10-G12 + V1-V3) divided by the senior-stage participation
   (G10 + V1 of the base year over G9 of the year before) and by the junior coverage (G7-G9
   enrollment over the derived residents 12-14). Each township's 15-17 sub-total of the group is
   scaled by the county's ratio estimate / spline (capped at the group total); 18-19 keep the
   rest, so the group total is unchanged.
4. **Villages from townships** (:func:`apportion_villages`): a village's persons of each age are
   the township's times the village's share of township population.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.interpolate import PchipInterpolator

from schoolsystem.vocabulary import GRADE_AGE

MAX_AGE = 100
"""Upper end of an open age group (``85+`` covers 85-100)."""

FloatArray = NDArray[np.float64]

OSCULATORY: dict[str, FloatArray] = {
    # middle panels (rows: single ages of the group; columns: groups i-2 .. i+2)
    "sprague": np.array([[-0.0128, 0.0848, 0.1504, -0.0240, 0.0016],
                         [-0.0016, 0.0144, 0.2224, -0.0416, 0.0064],
                         [0.0064, -0.0336, 0.2544, -0.0336, 0.0064],
                         [0.0064, -0.0416, 0.2224, 0.0144, -0.0016],
                         [0.0016, -0.0240, 0.1504, 0.0848, -0.0128]]),
    "beers": np.array([[-0.0117, 0.0804, 0.1570, -0.0284, 0.0027],
                       [-0.0020, 0.0160, 0.2200, -0.0400, 0.0060],
                       [0.0050, -0.0280, 0.2460, -0.0280, 0.0050],
                       [0.0060, -0.0400, 0.2200, 0.0160, -0.0020],
                       [0.0027, -0.0284, 0.1570, 0.0804, -0.0117]]),
}
"""Sprague (fifth difference) and Beers (ordinary) multipliers, middle panel."""

SPLIT_METHODS = ("pchip", "sprague", "beers")
SENIOR_AGES = (15, 17)


def parse_group(label: str) -> tuple[int, int]:
    """Age bounds (inclusive) of a group label.

    Examples
    --------
    >>> parse_group("5-9"), parse_group("85+")
    ((5, 9), (85, 100))

    """
    text = label.strip()
    if text.endswith("+"):
        return int(text[:-1]), MAX_AGE
    lo, hi = text.split("-")
    return int(lo), int(hi)


def _runs(bounds: list[tuple[int, int]]) -> list[list[int]]:
    """Indices of maximal runs of contiguous 5-year groups (sorted by lower bound)."""
    runs: list[list[int]] = []
    for i, (lo, hi) in enumerate(bounds):
        five = hi - lo == 4 or (hi == MAX_AGE and i > 0)
        if five and runs and runs[-1] and bounds[runs[-1][-1]][1] + 1 == lo:
            runs[-1].append(i)
        elif five:
            runs.append([i])
        else:
            runs.append([])  # a broad group breaks any run
    return [r for r in runs if len(r) >= 2]


def split_groups(groups: Mapping[str, float], reference: FloatArray | None = None,
                 method: str = "pchip") -> FloatArray:
    """Split age groups into single ages 0..MAX_AGE, keeping every group total.

    Parameters
    ----------
    groups : mapping of str to float
        Group label (``"0-4"``, ``"15-59"``, ``"85+"``) -> persons. Groups must not overlap.
    reference : numpy.ndarray, optional
        Reference single-age structure (length ``MAX_AGE + 1``) for groups that are not part of
        a run of contiguous 5-year groups; uniform within the group when None.
    method : str
        ``pchip`` (default), or ``sprague`` / ``beers``: 5-year groups with two 5-year
        neighbours on each side split by the osculatory multipliers (:data:`OSCULATORY`).

    Returns
    -------
    numpy.ndarray
        Persons by single age (float), zero outside the given groups.

    Examples
    --------
    >>> ages = split_groups({"0-4": 100, "5-9": 150, "10-14": 200})
    >>> [round(float(ages[lo:lo + 5].sum()), 6) for lo in (0, 5, 10)]
    [100.0, 150.0, 200.0]

    """
    items = sorted((parse_group(k), float(v)) for k, v in groups.items())
    bounds = [b for b, _ in items]
    counts = np.array([c for _, c in items])
    out = np.zeros(MAX_AGE + 1)
    done = np.zeros(len(items), bool)
    for run in _runs(bounds):
        edges = np.array([bounds[run[0]][0], *(bounds[i][1] + 1 for i in run)], float)
        cum = np.concatenate([[0.0], np.cumsum(counts[run])])
        spline = PchipInterpolator(edges, cum)
        ages = np.arange(int(edges[0]), int(edges[-1]) + 1)
        single = np.diff(spline(ages.astype(float)))
        out[ages[:-1]] = np.maximum(single, 0.0)
        for i in run:  # exact group totals despite float error
            lo, hi = bounds[i]
            s = out[lo:hi + 1].sum()
            out[lo:hi + 1] *= counts[i] / s if s > 0 else 0.0
            done[i] = True
    for k in np.flatnonzero(~done).tolist():
        lo, hi = bounds[k]
        w = np.ones(hi - lo + 1) if reference is None else np.asarray(reference[lo:hi + 1], float)
        out[lo:hi + 1] = counts[k] * (w / w.sum() if w.sum() > 0 else 1.0 / len(w))
    if method != "pchip":
        _osculatory(out, bounds, counts, OSCULATORY[method])
    return out


def _osculatory(out: FloatArray, bounds: list[tuple[int, int]], counts: FloatArray,
                panel: FloatArray) -> None:
    """Overwrite (in place) each 5-year group with 5-year neighbours i-2..i+2 by ``panel``."""
    five = {lo: float(c) for (lo, hi), c in zip(bounds, counts, strict=True) if hi - lo == 4}
    for lo, total in five.items():
        near = [lo + 5 * k for k in range(-2, 3)]
        if not all(n in five for n in near) or total <= 0:
            continue
        single = np.maximum(panel @ np.array([five[n] for n in near]), 0.0)
        out[lo:lo + 5] = single * total / single.sum() if single.sum() > 0 else total / 5


def reshape_within(single: FloatArray, groups: list[tuple[int, int]],
                   indicator: Mapping[int, float]) -> FloatArray:
    """Within each group, give the ages with an indicator their sub-total in its proportions.

    Parameters
    ----------
    single : numpy.ndarray
        Persons by single age (length ``MAX_AGE + 1``).
    groups : list of (int, int)
        Inclusive age bounds of the groups whose totals are kept.
    indicator : mapping of int to float
        Age -> cohort indicator (births of the birth year, enrollment of the grade); ages absent
        keep their value.

    Returns
    -------
    numpy.ndarray
        Reshaped copy; every group total unchanged.

    Examples
    --------
    >>> x = reshape_within(np.full(101, 10.0), [(0, 4)], {0: 1, 1: 1, 2: 2})
    >>> x[:5].tolist()
    [7.5, 7.5, 15.0, 10.0, 10.0]

    """
    out = single.copy()
    for lo, hi in groups:
        ages = [a for a in range(lo, hi + 1) if indicator.get(a, 0) > 0]
        if len(ages) < 2:
            continue
        w = np.array([indicator[a] for a in ages], float)
        out[ages] = out[ages].sum() * w / w.sum()
    return out


def senior_stage_estimate(enrollment: pd.DataFrame, base_year: int, county: str,
                          residents_12_14: float) -> FloatArray | None:
    """A county's residents aged 15, 16, 17 from enrollment by grade (None when not estimable).

    residents(15..17) = senior-stage enrollment of the age (G10/V1, G11/V2, G12/V3) /
    (participation x junior coverage), where participation = (G10 + V1 of ``base_year``) /
    (G9 of ``base_year - 1``) and junior coverage = G7-G9 enrollment of ``base_year`` /
    ``residents_12_14`` (the derived residents aged 12-14, whose census group the spline
    splits well).

    Parameters
    ----------
    enrollment : pandas.DataFrame
        ``county_code, year, grade, students`` (long).
    base_year : int
        Year of the population stock.
    county : str
        County code.
    residents_12_14 : float
        Derived residents aged 12-14 of the county.

    Returns
    -------
    numpy.ndarray or None
        Residents aged 15, 16, 17 (float).

    Examples
    --------
    >>> e = pd.DataFrame({"county_code": "1", "year": [2022, 2023, 2023, 2023, 2023, 2023],
    ...                   "grade": ["G9", "G7", "G8", "G9", "G10", "G11"],
    ...                   "students": [100, 90, 90, 90, 80, 70]})
    >>> senior_stage_estimate(e, 2023, "1", 300.0).round(1).tolist()
    [111.1, 97.2, 0.0]

    """
    e = enrollment[enrollment["county_code"] == county]
    age = e["grade"].map(dict(GRADE_AGE))
    now = e[e["year"] == base_year].groupby(age)["students"].sum()
    before = e[e["year"] == base_year - 1].groupby(age)["students"].sum()
    junior = float(now.reindex(range(12, 15)).fillna(0).sum())
    g9 = float(before.get(14, 0.0))
    senior = now.reindex(range(SENIOR_AGES[0], SENIOR_AGES[1] + 1)).fillna(0).to_numpy(float)
    if min(junior, g9, senior[0], residents_12_14) <= 0:
        return None
    participation = senior[0] / g9
    coverage = junior / residents_12_14
    return np.asarray(senior / (participation * coverage), float)


def rescale_ages(single: FloatArray, group: tuple[int, int], ages: tuple[int, int],
                 factor: float, shape: FloatArray | None = None) -> FloatArray:
    """Scale the sub-total of ``ages`` within ``group`` by ``factor``; the rest takes the remainder.

    The group total is kept; the sub-total is capped at it. ``shape`` (one weight per age of
    ``ages``) replaces the ages' proportions when given.

    Examples
    --------
    >>> x = rescale_ages(np.full(101, 10.0), (15, 19), (15, 17), 0.9)
    >>> x[15:20].round(2).tolist(), float(x[15:20].sum())
    ([9.0, 9.0, 9.0, 11.5, 11.5], 50.0)

    """
    out = single.copy()
    lo, hi = group
    a, b = ages
    total = float(out[lo:hi + 1].sum())
    part = out[a:b + 1]
    sub = min(float(part.sum()) * factor, total)
    w = part if shape is None else np.asarray(shape, float)
    out[a:b + 1] = sub * w / w.sum() if w.sum() > 0 else sub / len(w)
    rest = [k for k in range(lo, hi + 1) if not a <= k <= b]
    if rest:
        r = out[rest]
        out[rest] = (total - sub) * (r / r.sum() if r.sum() > 0 else np.full(len(r), 1 / len(r)))
    return out


def apportion(total: int, weights: FloatArray) -> NDArray[np.int64]:
    """Split a whole number by weights with the largest-remainder method (sum kept exactly).

    Examples
    --------
    >>> apportion(10, np.array([1.0, 1.0, 1.0])).tolist()
    [4, 3, 3]

    """
    w = np.asarray(weights, float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(raw - base)))
    base[order[:rest]] += 1
    return base


def round_groups(single: FloatArray, groups: list[tuple[int, int]]) -> NDArray[np.int64]:
    """Whole persons by single age, each group's rounded total kept (largest remainder)."""
    out = np.zeros(len(single), np.int64)
    for lo, hi in groups:
        part = single[lo:hi + 1]
        out[lo:hi + 1] = apportion(round(part.sum()), part)
    return out


def cohort_indicators(births: pd.DataFrame, enrollment: pd.DataFrame, base_year: int,
                      county: str) -> tuple[dict[int, float], dict[int, float]]:
    """A county's cohort indicators: births by age 0-5 and base-year enrollment by age 6-17.

    Parameters
    ----------
    births : pandas.DataFrame
        ``county_code, year, births``.
    enrollment : pandas.DataFrame
        ``county_code, year, grade, students`` (long).
    base_year : int
        Year of the population stock.
    county : str
        County code.

    Returns
    -------
    births_by_age, enrollment_by_age : dict of int to float

    """
    b = births[births["county_code"] == county].set_index("year")["births"]
    by_birth = {a: float(b[base_year - a]) for a in range(6) if base_year - a in b.index}
    e = enrollment[(enrollment["county_code"] == county) & (enrollment["year"] == base_year)]
    ages = e["grade"].map(dict(GRADE_AGE))
    per_age = e.groupby(ages)["students"].sum()
    by_grade = {int(a): float(v) for a, v in per_age.items() if 6 <= int(a) <= 17}
    return by_birth, by_grade


def apportion_villages(township_ages: Mapping[int, int], village_pop: FloatArray
                       ) -> NDArray[np.int64]:
    """Villages x ages: each age's township persons split by village population.

    Parameters
    ----------
    township_ages : mapping of int to int
        Age -> whole persons of the township.
    village_pop : numpy.ndarray
        Population of the township's villages (weights).

    Returns
    -------
    numpy.ndarray of int, shape (villages, ages)
        Column sums equal the township's persons of that age.

    """
    ages = list(township_ages)
    out = np.zeros((len(village_pop), len(ages)), np.int64)
    for k, a in enumerate(ages):
        out[:, k] = apportion(int(township_ages[a]), village_pop)
    return out
