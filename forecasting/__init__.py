"""Enrollment forecasting: cohort-component population projection under fertility scenarios.

Works on plain pandas tables (see ``data/geo/README.md``); never imports ``layout``. Levels, grade
bands, ages and table schemas come from :mod:`schoolsystem`.
"""

from forecasting.attendance import AttendanceModel as AttendanceModel
from forecasting.attendance import calibrate_attendance as calibrate_attendance
from forecasting.backtest import BacktestResult as BacktestResult
from forecasting.backtest import run_backtests as run_backtests
from forecasting.calibration import IntervalCalibration as IntervalCalibration
from forecasting.calibration import calibrate_intervals as calibrate_intervals
from forecasting.calibration import interval_coverage as interval_coverage
from forecasting.cohort import iter_project as iter_project
from forecasting.cohort import project_cohorts as project_cohorts
from forecasting.demand import LevelRates as LevelRates
from forecasting.demand import compute_demand as compute_demand
from forecasting.errors import ForecastError as ForecastError
from forecasting.errors import ForecastInputError as ForecastInputError
from forecasting.errors import ScenarioError as ScenarioError
from forecasting.fertility import TFR_PATHS as TFR_PATHS
from forecasting.fertility import asfr_schedule as asfr_schedule
from forecasting.fertility import tfr_path as tfr_path
from forecasting.joint import project_joint as project_joint
from forecasting.lifetable import survival as survival
from forecasting.metrics import malpe as malpe
from forecasting.metrics import mape as mape
from forecasting.metrics import mdape as mdape
from forecasting.metrics import summarise_errors as summarise_errors
from forecasting.outlook import RegionOutlook as RegionOutlook
from forecasting.outlook import forecast_region as forecast_region
from forecasting.population import PopulationForecast as PopulationForecast
from forecasting.population import project_population as project_population
from forecasting.scenario import ForecastScenario as ForecastScenario
from forecasting.scenario import load_forecast_scenario as load_forecast_scenario
from forecasting.shares import ShareModel as ShareModel
from forecasting.shares import fit_share_model as fit_share_model
from forecasting.urbanisation import fit_logistic as fit_logistic
