"""The engine: what a process configured, and the models it loaded, in one object passed down.

The environment is read once, at an edge (the CLI, the service, a notebook calling
``default_engine()``), into ``Settings``; everything below takes an ``Engine`` and never reads
the environment itself. Each model loads at most once per engine, on first use, and is shared:
the Whisper that places a clip's speech in the space is the one ``transcribe`` uses, and the
OCR reader that mixes written text into images is the one ``read`` uses.

    engine = Engine(Settings(ocr=True, threads=1))
    sensorium.classify(["cat.jpg"], ["cat", "dog"], engine=engine)
    photos = sensorium.open("my.db", engine=engine)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property
from typing import Any, TypeVar, cast

from sensorium import config
from sensorium.encoders.base import Threads, limit_blas
from sensorium.encoders.caption import Captioner
from sensorium.encoders.ocr import TextReader
from sensorium.encoders.speech import WHISPER_MODELS, SpeechRecognizer
from sensorium.errors import UsageError
from sensorium.space.adapter import bundled
from sensorium.space.space import (
    OFFLINE_IMAGE_MODEL,
    OFFLINE_SOUND_MODEL,
    SharedSpace,
    SpaceOptions,
)

__all__ = ["Engine", "Settings", "default_engine"]

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """What a user can choose, with the defaults of a fresh install (every model offline)."""

    image_model: str = OFFLINE_IMAGE_MODEL  # or a hub CLIP card ("clip-vit-b32") or folder
    sound_model: str = OFFLINE_SOUND_MODEL  # or a hub CLAP card ("clap-htsat-unfused") or folder
    caption_model: str | None = None  # a BLIP card or folder for ``describe``; None: no caption
    ocr: bool = False  # read the text in images and mix it into their vectors
    faces: bool = False  # find faces and expressions and mix them into images' vectors
    adapters: tuple[str, ...] = ()  # modalities whose shipped learned adapter replaces a bridge
    threads: Threads = field(default_factory=Threads)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings named by ``$SENSORIUM_*`` (config.py documents each variable)."""
        return cls(image_model=config.image_model() or OFFLINE_IMAGE_MODEL,
                   sound_model=config.sound_model() or OFFLINE_SOUND_MODEL,
                   caption_model=config.caption_model(), ocr=config.ocr(),
                   faces=config.faces(), adapters=config.adapters(),
                   threads=Threads(config.threads(), config.spin()))  # fmt: skip

    def sharing(self, calls: int) -> Settings:
        """These settings for ``calls`` model calls at once (the service's ``model_calls``):
        where no thread count was chosen, each model's kernels get a share of the cores, not
        one thread per core each. With a thread per core, two concurrent searches' encoders
        and BLAS fought for the cores: 13 new-text searches a second at 80 ms of CPU each,
        against 48 at 18 ms with one thread each (2 shared cores, 100k items)."""
        if self.threads.count > 0:
            return self
        share = max(1, (os.cpu_count() or 1) // max(1, calls))
        return replace(self, threads=Threads(share, self.threads.spin))

    def space_options(self) -> SpaceOptions:
        chosen = {m: bundled(m) for m in self.adapters}
        return SpaceOptions(image_model=self.image_model, sound_model=self.sound_model,
                            ocr=self.ocr, faces=self.faces, threads=self.threads,
                            image_adapter=chosen.get("image"),
                            sound_adapter=chosen.get("sound"))  # fmt: skip

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["adapters"] = list(self.adapters)
        out["threads"] = {"count": self.threads.count, "spin": self.threads.spin}
        return out


class Engine:
    """The models of one configuration, loaded lazily and shared by every command. Making one
    sets numpy's BLAS threads for the process to ``settings.threads`` (``limit_blas``).

    ``space``: a space built by hand (an experiment, a test with a hub model) to use instead of
    the one ``settings`` describes."""

    def __init__(self, settings: Settings | None = None, space: SharedSpace | None = None) -> None:
        self.settings = settings or Settings()
        limit_blas(self.settings.threads)
        self._space = space
        self._lock = threading.Lock()  # two service threads must not load one model twice
        self._recognizers: dict[str, SpeechRecognizer] = {}
        self._captioners: dict[str, Captioner] = {}
        self._kept: dict[str, Any] = {}

    @cached_property
    def space(self) -> SharedSpace:
        return self._space or SharedSpace(self.settings.space_options())

    @property
    def reader(self) -> TextReader:
        """The OCR reader, the same one the space mixes written text with."""
        with self._lock:
            return self.space.reader

    def recognizer(self, model: str = "base") -> SpeechRecognizer:
        """The Whisper model ``model`` ("tiny.en", "base", ...), loaded once; the space's own
        when it is the one the space transcribes clips with."""
        if model not in WHISPER_MODELS:
            raise UsageError(f"unknown speech model {model!r}; one of {', '.join(WHISPER_MODELS)}")
        with self._lock:
            if model == self.space.options.speech_model:
                return self.space.speech
            if model not in self._recognizers:
                self._recognizers[model] = SpeechRecognizer(model, threads=self.settings.threads)
            return self._recognizers[model]

    def kept(self, name: str, make: Callable[[], T]) -> T:
        """What a module keeps between calls, for this engine's models only (``ask``'s video
        analyses): made once by ``make`` under ``name``, and gone with the engine."""
        with self._lock:
            if name not in self._kept:
                self._kept[name] = make()
            return cast(T, self._kept[name])

    def captioner(self, name: str | None = None) -> Captioner | None:
        """The captioning model ``name`` (default: the settings'), or None when there is none."""
        name = name or self.settings.caption_model
        if not name:
            return None
        with self._lock:
            if name not in self._captioners:
                self._captioners[name] = Captioner(name)
            return self._captioners[name]


@cache
def default_engine() -> Engine:
    """The engine of the settings in the environment, one per process: what the functions of
    ``sensorium`` use when they are given none."""
    return Engine(Settings.from_env())
