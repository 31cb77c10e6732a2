"""Typed parsing of one layer: required columns, types, bounds, codes and unique ids.

Parsing never stops at the first bad cell: every problem is collected, the bad cell becomes
missing (``NaN`` / ``<NA>``) in the typed frame, and cross-layer checks carry on with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from layout.errors import Problem
from layout.region.readers import RawLayer
from layout.region.schema import Column, LayerSpec

TRUE_WORDS = frozenset({"true", "1", "是", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "否", "no", "n", "f"})
_BOOL_MAP = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


@dataclass
class ParsedLayer:
    """A layer after typed parsing.

    Parameters
    ----------
    name, file : str
        Layer name and the file name used in problems.
    frame : pandas.DataFrame
        Typed columns: ids and strings as text, numbers as float64 (``NaN`` where bad), booleans as
        nullable ``boolean``. Missing required columns are absent.
    labels : numpy.ndarray
        Row identifier per row: the record id, else ``line N`` / ``feature N``.
    lines : numpy.ndarray
        Physical position of each row (``line N`` / ``feature N``).
    geometry : geopandas.GeoSeries, optional
        Polygon geometry (EPSG:4326).

    """

    name: str
    file: str
    frame: pd.DataFrame
    labels: np.ndarray
    lines: np.ndarray
    geometry: gpd.GeoSeries | None = None

    def has(self, *columns: str) -> bool:
        """Whether all ``columns`` are present."""
        return all(c in self.frame.columns for c in columns)


FILE_LEVEL, OWN_ROWS, FOLLOW_ON = 0, 1, 2
"""Stages of a problem, in the order they are listed: the file itself (missing, unreadable,
truncated, missing column), a row's own values, then follow-on problems found by comparing layers
(unknown references, missing age rows, counties without residents...), which often follow from the
first two."""


class ProblemList(list[Problem]):
    """A list of problems with a vectorised ``add_rows`` helper.

    Every problem added is tagged with the current :attr:`stage` (``stages`` runs parallel to the
    list), so a damaged row can be listed before the thousands of references that fail because of
    it.

    Parameters
    ----------
    problems : iterable of Problem, optional
        Initial problems (tagged :data:`FILE_LEVEL`: reading problems).
    stage : int
        Stage of the problems added next (default :data:`OWN_ROWS`).

    """

    def __init__(self, problems: Iterable[Problem] = (), stage: int = OWN_ROWS) -> None:
        super().__init__(problems)
        self.stages: list[int] = [FILE_LEVEL] * len(self)
        self.stage = stage

    def append(self, problem: Problem) -> None:
        """Add one problem tagged with the current stage."""
        super().append(problem)
        self.stages.append(self.stage)

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems tagged with the current stage."""
        items = list(problems)
        super().extend(items)
        self.stages.extend([self.stage] * len(items))

    def add_rows(
        self,
        layer: ParsedLayer,
        mask: np.ndarray | pd.Series,
        column: str,
        values: pd.Series | np.ndarray | None,
        message: str | pd.Series | np.ndarray,
    ) -> None:
        """Add one problem per row where ``mask`` is true.

        Parameters
        ----------
        layer : ParsedLayer
            Layer the rows belong to (gives file and row labels).
        mask : array of bool
            Rows with the problem.
        column : str
            Column name.
        values : array, optional
            Value per row (quoted in the problem); ``None`` for no value.
        message : str or array of str
            Message, shared or per row.

        """
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        rows = layer.labels[idx]
        vals = (
            [""] * idx.size
            if values is None
            else [str(v) for v in np.asarray(values, dtype=object)[idx]]
        )
        msgs = (
            [message] * idx.size
            if isinstance(message, str)
            else [str(m) for m in np.asarray(message, dtype=object)[idx]]
        )
        self.extend(
            Problem(layer.file, str(r), column, v, m)
            for r, v, m in zip(rows, vals, msgs, strict=True)
        )


def _fmt(bound: float) -> str:
    return f"{bound:,.0f}" if float(bound).is_integer() else f"{bound:g}"


