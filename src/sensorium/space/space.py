"""The shared space: every medium -> a 384-d vector in the text encoder's space.

- text: the text encoder itself;
- image: the ImageNet label bridge, over EfficientNet-Lite0's posteriors (offline) or a hub
  CLIP's zero-shot ones (``SpaceOptions.image_model``);
- audio: the AudioSet label bridge (over YAMNet's scores, or a hub CLAP's zero-shot posteriors:
  ``SpaceOptions.sound_model``), plus the transcript when the clip holds speech, each part
  weighted by its confidence (a part that is missing simply has weight 0).
Models load lazily, once per engine (``sensorium.engine``).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sensorium import config
from sensorium.encoders.base import ALL_CORES, Threads, l2_normalize
from sensorium.encoders.clap import ClapEncoder
from sensorium.encoders.clip import ClipEncoder
from sensorium.encoders.faces import FACE_MODEL, FaceReader, FaceReading
from sensorium.encoders.image import ImageEncoder
from sensorium.encoders.ocr import Reading, TextReader
from sensorium.encoders.sound import SoundEncoder
from sensorium.encoders.speech import SpeechRecognizer, Transcript
from sensorium.encoders.text import TextEncoder
from sensorium.media.types import AudioMedia, ImageMedia, Media, MediaKind, TextMedia
from sensorium.models import model_path
from sensorium.space.adapter import LinearAdapter
from sensorium.space.bridge import BridgeOptions, LabelBridge
from sensorium.space.language import AlignedTextEncoder
from sensorium.space.memo import TextMemo
from sensorium.space.parts import Part, mix
from sensorium.space.prompts import phrase

__all__ = [
    "DIM",
    "LOGIT_SCALE",
    "Embedded",
    "SharedSpace",
    "SpaceOptions",
    "cached_vectors",
    "image_class_prompts",
]

DIM = 384
SPEECH_CLASS = 0  # "Speech" in YAMNet's class map
OFFLINE_IMAGE_MODEL = "efficientnet-lite0"
OFFLINE_SOUND_MODEL = "yamnet"
LOGIT_SCALE = 30.0  # cosine in the shared space -> label logits; calibration only, not ranking


HEARD_FLOOR = 1e-3  # a sound's least weight: its top class may score near 0 (silence)


@dataclass(frozen=True)
class SpaceOptions:
    image_bridge: BridgeOptions = BridgeOptions(top_k=20, temperature=1.0)
    sound_bridge: BridgeOptions = BridgeOptions(top_k=5, temperature=1.0)
    # The image encoder: "efficientnet-lite0" (offline), or an image-text model from a hub
    # ("clip-vit-b32", or a folder saved from a CLIP model): see encoders/clip.py.
    image_model: str = OFFLINE_IMAGE_MODEL
    # Beside YAMNet (which keeps the events over time and the speech gate), an audio-text model
    # from a hub ("clap-htsat-unfused", or a saved folder) can place sounds: encoders/clap.py.
    sound_model: str = OFFLINE_SOUND_MODEL
    speech_model: str = "base"  # whisper model for transcripts inside audio embeddings
    # Text read in images (PP-OCRv4), mixed into their vectors like a clip's transcript. Off by
    # default: it costs 0.1 to 1 s an image against 5 ms for the rest (docs/benchmarks.md).
    ocr: bool = False
    ocr_weight: float = 1.0  # prior weight of the text read against the image bridge
    # Faces and their expressions (BlazeFace + fer's CNN, TFLite), as derived text ("two
    # people, happy and smiling") mixed into the image's vector like the text read in it. Off by
    # default: it needs ai-edge-litert and costs ~6-10 ms an image (benchmarks/faces.py).
    faces: bool = False
    faces_weight: float = 1.0  # prior weight of the faces' text, times the detection score
    face_model: str = FACE_MODEL  # "blazeface-short" (near faces) or "blazeface-full" (far)
    speech_gate: float = 0.3  # transcribe only clips whose YAMNet "Speech" peak is above this
    transcript_weight: float = 2.0  # prior weight of a transcript against the sound bridge
    # Learned adapters that replace a bridge's vectors (shipped ones: ``adapter.bundled``, or
    # ``sensorium train adapter --out``). Off by default: on held-out categories they do not
    # beat the bridges (docs/benchmarks.md); $SENSORIUM_ADAPTERS turns the shipped ones on.
    image_adapter: LinearAdapter | None = None
    sound_adapter: LinearAdapter | None = None
    threads: Threads = ALL_CORES  # every model's threads (Settings.threads)

    def weight(self, part: Part, confidence: float = 1.0) -> float:
        """A part's weight in its item's mix (``parts.mix``), the one rule for images, sounds
        and video segments: its prior (``transcript_weight``, ``ocr_weight``,
        ``faces_weight``; 1 for the rest) times its confidence; what is heard weighs at least
        ``HEARD_FLOOR``, so that a sound's bridge vector always counts."""
        prior = {Part.SAID: self.transcript_weight, Part.WRITTEN: self.ocr_weight,
                 Part.FACES: self.faces_weight}.get(part, 1.0)  # fmt: skip
        weight = prior * confidence
        return max(weight, HEARD_FLOOR) if part is Part.HEARD else weight


