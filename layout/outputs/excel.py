"""The planner's workbook ``layout.xlsx`` and the CSV exports.

Workbook sheets: 推荐布局 (plan.schools, with Chinese label columns beside the level, school
type, site class and action codes, pupils as whole numbers: :func:`schools_sheet`), 分配汇总 (assignments summed by school and level),
指标 (KPIs), 项目清单 (projects), 未满足需求 (unserved demand), 求解记录 (solver records),
情景参数 (scenario parameters) and 数据字典 (data dictionary). Every table sheet has the Chinese
header on row 1 and the English identifier on row 2 (frozen), data from row 3.

Spreadsheet injection: a school named ``=HYPERLINK(...)`` must stay text. One rule,
:data:`layout.outputs.escape.FORMULA_PREFIXES` (text starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return), is applied to both outputs. In the workbook every string cell is written
with ``data_type = "s"`` (a string, never a formula) and such strings also get Excel's quote prefix
(the cell value itself is unchanged), so editing the cell keeps it text.

CSV files (:func:`write_csv`, :func:`write_csvs`) are UTF-8 with a byte-order mark (Excel on
Chinese Windows reads them correctly) and use the English identifiers as headers. A CSV cell has
no quote-prefix flag, so formula-like *text* cells get a leading single quote (OWASP); numbers,
negative ones included, are never changed.

Reproducible files: identical inputs give byte-identical files. Wall-clock solve times
(``wall_time``) are left out of the workbook and the CSVs (they are in ``manifest.json``), and
the workbook's zip entries and document properties carry :data:`FIXED_TIMESTAMP`, not the time
of writing.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from layout.outputs.atomic import FIXED_TIMESTAMP, atomic_path
from layout.outputs.escape import (
    FORMULA_PREFIXES,
    is_formula_like,
    neutralise_frame,
    text_test,
)
from layout.outputs.tables import assignment_summary, chinese, data_dictionary, plan_table
from schoolsystem.vocabulary import (
    ACTION_LABELS_ZH,
    LEVEL_LABELS_ZH,
    SCHOOL_TYPE_LABELS_ZH,
    SITE_CLASS_LABELS_ZH,
)

__all__ = ["FORMULA_PREFIXES", "write_csv", "write_csvs", "write_workbook"]

WALL_TIME_COLUMNS = ("wall_time",)
"""Columns holding wall-clock times: kept out of the workbook and CSVs (see ``manifest.json``)."""
PERCENT_COLUMNS = {"utilization", "share_within_standard", "gap", "pop_change_pct"}
DICTIONARY_HEADERS = {"zh_header": "中文列名", "identifier": "英文标识", "meaning": "含义",
                      "tables": "所在表"}  # fmt: skip
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_IDENT_FONT = Font(color="808080", size=9)


def _cell_value(value: Any) -> Any:
    """Python value for a cell: None for NA, plain int/float/bool/str otherwise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def write_text_cell(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write one cell; strings are stored as text (never a formula)."""
    cell = ws.cell(row=row, column=col)
    value = _cell_value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_table_sheet(ws: Worksheet, frame: pd.DataFrame, headers: dict[str, str] | None = None) -> None:
    """Write ``frame`` with Chinese headers (row 1), identifiers (row 2), frozen header, widths.

    Parameters
    ----------
    ws : openpyxl Worksheet
        Sheet to fill.
    frame : pandas.DataFrame
        Columns named by English identifiers.
    headers : dict, optional
        Chinese header per identifier; defaults to the project's column dictionary.

    """
    headers = headers or {}
    columns = list(frame.columns)
    for j, col in enumerate(columns, start=1):
        head = write_text_cell(ws, 1, j, headers.get(col, chinese(col)))
        head.font = Font(bold=True)
        head.fill = _HEADER_FILL
        ident = write_text_cell(ws, 2, j, col)
        ident.font = _IDENT_FONT
    values = frame.astype(object).to_numpy()
    for i, row in enumerate(values, start=3):
        for j, value in enumerate(row, start=1):
            write_text_cell(ws, i, j, value)
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        sample = frame[col].head(2000).astype(object).fillna("").astype(str)
        wide = sample.str.len() + sample.str.count(r"[\u2e80-\uffff]")
        longest = int(wide.max()) if len(sample) else 0
        head_w = max(_display_width(headers.get(col, chinese(col))), len(col))
        ws.column_dimensions[letter].width = min(60, max(8, longest, head_w) + 2)
        if col in PERCENT_COLUMNS:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = "0.0%"
        elif col in {"reason", "meaning"}:
            for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    if columns:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(2, len(frame) + 2)}"


LABEL_COLUMNS = {
    "level": ("level_label", LEVEL_LABELS_ZH),
    "school_type": ("school_type_label", SCHOOL_TYPE_LABELS_ZH),
    "site_class": ("site_class_label", SITE_CLASS_LABELS_ZH),
    "action": ("action_label", ACTION_LABELS_ZH),
}
"""Code column -> (label column placed right after it, Chinese labels from the vocabulary)."""
WHOLE_PUPIL_COLUMNS = ("demand_target", "boarders")
"""Pupil counts shown as whole numbers in the 推荐布局 sheet (with every ``enrollment_<year>``)."""


def schools_sheet(plan: Any) -> pd.DataFrame:
    """The 推荐布局 sheet: ``plan.schools`` with a Chinese label column after each code column.

    The code columns stay (for machines); pupils (``demand_target``, ``boarders``,
    ``enrollment_<year>``) are whole numbers.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from schoolsystem.schemas import SCHOOL_COLUMNS
    >>> row = {c: None for c in SCHOOL_COLUMNS} | {"level": "junior", "action": "merge",
    ...        "school_type": "nine_year", "site_class": "village", "demand_target": 12.6,
    ...        "boarders": 0.4}
    >>> s = schools_sheet(SimpleNamespace(schools=pd.DataFrame([row])))
    >>> s[["level", "level_label", "action_label", "school_type_label", "site_class_label"]].iloc[0].tolist()
    ['junior', '初中', '合并', '九年一贯制学校', '村']
    >>> int(s["demand_target"].iloc[0]), int(s["boarders"].iloc[0])
    (13, 0)

    """
    frame = plan_table(plan, "schools").copy()
    for code, (label_col, labels) in LABEL_COLUMNS.items():
        if code not in frame.columns or label_col in frame.columns:
            continue
        values = frame[code].astype(object).map(
            lambda v, m=labels: m.get(str(v), "" if v is None or v != v else str(v)))
        frame.insert(frame.columns.get_loc(code) + 1, label_col, values)
    pupils = [*WHOLE_PUPIL_COLUMNS, *(c for c in frame.columns if c.startswith("enrollment_")
                                      and c != "enrollment_base")]
    for col in pupils:
        if col in frame.columns:
            frame[col] = pd.array(np.round(pd.to_numeric(frame[col], errors="coerce")
                                           .astype(float)), dtype="Int64")
    return frame


def _flatten(params: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten nested dicts to (dotted name, value); lists become JSON text."""
    if hasattr(params, "model_dump"):
        params = params.model_dump(mode="json")
    out: list[tuple[str, Any]] = []
    for key, value in dict(params).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flatten(value, name + ".")
        elif isinstance(value, list | tuple):
            out.append((name, json.dumps(value, ensure_ascii=False, default=str)))
        elif isinstance(value, int | float | bool | str) or value is None:
            out.append((name, value))
        else:
            out.append((name, str(value)))
    return out


def write_workbook(plan: Any, scenario_params: dict[str, Any], path: str | os.PathLike[str],
                   note: str | None = None) -> Path:
    """Write the planner's workbook atomically.

    Parameters
    ----------
    plan : LayoutPlan-like
        The plan tables (LayoutPlan formats).
    scenario_params : dict
        Scenario and layout parameters (nested dicts allowed; a pydantic model is dumped).
    path : str or os.PathLike
        Destination ``.xlsx``.
    note : str, optional
        Shown first, on a sheet 说明 (e.g. that the input data is synthetic), one line per row.

    Returns
    -------
    pathlib.Path

    """
    wb = Workbook()
    ws = wb.active
    if note:
        ws.title = "说明"
        for i, line in enumerate(note.splitlines(), start=1):
            cell = write_text_cell(ws, i, 1, line)
            cell.font = Font(bold=i == 1, color="9C0006" if i == 1 else None)
        ws.column_dimensions["A"].width = 110
        ws = wb.create_sheet("推荐布局")
    else:
        ws.title = "推荐布局"
    write_table_sheet(ws, schools_sheet(plan))
    sheets = [
        ("分配汇总", assignment_summary(plan)),
        ("指标", plan_table(plan, "kpis")),
        ("项目清单", plan_table(plan, "projects")),
        ("未满足需求", plan_table(plan, "unserved")),
        ("求解记录", without_wall_times(plan_table(plan, "solver_records"))),
    ]
    sheets[1:1] = [(title, frame) for title, frame in _staged_tables(plan).items()]
    for title, frame in sheets:
        write_table_sheet(wb.create_sheet(title), frame)
    rows = _flatten(scenario_params)
    params = pd.DataFrame(rows, columns=["parameter", "value"]).astype(object)
    write_table_sheet(wb.create_sheet("情景参数"), params)
    dictionary = output_dictionary()
    write_table_sheet(wb.create_sheet("数据字典"), dictionary, headers=DICTIONARY_HEADERS)
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP.replace(tzinfo=None)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        reproducible_zip(tmp)
    return Path(path)


def workbook_bytes(item: tuple[Any, dict[str, Any], str | None]) -> bytes:
    """:func:`write_workbook` of ``(plan, scenario_params, note)`` as bytes (runs anywhere).

    Written into a temporary folder and read back, so a Dask worker can make it while the
    caller writes other files (:func:`forecasting.parallel.start_tasks`); the bytes are those
    :func:`write_workbook` writes.
    """
    plan, scenario_params, note = item
    with tempfile.TemporaryDirectory(prefix="workbook-") as tmp:
        return write_workbook(plan, scenario_params, Path(tmp) / "layout.xlsx",
                              note=note).read_bytes()


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def reproducible_zip(path: str | os.PathLike[str]) -> None:
    """Rewrite a zip package (``.xlsx``) in place so that equal contents give equal bytes.

    Every entry keeps its name, order and content but gets the date :data:`FIXED_TIMESTAMP`,
    fixed permissions and deflate compression; the ``dcterms:created`` / ``dcterms:modified``
    dates of ``docProps/core.xml`` (openpyxl stamps the time of saving) become the same date.

    Parameters
    ----------
    path : str or os.PathLike
        The zip file; rewritten in place (call it on the temporary file of an atomic write).

    """
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info)) for info in src.infolist()]
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m[1] + stamp + m[3], data)
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)


