"""Server-rendered SVG charts: geometry only (the templates draw it, escaping labels).

A gap in a series (``None``) breaks the line; a value with no neighbour is a dot.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    segments: list[str] = field(default_factory=list)  # SVG polyline "x,y x,y ..."
    dots: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, int]] = field(default_factory=list)  # (y, value)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    pad_left: int = 0
    pad_bottom: int = 0

    @property
    def empty(self) -> bool:
        return not any(line.segments or line.dots for line in self.lines)


def _nice_bounds(low: int, high: int) -> tuple[int, int]:
    if low == high:
        return max(0, low - 1), high + 1
    margin = (high - low) * 0.1
    return max(0, int(low - margin)), int(high + margin) + 1


def _line(values: list[int | None], x_of, y_of) -> Line:
    line, run = Line(), []
    for n, value in enumerate(values + [None]):
        if value is not None:
            run.append((x_of(n), y_of(value)))
            continue
        if len(run) == 1:
            line.dots.append(run[0])
        elif run:
            line.segments.append(" ".join(f"{x:.1f},{y:.1f}" for x, y in run))
        run = []
    return line


def line_chart(series: list[list[int | None]], *, width: int = 720, height: int = 240, x_labels: list[str] | None = None,
               pad_left: int = 0, pad_bottom: int = 0, y_tick_count: int = 4, x_tick_count: int = 6) -> Chart:
    """Lines on a shared scale over the same days."""
    known = [v for values in series for v in values if v is not None]
    days = max((len(values) for values in series), default=0)
    if not known or not days:
        return Chart(width, height, [Line() for _ in series], pad_left=pad_left, pad_bottom=pad_bottom)
    low, high = _nice_bounds(min(known), max(known))
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - 4

    def x_of(n: int) -> float:
        return pad_left + 2 + (plot_w * n / (days - 1) if days > 1 else plot_w / 2)

    def y_of(v: int) -> float:
        return 2 + plot_h - plot_h * (v - low) / (high - low)

    chart = Chart(width, height, [_line(values, x_of, y_of) for values in series], pad_left=pad_left,
                  pad_bottom=pad_bottom)
    if y_tick_count:
        step = (high - low) / y_tick_count
        chart.y_ticks = [(y_of(int(low + step * k)), int(low + step * k)) for k in range(y_tick_count + 1)]
    if x_labels and x_tick_count:
        every = max(1, (days - 1) // x_tick_count or 1)
        chart.x_ticks = [(x_of(n), x_labels[n]) for n in range(0, days, every)]
    return chart


def sparkline(values: list[int | None], *, width: int = 120, height: int = 28) -> Chart:
    return line_chart([values], width=width, height=height, y_tick_count=0, x_tick_count=0)