def image_class_prompts() -> tuple[list[str], list[str], list[str]]:
    """ImageNet's 1000 class names, their image prompts, and the prompts followed by each
    class's description (from the efficientnet-lite0 card's files)."""
    folder = model_path("efficientnet-lite0")
    clean: list[str] = json.loads((folder / "imagenet1k_clean_names.json").read_text())
    names = _distinct(clean, image_class_aliases())
    about = json.loads((folder / "imagenet1k_gpt_names_descriptions.json").read_text())
    short = phrase(MediaKind.IMAGE, names)
    long = [f"{p} {about.get(str(i), {}).get('description', '')}" for i, p in enumerate(short)]
    return names, short, long


def _distinct(names: list[str], aliases: list[tuple[str, ...]]) -> list[str]:
    """Class names that name one class each: the clean list calls two pairs of classes alike
    ("missile" for "projectile, missile" and "missile"; "sunglasses" twice), so a name shared
    with another class gives way to the class's first WordNet name where that differs."""
    seen = Counter(names)
    return [a[0] if seen[n] > 1 and a and a[0] != n else n for n, a in zip(names, aliases)]


def image_class_aliases() -> list[tuple[str, ...]]:
    """Per ImageNet class, its WordNet synonyms ("tench", "Tinca tinca"): the names other
    lists give it (the first is what ImageNet's folders and most label files call it)."""
    folder = model_path("efficientnet-lite0")
    raw: dict[str, str] = json.loads((folder / "imagenet1k_label_to_names.json").read_text())
    return [tuple(n.strip() for n in raw[str(i)].split(",")) for i in range(len(raw))]


@dataclass
class Embedded:
    """One input placed in the shared space, with the parts that put it there."""

    path: str
    kind: MediaKind
    vector: np.ndarray  # (384,) L2-normalised
    labels: list[tuple[str, float]] = field(default_factory=list)  # classifier's best classes
    transcript: Transcript | None = None
    parts: dict[str, float] = field(default_factory=dict)  # Part -> its weight in the mix
    features: np.ndarray | None = None  # raw encoder output kept for adapters and fusion
    # The parts' vectors (space/parts.py): of an audio clip "heard" (sound bridge) and "said"
    # (its transcript); of an image with derived text, "seen" and "written" or "faces". Search
    # uses them for queries that ask what is heard or said, and to say which part matched.
    part_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    written: str | None = None  # text read in an image (SpaceOptions.ocr)
    faces: FaceReading | None = None  # faces found in an image (SpaceOptions.faces)
    warnings: list[str] = field(default_factory=list)  # a part that failed; the rest is placed
    class_scores: np.ndarray | None = None  # (C,) the offline classifier's whole posterior