def _parse_column(col: Column, text: pd.Series, layer: ParsedLayer, out: ProblemList) -> pd.Series:
    """Parse and check one column; returns the typed column."""
    empty = (text == "").to_numpy()
    if not col.allow_empty:
        out.add_rows(layer, empty, col.name, None, "missing value")
    if col.kind in ("id", "str"):
        filled = ~empty
        if col.pattern is not None:
            bad = filled & ~text.str.fullmatch(col.pattern).fillna(False).to_numpy(dtype=bool)
            out.add_rows(
                layer, bad, col.name, text, f"does not match the expected format {col.pattern}"
            )
        if col.choices is not None:
            bad = filled & ~text.isin(col.choices).to_numpy()
            allowed = ", ".join(sorted(col.choices))
            out.add_rows(
                layer, bad, col.name, text, f"unknown {col.name} code (expected one of: {allowed})"
            )
        return text
    if col.kind == "bool":
        parsed = text.str.lower().map(_BOOL_MAP)
        bad = ~empty & parsed.isna().to_numpy()
        out.add_rows(
            layer, bad, col.name, text, "not a boolean (expected true/false, 1/0 or 是/否)"
        )
        return parsed.astype("boolean")
    numbers = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float).to_numpy()
    bad = ~empty & ~np.isfinite(numbers)
    out.add_rows(layer, bad, col.name, text, "not a number")
    numbers = np.where(bad, np.nan, numbers)
    valid = np.isfinite(numbers)
    if col.kind == "int":
        frac = valid & (numbers != np.round(numbers))
        out.add_rows(layer, frac, col.name, text, "must be a whole number")
    checks = (
        (col.ge, np.less, ">="),
        (col.gt, np.less_equal, ">"),
    )
    for bound, fails, sign in checks:
        if bound is not None:
            low = valid & fails(numbers, bound)
            what = "negative value" if bound == 0 and sign == ">=" else "too small"
            out.add_rows(layer, low, col.name, text, f"{what}: must be {sign} {_fmt(bound)}")
    if col.le is not None:
        high = valid & (numbers > col.le)
        out.add_rows(layer, high, col.name, text, f"out of range: must be <= {_fmt(col.le)}")
    if col.lt is not None:
        high = valid & (numbers >= col.lt)
        out.add_rows(layer, high, col.name, text, f"implausibly large: must be < {_fmt(col.lt)}")
    return pd.Series(numbers, index=text.index, dtype=float)


def parse_layer(raw: RawLayer, spec: LayerSpec, out: ProblemList) -> ParsedLayer:
    """Parse one raw layer into typed columns, collecting problems.

    Parameters
    ----------
    raw : RawLayer
        Layer read as text.
    spec : LayerSpec
        Its specification.
    out : ProblemList
        Problems are appended here.

    Returns
    -------
    ParsedLayer
        Typed layer (bad cells missing).

    """
    frame = raw.frame
    labels = raw.lines.astype(object)
    if spec.id_column is not None and spec.id_column in frame.columns:
        ids = frame[spec.id_column].to_numpy(dtype=object)
        labels = np.where(ids != "", ids, labels)
    layer = ParsedLayer(
        raw.name, raw.file, pd.DataFrame(index=frame.index), labels, raw.lines, raw.geometry
    )
    typed: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            if col.required:
                out.append(Problem(raw.file, "", col.name, "", "required column is missing"))
            continue
        typed[col.name] = _parse_column(col, frame[col.name], layer, out)
    layer.frame = pd.DataFrame(typed, index=frame.index)
    if spec.id_column is not None and spec.id_column in frame.columns:
        ids = frame[spec.id_column]
        dup = (ids.duplicated(keep=False) & (ids != "")).to_numpy()
        if dup.any():
            where = (
                pd.Series(raw.lines[dup], index=ids[dup].index)
                .groupby(ids[dup].to_numpy())
                .agg(", ".join)
            )
            message = "duplicate id (rows " + ids.map(where).fillna("") + ")"
            out.add_rows(layer, dup, spec.id_column, ids, message)
    return layer
