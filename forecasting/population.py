"""Regional driver: township population by single age 0-17 and county births under a scenario.

Method (all tables as in ``data/geo/README.md``; see the modules for each assumption):

1. children (0-17) and women (15-49) of the base year are summed from villages to townships;
2. each county's fertility scale is calibrated so base-year women reproduce base-year births
   (:mod:`forecasting.fertility`); births of year ``t`` in a township are
   ``scale[county] * tfr[t] * sum_a schedule[a] * women[a, t]``;
3. children and women are projected together year by year by
   :func:`forecasting.joint.project_joint` (the cohort-component step of :mod:`forecasting.cohort`):
   approximate China 2020 survival, each county's overall net migration rate by age (:mod:`forecasting.migration`), rural-to-town family moves from the
   projected urban share (:mod:`forecasting.urbanisation`), girls aged 14 entering the women
   table at 15; children aged 17 and women aged 49 leave the tables;
4. a township keeps its base-year share of each birth cohort of its county, apart from the
   urbanisation moves (the default "base-year share" model). ``share_model`` changes it, in one
   of two forms:

   * an object with ``predict(years) -> DataFrame(township_code, year, share)`` (e.g.
     :class:`forecasting.shares.ShareModel`, shares of county residents): each township's
     default values are multiplied by ``share(t) / share(base_year)`` and renormalised within
     county, year and age, so the cohort structure is kept and the county totals are unchanged;
   * a callable ``share_model(county_totals, townships_default) -> DataFrame`` returning
     ``township_code, year, share`` (optionally ``age``) summing to 1 per county and year (and
     age): township population = county total x share.
5. with ``draws > 0``, a Monte Carlo over TFR, migration rates and the urbanisation target
   (:mod:`forecasting.uncertainty`) gives P10/P50/P90 per township, age group and year and per
   county births. Draws run as one ``(draws, townships, ages)`` array; no loop over areas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from forecasting import fertility, migration, uncertainty, urbanisation
from forecasting.errors import ForecastInputError
from forecasting.inputs import age_matrix, require_columns
from forecasting.joint import JointPaths, JointRegion, age_group_membership, start_joint
from forecasting.scenario import ForecastScenario
from schoolsystem import vocabulary

AGE_GROUPS = vocabulary.AGE_GROUPS
CHILD_AGES = np.asarray(vocabulary.CHILD_AGES)
WOMEN_AGES = np.asarray(vocabulary.WOMEN_AGES)


@runtime_checkable
class SharePredictor(Protocol):
    """Share model with ``predict(years) -> DataFrame(township_code, year, share)``."""

    def predict(self, years: Iterable[int]) -> pd.DataFrame: ...


ShareFunction = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
ShareModel = SharePredictor | ShareFunction  # the two forms of the module docstring, step 4


@dataclass(frozen=True)
class PopulationForecast:
    """Result of :func:`project_population` (all tables long, ids as str)."""

    townships: pd.DataFrame  # township_code, county_code, year, age, population
    births: pd.DataFrame  # county_code, year, births, kind (observed / projected), tfr
    urban_share: pd.DataFrame  # county_code, year, urban_share
    parameters: pd.DataFrame  # per county: fertility_scale, net_migration_rate, logistic fit
    villages: pd.DataFrame | None = None  # village_id, township_code, year, age, population
    intervals: pd.DataFrame | None = None  # township_code, county_code, year, age_group, p10..p90
    birth_intervals: pd.DataFrame | None = None  # county_code, year, p10, p50, p90


def _as_bool(values: pd.Series) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy()
    return values.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


def _by_township(table: pd.DataFrame, villages: pd.DataFrame, name: str, codes: pd.Index) -> pd.DataFrame:
    require_columns(table, name, ["village_id", "age", "persons"])
    vt = villages.set_index(villages["village_id"].astype(str))["township_code"].astype(str)
    vid = table["village_id"].astype(str)
    unknown = ~vid.isin(vt.index)
    if unknown.any():
        raise ForecastInputError(f"{name}: village {vid[unknown].iloc[0]!r} is not in villages")
    persons = pd.to_numeric(table["persons"], errors="coerce")
    if persons.isna().any() or (persons < 0).any():
        i = int(np.argmax(persons.isna().to_numpy() | (persons < 0).to_numpy()))
        raise ForecastInputError(
            f"{name}: village {vid.iloc[i]!r}, age {table['age'].iloc[i]}: persons "
            f"{table['persons'].iloc[i]!r} is missing or negative"
        )
    frame = pd.DataFrame({"t": vt.reindex(vid).to_numpy(), "age": table["age"].astype(int).to_numpy(),
                          "p": persons.to_numpy(float)})
    wide = frame.pivot_table(index="t", columns="age", values="p", aggfunc="sum", fill_value=0.0)
    return wide.reindex(codes, fill_value=0.0)


def _county_rates(scenario: ForecastScenario, urb: pd.DataFrame, births: pd.DataFrame,
                  counties: pd.Index) -> np.ndarray:
    if scenario.out_migration.rate is not None:
        return np.full(len(counties), scenario.out_migration.rate)
    hist = migration.overall_net_migration_rate(urb, births)
    missing = counties.difference(hist.index)
    if len(missing):
        raise ForecastInputError(f"urbanisation.csv: no history for county {missing[0]!r}")
    return hist.reindex(counties).to_numpy(float) * scenario.out_migration.scale


@dataclass(frozen=True)
class _BaseTables:
    """Base-year inputs of :func:`project_population`, normalised (ids as str, township order)."""

    tw: pd.DataFrame  # township_code, county_code, is_county_seat, is_central_town, urban
    codes: pd.Index  # township codes (projection order)
    counties: pd.Index  # county codes (sorted)
    member: np.ndarray  # (townships, counties) one-hot
    area_county: np.ndarray  # (townships,) column of each township's county
    villages: pd.DataFrame  # villages with str ids
    kids: np.ndarray  # (townships, 18) children 0-17
    women: np.ndarray  # (townships, 35) women 15-49
    births: pd.DataFrame  # births history, str county_code, int year
    urbanisation: pd.DataFrame  # urbanisation history, str county_code, int year


@dataclass(frozen=True)
class _CountyParameters:
    """Per-county parameters calibrated on the history up to the base year."""

    scale: np.ndarray  # fertility scale
    fits: pd.DataFrame  # logistic urbanisation fit, indexed by county_code
    rates: np.ndarray  # overall net migration rate


@dataclass(frozen=True)
class _ScenarioPaths:
    """Scenario paths; draws axis: draw 0 = central (noise-free), draws 1..D = Monte Carlo."""

    tfr: np.ndarray  # (T,) central reference TFR
    tfr_draws: np.ndarray  # (T, D1)
    rate_draws: np.ndarray  # (D1, counties)
    urban: np.ndarray  # (D1, counties, T + 1)


def _check_region_tables(villages: pd.DataFrame, townships: pd.DataFrame, births_hist: pd.DataFrame,
                         urbanisation_hist: pd.DataFrame) -> None:
    """Raise :class:`ForecastInputError` naming the first missing column."""
    require_columns(villages, "villages", ["village_id", "township_code"])
    require_columns(townships, "townships", ["township_code", "county_code", "is_county_seat",
                                   "is_central_town", "urban"])
    require_columns(births_hist, "births", ["county_code", "year", "births"])
    require_columns(urbanisation_hist, "urbanisation", ["county_code", "year", "population", "urban_share"])


def _base_tables(children: pd.DataFrame, women: pd.DataFrame, births_hist: pd.DataFrame,
                 urbanisation_hist: pd.DataFrame, villages: pd.DataFrame,
                 townships: pd.DataFrame) -> _BaseTables:
    """Townships in code order, county membership and base-year stocks summed from villages."""
    _check_region_tables(villages, townships, births_hist, urbanisation_hist)
    tw = pd.DataFrame({
        "township_code": townships["township_code"].astype(str).to_numpy(),
        "county_code": townships["county_code"].astype(str).to_numpy(),
        "is_county_seat": _as_bool(townships["is_county_seat"]),
        "is_central_town": _as_bool(townships["is_central_town"]),
        "urban": _as_bool(townships["urban"]),
    }).sort_values("township_code", ignore_index=True)
    codes = pd.Index(tw["township_code"])
    counties = pd.Index(sorted(tw["county_code"].unique()))
    member = (tw["county_code"].to_numpy()[:, None] == counties.to_numpy()[None, :]).astype(float)

    vill = villages.assign(village_id=villages["village_id"].astype(str),
                           township_code=villages["township_code"].astype(str))
    kids = age_matrix(_by_township(children, vill, "children", codes), "children", min_top_age=17)[2]
    wom = _by_township(women, vill, "women", codes)
    wom_arr = age_matrix(wom, "women", first_age=15, min_top_age=49)[2][:, :35]
    return _BaseTables(
        tw=tw, codes=codes, counties=counties, member=member, area_county=member.argmax(axis=1),
        villages=vill, kids=kids[:, :18], women=wom_arr,
        births=births_hist.assign(county_code=births_hist["county_code"].astype(str),
                                  year=births_hist["year"].astype(int)),
        urbanisation=urbanisation_hist.assign(county_code=urbanisation_hist["county_code"].astype(str),
                                              year=urbanisation_hist["year"].astype(int)),
    )


def _county_parameters(base: _BaseTables, scenario: ForecastScenario,
                       base_year: int) -> _CountyParameters:
    """Fertility scales (base-year births), urbanisation fits and net migration rates."""
    births, urb, counties = base.births, base.urbanisation, base.counties
    base_births = births[births["year"] == base_year].set_index("county_code")["births"].astype(float)
    missing = counties.difference(base_births.index)
    if len(missing):
        raise ForecastInputError(f"births: county {missing[0]!r} has no births in {base_year}")
    wom_county = pd.DataFrame(base.member.T @ base.women, index=counties, columns=WOMEN_AGES)
    scale = fertility.calibrate_scale(base_births.reindex(counties), wom_county).to_numpy()
    fits = urbanisation.fit_counties(urb[urb["year"] <= base_year]).reindex(counties)
    fits = fits.rename_axis("county_code")
    rates = _county_rates(scenario, urb[urb["year"] <= base_year], births, counties)
    return _CountyParameters(scale=scale, fits=fits, rates=rates)


def _scenario_paths(scenario: ForecastScenario, params: _CountyParameters, base_year: int,
                    horizon: int, n_draws: int, seed: int) -> _ScenarioPaths:
    """TFR, migration rates and urban shares per draw (central path first, then seeded draws)."""
    us = scenario.urbanisation
    tfr = fertility.tfr_path(scenario.tfr_path, horizon, target=scenario.tfr_target,
                             target_k=(scenario.tfr_target_year - base_year)
                             if scenario.tfr_target_year else None)
    rng = np.random.default_rng(seed)
    tfr_d = np.concatenate([tfr[:, None], uncertainty.tfr_draws(rng, tfr, n_draws, scenario.tfr_sd)], 1)
    rate_d = np.concatenate([params.rates[None], uncertainty.rate_draws(
        rng, params.rates, n_draws, scenario.out_migration.sd)])
    tgt = None
    if us.target is not None:
        tgt = np.concatenate([[us.target], uncertainty.target_draws(rng, us.target, n_draws,
                                                                    us.target_sd)])
    u_path = urbanisation.project_urban_share(params.fits, base_year, horizon, speed=us.speed,
                                              target=tgt, target_year=us.target_year)
    if u_path.ndim == 2:
        u_path = np.broadcast_to(u_path, (n_draws + 1, *u_path.shape))
    return _ScenarioPaths(tfr=tfr, tfr_draws=tfr_d, rate_draws=rate_d, urban=u_path)


def _joint_region(base: _BaseTables, scale: np.ndarray) -> JointRegion:
    """County membership, urbanisation senders / receivers (by base population) and scales."""
    vill = base.villages
    base_pop = vill.groupby("township_code")["population"].sum() if "population" in vill else \
        pd.Series(base.kids.sum(1), index=base.codes)
    sender, weights = migration.receiver_weights(base.tw, base_pop.reindex(base.codes).fillna(0.0))
    return JointRegion(area_county=base.area_county, membership=base.member, sender=sender,
                       weights=weights, fertility_scale=scale)


def _township_table(cube: np.ndarray, base: _BaseTables, years: np.ndarray) -> pd.DataFrame:
    """Long table ``township_code, county_code, year, age, population`` of a (T+1, N, 18) path."""
    n_year, n_area = len(years), len(base.codes)
    return pd.DataFrame({
        "township_code": np.tile(np.repeat(base.codes.to_numpy(dtype=object), 18), n_year),
        "county_code": np.tile(np.repeat(base.tw["county_code"].to_numpy(dtype=object), 18), n_year),
        "year": np.repeat(years, n_area * 18),
        "age": np.tile(CHILD_AGES, n_area * n_year),
        "population": cube.reshape(-1),
    })


def _births_table(base: _BaseTables, base_year: int, years: np.ndarray, projected: np.ndarray,
                  tfr: np.ndarray) -> pd.DataFrame:
    """Observed births up to the base year and projected births (``projected``: (T, counties))."""
    births, counties = base.births, base.counties
    obs = births[births["county_code"].isin(counties) & (births["year"] <= base_year)]
    return pd.concat([
        pd.DataFrame({"county_code": obs["county_code"].to_numpy(), "year": obs["year"].to_numpy(),
                      "births": obs["births"].astype(float).to_numpy(), "kind": "observed",
                      "tfr": np.nan}),
        pd.DataFrame({"county_code": np.tile(counties.to_numpy(dtype=object), len(years) - 1),
                      "year": np.repeat(years[1:], len(counties)), "births": projected.reshape(-1),
                      "kind": "projected", "tfr": np.repeat(tfr, len(counties))}),
    ], ignore_index=True).sort_values(["county_code", "year"], ignore_index=True)


def project_population(
    children: pd.DataFrame,
    women: pd.DataFrame,
    births_hist: pd.DataFrame,
    urbanisation_hist: pd.DataFrame,
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    scenario: ForecastScenario,
    base_year: int,
    horizon: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    *,
    share_model: ShareModel | None = None,
    by_village: bool = False,
    calibration: float | Sequence[float] | Mapping[int, float] | None = None,
    age_groups: Mapping[str, tuple[int, int]] = AGE_GROUPS,
) -> PopulationForecast:
    """Project township children 0-17 and county births for ``horizon`` years.

    Parameters
    ----------
    children, women, births_hist, urbanisation_hist, villages, townships : DataFrame
        Region tables (``children.csv`` ... ``townships`` attributes); ids may be str or int.
    scenario : ForecastScenario
        From :func:`forecasting.scenario.load_forecast_scenario`.
    base_year : int
        Year of the children / women stocks (the region's ``base_year``).
    horizon, draws, seed : int, optional
        Override the scenario's values.
    share_model : ShareModel, optional
        Replaces the default base-year cohort shares (see the module docstring).
    by_village : bool
        Also return villages (township result split by base-year village shares per cohort).
    calibration : float, sequence or mapping, optional
        Interval width factor per horizon (default: the scenario's ``calibration``).
    age_groups : mapping
        Age groups of the interval table.

    Returns
    -------
    PopulationForecast

    """
    start = start_population(children, women, births_hist, urbanisation_hist, villages,
                             townships, scenario, base_year, horizon, draws, seed,
                             by_village=by_village, calibration=calibration,
                             age_groups=age_groups)
    return start(share_model)


def start_population(
    children: pd.DataFrame,
    women: pd.DataFrame,
    births_hist: pd.DataFrame,
    urbanisation_hist: pd.DataFrame,
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    scenario: ForecastScenario,
    base_year: int,
    horizon: int | None = None,
    draws: int | None = None,
    seed: int | None = None,
    *,
    by_village: bool = False,
    calibration: float | Sequence[float] | Mapping[int, float] | None = None,
    age_groups: Mapping[str, tuple[int, int]] = AGE_GROUPS,
) -> Callable[[ShareModel | None], PopulationForecast]:
    """Start :func:`project_population`; the returned function takes the share model and ends it.

    The projection proper (:func:`forecasting.joint.start_joint`, per group of counties) is
    started here: on a cluster the workers project while the caller fits the share model (it is
    only needed afterwards, to split county totals into townships). Arguments as
    :func:`project_population`, whose result the returned function gives.
    """
    horizon = int(horizon if horizon is not None else scenario.horizon)
    n_draws = int(draws if draws is not None else scenario.draws)
    seed = int(seed if seed is not None else scenario.seed)
    base = _base_tables(children, women, births_hist, urbanisation_hist, villages, townships)
    params = _county_parameters(base, scenario, base_year)
    paths = _scenario_paths(scenario, params, base_year, horizon, n_draws, seed)
    factors = uncertainty.calibration_factors(
        calibration if calibration is not None else scenario.calibration, horizon) if n_draws else None
    pending = start_joint(base.kids, base.women, paths.tfr_draws, paths.rate_draws, paths.urban,
                          _joint_region(base, params.scale),
                          group_member=age_group_membership(age_groups), factors=factors)
    return partial(_finish_population, pending, base, params, paths, base_year, horizon,
                   by_village, age_groups, children, women)


def _finish_population(pending: Callable[[], JointPaths], base: _BaseTables,
                       params: _CountyParameters,
                       paths: _ScenarioPaths, base_year: int, horizon: int, by_village: bool,
                       age_groups: Mapping[str, tuple[int, int]], children: pd.DataFrame,
                       women: pd.DataFrame, share_model: ShareModel | None) -> PopulationForecast:
    """The tables of :func:`project_population` once its projection (``pending``) is done."""
    joint = pending()

    years = np.arange(base_year, base_year + horizon + 1)
    default_town = town = _township_table(joint.children, base, years)
    if share_model is not None:
        town = _apply_shares(town, share_model)
    births_table = _births_table(base, base_year, years, joint.births @ base.member, paths.tfr)
    urban_table = pd.DataFrame({
        "county_code": np.repeat(base.counties.to_numpy(dtype=object), horizon + 1),
        "year": np.tile(years, len(base.counties)), "urban_share": paths.urban[0].reshape(-1)})
    table_params = params.fits.assign(fertility_scale=params.scale,
                                      net_migration_rate=params.rates).reset_index()
    intervals = birth_intervals = None
    if joint.group_quantiles is not None and joint.birth_quantiles is not None:
        intervals, birth_intervals = _interval_tables(
            joint.group_quantiles, joint.birth_quantiles, base, years,
            town if share_model is not None else None, default_town, age_groups)
    village_table = _split_villages(town, children, women, base.villages, horizon) if by_village else None
    return PopulationForecast(town, births_table, urban_table, table_params, village_table,
                              intervals, birth_intervals)


def _relative_shares(town: pd.DataFrame, model: SharePredictor) -> pd.DataFrame:
    """Shares = default x share(t) / share(base), renormalised per county, year and age."""
    years = np.sort(town["year"].unique())
    pred = model.predict(years)
    require_columns(pred, "share_model.predict result", ["township_code", "year", "share"])
    pred = pred.assign(township_code=pred["township_code"].astype(str),
                       year=pred["year"].astype(int))
    wide = pred.pivot_table(index="township_code", columns="year", values="share")
    codes = town["township_code"].unique()
    missing = pd.Index(codes).difference(wide.index)
    if len(missing):
        raise ForecastInputError(f"share_model.predict result: no share for township {missing[0]!r}")
    wide = wide.reindex(index=codes, columns=years)
    if wide.isna().to_numpy().any() or (wide.to_numpy() <= 0).any():
        raise ForecastInputError("share_model.predict result: shares missing or not positive")
    ratio = (wide.div(wide[years[0]], axis=0)).stack().rename("ratio").reset_index()
    ratio.columns = ["township_code", "year", "ratio"]
    weighted = town.merge(ratio, on=["township_code", "year"], how="left")
    value = weighted["population"] * weighted["ratio"]
    total = value.groupby([weighted["county_code"], weighted["year"], weighted["age"]]).transform("sum")
    n_town = weighted.groupby(["county_code", "year", "age"])["township_code"].transform("count")
    share = np.where(total > 0, value / total.where(total > 0, 1.0), 1.0 / n_town)
    return weighted.assign(share=share)[["township_code", "year", "age", "share"]]


def _apply_shares(town: pd.DataFrame, share_model: ShareModel) -> pd.DataFrame:
    """Replace township values by county totals x shares from ``share_model``."""
    totals = town.groupby(["county_code", "year", "age"], as_index=False)["population"].sum()
    if isinstance(share_model, SharePredictor):  # an object with .predict (runtime: hasattr)
        shares = _relative_shares(town, share_model)
    else:
        shares = share_model(totals, town.copy())
    require_columns(shares, "share_model result", ["township_code", "year", "share"])
    keys = ["township_code", "year"] + (["age"] if "age" in shares.columns else [])
    shares = shares.assign(township_code=shares["township_code"].astype(str),
                           year=shares["year"].astype(int))
    if shares.duplicated(keys).any():
        raise ForecastInputError(f"share_model result: duplicate rows for keys {keys}")
    merged = town.merge(shares[[*keys, "share"]], on=keys, how="left")
    bad = merged["share"].isna() | (merged["share"] < 0)
    if bad.any():
        row = merged[bad].iloc[0]
        raise ForecastInputError(
            f"share_model result: township {row['township_code']!r}, year {row['year']}: share "
            "missing or negative")
    sums = merged.groupby(["county_code", "year", "age"])["share"].transform("sum")
    off = ~np.isclose(sums, 1.0, atol=1e-6)
    if off.any():
        row = merged[off].iloc[0]
        raise ForecastInputError(
            f"share_model result: shares of county {row['county_code']!r}, year {row['year']} "
            f"sum to {sums[off].iloc[0]:.6f}, not 1")
    merged = merged.merge(totals.rename(columns={"population": "total"}),
                          on=["county_code", "year", "age"])
    return merged.assign(population=merged["total"] * merged["share"])[list(town.columns)]


def _group_sums(town: pd.DataFrame, age_groups: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    labels = pd.Series(pd.NA, index=town.index, dtype=object)
    for name, (lo, hi) in age_groups.items():
        labels[town["age"].between(lo, hi)] = name
    return town.assign(age_group=labels).dropna(subset=["age_group"]).groupby(
        ["township_code", "year", "age_group"])["population"].sum()


def _interval_tables(group_q: np.ndarray, birth_q: np.ndarray, base: _BaseTables, years: np.ndarray,
                     adjusted: pd.DataFrame | None, default: pd.DataFrame,
                     age_groups: Mapping[str, tuple[int, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P10/P50/P90 per township x age group x year and per county x year.

    ``group_q`` (T, 3, townships, groups) and ``birth_q`` (T, 3, counties) are the Monte Carlo
    quantiles of :func:`forecasting.joint.project_joint`; the base year gets the base stock.
    """
    codes, tw, counties, names = base.codes, base.tw, base.counties, list(age_groups)
    base_groups = _group_sums(default[default["year"] == years[0]], age_groups)
    base_arr = base_groups.droplevel("year").unstack("age_group").reindex(index=codes, columns=names).to_numpy()
    q = np.concatenate([np.repeat(base_arr[None], 3, 0)[None], group_q])
    n, g = len(codes), len(names)
    table = pd.DataFrame({
        "township_code": np.tile(np.repeat(codes.to_numpy(dtype=object), g), len(years)),
        "county_code": np.tile(np.repeat(tw["county_code"].to_numpy(dtype=object), g), len(years)),
        "year": np.repeat(years, n * g),
        "age_group": np.tile(names, n * len(years)),
        "p10": q[:, 0].reshape(-1), "p50": q[:, 1].reshape(-1), "p90": q[:, 2].reshape(-1),
    })
    if adjusted is not None:  # rescale by the share model's change of the central projection
        ratio = (_group_sums(adjusted, age_groups) / _group_sums(default, age_groups)).fillna(1.0)
        r = ratio.reindex(pd.MultiIndex.from_frame(table[["township_code", "year", "age_group"]]))
        r = r.fillna(1.0).to_numpy()
        table[["p10", "p50", "p90"]] = table[["p10", "p50", "p90"]].to_numpy() * r[:, None]
    births = pd.DataFrame({
        "county_code": np.tile(counties.to_numpy(dtype=object), len(years) - 1),
        "year": np.repeat(years[1:], len(counties)),
        "p10": birth_q[:, 0].reshape(-1), "p50": birth_q[:, 1].reshape(-1),
        "p90": birth_q[:, 2].reshape(-1),
    })
    return table, births


def _split_villages(town: pd.DataFrame, children: pd.DataFrame, women: pd.DataFrame,
                    vill: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Split townships into villages by each cohort's base-year village share."""
    vids = pd.Index(sorted(vill["village_id"].unique()))
    vt = vill.set_index("village_id")["township_code"].reindex(vids)
    kids = children.assign(village_id=children["village_id"].astype(str)).pivot_table(
        index="village_id", columns="age", values="persons", aggfunc="sum").reindex(
        index=vids, columns=CHILD_AGES, fill_value=0.0).fillna(0.0).to_numpy(float)
    wom = women.assign(village_id=women["village_id"].astype(str)).pivot_table(
        index="village_id", columns="age", values="persons", aggfunc="sum").reindex(
        index=vids, columns=WOMEN_AGES, fill_value=0.0).fillna(0.0).to_numpy(float)
    weighted = wom @ fertility.asfr_schedule().to_numpy()
    grp = vt.to_numpy()

    def within(x: np.ndarray) -> np.ndarray:
        tot = pd.DataFrame(x).groupby(grp).transform("sum").to_numpy()
        size = pd.Series(1.0, index=range(len(grp))).groupby(grp).transform("sum").to_numpy()
        return np.where(tot > 0, x / np.where(tot > 0, tot, 1.0), 1.0 / size.reshape(-1, *[1] * (x.ndim - 1)))

    s_age = within(kids)  # (V, 18)
    s_birth = within(weighted[:, None])[:, 0]
    years = np.sort(town["year"].unique())
    cube = town.set_index(["township_code", "year", "age"])["population"]
    frames = []
    for k, year in enumerate(years):
        src = CHILD_AGES - k
        share = np.where(src >= 0, s_age[:, np.clip(src, 0, None)], s_birth[:, None])
        tp = cube.xs(year, level="year").unstack("age").reindex(index=grp, columns=CHILD_AGES)
        pop = tp.to_numpy(float) * share
        frames.append(pd.DataFrame({
            "village_id": np.repeat(vids.to_numpy(dtype=object), 18),
            "township_code": np.repeat(grp, 18), "year": int(year),
            "age": np.tile(CHILD_AGES, len(vids)), "population": pop.reshape(-1)}))
    return pd.concat(frames, ignore_index=True)
