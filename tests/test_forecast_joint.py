"""forecasting.joint.project_joint: the production projection core (children + women together)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forecasting import lifetable, migration
from forecasting.cohort import iter_project
from forecasting.joint import JointRegion, age_group_membership, project_joint
from schoolsystem.vocabulary import AGE_GROUPS, CHILD_AGES

ROOT = Path(__file__).resolve().parents[1]


def _case(n_draws: int = 0, *, gain: float = 0.02, seed: int = 1, horizon: int = 6) -> dict:
    """Two counties of three areas; area 0 / 3 is each county's seat (receiver)."""
    rng = np.random.default_rng(seed)
    area_county = np.array([0, 0, 0, 1, 1, 1])
    membership = np.eye(2)[area_county]
    seat = np.array([True, False, False, True, False, False])
    d1 = n_draws + 1
    urban = 0.4 + gain * np.arange(horizon + 1)[None, None, :] * rng.uniform(0.5, 1.5, (d1, 2, 1))
    return {
        "children": rng.uniform(20, 80, (6, 18)),
        "women": rng.uniform(50, 150, (6, 35)),
        "tfr": rng.uniform(0.8, 1.1, (horizon, d1)),
        "rates": rng.uniform(-0.02, 0.0, (d1, 2)),
        "urban": urban,
        "region": JointRegion(area_county=area_county, membership=membership, sender=~seat,
                              weights=seat.astype(float), fertility_scale=np.array([0.05, 0.06])),
        "group_member": age_group_membership(AGE_GROUPS),
    }


def test_children_follow_iter_project_without_transfers() -> None:
    """Without urbanisation moves the children path is the single-population loop on the
    joint births: the two loops over cohort.step agree."""
    case = _case(gain=0.0)
    out = project_joint(**case)
    rate_area = case["rates"][0][case["region"].area_county][:, None]
    rates = (rate_area * migration.age_profile(np.asarray(CHILD_AGES)))[None]
    surv = lifetable.survival(lifetable.MAX_AGE).to_numpy()[:18]
    alone = [p.copy() for _, p, _ in iter_project(case["children"], out.births, surv,
                                                  lifetable.birth_survival(), rates, open_top=False)]
    np.testing.assert_allclose(out.children[1:], np.stack(alone), rtol=1e-12)
    np.testing.assert_array_equal(out.children[0], case["children"])


def test_urbanisation_moves_conserve_county_totals() -> None:
    still, moving = project_joint(**_case(gain=0.0)), project_joint(**_case(gain=0.03))
    member = _case()["region"].membership
    np.testing.assert_allclose(still.children.sum(-1) @ member, moving.children.sum(-1) @ member,
                               rtol=1e-10)
    np.testing.assert_allclose(still.births @ member, moving.births @ member, rtol=1e-10)
    seat = moving.children[-1, [0, 3]].sum() - still.children[-1, [0, 3]].sum()
    assert seat > 0  # the county seats received families


def test_monte_carlo_quantiles_and_central_draw() -> None:
    mc = project_joint(**_case(n_draws=40))
    assert mc.group_quantiles is not None
    assert mc.birth_quantiles is not None
    assert mc.group_quantiles.shape == (6, 3, 6, len(AGE_GROUPS))
    assert mc.birth_quantiles.shape == (6, 3, 2)
    assert (np.diff(mc.group_quantiles, axis=1) >= 0).all()
    central = _case(n_draws=40)
    central.update(tfr=central["tfr"][:, :1], rates=central["rates"][:1],
                   urban=central["urban"][:1])
    alone = project_joint(**central)
    np.testing.assert_array_equal(alone.children, mc.children)  # draw 0 does not see the others
    assert alone.group_quantiles is None


def test_dtype_follows_children_and_group_member_required() -> None:
    case = _case(n_draws=5)
    ref = project_joint(**case)
    single = project_joint(**{**case, "children": case["children"].astype(np.float32),
                              "women": case["women"].astype(np.float32)})
    assert single.children.dtype == np.float32
    np.testing.assert_allclose(single.children, ref.children, rtol=1e-4)
    with pytest.raises(ValueError, match="group_member"):
        project_joint(**{**case, "group_member": None})


def test_benchmark_runs_the_production_core() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "forecast_bench.py"),
                          "--areas", "90", "--draws", "8", "--years", "3"],
                         capture_output=True, text=True, cwd=ROOT, check=True, timeout=120)
    assert "SYNTHETIC" in res.stdout
    assert "forecasting.joint.project_joint" in res.stdout
    assert "peak memory" in res.stdout


def test_transfer_counts_same_for_grouped_and_shuffled_areas():
    from forecasting.migration import transfer_counts

    rng = np.random.default_rng(3)
    county = np.sort(rng.integers(0, 4, 30))
    county[:4] = [0, 1, 2, 3]
    county = np.sort(county)
    membership = np.eye(4)[county]
    weights = rng.uniform(0.1, 1, 30)
    weights /= (membership * weights[:, None]).sum(0)[county]
    sender = rng.uniform(size=30) < 0.6
    pop = rng.uniform(0, 50, (5, 30, 18))
    frac = rng.uniform(0, 0.05, (5, 4))
    profile = rng.uniform(0.5, 1.5, 18)
    grouped = transfer_counts(pop, sender, weights, membership, frac, profile)
    perm = rng.permutation(30)  # not sorted by county: the dense path
    shuffled = transfer_counts(pop[:, perm], sender[perm], weights[perm], membership[perm],
                               frac, profile)
    np.testing.assert_allclose(shuffled, grouped[:, perm], rtol=1e-12, atol=1e-9)
    # net zero within every county and age
    np.testing.assert_allclose(np.einsum("dna,nc->dca", grouped, membership), 0.0, atol=1e-9)


def test_start_joint_by_county_groups_gives_the_whole_region_projection() -> None:
    """The projection cut into county groups (as on a cluster) and put back is the projection
    of the whole region, with the areas of the counties interleaved (to the last bits: a
    county's sums may be taken in another order)."""
    from forecasting.joint import start_joint

    case = _case(n_draws=30, horizon=5)
    order = np.array([0, 3, 1, 4, 5, 2])  # areas of the two counties interleaved
    reg = case["region"]
    case["children"], case["women"] = case["children"][order], case["women"][order]
    case["region"] = JointRegion(area_county=reg.area_county[order],
                                 membership=reg.membership[order], sender=reg.sender[order],
                                 weights=reg.weights[order], fertility_scale=reg.fertility_scale)
    whole = project_joint(**case)
    parts = start_joint(**case, group_counties=1)()
    for name in ("children", "births", "group_quantiles", "birth_quantiles"):
        np.testing.assert_allclose(getattr(parts, name), getattr(whole, name), rtol=1e-12)
    assert parts.children[-1].sum() != whole.children[0].sum()  # the stock did move
