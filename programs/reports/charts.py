"""Charts drawn on the server as SVG (the dashboard's template draws what these compute): bureau
networks have no internet, so no chart library is loaded from anywhere, and the page needs no
script at all.

- `bar_chart`: horizontal grouped bars, one group per child region, one bar per figure.
- `line_chart`: one line per figure over the months of a "month" dimension.
- `progress`: a rate as a bar filled to its share (capped at 100%, the figure printed as it is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PALETTE = ("#2f6eb5", "#e08a1e", "#3a9a5b", "#b8433a", "#7a5bb0", "#6b7b8c")
WIDTH = 760
LABEL_WIDTH = 150
BAR = 14
GAP = 10


def _number(value: Any) -> float:
    return float(value or 0)


def display(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "rate":
        return f"{Decimal(value) * 100:.1f}%"
    if isinstance(value, (int, Decimal)):
        return f"{value:,}"
    return str(value)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    text: str
    text_x: float


@dataclass
class BarChart:
    width: int
    height: int
    legend: list[tuple[str, str]]
    labels: list[tuple[float, str]]  # (y, region name)
    bars: list[Bar] = field(default_factory=list)


def bar_chart(
    groups: list[tuple[str, dict[str, Any]]], figures: list[tuple[str, str, str]]
) -> BarChart | None:
    """groups: (region name, row); figures: (key, label, kind). None when every value is zero."""
    if not groups or not figures:
        return None
    peak = max((_number(row.get(key)) for _name, row in groups for key, _l, _k in figures), default=0)
    if peak <= 0:
        return None
    plot = WIDTH - LABEL_WIDTH - 110
    per_group = len(figures) * BAR + GAP
    top = 28
    chart = BarChart(
        width=WIDTH,
        height=top + per_group * len(groups) + 6,
        legend=[(PALETTE[i % len(PALETTE)], label) for i, (_key, label, _kind) in enumerate(figures)],
        labels=[],
    )
    for g, (name, row) in enumerate(groups):
        y0 = top + g * per_group
        chart.labels.append((y0 + len(figures) * BAR / 2 + 4, name))
        for i, (key, _label, kind) in enumerate(figures):
            width = max(_number(row.get(key)) / peak * plot, 0)
            chart.bars.append(
                Bar(
                    x=LABEL_WIDTH,
                    y=y0 + i * BAR,
                    width=round(width, 1),
                    height=BAR - 2,
                    color=PALETTE[i % len(PALETTE)],
                    text=display(row.get(key), kind),
                    text_x=round(LABEL_WIDTH + width + 4, 1),
                )
            )
    return chart


@dataclass
class Line:
    color: str
    label: str
    points: str
    dots: list[tuple[float, float, str]]


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    bottom: int
    right: int
    top: int
    lines: list[Line]
    ticks: list[tuple[float, str]]  # (y, value)
    months: list[tuple[float, str]]  # (x, YYYY-MM)


def line_chart(
    points: list[tuple[str, dict[str, Any]]], figures: list[tuple[str, str, str]]
) -> LineChart | None:
    """points: (month, row) in order; figures: (key, label, kind)."""
    if not points or not figures:
        return None
    peak = max((_number(row.get(key)) for _m, row in points for key, _l, _k in figures), default=0)
    low = min((_number(row.get(key)) for _m, row in points for key, _l, _k in figures), default=0)
    low = min(low, 0)
    if peak <= low:
        peak = low + 1
    left, right, top, height = 90, WIDTH - 40, 16, 240
    bottom = height - 40
    span = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return round(left + (right - left) * (i / span if len(points) > 1 else 0.5), 1)

    def y(value: float) -> float:
        return round(bottom - (value - low) / (peak - low) * (bottom - top), 1)

    lines = []
    for n, (key, label, kind) in enumerate(figures):
        coords = [
            (x(i), y(_number(row.get(key))), display(row.get(key), kind))
            for i, (_m, row) in enumerate(points)
        ]
        lines.append(
            Line(
                color=PALETTE[n % len(PALETTE)],
                label=label,
                points=" ".join(f"{cx},{cy}" for cx, cy, _t in coords),
                dots=coords,
            )
        )
    kind = figures[0][2]
    ticks = [
        (y(low + (peak - low) * f), display(Decimal(str(round(low + (peak - low) * f, 2))), kind))
        for f in (0, 0.5, 1)
    ]
    step = max(1, len(points) // 12 + (1 if len(points) % 12 else 0)) if len(points) > 12 else 1
    months = [(x(i), month) for i, (month, _row) in enumerate(points) if i % step == 0]
    return LineChart(WIDTH, height, left, bottom, right, top, lines, ticks, months)


@dataclass
class Progress:
    label: str
    percent: float  # the bar's fill, 0..100
    text: str
    detail: str


def progress(label: str, value: Any, numerator: Any, denominator: Any, kinds: tuple[str, str]) -> Progress:
    percent = 0.0 if value is None else max(0.0, min(100.0, float(value) * 100))
    detail = f"{display(numerator, kinds[0])} / {display(denominator, kinds[1])}"
    return Progress(label=label, percent=round(percent, 1), text=display(value, "rate"), detail=detail)
