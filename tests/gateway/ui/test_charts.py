"""Dashboard charts: bar heights are proportional to the counts, the tallest bar fits the
plot, and the y axis of counts shows whole numbers only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.ui.charts import histogram, stacked_bars

HOURS = [datetime(2026, 11, 26, tzinfo=UTC) + timedelta(hours=h) for h in range(6)]


@pytest.mark.parametrize("peak", [1, 3, 7, 13, 150, 1234])
def test_count_axes_have_whole_ticks_and_bars_fit(peak: int) -> None:
    """Whatever the peak, ticks are integers and no stacked bar is taller than the plot."""
    series = {"850": {HOURS[0]: peak, HOURS[2]: max(peak // 2, 1)},
              "810": {HOURS[0]: 1}}
    chart = stacked_bars("t", HOURS, series, lambda x: x.strftime("%H"))
    assert all(float(t["text"]).is_integer() for t in chart.yticks)
    top = max(float(t["text"]) for t in chart.yticks)
    assert top >= peak + 1
    plot_bottom = max(t["y"] for t in chart.yticks)
    plot_top = min(t["y"] for t in chart.yticks)
    assert all(b["y"] >= plot_top - 0.1 and b["y"] + b["h"] <= plot_bottom + 0.1
               for b in chart.bars)
    heights = {b["title"]: b["h"] for b in chart.bars}
    assert heights[f"00 850: {peak}"] == pytest.approx(
        peak / top * (plot_bottom - plot_top), abs=0.1)


def test_histogram_counts_values_into_their_buckets() -> None:
    """Each value lands in the first bucket at or above it; larger ones in the last."""
    chart = histogram("t", [0.05, 0.1, 0.3, 7.0, 99.0], [0.1, 0.5, 5])
    titles = sorted(b["title"] for b in chart.bars)
    assert titles == [">5s: 2 message(s)", "≤0.1s: 2 message(s)", "≤0.5s: 1 message(s)"]
    assert all(float(t["text"]).is_integer() for t in chart.yticks)


def test_the_count_axis_fits_the_data() -> None:
    """The axis top is the peak or just above it: never below, and past the smallest
    counts the tallest bar fills at least two thirds of the plot (a top of 40 for 21, or
    400 for 201, left half of it empty)."""
    for peak in range(1, 20000):
        chart = stacked_bars("t", HOURS[:1], {"850": {HOURS[0]: peak}}, str)
        top = max(float(t["text"]) for t in chart.yticks)
        assert all(float(t["text"]).is_integer() for t in chart.yticks), peak
        assert top >= peak, peak
        if peak >= 12:
            assert peak / top >= 2 / 3, (peak, top)
