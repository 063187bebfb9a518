"""Cut a video's timeline into segments: one per shot, long shots split into windows."""

from __future__ import annotations

import math

__all__ = ["MIN_SEGMENT", "WINDOW", "cut_timeline"]

WINDOW = 10.0  # seconds: the longest segment; a long shot is split into equal windows
MIN_SEGMENT = 1.0  # seconds: a shorter shot joins the one before it


def cut_timeline(
    cuts: list[float], duration: float, window: float = WINDOW, min_segment: float = MIN_SEGMENT
) -> list[tuple[float, float]]:
    """Shot start times (seconds) and the duration -> [(start, end), ...] covering [0, duration].

    With no cuts the whole video is cut into windows of at most ``window`` seconds.
    """
    if duration <= 0:
        return []
    bounds = sorted({0.0, *(c for c in cuts if 0.0 < c < duration)})
    shots: list[list[float]] = []
    for start, end in zip(bounds, [*bounds[1:], duration]):
        if shots and end - start < min_segment:
            shots[-1][1] = end  # a flash or a very short shot belongs to the shot before it
        else:
            shots.append([start, end])
    if len(shots) > 1 and shots[0][1] - shots[0][0] < min_segment:
        shots[1][0] = 0.0
        shots.pop(0)
    out: list[tuple[float, float]] = []
    for start, end in shots:
        n = max(1, math.ceil((end - start) / window - 1e-9))
        step = (end - start) / n
        out.extend((round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i in range(n))
    return out
