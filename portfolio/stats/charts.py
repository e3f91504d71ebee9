"""Server-side SVG charts: small, dependable, styled by CSS classes (no inline style, for the CSP).

Each chart is an ``<svg role="img">`` with a title and a description; the page puts the same figures in
a data table beside it and offers them as CSV. Two shapes are enough here: horizontal bars (categories
with long names: prescribers, EPMs, publics, modules, the funnel) and columns (time: months, years), both
with optional reference lines (targets).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
_ids = itertools.count(1)


@dataclass(frozen=True)
class Reference:
    """A horizontal (columns) or vertical (bars) line marking a value, such as a target."""

    label: str
    value: float
    css: str = "chart-target"


def nice_max(value: float) -> float:
    """A round upper bound for the axis: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") if float(value).is_integer() else f"{value:,.1f}".replace(
        ",", "\u202f").replace(".", ",")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _open(height: int, title: str, description: str) -> tuple[list[str], str]:
    uid = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(description)}</desc>',
    ]
    return parts, uid


def bar_chart(title: str, bars: Sequence[tuple[str, float | Sequence[float]]], description: str = "",
              references: Sequence[Reference] = (), label_width: int = 230, suffix: str = "",
              series: Sequence[str] = ()) -> Markup:
    """Horizontal bars, one group per label; a value may be a tuple (one bar per series, named in
    ``series`` and shown in a legend). Long labels are cut, with the full text as a tooltip."""
    groups = [(label, tuple(v) if isinstance(v, Sequence) else (v,)) for label, v in bars]
    per = max((len(v) for _, v in groups), default=1)
    bar_h = 22 if per == 1 else 14
    row, top = bar_h * per + 8, 8 + (24 if series else 0)
    height = top + row * max(len(groups), 1) + (26 if references else 8)
    parts, _uid = _open(height, title, description)
    for index, name in enumerate(series):
        x = label_width + index * 170
        parts.append(f'<rect class="chart-bar chart-bar-{index}" x="{x}" y="4" width="14" height="14"/>'
                     f'<text class="chart-label" x="{x + 20}" y="16">{escape(name)}</text>')
    scale_max = nice_max(max([x for _, v in groups for x in v] + [r.value for r in references] + [0]))
    plot = WIDTH - label_width - 70
    parts.append(f'<line class="chart-axis" x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
                 f'y2="{top + row * len(groups)}"/>')
    for index, (label, values) in enumerate(groups):
        y = top + index * row
        shown = " / ".join(_fmt(v) + suffix for v in values)
        parts.append(f'<g class="chart-row"><title>{escape(label)} : {escape(shown)}</title>'
                     f'<text class="chart-label" x="{label_width - 8}" y="{y + row / 2 + 5:.1f}" '
                     f'text-anchor="end">{escape(_shorten(label, label_width // 8))}</text>')
        for k, value in enumerate(values):
            length = plot * value / scale_max
            by = y + 4 + k * bar_h
            parts.append(
                f'<rect class="chart-bar chart-bar-{k}" x="{label_width}" y="{by}" width="{length:.1f}" '
                f'height="{bar_h - 2}"/>'
                f'<text class="chart-value" x="{label_width + length + 6:.1f}" y="{by + bar_h - 7}">'
                f'{escape(_fmt(value))}{escape(suffix)}</text>')
        parts.append("</g>")
    for ref in references:
        x = label_width + plot * ref.value / scale_max
        bottom = top + row * len(groups)
        parts.append(f'<line class="{ref.css}" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}"/>'
                     f'<text class="chart-note" x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
                     f'{escape(ref.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every piece of text above is escaped)


def column_chart(title: str, columns: Sequence[tuple[str, float]], description: str = "",
                 references: Sequence[Reference] = ()) -> Markup:
    """Vertical columns over time, with horizontal reference lines labelled on the right."""
    height, top, bottom, left, right = 260, 12, 40, 48, 110
    parts, _uid = _open(height, title, description)
    scale_max = nice_max(max([v for _, v in columns] + [r.value for r in references] + [0]))
    plot_h, plot_w = height - top - bottom, WIDTH - left - right
    base = top + plot_h
    for tick in (0, 0.5, 1):
        y = base - plot_h * tick
        parts.append(f'<line class="chart-grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
                     f'<text class="chart-label" x="{left - 6}" y="{y + 5:.1f}" text-anchor="end">'
                     f'{escape(_fmt(scale_max * tick))}</text>')
    slot = plot_w / max(len(columns), 1)
    width = min(slot * 0.7, 60)
    # Labels under the axis never overlap: every n-th one, n from the longest label (about 7 px a character).
    widest = max((len(label) for label, _ in columns), default=1) * 7 + 8
    every = max(1, math.ceil(widest / slot))
    for index, (label, value) in enumerate(columns):
        x = left + slot * index + (slot - width) / 2
        h = plot_h * value / scale_max
        parts.append(
            f'<g class="chart-row"><title>{escape(label)} : {escape(_fmt(value))}</title>'
            f'<rect class="chart-bar" x="{x:.1f}" y="{base - h:.1f}" width="{width:.1f}" height="{h:.1f}"/></g>'
        )
        if index % every == 0:
            parts.append(f'<text class="chart-label" x="{x + width / 2:.1f}" y="{base + 20}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    label_y = -math.inf  # reference labels at least 16 px apart, from the top one down
    for ref in sorted(references, key=lambda r: -r.value):
        y = base - plot_h * ref.value / scale_max
        label_y = max(y + 5, label_y + 16)
        parts.append(f'<line class="{ref.css}" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
                     f'<text class="chart-note" x="{left + plot_w + 6}" y="{label_y:.1f}">{escape(ref.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every piece of text above is escaped)
