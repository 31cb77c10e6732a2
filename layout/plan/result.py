"""The layout plan: tables consumed by outputs (CSV, maps, Excel) and the notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from layout.plan.params import LayoutParams

SCHOOL_COLUMNS = (
    "school_id", "name", "county_code", "township_code", "level", "school_type", "action",
    "merge_into", "enrollment_base", "demand_target", "capacity_base", "capacity_after",
    "seats_added", "beds_added", "boarders", "utilization", "reason", "lon", "lat",
)
ASSIGNMENT_COLUMNS = (
    "demand_id", "level", "grade_band", "school_id", "students", "travel_min", "boarding",
    "lon", "lat",
)
UNSERVED_COLUMNS = ("demand_id", "level", "grade_band", "students", "reason")
KPI_COLUMNS = (
    "county_code", "level", "schools_before", "schools_after", "travel_mean_min",
    "travel_p95_min", "share_within_standard", "boarders", "seats_added", "utilization",
    "cost_before", "cost_after", "cost_per_pupil",
)
PROJECT_COLUMNS = (
    "project_id", "school_id", "name", "county_code", "kind", "level", "seats", "beds",
    "capital_cost",
)
SOLVER_COLUMNS = (
    "county_code", "subproblem", "status", "objective", "bound", "gap", "wall_time", "threads",
    "seed",
)

ACTIONS = ("keep", "expand", "close", "merge", "convert", "new")


@dataclass
class LayoutPlan:
    """A school layout plan for one target year.

    Attributes
    ----------
    schools : DataFrame
        One row per (school, level); new schools have ``school_id`` = site_id. Columns
        :data:`SCHOOL_COLUMNS`; ``action`` is one of :data:`ACTIONS`.
    assignments : DataFrame
        Demand (village x grade band part) -> school, columns :data:`ASSIGNMENT_COLUMNS`.
    unserved : DataFrame
        Demand that cannot be served under the caps and capacities, with the reason.
    kpis : DataFrame
        Per county x level, columns :data:`KPI_COLUMNS` (costs in CNY per year).
    projects : DataFrame
        New schools and expansions with seats, beds and capital cost (CNY, one-off).
    solver_records : DataFrame
        One row per sub-problem solved.
    seats_added_total : int
        New seats city-wide (new schools + expansions).
    target_year : int
    params : LayoutParams
    city_target_seats : int
        The city's target of new places (Measure 7: 25,000).
    notes : list of str
        Statements the plan makes (proposed junior zones, vocational exceptions, ...).

    """

    schools: pd.DataFrame
    assignments: pd.DataFrame
    unserved: pd.DataFrame
    kpis: pd.DataFrame
    projects: pd.DataFrame
    solver_records: pd.DataFrame
    seats_added_total: int
    target_year: int
    params: LayoutParams
    city_target_seats: int = 25000
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Short text summary (schools by action, seats added vs target, unserved pupils)."""
        acts = self.schools["action"].value_counts().reindex(list(ACTIONS), fill_value=0)
        lines = [
            f"目标年 target year {self.target_year}",
            "措施 actions: " + ", ".join(f"{a} {n}" for a, n in acts.items()),
            f"新增学位 seats added {self.seats_added_total:,} / 目标 target {self.city_target_seats:,}",
            f"未满足需求 unserved pupils {self.unserved['students'].sum():,.0f}",
        ]
        return "\n".join(lines + self.notes)
