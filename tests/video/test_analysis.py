"""Video analysis on videos built from real photos and recordings, with known ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium.engine import default_engine
from sensorium.errors import DecodeError
from sensorium.eval.metrics import normalize_text
from sensorium.eval.videos import write_video
from sensorium.video import VideoAnalysis, analyze, contact_sheet, summary_json


@pytest.fixture(scope="module")
def analysis(animal_video) -> VideoAnalysis:  # type: ignore[no-untyped-def]
    return analyze(animal_video.path, default_engine().space, keyframes=True)


def test_segments_follow_the_shots(analysis: VideoAnalysis, animal_video) -> None:  # type: ignore[no-untyped-def]
    got = [t for s in analysis.segments for t in (s.start, s.end)]
    want = [t for a, b, _ in animal_video.intervals for t in (a, b)]
    assert got == pytest.approx(want, abs=0.05)
    assert not analysis.truncated and analysis.notes == []


def test_each_segment_holds_what_is_said_in_it(analysis: VideoAnalysis, animal_video) -> None:  # type: ignore[no-untyped-def]
    for seg, (_, _, label) in zip(analysis.segments, animal_video.intervals):
        assert label in normalize_text(seg.said), (label, seg.said)
        assert set(seg.parts) == {"seen", "heard", "said"}
        assert all(seg.start <= (w.start + w.end) / 2 <= seg.end + 0.01 for w in seg.words)


def test_segment_vectors_find_their_animal(analysis: VideoAnalysis, animal_video) -> None:  # type: ignore[no-untyped-def]
    labels = [label for _, _, label in animal_video.intervals]
    queries = default_engine().space.text.encode(labels)  # (3, 384)
    segments = np.stack([s.vector for s in analysis.segments])  # (3, 384)
    assert (np.argmax(queries @ segments.T, axis=1) == np.arange(3)).all()
    # The seen part alone knows each animal too.
    seen = np.stack([s.part_vectors["seen"] for s in analysis.segments])
    assert (np.argmax(queries @ seen.T, axis=1) == np.arange(3)).all()
    assert np.linalg.norm(analysis.vector) == pytest.approx(1.0, abs=1e-5)


def test_no_audio_track(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    video = write_video(tmp_path / "mute.mp4", shots, audio="none")
    a = analyze(video.path, default_engine().space)
    assert a.notes == ["no audio track"] and a.transcript is None
    assert len(a.segments) == 3 and all(set(s.parts) == {"seen"} for s in a.segments)


def test_silent_track_invents_no_speech(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    video = write_video(tmp_path / "silent.mp4", shots, audio="silent")
    a = analyze(video.path, default_engine().space)
    assert all(s.said == "" and "said" not in s.parts for s in a.segments)
    assert all(s.heard[0][0] == "Silence" for s in a.segments)


def test_truncated_video_gives_what_it_has(truncated_mkv: Path) -> None:
    a = analyze(truncated_mkv, default_engine().space)
    assert a.truncated and a.notes and a.notes[-1].startswith("truncated")
    assert a.duration < 12.0 and a.segments[-1].end == pytest.approx(a.duration)


def test_a_file_with_no_frame_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)
    with pytest.raises(DecodeError, match=r"junk\.mp4"):
        analyze(junk, default_engine().space)


def test_summary_and_contact_sheet(analysis: VideoAnalysis, tmp_path: Path) -> None:
    data = summary_json(analysis)
    assert [s["said"] for s in data["segments"]] == [s.said for s in analysis.segments]
    assert (
        len(data["embedding"]) == 384 and data["segments"][1]["seen"][0]["label"] == "king penguin"
    )
    sheet = contact_sheet(analysis, tmp_path / "sheet.png")
    from PIL import Image

    with Image.open(sheet) as im:
        assert im.size[0] >= 600 and im.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_classify_and_embed_a_whole_video(animal_video) -> None:  # type: ignore[no-untyped-def]
    import sensorium

    (result,) = sensorium.classify([animal_video.path], labels=["car", "animals", "guitar", "food"])
    assert result.error is None and result.labels[0][0] == "animals"
    vectors = sensorium.embed([animal_video.path])
    assert vectors.shape == (1, 384)
    np.testing.assert_allclose(
        vectors[0], analyze(animal_video.path, default_engine().space).vector, atol=1e-5
    )


@pytest.fixture(scope="module")
def signs_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 s, no audio: Tux Paint's stop sign, hospital sign, a penguin, a give-way sign."""
    from sensorium.eval.datasets import TUXPAINT
    from sensorium.eval.videos import Shot

    signs = TUXPAINT / "town/roadsigns"
    shots = [Shot(signs / "stop.png", 4.0), Shot(signs / "hospital.png", 4.0),
             Shot(TUXPAINT / "animals/birds/penguin.png", 4.0),
             Shot(signs / "give_way_sign.png", 4.0)]  # fmt: skip
    return write_video(tmp_path_factory.mktemp("signs") / "signs.mp4", shots, audio="none").path


def test_text_in_frames_is_read_per_segment(signs_video: Path, tmp_path: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    from sensorium.collection import Collection
    from sensorium.engine import Engine
    from sensorium.space import SharedSpace, SpaceOptions

    space = SharedSpace(SpaceOptions(ocr=True))
    a = analyze(signs_video, space)
    assert [s.written for s in a.segments] == ["STOP", "HOSPITAL", "", "GIVE\nWAY"]
    assert "written" in a.segments[1].part_vectors and "written" not in a.segments[2].parts
    assert summary_json(a)["segments"][0]["written"] == "STOP"
    plain = analyze(signs_video, default_engine().space)  # OCR off: nothing is read
    assert all(not s.written for s in plain.segments)

    coll = Collection(tmp_path / "db", Engine(space=space))
    coll.ingest([signs_video])
    hit = coll.search("hospital", k=1)[0]
    assert (hit.item.start, hit.item.end) == (4.0, 8.0)
    assert hit.explanation.written == "HOSPITAL" and hit.explanation.matched == "written"


def test_faces_in_frames_per_segment(photos: dict[str, Path], tmp_path: Path) -> None:
    """A shot of the astronaut and one of the cat: with faces on, the astronaut's segment
    holds "a person, ..." and its vector moves towards "a smiling person"; the cat's is
    unchanged."""
    pytest.importorskip("ai_edge_litert")
    from sensorium.eval.videos import Shot
    from sensorium.space import SharedSpace, SpaceOptions

    path = tmp_path / "faces.mp4"
    write_video(path, [Shot(photos["astronaut"], 4.0), Shot(photos["chelsea"], 4.0)],
                size=(512, 512), audio="none")  # fmt: skip
    plain = analyze(path, SharedSpace())
    faced = analyze(path, SharedSpace(SpaceOptions(faces=True)))
    assert [s.faces for s in plain.segments] == ["", ""]
    person, cat = faced.segments
    assert person.faces.startswith("a person") and cat.faces == ""
    np.testing.assert_array_equal(cat.vector, plain.segments[1].vector)
    query = default_engine().space.text.encode(["a smiling person"])[0]
    assert person.vector @ query > plain.segments[0].vector @ query
    assert summary_json(faced)["segments"][0]["faces"] == person.faces
