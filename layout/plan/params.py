"""Parameters of the school layout model (:class:`LayoutParams`), with documented defaults.

Every rule of the five layout principles is a parameter here, per grade band (journeys,
boarding) or per level (sizes, costs). All models forbid unknown keys, so a typo in a scenario
file is an error, not a silently ignored setting.

Default values and where they come from
---------------------------------------
* Journeys: grades 1-3 at most 30 min, day school only (State Council 2012 and 2018, see
  ``../shared/reference/README.md`` section 2, the project's reference notes outside this
  repository). Kindergarten 15 min urban / 30 min rural ("nearby and
  convenient"); an urban child with no kindergarten within the 15 minutes may keep going to an
  existing one up to 40 min away (the *stretch*, a stated exception) before a new village
  kindergarten is proposed. Junior day pupils up to 45 min, boarders up to 120 min. These are planning
  defaults, not national figures, except the 30-minute rule for grades 1-3.
* Speeds: walking 4 km/h; bus 30 km/h on mountain roads (the circuity factor already lengthens
  the route). Young children (kindergarten, grades 1-3) walk in urban areas; in rural areas they
  are taken by parents or a school bus (walking a rural 30-minute journey would cover under 2 km).
* Circuity (route length / straight-line distance): mountain 1.6, hill 1.4, urban 1.25 — typical
  values for mountain roads in south-west China; replace them with a road network when one exists.
* Costs (CNY, annual): order-of-magnitude planning figures for a Sichuan prefecture, to be
  replaced by the planners' own; capital is annualised over ``lifetime_years`` at
  ``interest_rate`` (30 years at 4 % gives an annuity factor of 0.0578).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from schoolsystem.scenario import StrictModel
from schoolsystem.vocabulary import LEVELS

Mode = Literal["walk", "bus"]


def _over_defaults(cls: type[StrictModel], data: Any) -> Any:
    """A partial mapping for one member updates that member's own defaults (not the class's).

    ``bands: {kindergarten: {day_cap_urban_min: 10}}`` keeps the kindergarten's walking mode and
    rural cap instead of falling back to :class:`BandRules`' generic defaults.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, value in data.items():
        default = cls.model_fields.get(name)
        if isinstance(value, dict) and default is not None and default.default is not None:
            out[name] = {**default.default.model_dump(), **value}
    return out


class BandRules(StrictModel):
    """Journey rules of one grade band.

    Attributes
    ----------
    mode_urban, mode_rural : {"walk", "bus"}
        Travel mode of a pupil from an urban / rural village.
    day_cap_urban_min, day_cap_rural_min : float
        Longest day-school journey (minutes); beyond it a pupil boards or is not served.
    boarding_cap_min : float
        Longest journey of a boarder (minutes); ``0`` means this band never boards.
    stretch_cap_urban_min, stretch_cap_rural_min : float
        Bands that do not board only. A pupil with no school or candidate site of the level
        within the day cap may keep using an *existing* school of the level up to this journey
        (minutes) — a stated exception beyond the standard, counted outside
        ``share_within_standard`` and named in the school's reason — and a new village site is
        proposed only where no existing school lies within it. ``0`` (or a value not above the
        day cap) switches it off. It keeps the standard from closing a kindergarten that
        children attend today in order to build a new one a few hundred metres nearer them.

    """

    mode_urban: Mode = "bus"
    mode_rural: Mode = "bus"
    day_cap_urban_min: float = Field(45.0, gt=0)
    day_cap_rural_min: float = Field(45.0, gt=0)
    boarding_cap_min: float = Field(0.0, ge=0)
    stretch_cap_urban_min: float = Field(0.0, ge=0)
    stretch_cap_rural_min: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _stretch_only_for_day_bands(self) -> BandRules:
        if self.boards and max(self.stretch_cap_urban_min, self.stretch_cap_rural_min) > 0:
            raise ValueError("stretch_cap_urban_min / stretch_cap_rural_min apply only to bands "
                             "that do not board (boarding_cap_min 0): a boarder's journey "
                             "already reaches beyond the day cap")
        return self

    @property
    def boards(self) -> bool:
        """Whether pupils of this band may board."""
        return self.boarding_cap_min > max(self.day_cap_urban_min, self.day_cap_rural_min)

    @property
    def max_cap_min(self) -> float:
        """Longest journey allowed for any pupil of this band (minutes)."""
        return max(self.day_cap_urban_min, self.day_cap_rural_min, self.boarding_cap_min)


