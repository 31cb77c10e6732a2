"""Enrollment forecasting: cohort-component population projection under fertility scenarios.

Works on plain pandas tables (see ``data/geo/README.md``); never imports ``layout``.
"""

# --- population engine (helper D1) ---
from forecasting.cohort import iter_project as iter_project
from forecasting.cohort import project_cohorts as project_cohorts
from forecasting.errors import ForecastError as ForecastError
from forecasting.errors import ForecastInputError as ForecastInputError
from forecasting.errors import ScenarioError as ScenarioError
from forecasting.fertility import TFR_PATHS as TFR_PATHS
from forecasting.fertility import asfr_schedule as asfr_schedule
from forecasting.fertility import tfr_path as tfr_path
from forecasting.lifetable import survival as survival
from forecasting.population import AGE_GROUPS as AGE_GROUPS
from forecasting.population import PopulationForecast as PopulationForecast
from forecasting.population import project_population as project_population
from forecasting.scenario import ForecastScenario as ForecastScenario
from forecasting.scenario import load_forecast_scenario as load_forecast_scenario
from forecasting.urbanisation import fit_logistic as fit_logistic
