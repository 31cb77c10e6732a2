"""The staged plan over milestone years, read from its exported tables (tiny SYNTHETIC region)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from layout.cli import app

FIX = Path(__file__).parent / "fixtures"
YEARS = [2025, 2027, 2028, 2030, 2035]  # the milestones and the tiny scenario's target year


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("staged")
    scenario = yaml.safe_load((FIX / "scenarios" / "tiny.yaml").read_text(encoding="utf-8"))
    scenario["region"] = str(FIX / "region" / "tiny")
    scenario["layout"] = {"milestones": [2025, 2027, 2030, 2035]}
    (tmp / "staged.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True),
                                     encoding="utf-8")
    out = tmp / "run"
    res = CliRunner().invoke(app, ["run", "-s", str(tmp / "staged.yaml"), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return out


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig",
                       dtype={"school_id": str, "county_code": str, "merge_into": str})


def test_staged_run_writes_the_timeline_and_per_year_tables(staged: Path) -> None:
    for name in ("timeline", "unserved_by_year", "assignments_by_year", "schools", "projects"):
        assert (staged / f"{name}.csv").is_file(), name
    t = _read(staged, "timeline")
    assert sorted(t["year"].unique()) == YEARS
    assert {"schools_open", "seats", "demand_p50", "demand_p90", "temporary_seats",
            "idle_seats"} <= set(t.columns)
    assert (t["demand_p90"] >= t["demand_p50"] - 1).all()


def test_no_school_reopens_and_no_site_closes(staged: Path) -> None:
    s = _read(staged, "schools")
    s = s[s["level"] != "vocational"]  # integrated for the target year only
    assert s[[f"capacity_{y}" for y in YEARS]].notna().all().all()
    cap = s[[f"capacity_{y}" for y in YEARS]].to_numpy() > 0
    existing = s["action"] != "new"
    # an existing school, once closed (0 seats), stays closed; a new school, once open, stays
    assert (np.diff(cap[existing.to_numpy()].astype(int), axis=1) <= 0).all()
    assert (np.diff(cap[~existing.to_numpy()].astype(int), axis=1) >= 0).all()


def test_every_decision_has_its_year_and_reason(staged: Path) -> None:
    s = _read(staged, "schools")
    changed = s[s["action"] != "keep"]
    assert changed["action_year"].notna().all()
    assert set(changed["action_year"].astype(int)) <= set(YEARS)
    assert changed["reason"].str.match(r"^\d{4}年: ").all()
    closed = s[s["action"].isin(["close", "merge"]) & (s["level"] != "vocational")]
    for _, row in closed.iterrows():  # closed from its action year on
        for y in YEARS:
            assert (row[f"capacity_{y}"] == 0) == (y >= row["action_year"]), (row["school_id"], y)


def test_temporary_seats_only_where_a_milestone_needs_them(staged: Path) -> None:
    s = _read(staged, "schools")
    for y in YEARS:
        temp = s[f"temporary_{y}"]
        assert (s.loc[temp > 0, f"enrollment_{y}"] > s.loc[temp > 0, f"capacity_{y}"]).all()


def test_projects_carry_their_year_and_add_up_to_the_schools(staged: Path) -> None:
    s, p = _read(staged, "schools"), _read(staged, "projects")
    assert set(p["year"]) <= set(YEARS)
    assert p["seats"].sum() == s["seats_added"].sum()
    per = p.groupby(["school_id", "level"])["seats"].sum()
    got = s.set_index(["school_id", "level"])["seats_added"]
    assert (per.reindex(got.index).fillna(0).astype(int) == got).all()


def test_timeline_matches_the_schools_table(staged: Path) -> None:
    s, t = _read(staged, "schools"), _read(staged, "timeline")
    for y in YEARS:
        open_ = s[s[f"capacity_{y}"] > 0]
        # vocational schools are integrated for the target year only
        if y != 2028:
            open_ = open_[open_["level"] != "vocational"]
        seats = open_.groupby("level")[f"capacity_{y}"].sum()
        ty = t[t["year"] == y].groupby("level")["seats"].sum()
        assert (seats.reindex(ty.index).fillna(0) == ty).all(), y


def test_staged_summary_reports_seats_against_the_peak_need(staged: Path) -> None:
    v = _read(staged, "staged_summary")
    metrics = set(v["metric"])
    assert {"new_permanent_seats", "peak_net_need", "new_seats_idle_share",
            "utilization_median", "kept_under_30pct"} <= metrics
    s = _read(staged, "schools")
    new_seats = v.loc[v["metric"] == "new_permanent_seats", "value"].iloc[0]
    assert new_seats == s.loc[s["level"] != "vocational", "seats_added"].sum()
    med = v[v["metric"] == "utilization_median"]
    assert set(med["year"]) == set(YEARS)
    assert ((med["value"] >= 0) | med["value"].isna()).all()


def test_p90_check_reports_temporary_seats_and_what_stays_unserved(staged: Path) -> None:
    c, t = _read(staged, "p90_check"), _read(staged, "timeline")
    assert sorted(c["year"].unique()) == YEARS
    assert (c["temporary_seats_p90"] >= 0).all()
    # rule-based exceptions (no school within the cap) are part of what stays unserved
    assert (c["unserved_p90"] >= c["unserved_p90_no_school"] - 1).all()
    both = c.merge(t, on=["year", "county_code", "level"], suffixes=("", "_t"))
    assert (both["demand_p90"] >= both["demand_p50"] - 1).all()
    # the network checked is the plan's: same permanent seats as the timeline
    assert (both["seats"] == both["seats_t"]).all()


def test_a_reason_of_another_milestone_is_kept_with_its_year() -> None:
    import pandas as pd

    from layout.plan.staged_tables import combine_schools

    def year(reason: str, load: float, site: bool = False, action: str = "keep") -> pd.DataFrame:
        return pd.DataFrame({
            "school_id": ["S1"], "level": ["primary"], "action": [action], "is_site": [site],
            "seats_added": [0], "beds_added": [0], "reason": [reason], "merge_into": [""],
            "demand_target": [load], "capacity_after": [1000.0], "capacity_base": [1000.0],
            "boarders": [0.0], "temporary": [0.0]})

    low = ("保留比撤并成本低 (closing would cost more); 学位使用率 25%, 富余 750 学位 "
           "(utilisation 25%: 750 surplus seats; to put to other use)")
    out = combine_schools({2030: year("", 450.0), 2035: year(low, 250.0)}, [2030, 2035], 2030)
    reason = out["reason"].iloc[0]
    # the target year says nothing; 2035's rule is kept, once, with its year, whole
    assert reason == "2035年: " + low


def test_summary_counts_new_schools_next_to_a_closed_one() -> None:
    import pandas as pd

    from layout.plan.staged_tables import staged_summary

    # N1 is 1.1 km from the closed K1 (counted); N2 is 11 km from it (not); a closed primary
    # next to N2 is another level
    def row(sid, level, action, lon, lat, added=0):
        return {"school_id": sid, "level": level, "action": action, "lon": lon, "lat": lat,
                "seats_added": added, "capacity_base": 0 if action == "new" else 90,
                "capacity_2030": 0 if action in ("merge", "close") else 90,
                "enrollment_2030": 0 if action in ("merge", "close") else 60}

    schools = pd.DataFrame([row("K1", "kindergarten", "merge", 105.80, 32.40),
                            row("N1", "kindergarten", "new", 105.81, 32.40, 90),
                            row("N2", "kindergarten", "new", 105.92, 32.40, 90),
                            row("P1", "primary", "close", 105.92, 32.40),
                            row("K2", "kindergarten", "expand", 105.801, 32.401, 60)])
    out = staged_summary(schools, [2030]).set_index(["metric", "level"])["value"]
    assert out[("new_near_closed", "kindergarten")] == 1
    assert out[("new_near_closed", "primary")] == 0
    # seats built beside the closed K1: N1's 90 and K2's expansion by 60, not N2's
    assert out[("seats_added_near_closed", "kindergarten")] == 150
    assert out[("seats_added_near_closed", "primary")] == 0
