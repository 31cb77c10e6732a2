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
   (the 年龄结构 sheet), else uniformly.
2. **Cohort reshaping** (:func:`reshape_within`): within each group, the ages for which a county
   indicator exists (births of the birth year for ages 0-5, base-year enrollment of the grade
   for ages 6-17) share the sub-total those ages already had, in proportion to the indicator.
3. **Villages from townships** (:func:`apportion_villages`): a village's persons of each age are
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


def split_groups(groups: Mapping[str, float], reference: FloatArray | None = None) -> FloatArray:
    """Split age groups into single ages 0..MAX_AGE, keeping every group total.

    Parameters
    ----------
    groups : mapping of str to float
        Group label (``"0-4"``, ``"15-59"``, ``"85+"``) -> persons. Groups must not overlap.
    reference : numpy.ndarray, optional
        Reference single-age structure (length ``MAX_AGE + 1``) for groups that are not part of
        a run of contiguous 5-year groups; uniform within the group when None.

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
    return out


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
