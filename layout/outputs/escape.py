"""Escaping of user-provided strings for HTML pages and inline scripts.

School, township and county names come from planners' CSV files and may contain anything,
including markup (``<img src=x onerror=...>``) or template syntax (``${...}``). The map never
inserts them as HTML: its JavaScript sets ``textContent``. Data reaches the page as JSON inside a
``<script>`` element, encoded by :func:`json_for_script` so that no string can close the script
element or start a template substitution. :func:`html_text` is for the rare fixed HTML fragments
built on the Python side.

Spreadsheet (CSV / formula) injection: a cell whose text starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return may be run as a formula when the file is opened in Excel.
:data:`FORMULA_PREFIXES` and :func:`neutralise_formula` are the one rule both the workbook and the
CSV files apply (OWASP: prefix such text with a single quote).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet cell's text a formula (OWASP CSV injection list)."""

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "$": "\\u0024",
    "`": "\\u0060",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_TABLE = str.maketrans(_SCRIPT_ESCAPES)


def html_text(value: object) -> str:
    """Return ``value`` as HTML text: markup escaped and ``${`` / backticks neutralised.

    Parameters
    ----------
    value : object
        Any value; None and NaN become ``""``.

    Returns
    -------
    str
        Safe to place between HTML tags or inside a double- or single-quoted attribute.

    Examples
    --------
    >>> html_text("<b>${x}</b>")
    '&lt;b&gt;&#36;{x}&lt;/b&gt;'

    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("$", "&#36;").replace("`", "&#96;")


def json_for_script(obj: Any) -> str:
    r"""Serialise ``obj`` as JSON safe to embed inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&``, ``$``, backtick and the JavaScript line separators are written as
    ``\\uXXXX`` escapes, which JSON and JavaScript decode back to the same characters, so the
    string values are unchanged once parsed, while ``</script>``, ``<!--`` or ``${`` can never
    appear in the page source. NaN and infinities are refused (convert them to None first).

    Parameters
    ----------
    obj : Any
        JSON-serialisable object (lists, dicts, str, int, float, bool, None).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``obj`` contains NaN or infinity.

    Examples
    --------
    >>> json_for_script({"name": "</script>${1}"})
    '{"name":"\\u003c/script\\u003e\\u0024{1}"}'

    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_TABLE)


def is_formula_like(value: object) -> bool:
    """Return True for text a spreadsheet could read as a formula (see :data:`FORMULA_PREFIXES`).

    Examples
    --------
    >>> is_formula_like("=1+1"), is_formula_like("-1+2"), is_formula_like(-3), is_formula_like("a-b")
    (True, True, False, False)

    """
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise_formula(value: object) -> object:
    r"""Prefix formula-like text with a single quote (OWASP); any other value is returned as is.

    Parameters
    ----------
    value : object
        A cell value. Only ``str`` values are changed; numbers (negative ones too) never are.

    Returns
    -------
    object

    Examples
    --------
    >>> neutralise_formula('=HYPERLINK("http://x","y")')
    '\'=HYPERLINK("http://x","y")'
    >>> neutralise_formula(-1.5), neutralise_formula("plain")
    (-1.5, 'plain')

    """
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def text_test(series: pd.Series, test: Callable[[object], bool]) -> np.ndarray:
    """``test`` of every cell of ``series`` as a boolean array, run once per distinct value.

    A table's text columns repeat a few values (codes, levels, names) over many rows, so the
    test runs on the distinct values only; missing cells are ``False``.

    Examples
    --------
    >>> text_test(pd.Series(["=1", "a", "=1", None]), is_formula_like).tolist()
    [True, False, True, False]

    """
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    hits = np.fromiter((bool(test(u)) for u in uniques), dtype=bool, count=len(uniques))
    return np.append(hits, False)[codes]  # code -1 (missing) takes the appended False


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with :func:`neutralise_formula` applied to every text cell.

    Numeric, boolean and datetime columns are left untouched (their dtype is kept); in object or
    string columns only the ``str`` cells that start with a formula prefix change. The input frame
    is not modified; when nothing needs a prefix it is returned unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table.

    Returns
    -------
    pandas.DataFrame

    """
    out = frame
    for col in frame.columns:
        series = frame[col]
        textual = isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype)
        if not (textual or series.dtype == object):
            continue
        hit = pd.Series(text_test(series, is_formula_like), index=series.index)
        if not hit.any():
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if out is frame:
            out = frame.copy()
        out[col] = series.where(~hit, "'" + series[hit].astype(str))
    return out