class BandSet(StrictModel):
    """Journey rules per grade band (defaults follow the national rules and the five principles)."""

    kindergarten: BandRules = BandRules(
        mode_urban="walk", mode_rural="bus", day_cap_urban_min=15, day_cap_rural_min=30,
        stretch_cap_urban_min=40,
    )
    primary_lower: BandRules = BandRules(
        mode_urban="walk", mode_rural="bus", day_cap_urban_min=30, day_cap_rural_min=30
    )
    primary_upper: BandRules = BandRules(
        day_cap_urban_min=30, day_cap_rural_min=40, boarding_cap_min=90
    )
    junior: BandRules = BandRules(day_cap_urban_min=45, day_cap_rural_min=45, boarding_cap_min=120)
    senior: BandRules = BandRules(day_cap_urban_min=45, day_cap_rural_min=45, boarding_cap_min=180)
    vocational: BandRules = BandRules(
        day_cap_urban_min=60, day_cap_rural_min=60, boarding_cap_min=600
    )

    @model_validator(mode="before")
    @classmethod
    def _partial_bands(cls, data: Any) -> Any:
        return _over_defaults(cls, data)

    def get(self, band: str) -> BandRules:
        """Return the rules of ``band``."""
        return getattr(self, band)

    @model_validator(mode="after")
    def _no_boarding_for_grades_1_to_3(self) -> BandSet:
        # State Council 2012 / 2018: grades 1-3 in principle do not board (reference section 2).
        if self.primary_lower.boards or self.kindergarten.boards:
            raise ValueError(
                "bands.primary_lower / bands.kindergarten: boarding_cap_min must not exceed the "
                "day caps — grades 1-3 and kindergarten children do not board (national rule, "
                "State Council 2012 and 2018)")
        return self


class LevelRules(StrictModel):
    """Size and cost rules of one school level.

    Attributes
    ----------
    min_size : int
        Minimum viable enrollment of an open school of this level (stated exceptions apart).
    class_size : int
        Seats per expansion block (one class).
    max_blocks : int
        Most classes that may be added to one existing school (a new site is built in classes
        up to its ``max_capacity``).
    fixed_cost : float
        Annual running cost of one school of this level (CNY), independent of its size.
    per_student_cost : float
        Annual cost per enrolled student (CNY); the same wherever the pupil goes, so it enters the
        annual cost KPIs but does not move the plan.
    closure_cost : float
        One-off cost of closing a school (CNY: procedure, re-use of the site); annualised.

    """

    min_size: int = Field(ge=0)
    class_size: int = Field(gt=0)
    max_blocks: int = Field(12, ge=0)
    fixed_cost: float = Field(ge=0)
    per_student_cost: float = Field(ge=0)
    closure_cost: float = Field(300_000.0, ge=0)


class LevelSet(StrictModel):
    """Size and cost rules per level; a level given in part keeps the defaults of the rest.

    ``vocational.min_size`` is Measure 6's threshold: secondary vocational schools under 1,200
    students are integrated (:mod:`layout.plan.vocational`).

    Examples
    --------
    >>> LevelSet.model_validate({"vocational": {"min_size": 800}}).vocational.class_size
    50

    """

    kindergarten: LevelRules = LevelRules(
        min_size=30, class_size=30, max_blocks=9, fixed_cost=300_000, per_student_cost=8_000
    )
    primary: LevelRules = LevelRules(
        min_size=100, class_size=45, max_blocks=12, fixed_cost=600_000, per_student_cost=10_000
    )
    junior: LevelRules = LevelRules(
        min_size=300, class_size=50, max_blocks=12, fixed_cost=1_000_000, per_student_cost=13_000
    )
    senior: LevelRules = LevelRules(
        min_size=600, class_size=50, max_blocks=24, fixed_cost=2_000_000, per_student_cost=15_000
    )
    vocational: LevelRules = LevelRules(
        min_size=1200, class_size=50, max_blocks=24, fixed_cost=3_000_000,
        per_student_cost=16_000,
    )

    @model_validator(mode="before")
    @classmethod
    def _partial_levels(cls, data: Any) -> Any:
        return _over_defaults(cls, data)

    def get(self, level: str) -> LevelRules:
        """Return the rules of ``level``."""
        return getattr(self, level)


