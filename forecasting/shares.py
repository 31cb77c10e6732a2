"""Township shares: how a county's births and migration split across its townships.

A township's share of its county's residents changes over time (the county seat grows, remote
townships shrink). :func:`fit_share_model` learns the annual change of the log share from
township attributes with scikit-learn and keeps the learned model only if it beats the
base-year-share baseline (no change) in grouped cross-validation (``GroupKFold`` by county, so a
county is never in its own training folds). Otherwise, or when the history is shorter than three
years, shares stay at their base-year values. The choice and the scores are returned.

Features (per township and year ``t``): log population, past annual log-share change (up to three
years back), distance to the county seat (km), elderly share, urban and county-seat flags.
Target: ``log(share[t+1] / share[t])``. Score: root-mean-square error of the target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from forecasting.errors import ForecastInputError
from forecasting.inputs import require_columns

FEATURES: tuple[str, ...] = (
    "log_pop",
    "past_growth",
    "dist_seat_km",
    "elderly_share",
    "urban",
    "is_county_seat",
)
MIN_YEARS = 3
LAG = 3


class _Regressor(Protocol):
    """The part of the scikit-learn estimator API used here."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Regressor: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


def _models() -> dict[str, _Regressor]:
    return {
        "ridge": make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
        "gradient_boosting": GradientBoostingRegressor(
            n_estimators=150, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=0
        ),
    }


def township_attributes(
    townships: pd.DataFrame, *, projected_crs: str | None = None
) -> pd.DataFrame:
    """Static attributes per township, with the distance to the county seat.

    Parameters
    ----------
    townships : pandas.DataFrame or geopandas.GeoDataFrame
        ``township_code, county_code, urban, is_county_seat, elderly_share`` and either
        ``dist_seat_km``, or a ``geometry`` (polygons; needs ``projected_crs``), or ``lon``/``lat``.
    projected_crs : str, optional
        Metric CRS for distances from geometry, e.g. ``"EPSG:4544"``.

    Returns
    -------
    pandas.DataFrame
        ``township_code, county_code, urban, is_county_seat, elderly_share, dist_seat_km``.
        The seat point of a county is the mean centroid of its county-seat townships.

    """
    require_columns(townships, "townships",
                    ["township_code", "county_code", "urban", "is_county_seat", "elderly_share"])
    out = pd.DataFrame(
        {
            "township_code": townships["township_code"].astype("str").to_numpy(),
            "county_code": townships["county_code"].astype("str").to_numpy(),
            "urban": townships["urban"].astype(float).to_numpy(),
            "is_county_seat": townships["is_county_seat"].astype(float).to_numpy(),
            "elderly_share": townships["elderly_share"].astype(float).to_numpy(),
        }
    )
    if "dist_seat_km" in townships.columns:
        out["dist_seat_km"] = townships["dist_seat_km"].astype(float).to_numpy()
        return out
    if "geometry" in townships.columns and hasattr(townships, "to_crs"):
        if projected_crs is None:
            raise ForecastInputError("distances from geometry need projected_crs")
        c = townships.to_crs(projected_crs).geometry.centroid
        x, y = c.x.to_numpy() / 1000.0, c.y.to_numpy() / 1000.0
    elif {"lon", "lat"}.issubset(townships.columns):
        lat0 = np.deg2rad(float(townships["lat"].mean()))
        x = townships["lon"].to_numpy(dtype=float) * 111.32 * np.cos(lat0)
        y = townships["lat"].to_numpy(dtype=float) * 110.57
    else:
        raise ForecastInputError("townships need dist_seat_km, geometry or lon/lat")
    out["x"], out["y"] = x, y
    seats = out.loc[out["is_county_seat"] > 0].groupby("county_code")[["x", "y"]].mean()
    no_seat = sorted(set(out["county_code"]) - set(seats.index))
    if no_seat:
        raise ForecastInputError(f"townships: county {no_seat[0]} has no county-seat township")
    sx = out["county_code"].map(seats["x"])
    sy = out["county_code"].map(seats["y"])
    out["dist_seat_km"] = np.hypot(out["x"] - sx, out["y"] - sy)
    return out.drop(columns=["x", "y"])


