"""Read a filled input workbook into typed tables, collecting every problem at once.

Each problem names the sheet, the Excel row number, the column header (with its identifier) and
the offending value, like ``data check`` does for a region folder:

    roster.xlsx sheet 学校, row 7, column 学位数 (capacity) = '约900': not a number

Checked here, per sheet: the sheet exists (required sheets), no merged cells, the identifier row
names every required column, values have the column's type (text in a number column, a date in a
year column, a code outside the drop-down list, a code with the wrong number of digits), required
cells are filled, unique codes are unique, and the template's example rows were not left in.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from layout.errors import Problem
from layout.ingest.template import (
    FIRST_DATA_ROW,
    IDENT_ROW,
    NO,
    SHEETS,
    YES,
    Field,
    Sheet,
)
from schoolsystem.vocabulary import SCHOOL_TYPE_LABELS_ZH

_TRUE = {YES, "true", "1", "y", "yes", "t"}
_FALSE = {NO, "false", "0", "n", "no", "f"}
_LABEL_TO_TYPE = {label: code for code, label in SCHOOL_TYPE_LABELS_ZH.items() if code != "new"}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class CellError(ValueError):
    """A cell's value does not fit its column (the message says why)."""


@dataclass
class SheetReader:
    """Reads one sheet; ``where`` names the workbook and sheet in problems."""

    sheet: Sheet
    ws: Worksheet
    where: str
    problems: list[Problem]

    def problem(self, row: int | str, field: Field | None, value: Any, message: str) -> None:
        """Record one problem at Excel ``row`` and ``field``."""
        column = f"{field.header} ({field.ident})" if field is not None else ""
        text = "" if value is None else str(value)
        self.problems.append(Problem(self.where, str(row), column, text, message))


def _plain(value: Any) -> str:
    return "" if _is_blank(value) else str(value).strip()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _number(value: Any) -> float:
    if isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
        raise CellError("not a number")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("\u00a0", "")
    if not _NUMBER.fullmatch(text):
        raise CellError("not a number (text in a number column)")
    return float(text)


def _whole(value: Any) -> int:
    number = _number(value)
    if number != round(number):
        raise CellError("not a whole number")
    if number < 0:
        raise CellError("must be >= 0")
    return round(number)


def _code_text(value: Any, field: Field) -> str:
    if isinstance(value, float) and value == round(value):
        value = int(value)
    if isinstance(value, (dt.date, dt.time)):
        raise CellError("a date, not a code")
    text = str(value).strip()
    if field.digits and not re.fullmatch(rf"\d{{{field.digits}}}", text):
        raise CellError(f"must be a {field.digits}-digit code")
    return text


def parse_cell(value: Any, field: Field) -> Any:
    """Typed value of a non-blank cell, or :class:`CellError` saying why it does not fit."""
    kind = field.kind
    if kind == "id":
        return _code_text(value, field)
    if kind == "int":
        return _whole(value)
    if kind == "float":
        return _number(value)
    if kind == "year":
        if isinstance(value, (dt.date, dt.datetime)):
            raise CellError("a date, not a year: type the year as a number, e.g. 2023")
        year = _whole(value)
        if not 1949 <= year <= 2100:
            raise CellError("not a year between 1949 and 2100")
        return year
    text = str(value).strip()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        low = text.lower()
        if low in _TRUE or text in _TRUE:
            return True
        if low in _FALSE or text in _FALSE:
            return False
        raise CellError(f"must be {YES} or {NO}")
    if kind == "choice":
        text = _LABEL_TO_TYPE.get(text, text) if field.ident == "school_type" else text
        if text not in field.choices:
            raise CellError("not one of: " + ", ".join(field.choices))
    return text


def _merged(reader: SheetReader) -> bool:
    found = False
    for rng in sorted(reader.ws.merged_cells.ranges, key=str):
        where = "header cells" if rng.min_row <= IDENT_ROW else "cells"
        reader.problem(rng.min_row, None, str(rng),
                       f"merged {where} {rng}: unmerge them (one value per cell)")
        found = found or rng.min_row <= IDENT_ROW
    return found


