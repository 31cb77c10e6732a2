"""Generic cohort-component projection (single years of age, one-year steps).

Timing convention
-----------------
A *stock* is the population of each completed age at the reference date of a calendar year (the
census convention of the region data: completed years at mid-year). One step takes the stock of
year ``t`` to the stock of year ``t + 1`` in this order:

1. **survive and age**: persons of age ``a`` survive with probability ``survival[a]`` and become
   age ``a + 1``; deaths are ``(1 - survival[a]) * P[a]``;
2. **births enter**: the births of calendar year ``t + 1`` enter age 0, of whom a share
   ``birth_survival`` is alive at the stock date (the others are counted as deaths);
3. **migrate**: net migrants ``rate[a] * S[a]`` are added to each age ``a`` of the survived
   population ``S`` (``rate`` is a net rate, negative for out-migration, ``>= -1``), plus any net
   migrant *counts* the caller adds (used for transfers between areas).
4. **top age**: with ``open_top=True`` (default) the highest age ``A`` is an open group ``A+``:
   survivors of age ``A`` stay in it. With ``open_top=False`` they leave the table (``aged_out``).

Accounting per area and year (checked by the tests, exact up to floating-point rounding)::

    end = start + births - deaths + net_migration - aged_out

The array function :func:`iter_project` works on any leading shape, e.g. a draws axis for Monte
Carlo: population ``(draws, areas, ages)``; it never loops over areas.

Two loops, one step
-------------------
:func:`step` is the only place where a stock is advanced. :func:`iter_project` (and
:func:`project_cohorts` on tables) is the public **single-population** API: births are given in
advance and no persons move between areas. The regional forecast
(:func:`forecasting.population.project_population`) runs :func:`forecasting.joint.project_joint`
instead, which calls the same :func:`step` for women and children in turn, births coming from
the projected women and urbanisation transfers added; ``tests/test_forecast_joint.py`` checks
that both loops agree where their models coincide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import lifetable
from forecasting.errors import ForecastInputError
from forecasting.inputs import (
    age_matrix,
    births_matrix,
    migration_array,
    resolve_base_year,
    survival_matrix,
)

__all__ = ["StepComponents", "iter_project", "project_cohorts", "step"]

MIN_TOP_AGE = 17


@dataclass(frozen=True)
class StepComponents:
    """Demographic components of one step, each of shape ``pop.shape[:-1]`` (per area)."""

    births: np.ndarray
    deaths: np.ndarray
    net_migration: np.ndarray
    aged_out: np.ndarray


def step(
    pop: np.ndarray,
    entrants: np.ndarray,
    survival: np.ndarray,
    entrant_survival: np.ndarray | float,
    rate: np.ndarray | float = 0.0,
    add: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    open_top: bool = True,
    components: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, StepComponents | None]:
    """Advance a stock by one year (see the module docstring for the order of events).

    Parameters
    ----------
    pop : ndarray, shape (..., areas, ages)
        Stock of year ``t``.
    entrants : ndarray, shape (..., areas)
        Births (or other entrants to the lowest age) during year ``t + 1``.
    survival : ndarray, broadcastable to ``pop``
        One-year survival by age.
    entrant_survival : float or ndarray broadcastable to ``entrants``
        Share of entrants alive at the stock date.
    rate : float or ndarray broadcastable to ``pop``
        Net migration rate applied to the survived stock, by age.
    add : ndarray broadcastable to ``pop`` or callable, optional
        Net migrant counts added after the rate (e.g. transfers between areas); a callable
        receives the survived stock (before migration) and returns the counts.
    open_top : bool
        Keep survivors of the highest age in an open group (default) or let them leave.
    components : bool
        Also return the :class:`StepComponents` of the step.
    out : ndarray, optional
        Buffer for the result (same shape and dtype as ``pop``, not ``pop`` itself).

    Returns
    -------
    new_pop : ndarray, same shape and dtype as ``pop``
    components : StepComponents or None

    """
    surv = np.asarray(survival, dtype=pop.dtype)
    new = np.empty_like(pop) if out is None else out
    np.multiply(pop[..., :-1], surv[..., :-1], out=new[..., 1:])  # survive and age
    top = pop[..., -1] * surv[..., -1]
    shifted_total = new[..., 1:].sum(axis=-1) if components else None
    entrants = np.asarray(entrants, dtype=pop.dtype)
    entrant_survival = np.asarray(entrant_survival, dtype=pop.dtype)
    new[..., 0] = entrants * entrant_survival
    if open_top:
        new[..., -1] += top
    rate = np.asarray(rate, dtype=pop.dtype)
    if add is None and not components:  # fast path: in place, no temporaries of full size
        new *= 1.0 + rate
        return new, None
    migrants = new * rate
    if add is not None:
        migrants += add(new) if callable(add) else add
    new += migrants
    if not components:
        return new, None
    deaths = (pop.sum(axis=-1) - shifted_total - top) + entrants * (1.0 - entrant_survival)
    shape = top.shape
    comp = StepComponents(
        births=np.broadcast_to(entrants, shape).copy(),
        deaths=np.broadcast_to(deaths, shape).copy(),
        net_migration=migrants.sum(axis=-1),
        aged_out=np.zeros_like(top) if open_top else top,
    )
    return new, comp


def iter_project(
    base: np.ndarray,
    births: np.ndarray,
    survival: np.ndarray,
    birth_survival: np.ndarray | float,
    rates: np.ndarray | float = 0.0,
    *,
    open_top: bool = True,
    components: bool = False,
    reuse_buffers: bool = False,
) -> Iterator[tuple[int, np.ndarray, StepComponents | None]]:
    """Yield ``(k, stock_k, components_k)`` for ``k = 1 .. T`` (array core of the engine).

    Parameters
    ----------
    base : ndarray, shape (..., areas, ages)
        Base-year stock; the leading ``...`` may hold a draws axis.
    births : ndarray, shape (T, ..., areas)
        Births of each projection year (year axis first).
    survival : ndarray broadcastable to ``base``
        One-year survival by age.
    birth_survival : float or ndarray broadcastable to ``base.shape[:-1]``
        Share of each year's births alive at age 0 in the year's stock.
    rates : float or ndarray of shape (T or 1, ...) broadcastable per year to ``base``
        Net migration rates; the first axis is the projection year.
    open_top, components : bool
        See :func:`step`.
    reuse_buffers : bool
        Alternate between two result buffers instead of allocating one per year (saves memory
        and time); a yielded stock is then overwritten two years later, so copy it to keep it.

    Examples
    --------
    >>> import numpy as np
    >>> base = np.ones((2, 3, 18), dtype=np.float32)  # draws x areas x ages
    >>> births = np.full((4, 2, 3), 2.0, dtype=np.float32)
    >>> stocks = [p for _, p, _ in iter_project(base, births, np.ones(18), 1.0)]
    >>> len(stocks), stocks[-1].shape, float(stocks[-1][0, 0, :5].sum())
    (4, (2, 3, 18), 9.0)

    """
    survival = np.asarray(survival, dtype=base.dtype)
    rates_arr = np.asarray(rates, dtype=base.dtype)
    if rates_arr.ndim == 0:
        rates_arr = rates_arr.reshape(1)
    pop = base
    buffers = [np.empty(base.shape, base.dtype), np.empty(base.shape, base.dtype)] if (
        reuse_buffers) else [None, None]
    for k in range(births.shape[0]):
        rate_k = rates_arr[min(k, rates_arr.shape[0] - 1)]
        pop, comp = step(
            pop, births[k], survival, birth_survival, rate_k, open_top=open_top,
            components=components, out=buffers[k % 2],
        )
        yield k + 1, pop, comp


# Over 80 lines only because of its numpydoc docstring; the body is about 25 lines.
def project_cohorts(
    base: pd.DataFrame,
    births: pd.DataFrame,
    years: int,
    *,
    survival: pd.Series | pd.DataFrame | None = None,
    net_migration: pd.Series | pd.DataFrame | None = None,
    base_year: int | None = None,
    birth_survival: float | None = None,
    open_top: bool = True,
    return_components: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Project a population by single year of age with the cohort-component method.

    Parameters
    ----------
    base : DataFrame
        Index: area ids; columns: integer single ages ``0..A`` (``A >= 17``, no gaps); values:
        persons in the base year. ``A`` is an open group ``A+`` unless ``open_top=False``.
    births : DataFrame
        Index: the same area ids; columns: calendar years, covering at least
        ``base_year + 1 .. base_year + years`` (extra years are ignored); values: births.
    years : int
        Horizon in years (>= 1).
    survival : Series or DataFrame, optional
        One-year survival by age (Series indexed by age) or by area x age (DataFrame indexed by
        area, age columns). Default: :func:`forecasting.lifetable.survival` (approximate China
        2020 life table, both sexes).
    net_migration : Series or DataFrame, optional
        Net migration **rates** (migrants / survived population, negative = out): a Series by
        age; a DataFrame area x age; or a DataFrame indexed by (area, year) x age for rates that
        change each year (every projection year must be present). Default: no migration.
    base_year : int, optional
        Year of ``base``; default ``base.attrs["year"]``. One of the two is required; if both
        are given they must agree.
    birth_survival : float, optional
        Share of a year's births alive at age 0 in that year's stock. Default: from the
        survival at age 0, ``1 - 0.7 * (1 - survival[0])`` (30 % of infant deaths after the
        stock date); ``lifetable.birth_survival()`` with the default table.
    open_top : bool
        Keep the top age as an open group (default) or let survivors of age ``A`` leave.
    return_components : bool
        Also return the per area-year components (``area, year, start, births, deaths,
        net_migration, aged_out, end``) with ``end = start + births - deaths + net_migration -
        aged_out``.

    Returns
    -------
    DataFrame or (DataFrame, DataFrame)
        Long table ``area, year, age, population`` (float) for the base year and every
        projection year; with ``return_components`` also the components table.

    Raises
    ------
    ForecastInputError
        Negative or missing counts (naming area and age or year), gaps in ages or birth years,
        areas in ``births`` missing from ``base`` (or the reverse), survival outside [0, 1],
        migration rates below -1.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame([[100.0] * 18], index=["A"], columns=range(18))
    >>> births = pd.DataFrame({2024: [90.0], 2025: [80.0]}, index=["A"])
    >>> full = pd.Series(1.0, index=range(18))
    >>> out = project_cohorts(base, births, 2, base_year=2023, survival=full)
    >>> out[(out.year == 2025) & (out.age <= 2)]["population"].tolist()
    [80.0, 90.0, 100.0]
    >>> out.groupby("year")["population"].sum().tolist()
    [1800.0, 1890.0, 1970.0]

    """
    if int(years) < 1:
        raise ForecastInputError(f"years must be >= 1, got {years}")
    years = int(years)
    year0 = resolve_base_year(base, base_year)
    areas, ages, base_arr = age_matrix(base, "base", min_top_age=MIN_TOP_AGE)
    proj_years = np.arange(year0 + 1, year0 + years + 1)
    births_arr = births_matrix(births, areas, proj_years, "births")  # (T, N)
    surv, bs = _survival_inputs(survival, birth_survival, areas, ages, base_arr.shape)
    rates = migration_array(net_migration, areas, ages, proj_years)  # (T or 1, N, A1)

    stocks = [base_arr]
    comps: list[StepComponents] = []
    for _, pop, comp in iter_project(
        base_arr, births_arr, surv, bs, rates, open_top=open_top, components=return_components
    ):
        stocks.append(pop)
        if comp is not None:
            comps.append(comp)
    cube = np.stack(stocks)  # (T+1, N, A1)
    out = _long_stocks(cube, areas, ages, year0)
    if not return_components:
        return out
    return out, _components_table(cube, comps, areas, proj_years)


