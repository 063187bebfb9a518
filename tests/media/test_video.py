"""Video decoding: timestamps, cuts, rotation, variable frame rate, broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.errors import DecodeError
from sensorium.eval.videos import write_video
from sensorium.media.video import frames, probe


def test_probe_and_kind(animal_video) -> None:  # type: ignore[no-untyped-def]
    info = probe(animal_video.path)
    assert (info.width, info.height, info.rotation, info.has_audio) == (320, 240, 0, True)
    assert info.duration == pytest.approx(13.0, abs=0.1)
    assert media.sniff(animal_video.path) is media.MediaKind.VIDEO


def test_frames_sampled_by_time_and_cut_at_shots(animal_video) -> None:  # type: ignore[no-untyped-def]
    got = list(frames(animal_video.path, fps=1.0))
    times = [f.time for f in got]
    assert times == sorted(times) and 12 <= len(got) <= 14  # about one a second
    assert [round(f.time, 1) for f in got if f.cut] == [0.0, 4.0, 9.0]  # the true shot starts
    assert min(got[0].image.size) == 224 and got[0].image.mode == "RGB"


def _matches(image: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(image.astype(np.float32) - reference.astype(np.float32)).mean())


def test_rotation_metadata_is_honoured(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    """A portrait phone video: frames stored turned, shown upright through the display matrix."""
    plain = write_video(tmp_path / "plain.mp4", shots[:1], size=(240, 320), audio="none")
    turned = write_video(tmp_path / "turned.mp4", shots[:1], size=(240, 320), audio="none",
                         rotation=90)  # fmt: skip
    info = probe(turned.path)
    assert (info.width, info.height, info.rotation) == (240, 320, 90)
    upright = np.asarray(next(frames(turned.path)).image)
    reference = np.asarray(next(frames(plain.path)).image)
    assert upright.shape == reference.shape  # portrait, as displayed
    assert _matches(upright, reference) < 4.0  # same picture, not a turned one
    assert _matches(np.rot90(upright, 2), reference) > 2 * _matches(upright, reference)


def test_variable_frame_rate_is_timed_by_timestamps(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    video = write_video(tmp_path / "vfr.mp4", shots, audio="none", variable_rate=True, seed=3)
    got = list(frames(video.path, fps=1.0))
    cuts = [f.time for f in got if f.cut]
    assert cuts == pytest.approx([0.0, 4.0, 9.0], abs=0.21)  # frame gaps are up to 0.2 s
    assert got[-1].time > 12.0


def test_truncated_and_broken_files(tmp_path: Path, animal_video) -> None:  # type: ignore[no-untyped-def]
    # An MP4 cut short loses its index (written last): a clear error, not a crash.
    cut = tmp_path / "cut.mp4"
    data = animal_video.path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError, match=r"cut\.mp4"):
        list(frames(cut))
    # Not a video at all.
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(DecodeError):
        probe(text)


def test_truncated_stream_keeps_what_decodes(truncated_mkv: Path) -> None:
    """A Matroska file cut halfway: the first half still decodes."""
    cut = truncated_mkv
    got = list(frames(cut))
    assert 2 <= got[-1].time < 11.0
    assert probe(cut).duration == pytest.approx(13.0, abs=0.2)  # the header still says 13 s
