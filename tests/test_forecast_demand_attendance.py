import numpy as np
import pandas as pd
import pytest

from forecasting.attendance import calibrate_attendance
from forecasting.demand import compute_demand, grade_table


@pytest.fixture
def county():
    rng = np.random.default_rng(7)
    towns = [f"510802{i:03d}" for i in range(1, 6)]  # 001 is the county seat
    villages = pd.DataFrame(
        {
            "village_id": [f"{t}{j:03d}" for t in towns for j in range(1, 4)],
            "township_code": [t for t in towns for _ in range(3)],
        }
    )
    children = pd.DataFrame(
        [(v, a, int(rng.integers(5, 60))) for v in villages["village_id"] for a in range(18)],
        columns=["village_id", "age", "persons"],
    )
    schools = pd.DataFrame({"school_id": [f"s{t}" for t in towns], "township_code": towns})
    # Seat schools enrol more than the seat's residents; rural schools fewer.
    res = children.merge(villages).groupby("township_code")["persons"].sum() / 18
    enr = []
    for g in grade_table()["grade"]:
        for t in towns:
            factor = 1.6 if t.endswith("001") else 0.7
            enr.append((f"s{t}", 2023, g, int(res[t] * factor)))
    enrollment = pd.DataFrame(enr, columns=["school_id", "year", "grade", "students"])
    return enrollment, schools, children, villages


def test_shares_conserve_children(county):
    m = calibrate_attendance(*county)
    sums = m.flows.groupby(["grade_band", "origin"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert (m.flows["share"] >= 0).all()
    # Rural townships send pupils to the county seat.
    moved = m.flows.loc[m.flows["origin"] != m.flows["destination"]]
    assert set(moved["destination"]) == {"510802001"}


def test_applied_to_base_year_reproduces_enrollment_and_totals(county):
    enrollment, schools, children, villages = county
    m = calibrate_attendance(*county)
    pop = (
        children.merge(villages)
        .groupby(["township_code", "age"], as_index=False)["persons"]
        .sum()
        .rename(columns={"persons": "population"})
    )
    pop["year"] = 2023
    county_of = {t: t[:6] for t in pop["township_code"].unique()}
    resident = compute_demand(pop, m.rates, county_of=county_of)
    attend = m.apply(resident)
    # Conservation: each band's total is unchanged by the move.
    np.testing.assert_allclose(
        resident.groupby("grade_band")["demand"].sum().sort_index(),
        attend.groupby("grade_band")["demand"].sum().sort_index(),
    )
    got = attend.set_index(["area", "grade_band"])["demand"]
    want = (
        enrollment.merge(schools)
        .merge(grade_table())
        .groupby(["township_code", "grade_band"])["students"]
        .sum()
    )
    for key, value in want.items():
        assert got[key] == pytest.approx(value)


def test_unknown_grade_rejected(county):
    enrollment, schools, children, villages = county
    bad = pd.concat(
        [
            enrollment,
            pd.DataFrame(
                {"school_id": ["s510802001"], "year": [2023], "grade": ["X9"], "students": [1]}
            ),
        ]
    )
    with pytest.raises(ValueError, match="X9"):
        calibrate_attendance(bad, schools, children, villages)
