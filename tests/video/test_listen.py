"""A video's sound listened to in windows (``video/listen.py``), against the whole track: the
same sound events, the same words, none lost or heard twice where a window is cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensorium.engine import default_engine
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.eval.metrics import normalize_text
from sensorium.eval.videos import Shot, _query, write_video
from sensorium.media.audio import audio_blocks, load_audio
from sensorium.media.types import SAMPLE_RATE
from sensorium.media.video import MAX_SECONDS, probe
from sensorium.video import listen as listening
from sensorium.video.listen import _Patches, listen, quiet_cut


def test_patches_streamed_are_the_whole_tracks(animal_video: Any) -> None:
    """Blocks of any length, shorter than a patch too: the samples a patch still needs are
    carried, so the scores are those of the whole track."""
    space = default_engine().space
    whole = space.sound.run([load_audio(animal_video.path)]).patch_scores[0]  # (P, 521)
    for seconds in (2.3, 0.7):
        patches = _Patches(space)
        for block in audio_blocks(animal_video.path, seconds=seconds):
            patches.feed(block)
        np.testing.assert_allclose(patches.close(), whole, atol=1e-5)


def test_blocks_join_to_the_whole_track(animal_video: Any) -> None:
    blocks = list(audio_blocks(animal_video.path, seconds=3.0))
    assert {len(b) for b in blocks[:-1]} == {3 * SAMPLE_RATE} and len(blocks[-1]) <= 3 * SAMPLE_RATE
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(animal_video.path).samples)


def test_a_window_is_cut_in_a_pause(hello_wav: Path) -> None:
    """ "Hello world", a second of silence, "hello world": the cut falls in the silence."""
    clip = load_audio(hello_wav).samples
    track = np.concatenate([clip, np.zeros(SAMPLE_RATE, np.float32), clip])
    lo, hi = len(clip) / SAMPLE_RATE - 0.6, len(clip) / SAMPLE_RATE + 1.6
    assert len(clip) < quiet_cut(track, lo, hi) < len(clip) + SAMPLE_RATE


@pytest.fixture(scope="module")
def spoken_video(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """30 s: six Tux Paint animals, 5 s each, each named aloud (real recordings)."""
    stamps = [s for s in tuxpaint_stamps() if s.spoken][:6]
    shots = [Shot(s.image, 5.0, s.spoken, _query(s.caption)) for s in stamps]
    return write_video(tmp_path_factory.mktemp("spoken") / "spoken.mp4", shots, fps=2)


def test_words_are_neither_lost_nor_doubled_at_cuts(spoken_video: Any, monkeypatch: Any) -> None:
    """Windows of about 10 s (two cuts in 30 s) hear what the whole track does: one name in
    each shot, the same words (Whisper may hear one name otherwise in another context)."""
    space, info = default_engine().space, probe(spoken_video.path)
    whole = listen(space, info, MAX_SECONDS)
    calls: list[float] = []
    transcribe = space.speech.transcribe

    def counted(audio: Any, **kw: Any) -> Any:
        calls.append(audio.duration)
        return transcribe(audio, **kw)

    monkeypatch.setattr(space.speech, "transcribe", counted)
    monkeypatch.setattr(listening, "WINDOW", 10.0)
    monkeypatch.setattr(listening, "SEARCH", 3.0)
    cut = listen(space, info, MAX_SECONDS)
    assert len(calls) == 3 and max(calls) < 17.0 and sum(calls) == pytest.approx(30.0, abs=0.1)
    np.testing.assert_array_equal(cut.patches, whole.patches)
    assert cut.transcript is not None and cut.transcript.language == "en"
    shots = [(a, b) for a, b, _ in spoken_video.intervals]

    def shot(w: Any) -> int:
        return next(i for i, (a, b) in enumerate(shots) if a <= (w.start + w.end) / 2 < b)

    # one name in each shot, in order (the whole track's one pass may drop a name: not more)
    assert [shot(w) for w in cut.words] == list(range(len(shots)))
    assert len(whole.words) >= len(shots) - 1
    by_shot = {shot(w): normalize_text(w.text) for w in cut.words}
    same = [by_shot[shot(w)] == normalize_text(w.text) for w in whole.words]
    assert sum(same) >= len(same) - 1
