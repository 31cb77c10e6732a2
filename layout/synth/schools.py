"""Synthetic school network: where each type of school sits (attributes are sized later)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layout.synth.calibration import (
    COUNTIES,
    N_KINDERGARTEN,
    N_NINE_YEAR,
    N_PRIMARY,
    PROGRAMME_GROUPS,
    PROJECTED_CRS,
    CountySpec,
)
from layout.synth.names import cn_ordinal, private_name
from layout.synth.population import round_to_total
from schoolsystem.vocabulary import LEVELS, SCHOOL_TYPE_LEVELS, SCHOOL_TYPES

_TO_WGS = Transformer.from_crs(PROJECTED_CRS, "EPSG:4326", always_xy=True)
SPEC = {c.code: c for c in COUNTIES}
TYPE_ORDER = SCHOOL_TYPES
TYPE_LEVELS_TEXT = {t: ";".join(lv for lv in LEVELS if lv in SCHOOL_TYPE_LEVELS[t])
                    for t in SCHOOL_TYPES}
"""School type -> the ``levels`` cell of schools.csv (``primary;junior``)."""
SEAT_JUNIORS = {"510802": 9, "510824": 5, "510823": 4, "510821": 4, "510822": 2,
                "510811": 2, "510812": 2}
N_OTHER_JUNIOR = 13


class _Builder:
    """Collects school rows; positions are jittered around a point but kept in the township."""

    def __init__(self, townships: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
        self.rng = rng
        self.poly = dict(zip(townships["township_code"],
                             townships.to_crs(PROJECTED_CRS).geometry, strict=True))
        self.poly_w = dict(zip(townships["township_code"], townships.geometry, strict=True))
        self.rows: list[dict] = []

    def add(self, school_type: str, name: str, tcode: str, x: float, y: float, sigma: float,
            *, seat: bool, ownership: str = "public", village_id: str = "") -> None:
        poly, poly_w = self.poly[tcode], self.poly_w[tcode]
        for _ in range(40):
            px, py = self.rng.normal([x, y], sigma) if sigma > 0 else (x, y)
            lon, lat = _TO_WGS.transform(px, py)
            if poly_w.contains(shapely.Point(round(lon, 6), round(lat, 6))) and poly.contains(
                    shapely.Point(px, py)):
                break
            sigma *= 0.7
        else:
            px, py = x, y
            lon, lat = _TO_WGS.transform(px, py)
        self.rows.append({"school_type": school_type, "name": name, "township_code": tcode,
                          "county_code": tcode[:6], "x": px, "y": py, "lon": lon, "lat": lat,
                          "seat": seat, "ownership": ownership, "village_id": village_id})


def _stem(name: str) -> str:
    return name.removesuffix("街道").removesuffix("镇").removesuffix("乡")


def place_schools(townships: gpd.GeoDataFrame, centres: pd.DataFrame, villages: pd.DataFrame,
                  children_tw: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Place every school of the synthetic network.

    The steps draw from ``rng`` in a fixed order (kindergartens, primaries, village schools,
    county secondaries, nine-year schools, other juniors): changing the order changes the data.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Township layer (sorted by code, aligned with ``centres``).
    centres : pandas.DataFrame
        Township seats in EPSG:4544 (``x``, ``y``).
    villages : pandas.DataFrame
        Villages with ``x``, ``y``, ``urban``, ``population``.
    children_tw : pandas.DataFrame
        Children per township (index township_code) and age (columns 0..17).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        One row per school with ``school_id, name, township_code, county_code, lon, lat, x, y,
        school_type, levels, ownership, programme_groups, seat, village_id, full_grades,
        weight``.

    """
    b = _Network(townships, centres, rng)
    _place_kindergartens(b, children_tw)
    _place_primaries(b, children_tw)
    vil = _place_village_schools(b, villages)
    for spec in COUNTIES:
        _place_county_secondary(b, spec)
    ordinary = b.tw.loc[~b.tw["urban"] & ~b.tw["is_central_town"]]
    chosen9 = _place_nine_year(b, ordinary, vil)
    _place_other_juniors(b, ordinary.loc[~ordinary.index.isin(chosen9)], villages)
    return _finish(pd.DataFrame(b.rows), rng)