class CostParams(StrictModel):
    """Cost figures shared by all levels (CNY).

    Attributes
    ----------
    capital_per_seat, capital_per_bed : float
        Construction cost of one new seat / one new bed (one-off).
    lifetime_years, interest_rate : float
        Annualisation of one-off costs (capital and closures).
    transport_per_km : float
        Cost of moving one pupil one kilometre (school bus, subsidy).
    school_days, boarding_weeks : int
        Day pupils travel twice per school day; boarders twice per week.
    boarding_cost : float
        Annual running cost of one boarder (dormitory staff, meals subsidy).
    unserved_cost : float
        Penalty per pupil left unserved: large, so the plan serves everyone it can and marks the
        rest unserved with a reason instead of failing.

    """

    capital_per_seat: float = Field(30_000.0, ge=0)
    capital_per_bed: float = Field(20_000.0, ge=0)
    lifetime_years: float = Field(30.0, gt=0)
    interest_rate: float = Field(0.04, ge=0)
    transport_per_km: float = Field(0.8, ge=0)
    school_days: int = Field(190, ge=0)
    boarding_weeks: int = Field(38, ge=0)
    boarding_cost: float = Field(3_000.0, ge=0)
    unserved_cost: float = Field(1_000_000.0, gt=0)

    @property
    def annuity(self) -> float:
        """Annuity factor turning a one-off cost into an annual one."""
        r, n = self.interest_rate, self.lifetime_years
        if r == 0:
            return 1.0 / n
        return r / (1.0 - (1.0 + r) ** -n)


class VillageSiteKind(StrictModel):
    """Size and cost assumptions of one kind of generated village site.

    Attributes
    ----------
    enabled : bool
        Propose such sites at all.
    min_children : int
        Smallest demand (children within the band's cap of the site) a new site is proposed
        for; fewer children stay unserved with a recommendation (school bus, subsidy).
    max_capacity : int
        Largest size of a new site (seats), built in blocks of ``class_size``. A village whose
        own uncovered demand is larger gets a site sized to that demand.
    class_size : int
        Seats per block (one class).
    fixed_cost : float
        Annual running cost of one site (CNY).
    capital_per_seat : float
        Construction cost per seat (CNY, one-off; annualised like other capital).
    temp_share : float
        Most temporary seats of such a site per milestone, as a share of its permanent seats
        (instead of ``temporary.max_share``): a small village school bridges its first, fuller
        years in rented village premises (the village committee's rooms, a closed school's
        building) rather than building a class that stands empty once births have fallen.
    reuse_within_m : float
        Kindergarten sites only: a village kindergarten whose point lies this close (straight
        line, metres) to the building of a village primary school or teaching point that is not
        a host of the layout principle moves into that building, if every community it serves
        still reaches it within the cap (闲置校舍改建幼儿园; kindergarten classes in a village
        school, 附设幼儿班). 0 switches it off.
    conversion_capital_per_seat : float
        Capital per seat of such a conversion (CNY, one-off), instead of ``capital_per_seat``.

    """

    enabled: bool = True
    min_children: int = Field(10, ge=1)
    max_capacity: int = Field(90, gt=0)
    class_size: int = Field(30, gt=0)
    fixed_cost: float = Field(150_000.0, ge=0)
    capital_per_seat: float = Field(20_000.0, ge=0)
    temp_share: float = Field(1.0, ge=0, le=2)
    reuse_within_m: float = Field(1_000.0, ge=0)
    conversion_capital_per_seat: float = Field(8_000.0, ge=0)


