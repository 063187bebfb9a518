"""Videos in a collection: ingested as moments, found as moments, with the hard cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sensorium
from sensorium.eval.videos import write_video
from sensorium.search.query import parse_target


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, animal_video, shots, hello_wav, stamp_png):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("videos")
    shutil.copy(animal_video.path, folder / "animals.mp4")
    write_video(folder / "mute.mp4", shots[1:], audio="none")
    shutil.copy(hello_wav, folder / "hello.mp4")  # audio only, under a video's name
    data = animal_video.path.read_bytes()
    (folder / "broken.mp4").write_bytes(data[: len(data) // 2])  # its index is lost
    shutil.copy(stamp_png, folder / "kangaroo.png")
    return folder


@pytest.fixture(scope="module")
def collection(library: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    report = coll.ingest([library])
    assert report.added == 4 and [Path(p).name for p, _ in report.failed] == ["broken.mp4"]
    return coll


def test_hard_cases_are_stored_or_recorded(collection) -> None:  # type: ignore[no-untyped-def]
    stats = collection.stats()
    assert stats["by_type"] == {"video": 2, "audio": 1, "image": 1}
    assert stats["moments"] == 3 + 2 + 1 + 1  # a row per video segment, one per other file
    (failure,) = stats["failures"]
    assert (
        failure["path"].endswith("broken.mp4") and "cannot read the container" in failure["error"]
    )
    mute = collection.moments(
        str(Path(collection.show(failure["path"].replace("broken", "mute")).path))
    )
    assert len(mute) == 2 and all(set(m.part_vectors) == {"seen"} for m in mute)


def test_a_text_query_returns_the_moment(collection, animal_video) -> None:  # type: ignore[no-untyped-def]
    for start, end, label in animal_video.intervals:
        hit = collection.search(label, k=1, kind="video", path="*animals.mp4")[0]
        assert (hit.item.start, hit.item.end) == pytest.approx((start, end), abs=0.05), label
        exp = hit.explanation.to_dict()
        assert exp["moment"] == {
            "start": pytest.approx(start, abs=0.05),
            "end": pytest.approx(end, abs=0.05),
        }
        assert label in exp["said"].lower() and exp["seen"]
        assert hit.to_json()["start"] == exp["moment"]["start"]


def test_a_video_is_returned_once(collection) -> None:  # type: ignore[no-untyped-def]
    paths = [h.item.path for h in collection.search("an animal", k=10)]
    assert len(paths) == len(set(paths))


def test_query_about_what_is_said(collection) -> None:  # type: ignore[no-untyped-def]
    assert parse_target("where does he say lion") == ("said", "lion")
    hit = collection.search("where does he say lion", k=1)[0]
    assert Path(hit.item.path).name == "animals.mp4" and hit.explanation.target == "said"
    assert hit.item.start == pytest.approx(9.0, abs=0.05) and hit.explanation.matched == "said"
    # The silent copy shows the lion too, but says nothing: asked what is said, it ranks below.
    seen = collection.search("lion", k=2, kind="video", target="seen")
    assert {Path(h.item.path).name for h in seen} == {"animals.mp4", "mute.mp4"}


def test_changed_video_replaces_its_moments(collection, library: Path, shots) -> None:  # type: ignore[no-untyped-def]
    again = collection.ingest([library])
    assert again.unchanged == 4 and again.added == again.updated == 0
    write_video(library / "animals.mp4", shots[:2])  # now two shots
    report = collection.ingest([library / "animals.mp4"])
    assert report.updated == 1
    moments = collection.moments(str(library / "animals.mp4"))
    assert [m.segment for m in moments] == [0, 1]


def test_cli_search_and_summarize(collection, library: Path) -> None:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "sensorium"]
    db = str(collection.folder)
    p = subprocess.run([*cmd, "search", "penguin", "--type", "video", "-k", "1", "--json",
                        "--db", db], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    hit = json.loads(p.stdout)
    assert {"start", "end"} <= set(hit) and hit["end"] > hit["start"]
    p = subprocess.run(
        [*cmd, "summarize", str(library / "hello.mp4")], capture_output=True, text=True
    )
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "not a video" in p.stderr
    p = subprocess.run([*cmd, "summarize", str(library / "mute.mp4"), "--json"],
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["notes"] == ["no audio track"] and len(summary["segments"]) == 2
