"""The engine: settings read at the edge, models loaded once and shared, threads as chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sensorium
from sensorium.encoders.base import Threads, onnx_session
from sensorium.engine import Engine, Settings
from sensorium.errors import UsageError
from sensorium.models import model_path


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENSORIUM_OCR", "SENSORIUM_FACES", "SENSORIUM_THREADS", "SENSORIUM_SPIN"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env() == Settings()  # nothing set: the offline defaults
    monkeypatch.setenv("SENSORIUM_OCR", "1")
    monkeypatch.setenv("SENSORIUM_THREADS", "1")
    monkeypatch.setenv("SENSORIUM_SPIN", "yes")
    s = Settings.from_env()
    assert s.ocr and not s.faces and s.threads == Threads(1, spin=True)
    assert s.space_options().ocr and s.space_options().threads == Threads(1, spin=True)
    assert s.to_json()["threads"] == {"count": 1, "spin": True}
    monkeypatch.setenv("SENSORIUM_THREADS", "lots")  # not a number: the default, not a crash
    assert Settings.from_env().threads.count == 0


def test_models_load_once_and_are_shared() -> None:
    engine = Engine()
    assert engine.recognizer("base") is engine.space.speech  # the space's Whisper is transcribe's
    assert engine.recognizer("tiny.en") is engine.recognizer("tiny.en")
    assert engine.captioner() is None  # no caption model chosen
    with pytest.raises(UsageError, match="unknown speech model"):
        engine.recognizer("enormous")


def test_sessions_take_the_thread_settings() -> None:
    path = model_path("minilm-l6-int8") / "model.onnx"
    opts = onnx_session(path, Threads(1, spin=False)).get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = onnx_session(path, Threads(0, spin=True)).get_session_options()
    with pytest.raises(RuntimeError):  # not set: ONNX Runtime's own default (spinning)
        spinning.get_session_config_entry("session.intra_op.allow_spinning")


def test_one_thread_gives_the_same_answers(photos: dict[str, Path]) -> None:
    """Thread count changes how work is split, not the result (parity, same machine)."""
    labels = ["cat", "coffee", "rocket", "astronaut"]
    files = list(photos.values())
    one = Engine(Settings(threads=Threads(1)))
    plain = sensorium.classify(files, labels, top=4, engine=Engine())
    single = sensorium.classify(files, labels, top=4, engine=one)
    for a, b in zip(plain, single, strict=True):
        assert [lb for lb, _ in a.labels] == [lb for lb, _ in b.labels]
        np.testing.assert_allclose([s for _, s in a.labels], [s for _, s in b.labels], atol=1e-4)


def test_what_modules_keep_is_the_engines() -> None:
    """A module's memory between calls (``ask``'s video analyses, the texts' vectors) is kept
    per engine: another engine, with other models, never answers from it."""
    one, two = Engine(), Engine()
    kept = one.kept("ask.videos", dict)
    assert one.kept("ask.videos", dict) is kept and two.kept("ask.videos", dict) is not kept
    assert one.space.memo() is one.space.memo() and one.space.memo() is not two.space.memo()
    assert one.space.memo(any_language=True) is not one.space.memo()


def test_the_service_uses_its_collections_engine(tmp_path: Path) -> None:
    from sensorium.collection import Collection
    from sensorium.service.state import Service, ServiceConfig

    engine = Engine()
    coll = Collection(tmp_path / "db", engine)
    service = Service(ServiceConfig(coll.folder), coll)
    assert service.engine is engine  # not a second engine with a second set of models
    with pytest.raises(UsageError, match="collection's"):
        Service(ServiceConfig(coll.folder), coll, engine=Engine())
