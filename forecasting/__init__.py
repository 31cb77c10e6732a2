"""Enrollment forecasting: cohort-component population projection under fertility scenarios.

Works on plain pandas tables (see ``data/geo/README.md``); never imports ``layout``.
"""

from forecasting.cohort import iter_project
from forecasting.cohort import project_cohorts
from forecasting.errors import ForecastError
from forecasting.errors import ForecastInputError
from forecasting.errors import ScenarioError
