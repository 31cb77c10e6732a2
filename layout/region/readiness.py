"""Readiness checks: what the forecast and the layout plan need beyond a well-formed file.

A region can satisfy every column rule and still stop a run later: a county without villages has no
women 15-49 to calibrate fertility on, a school without base-year enrollment silently gets no
pupils, a births or urbanisation history with a gap breaks the back-tests and the urbanisation fit.
These checks make ``schoolplan data check`` report such gaps up front, each naming the file, the
county / school / year and what the model needs, so that a region that passes the check never
fails the run on data.

The figures below mirror the defaults of :mod:`forecasting` (back-tests and fits); they are the
minimum history the pipeline can work with, not a recommendation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from layout.errors import Problem
from layout.region.parse import ParsedLayer, ProblemList

BIRTHS_MIN_YEARS = 9
"""Years of births per county: the births back-test trains on 8 years and tests on the next."""

BIRTHS_BEFORE_ENROLLMENT = 6
"""Births are needed from this many years before the first enrollment year (entry to G1 at 6)."""

ENROLLMENT_MIN_YEARS = 3
"""Consecutive enrollment years ending in the base year (two back-test origins)."""

URBANISATION_MIN_YEARS = 3
"""Consecutive urbanisation years ending in the base year (the logistic fit needs 3 points)."""


def _county_codes(layers: dict[str, ParsedLayer]) -> list[str]:
    counties = layers.get("counties")
    if counties is None or not counties.has("county_code"):
        return []
    codes = counties.frame["county_code"]
    return sorted(set(codes[codes != ""]))


def _village_county(layers: dict[str, ParsedLayer]) -> pd.Series:
    """County code of each village id (via its township), empty when unknown."""
    villages, towns = layers.get("villages"), layers.get("townships")
    if (
        villages is None
        or towns is None
        or not villages.has("village_id", "township_code")
        or not towns.has("township_code", "county_code")
    ):
        return pd.Series(dtype=object)
    lookup = towns.frame.drop_duplicates("township_code").set_index("township_code")["county_code"]
    frame = villages.frame.drop_duplicates("village_id")
    county = frame["township_code"].map(lookup)
    return pd.Series(county.to_numpy(dtype=object), index=frame["village_id"].to_numpy())


def _year_gaps(years: pd.Series, last: int) -> tuple[list[int], int]:
    """Missing years up to ``last`` and the first year of the consecutive run ending at ``last``.

    The run starts at ``last + 1`` when ``last`` itself is missing.
    """
    have = sorted({int(y) for y in years.dropna() if y <= last})
    if not have:
        return [], last + 1
    missing = sorted(set(range(have[0], last + 1)) - set(have))
    return missing, (missing[-1] + 1 if missing else have[0])


def check_county_residents(layers: dict[str, ParsedLayer], out: ProblemList) -> None:
    """Every county has villages with residents and women 15-49 (fertility is calibrated on them)."""
    codes = _county_codes(layers)
    county = _village_county(layers)
    villages, women = layers.get("villages"), layers.get("women")
    if not codes or county.empty:
        return
    for layer, column, what in (
        (villages, "population", "county has no villages with residents (the forecast needs them)"),
        (women, "persons", "county has no women aged 15-49 (fertility cannot be calibrated)"),
    ):
        if layer is None or not layer.has("village_id", column):
            continue
        for code in _empty_counties(layer, column, county, codes):
            out.append(Problem(layer.file, code, column, "0", what))


def _empty_counties(layer: ParsedLayer, column: str, county: pd.Series,
                    codes: list[str]) -> list[str]:
    """Counties whose ``column`` sums to zero (bad cells, reported already, are not zeros)."""
    values = layer.frame[column]
    key = layer.frame["village_id"].map(county)
    total = values.groupby(key).sum().reindex(codes, fill_value=0.0)
    unknown = (values.isna() | (values < 0)).groupby(key).any().reindex(codes, fill_value=False)
    return sorted(total.index[~(total > 0) & ~unknown])


def check_school_enrollment(layers: dict[str, ParsedLayer], base_year: int, out: ProblemList) -> None:
    """Every school has enrollment rows in the base year (else it silently gets no pupils)."""
    schools, enr = layers.get("schools"), layers.get("enrollment")
    if schools is None or enr is None or not schools.has("school_id"):
        return
    if not enr.has("school_id", "year"):
        return
    have = enr.frame.loc[enr.frame["year"] == base_year, "school_id"]
    ids = schools.frame["school_id"]
    missing = (ids != "") & ~ids.isin(have)
    out.add_rows(schools, missing.to_numpy(), "school_id", ids,
                 f"school has no rows in {enr.file} for the base year {base_year}")


def check_enrollment_history(layers: dict[str, ParsedLayer], base_year: int,
                             out: ProblemList) -> None:
    """Enrollment covers consecutive years up to the base year, in at least two schools.

    The back-tests forecast from each year but the last and measure interval coverage leaving out
    one county (one school or township in a single-county region) and one origin year at a time,
    so they need two origins and two units with pupils in the last two years.
    """
    enr, schools = layers.get("enrollment"), layers.get("schools")
    if enr is None or not enr.has("school_id", "year", "students"):
        return
    missing, first = _year_gaps(enr.frame["year"], base_year)
    if missing or first > base_year - ENROLLMENT_MIN_YEARS + 1:
        gap = f"; no rows for {', '.join(map(str, missing))}" if missing else ""
        out.append(Problem(enr.file, "", "year", "", f"the back-tests need enrollment for at "
                           f"least {ENROLLMENT_MIN_YEARS} consecutive years ending in the base "
                           f"year {base_year}{gap}"))
    if schools is None:
        return
    frame = enr.frame
    recent = frame[frame["year"].isin([base_year - 1, base_year]) & (frame["students"] > 0)]
    years = recent.groupby("school_id")["year"].nunique()
    taught = years.index[years == 2]
    if len(taught) < 2 and len(_county_codes(layers)) > 0:
        out.append(Problem(enr.file, "", "students", str(len(taught)), (
            f"the back-tests need at least two schools with pupils in both {base_year - 1} and "
            f"{base_year} (found {len(taught)})")))


def check_county_history(layers: dict[str, ParsedLayer], base_year: int, first_enrollment: int,
                         out: ProblemList) -> None:
    """Births and urbanisation per county: consecutive years up to the base year, long enough."""
    codes = _county_codes(layers)
    needs = {
        "births": (BIRTHS_MIN_YEARS, first_enrollment - BIRTHS_BEFORE_ENROLLMENT,
                   "the births back-test and the fertility calibration"),
        "urbanisation": (URBANISATION_MIN_YEARS, None, "the urbanisation fit"),
    }
    for name, (min_years, start, why) in needs.items():
        layer = layers.get(name)
        if layer is None or not layer.has("county_code", "year"):
            continue
        need = base_year - min_years + 1 if start is None else min(base_year - min_years + 1, start)
        years = layer.frame.groupby("county_code")["year"]
        for code in codes:
            got = years.get_group(code) if code in years.groups else pd.Series(dtype=float)
            missing, first = _year_gaps(got, base_year)
            if missing or first > need:
                detail = (f"missing years: {', '.join(map(str, missing[:10]))}" if missing
                          else f"found {first}-{base_year}" if first <= base_year
                          else f"no row for {base_year}")
                out.append(Problem(layer.file, code, "year", "", (
                    f"county needs a row for every year from {need} to {base_year} for {why} "
                    f"({detail})")))


def check_urban_shares(layers: dict[str, ParsedLayer], base_year: int, out: ProblemList) -> None:
    """Urban shares strictly between 0 and 1, positive population (logistic fit, migration rate)."""
    urb = layers.get("urbanisation")
    if urb is None or not urb.has("year", "urban_share", "population"):
        return
    fit = (urb.frame["year"] <= base_year).to_numpy()
    share = urb.frame["urban_share"].to_numpy(dtype=float)
    edge = fit & ((share <= 0) | (share >= 1))
    out.add_rows(urb, edge, "urban_share", urb.frame["urban_share"].map(lambda v: f"{v:g}"),
                 "the logistic urbanisation fit needs a share strictly between 0 and 1")
    pop = urb.frame["population"].to_numpy(dtype=float)
    out.add_rows(urb, fit & (pop <= 0), "population", urb.frame["population"].map(
        lambda v: f"{v:g}"), "county population must be positive (migration rates divide by it)")


def check_township_history(layers: dict[str, ParsedLayer], base_year: int,
                           out: ProblemList) -> None:
    """Every township has a base-year row in the township history (the share model starts there)."""
    hist, towns = layers.get("township_history"), layers.get("townships")
    if hist is None or towns is None or not hist.has("township_code", "year"):
        return
    if not towns.has("township_code"):
        return
    have = hist.frame.loc[hist.frame["year"] == base_year, "township_code"]
    codes = towns.frame["township_code"]
    missing = (codes != "") & ~codes.isin(have)
    for code in sorted(set(codes[missing])):
        out.append(Problem(hist.file, code, "year", "", f"township has no row for the base year "
                           f"{base_year} (the township share model starts from it)"))


def check_readiness(layers: dict[str, ParsedLayer], meta: dict[str, Any] | None,
                    out: ProblemList) -> None:
    """Run every readiness check (skipped without a valid ``base_year``)."""
    base_year = meta.get("base_year") if isinstance(meta, dict) else None
    if not isinstance(base_year, int) or isinstance(base_year, bool):
        return
    check_county_residents(layers, out)
    check_school_enrollment(layers, base_year, out)
    check_enrollment_history(layers, base_year, out)
    enr = layers.get("enrollment")
    first = base_year
    if enr is not None and enr.has("year") and np.isfinite(enr.frame["year"]).any():
        first = int(np.nanmin(enr.frame["year"].to_numpy(dtype=float)))
    check_county_history(layers, base_year, min(first, base_year), out)
    check_urban_shares(layers, base_year, out)
    check_township_history(layers, base_year, out)