def _panel(history: pd.DataFrame, attrs: pd.DataFrame) -> pd.DataFrame:
    """Township-year panel with shares, features and next-year target."""
    h = history.loc[:, ["township_code", "year", "population"]].copy()
    h["township_code"] = h["township_code"].astype("str")
    h = h.merge(attrs, on="township_code", how="inner")
    tot = h.groupby(["county_code", "year"])["population"].transform("sum")
    h["share"] = h["population"] / tot
    h = h.sort_values(["township_code", "year"]).reset_index(drop=True)
    h["log_share"] = np.log(h["share"].clip(lower=1e-9))
    g = h.groupby("township_code")["log_share"]
    h["target"] = g.shift(-1) - h["log_share"]
    lagged = g.shift(LAG)
    lag1 = g.shift(1)
    h["past_growth"] = np.where(
        lagged.notna(), (h["log_share"] - lagged) / LAG, h["log_share"] - lag1
    )
    h["log_pop"] = np.log1p(h["population"].astype(float))
    return h


@dataclass(frozen=True)
class ShareModel:
    """Chosen township-share model.

    Attributes
    ----------
    method : str
        ``"ridge"``, ``"gradient_boosting"`` or ``"base_year"`` (shares held at base-year values).
    cv_score : float
        Grouped-CV RMSE of the chosen learned model (NaN when none could be fitted).
    baseline_score : float
        Grouped-CV RMSE of the base-year-share baseline (no change) on the same folds.
    reason : str
        Why this method was chosen.
    base_year : int
        Year of the base shares.
    base_shares : pandas.DataFrame
        ``township_code, county_code, share`` in the base year.
    growth : pandas.Series
        Annual log-share change by township code (zero for ``base_year``).
    candidates : pandas.DataFrame
        ``method, cv_score`` of every model tried.

    """

    method: str
    cv_score: float
    baseline_score: float
    reason: str
    base_year: int
    base_shares: pd.DataFrame
    growth: pd.Series
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)

    def predict(self, years: Iterable[int]) -> pd.DataFrame:
        """Shares per township and year (summing to 1 within each county and year).

        Years up to the base year get the base shares.

        Returns
        -------
        pandas.DataFrame
            ``township_code, county_code, year, share``.

        """
        ys = np.asarray(sorted(set(years)), dtype=int)
        b = self.base_shares
        h = np.clip(ys - self.base_year, 0, None)
        g = b["township_code"].map(self.growth).fillna(0.0).to_numpy()
        raw = b["share"].to_numpy()[:, None] * np.exp(g[:, None] * h[None, :])
        out = pd.DataFrame(raw, columns=ys)
        out["township_code"] = b["township_code"].to_numpy()
        out["county_code"] = b["county_code"].to_numpy()
        out = out.melt(["township_code", "county_code"], var_name="year", value_name="share")
        out["year"] = out["year"].astype("int64")
        out["share"] = out["share"] / out.groupby(["county_code", "year"])["share"].transform("sum")
        return out.sort_values(["county_code", "township_code", "year"]).reset_index(drop=True)

    def split(self, county_values: pd.DataFrame, value: str = "births") -> pd.DataFrame:
        """Split county totals (``county_code, year, value``) across townships by their shares.

        Returns
        -------
        pandas.DataFrame
            ``township_code, county_code, year, value``; township values sum to the county's.

        """
        cv = county_values.loc[:, ["county_code", "year", value]].astype({"county_code": "str"})
        sh = self.predict(cv["year"].unique())
        out = sh.merge(cv, on=["county_code", "year"], how="inner")
        out[value] = out[value] * out["share"]
        return out.loc[:, ["township_code", "county_code", "year", value]]


def _base_year_model(reason: str, base_year: int, base: pd.DataFrame, cv: float = np.nan,
                     baseline: float = np.nan, cands: pd.DataFrame | None = None) -> ShareModel:
    """The fallback: shares held at their base-year values (zero growth)."""
    return ShareModel(
        method="base_year",
        cv_score=cv,
        baseline_score=baseline,
        reason=reason,
        base_year=base_year,
        base_shares=base,
        growth=pd.Series(0.0, index=base["township_code"].to_numpy()),
        candidates=pd.DataFrame(columns=["method", "cv_score"]) if cands is None else cands,
    )