def cached_vectors(texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Text embeddings of a fixed prompt list, cached on disk by the prompts' hash."""
    key = hashlib.sha256(("\n".join(texts) + "|minilm-l6-int8").encode()).hexdigest()[:16]
    path = config.home() / "cache" / f"prompts-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


class SharedSpace:
    def __init__(self, options: SpaceOptions | None = None) -> None:
        self.options = options or SpaceOptions()

    @cached_property
    def text(self) -> TextEncoder:
        return TextEncoder(threads=self.options.threads)

    @cached_property
    def any_text(self) -> AlignedTextEncoder:
        """Text in any language -> this space: English through ``text`` (the same vectors),
        others through the multilingual encoder and its alignment (space/language.py)."""
        return AlignedTextEncoder(self.text)

    def memo(self, any_language: bool = False) -> TextMemo:
        """``text`` (or ``any_text``) with the vectors it gave remembered (``space.memo``)."""
        return self._any_memo if any_language else self._memo

    @cached_property
    def _memo(self) -> TextMemo:
        return TextMemo(self.text)

    @cached_property
    def _any_memo(self) -> TextMemo:
        return TextMemo(self.any_text)

    @cached_property
    def image(self) -> ImageEncoder | ClipEncoder:
        if self.options.image_model == OFFLINE_IMAGE_MODEL:
            return ImageEncoder(threads=self.options.threads)
        return ClipEncoder(self.options.image_model, class_prompts=image_class_prompts()[1])

    @cached_property
    def sound(self) -> SoundEncoder:
        return SoundEncoder(threads=self.options.threads)

    @cached_property
    def clap(self) -> ClapEncoder | None:
        """The hub audio-text model placing sounds, or None (YAMNet's scores do)."""
        if self.options.sound_model == OFFLINE_SOUND_MODEL:
            return None
        return ClapEncoder(self.options.sound_model,
                           class_prompts=phrase(MediaKind.AUDIO, self.sound.classes))  # fmt: skip

    def hub_encoder(self, kind: MediaKind) -> ClipEncoder | ClapEncoder | None:
        """The image-text or audio-text model behind ``kind``'s vectors, if a hub one is used."""
        if kind is MediaKind.IMAGE:
            return self.image if isinstance(self.image, ClipEncoder) else None
        return self.clap if kind is MediaKind.AUDIO else None

    @cached_property
    def reader(self) -> TextReader:
        return TextReader(threads=self.options.threads)

    @cached_property
    def face_reader(self) -> FaceReader:
        return FaceReader(self.options.face_model, threads=self.options.threads)

    @cached_property
    def speech(self) -> SpeechRecognizer:
        return SpeechRecognizer(self.options.speech_model, threads=self.options.threads)

    @cached_property
    def image_bridge(self) -> LabelBridge:
        # Fine-grained names ("Egyptian Mau") say little to a sentence encoder; a description
        # names the kind of thing ("a domestic cat ..."). Each class is the mean of both.
        names, short, long = image_class_prompts()
        vectors = l2_normalize(
            cached_vectors(short, self.text.encode) + cached_vectors(long, self.text.encode)
        )
        return LabelBridge(names, vectors, self.options.image_bridge, image_class_aliases())

    @cached_property
    def sound_bridge(self) -> LabelBridge:
        with (model_path("yamnet") / "yamnet_class_map.csv").open(newline="") as f:
            names = [row["display_name"] for row in csv.DictReader(f)]
        vectors = cached_vectors(phrase(MediaKind.AUDIO, names), self.text.encode)
        return LabelBridge(names, vectors, self.options.sound_bridge)

    # -- one method per medium, each batch-first ------------------------------------------

    def embed_texts(self, items: Sequence[TextMedia]) -> list[Embedded]:
        vectors = self.text.encode([m.text for m in items])  # (N, 384)
        text: dict[str, float] = {Part.TEXT: self.options.weight(Part.TEXT)}
        return [Embedded(m.path, m.kind, v, parts=dict(text)) for m, v in zip(items, vectors)]

    def embed_images(self, items: Sequence[ImageMedia]) -> list[Embedded]:
        out = self.image.run(list(items))
        vectors = self.image_bridge.bind(out.probs)  # (N, 1000) -> (N, 384)
        if self.options.image_adapter is not None:
            vectors = self.options.image_adapter.apply(out.features, vectors)
        labels = self.image_bridge.top_labels(out.probs)
        embedded = [
            Embedded(
                m.path,
                m.kind,
                v,
                labels=lab,
                parts={Part.SEEN: self.options.weight(Part.SEEN)},
                features=f,
                class_scores=p,
            )
            for m, v, lab, f, p in zip(items, vectors, labels, out.features, out.probs)
        ]
        if self.options.ocr:
            self.add_written(embedded, self.reader.read(list(items)))
        if self.options.faces:
            self.add_faces(embedded, self.face_reader.read(list(items)))
        return embedded

    def _add_text_part(self, embedded: Sequence[Embedded], texts: Sequence[str],
                       part: Part, weights: Sequence[float]) -> None:  # fmt: skip
        """Mix a derived text (``texts[i]``, "" for none) into each image's vector as ``part``,
        weighted by ``weights[i]`` (in place; an image without it keeps its vector exactly)."""
        found = [(e, t, w) for e, t, w in zip(embedded, texts, weights) if t]
        if not found:
            return
        vectors = self.text.encode([t for _, t, _ in found])  # (n, 384)
        for (e, _, weight), v in zip(found, vectors):
            e.part_vectors.setdefault(Part.SEEN, e.vector)
            e.part_vectors[part] = v
            e.parts[part] = weight
            e.vector = mix(e.parts, e.part_vectors)

    def add_written(self, embedded: Sequence[Embedded], readings: Sequence[Reading]) -> None:
        """Mix the text read in each image into its vector, weighted by the reader's confidence
        (in place; an image with no text keeps its bridge vector exactly)."""
        for e, r in zip(embedded, readings):
            if r.error:
                e.warnings.append(r.error)
            if r.text:
                e.written = r.text
        weights = [self.options.weight(Part.WRITTEN, r.confidence) for r in readings]
        self._add_text_part(embedded, [r.text for r in readings], Part.WRITTEN, weights)

    def add_faces(self, embedded: Sequence[Embedded], readings: Sequence[FaceReading]) -> None:
        """Mix the faces found in each image, as words ("two people, happy and smiling"), into
        its vector, weighted by the detector's confidence (in place; an image with no face keeps
        its vector exactly)."""
        for e, r in zip(embedded, readings):
            e.faces = r
            if r.error:
                e.warnings.append(r.error)
        texts = [r.text if r.faces else "" for r in readings]
        weights = [self.options.weight(Part.FACES, r.confidence) for r in readings]
        self._add_text_part(embedded, texts, Part.FACES, weights)

    def embed_audio(self, items: Sequence[AudioMedia]) -> list[Embedded]:
        out = self.sound.run(list(items))  # YAMNet: events over time, and the speech gate
        scores, features = out.scores, out.scores  # (N, 521) each
        if self.clap is not None:  # CLAP's zero-shot posterior over the same classes instead
            hub = self.clap.run(list(items))
            scores, features = hub.probs, hub.features  # (N, 521), (N, 512)
        bridge = self.sound_bridge.bind(scores)  # (N, 384)
        if self.options.sound_adapter is not None:
            bridge = self.options.sound_adapter.apply(features, bridge)
        labels = self.sound_bridge.top_labels(scores)
        results = []
        for m, v, lab, patches, feats in zip(items, bridge, labels, out.patch_scores, features):
            speech_peak = float(patches[:, SPEECH_CLASS].max())
            transcript = None
            parts: dict[str, float] = {Part.HEARD: self.options.weight(Part.HEARD, lab[0][1])}
            part_vectors: dict[str, np.ndarray] = {Part.HEARD: v}
            if speech_peak >= self.options.speech_gate:
                transcript = self.speech.transcribe(m)
                if transcript.text:
                    parts[Part.SAID] = self.options.weight(Part.SAID, transcript.confidence)
                    # Whisper's language picks the path: what was said in German is
                    # embedded as German, English exactly as before
                    said = self.any_text.encode([transcript.text], [transcript.language])
                    part_vectors[Part.SAID] = said[0]
            results.append(Embedded(m.path, m.kind, mix(parts, part_vectors), lab, transcript,
                                    parts, feats, part_vectors))  # fmt: skip
        return results

    def embed(self, items: Sequence[Media]) -> list[Embedded]:
        """Any mix of media -> one Embedded each, in input order (batched per medium)."""
        groups: dict[type, list[int]] = {}
        for i, m in enumerate(items):
            groups.setdefault(type(m), []).append(i)
        out: list[Embedded | None] = [None] * len(items)
        for kind, idx in groups.items():
            embedded = self._by_type[kind](self, [items[i] for i in idx])
            for i, e in zip(idx, embedded):
                out[i] = e
        return [e for e in out if e is not None]

    _by_type: dict[type, Callable[[SharedSpace, list], list[Embedded]]] = {  # type: ignore[type-arg]
        TextMedia: embed_texts,
        ImageMedia: embed_images,
        AudioMedia: embed_audio,
    }

    def embed_labels(self, kind: MediaKind, labels: list[str]) -> np.ndarray:
        """(L,) labels -> (L, 384), phrased for the medium they will be compared with."""
        return self.text.encode(phrase(kind, labels))

    def label_logits(self, items: Sequence[Embedded], labels: list[str]) -> np.ndarray:
        """(N,) embedded inputs x (L,) labels -> (N, L) logits, best label highest.

        In the shared space: ``LOGIT_SCALE`` x cosine against the labels phrased per medium.
        An input placed by a hub image-text or audio-text model (and holding no speech) is
        scored in that model's own space, with its own learned scale: the label bridge would
        only lose what the model knows."""
        out = np.zeros((len(items), len(labels)), np.float32)
        for kind in {e.kind for e in items}:
            rows = [i for i, e in enumerate(items) if e.kind is kind]
            hub = self.hub_encoder(kind)
            direct = [i for i in rows if hub is not None and "said" not in items[i].part_vectors]
            shared = sorted(set(rows) - set(direct))
            if hub is not None and direct:
                feats = np.stack([items[i].features for i in direct])  # type: ignore[misc]
                out[direct] = hub.logit_scale * feats @ hub.encode_texts(phrase(kind, labels)).T
            if shared:
                vectors = np.stack([items[i].vector for i in shared])  # (n, 384)
                out[shared] = LOGIT_SCALE * vectors @ self.embed_labels(kind, labels).T
        return out
