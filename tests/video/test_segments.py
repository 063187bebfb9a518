"""Cutting the timeline into segments."""

from __future__ import annotations

import pytest

from sensorium.video import cut_timeline


def test_shots_become_segments() -> None:
    assert cut_timeline([0.0, 4.0, 9.0], 13.0) == [(0.0, 4.0), (4.0, 9.0), (9.0, 13.0)]


def test_no_cuts_gives_windows_and_long_shots_are_split() -> None:
    assert cut_timeline([0.0], 25.0, window=10.0) == [
        (0.0, pytest.approx(8.333, abs=1e-3)),
        (pytest.approx(8.333, abs=1e-3), pytest.approx(16.667, abs=1e-3)),
        (pytest.approx(16.667, abs=1e-3), 25.0),
    ]
    assert cut_timeline([], 3.0) == [(0.0, 3.0)]


def test_flashes_join_the_shot_before() -> None:
    # 0-0.4 s is too short to stand alone (joins the next), 5.0-5.3 s joins the one before.
    assert cut_timeline([0.0, 0.4, 5.0, 5.3], 8.0) == [(0.0, 5.3), (5.3, 8.0)]


def test_empty_video() -> None:
    assert cut_timeline([], 0.0) == []
