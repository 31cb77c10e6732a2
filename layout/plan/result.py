"""The layout plan: tables consumed by outputs (CSV, maps, Excel) and the notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from layout.plan.params import LayoutParams
from schoolsystem.vocabulary import ACTIONS

__all__ = ["LayoutPlan"]


@dataclass
class LayoutPlan:
    """A school layout plan for one target year.

    Attributes
    ----------
    schools : DataFrame
        One row per (school, level); new schools have ``school_id`` = site_id. Columns
        :data:`schoolsystem.schemas.SCHOOL_COLUMNS`; ``action`` is one of :data:`schoolsystem.vocabulary.ACTIONS`.
    assignments : DataFrame
        Demand (village x grade band part) -> school, columns :data:`schoolsystem.schemas.ASSIGNMENT_COLUMNS`.
    unserved : DataFrame
        Demand that cannot be served under the caps and capacities, with the reason.
    kpis : DataFrame
        Per county x level, columns :data:`schoolsystem.schemas.KPI_COLUMNS` (costs in CNY per year).
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
    milestones : list of int
        Milestone years of a staged plan (:func:`layout.plan.plan_staged`); empty for a one-year
        plan. ``schools`` then has ``action_year`` and per-milestone columns, and
        ``assignments``, ``unserved`` and ``kpis`` are the views of ``target_year``.
    timeline : DataFrame or None
        Staged plan: :data:`schoolsystem.schemas.TIMELINE_COLUMNS`, per milestone, county, level.
    assignments_by_year, unserved_by_year : DataFrame or None
        Staged plan: the assignments and unserved rows of every milestone (column ``year``).
    staged_summary : DataFrame or None
        Staged plan: ``metric, level, year, value`` (new permanent seats against the peak net
        need, idle share of new seats, median utilisation, kept schools under 30 %); see
        :func:`layout.plan.staged_tables.staged_summary`.
    fixed_decisions : DataFrame or None
        The planner's fixed decisions (``layout.fixed``) with their price:
        :data:`layout.plan.fixed.FIXED_COLUMNS`.
    p90_check : DataFrame or None
        Staged plan: its network at every milestone under the P90 demand, temporary seats and
        pupils left unserved (:mod:`layout.plan.p90`).

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
    milestones: list[int] = field(default_factory=list)
    timeline: pd.DataFrame | None = None
    assignments_by_year: pd.DataFrame | None = None
    unserved_by_year: pd.DataFrame | None = None
    staged_summary: pd.DataFrame | None = None
    p90_check: pd.DataFrame | None = None
    fixed_decisions: pd.DataFrame | None = None

    def summary(self) -> str:
        """Short text summary (schools by action, seats added vs target, unserved pupils)."""
        acts = self.schools["action"].value_counts().reindex(list(ACTIONS), fill_value=0)
        lines = [
            f"目标年 target year {self.target_year}",
            "措施 actions: " + ", ".join(f"{a} {n}" for a, n in acts.items()),
            f"新增学位 seats added {self.seats_added_total:,} / 目标 target {self.city_target_seats:,}",
            f"未满足需求 unserved pupils {self.unserved['students'].sum():,.0f}",
        ]
        if self.staged_summary is not None:
            v = self.staged_summary.set_index("metric")["value"]
            lines.append(
                f"分期 milestones {', '.join(map(str, self.milestones))}: 新增永久学位 new "
                f"permanent seats {v.get('new_permanent_seats', 0):,.0f} / 峰值净需求 peak net "
                f"need {v.get('peak_net_need', 0):,.0f}; 末年闲置 idle in the last milestone "
                f"{v.get('new_seats_idle_share', 0):.0%} of new seats")
        return "\n".join(lines + self.notes)
