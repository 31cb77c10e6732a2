"""Calibration of the committed synthetic layers against the reference figures."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from layout.synth.generate import EMBEDDED
from layout.synth.summary import level_of_grade

IDS = {"village_id": str, "township_code": str, "school_id": str, "county_code": str,
       "site_id": str}


def _csv(name):
    return pd.read_csv(EMBEDDED / f"{name}.csv", comment="#", dtype=IDS,
                       keep_default_na=False)


@pytest.fixture(scope="module")
def d():
    return {n: _csv(n) for n in ("villages", "children", "women", "schools", "enrollment",
                                 "births", "urbanisation", "township_history",
                                 "candidate_sites")} | {
        "townships": gpd.read_file(EMBEDDED / "townships.geojson"),
        "counties": gpd.read_file(EMBEDDED / "counties.geojson"),
    }


def test_region_yaml():
    meta = yaml.safe_load((EMBEDDED / "region.yaml").read_text(encoding="utf-8"))
    assert meta["code"] == "510800"
    assert meta["base_year"] == 2023
    assert meta["projected_crs"] == "EPSG:4544"
    assert "schools" in meta["synthetic_layers"]
    assert "counties" not in meta["synthetic_layers"]


def test_counts_and_population(d):
    t, v = d["townships"], d["villages"]
    assert 130 <= len(t) <= 230
    assert 2000 <= len(v) <= 3500
    pop = v["population"].sum()
    assert abs(pop / 2_300_000 - 1) < 0.05
    urban = v.loc[v["urban"], "population"].sum() / pop
    assert 0.45 <= urban <= 0.52
    by_c = v.groupby(v["township_code"].str[:6])["population"].sum()
    top3 = by_c[["510802", "510823", "510824"]].sum() / pop
    assert 0.6 < top3 < 0.72
    # heavy tail: largest unit far above the median
    assert v["population"].max() > 10 * v["population"].median()


def test_townships_structure(d):
    t = d["townships"]
    assert t["township_code"].str.fullmatch(r"\d{9}").all()
    assert t["township_code"].is_unique
    for code, g in t.groupby("county_code"):
        assert g["is_county_seat"].sum() >= 1, code
        assert 2 <= g["is_central_town"].sum() <= 4, code
    assert set(t["kind"]) <= {"street", "town", "township"}
    assert t["elderly_share"].between(0, 1).all()
    dens = t.assign(a=t.to_crs(4544).area / 1e6).groupby("county_code")["a"].mean()
    assert dens["510802"] < dens[["510812", "510821", "510822"]].min()


def test_birth_rate_and_decline(d):
    b, u = d["births"], d["urbanisation"]
    assert sorted(b["year"].unique()) == list(range(2005, 2024))
    city = b.groupby("year")["births"].sum()
    pop = u.groupby("year")["population"].sum()
    assert abs(1000 * city[2021] / pop[2021] - 6.2) < 0.6
    assert 0.4 < city[2023] / city[2016] < 0.6
    share = (u["population"] * u["urban_share"]).groupby(u["year"]).sum() / pop
    assert abs(share[2021] - 0.4806) < 0.003
    assert 0.5 < share.diff().dropna().mean() * 100 < 1.5
    last = u.loc[u["year"] == 2023].set_index("county_code")["urban_share"]
    assert last.idxmax() == "510802"
    assert abs(pop[2020] / 2_305_657 - 1) < 0.01


def test_children_follow_births(d):
    c, b, v = d["children"], d["births"], d["villages"]
    assert (c.groupby("village_id").size() == 18).all()
    assert set(c["village_id"]) == set(v["village_id"])
    by_age = c.groupby("age")["persons"].sum()
    city = b.groupby("year")["births"].sum()
    ratio = np.array([by_age[a] / city[2023 - a] for a in range(18)])
    assert (ratio < 1.0).all()
    assert (ratio > 0.75).all()
    assert ratio[17] < ratio[0]  # out-migration: older cohorts thinner
    w = d["women"]
    assert (w.groupby("village_id")["age"].apply(lambda s: sorted(s) == list(range(15, 50)))).all()


def test_school_counts(d):
    s = d["schools"]
    n = s["school_type"].value_counts()
    assert 270 <= n["kindergarten"] <= 330
    assert (s.loc[s["school_type"] == "kindergarten", "ownership"] == "private").sum() > 20
    assert 230 <= n["primary"] <= 290
    assert 200 <= n["village_primary"] + n["teaching_point"] <= 600
    junior_level = n["junior"] + n["nine_year"] + n["complete_secondary"]
    assert 110 <= junior_level <= 140
    assert 0.35 <= n["nine_year"] / junior_level <= 0.65
    assert 24 <= n["senior"] + n["complete_secondary"] <= 30
    assert n["vocational"] == 12
    assert s["school_id"].str.fullmatch(r"\d{10}").all()
    assert s["school_id"].is_unique


def test_vocational_and_senior_placement(d):
    s, e, t = d["schools"], d["enrollment"], d["townships"]
    seat = set(t.loc[t["is_county_seat"], "township_code"])
    tot = e.loc[e["year"] == 2023].groupby("school_id")["students"].sum()
    voc = s.loc[s["school_type"] == "vocational"]
    assert (tot.reindex(voc["school_id"]) < 1200).sum() >= 3
    assert (voc["programme_groups"].str.len() > 0).all()
    assert (s.loc[s["school_type"] != "vocational", "programme_groups"] == "").all()
    senior = s.loc[s["school_type"].isin(["senior", "complete_secondary"])]
    assert (~senior["township_code"].isin(seat)).sum() >= 3
    junior = s.loc[s["school_type"].isin(["junior", "nine_year"])]
    central = set(t.loc[t["is_central_town"], "township_code"])
    assert (~junior["township_code"].isin(seat | central)).sum() > 20


def test_enrollment_totals_and_consistency(d):
    e, s, c = d["enrollment"], d["schools"], d["children"]
    base = e.loc[e["year"] == 2023]
    lv = base.groupby(level_of_grade(base["grade"]))["students"].sum()
    assert 50_000 <= lv["kindergarten"] <= 72_000
    assert 115_000 <= lv["primary"] <= 160_000
    assert 55_000 <= lv["junior"] <= 72_000
    assert 38_000 <= lv["senior"] <= 52_000
    assert 14_000 <= lv["vocational"] <= 20_000
    assert sorted(e["year"].unique()) == list(range(2019, 2024))
    # grade 1 in 2023 ~ resident 6-year-olds
    g1 = base.loc[base["grade"] == "G1", "students"].sum()
    age6 = c.loc[c["age"] == 6, "persons"].sum()
    assert abs(g1 / age6 - 1) < 0.06
    # cohort progression: G2 of 2023 ~ G1 of 2022
    by = e.groupby(["year", "grade"])["students"].sum()
    assert abs(by[(2023, "G2")] / by[(2022, "G1")] - 1) < 0.06
    # grades belong to the hosted levels
    lev = dict(zip(s["school_id"], s["levels"], strict=True))
    ok = [lvl in lev[sid].split(";") for sid, lvl in
          zip(e["school_id"], level_of_grade(e["grade"]), strict=True)]
    assert all(ok)
    tp = s.loc[s["school_type"] == "teaching_point", "school_id"]
    assert set(e.loc[e["school_id"].isin(tp), "grade"]) <= {"G1", "G2", "G3", "G4"}


def test_capacity_patterns(d):
    s, e, t = d["schools"], d["enrollment"], d["townships"]
    seat = s["township_code"].isin(set(t.loc[t["is_county_seat"], "township_code"]))
    tot = e.loc[e["year"] == 2023].groupby("school_id")["students"].sum()
    util = tot.reindex(s["school_id"]).fillna(0).to_numpy() / s["capacity"].to_numpy()
    assert (s["capacity"] > 0).all()
    assert (util[seat.to_numpy()] > 1).sum() > 20
    assert np.median(util[~seat.to_numpy()]) < 0.8
    rural_junior = s["school_type"].isin(["junior", "nine_year"]) & ~seat
    assert (s.loc[rural_junior, "boarding_beds"] > 0).mean() > 0.9
    assert (s.loc[seat & (s["school_type"] == "primary"), "boarding_beds"] == 0).all()
    prim = s["school_type"] == "primary"
    per_room = s.loc[prim, "capacity"] / s.loc[prim, "classrooms"]
    assert per_room.between(40, 46).all()
    ptr = tot.reindex(s["school_id"]).fillna(0).to_numpy() / s["teachers"].to_numpy()
    assert 10 < np.median(ptr[prim.to_numpy()]) < 25


def test_candidate_sites(d):
    cs, t = d["candidate_sites"], d["townships"]
    assert 40 <= len(cs) <= 80
    assert cs["site_id"].is_unique
    assert (cs["max_capacity"] > 0).all()
    known = {"kindergarten", "primary", "junior", "senior", "vocational"}
    assert all(set(x.split(";")) <= known for x in cs["levels"])
    key = set(t.loc[t["is_county_seat"] | t["is_central_town"], "township_code"])
    assert cs["township_code"].isin(key).mean() > 0.7


def test_township_history_sums_to_county(d):
    h, u = d["township_history"], d["urbanisation"]
    assert sorted(h["year"].unique()) == list(range(2016, 2024))
    tot = h.groupby([h["township_code"].str[:6], "year"])["population"].sum()
    ref = u.set_index(["county_code", "year"])["population"]
    assert (tot == ref.reindex(tot.index)).all()
    v = d["villages"]
    last = h.loc[h["year"] == 2023].set_index("township_code")["population"]
    assert (last == v.groupby("township_code")["population"].sum().reindex(last.index)).all()
