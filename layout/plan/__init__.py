"""School layout planning: per-county consolidation models, vocational integration, KPIs.

Public API: :func:`plan_layout`, :class:`LayoutPlan`, :class:`LayoutParams`. The demand comes
from the forecast (:func:`layout.pipeline.demand_for_year`).
"""

from layout.plan.params import LayoutParams
from layout.plan.planner import plan_layout
from layout.plan.result import LayoutPlan

__all__ = ["LayoutParams", "LayoutPlan", "plan_layout"]
