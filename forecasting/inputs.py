"""Conversion and validation of the cohort engine's inputs (tables -> checked numpy arrays).

Every problem raises :class:`forecasting.errors.ForecastInputError` naming the table, the area,
the age or year and the bad value: negative or missing counts, gaps in ages or years, areas in
births but not in the base, survival outside [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError


def require_columns(table: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """Raise :class:`ForecastInputError` naming ``name`` and every column it lacks.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), "births", ["a", "year"])
    Traceback (most recent call last):
    forecasting.errors.ForecastInputError: births table lacks columns ['year']

    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ForecastInputError(f"{name} table lacks columns {missing}")


def resolve_base_year(base: pd.DataFrame, base_year: int | None) -> int:
    """Base year from the ``base_year`` argument or ``base.attrs["year"]`` (must agree)."""
    attr = base.attrs.get("year")
    if base_year is None and attr is None:
        raise ForecastInputError(
            "base year unknown: pass base_year= or set base.attrs['year']"
        )
    if base_year is not None and attr is not None and int(attr) != int(base_year):
        raise ForecastInputError(
            f"base_year={base_year} disagrees with base.attrs['year']={attr}"
        )
    return int(base_year if base_year is not None else attr)


def _int_labels(labels: pd.Index, what: str, name: str) -> np.ndarray:
    try:
        values = np.array([int(v) for v in labels])
    except (TypeError, ValueError) as exc:
        raise ForecastInputError(f"{name}: {what} labels must be integers, got {list(labels)[:5]}") from exc
    if not np.array_equal(values, np.array([float(v) for v in labels])):
        raise ForecastInputError(f"{name}: {what} labels must be whole numbers")
    return values


def _check_values(values: np.ndarray, rows: pd.Index, cols: np.ndarray, name: str, col: str) -> None:
    bad = np.isnan(values) | (values < 0)
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        kind = "missing (NaN)" if np.isnan(values[i, j]) else f"negative ({values[i, j]:g})"
        raise ForecastInputError(f"{name}: area {rows[i]!r}, {col} {cols[j]}: count is {kind}")