class VillageSiteParams(StrictModel):
    """Generated candidate sites in villages that no school of the level reaches within the cap.

    Where a village has no existing school or candidate site of the level within its band's cap
    (kindergarten: "nearby and convenient", 幼儿园就近就便; grades 1-3: the State Council 2018
    "lower-grade small schools in villages" of remote areas), the village's own point becomes a
    candidate site: a small village kindergarten (level kindergarten) or a lower-grade teaching
    point (level primary, serving grades 1-3 only). Sites are picked greedily by the uncovered
    demand they reach, so one site serves its uncovered neighbours within the cap. They are
    exempt from the level's minimum size (a stated exception).

    Defaults are planning assumptions, not national figures: a village kindergarten of up to 3
    classes of 30 (90 seats), 150,000 CNY a year (two or three teachers and upkeep, half a
    township kindergarten's 300,000), 20,000 CNY per seat (a simple single-storey building,
    often in re-used village premises, against 30,000 for a standard school seat); a teaching
    point of up to 4 classes of 30 (120 seats, mixed grades), 200,000 CNY a year, 20,000 CNY per
    seat. Both need at least 10 children within reach. A village kindergarten moves into a
    non-host village school's building within 1 km when its communities still reach it, at
    8,000 CNY per seat (conversion of an idle school building, about 40 % of the simple
    building's 20,000).
    """

    kindergarten: VillageSiteKind = VillageSiteKind()
    primary_lower: VillageSiteKind = VillageSiteKind(max_capacity=120, fixed_cost=200_000.0)

    @model_validator(mode="before")
    @classmethod
    def _partial_kinds(cls, data: Any) -> Any:
        return _over_defaults(cls, data)

    def get(self, band: str) -> VillageSiteKind:
        """Return the assumptions of ``band`` (``kindergarten`` or ``primary_lower``)."""
        return getattr(self, band)


Terrain = Literal["mountain", "hill", "urban"]
_DEFAULT_CIRCUITY: dict[Terrain, float] = {"mountain": 1.6, "hill": 1.4, "urban": 1.25}


class TravelParams(StrictModel):
    """Travel-time model: straight-line distance x circuity / speed (or a user road network)."""

    walk_kmh: float = Field(4.0, gt=0)
    bus_kmh: float = Field(30.0, gt=0)
    circuity: dict[Terrain, float] = Field(default_factory=lambda: dict(_DEFAULT_CIRCUITY))
    road_network: str | None = None
    """Optional path of a GraphML file or GeoPackage of road lines (never fetched online)."""


class FixedDecision(StrictModel):
    """One decision the planner fixes (``layout.fixed`` entry; see :mod:`layout.plan.fixed`).

    Attributes
    ----------
    id : str
        School or candidate-site id.
    level : str, optional
        One level of a multi-level school (default: all its levels).
    action : {"keep", "close", "build", "exclude", "no_boarding"}
    year : int, optional
        ``keep``: open until this year (inclusive); ``close``: closed from it; ``build``: open
        from it. Default: the whole horizon.

    """

    id: str
    level: Literal["kindergarten", "primary", "junior", "senior", "vocational"] | None = None
    action: Literal["keep", "close", "build", "exclude", "no_boarding"]
    year: int | None = Field(None, ge=2000, le=2100)


