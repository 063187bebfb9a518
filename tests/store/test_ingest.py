"""Ingest on real media: incremental, failures recorded, sync, and crash safety (kill -9)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sensorium
from sensorium import media
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.store import LanceStore


def test_incremental_ingest(media_dir: Path, tmp_path: Path) -> None:
    coll = sensorium.open(tmp_path / "db")
    first = coll.ingest([media_dir])
    assert (first.added, first.unchanged, len(first.failed)) == (7, 0, 1)
    assert first.failed[0][0].endswith("broken.png")
    stats = coll.stats()
    assert stats["items"] == 7 and stats["failed"] == 1
    assert stats["by_type"] == {"image": 4, "audio": 2, "text": 1}

    again = coll.ingest([media_dir])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)

    (media_dir / "note.txt").write_text("Holiday plans for the summer.")  # changed content
    os.utime(media_dir / "coffee.jpg")  # touched, same content
    (media_dir / "broken.png").unlink()
    shutil.copy(media_dir / "coffee.jpg", media_dir / "coffee2.jpg")
    third = coll.ingest([media_dir], sync=True)
    assert (third.added, third.updated, third.unchanged, third.removed) == (1, 1, 6, 1)
    assert coll.stats()["items"] == 8 and coll.stats()["failed"] == 0
    note = coll.show(str(media_dir / "note.txt"))
    assert note is not None and note.text.startswith("Holiday")


def test_changing_the_models_encodes_again_only_what_they_embed(
    media_dir: Path, tmp_path: Path
) -> None:
    """Turning the shipped image adapter on re-encodes the photos (once) and nothing else;
    their stored vectors are then the adapter's."""
    from sensorium.collection import Collection
    from sensorium.engine import Engine
    from sensorium.space import SharedSpace, SpaceOptions
    from sensorium.space.adapter import ADAPTER_CARDS, bundled

    (media_dir / "broken.png").unlink()
    Collection(tmp_path / "db").ingest([media_dir])
    adapted = Collection(tmp_path / "db", Engine(space=SharedSpace(SpaceOptions(
        image_adapter=bundled("image")))))
    report = adapted.ingest([media_dir])
    assert (report.added, report.updated, report.unchanged) == (0, 4, 3)
    assert (adapted.ingest([media_dir]).updated, adapted.ingest([media_dir]).unchanged) == (0, 7)
    photo = adapted.show(str(media_dir / "coffee.jpg"))
    assert photo is not None and photo.models["image_adapter"] == ADAPTER_CARDS["image"]
    fresh = adapted.space.embed([media.load(media_dir / "coffee.jpg")])[0].vector
    np.testing.assert_allclose(photo.vector, fresh, atol=1e-5)


def test_text_read_in_images_is_stored_and_found(media_dir: Path, tmp_path: Path) -> None:
    """With OCR on, a road sign is stored with what it says, and a search for those words
    finds it first and says so; photos with no writing keep no text."""
    pytest.importorskip("rapidocr_onnxruntime")
    from sensorium.collection import Collection
    from sensorium.engine import Engine, Settings
    from sensorium.eval.datasets import TUXPAINT

    (media_dir / "broken.png").unlink()
    shutil.copy(TUXPAINT / "town/roadsigns/hospital.png", media_dir / "sign.png")
    coll = Collection(tmp_path / "db", Engine(Settings(ocr=True)))
    coll.ingest([media_dir])
    sign, cat = coll.show(str(media_dir / "sign.png")), coll.show(str(media_dir / "chelsea.jpg"))
    assert sign is not None and sign.text == "HOSPITAL" and sign.models["ocr"] == "ppocr-v4"
    assert cat is not None and not cat.text
    best = coll.search("hospital")[0]
    assert best.item.path.endswith("sign.png") and best.explanation.written == "HOSPITAL"