class _Network(_Builder):
    """A :class:`_Builder` that also knows the townships' seats (``tw``, indexed by code).

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Township layer (sorted by code, aligned with ``centres``).
    centres : pandas.DataFrame
        Township seats in EPSG:4544 (``x``, ``y``).
    rng : numpy.random.Generator
        Source of randomness.

    """

    def __init__(self, townships: gpd.GeoDataFrame, centres: pd.DataFrame,
                 rng: np.random.Generator) -> None:
        super().__init__(townships, rng)
        self.tw = townships.assign(x=centres["x"].to_numpy(), y=centres["y"].to_numpy(),
                                   tcode=townships["township_code"]).set_index("township_code")
        self.codes = self.tw.index.to_numpy()
        self.urban = self.tw["urban"].to_numpy()
        self.sig_urban = {c.code: (2000.0 if c.terrain == "urban" else 1000.0) for c in COUNTIES}

    def at_centre(self, stype: str, name: str, t: str, sigma_rural: float = 300.0,
                  **kw: str) -> None:
        """Add a school near the seat of township ``t`` (wider spread in county seats).

        Parameters
        ----------
        stype, name : str
            School type and name.
        t : str
            Township code.
        sigma_rural : float
            Spread (metres) of the position around a rural township's seat.
        **kw : str
            ``ownership`` / ``village_id`` of :meth:`_Builder.add`.

        """
        row = self.tw.loc[t]
        sigma = self.sig_urban[row["county_code"]] if row["urban"] else sigma_rural
        self.add(stype, name, t, row["x"], row["y"], sigma, seat=bool(row["urban"]), **kw)


def _place_kindergartens(b: _Network, children_tw: pd.DataFrame) -> None:
    """One public kindergarten per township, the rest by children aged 3-5 (urban weighted).

    Parameters
    ----------
    b : _Network
        Collects the schools.
    children_tw : pandas.DataFrame
        Children per township (index township_code) and age (columns 0..17).

    """
    tw, codes, urban = b.tw, b.codes, b.urban
    k_extra = children_tw.loc[codes, [3, 4, 5]].sum(axis=1).to_numpy() * np.where(urban, 2.0, 0.5)
    n_k = 1 + round_to_total(k_extra, N_KINDERGARTEN - len(codes))
    for t, n in zip(codes, n_k, strict=True):
        stem = _stem(tw.loc[t, "name"])
        for k in range(n):
            private = k > 0 and b.rng.random() < (0.55 if tw.loc[t, "urban"] else 0.35)
            name = (f"{stem}{private_name(b.rng)}幼儿园" if private else
                    f"{stem}{'中心' if k == 0 else '第' + cn_ordinal(k + 1)}幼儿园")
            b.at_centre("kindergarten", name, t, 600.0,
                        ownership="private" if private else "public")


def _place_primaries(b: _Network, children_tw: pd.DataFrame) -> None:
    """A central primary school in every rural unit, the rest by children 6-11 (urban weighted).

    Parameters
    ----------
    b : _Network
        Collects the schools.
    children_tw : pandas.DataFrame
        Children per township (index township_code) and age (columns 0..17).

    """
    tw, codes, urban = b.tw, b.codes, b.urban
    p_w = children_tw.loc[codes, list(range(6, 12))].sum(axis=1).to_numpy()
    p_w = p_w * np.where(urban, 2.4, 0.25)
    n_p = round_to_total(p_w, N_PRIMARY - int((~urban).sum())) + (~urban).astype(int)
    urban_no = dict.fromkeys(SPEC, 0)
    for t, n in zip(codes, n_p, strict=True):
        for k in range(n):
            if tw.loc[t, "urban"]:
                c = tw.loc[t, "county_code"]
                urban_no[c] += 1
                name = f"{SPEC[c].short}第{cn_ordinal(urban_no[c])}小学"
            else:
                name = tw.loc[t, "name"] + ("中心小学" if k == 0 else f"第{cn_ordinal(k + 1)}小学")
            b.at_centre("primary", name, t, 300.0 if k == 0 else 1500.0)


