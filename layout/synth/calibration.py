"""Calibration constants of the synthetic Guangyuan region.

Sources: section 3 of ``../shared/reference/README.md`` (the project's reference notes, outside
this repository); the totals used are repeated in ``data/geo/guangyuan/PROVENANCE.md``.

Figures marked *approx.* in the reference are orders of magnitude to calibrate against; the
per-county splits below are invented so that city totals match the published figures
(2020 census residents 2,305,657; urbanisation 48.06 % in 2021; birth rate 6.20 ‰ in 2021; the
three largest units 利州/苍溪/剑阁 about two thirds of residents; 2017 school counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASE_YEAR = 2023
DEFAULT_SEED = 20241
ENROLLMENT_YEARS = np.arange(2019, 2024)
BIRTH_YEARS = np.arange(2005, 2024)
URBAN_YEARS = np.arange(2013, 2024)
HISTORY_YEARS = np.arange(2016, 2024)
CENSUS_2020_POPULATION = 2_305_657
URBAN_SHARE_2021 = 0.4806
PROJECTED_CRS = "EPSG:4544"


@dataclass(frozen=True)
class CountySpec:
    """Synthetic calibration of one county-level unit."""

    code: str
    name: str
    short: str
    terrain: str
    seat_lon: float
    seat_lat: float
    population: int  # residents, base year (approx.)
    urban_share: float  # base year
    n_townships: int
    n_streets: int  # county-seat group
    n_central: int  # designated central towns
    share_xiang: float  # share of non-seat units that are 乡 (township) rather than 镇
    fertility: float  # relative births per resident
    out_migration: float  # yearly child out-migration hazard (negative = net in-migration)
    n_senior: int  # senior-level schools (senior + complete_secondary)
    n_senior_outside: int  # of which outside the county seat
    vocational: tuple[int, ...]  # target enrollment of each vocational school


COUNTIES: tuple[CountySpec, ...] = (
    CountySpec("510802", "利州区", "利州", "urban", 105.83, 32.43, 590_000, 0.80,
               17, 6, 2, 0.0, 0.85, -0.002, 6, 1, (3300, 2500, 950)),
    CountySpec("510811", "昭化区", "昭化", "hill", 105.97, 32.32, 140_000, 0.345,
               15, 1, 2, 0.25, 1.05, 0.011, 2, 1, (650,)),
    CountySpec("510812", "朝天区", "朝天", "mountain", 105.88, 32.65, 145_000, 0.375,
               16, 1, 2, 0.35, 1.0, 0.013, 2, 0, (700,)),
    CountySpec("510821", "旺苍县", "旺苍", "mountain", 106.28, 32.23, 330_000, 0.45,
               24, 2, 3, 0.3, 1.05, 0.012, 4, 1, (1750, 620)),
    CountySpec("510822", "青川县", "青川", "mountain", 105.23, 32.58, 165_000, 0.375,
               24, 1, 3, 0.4, 1.0, 0.013, 3, 1, (880,)),
    CountySpec("510823", "剑阁县", "剑阁", "hill", 105.52, 32.28, 430_000, 0.385,
               30, 2, 4, 0.2, 1.1, 0.011, 5, 2, (2150, 820)),
    CountySpec("510824", "苍溪县", "苍溪", "hill", 105.93, 31.73, 480_000, 0.40,
               31, 2, 4, 0.2, 1.1, 0.011, 5, 2, (2500, 720)),
)

# City births by calendar year (approx.): about halved 2016 -> 2023, 6.2 ‰ in 2021.
CITY_BIRTHS: dict[int, int] = {
    2000: 27500, 2001: 27000, 2002: 26800, 2003: 26300, 2004: 26000,
    2005: 25800, 2006: 25200, 2007: 25600, 2008: 25000, 2009: 24600,
    2010: 24100, 2011: 23600, 2012: 23900, 2013: 23200, 2014: 24100,
    2015: 22800, 2016: 24600, 2017: 24100, 2018: 21900, 2019: 20300,
    2020: 17400, 2021: 14250, 2022: 13000, 2023: 12100,
}
CHILD_SURVIVAL = 0.994

# Enrollment rates of the resident cohort by level (approx.).
KINDERGARTEN_RATE = 1.0  # gross: includes some 2- and 6-year-olds
SENIOR_GENERAL_RATE = 0.66
VOCATIONAL_RATE = 0.27
# Share of rural (non-seat) children enrolled in county-seat schools, by level.
CROSS_TO_SEAT = {"kindergarten": 0.12, "primary": 0.18, "junior": 0.28}

# School-count targets (2017 city profile, approx.).
N_KINDERGARTEN = 300
N_PRIMARY = 260  # 乡镇中心校 + urban primary (excluding village schools, teaching points)
N_JUNIOR_LEVEL = 125
N_NINE_YEAR = 62
N_COMPLETE_SECONDARY = 8
N_SITES = 60

PROGRAMME_GROUPS = (
    "manufacturing", "it", "health", "tourism", "agriculture",
    "business", "education", "construction", "transport",
)
# seats per classroom and pupils per teacher, by school level (approx. national standards)
CLASS_SIZE = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50, "vocational": 45}
PUPIL_TEACHER = {"kindergarten": 14.0, "primary": 17.0, "junior": 13.0, "senior": 13.0,
                 "vocational": 19.0}
