"""Joint yearly projection of children and women: the projection core of production.

:func:`project_joint` is the one loop that :func:`forecasting.population.project_population` runs
(and that ``benchmarks/forecast_bench.py`` times). Each projection year ``k``:

1. the county urbanisation gain ``u(k) - u(k-1)`` becomes the fraction ``du / (1 - u(k-1))`` of
   the rural population that moves to the county seat and central towns
   (:func:`forecasting.migration.transfer_counts`);
2. women 15-49 take one cohort-component step (:func:`forecasting.cohort.step`): girls aged 14
   (``FEMALE_SHARE`` of children aged 14) enter at 15, women aged 49 leave, overall net
   migration ``rate[county] * age_profile`` plus the family moves;
3. births of year ``k`` come from the projected women (:func:`forecasting.fertility.births_from_women`);
4. children 0-17 take one step with those births entering age 0; children aged 17 leave.

All arrays carry a leading draws axis ``D1 = 1 + draws``: draw 0 is the central (noise-free)
path, draws ``1..D`` the Monte Carlo. The central path is kept for every year; the Monte Carlo
draws are reduced every year to P10/P50/P90 (so the ``(draws, areas, ages)`` stocks of all
years are never held). The arithmetic runs in the dtype of ``children`` (production: float64;
the benchmark may use float32); model constants are cast to it.

:func:`forecasting.cohort.iter_project` is the public single-population API over the same
:func:`~forecasting.cohort.step`; it has no births-from-women feedback and no transfers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from forecasting import fertility, lifetable, migration, uncertainty
from forecasting.cohort import step
from schoolsystem import vocabulary

CHILD_AGES = np.asarray(vocabulary.CHILD_AGES)
WOMEN_AGES = np.asarray(vocabulary.WOMEN_AGES)

__all__ = ["JointPaths", "JointRegion", "age_group_membership", "project_joint"]


def age_group_membership(age_groups: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """One-hot matrix age 0-17 -> age group (columns in the order of ``age_groups``).

    Examples
    --------
    >>> age_group_membership({"a": (0, 2), "b": (3, 17)}).sum(axis=0).tolist()
    [3.0, 15.0]

    """
    member = np.zeros((len(CHILD_AGES), len(age_groups)))
    for g, (lo, hi) in enumerate(age_groups.values()):
        member[np.arange(lo, hi + 1), g] = 1.0
    return member


@dataclass(frozen=True)
class JointRegion:
    """Static geography of a joint projection (plain arrays, areas in projection order).

    Attributes
    ----------
    area_county : ndarray of int, shape (areas,)
        Column of each area's county in ``membership``.
    membership : ndarray, shape (areas, counties)
        One-hot county membership.
    sender : ndarray of bool, shape (areas,)
        Areas that send urbanisation movers (:func:`forecasting.migration.receiver_weights`).
    weights : ndarray, shape (areas,)
        Receiver weights, summing to 1 within each county.
    fertility_scale : ndarray, shape (counties,)
        Calibrated fertility scale per county (:func:`forecasting.fertility.calibrate_scale`).

    """

    area_county: np.ndarray
    membership: np.ndarray
    sender: np.ndarray
    weights: np.ndarray
    fertility_scale: np.ndarray


@dataclass(frozen=True)
class JointPaths:
    """Result of :func:`project_joint`.

    Attributes
    ----------
    children : ndarray, shape (T + 1, areas, 18)
        Central path of children 0-17, base year first.
    births : ndarray, shape (T, areas)
        Central births of projection years ``1..T`` per area.
    group_quantiles : ndarray, shape (T, 3, areas, groups), or None
        P10/P50/P90 over the Monte Carlo draws of children per age group (None without draws).
    birth_quantiles : ndarray, shape (T, 3, counties), or None
        P10/P50/P90 over the draws of births per county (None without draws).

    """

    children: np.ndarray
    births: np.ndarray
    group_quantiles: np.ndarray | None
    birth_quantiles: np.ndarray | None


@dataclass(frozen=True)
class _Model:
    """Age-specific constants of the step, cast to the projection dtype."""

    p_kids: np.ndarray
    p_wom: np.ndarray
    p14: float
    birth_survival: float
    prof_k: np.ndarray
    prof_w: np.ndarray
    fam_k: np.ndarray
    fam_w: np.ndarray


def _model(dtype: np.dtype) -> _Model:
    """Survival (approximate China 2020) and migration age profiles for children and women."""
    p_all = lifetable.survival(lifetable.MAX_AGE).to_numpy()
    first, stop = WOMEN_AGES[0], WOMEN_AGES[-1] + 1
    return _Model(
        p_kids=p_all[:len(CHILD_AGES)].astype(dtype),
        p_wom=p_all[first:stop].astype(dtype),
        p14=float(p_all[first - 1]),
        birth_survival=lifetable.birth_survival(),
        prof_k=migration.age_profile(CHILD_AGES).astype(dtype),
        prof_w=migration.age_profile(WOMEN_AGES).astype(dtype),
        fam_k=migration.family_profile(CHILD_AGES).astype(dtype),
        fam_w=migration.family_profile(WOMEN_AGES, women=True).astype(dtype),
    )


def _region_as(region: JointRegion, dtype: np.dtype) -> JointRegion:
    """The region with its float arrays in ``dtype`` (a copy with equal values in float64)."""
    return JointRegion(
        area_county=np.asarray(region.area_county, dtype=np.intp),
        membership=np.asarray(region.membership, dtype=dtype),
        sender=np.asarray(region.sender, dtype=bool),
        weights=np.asarray(region.weights, dtype=dtype),
        fertility_scale=np.asarray(region.fertility_scale, dtype=dtype),
    )


def _move_fraction(urban: np.ndarray, k: int) -> np.ndarray:
    """Fraction of the rural population moving to town in year ``k``, shape (D1, counties)."""
    du = np.maximum(urban[..., k] - urban[..., k - 1], 0.0)
    return du / np.maximum(1.0 - urban[..., k - 1], 1e-6)


def _year(
    kid: np.ndarray,
    wmn: np.ndarray,
    tfr_k: np.ndarray,
    rate_area: np.ndarray,
    frac: np.ndarray,
    region: JointRegion,
    m: _Model,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One projection year: women step, births from women, children step.

    Returns
    -------
    kid, wmn : ndarray
        Stocks of the year (new arrays).
    births : ndarray, shape (D1, areas)
        Births of the year.

    """

    def moves(profile: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        return lambda pop: migration.transfer_counts(pop, region.sender, region.weights,
                                                     region.membership, frac, profile)

    girls = kid[..., WOMEN_AGES[0] - 1]  # aged 14: women aged 15 next year
    wmn, _ = step(wmn, fertility.FEMALE_SHARE * girls, m.p_wom, m.p14, rate_area * m.prof_w,
                  add=moves(m.fam_w), open_top=False)
    b = fertility.births_from_women(wmn, tfr_k[:, None], region.fertility_scale[region.area_county])
    kid, _ = step(kid, b, m.p_kids, m.birth_survival, rate_area * m.prof_k, add=moves(m.fam_k),
                  open_top=False)
    return kid, wmn, b


def project_joint(
    children: np.ndarray,
    women: np.ndarray,
    tfr: np.ndarray,
    rates: np.ndarray,
    urban: np.ndarray,
    region: JointRegion,
    *,
    group_member: np.ndarray | None = None,
    factors: np.ndarray | None = None,
) -> JointPaths:
    """Project children 0-17 and women 15-49 together, central path and Monte Carlo draws.

    Parameters
    ----------
    children : ndarray, shape (areas, 18)
        Base-year children by single age 0-17; its dtype is the dtype of the projection.
    women : ndarray, shape (areas, 35)
        Base-year women by single age 15-49.
    tfr : ndarray, shape (T, D1)
        Reference TFR per projection year and draw (draw 0 central); ``T`` is the horizon.
    rates : ndarray, shape (D1, counties)
        Overall net migration rate per draw and county.
    urban : ndarray, shape (D1, counties, T + 1)
        Urban share per draw, county and year (base year first).
    region : JointRegion
        County membership, urbanisation senders / receivers and fertility scales.
    group_member : ndarray, shape (18, groups), optional
        One-hot age -> age group (:func:`age_group_membership`) of the Monte Carlo summaries (required with draws).
    factors : ndarray, shape (T + 1,), optional
        Interval width factor per horizon (:func:`forecasting.uncertainty.calibration_factors`);
        default 1.

    Returns
    -------
    JointPaths

    Examples
    --------
    >>> import numpy as np
    >>> region = JointRegion(np.zeros(2, int), np.ones((2, 1)), np.array([True, False]),
    ...                      np.array([0.0, 1.0]), np.array([0.05]))
    >>> out = project_joint(np.full((2, 18), 10.0), np.full((2, 35), 20.0), np.ones((3, 1)),
    ...                     np.zeros((1, 1)), np.full((1, 1, 4), 0.5), region)
    >>> out.children.shape, out.births.shape, out.group_quantiles is None
    ((4, 2, 18), (3, 2), True)

    """
    dtype = np.asarray(children).dtype
    horizon, n_d1 = tfr.shape
    m = _model(dtype)
    reg = _region_as(region, dtype)
    tfr = np.asarray(tfr, dtype=dtype)
    urban = np.asarray(urban, dtype=dtype)
    rate_area = np.asarray(rates, dtype=dtype)[:, reg.area_county][..., None]  # (D1, N, 1)
    kid = np.broadcast_to(children, (n_d1, *children.shape)).copy()
    wmn = np.broadcast_to(women, (n_d1, *women.shape)).copy().astype(dtype, copy=False)
    monte_carlo = n_d1 > 1
    if monte_carlo and group_member is None:
        raise ValueError("project_joint: group_member is required with Monte Carlo draws")
    # age-group and county sums by numpy reductions, not BLAS products: their order of additions
    # does not depend on the BLAS threads of the process or on how many areas a piece holds, so
    # a county's figures are the same in-process, on a worker and in any county group
    ages_of = ([np.flatnonzero(col) for col in np.asarray(group_member).T] if monte_carlo
               else None)
    n_counties = np.asarray(reg.membership).shape[1]
    fac = np.ones(horizon + 1) if factors is None else np.asarray(factors, dtype=float)
    kid_path, births = [kid[0].copy()], []
    q_groups, q_births = [], []
    for k in range(1, horizon + 1):
        kid, wmn, b = _year(kid, wmn, tfr[k - 1], rate_area, _move_fraction(urban, k), reg, m)
        kid_path.append(kid[0].copy())  # a view would keep the year's whole draws array alive
        births.append(b[0].copy())
        if ages_of is not None:
            groups = np.stack([kid[1:, :, a].sum(axis=-1) for a in ages_of], axis=-1)
            q_groups.append(uncertainty.quantiles(groups, fac[k]))
            county_births = migration.county_sums(b[1:, :, None], reg.area_county, n_counties)[..., 0]
            q_births.append(uncertainty.quantiles(county_births, fac[k]))
    return JointPaths(
        children=np.stack(kid_path),
        births=np.stack(births),
        group_quantiles=np.stack(q_groups) if q_groups else None,
        birth_quantiles=np.stack(q_births) if q_births else None,
    )


GROUP_COUNTIES = 8
"""Counties per piece of :func:`start_joint`: a fixed number, so the pieces (and the float
sums inside them) are the same whatever runs them; a region of up to this many counties is one
piece, the whole region."""


def county_groups(n_counties: int, size: int = GROUP_COUNTIES) -> list[np.ndarray]:
    """Consecutive county columns in groups of about ``size`` (one group up to ``size``).

    Examples
    --------
    >>> [g.tolist() for g in county_groups(5, size=2)]
    [[0, 1], [2, 3], [4]]

    """
    return [np.arange(a, min(a + size, n_counties)) for a in range(0, n_counties, size)]


def _joint_piece(item: tuple[np.ndarray, ...], group_member: np.ndarray | None,
                 factors: np.ndarray | None) -> JointPaths:
    """Worker side of :func:`start_joint`: :func:`project_joint` of one county group."""
    children, women, tfr, rates, urban, area_county, membership, sender, weights, scale = item
    return project_joint(children, women, tfr, rates, urban,
                         JointRegion(area_county, membership, sender, weights, scale),
                         group_member=group_member, factors=factors)


def start_joint(
    children: np.ndarray,
    women: np.ndarray,
    tfr: np.ndarray,
    rates: np.ndarray,
    urban: np.ndarray,
    region: JointRegion,
    *,
    group_member: np.ndarray | None = None,
    factors: np.ndarray | None = None,
    group_counties: int = GROUP_COUNTIES,
) -> Callable[[], JointPaths]:
    """Start :func:`project_joint` per group of counties; the returned function joins them.

    Every county is projected on its own (its migration stays within it, its rates, urban
    path and fertility scale are its own; the reference TFR paths are shared), so the region
    is cut into :func:`county_groups` and each group is one piece of
    :func:`forecasting.parallel.start_tasks`: on a cluster the workers project them while the
    caller goes on (the forecast fits its share model meanwhile). The pieces are put back in
    area and county order. Arguments and result as :func:`project_joint`; ``group_counties``
    is the size of a group.
    """
    from forecasting.parallel import start_tasks

    groups = county_groups(np.asarray(region.membership).shape[1], group_counties)
    area_county = np.asarray(region.area_county)
    members = [np.flatnonzero(np.isin(area_county, g)) for g in groups]
    position = np.empty(len(area_county), dtype=np.intp)
    position[np.concatenate(members)] = np.arange(len(area_county))
    items = [(children[a], women[a], tfr, rates[:, g], urban[:, g], area_county[a] - g[0],
              np.asarray(region.membership)[np.ix_(a, g)], np.asarray(region.sender)[a],
              np.asarray(region.weights)[a], np.asarray(region.fertility_scale)[g])
             for a, g in zip(members, groups, strict=True)]
    pending = start_tasks(_joint_piece, items, group_member, factors)

    def joined() -> JointPaths:
        parts = pending()

        def areas(name: str, axis: int) -> np.ndarray:
            return np.take(np.concatenate([getattr(p, name) for p in parts], axis=axis),
                           position, axis=axis)

        monte_carlo = parts[0].group_quantiles is not None
        return JointPaths(
            children=areas("children", 1), births=areas("births", 1),
            group_quantiles=areas("group_quantiles", 2) if monte_carlo else None,
            birth_quantiles=(np.concatenate([p.birth_quantiles for p in parts], axis=2)
                             if monte_carlo else None))

    return joined
