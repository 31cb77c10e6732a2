"""Escaping of user-provided strings for HTML pages and inline scripts.

School, township and county names come from planners' CSV files and may contain anything,
including markup (``<img src=x onerror=...>``) or template syntax (``${...}``). The map never
inserts them as HTML: its JavaScript sets ``textContent``. Data reaches the page as JSON inside a
``<script>`` element, encoded by :func:`json_for_script` so that no string can close the script
element or start a template substitution. :func:`html_text` is for the rare fixed HTML fragments
built on the Python side.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

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
