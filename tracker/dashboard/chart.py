"""Geometry of the stacked bar chart (messages over time by status group), drawn as SVG.

Python computes every rectangle once; the template draws them on first load and
live.js redraws them from the same JSON, so the two can never disagree. Labels and
titles are in the reader's language, on the tracker's clock.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask_babel import gettext

from tracker.dashboard import formats
from tracker.dashboard.present import GROUP_LABELS, GROUPS

WIDTH, HEIGHT = 960, 260
# Room on the right keeps the last time label whole.
LEFT, RIGHT, TOP, BOTTOM = 52, 34, 10, 26
MAX_X_LABELS = 8


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value``."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def build(buckets: list[tuple[datetime, dict[str, int]]], label_skeleton: str) -> dict[str, Any]:
    """Bars, axis labels and grid lines for ``buckets`` of (start, {group: count}).

    ``label_skeleton`` names the labels' form (:func:`tracker.dashboard.formats.skeleton`).
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((sum(c.values()) for _, c in buckets), default=0))
    slot = plot_w / max(len(buckets), 1)
    bar_w = max(slot * 0.8, 1.0)
    bars: list[dict[str, Any]] = []
    for i, (start, by_group) in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        total = sum(by_group.values())
        for group in GROUPS:
            n = by_group.get(group, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            bars.append(
                {
                    "x": round(x, 2),
                    "y": round(y, 2),
                    "w": round(bar_w, 2),
                    "h": round(h, 2),
                    "cls": f"s-{group}",
                    "title": gettext(
                        "%(when)s · %(group)s: %(n)s of %(total)s",
                        when=formats.skeleton(start, label_skeleton),
                        group=GROUP_LABELS[group],
                        n=formats.number(n),
                        total=formats.number(total),
                    ),
                }
            )
    every = max(1, math.ceil(len(buckets) / MAX_X_LABELS))
    labels = [
        {"x": round(LEFT + i * slot + slot / 2, 2), "y": HEIGHT - 8, "t": formats.skeleton(start, label_skeleton)}
        for i, (start, _) in enumerate(buckets)
        if i % every == 0
    ]
    # Only whole numbers on the axis: a scale of 1 gets no half-way line.
    grid = [
        {"y": round(TOP + plot_h * (1 - f), 2), "t": formats.number(int(top * f))}
        for f in (0, 0.5, 1)
        if float(top * f).is_integer()
    ]
    return {
        "w": WIDTH,
        "h": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "empty": not bars,
    }