def test_text_that_cannot_be_read_is_a_warning_not_a_loss(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    from sensorium.collection import Collection
    from sensorium.engine import Engine
    from sensorium.space import SharedSpace, SpaceOptions

    (media_dir / "broken.png").unlink()
    space = SharedSpace(SpaceOptions(ocr=True))

    def broken(image: np.ndarray) -> None:
        raise RuntimeError("engine fault")

    monkeypatch.setattr(space.reader, "engine", broken)
    report = Collection(tmp_path / "db", Engine(space=space)).ingest([media_dir])
    assert report.added == 7 and not report.failed  # every file stored
    assert sorted(Path(p).name for p, _ in report.warnings) == [
        "astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]  # fmt: skip
    assert all("engine fault" in w for _, w in report.warnings)


def test_items_keep_what_explanations_need(media_dir: Path, tmp_path: Path) -> None:
    coll = sensorium.open(tmp_path / "db")
    coll.ingest([media_dir])
    speech = coll.show(str(media_dir / "sub" / "hello.wav"))
    assert speech is not None and speech.kind == "audio" and abs(speech.duration - 1.4) < 0.05
    assert "hello" in speech.transcript.lower() and speech.segments[0]["end"] > 1.0
    photo = coll.show(str(media_dir / "chelsea.jpg"))
    assert photo is not None and (photo.width, photo.height) == (451, 300)
    assert photo.features is not None and photo.features.shape == (1280,)
    assert np.isclose(np.linalg.norm(photo.vector), 1, atol=1e-4)
    assert coll.show(photo.id) is not None


def _stamp_folder(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "stamps"
    folder.mkdir()
    for s in tuxpaint_stamps()[:n]:
        shutil.copy(s.image, folder / (s.name.replace("/", "__") + ".png"))
    return folder


def _snapshot(db: Path) -> dict[str, tuple[str, bytes]]:
    rows = LanceStore(db).items.to_arrow().to_pylist()
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), "an item was doubled"
    return {r["path"]: (r["sha256"], np.round(np.asarray(r["vector"]), 5).tobytes()) for r in rows}


def _kill_midway(cmd: list[str], db: Path, rows: range) -> LanceStore:
    """Run ``cmd --db db`` and SIGKILL it once the store holds a number of rows in ``rows``."""
    proc = subprocess.Popen([*cmd, "--db", str(db)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (db / "items.lance").exists() and LanceStore(db).count() in rows:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return LanceStore(db)


def test_killed_ingest_resumes_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    folder = _stamp_folder(tmp_path, 48)
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--batch-size", "6"]
    killed_db, clean_db = tmp_path / "killed", tmp_path / "clean"
    partial = _kill_midway(cmd, killed_db, range(6, 36))
    assert 0 < partial.count() < 48
    assert all(len(v) == 384 for v in partial.items.to_arrow().column("vector").to_pylist())

    resumed = subprocess.run([*cmd, "--db", str(killed_db)], capture_output=True, text=True)
    clean = subprocess.run([*cmd, "--db", str(clean_db)], capture_output=True, text=True)
    assert resumed.returncode == clean.returncode == 0, resumed.stderr + clean.stderr
    assert "unchanged" in resumed.stdout
    assert _snapshot(killed_db) == _snapshot(clean_db)


def test_killed_video_ingest_resumes_with_every_moment_once(tmp_path: Path, shots) -> None:  # type: ignore[no-untyped-def]
    """Videos are committed whole (all their moments in one commit), so a kill between two
    videos leaves whole videos only, and the next run adds exactly the missing ones."""
    from sensorium.eval.videos import write_video

    folder = tmp_path / "videos"
    for i in range(4):
        write_video(folder / f"v{i}.mp4", shots[i % 3 :] + shots[: i % 3], audio="none")
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--batch-size", "1"]
    killed_db, clean_db = tmp_path / "killed", tmp_path / "clean"
    partial = _kill_midway(cmd, killed_db, range(3, 12))
    assert partial.count() in (3, 6, 9)  # whole videos of three moments each
    resumed = subprocess.run([*cmd, "--db", str(killed_db)], capture_output=True, text=True)
    clean = subprocess.run([*cmd, "--db", str(clean_db)], capture_output=True, text=True)
    assert resumed.returncode == clean.returncode == 0, resumed.stderr + clean.stderr

    def moments(db: Path) -> list[tuple[str, int, float, float]]:
        rows = (
            LanceStore(db).items.to_arrow().select(["path", "segment", "start", "end"]).to_pylist()
        )
        return sorted((Path(r["path"]).name, r["segment"], r["start"], r["end"]) for r in rows)

    assert moments(killed_db) == moments(clean_db) and len(moments(clean_db)) == 12
