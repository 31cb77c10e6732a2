"""PNG charts for planners: fan charts of demand and children's population pyramids.

Matplotlib with the non-interactive Agg backend. Labels are English; Chinese names (county,
level) are added only when a font with CJK glyphs is installed (:func:`cjk_font`), because
matplotlib draws empty boxes otherwise. No font is downloaded at run time. Files are written to a
temporary file in the target folder and moved into place, so a failed plot leaves no partial file.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from forecasting.errors import ForecastInputError
from schoolsystem.vocabulary import BAND_LABELS_ZH

_CJK_HINTS = ("CJK", "Hei", "Song", "Kai", "WenQuanYi", "Noto Sans SC", "Source Han", "Fang")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font that draws Chinese, or ``None`` (checked once per process)."""
    for f in font_manager.fontManager.ttflist:
        if any(h.lower() in f.name.lower() for h in _CJK_HINTS):
            return f.name
    return None


def _label(english: str, chinese: str | None) -> str:
    if chinese and cjk_font() is not None:
        return f"{english} {chinese}"
    return english


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=out.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=120)  # fixed margins: no second (tight) draw
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return out


def _figure() -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.12, top=0.9)  # fixed: one draw per save
    font = cjk_font()
    if font is not None:
        for t in (ax.title, ax.xaxis.label, ax.yaxis.label):
            t.set_fontfamily([font, "DejaVu Sans"])
    return fig, ax


def fan_chart(
    forecast: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    history: pd.DataFrame | None = None,
    title: str = "",
    title_zh: str | None = None,
    value: str = "demand",
) -> Path:
    """Fan chart: P10-P90 band, P50 line and the recorded history.

    Parameters
    ----------
    forecast : pandas.DataFrame
        One row per year: ``year``, ``p10``, ``p50``, ``p90`` (or only ``value``).
        Rows of several areas are summed per year.
    path : path-like
        Output PNG.
    history : pandas.DataFrame, optional
        ``year`` and ``value`` (e.g. recorded enrollment); summed per year.
    title, title_zh : str
        English title and optional Chinese title (shown only with a CJK font).
    value : str
        Point column when there are no quantile columns, and history value column.

    Returns
    -------
    pathlib.Path
        The written file.

    """
    if forecast.empty or "year" not in forecast.columns:
        raise ForecastInputError("fan chart needs a non-empty forecast table with a year column")
    cols = [c for c in ("p10", "p50", "p90", value) if c in forecast.columns]
    if not cols:
        raise ForecastInputError(f"forecast table needs p10/p50/p90 or {value!r}")
    f = forecast.groupby("year", sort=True)[cols].sum()
    mid = f["p50"] if "p50" in f.columns else f[value]
    fig, ax = _figure()
    if {"p10", "p90"}.issubset(f.columns):
        ax.fill_between(f.index, f["p10"], f["p90"], alpha=0.25, color="tab:blue", label="P10-P90")
    ax.plot(f.index, mid, color="tab:blue", lw=2, label="P50" if "p50" in f.columns else value)
    if history is not None and not history.empty:
        hcol = value if value in history.columns else "students"
        h = history.groupby("year", sort=True)[hcol].sum()
        ax.plot(h.index, h.to_numpy(), color="black", lw=1.5, marker="o", ms=3, label="recorded")
    ax.set_xlabel("year")
    ax.set_ylabel("pupils")
    ax.set_ylim(bottom=0)
    ax.set_title(_label(title, title_zh))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def fan_charts_by_county(
    demand: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    county_of: pd.Series | None = None,
    history: pd.DataFrame | None = None,
    county_names: dict[str, str] | None = None,
) -> list[Path]:
    """One fan chart per county and level (grade band), named ``fan_<county>_<band>.png``.

    Parameters
    ----------
    demand : pandas.DataFrame
        Tidy demand ``area, grade_band, year`` and ``p10, p50, p90`` (or ``demand``).
    out_dir : path-like
        Output folder.
    county_of : pandas.Series, optional
        Area -> county code; default the first six digits of ``area``.
    history : pandas.DataFrame, optional
        ``county_code, grade_band, year, students`` recorded enrollment.
    county_names : dict, optional
        County code -> Chinese name, shown in titles when a CJK font exists.

    Returns
    -------
    list of pathlib.Path

    """
    d = demand.copy()
    area = d["area"].astype("str")
    d["county_code"] = area.str.slice(0, 6) if county_of is None else area.map(county_of)
    paths = []
    for (county, band), sub in d.groupby(["county_code", "grade_band"], sort=True):
        hist = None
        if history is not None:
            hist = history.loc[
                (history["county_code"].astype("str") == county) & (history["grade_band"] == band)
            ]
        zh = " ".join(x for x in ((county_names or {}).get(county), BAND_LABELS_ZH.get(band)) if x)
        paths.append(
            fan_chart(
                sub,
                Path(out_dir) / f"fan_{county}_{band}.png",
                history=hist,
                title=f"{county} {band}",
                title_zh=zh or None,
            )
        )
    return paths


def population_pyramid(
    base: pd.DataFrame,
    target: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    base_year: int,
    target_year: int,
    women: pd.DataFrame | None = None,
    title: str = "",
    title_zh: str | None = None,
    value: str = "population",
) -> Path:
    """Children 0-17 by single age, base year (left) against target year (right).

    Parameters
    ----------
    base, target : pandas.DataFrame
        ``age`` and ``value`` (rows of several areas are summed per age).
    path : path-like
        Output PNG.
    base_year, target_year : int
        Years shown in the legend.
    women : pandas.DataFrame, optional
        Women 15-49 (``age`` and ``value``, or ``persons``) drawn in a second panel.
    title, title_zh : str
        English and optional Chinese title.
    value : str
        Value column (``persons`` is accepted too).

    Returns
    -------
    pathlib.Path

    """

    def by_age(df: pd.DataFrame) -> pd.Series:
        col = value if value in df.columns else "persons"
        if col not in df.columns or "age" not in df.columns:
            raise ForecastInputError(f"pyramid tables need age and {value!r} columns")
        return df.groupby("age")[col].sum()

    b, t = by_age(base), by_age(target)
    ages = np.arange(0, 18)
    bv = b.reindex(ages, fill_value=0).to_numpy(dtype=float)
    tv = t.reindex(ages, fill_value=0).to_numpy(dtype=float)
    ncols = 2 if women is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 5), squeeze=False)
    fig.subplots_adjust(left=0.09, right=0.95, bottom=0.11, top=0.88, wspace=0.25)
    ax = axes[0, 0]
    ax.barh(ages, -bv, color="tab:gray", label=str(base_year))
    ax.barh(ages, tv, color="tab:blue", label=str(target_year))
    lim = max(bv.max(initial=0), tv.max(initial=0)) * 1.1 or 1.0
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(x):,.0f}" for x in ticks])
    ax.set_yticks(ages)
    ax.set_ylabel("age")
    ax.set_xlabel("persons")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(_label(title or "children 0-17", title_zh))
    if women is not None:
        w = by_age(women)
        ax2 = axes[0, 1]
        ax2.barh(w.index.to_numpy(), w.to_numpy(dtype=float), color="tab:red")
        ax2.set_ylabel("age")
        ax2.set_xlabel("women")
        ax2.set_title(_label(f"women 15-49, {base_year}", "育龄妇女"))
    font = cjk_font()
    if font is not None:
        for a in axes.ravel():
            a.title.set_fontfamily([font, "DejaVu Sans"])
    return _save(fig, path)
