"""Synthetic capacity, beds, classrooms and teachers sized from base-year enrollment.

County-seat schools are crowded (utilisation often above 1), rural schools under-used; rural
junior-level and central primary schools have boarding beds; classrooms follow standard class
sizes and teachers plausible pupil-teacher ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layout.synth.calibration import CLASS_SIZE, PUPIL_TEACHER
from schoolsystem.vocabulary import LEVELS, SCHOOL_TYPE_LEVELS, SCHOOL_TYPES

MAIN_LEVEL = {t: next(lv for lv in LEVELS if lv in SCHOOL_TYPE_LEVELS[t]) for t in SCHOOL_TYPES}
MIN_CAPACITY = {"kindergarten": 60, "primary": 270, "village_primary": 90, "teaching_point": 30,
                "nine_year": 450, "junior": 450, "complete_secondary": 900, "senior": 900,
                "vocational": 600}


def size_schools(schools: pd.DataFrame, by_level: pd.DataFrame,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Add ``capacity, boarding_beds, classrooms, teachers`` to the placed schools.

    Parameters
    ----------
    schools : pandas.DataFrame
        Placed schools (``school_id``, ``school_type``, ``seat``, ``ownership``).
    by_level : pandas.DataFrame
        Base-year students per school and level (from
        :func:`layout.synth.enrollment.base_year_by_level`).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        ``schools`` with the four columns added (integers).

    """
    e = by_level.reindex(schools["school_id"]).fillna(0)
    total = e[list(LEVELS)].sum(axis=1).to_numpy()
    st = schools["school_type"].to_numpy()
    seat = schools["seat"].to_numpy()
    n = len(schools)
    util = np.where(seat, rng.uniform(0.92, 1.28, n), rng.uniform(0.5, 0.9, n))
    util = np.where(np.isin(st, ["village_primary", "teaching_point"]),
                    rng.uniform(0.25, 0.6, n), util)
    util = np.where(st == "vocational", rng.uniform(0.55, 0.95, n), util)
    util = np.where(schools["ownership"].to_numpy() == "private", rng.uniform(0.6, 0.95, n), util)
    level = pd.Series(st).map(MAIN_LEVEL)
    class_size = level.map(CLASS_SIZE).to_numpy(float)
    class_size = np.where(np.isin(st, ["village_primary", "teaching_point"]), 30.0, class_size)
    raw = total / util
    capacity = np.ceil(raw / class_size) * class_size
    capacity = np.maximum(capacity, pd.Series(st).map(MIN_CAPACITY).to_numpy()).astype(np.int64)
    classrooms = np.maximum(1, np.ceil(capacity / class_size)).astype(np.int64)
    ptr = level.map(PUPIL_TEACHER).to_numpy(float)
    ptr = np.where(seat, ptr * 1.1, ptr * 0.8)
    teachers = np.round(total / ptr * rng.uniform(0.9, 1.15, n))
    min_teachers = np.where(st == "teaching_point", 1, np.minimum(classrooms, 6))
    teachers = np.maximum(teachers, min_teachers).astype(np.int64)
    junior_host = np.isin(st, ["junior", "nine_year", "complete_secondary"])
    beds = np.zeros(n)
    beds += np.where(junior_host & ~seat, e["junior"].to_numpy() * rng.uniform(0.5, 0.85, n), 0)
    beds += np.where(((st == "primary") | (st == "nine_year")) & ~seat,
                     e["primary_upper"].to_numpy() * rng.uniform(0.1, 0.35, n), 0)
    beds += np.where(np.isin(st, ["senior", "complete_secondary"]),
                     e["senior"].to_numpy() * rng.uniform(0.5, 0.9, n), 0)
    beds += np.where(st == "vocational", e["vocational"].to_numpy() * rng.uniform(0.5, 0.85, n),
                     0)
    beds = (np.ceil(beds / 8) * 8).astype(np.int64)  # rooms of 8 beds
    return schools.assign(capacity=capacity, boarding_beds=beds, classrooms=classrooms,
                          teachers=teachers)
