"""School layout planning: per-county consolidation models, vocational integration, KPIs.

Public API: :func:`plan_layout`, :class:`LayoutPlan`, :class:`LayoutParams`,
:func:`base_year_demand`.
"""

from layout.plan.demand import base_year_demand
from layout.plan.params import LayoutParams
from layout.plan.planner import plan_layout
from layout.plan.result import LayoutPlan

__all__ = ["LayoutParams", "LayoutPlan", "base_year_demand", "plan_layout"]
