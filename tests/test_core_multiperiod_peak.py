"""The high-demand check and the idle-capacity cost of the multi-period model.

Brute force over the few decisions of toy instances (blocks per period, who is open) checks
the MIP's optimum; the behaviour a planner relies on: a school sized so that its catchment
fits at the high demand with temporary seats alone, and no seats built for a passing peak when
they would stand empty at the end.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from layout.core import MultiPeriodLocation, SolveStatus


def _one_school(peak: list[float] | None, max_blocks: int = 4, **kw: object) -> MultiPeriodLocation:
    """One existing school of 100 seats, one row, two periods of demand 100."""
    demand = np.array([[100.0], [100.0]])
    return MultiPeriodLocation.from_pairs(
        [0], [0], np.zeros((2, 1)), demand, 1, existing=[True], fixed_cost=[10.0],
        capacity=[100.0], expansion_block=[10.0], expansion_cost=[50.0],
        max_blocks=[max_blocks], temp_cost=[1.0], temp_max=[30.0], temp_share=[0.2],
        unserved_cost=[1e6],
        peak_demand=None if peak is None else np.array([[p] for p in peak]),
        peak_cost=1000.0 if peak is not None else None, **kw).solve(gap=1e-9)


def test_without_a_high_demand_nothing_is_built() -> None:
    mp = _one_school(None)
    assert mp.status is SolveStatus.OPTIMAL
    assert int(mp.blocks.max()) == 0
    assert mp.overflow.sum() == 0.0


def test_the_school_is_sized_for_the_high_demand_with_temporary_seats() -> None:
    # 130 pupils at the high end in period 1: 100 seats + 20 % temporary = 120 do not hold
    # them; 110 seats (one block) + 22 temporary = 132 do.
    mp = _one_school([110.0, 130.0])
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.blocks[:, 0].tolist() == [0, 1]
    assert mp.overflow.sum() == pytest.approx(0.0)
    assert mp.costs["peak"].sum() == pytest.approx(0.0)


def test_what_cannot_be_built_is_reported_as_overflow() -> None:
    # at most one block: 110 x 1.2 = 132 seats for 150 pupils -> 18 overflow, charged
    mp = _one_school([100.0, 150.0], max_blocks=1)
    assert mp.blocks[1, 0] == 1
    assert mp.overflow[1, 0] == pytest.approx(18.0)
    assert mp.costs.loc[1, "peak"] == pytest.approx(18.0 * 1000.0)
    assert mp.objective == pytest.approx(float(mp.costs["total"].sum()))


def _site_model(idle_cost: float | None) -> MultiPeriodLocation:
    """A new site (no seats of its own) for a village of 40 pupils falling to 20."""
    demand = np.array([[40.0], [30.0], [20.0]])
    return MultiPeriodLocation.from_pairs(
        [0], [0], np.zeros((3, 1)), demand, 1, existing=[False], fixed_cost=[1.0],
        capacity=[0.0], expansion_block=[10.0], expansion_cost=[100.0], max_blocks=[6],
        temp_cost=[20.0], temp_max=[20.0], temp_share=[0.5],
        idle_cost=None if idle_cost is None else [idle_cost], unserved_cost=[1e6],
        single_source=True).solve(gap=1e-9)


def _brute_force_one(demand: list[float], cap: float, temp_cost: float, temp_max: float,
                     share: float, idle_cost: float) -> float:
    """Cheapest plan of one facility open in 3 periods (fixed cost 1 each, blocks of 10 at 100).

    Enumerates the cumulative blocks per period; temporary seats cover the rest, at most
    ``min(temp_max, share * permanent seats)``. A facility without seats of its own (a site)
    must build in the first period. Idle cost: added seats beyond the last period's pupils over
    the old capacity (all empty seats once it was expanded).
    """
    best = np.inf
    for b in itertools.product(range(7), repeat=3):
        if list(b) != sorted(b) or (cap == 0 and b[0] == 0):
            continue
        cost, ok = 3.0 + 100.0 * b[2], True
        for t, d in enumerate(demand):
            seats = cap + 10.0 * b[t]
            temp = max(0.0, d - seats)
            if temp > min(temp_max, share * seats) + 1e-9:
                ok = False
                break
            cost += temp_cost * temp
        if ok:
            added = 10.0 * b[2]
            used = min(added, demand[2] - cap * (b[2] > 0))
            best = min(best, cost + idle_cost * (added - used))
    return best


def _brute_force_site(idle_cost: float) -> float:
    """Cheapest (blocks per period, temporary seats) plan of :func:`_site_model`."""
    return _brute_force_one([40.0, 30.0, 20.0], 0.0, 20.0, 20.0, 0.5, idle_cost)


@pytest.mark.parametrize("idle_cost", [0.0, 30.0, 200.0])
def test_idle_cost_matches_brute_force(idle_cost: float) -> None:
    mp = _site_model(idle_cost)
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.objective == pytest.approx(_brute_force_site(idle_cost), rel=1e-9)


def test_idle_cost_builds_for_the_lasting_demand_and_rents_the_peak() -> None:
    cheap, dear = _site_model(None), _site_model(200.0)
    # without the idle cost, building 4 blocks (40 seats) beats renting 13+ seats for years
    assert cheap.blocks[0, 0] * 10 >= 30
    # with it, the seats built hold about the last period's 20 pupils; the peak is rented
    assert dear.blocks[-1, 0] * 10 < cheap.blocks[-1, 0] * 10
    assert dear.temporary[0, 0] > 0
    assert dear.costs["idle"].sum() == pytest.approx(
        200.0 * max(0.0, 10.0 * dear.blocks[-1, 0] - 20.0))


def test_peak_demand_needs_capacity() -> None:
    from layout.core.errors import CoreInputError

    with pytest.raises(CoreInputError, match="peak_demand"):
        MultiPeriodLocation.from_pairs([0], [0], np.zeros((1, 1)), np.ones((1, 1)), 1,
                                       peak_demand=np.ones((1, 1)))


def _expansion_model(idle_cost: float) -> MultiPeriodLocation:
    """An existing school of 100 seats; 140 pupils, then 120, then 90 (the peak passes)."""
    demand = np.array([[140.0], [120.0], [90.0]])
    return MultiPeriodLocation.from_pairs(
        [0], [0], np.zeros((3, 1)), demand, 1, existing=[True], fixed_cost=[1.0],
        capacity=[100.0], expansion_block=[10.0], expansion_cost=[100.0], max_blocks=[6],
        temp_cost=[12.0], temp_max=[30.0], temp_share=[0.3], idle_cost=[idle_cost],
        unserved_cost=[1e6]).solve(gap=1e-9)


def _brute_force_expansion(idle_cost: float) -> float:
    """Cheapest plan of :func:`_expansion_model`."""
    return _brute_force_one([140.0, 120.0, 90.0], 100.0, 12.0, 30.0, 0.3, idle_cost)


@pytest.mark.parametrize("idle_cost", [0.0, 5.0, 40.0])
def test_idle_cost_of_an_expansion_matches_brute_force(idle_cost: float) -> None:
    mp = _expansion_model(idle_cost)
    assert mp.status is SolveStatus.OPTIMAL
    assert mp.objective == pytest.approx(_brute_force_expansion(idle_cost), rel=1e-9)


def test_an_expansion_for_a_passing_peak_pays_for_its_empty_seats() -> None:
    free, dear = _expansion_model(0.0), _expansion_model(40.0)
    # 140 pupils need at least 108 permanent seats (30 % temporary): one block either way;
    # without the idle cost a second block saves rent, with it the peak is rented instead
    assert dear.blocks[-1, 0] <= free.blocks[-1, 0]
    assert dear.blocks[-1, 0] >= 1
    added = 10.0 * dear.blocks[-1, 0]
    # it ends at 90 pupils, below its own 100 seats: every empty seat of the school is charged
    assert dear.costs["idle"].sum() == pytest.approx(40.0 * (added + 100.0 - 90.0))
