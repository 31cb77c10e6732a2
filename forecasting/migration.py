"""Migration: each county's overall net migration and urbanisation moves within the county.

Overall net migration
---------------------
From the county population history (``urbanisation.csv``) and births (``births.csv``)::

    net_migration_rate(t) = (P(t) - P(t-1) - B(t) + D(t)) / P(t-1),  D(t) = cdr * P(t-1)

with a crude death rate ``cdr = 0.0085`` (Sichuan about 8-9 per thousand in 2020-2023, approx.;
deaths per county are not in the data). The rate used for the projection is the mean over the
last ``window = 5`` years; a scenario may replace it (``out_migration.rate``) or scale it.
Rates by age are ``rate * AGE_PROFILE[age]``: migrants are mostly young adults, and children move
with them less often (many stay with grandparents), see :func:`age_profile`.

Urbanisation moves (families with children)
-------------------------------------------
A gain ``du = u(t) - u(t-1)`` in a county's urban share is read as a move of the fraction
``du / (1 - u(t-1))`` of the rural population to town. Within the projection it is applied to the
**sending** townships (neither county seat nor central town, nor urban) by age with the
``FAMILY_PROFILE`` intensity: children 0-14 move with their parents (1.0), 15-17 half as often
(0.5: many already attend senior school in the county seat), women 20-39 more (1.5), 15-19 0.5,
40-49 0.7. The movers are received by the county seat and central towns of the same county in
proportion to their base population, the county seat group counting double
(:func:`receiver_weights`). Transfers conserve persons within each county.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError

CRUDE_DEATH_RATE = 0.0085
WINDOW = 5
SEAT_WEIGHT = 2.0


def age_profile(ages: np.ndarray) -> np.ndarray:
    """Relative intensity of overall net migration by age (1.0 = the crude rate).

    0-5: 0.8, 6-14: 0.6, 15-17: 0.8, 18-19: 1.5, 20-34: 1.8, 35-49: 0.8, 50+: 0.4.
    """
    a = np.asarray(ages)
    return np.select(
        [a <= 5, a <= 14, a <= 17, a <= 19, a <= 34, a <= 49],
        [0.8, 0.6, 0.8, 1.5, 1.8, 0.8],
        0.4,
    ).astype(float)


def family_profile(ages: np.ndarray, *, women: bool = False) -> np.ndarray:
    """Relative intensity of rural-to-town family moves by age (children or women)."""
    a = np.asarray(ages)
    if women:
        return np.select([a <= 19, a <= 39], [0.5, 1.5], 0.7).astype(float)
    return np.where(a <= 14, 1.0, 0.5).astype(float)


def overall_net_migration_rate(
    urbanisation: pd.DataFrame,
    births: pd.DataFrame,
    *,
    window: int = WINDOW,
    crude_death_rate: float = CRUDE_DEATH_RATE,
) -> pd.Series:
    """Mean annual net migration rate per county over the last ``window`` years of history.

    Parameters
    ----------
    urbanisation : DataFrame
        county_code, year, population (year-end residents).
    births : DataFrame
        county_code, year, births.
    window : int
        Number of most recent years averaged.
    crude_death_rate : float
        Deaths per person-year used for the natural change.

    Examples
    --------
    >>> u = pd.DataFrame({"county_code": ["c"] * 3, "year": [2021, 2022, 2023],
    ...                   "population": [1000, 990, 980]})
    >>> b = pd.DataFrame({"county_code": ["c"] * 3, "year": [2021, 2022, 2023], "births": [8, 8, 8]})
    >>> round(float(overall_net_migration_rate(u, b, crude_death_rate=0.0)["c"]), 5)
    -0.01809

    """
    pop = urbanisation.pivot_table(index="county_code", columns="year", values="population")
    bir = births.pivot_table(index="county_code", columns="year", values="births")
    missing = pop.index.difference(bir.index)
    if len(missing):
        raise ForecastInputError(f"births.csv: no births for county {missing[0]!r}")
    years = [int(y) for y in pop.columns if int(y) - 1 in pop.columns and int(y) in bir.columns]
    years = sorted(years)[-window:]
    if not years:
        raise ForecastInputError("urbanisation.csv/births.csv: need two consecutive years")
    prev = pop[[y - 1 for y in years]].to_numpy(float)
    cur = pop[years].to_numpy(float)
    b = bir.reindex(pop.index)[years].to_numpy(float)
    rate = (cur - prev - b + crude_death_rate * prev) / prev
    return pd.Series(np.nanmean(rate, axis=1), index=pop.index, name="net_migration_rate")


def receiver_weights(townships: pd.DataFrame, population: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sender mask and receiver weights (summing to 1 within each county).

    Parameters
    ----------
    townships : DataFrame
        township_code, county_code, is_county_seat, is_central_town, urban (one row per area,
        in projection order).
    population : Series
        Base population per township (same order).

    Returns
    -------
    sender : ndarray of bool, weights : ndarray of float

    """
    seat = townships["is_county_seat"].to_numpy(bool)
    central = townships["is_central_town"].to_numpy(bool)
    urban = townships["urban"].to_numpy(bool)
    receiver = seat | central
    sender = ~(receiver | urban)
    raw = np.where(receiver, np.maximum(population.to_numpy(float), 1.0), 0.0)
    raw = raw * np.where(seat, SEAT_WEIGHT, 1.0)
    county = townships["county_code"].to_numpy()
    totals = pd.Series(raw).groupby(county).transform("sum").to_numpy()
    no_receiver = (totals <= 0) & sender
    if no_receiver.any():
        code = county[np.argmax(no_receiver)]
        raise ForecastInputError(f"townships: county {code!r} has no county seat or central town")
    weights = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
    return sender, weights