def _columns(reader: SheetReader) -> dict[str, int] | None:
    """Identifier -> 1-based column index from row 2; problems for missing required columns."""
    idents: dict[str, int] = {}
    row = next(reader.ws.iter_rows(min_row=IDENT_ROW, max_row=IDENT_ROW, values_only=True), ())
    for j, value in enumerate(row, start=1):
        if not _is_blank(value):
            idents.setdefault(str(value).strip(), j)
    missing = [f for f in reader.sheet.fields if f.required and f.ident not in idents]
    for f in missing:
        reader.problem(IDENT_ROW, f, None, "required column missing from the identifier row "
                       "(row 2 must hold the column identifiers of the template)")
    return None if missing else idents


def _rows(reader: SheetReader, idents: dict[str, int]) -> pd.DataFrame:
    fields = [f for f in reader.sheet.fields if f.ident in idents]
    records: list[dict[str, Any]] = []
    examples = {tuple(_plain(v) for v in ex) for ex in reader.sheet.examples}
    for r, row in enumerate(reader.ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True),
                            start=FIRST_DATA_ROW):
        cells = {f.ident: (row[idents[f.ident] - 1] if idents[f.ident] <= len(row) else None)
                 for f in fields}
        if all(_is_blank(v) for v in cells.values()):
            continue
        if examples and tuple(_plain(cells.get(f.ident)) for f in reader.sheet.fields) in examples:
            reader.problem(r, None, None, "the template's example row is still here: delete it")
            continue
        record: dict[str, Any] = {"_row": r}
        for f in fields:
            value = cells[f.ident]
            if _is_blank(value):
                if f.required:
                    reader.problem(r, f, None, "required value is empty")
                record[f.ident] = None
                continue
            try:
                record[f.ident] = parse_cell(value, f)
            except CellError as exc:
                reader.problem(r, f, value, str(exc))
                record[f.ident] = None
        records.append(record)
    columns = ["_row", *(f.ident for f in reader.sheet.fields)]
    return pd.DataFrame.from_records(records, columns=columns)


def _duplicates(reader: SheetReader, frame: pd.DataFrame) -> None:
    for f in reader.sheet.fields:
        if not f.unique or f.ident not in frame or frame.empty:
            continue
        values = frame[f.ident]
        dup = values.notna() & values.duplicated(keep=False)
        first = frame.loc[dup].groupby(f.ident)["_row"].min()
        for r, value in zip(frame.loc[dup, "_row"], values[dup], strict=True):
            if r != first[value]:
                reader.problem(r, f, value, f"duplicate code (first on Excel row {first[value]})")


def read_sheet(reader: SheetReader) -> pd.DataFrame | None:
    """Typed rows of one sheet (column ``_row`` = Excel row), or None if unreadable."""
    if _merged(reader):
        return None
    idents = _columns(reader)
    if idents is None:
        return None
    frame = _rows(reader, idents)
    _duplicates(reader, frame)
    return frame


def read_workbook(path: str | os.PathLike[str]) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read every sheet of an input workbook.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` file.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        Sheet identifier -> typed rows (field identifiers as columns, ``_row`` the Excel row);
        absent optional sheets are missing from the mapping.
    problems : list of layout.errors.Problem
        Every problem found (empty when the workbook is clean).

    """
    path = Path(path)
    name = path.name
    try:
        wb = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        return {}, [Problem(name, "", "", "", f"not a readable .xlsx workbook ({exc})")]
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    for sheet in SHEETS.values():
        if sheet.title not in wb.sheetnames:
            if sheet.required:
                problems.append(Problem(f"{name} sheet {sheet.title}", "", "", "",
                                        f"required sheet {sheet.title} ({sheet.name}) is missing"))
            continue
        reader = SheetReader(sheet, wb[sheet.title], f"{name} sheet {sheet.title}", problems)
        frame = read_sheet(reader)
        if frame is not None and (sheet.required or not frame.empty):
            tables[sheet.name] = frame
    return tables, problems
