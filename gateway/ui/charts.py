"""Charts for the dashboard, drawn server-side as SVG geometry (no chart library, no CDN).

Responsible for turning counts into rectangles, ticks and legend entries in a fixed
viewBox; the template writes them out as ``<rect>``/``<text>`` (autoescaped, colours from
the stylesheet by class, so the strict CSP needs no inline style). It must not query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["Chart", "histogram", "line_chart", "stacked_bars"]

_W, _H = 760, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 10, 28
_SERIES = 8  # palette classes s0..s7; further series share "s-other"


@dataclass(slots=True)
class Chart:
    title: str
    width: int = _W
    height: int = _H
    bars: list[dict[str, Any]] = field(default_factory=list)
    xlabels: list[dict[str, Any]] = field(default_factory=list)
    yticks: list[dict[str, Any]] = field(default_factory=list)
    legend: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # line_chart's polylines
    empty: bool = True
    baseline: float = _H - _BOTTOM
    left: float = _LEFT
    right: float = _W - _RIGHT


# Tick steps per power of ten; a step that is not a whole number (1.5, 2.5 at the ones)
# is skipped. Past the smallest counts consecutive tops differ by at most half, so the
# tallest bar fills two thirds of the plot or more.
_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)


def _nice_count_max(value: float) -> float:
    """The lowest top at or above ``value`` for an axis of counts whose four ticks are
    whole numbers: four times a whole step of 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
    power of ten (4, 8, 12, 16, 20, 24, 32, 40, 60, 80, 100, ...)."""
    magnitude = 1
    while True:
        for mantissa in _STEPS:
            step = mantissa * magnitude
            if float(step).is_integer() and value <= 4 * step:
                return float(4 * step)
        magnitude *= 10


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def stacked_bars(title: str, axis: Sequence[datetime],
                 series: Mapping[str, Mapping[datetime, int]],
                 label: Callable[[datetime], str], *, label_every: int = 1) -> Chart:
    """One bar per ``axis`` point, stacked by series (largest series at the bottom)."""
    chart = Chart(title)
    names = sorted(series, key=lambda n: -sum(series[n].values()))
    shown, rest = names[:_SERIES - 1], names[_SERIES - 1:]
    stacks: list[tuple[str, str, Mapping[datetime, int]]] = [
        (n, f"s{i}", series[n]) for i, n in enumerate(shown)]
    if rest:
        merged: dict[datetime, int] = {}
        for n in rest:
            for x, v in series[n].items():
                merged[x] = merged.get(x, 0) + v
        stacks.append((f"{len(rest)} more", "s-other", merged))
    totals = [sum(s.get(x, 0) for _, _, s in stacks) for x in axis]
    top = _nice_count_max(max(totals, default=0))
    plot_h = _H - _TOP - _BOTTOM
    plot_w = _W - _LEFT - _RIGHT
    slot = plot_w / max(len(axis), 1)
    chart.empty = not any(totals)
    for i, x in enumerate(axis):
        base = 0.0
        for name, cls, values in stacks:
            v = values.get(x, 0)
            if not v:
                continue
            h = v / top * plot_h
            chart.bars.append({"x": round(_LEFT + i * slot + slot * 0.1, 1),
                               "y": round(_H - _BOTTOM - base - h, 1),
                               "w": round(max(slot * 0.8, 1), 1), "h": round(h, 1),
                               "cls": cls, "title": f"{label(x)} {name}: {v}"})
            base += h
        if i % label_every == 0:
            chart.xlabels.append({"x": round(_LEFT + i * slot + slot / 2, 1),
                                  "text": label(x)})
    for k in range(5):
        value = top * k / 4
        chart.yticks.append({"y": round(_H - _BOTTOM - plot_h * k / 4, 1),
                             "text": _fmt(value)})
    chart.legend = [{"name": n, "cls": c} for n, c, _ in stacks]
    return chart


def histogram(title: str, values: Sequence[float], buckets: Sequence[float]) -> Chart:
    """Counts of ``values`` at or below each bucket bound (the last bucket: above)."""
    counts = [0] * (len(buckets) + 1)
    for v in values:
        for i, bound in enumerate(buckets):
            if v <= bound:
                counts[i] += 1
                break
        else:
            counts[-1] += 1
    labels = [f"≤{_fmt(b)}s" for b in buckets] + [f">{_fmt(buckets[-1])}s"]
    chart = Chart(title)
    top = _nice_count_max(max(counts, default=0))
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / len(counts)
    chart.empty = not values
    for i, c in enumerate(counts):
        h = c / top * plot_h
        if c:
            chart.bars.append({"x": round(_LEFT + i * slot + slot * 0.15, 1),
                               "y": round(_H - _BOTTOM - h, 1), "w": round(slot * 0.7, 1),
                               "h": round(h, 1), "cls": "s0",
                               "title": f"{labels[i]}: {c} message(s)"})
        chart.xlabels.append({"x": round(_LEFT + i * slot + slot / 2, 1), "text": labels[i]})
    for k in range(5):
        chart.yticks.append({"y": round(_H - _BOTTOM - plot_h * k / 4, 1),
                             "text": _fmt(top * k / 4)})
    return chart


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p`` percentile (0-100) of sorted ``values``, nearest rank."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


def line_chart(title: str, periods: Sequence[str],
               series: Mapping[str, Mapping[str, Decimal]]) -> Chart:
    """One line per series over ``periods`` (labels in order): a point where the series
    has a value for the period, the line broken where it has none."""
    chart = Chart(title)
    names = list(series)[:_SERIES - 1]
    values = [v for n in names for v in series[n].values()]
    chart.empty = not values
    top = _nice_count_max(float(max(values, default=Decimal(0))))
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / max(len(periods), 1)
    every = max(1, math.ceil(len(periods) / 12))  # at most a dozen labels fit the axis

    def x_of(i: int) -> float:
        return round(_LEFT + i * slot + slot / 2, 1)

    for k, name in enumerate(names):
        runs: list[list[str]] = [[]]
        dots = []
        for i, period in enumerate(periods):
            value = series[name].get(period)
            if value is None:
                runs.append([])
                continue
            y = round(_H - _BOTTOM - float(value) / top * plot_h, 1)
            runs[-1].append(f"{x_of(i)},{y}")
            dots.append({"x": x_of(i), "y": y, "title": f"{period} {name}: {value}"})
        chart.lines.append({"cls": f"s{k}", "runs": [" ".join(r) for r in runs if r],
                            "dots": dots})
    chart.xlabels = [{"x": x_of(i), "text": p} for i, p in enumerate(periods) if i % every == 0]
    for k in range(5):
        chart.yticks.append({"y": round(_H - _BOTTOM - plot_h * k / 4, 1),
                             "text": _fmt(top * k / 4)})
    chart.legend = [{"name": n, "cls": f"s{k}"} for k, n in enumerate(names)]
    return chart
