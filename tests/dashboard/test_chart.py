"""tracker.dashboard.chart: the stacked bar chart's geometry (nice_ceiling, build), computed without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.dashboard import chart

T0 = datetime(2024, 6, 5, 16, 0, tzinfo=UTC)  # 23:00 in Ho Chi Minh City
PLOT_H = chart.HEIGHT - chart.TOP - chart.BOTTOM
PLOT_W = chart.WIDTH - chart.LEFT - chart.RIGHT


@pytest.mark.parametrize(
    "value, ceiling",
    [
        (-3, 1),
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 5),
        (5, 5),
        (6, 10),
        (10, 10),
        (11, 20),
        (21, 50),
        (51, 100),
        (100, 100),
        (101, 200),
        (999, 1000),
        (1234, 2000),
    ],
)
def test_nice_ceiling_is_the_smallest_1_2_or_5_step_at_least_the_value(value, ceiling):
    assert chart.nice_ceiling(value) == ceiling


def test_no_buckets_is_an_empty_chart_with_a_scale_of_one():
    out = chart.build([], "Hm")
    assert out["empty"] is True and out["bars"] == [] and out["labels"] == []
    assert out["w"] == chart.WIDTH and out["h"] == chart.HEIGHT
    assert out["left"] == chart.LEFT and out["right"] == chart.WIDTH - chart.RIGHT
    # A scale of 1 gets lines at 0 and 1 only: no half-way line at 0.5.
    assert [g["t"] for g in out["grid"]] == ["0", "1"]


def test_buckets_without_counts_draw_no_bar():
    out = chart.build([(T0, {}), (T0 + timedelta(hours=1), {"delivered": 0})], "Hm")
    assert out["empty"] is True and out["bars"] == []
    assert len(out["labels"]) == 2


def test_bars_stack_in_group_order_from_the_bottom_and_fill_the_scale():
    out = chart.build([(T0, {"queued": 2, "delivered": 3, "failed": 5})], "Hm")
    bars = out["bars"]
    # Stacking order is present.GROUPS: delivered, failed, rejected, in flight, queued.
    assert [b["cls"] for b in bars] == ["s-delivered", "s-failed", "s-queued"]
    # Total 10 -> scale 10, so the whole plot height is used.
    assert [b["h"] for b in bars] == [round(PLOT_H * n / 10, 2) for n in (3, 5, 2)]
    bottom = chart.TOP + PLOT_H
    assert bars[0]["y"] == round(bottom - bars[0]["h"], 2)
    for lower, upper in zip(bars, bars[1:]):
        assert upper["y"] == pytest.approx(lower["y"] - upper["h"], abs=0.02)
    assert bars[-1]["y"] == pytest.approx(chart.TOP, abs=0.02)


def test_bars_share_the_width_with_gaps_and_scale_to_the_tallest():
    buckets = [(T0 + timedelta(hours=i), {"delivered": n}) for i, n in enumerate((1, 3, 0, 2))]
    out = chart.build(buckets, "Hm")
    slot = PLOT_W / 4
    assert len(out["bars"]) == 3  # the empty bucket draws nothing
    for bar in out["bars"]:
        assert bar["w"] == round(slot * 0.8, 2)
    assert [b["x"] for b in out["bars"]] == [round(chart.LEFT + i * slot + slot * 0.1, 2) for i in (0, 1, 3)]
    # Tallest total 3 -> scale 5.
    assert out["bars"][1]["h"] == round(PLOT_H * 3 / 5, 2)
    # 2.5 is no whole number: a scale of 5 has no half-way line.
    assert [g["t"] for g in out["grid"]] == ["0", "5"]


def test_grid_has_bottom_middle_and_top_lines_for_an_even_scale():
    out = chart.build([(T0, {"delivered": 7})], "Hm")
    assert [(g["y"], g["t"]) for g in out["grid"]] == [
        (chart.TOP + PLOT_H, "0"),
        (round(chart.TOP + PLOT_H / 2, 2), "5"),
        (chart.TOP, "10"),
    ]


def test_bars_are_at_least_one_unit_wide():
    buckets = [(T0 + timedelta(minutes=i), {"delivered": 1}) for i in range(2000)]
    out = chart.build(buckets, "Hm")
    assert min(b["w"] for b in out["bars"]) == 1.0


def test_at_most_eight_time_labels_centred_under_their_bar_in_local_time():
    buckets = [(T0 + timedelta(hours=i), {"delivered": 1}) for i in range(24)]
    out = chart.build(buckets, "Hm")
    assert len(out["labels"]) <= chart.MAX_X_LABELS
    slot = PLOT_W / 24
    first = out["labels"][0]
    assert first == {"x": round(chart.LEFT + slot / 2, 2), "y": chart.HEIGHT - 8, "t": "23:00"}
    assert [lab["t"] for lab in out["labels"]][:3] == ["23:00", "02:00", "05:00"]  # every third hour


def test_labels_follow_the_skeleton():
    out = chart.build([(T0, {"delivered": 1})], "MdHm")
    assert out["labels"][0]["t"] == "05/06 23:00"
    assert chart.build([(T0, {"delivered": 1})], "Md")["labels"][0]["t"] == "05/06"


def test_a_bar_title_names_time_group_count_and_total():
    out = chart.build([(T0, {"delivered": 1200, "failed": 34})], "Hm")
    # Outside a request: the default language, Vietnamese formats.
    assert "23:00" in out["bars"][0]["title"]
    assert "1.200" in out["bars"][0]["title"] and "1.234" in out["bars"][0]["title"]
    assert "34" in out["bars"][1]["title"]