def _cv_scores(X: np.ndarray, y: np.ndarray, groups: np.ndarray,
               n_splits: int) -> tuple[dict[str, float], float]:
    """Grouped-CV RMSE of each candidate model and of the zero-change baseline (same folds)."""
    folds = list(GroupKFold(n_splits=n_splits).split(X, y, groups))
    baseline = float(np.sqrt(np.mean(y**2)))  # zero change, scored on every held-out row once
    scores = {}
    for name, model in _models().items():
        pred = np.empty_like(y)
        for tr, te in folds:
            pred[te] = model.fit(X[tr], y[tr]).predict(X[te])
        scores[name] = float(np.sqrt(np.mean((pred - y) ** 2)))
    return scores, baseline


def fit_share_model(
    history: pd.DataFrame,
    townships: pd.DataFrame,
    *,
    base_year: int | None = None,
    projected_crs: str | None = None,
    n_splits: int = 5,
) -> ShareModel:
    """Fit and validate the township-share model, falling back to base-year shares.

    Parameters
    ----------
    history : pandas.DataFrame
        ``township_code, year, population`` (``township_history.csv``).
    townships : pandas.DataFrame
        Township attributes, see :func:`township_attributes`.
    base_year : int, optional
        Default: the last year of ``history``.
    projected_crs : str, optional
        For distances from geometry.
    n_splits : int
        Folds of ``GroupKFold`` (capped at the number of counties).

    Returns
    -------
    ShareModel

    """
    require_columns(history, "township_history", ["township_code", "year", "population"])
    attrs = township_attributes(townships, projected_crs=projected_crs)
    panel = _panel(history, attrs)
    years = sorted(int(y) for y in panel["year"].unique())
    if not years:
        raise ForecastInputError("township_history has no rows matching the townships")
    by = years[-1] if base_year is None else int(base_year)
    if by not in years:
        raise ForecastInputError(f"township_history has no year {by}")
    base = panel.loc[panel["year"] == by, ["township_code", "county_code", "share"]]
    base = base.reset_index(drop=True)
    n_years = sum(y <= by for y in years)
    if n_years < MIN_YEARS:
        return _base_year_model(
            f"history has {n_years} years up to {by} (< {MIN_YEARS}): base-year shares", by, base)
    train = panel.loc[(panel["year"] < by) & panel["target"].notna() & panel["past_growth"].notna()]
    groups = train["county_code"].to_numpy()
    n_groups = len(set(groups))
    if n_groups < 2 or len(train) < 10:
        return _base_year_model(
            f"{n_groups} counties / {len(train)} samples: too few for grouped CV", by, base)
    X = train.loc[:, list(FEATURES)].to_numpy(dtype=float)
    y = train["target"].to_numpy(dtype=float)
    scores, baseline = _cv_scores(X, y, groups, min(n_splits, n_groups))
    cands = pd.DataFrame({"method": list(scores), "cv_score": list(scores.values())})
    best = min(scores, key=scores.__getitem__)
    if scores[best] >= baseline:
        return _base_year_model(
            f"best model {best} CV RMSE {scores[best]:.5f} not better than base-year shares "
            f"{baseline:.5f}", by, base, scores[best], baseline, cands)
    model = _models()[best].fit(X, y)
    now = panel.loc[panel["year"] == by].set_index("township_code")
    now = now.reindex(base["township_code"])
    feats = now.loc[:, list(FEATURES)].fillna(0.0).to_numpy(dtype=float)
    growth = pd.Series(model.predict(feats), index=base["township_code"].to_numpy())
    return ShareModel(
        method=best,
        cv_score=scores[best],
        baseline_score=baseline,
        reason=f"{best} CV RMSE {scores[best]:.5f} < base-year shares {baseline:.5f}",
        base_year=by,
        base_shares=base,
        growth=growth,
        candidates=cands,
    )