def age_matrix(
    table: pd.DataFrame, name: str, *, min_top_age: int = 0, first_age: int = 0
) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Validate an area x age table; return ``(areas, ages, float64 array)``."""
    if not isinstance(table, pd.DataFrame):
        raise ForecastInputError(f"{name} must be a DataFrame (area x age), got {type(table).__name__}")
    if table.index.has_duplicates:
        dup = table.index[table.index.duplicated()][0]
        raise ForecastInputError(f"{name}: area {dup!r} appears more than once")
    ages = _int_labels(table.columns, "age column", name)
    order = np.argsort(ages)
    ages = ages[order]
    if len(ages) == 0 or ages[0] != first_age:
        raise ForecastInputError(f"{name}: ages must start at {first_age}")
    expected = np.arange(first_age, ages[-1] + 1)
    missing = np.setdiff1d(expected, ages)
    if missing.size:
        raise ForecastInputError(f"{name}: age column {int(missing[0])} is missing (gap in ages)")
    if np.unique(ages).size != ages.size:
        raise ForecastInputError(f"{name}: duplicate age columns")
    if ages[-1] < min_top_age:
        raise ForecastInputError(f"{name}: top age {ages[-1]} < {min_top_age}")
    values = table.to_numpy(dtype=float, na_value=np.nan)[:, order]
    _check_values(values, table.index, ages, name, "age")
    return table.index, ages, values


def births_matrix(births: pd.DataFrame, areas: pd.Index, years: np.ndarray, name: str) -> np.ndarray:
    """Validate births (area x calendar year); return array ``(T, areas)`` for ``years``."""
    if not isinstance(births, pd.DataFrame):
        raise ForecastInputError(f"{name} must be a DataFrame (area x year)")
    extra = births.index.difference(areas)
    if len(extra):
        raise ForecastInputError(f"{name}: area {extra[0]!r} is not in base")
    absent = areas.difference(births.index)
    if len(absent):
        raise ForecastInputError(f"{name}: no births for area {absent[0]!r} of base")
    cols = _int_labels(births.columns, "year column", name)
    missing = np.setdiff1d(years, cols)
    if missing.size:
        raise ForecastInputError(f"{name}: year {int(missing[0])} is missing (gap in birth years)")
    pos = {int(c): i for i, c in enumerate(cols)}
    values = births.reindex(areas).to_numpy(dtype=float, na_value=np.nan)[:, [pos[int(y)] for y in years]]
    _check_values(values, areas, years, name, "year")
    return np.ascontiguousarray(values.T)


def _area_age_frame(obj: pd.DataFrame, areas: pd.Index, ages: np.ndarray, name: str) -> np.ndarray:
    cols = _int_labels(obj.columns, "age column", name)
    missing_ages = np.setdiff1d(ages, cols)
    if missing_ages.size:
        raise ForecastInputError(f"{name}: age {int(missing_ages[0])} is missing")
    absent = areas.difference(obj.index)
    if len(absent):
        raise ForecastInputError(f"{name}: area {absent[0]!r} is missing")
    pos = {int(c): i for i, c in enumerate(cols)}
    return obj.reindex(areas).to_numpy(dtype=float, na_value=np.nan)[:, [pos[int(a)] for a in ages]]


def survival_matrix(survival: pd.Series | pd.DataFrame, areas: pd.Index, ages: np.ndarray) -> np.ndarray:
    """Validate survival by age (Series) or area x age (DataFrame); return ``(areas, ages)``."""
    if isinstance(survival, pd.Series):
        idx = _int_labels(survival.index, "age", "survival")
        s = pd.Series(survival.to_numpy(dtype=float, na_value=np.nan), index=idx)
        missing = np.setdiff1d(ages, idx)
        if missing.size:
            raise ForecastInputError(f"survival: age {int(missing[0])} is missing")
        values = np.broadcast_to(s.reindex(ages).to_numpy(), (len(areas), len(ages)))
    elif isinstance(survival, pd.DataFrame):
        values = _area_age_frame(survival, areas, ages, "survival")
    else:
        raise ForecastInputError("survival must be a Series (age) or DataFrame (area x age)")
    bad = ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        raise ForecastInputError(
            f"survival: area {areas[i]!r}, age {ages[j]}: {values[i, j]} is outside [0, 1]"
        )
    return values


def migration_array(
    rates: pd.Series | pd.DataFrame | None, areas: pd.Index, ages: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """Validate net migration rates; return an array ``(T or 1, areas, ages)``."""
    n, a = len(areas), len(ages)
    if rates is None:
        return np.zeros((1, n, a))
    if isinstance(rates, pd.Series):
        idx = _int_labels(rates.index, "age", "net_migration")
        missing = np.setdiff1d(ages, idx)
        if missing.size:
            raise ForecastInputError(f"net_migration: age {int(missing[0])} is missing")
        s = pd.Series(rates.to_numpy(dtype=float, na_value=np.nan), index=idx).reindex(ages)
        values = np.broadcast_to(s.to_numpy(), (1, n, a)).copy()
        labels = [("all areas", "all years")]
    elif isinstance(rates, pd.DataFrame) and rates.index.nlevels == 2:
        frames = []
        year_level = _int_labels(rates.index.get_level_values(1), "year", "net_migration")
        for y in years:
            if not (year_level == y).any():
                raise ForecastInputError(f"net_migration: year {int(y)} is missing")
            part = rates[year_level == y].droplevel(1)
            frames.append(_area_age_frame(part, areas, ages, f"net_migration year {int(y)}"))
        values = np.stack(frames)
        labels = None
    elif isinstance(rates, pd.DataFrame):
        values = _area_age_frame(rates, areas, ages, "net_migration")[None]
        labels = None
    else:
        raise ForecastInputError("net_migration must be a Series (age) or DataFrame (area x age)")
    bad = ~(values >= -1.0)
    if bad.any():
        t, i, j = (int(x[0]) for x in np.nonzero(bad))
        where = labels[0][0] if labels else repr(areas[i])
        year = int(years[t]) if values.shape[0] > 1 else "all years"
        raise ForecastInputError(
            f"net_migration: area {where}, age {ages[j]}, year {year}: rate {values[t, i, j]} "
            "is missing or below -1"
        )
    return values