class TemporaryParams(StrictModel):
    """Temporary capacity for peaks: modular or rented classrooms, larger classes, double use.

    Attributes
    ----------
    enabled : bool
        Offer temporary seats at all.
    cost_per_seat_year : float
        Cost of one temporary seat for one year (CNY): rent of modular classrooms and the extra
        teaching of larger classes. A planning default, well below the annualised cost of a new
        permanent seat plus its running cost, well above nothing.
    max_share : float
        Most temporary seats per school and milestone, as a share of its permanent seats then:
        modular or rented classrooms on the site (about a fifth more room) and the double use
        of special rooms (about a tenth), with classes kept at the national ceilings (primary
        45, junior and senior 50, never 56 or more). 0.3 by default; 0.2 was the default
        before the plan had to absorb the P90 of demand with temporary seats alone, and then
        built permanent seats for every peak (37 % of new seats idle in 2035 on the embedded
        region, against 20 % at 0.3).

    """

    enabled: bool = True
    cost_per_seat_year: float = Field(2_500.0, ge=0)
    max_share: float = Field(0.3, ge=0, le=1)


class LayoutParams(StrictModel):
    """All parameters of the layout model.

    Examples
    --------
    >>> p = LayoutParams()
    >>> p.bands.primary_lower.boarding_cap_min
    0.0
    >>> LayoutParams.model_validate({"levels": {"junior": {"min_size": 200, "class_size": 50,
    ...     "fixed_cost": 1e6, "per_student_cost": 1.3e4}}}).levels.junior.min_size
    200

    """

    milestones: list[int] = Field(default_factory=lambda: [2025, 2027, 2030, 2035])
    """Milestone years of the staged plan (default ``[2025, 2027, 2030, 2035]``): every decision
    is taken at one of them; the scenario's target year is added when missing, and milestones
    outside the forecast's years (at or before the base year, after its horizon) are left out
    and named in the run's notes. An empty list asks for the one-year plan of the target year."""
    last_period_years: int = Field(5, ge=1)
    """Years the last milestone stands for (the plan horizon ends this many years after it)."""
    temporary: TemporaryParams = TemporaryParams()
    """Temporary seats for peaks (staged plan only)."""
    fixed: list[FixedDecision] = Field(default_factory=list)
    """The planner's own decisions: schools that must stay open or close, projects under
    construction, sites ruled out, schools that may not take boarders. Each is honoured and
    priced (``fixed_decisions.csv``: the plan's cost with it minus without it)."""
    transition_cost_per_pupil_year: float = Field(500.0, ge=0)
    """Staged plan: a pupil may stay at an existing school that is not a host of the layout
    principle (a village junior section, a senior school outside the county seat) until the plan
    closes it; each such pupil-year costs this much (CNY), the weight of the principle against
    seats built for a passing peak. A planning weight, not a cost anyone pays."""
    keep_near_growth_m: float = Field(0.0, ge=0)
    """Staged plan: a school that hosts its level (of ``keep_near_growth_levels``) is not closed
    in a milestone in which seats of that level are built (a new school, added classes) within this distance (straight line,
    metres) — the part is solved again with it held open through that milestone
    (:mod:`layout.plan.rebuild`). Closing it and rebuilding its seats next door can cost about
    the same in the model; a planner signs neither the capital nor the move. 0 (the default)
    switches it off; 2,000 is the radius measured in the README (on the Guangyuan demo it
    keeps 30 kindergartens and costs about 3 s; on the 183-county province it costs a third more
    solver time)."""
    keep_near_growth_levels: tuple[str, ...] = ("kindergarten",)
    """Levels ``keep_near_growth_m`` applies to (kindergartens: the "nearby" principle; primary
    and junior schools are concentrated by the layout principle, and their parts are larger,
    so a second solve costs more). Levels of :data:`schoolsystem.vocabulary.LEVELS` but
    vocational (planned for the target year only)."""

    @field_validator("keep_near_growth_levels")
    @classmethod
    def _known_levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if v not in LEVELS or v == "vocational"]
        if bad:
            raise ValueError(f"keep_near_growth_levels: {bad} not among "
                             f"{[lv for lv in LEVELS if lv != 'vocational']}")
        return value
    bands: BandSet = BandSet()
    levels: LevelSet = LevelSet()
    costs: CostParams = CostParams()
    travel: TravelParams = TravelParams()
    village_sites: VillageSiteParams = VillageSiteParams()
    """Generated village kindergartens / lower-grade teaching points where no school reaches."""
    city_target_seats: int = Field(25_000, ge=0)
    """Measure 7: new school places targeted city-wide."""
    split_students: int = Field(300, gt=0)
    """Demand rows larger than this are split into equal parts, each assigned whole."""
    mip_gap: float = Field(0.02, ge=0)
    """Relative optimality gap at which each sub-problem's solve stops (2 % of its annual cost,
    well inside the uncertainty of the cost figures; lower it for a tighter proof). At 2 % every
    sub-problem of the embedded city stops on the gap, not on the time limit (city solve 22 s on
    2 cores), so the plan does not depend on machine speed: same inputs, seed and threads give
    the same plan. At 1 % three primary sub-problems stop on the 10 s limit instead."""
    mip_node_limit: int | None = Field(20_000, gt=0)
    """Most branch-and-bound nodes per sub-problem. The plan must not depend on how busy the
    machine is: a sub-problem stopped by its time limit on a loaded machine differs from the
    same one run alone (measured: two of 35 city parts at 30 s under load, gaps 5 % and 20 %,
    against 0.1 % and 0.8 % alone). A node limit stops at the same place on any machine; the
    time limit (``solver.time_limit``) stays as a guard. ``None``: time limit only."""
    solver: Literal["highs", "scip", "sat", "highspy"] = "highspy"
    """MIP back end of the school model (see :mod:`layout.core.backends`). Default chosen by
    measurement on the embedded city (benchmarks/city_bench.py, 2 threads): HiGHS through
    ``highspy`` with the greedy warm start reached the 1 % gap on all but three of 32
    sub-problems at 10 s each (those at 0.4-1.3 %), city solve 32 s; at 8 s each, HiGHS through
    OR-Tools (no warm start) found no plan for three primary sub-problems (greedy fallback
    used), SCIP stopped at gaps up to 9 %; CP-SAT (2 workers) was weaker on one county."""
    max_candidates: int = Field(8, gt=0)
    """Each demand row may use only its nearest permitted schools (sparser, faster model)."""
    vocational_keep_one_per_county: bool = True
    """Measure 6 integrates secondary vocational schools under the minimum size city-wide (each
    prefecture of a province its own), but a
    county whose own vocational pupils could fill one school to the minimum keeps one (its last
    school is not merged into another county's: boarders would travel hours). ``False``: the
    integration ignores county lines."""
    township_seat_radius_km: float = Field(3.0, gt=0)
    """A school within this distance of its township's seat (the most populous village or
    community) is a township-seat school; beyond it, a village school (``site_class``). Measured
    on the embedded region: primary schools lie a median 1.6 km from the seat, village primaries
    and teaching points 4.9 km. Only township-seat (and county-seat, central-town) primary and
    nine-year schools host the pupils of closed primaries (primary schools concentrate in
    townships)."""
    zone_size_students: int = Field(1500, gt=0)
    """Junior pupils per proposed zone when a county has no designated central town."""

    @model_validator(mode="after")
    def _fixed_consistent(self) -> LayoutParams:
        # entries for one school and level must be satisfiable together
        spans: dict[tuple[str, str | None], list[tuple[int, str]]] = {}
        for k, e in enumerate(self.fixed):
            spans.setdefault((e.id, e.level), []).append((k, e.action))
        for (sid, level), entries in spans.items():
            acts = {a for _, a in entries}
            for a, b in (("keep", "close"), ("build", "exclude"), ("keep", "exclude")):
                if {a, b} <= acts:
                    ka = next(k for k, x in entries if x == a)
                    kb = next(k for k, x in entries if x == b)
                    ya, yb = self.fixed[ka].year, self.fixed[kb].year
                    if a == "keep" and b == "close" and ya is not None and yb is not None \
                            and ya < yb:
                        continue  # kept until ya, closed from yb > ya: compatible
                    raise ValueError(
                        f"fixed[{ka}] and fixed[{kb}] contradict each other for {sid}"
                        + (f" ({level})" if level else "") + f": {a} and {b}")
        return self