def _place_village_schools(b: _Network, villages: pd.DataFrame) -> pd.DataFrame:
    """Village primaries and teaching points at rural villages away from the township seat.

    Parameters
    ----------
    b : _Network
        Collects the schools.
    villages : pandas.DataFrame
        Villages with ``x``, ``y``, ``urban``, ``population``.

    Returns
    -------
    pandas.DataFrame
        The rural villages with their distance ``d`` (metres) to the township seat.

    """
    tw = b.tw
    vil = villages.loc[~villages["urban"]].copy()
    vil = vil.assign(d=np.hypot(vil["x"] - tw.loc[vil["township_code"], "x"].to_numpy(),
                                vil["y"] - tw.loc[vil["township_code"], "y"].to_numpy()))
    for t, grp in vil.groupby("township_code", sort=True):
        mountain = SPEC[t[:6]].terrain == "mountain"
        if tw.loc[t, "urban"]:
            continue
        n_vp = int(b.rng.poisson(2.1 if mountain else 1.5))
        n_tp = int(b.rng.poisson(1.5 if mountain else 0.9))
        far = grp.sort_values(["d", "village_id"], ascending=[False, True])
        far = far.iloc[: max(1, int(0.6 * len(far)))]
        pick = b.rng.permutation(len(far))[: n_vp + n_tp]
        for j, k in enumerate(pick):
            v = far.iloc[k]
            stype = "village_primary" if j < n_vp else "teaching_point"
            name = v["name"] + ("小学" if stype == "village_primary" else "教学点")
            b.add(stype, name, t, v["x"], v["y"], 80.0, seat=False, village_id=v["village_id"])
    return vil


def _place_county_secondary(b: _Network, spec: CountySpec) -> None:
    """Seniors, juniors and vocational schools of one county, in the seat and central towns.

    Seat seniors (the first one a complete secondary school in 510802 and 510823), then
    complete secondary / senior schools in central towns, seat juniors, juniors in the other
    central towns, and the vocational schools.

    Parameters
    ----------
    b : _Network
        Collects the schools.
    spec : CountySpec
        The county's calibration targets.

    """
    tw = b.tw
    seat_t = tw.loc[(tw["county_code"] == spec.code) & tw["urban"]].index.to_numpy()
    central = tw.loc[(tw["county_code"] == spec.code) & tw["is_central_town"]].index
    for k in range(spec.n_senior - spec.n_senior_outside):
        stype = "complete_secondary" if (k == 0 and spec.code in ("510802", "510823")) \
            else "senior"
        name = f"{spec.short}第{cn_ordinal(k + 1)}{'中学' if stype == 'senior' else '完全中学'}"
        b.at_centre(stype, name, str(seat_t[k % len(seat_t)]))
    for k in range(spec.n_senior_outside):
        t = central[k]
        stype = "complete_secondary" if k == 0 else "senior"
        name = tw.loc[t, "name"] + ("中学" if k == 0 else "高级中学")
        b.at_centre(stype, name, t)
    for k in range(SEAT_JUNIORS[spec.code]):
        b.at_centre("junior", f"{spec.short}第{cn_ordinal(k + 1)}初级中学",
                    str(seat_t[k % len(seat_t)]))
    for k, t in enumerate(central):
        if k >= spec.n_senior_outside:
            b.at_centre("junior", tw.loc[t, "name"] + "初级中学", t)
    _place_vocational(b, spec, seat_t, central)