def _survival_inputs(
    survival: pd.Series | pd.DataFrame | None,
    birth_survival: float | None,
    areas: pd.Index,
    ages: np.ndarray,
    shape: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray | float]:
    """Survival (areas x ages) and birth survival of :func:`project_cohorts` (defaults filled)."""
    if survival is None:
        surv = lifetable.survival(lifetable.MAX_AGE).reindex(ages).to_numpy()
        surv = np.broadcast_to(surv, shape)
        default_bs: float | None = lifetable.birth_survival()
    else:
        surv = survival_matrix(survival, areas, ages)
        default_bs = None
    if birth_survival is None:
        return surv, default_bs if default_bs is not None else 1.0 - 0.7 * (1.0 - surv[:, 0])
    if not 0.0 <= float(birth_survival) <= 1.0:
        raise ForecastInputError(f"birth_survival must lie in [0, 1], got {birth_survival}")
    return surv, float(birth_survival)


def _long_stocks(cube: np.ndarray, areas: pd.Index, ages: np.ndarray, year0: int) -> pd.DataFrame:
    """Long table ``area, year, age, population`` of stocks ``cube`` (T+1, areas, ages)."""
    n_year, n_area, n_age = cube.shape
    return pd.DataFrame(
        {
            "area": np.tile(np.repeat(areas.to_numpy(dtype=object), n_age), n_year),
            "year": np.repeat(np.arange(year0, year0 + n_year), n_area * n_age),
            "age": np.tile(ages, n_area * n_year),
            "population": cube.reshape(-1).astype(float),
        }
    )


def _components_table(cube: np.ndarray, comps: list[StepComponents], areas: pd.Index,
                      proj_years: np.ndarray) -> pd.DataFrame:
    """Per area-year ``start, births, deaths, net_migration, aged_out, end`` of the steps."""
    n_area = cube.shape[1]
    return pd.DataFrame(
        {
            "area": np.tile(areas.to_numpy(dtype=object), len(proj_years)),
            "year": np.repeat(proj_years, n_area),
            "start": cube[:-1].sum(axis=-1).reshape(-1),
            "births": np.concatenate([c.births for c in comps]),
            "deaths": np.concatenate([c.deaths for c in comps]),
            "net_migration": np.concatenate([c.net_migration for c in comps]),
            "aged_out": np.concatenate([c.aged_out for c in comps]),
            "end": cube[1:].sum(axis=-1).reshape(-1),
        }
    )


# --------------------------------------------------------------------------- input checks
