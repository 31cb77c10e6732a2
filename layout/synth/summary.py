"""Calibration figures of generated layers (compare with ``../shared/reference/README.md`` §3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from layout.synth.calibration import BASE_YEAR
from schoolsystem.vocabulary import GRADE_LEVEL


def level_of_grade(grade: pd.Series) -> np.ndarray:
    """Map grade codes (K1..K3, G1..G12, V1..V3) to level names."""
    return grade.map(dict(GRADE_LEVEL)).to_numpy()


def summarise(layers: dict[str, Any]) -> dict[str, Any]:
    """Headline figures: counts, population, urban share, birth rate, enrollment by level.

    Parameters
    ----------
    layers : dict
        Output of :func:`layout.synth.generate.build_region`.

    Returns
    -------
    dict

    """
    v = layers["villages"]
    u = layers["urbanisation"]
    b = layers["births"]
    s = layers["schools"]
    e = layers["enrollment"]
    pop_y = u.groupby("year")["population"].sum()
    share_y = (u["population"] * u["urban_share"]).groupby(u["year"]).sum() / pop_y
    e_base = e.loc[e["year"] == BASE_YEAR]
    by_level = e_base.groupby(level_of_grade(e_base["grade"]))["students"].sum()
    top3 = v.assign(c=v["township_code"].str[:6]).groupby("c")["population"].sum()
    return {
        "townships": len(layers["townships"]),
        "villages": len(v),
        "population": int(v["population"].sum()),
        "urban_share": round(float((v["population"] * v["urban"]).sum() / v["population"].sum()),
                             4),
        "top3_share": round(float(top3[["510802", "510823", "510824"]].sum() / top3.sum()), 4),
        "urban_share_2021": round(float(share_y[2021]), 4),
        "birth_rate_2021_permille": round(
            1000 * float(b.loc[b["year"] == 2021, "births"].sum() / pop_y[2021]), 3),
        "births_2016_2023": (int(b.loc[b["year"] == 2016, "births"].sum()),
                             int(b.loc[b["year"] == BASE_YEAR, "births"].sum())),
        "children_0_17": int(layers["children"]["persons"].sum()),
        "schools_by_type": s["school_type"].value_counts().sort_index().to_dict(),
        "private_kindergartens": int(((s["school_type"] == "kindergarten")
                                      & (s["ownership"] == "private")).sum()),
        "enrollment_base_year": {k: int(x) for k, x in by_level.items()},
        "candidate_sites": len(layers["candidate_sites"]),
    }
