"""Geometry of the server-rendered SVG trend charts.

Bars show the volume of each week or month; two lines show the share reacted and
resolved on time (0–100 % on the right axis). Everything is an SVG attribute or a
class, since the CSP forbids inline styles and scripts.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .figures import TrendPoint
from .periods import Period

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 12, 36


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    caption: str
    href: str


@dataclass
class Dot:
    x: float
    y: float
    value: float
    href: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    lines: dict[str, list[Dot]] = field(default_factory=dict)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, volume)
    pct_ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, percent)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT

    def polyline(self, name: str) -> str:
        return " ".join(f"{d.x:.1f},{d.y:.1f}" for d in self.lines.get(name, []))


def nice_max(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    if value <= 5:
        return 5
    step = 10 ** (len(str(value)) - 1)
    for mult in (1, 2, 2.5, 5, 10):
        if value <= mult * step:
            return int(mult * step)
    return value


def trend_chart(points: list[TrendPoint], caption: Callable[[Period], str],
                link: Callable[[Period, str], str]) -> Chart:
    chart = Chart()
    if not points:
        return chart
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    top = nice_max(max(p.tally.total for p in points))
    chart.y_ticks = [(TOP + plot_h * (1 - f), int(top * f)) for f in (0, 0.5, 1)]
    chart.pct_ticks = [(TOP + plot_h * (1 - f), int(100 * f)) for f in (0, 0.5, 1)]
    every = max(1, len(points) // 12)  # at most about a dozen x labels
    lines: dict[str, list[Dot]] = {"reaction": [], "resolution": []}
    for i, point in enumerate(points):
        x = LEFT + i * slot
        h = plot_h * point.tally.total / top
        chart.bars.append(Bar(x + slot * 0.15, TOP + plot_h - h, slot * 0.7, h, point.tally.total,
                              caption(point.period), link(point.period, "total")))
        centre = x + slot / 2
        for name, pct in (("reaction", point.tally.reaction_share), ("resolution", point.tally.resolution_share)):
            if pct is not None:
                lines[name].append(Dot(centre, TOP + plot_h * (1 - pct / 100), pct,
                                       link(point.period, f"{name}_on_time")))
        if i % every == 0:
            chart.x_labels.append((centre, caption(point.period)))
    chart.lines = lines
    return chart
