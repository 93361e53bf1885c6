"""Charts drawn on the server as SVG: no script, no chart library, nothing a tweet or a name
could turn into markup (every text goes through ``format_html``), and the same picture in
the page and in the PDF. Each chart has a title and a description for screen readers; the
table it draws stands beside it on the page.

A chart is a fixed ``viewBox`` scaled to its container's width, so it fits a phone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
# Labels carry their look as attributes (WeasyPrint's PDF ignores CSS on SVG text).
TEXT = 'font-size="11" fill="#3b4450"'
PALETTE = {"answered": "#1f6f43", "other": "#9aa5b1", "p50": "#13294b", "p90": "#c2410c"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    part: float = 0.0  # the darker share of the bar (answered out of received)
    note: str = ""  # the tooltip


def _svg(height: int, title: str, description: str, body: SafeString, css_class: str) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title><desc>{}</desc>{}</svg>",
        css_class,
        WIDTH,
        height,
        title,
        description,
        body,
    )


def nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _axis(top: float, x0: int, y0: int, height: int, label: str) -> SafeString:
    ticks = [top * i / 4 for i in range(5)]
    lines = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e7ec" stroke-width="1"/>'
        '<text x="{}" y="{}" ' + TEXT + ' text-anchor="end">{}</text>',
        (
            (
                x0,
                WIDTH - 8,
                round(y0 - height * i / 4, 1),
                round(y0 - height * i / 4, 1),
                x0 - 4,
                round(y0 - height * i / 4 + 4, 1),
                _short(tick),
            )
            for i, tick in enumerate(ticks)
        ),
    )
    return format_html(
        '{}<text x="{}" y="{}" ' + TEXT + ">{}</text>", lines, x0, y0 - height - 8, label
    )


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def column_chart(
    bars: Sequence[Bar], *, title: str, description: str, axis_label: str, part_label: str
) -> SafeString:
    """Vertical bars (one per day or week), each with a darker part (answered)."""
    height, x0, y0, plot = 256, 44, 210, 170
    top = nice_ceiling(max((bar.value for bar in bars), default=0))
    slot = (WIDTH - x0 - 8) / max(len(bars), 1)
    width = max(slot * 0.8, 1)
    every = max(1, math.ceil(len(bars) / 8))
    shapes = []
    for i, bar in enumerate(bars):
        x = x0 + i * slot + (slot - width) / 2
        total_h = plot * bar.value / top
        part_h = plot * bar.part / top
        shapes.append(
            format_html(
                '<g><title>{}</title><rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
                bar.note,
                round(x, 2),
                round(y0 - total_h, 2),
                round(width, 2),
                round(total_h, 2),
                PALETTE["other"],
                round(x, 2),
                round(y0 - part_h, 2),
                round(width, 2),
                round(part_h, 2),
                PALETTE["answered"],
            )
        )
        if i % every == 0:
            shapes.append(
                format_html(
                    '<text x="{}" y="{}" ' + TEXT + ' text-anchor="middle">{}</text>',
                    round(x + width / 2, 2),
                    y0 + 16,
                    bar.label,
                )
            )
    legend = _legend([(PALETTE["answered"], part_label), (PALETTE["other"], axis_label)], y=248)
    body = format_html(
        "{}{}{}",
        _axis(top, x0, y0, plot, axis_label),
        mark_safe("".join(shapes)),  # noqa: S308 - each piece built by format_html
        legend,
    )
    return _svg(height, title, description, body, "columns")


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    title: str,
    description: str,
    axis_label: str,
) -> SafeString:
    """Lines over days (``series``: name, colour, values; a gap where a value is None)."""
    height, x0, y0, plot = 256, 44, 210, 170
    values = [value for _name, _colour, points in series for value in points if value is not None]
    top = nice_ceiling(max(values, default=0))
    n = max(len(labels), 1)
    step = (WIDTH - x0 - 16) / max(n - 1, 1)
    every = max(1, math.ceil(n / 8))
    pieces = []
    for name, colour, points in series:
        segment: list[str] = []
        runs: list[list[str]] = []
        for i, value in enumerate(points):
            if value is None:
                if segment:
                    runs.append(segment)
                segment = []
                continue
            x, y = x0 + i * step, y0 - plot * value / top
            segment.append(f"{x:.2f},{y:.2f}")
            pieces.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}: {} {}</title></circle>',
                    f"{x:.2f}",
                    f"{y:.2f}",
                    colour,
                    labels[i],
                    name,
                    _short(round(value, 1)),
                )
            )
        if segment:
            runs.append(segment)
        for run in runs:
            pieces.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                    " ".join(run),
                    colour,
                )
            )
    for i, label in enumerate(labels):
        if i % every == 0:
            pieces.append(
                format_html(
                    '<text x="{}" y="{}" ' + TEXT + ' text-anchor="middle">{}</text>',
                    f"{x0 + i * step:.2f}",
                    y0 + 16,
                    label,
                )
            )
    legend = _legend([(colour, name) for name, colour, _points in series], y=248)
    body = format_html(
        "{}{}{}",
        _axis(top, x0, y0, plot, axis_label),
        mark_safe("".join(pieces)),  # noqa: S308 - each piece built by format_html
        legend,
    )
    return _svg(height, title, description, body, "lines")


def bar_chart(
    bars: Sequence[Bar], *, title: str, description: str, part_label: str, rest_label: str
) -> SafeString:
    """Horizontal bars, one per group, labelled on the left; the darker part first."""
    label_w, row = 180, 26
    height = max(row * len(bars) + 40, 60)
    top = nice_ceiling(max((bar.value for bar in bars), default=0))
    span = WIDTH - label_w - 60
    shapes = []
    for i, bar in enumerate(bars):
        y = 8 + i * row
        total_w = span * bar.value / top
        part_w = span * bar.part / top
        shapes.append(
            format_html(
                '<g><title>{}</title><text x="{}" y="{}" ' + TEXT + ' text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="18" fill="{}"/>'
                '<rect x="{}" y="{}" width="{}" height="18" fill="{}"/>'
                '<text x="{}" y="{}" ' + TEXT + ">{}</text></g>",
                bar.note,
                label_w - 6,
                y + 13,
                _clip(bar.label, 26),
                label_w,
                y,
                round(total_w, 2),
                PALETTE["other"],
                label_w,
                y,
                round(part_w, 2),
                PALETTE["answered"],
                round(label_w + total_w + 4, 2),
                y + 13,
                _short(bar.value),
            )
        )
    legend = _legend(
        [(PALETTE["answered"], part_label), (PALETTE["other"], rest_label)], y=height - 8
    )
    body = format_html("{}{}", mark_safe("".join(shapes)), legend)  # noqa: S308
    return _svg(height, title, description, body, "bars")


def heatmap_chart(
    grid: Sequence[Sequence[int]], weekdays: Sequence[str], *, title: str, description: str
) -> SafeString:
    """Seven rows (Monday first) of 24 hours, darker where more questions arrived."""
    label_w, cell_w, cell_h = 84, (WIDTH - 84 - 4) / 24, 24
    height = 7 * cell_h + 28
    top = max((value for row in grid for value in row), default=0)
    cells = []
    for d, row in enumerate(grid):
        cells.append(
            format_html(
                '<text x="{}" y="{}" ' + TEXT + ' text-anchor="end">{}</text>',
                label_w - 6,
                d * cell_h + 16,
                _clip(weekdays[d], 12),
            )
        )
        for h, value in enumerate(row):
            share = value / top if top else 0
            cells.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                    'fill-opacity="{}" class="cell"><title>{} {}:00 · {}</title></rect>',
                    round(label_w + h * cell_w, 2),
                    d * cell_h,
                    round(cell_w - 1, 2),
                    cell_h - 1,
                    PALETTE["p50"],
                    f"{0.06 + 0.94 * share:.3f}" if value else "0.03",
                    weekdays[d],
                    f"{h:02d}",
                    value,
                )
            )
    for h in range(0, 24, 3):
        cells.append(
            format_html(
                '<text x="{}" y="{}" ' + TEXT + ' text-anchor="middle">{}</text>',
                round(label_w + h * cell_w + cell_w / 2, 2),
                7 * cell_h + 16,
                f"{h:02d}",
            )
        )
    body = mark_safe("".join(cells))  # noqa: S308 - each piece built by format_html
    return _svg(int(height), title, description, body, "heatmap")


def _legend(items: Sequence[tuple[str, str]], *, y: float) -> SafeString:
    x = 48
    parts = []
    for colour, label in items:
        if not label:
            continue
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}" ' + TEXT + ">{}</text>",
                x,
                y - 9,
                colour,
                x + 14,
                y,
                label,
            )
        )
        x += 24 + 7 * len(label)
    return mark_safe("".join(parts))  # noqa: S308 - each piece built by format_html


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
