"""Write the input workbook: the blank template, or one filled from a region (round trip, examples).

``schoolplan data template OUT.xlsx`` writes the blank template: every sheet of
:data:`layout.ingest.template.SHEETS` with its Chinese header row, identifier row, drop-down lists
for codes and greyed example rows, and a 说明 sheet. :func:`write_workbook` writes the same layout
filled with tables; the file is written atomically and is byte-identical for identical input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from layout.ingest.readme import readme_rows
from layout.ingest.template import FIRST_DATA_ROW, HEADER_ROW, IDENT_ROW, SHEETS, Sheet
from layout.outputs.atomic import FIXED_TIMESTAMP, atomic_path
from layout.outputs.excel import reproducible_zip

_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_IDENT_FONT = Font(color="808080", italic=True, size=9)
_EXAMPLE_FONT = Font(color="808080", italic=True)
_MAX_VALIDATED_ROW = 20000


def _validations(ws: Worksheet, sheet: Sheet) -> None:
    """Drop-down lists for every code column (rows 3 to 20000)."""
    for j, f in enumerate(sheet.fields, start=1):
        if not f.choices:
            continue
        letter = get_column_letter(j)
        dv = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"',
                            allow_blank=not f.required, showErrorMessage=True,
                            errorTitle=f.header, error="请从下拉列表中选择 choose from the list")
        dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{_MAX_VALIDATED_ROW}")
        ws.add_data_validation(dv)


def _header(ws: Worksheet, sheet: Sheet) -> None:
    for j, f in enumerate(sheet.fields, start=1):
        head = ws.cell(HEADER_ROW, j, f.header + ("" if f.required else "（可选）"))
        head.font = Font(bold=True)
        head.fill = _HEAD_FILL
        ws.cell(IDENT_ROW, j, f.ident).font = _IDENT_FONT
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(28, 2 * len(f.header) + 4))
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"  # a string: creating the cell would shift appends


def _cell_value(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _fill(ws: Worksheet, sheet: Sheet, frame: pd.DataFrame | None) -> None:
    """Data rows from ``frame`` (columns = identifiers), else the greyed example rows."""
    if frame is None:
        for i, row in enumerate(sheet.examples):
            for j, value in enumerate(row, start=1):
                cell = ws.cell(FIRST_DATA_ROW + i, j, _cell_value(value))
                cell.font = _EXAMPLE_FONT
        return
    idents = [f.ident for f in sheet.fields]
    cols = [frame[c].tolist() if c in frame.columns else [None] * len(frame) for c in idents]
    for values in zip(*cols, strict=True):
        ws.append([_cell_value(v) for v in values])  # rows 1-2 hold the headers: data from row 3
    for j, f in enumerate(sheet.fields, start=1):
        if f.kind == "id":
            for row in ws.iter_rows(min_row=FIRST_DATA_ROW, min_col=j, max_col=j):
                row[0].number_format = "@"


def write_workbook(path: str | os.PathLike[str],
                   tables: Mapping[str, pd.DataFrame] | None = None,
                   note: str = "") -> Path:
    """Write the input workbook (blank template when ``tables`` is None).

    Parameters
    ----------
    path : str or os.PathLike
        Destination ``.xlsx`` (written atomically).
    tables : mapping of str to pandas.DataFrame, optional
        Sheet identifier -> rows (columns named by field identifiers). Sheets missing from the
        mapping are written empty (a filled workbook) — with ``None`` every sheet gets its
        example rows (the blank template).
    note : str
        Extra first line of the 说明 sheet (e.g. a synthetic-data warning).

    Returns
    -------
    pathlib.Path

    """
    wb = Workbook()
    readme = wb.active
    assert readme is not None
    readme.title = "说明"
    for row in readme_rows(note, template=tables is None):
        readme.append(list(row))
    readme.column_dimensions["A"].width = 22
    readme.column_dimensions["B"].width = 110
    for sheet in SHEETS.values():
        ws = wb.create_sheet(sheet.title)
        _header(ws, sheet)
        frame = None if tables is None else tables.get(sheet.name, pd.DataFrame())
        _fill(ws, sheet, frame)
        _validations(ws, sheet)
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP.replace(tzinfo=None)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        reproducible_zip(tmp)
    return Path(path)
