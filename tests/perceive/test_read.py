"""``read`` per file: text in images; a video or a sound is refused with what to do instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sensorium.perceive.read import read


def test_a_video_is_refused_before_it_is_decoded(
    animal_video: Any, stamp_png: Path, crow_ogg: Path
) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    sign = stamp_png.parents[2] / "town/roadsigns/hospital.png"
    video, hospital, crow = read([animal_video.path, sign, crow_ogg])
    assert video.error is not None and video.error_kind == "unusable"
    assert video.error.startswith("a video") and "ask about the video" in video.error
    assert hospital.error is None and hospital.text is not None
    assert hospital.text.text == "HOSPITAL"
    assert crow.error == "audio only, not an image: nothing to read"
