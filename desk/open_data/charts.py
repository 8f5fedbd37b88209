"""Geometry of the horizontal bar charts of the open figures (a share or a count per
department, direction, category or backlog age). The monthly chart is the SLA report's
own (``desk.reports.charts.trend_chart``). Attributes only: the CSP allows no inline styles."""
from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
LABEL_W, VALUE_W, ROW_H, PAD = 230, 70, 24, 4


@dataclass
class HBar:
    y: float
    width: float
    label: str
    text: str  # the value as shown at the end of the bar


@dataclass
class HChart:
    width: int = WIDTH
    height: int = 0
    bars: list[HBar] = field(default_factory=list)
    left: int = LABEL_W
    bar_h: int = ROW_H - 2 * PAD


def hbar_chart(items: list[tuple[str, float | None, str]], maximum: float | None = None) -> HChart:
    """One bar per (label, value, shown text); ``maximum`` is the full width (100 for a
    share, the largest value by default). A value of None draws no bar, only its text."""
    known = [v for _label, v, _text in items if v is not None]
    top = maximum or max(known, default=0) or 1
    chart = HChart(height=ROW_H * len(items))
    span = WIDTH - LABEL_W - VALUE_W
    for n, (label, value, text) in enumerate(items):
        chart.bars.append(HBar(n * ROW_H + PAD, 0 if value is None else span * min(value, top) / top, label, text))
    return chart
