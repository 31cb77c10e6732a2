"""Inline SVG charts of the planning report (:mod:`layout.outputs.report`).

Hand-written SVG, not matplotlib: the markup holds no id, date or font file, so identical inputs
give identical bytes, the text is drawn by the browser's own CJK fonts, and the charts stay sharp
when printed to PDF. Every label passes :func:`layout.outputs.escape.html_text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from layout.outputs.escape import html_text

SEAT_COLOR = "#4a7fb5"
TEMP_COLOR = "#f0a23b"
P50_COLOR = "#b2182b"
BAND_COLOR = "#f4c6c0"


def _num(value: float) -> str:
    """A coordinate with one decimal (fixed text, so the bytes do not depend on float noise)."""
    return f"{value:.1f}"


def nice_max(value: float) -> float:
    """Axis maximum: four grid steps of 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten covering ``value``.

    Examples
    --------
    >>> nice_max(0), nice_max(87), nice_max(1234)
    (10.0, 100.0, 1600.0)

    """
    if not value or not math.isfinite(value) or value <= 0:
        return 10.0
    raw = value / 4
    mag = 10 ** math.floor(math.log10(raw))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if raw <= step * mag:
            return float(4 * step * mag)
    return float(40 * mag)


def _int_text(value: float) -> str:
    return f"{round(value):,}"


def _frame(width: int, height: int, title: str, ymax: float, left: int, top: int,
           plot_w: int, plot_h: int) -> list[str]:
    """Opening tag, title, y grid lines with whole-number labels."""
    out = [f'<svg class="chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{html_text(title)}">',
           f'<text x="{left}" y="14" class="ct">{html_text(title)}</text>']
    for i in range(5):
        v = ymax * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
                   f'class="grid"/>')
        out.append(f'<text x="{left - 4}" y="{_num(y + 3)}" class="ax" '
                   f'text-anchor="end">{_int_text(v)}</text>')
    return out


def staged_chart(title: str, years: Sequence[int], seats: Sequence[float | None],
                 temporary: Sequence[float | None], p10: Sequence[float | None],
                 p50: Sequence[float | None], p90: Sequence[float | None],
                 width: int = 340, height: int = 210) -> str:
    """Permanent + temporary seats (stacked bars) against demand P50 with its P10-P90 band.

    ``None`` leaves a bar or a demand point out (a level not planned in that year).
    """
    left, top, right, bottom = 48, 24, 8, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    vals = [v for seq in (p90, p50) for v in seq if v is not None]
    vals += [(s or 0) + (t or 0) for s, t in zip(seats, temporary, strict=True)]
    ymax = nice_max(max(vals, default=0.0))
    n = max(len(years), 1)
    slot = plot_w / n

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * min(v, ymax) / ymax

    out = _frame(width, height, title, ymax, left, top, plot_w, plot_h)
    band = [(x_of(i), lo, hi) for i, (lo, hi) in enumerate(zip(p10, p90, strict=True))
            if lo is not None and hi is not None]
    if len(band) >= 2:
        pts = [f"{_num(x)},{_num(y_of(hi))}" for x, _lo, hi in band]
        pts += [f"{_num(x)},{_num(y_of(lo))}" for x, lo, _hi in reversed(band)]
        out.append(f'<polygon points="{" ".join(pts)}" fill="{BAND_COLOR}" '
                   f'fill-opacity="0.7" stroke="none"/>')
    bar_w = min(28.0, slot * 0.55)
    for i, year in enumerate(years):
        s, t = seats[i], temporary[i]
        x0 = x_of(i) - bar_w / 2
        if s is not None and s > 0:
            out.append(f'<rect x="{_num(x0)}" y="{_num(y_of(s))}" width="{_num(bar_w)}" '
                       f'height="{_num(y_of(0) - y_of(s))}" fill="{SEAT_COLOR}"/>')
        if s is not None and t:
            out.append(f'<rect x="{_num(x0)}" y="{_num(y_of(s + t))}" width="{_num(bar_w)}" '
                       f'height="{_num(y_of(s) - y_of(s + t))}" fill="{TEMP_COLOR}"/>')
        out.append(f'<text x="{_num(x_of(i))}" y="{top + plot_h + 14}" class="ax" '
                   f'text-anchor="middle">{int(year)}</text>')
    line = [(x_of(i), v) for i, v in enumerate(p50) if v is not None]
    if len(line) >= 2:
        path = " ".join(f"{_num(x)},{_num(y_of(v))}" for x, v in line)
        out.append(f'<polyline points="{path}" fill="none" stroke="{P50_COLOR}" '
                   f'stroke-width="2"/>')
    for x, v in line:
        out.append(f'<circle cx="{_num(x)}" cy="{_num(y_of(v))}" r="2.5" fill="{P50_COLOR}"/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
               f'y2="{top + plot_h}" class="axis"/>')
    out.append("</svg>")
    return "\n".join(out)


def level_bars(title: str, labels: Sequence[str], seats: Sequence[float],
               p10: Sequence[float | None], p50: Sequence[float | None],
               p90: Sequence[float | None], width: int = 640, height: int = 240) -> str:
    """One-year plan: per level, the planned seats (bar) against demand P50 with a P10-P90 whisker."""
    left, top, right, bottom = 56, 24, 8, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    vals = [*seats, *(v for v in p90 if v is not None), *(v for v in p50 if v is not None)]
    ymax = nice_max(max(vals, default=0.0))
    n = max(len(labels), 1)
    slot = plot_w / n

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * min(v, ymax) / ymax

    out = _frame(width, height, title, ymax, left, top, plot_w, plot_h)
    for i, label in enumerate(labels):
        xc = left + slot * (i + 0.5)
        bar_w = min(40.0, slot * 0.4)
        s = seats[i]
        out.append(f'<rect x="{_num(xc - bar_w)}" y="{_num(y_of(s))}" width="{_num(bar_w)}" '
                   f'height="{_num(y_of(0) - y_of(s))}" fill="{SEAT_COLOR}"/>')
        lo, mid, hi = p10[i], p50[i], p90[i]
        if lo is not None and hi is not None:
            xw = xc + bar_w / 2
            out.append(f'<line x1="{_num(xw)}" y1="{_num(y_of(lo))}" x2="{_num(xw)}" '
                       f'y2="{_num(y_of(hi))}" stroke="{P50_COLOR}" stroke-width="1.5"/>')
            for v in (lo, hi):
                out.append(f'<line x1="{_num(xw - 5)}" y1="{_num(y_of(v))}" x2="{_num(xw + 5)}" '
                           f'y2="{_num(y_of(v))}" stroke="{P50_COLOR}" stroke-width="1.5"/>')
        if mid is not None:
            out.append(f'<rect x="{_num(xc)}" y="{_num(y_of(mid))}" width="{_num(bar_w)}" '
                       f'height="{_num(y_of(0) - y_of(mid))}" fill="{BAND_COLOR}" '
                       f'stroke="{P50_COLOR}"/>')
        out.append(f'<text x="{_num(xc)}" y="{top + plot_h + 14}" class="ax" '
                   f'text-anchor="middle">{html_text(label)}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
               f'y2="{top + plot_h}" class="axis"/>')
    out.append("</svg>")
    return "\n".join(out)


def legend_staged() -> str:
    """HTML legend of :func:`staged_chart`."""
    return ('<p class="legend"><span class="sw" style="background:' + SEAT_COLOR
            + '"></span>永久学位 <span class="sw" style="background:' + TEMP_COLOR
            + '"></span>临时学位 <span class="ln" style="border-color:' + P50_COLOR
            + '"></span>需求P50 <span class="sw" style="background:' + BAND_COLOR
            + '"></span>需求P10–P90</p>')


def legend_bars() -> str:
    """HTML legend of :func:`level_bars`."""
    return ('<p class="legend"><span class="sw" style="background:' + SEAT_COLOR
            + '"></span>规划学位 <span class="sw" style="background:' + BAND_COLOR
            + '"></span>需求P50 <span class="ln" style="border-color:' + P50_COLOR
            + '"></span>需求P10–P90</p>')
