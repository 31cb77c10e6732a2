"""The planner's workbook ``layout.xlsx`` and the CSV exports.

Workbook sheets: 推荐布局 (plan.schools), 分配汇总 (assignments summed by school and level),
指标 (KPIs), 项目清单 (projects), 未满足需求 (unserved demand), 求解记录 (solver records),
情景参数 (scenario parameters) and 数据字典 (data dictionary). Every table sheet has the Chinese
header on row 1 and the English identifier on row 2 (frozen), data from row 3.

Spreadsheet injection: a school named ``=HYPERLINK(...)`` must stay text. Every string cell is
written with ``data_type = "s"`` (a string, never a formula) and strings starting with ``=``,
``+``, ``-`` or ``@`` also get Excel's quote prefix, so editing the cell keeps it text.

CSV files (:func:`write_csvs`) are UTF-8 with a byte-order mark (Excel on Chinese Windows reads
them correctly) and use the English identifiers as headers; their values are written unchanged
(no quote prefix), so they round-trip exactly — open the workbook, not the CSV, in Excel.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from layout.outputs.atomic import atomic_path
from layout.outputs.tables import assignment_summary, chinese, data_dictionary, plan_table

FORMULA_PREFIXES = ("=", "+", "-", "@")
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
        if value.startswith(FORMULA_PREFIXES):
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
    write_table_sheet(ws, plan_table(plan, "schools"))
    sheets = [
        ("分配汇总", assignment_summary(plan)),
        ("指标", plan_table(plan, "kpis")),
        ("项目清单", plan_table(plan, "projects")),
        ("未满足需求", plan_table(plan, "unserved")),
        ("求解记录", plan_table(plan, "solver_records")),
    ]
    for title, frame in sheets:
        write_table_sheet(wb.create_sheet(title), frame)
    rows = _flatten(scenario_params)
    params = pd.DataFrame(rows, columns=["parameter", "value"]).astype(object)
    write_table_sheet(wb.create_sheet("情景参数"), params)
    dictionary = data_dictionary()
    write_table_sheet(wb.create_sheet("数据字典"), dictionary, headers=DICTIONARY_HEADERS)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


CSV_TABLES = ("schools", "assignments", "unserved", "kpis", "projects", "solver_records")


def write_csvs(plan: Any, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the plan tables as UTF-8-with-BOM CSV files (each atomically) into ``folder``.

    Files: ``schools.csv``, ``assignments.csv``, ``unserved.csv``, ``kpis.csv``,
    ``projects.csv``, ``solver_records.csv``, ``assignment_summary.csv`` and
    ``data_dictionary.csv``. Headers are the English identifiers (see the dictionary).

    Returns
    -------
    list of pathlib.Path
        The files written.

    """
    out = Path(folder)
    frames = {name: plan_table(plan, name) for name in CSV_TABLES}
    frames["assignment_summary"] = assignment_summary(plan)
    frames["data_dictionary"] = data_dictionary()
    written = []
    for name, frame in frames.items():
        target = out / f"{name}.csv"
        with atomic_path(target) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
        written.append(target)
    return written
