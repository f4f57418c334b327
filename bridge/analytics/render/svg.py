"""Charts as inline SVG: no script, no CDN, text stays text (so Japanese labels use the page's fonts).

Every drawn mark carries ``data-value`` so a browser test can check that a chart is not empty.
"""

from __future__ import annotations

import math
from html import escape

from bridge.analytics.reports.base import Chart

COLOURS = ("#2f6fb0", "#e07b39", "#4a9d5b", "#c44e52", "#8172b2", "#937860")
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 30, 80


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _nice(maximum: float) -> float:
    if maximum <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(maximum))
    for step in (1, 2, 2.5, 5, 10):
        if maximum <= step * power:
            return step * power
    return 10 * power


def _label(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.1f}百万"
    if abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"


def render(chart: Chart, chart_id: str) -> str:
    values = [v for series in chart.series.values() for v in _finite(series)]
    top = _nice(max(values, default=0.0))
    bottom = min(0.0, min(values, default=0.0))
    span = (top - bottom) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(1, len(chart.labels))

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - bottom) / span)

    parts = [(f'<svg id="{chart_id}" class="chart" data-kind="{chart.kind}" xmlns="http://www.w3.org/2000/svg" '
              f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(chart.title)}">'),
             f'<text x="{LEFT}" y="18" class="chart-title">{escape(chart.title)}</text>']
    for step in range(5):
        value = bottom + span * step / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'class="grid"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'class="axis">{_label(value)}</text>')
    slot = plot_w / n
    series_items = list(chart.series.items())
    if chart.kind == "bar":
        bar_w = slot * 0.8 / max(1, len(series_items))
        for s_index, (name, data) in enumerate(series_items):
            colour = COLOURS[s_index % len(COLOURS)]
            for i, value in enumerate(data):
                if value is None or not math.isfinite(value):
                    continue
                x = LEFT + slot * i + slot * 0.1 + bar_w * s_index
                y0, y1 = y(max(value, 0)), y(min(value, 0))
                parts.append(f'<rect class="mark" data-value="{value}" x="{x:.1f}" y="{y0:.1f}" '
                             f'width="{max(bar_w - 1, 1):.1f}" height="{max(y1 - y0, 0.5):.1f}" fill="{colour}">'
                             f'<title>{escape(chart.labels[i] if i < len(chart.labels) else "")} {escape(name)}: '
                             f'{value:,.0f}</title></rect>')
    else:
        for s_index, (name, data) in enumerate(series_items):
            colour = COLOURS[s_index % len(COLOURS)]
            points = [(LEFT + slot * (i + 0.5), y(v), v) for i, v in enumerate(data)
                      if v is not None and math.isfinite(v)]
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in points)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, yy, v in points:
                parts.append(f'<circle class="mark" data-value="{v}" cx="{x:.1f}" cy="{yy:.1f}" r="3" '
                             f'fill="{colour}"><title>{escape(name)}: {v:,.0f}</title></circle>')
    every = max(1, math.ceil(n / 24))
    for i, label in enumerate(chart.labels):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" class="axis" text-anchor="end" '
                     f'transform="rotate(-40 {x:.1f} {HEIGHT - BOTTOM + 14})">{escape(label[:16])}</text>')
    for s_index, (name, _) in enumerate(series_items):
        x = WIDTH - RIGHT - 110 * (len(series_items) - s_index)
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{COLOURS[s_index % len(COLOURS)]}"/>'
                     f'<text x="{x + 14}" y="17" class="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