def _place_vocational(b: _Network, spec: CountySpec, seat_t: np.ndarray,
                      central: pd.Index) -> None:
    """Vocational schools of one county: the first in the seat, others in a central town.

    Parameters
    ----------
    b : _Network
        Collects the schools.
    spec : CountySpec
        The county's calibration targets (``vocational``: the size of each school).
    seat_t : numpy.ndarray
        Codes of the county-seat townships.
    central : pandas.Index
        Codes of the county's central towns.

    """
    tw = b.tw
    for k, size in enumerate(spec.vocational):
        t = str(seat_t[k % len(seat_t)]) if (k == 0 or spec.terrain == "urban") else central[0]
        name = f"{spec.short}{'职业高级中学' if k == 0 else _stem(tw.loc[t, 'name']) + '职业技术学校'}"
        b.at_centre("vocational", name, t)
        b.rows[-1]["voc_size"] = size
        n_pg = int(b.rng.integers(2, 6))
        b.rows[-1]["programme_groups"] = ";".join(
            sorted(b.rng.choice(PROGRAMME_GROUPS, n_pg, replace=False).tolist()))


def _place_nine_year(b: _Network, ordinary: pd.DataFrame, vil: pd.DataFrame) -> np.ndarray:
    """Nine-year schools in ordinary rural units (mountain more likely), at a large village.

    Parameters
    ----------
    b : _Network
        Collects the schools.
    ordinary : pandas.DataFrame
        Rural townships that are not central towns (indexed by code).
    vil : pandas.DataFrame
        Rural villages (from :func:`_place_village_schools`).

    Returns
    -------
    numpy.ndarray
        Codes of the townships that got a nine-year school.

    """
    w9 = np.where(ordinary["county_code"].map(lambda c: SPEC[c].terrain) == "mountain", 1.6, 1.0)
    chosen9 = b.rng.choice(ordinary.index.to_numpy(), N_NINE_YEAR, replace=False,
                           p=w9 / w9.sum())
    for t in sorted(chosen9):
        grp = vil.loc[vil["township_code"] == t].sort_values(["population", "village_id"],
                                                             ascending=[False, True])
        v = grp.iloc[int(b.rng.integers(0, min(3, len(grp))))]
        b.add("nine_year", b.tw.loc[t, "name"] + _stem(v["name"]) + "九年制学校", t,
              v["x"], v["y"], 150.0, seat=False, village_id=v["village_id"])
    return chosen9


def _place_other_juniors(b: _Network, rest: pd.DataFrame, villages: pd.DataFrame) -> None:
    """Standalone juniors in the most populous of the remaining ordinary rural units.

    Parameters
    ----------
    b : _Network
        Collects the schools.
    rest : pandas.DataFrame
        Ordinary rural townships without a nine-year school (indexed by code).
    villages : pandas.DataFrame
        Villages with ``township_code`` and ``population``.

    """
    pop_t = villages.groupby("township_code")["population"].sum()
    rest = rest.assign(pop=pop_t.reindex(rest.index).to_numpy()).sort_values(
        ["pop", "tcode"], ascending=[False, True])
    for t in rest.index[:N_OTHER_JUNIOR]:
        b.at_centre("junior", b.tw.loc[t, "name"] + "初级中学", t, 500.0)


def _finish(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    df["programme_groups"] = df.get("programme_groups", pd.Series("", index=df.index)).fillna("")
    df["voc_size"] = df.get("voc_size", pd.Series(np.nan, index=df.index))
    df["levels"] = df["school_type"].map(TYPE_LEVELS_TEXT)
    df["type_rank"] = df["school_type"].map({t: i for i, t in enumerate(TYPE_ORDER)})
    df["full_grades"] = (df["school_type"] != "teaching_point") & ~(
        (df["school_type"] == "village_primary") & (rng.random(len(df)) < 0.55))
    df["weight"] = rng.lognormal(0.0, 0.3, len(df)) * np.where(df["ownership"] == "private",
                                                               0.6, 1.0)
    df["lon"] = df["lon"].round(6)
    df["lat"] = df["lat"].round(6)
    df = df.sort_values(["county_code", "type_rank", "township_code", "lon", "lat"],
                        kind="stable").reset_index(drop=True)
    serial = df.groupby("county_code").cumcount().to_numpy() + 1
    df["school_id"] = [f"{c}{s:04d}" for c, s in zip(df["county_code"], serial, strict=True)]
    return df.drop(columns="type_rank")