def transfer_counts(
    pop: np.ndarray,
    sender: np.ndarray,
    weights: np.ndarray,
    membership: np.ndarray,
    out_fraction: np.ndarray,
    profile: np.ndarray,
) -> np.ndarray:
    """Net transfer counts: senders lose, receivers of the same county gain the same persons.

    Parameters
    ----------
    pop : ndarray (..., areas, ages)
        Stock before the move.
    sender : ndarray (areas,) of bool
        Areas that send movers (rural townships).
    weights : ndarray (areas,)
        Receiver weights, summing to 1 per county.
    membership : ndarray (areas, counties)
        One-hot county membership.
    out_fraction : ndarray (..., counties)
        Fraction of the rural population moving this year.
    profile : ndarray (ages,)
        Age intensity of the move.

    Returns
    -------
    ndarray (..., areas, ages)
        Counts summing to zero within each county and age.

    """
    cap = 1.0 / max(float(np.max(profile)), 1e-12)  # nobody moves more than once
    county = membership.argmax(axis=1)
    frac_area = np.minimum(out_fraction, cap)[..., county] * sender  # (..., areas)
    moved = pop * frac_area[..., None]
    moved *= profile  # in place: the arrays are draws x areas x ages
    per_county = county_sums(moved, county, membership.shape[1])  # (..., counties, ages)
    received = per_county[..., county, :]
    received *= weights[:, None]
    received -= moved
    return received


def county_sums(values: np.ndarray, county: np.ndarray, n_counties: int) -> np.ndarray:
    """Sum ``values (..., areas, ages)`` over the areas of each county -> (..., counties, ages).

    O(areas) with :func:`numpy.add.reduceat` over the areas sorted by county (a no-op when they
    already are, as township codes are); counties without areas get zeros.

    Examples
    --------
    >>> v = np.arange(8.0).reshape(4, 2)
    >>> county_sums(v, np.array([1, 0, 1, 2]), 4).tolist()
    [[2.0, 3.0], [4.0, 6.0], [6.0, 7.0], [0.0, 0.0]]

    """
    order = np.argsort(county, kind="stable")
    sorted_county = county[order]
    if not np.array_equal(order, np.arange(county.size)):
        values = values[..., order, :]
    present, starts = np.unique(sorted_county, return_index=True)
    sums = np.add.reduceat(values, starts, axis=-2) if starts.size else values[..., :0, :]
    if present.size == n_counties:
        return sums
    out = np.zeros((*values.shape[:-2], n_counties, values.shape[-1]), dtype=values.dtype)
    out[..., present, :] = sums
    return out