def without_wall_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the :data:`WALL_TIME_COLUMNS` (wall-clock times differ run to run)."""
    return frame.drop(columns=[c for c in WALL_TIME_COLUMNS if c in frame.columns])


def output_dictionary() -> pd.DataFrame:
    """The data dictionary, saying that wall-clock columns are only in ``manifest.json``."""
    dictionary = data_dictionary()
    wall = dictionary["identifier"].isin(WALL_TIME_COLUMNS)
    dictionary.loc[wall, "tables"] = "manifest.json (wall_clock.solver_wall_time_s)"
    return dictionary


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str],
              float_format: str | None = None) -> Path:
    r"""Write one table as a UTF-8-with-BOM CSV, atomically, formula-like text neutralised.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; written without its index, ``\n`` line ends.
    path : str or os.PathLike
        Destination.
    float_format : str, optional
        Passed to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"name": ["=1+1", "a"], "n": [-1, 2]}), p)
    >>> p.read_text(encoding="utf-8-sig")
    "name,n\n'=1+1,-1\na,2\n"

    """
    safe = neutralise_frame(frame)
    # csv quotes a field holding "\n" but not one holding a bare "\r", which would split the row
    # when read back: a table with such text has every text field quoted.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    if float_format is not None and quoting == csv.QUOTE_MINIMAL:
        safe = _formatted_floats(safe, float_format)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")  # the BOM of utf-8-sig; plain utf-8 then encodes in C, row by row
        safe.to_csv(fh, index=False, lineterminator="\n", float_format=float_format,
                    quoting=quoting)
    return Path(path)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    text = [c for c in frame.columns
            if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]  # fmt: skip
    return any(text_test(frame[c], lambda v: isinstance(v, str) and "\r" in v).any()
               for c in text)


def _formatted_floats(frame: pd.DataFrame, float_format: str) -> pd.DataFrame:
    """``frame`` with its float columns as the text ``float_format`` gives, missing cells empty.

    The same text :meth:`pandas.DataFrame.to_csv` writes with ``float_format`` (``fmt % value``,
    ``na_rep`` empty), made in one pass per column instead of pandas' per-cell formatter (a
    four-million-row forecast table: 14 s less). Only for unquoted output: quoting would treat
    the text as text.
    """
    floats = [c for c in frame.columns
              if isinstance(frame[c].dtype, np.dtype) and frame[c].dtype.kind == "f"]
    if not floats:
        return frame
    out = frame.copy()
    done: list[tuple[np.ndarray, np.ndarray]] = []  # a column equal to an earlier one reuses it
    for c in floats:
        values = frame[c].to_numpy()
        text = next((t for v, t in done if np.array_equal(v, values, equal_nan=True)), None)
        if text is None:
            text = np.array([float_format % v for v in values.tolist()], dtype=object)
            text[np.isnan(values)] = ""
            done.append((values, text))
        out[c] = text
    return out


CSV_TABLES = ("schools", "assignments", "unserved", "kpis", "projects", "solver_records")
STAGED_TABLES = {"timeline": "分期时间表", "staged_summary": "分期要点", "p90_check": "P90检验",
                 "fixed_decisions": "既定决策", "unserved_by_year": "各年未满足需求"}
"""Staged plan tables (LayoutPlan attribute -> workbook sheet), written when present."""


def _staged_tables(plan: Any) -> dict[str, pd.DataFrame]:
    """Workbook sheet title -> table, for the staged tables the plan has."""
    return {title: getattr(plan, name) for name, title in STAGED_TABLES.items()
            if getattr(plan, name, None) is not None}


def write_csvs(plan: Any, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the plan tables as UTF-8-with-BOM CSV files (each atomically) into ``folder``.

    Files: ``schools.csv``, ``assignments.csv``, ``unserved.csv``, ``kpis.csv``,
    ``projects.csv``, ``solver_records.csv``, ``assignment_summary.csv`` and
    ``data_dictionary.csv``; for a staged plan also ``timeline.csv``,
    ``unserved_by_year.csv`` and ``assignments_by_year.csv``. Headers are the English identifiers (see the dictionary). Text cells
    starting with a formula prefix get a leading ``'`` (see :func:`write_csv`); the wall-clock
    ``wall_time`` of the solver records is left out (it is in ``manifest.json``).

    Returns
    -------
    list of pathlib.Path
        The files written.

    """
    out = Path(folder)
    frames = {name: without_wall_times(plan_table(plan, name)) for name in CSV_TABLES}
    frames["assignment_summary"] = assignment_summary(plan)
    for name in (*STAGED_TABLES, "assignments_by_year"):
        if getattr(plan, name, None) is not None:
            frames[name] = getattr(plan, name)
    frames["data_dictionary"] = output_dictionary()
    return [write_csv(frame, out / f"{name}.csv") for name, frame in frames.items()]
