"""Questions about one file, answered only from what the engine perceives in it.

The question's kind is recognised in the text encoder's space: each kind has a handful of
example questions, and the question takes the kind of its nearest example (below
``MIN_KIND`` it is not understood). Some kinds exist only to be refused (who someone is,
where or when a photo was taken): nothing the engine perceives answers them. Each kind has one
answering function that perceives only what it needs (text is read only for reading
questions, faces found only for questions about people) and returns the answer, a confidence
and its evidence, each piece naming the modality it came from. When the evidence is missing
the answer is "I can't tell".
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sensorium import media
from sensorium.encoders.faces import FaceReading
from sensorium.errors import MediaError
from sensorium.media.types import AudioMedia, ImageMedia
from sensorium.perceive.inputs import is_video
from sensorium.space import SharedSpace, default_space
from sensorium.space.space import Embedded

__all__ = ["Answer", "ask", "question_kind"]

CANT_TELL = "I can't tell"
MIN_KIND = 0.45  # cosine to the nearest example question below which a question is not understood
MIN_PRESENT = 0.5  # cosine between a thing asked about and a label that counts as seeing it

# Example questions per kind (the kind is recognised by embedding similarity to these).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "shown": ("what is this?", "what is in the picture?", "what object is shown?",
              "what does the image show?", "what animal is this?", "what kind of thing is it?"),
    "present": ("is there a dog?", "is there a car in the picture?", "does it show a cat?",
                "can you see a tree?", "is this a photo of a horse?", "is a person in it?",
                "is there an apple?", "is there a bird?", "is there a chair?"),
    "written": ("what does the sign say?", "what is written here?", "what text is shown?",
                "read the words in the picture", "what does the label read?"),
    "count": ("how many people are there?", "how many faces are in the photo?",
              "how many persons can you see?", "is anyone in the picture?"),
    "mood": ("is the person smiling?", "how do they feel?", "are the people happy?",
             "what is her facial expression?", "does he look angry or sad?"),
    "colour": ("what colour is it?", "what is the main color?", "what colours are in the image?",
               "which colour dominates?"),
    "said": ("what is said?", "what does the speaker say?", "what are the words spoken?",
             "transcribe the speech", "what did they say in the recording?"),
    "heard": ("what is that sound?", "what can be heard?", "what noise is this?",
              "what animal is making the sound?"),
    # Kinds that nothing perceived answers: refused, with the reason.
    "identity": ("what is the person's name?", "who is this?", "who is in the picture?",
                 "what is his name?", "who is speaking?"),
    "age": ("how old is she?", "what age is the person?"),
    "place_time": ("where was this taken?", "when was this photo taken?", "what city is this?",
                   "what year is it?"),
    "intent": ("why is he doing this?", "what will happen next?", "what is she thinking?"),
}  # fmt: skip
REFUSED = {
    "identity": "who someone is is not perceived (no face recognition)",
    "age": "age is not estimated",
    "place_time": "where or when it was made is not perceived",
    "intent": "thoughts and intentions are not perceived",
}


@dataclass(frozen=True)
class Answer:
    """An answer with its evidence; ``answer`` is "I can't tell" when nothing perceived
    answers the question (``confidence`` 0)."""

    path: str
    question: str
    kind: str  # the recognised kind of question ("unknown" when none is near)
    answer: str
    confidence: float  # 0-1: the kind's similarity times the evidence's own confidence
    evidence: list[dict[str, Any]] = field(default_factory=list)  # {"from", "what", "score"}
    error: str | None = None

    @property
    def answered(self) -> bool:
        return self.answer != CANT_TELL

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"path": self.path, "question": self.question, "error": self.error}
        return {"path": self.path, "question": self.question, "kind": self.kind,
                "answer": self.answer, "confidence": round(self.confidence, 4),
                "evidence": self.evidence}  # fmt: skip


@cache
def _kind_vectors(space: SharedSpace) -> tuple[list[str], np.ndarray]:
    kinds = [k for k, qs in EXAMPLES.items() for _ in qs]
    return kinds, space.text.encode([q for qs in EXAMPLES.values() for q in qs])  # (E, 384)


def question_kind(question: str, space: SharedSpace | None = None) -> tuple[str, float]:
    """The question's kind and its cosine to the nearest example ("unknown" below MIN_KIND)."""
    space = space or default_space()
    kinds, vectors = _kind_vectors(space)
    sims = vectors @ space.text.encode([question])[0]
    best = int(np.argmax(sims))
    return (kinds[best] if sims[best] >= MIN_KIND else "unknown"), float(sims[best])


# -- what is perceived --------------------------------------------------------------------

_PALETTE = ("red", "orange", "yellow", "green", "blue", "purple", "pink")
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (170, "green"), (255, "blue"),
         (290, "purple"), (335, "pink"), (360, "red"))  # fmt: skip


def colour_name(rgb: tuple[int, int, int]) -> str:
    """An sRGB colour -> a basic colour word (hue for saturated colours; black, white, grey,
    brown by value and saturation)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    if v < 0.18:
        return "black"
    if s < 0.18:
        return "white" if v > 0.85 else "grey"
    hue = h * 360
    if 15 <= hue < 45 and v < 0.65:
        return "brown"
    return next(name for top, name in _HUES if hue < top)


def dominant_colours(image: Image.Image, n: int = 3) -> list[tuple[str, float]]:
    """The image's main colours by share of pixels, named; a uniform border (the white a
    cut-out is composited on, a scanned page) is left out as background."""
    small = np.asarray(image.convert("RGB").resize((64, 64)), np.int32)  # (64, 64, 3)
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])  # (256, 3)
    values, counts = np.unique(border // 16, axis=0, return_counts=True)
    pixels = small.reshape(-1, 3)
    if counts.max() > 0.6 * len(border):  # one border colour: background
        pixels = pixels[np.any(pixels // 16 != values[np.argmax(counts)], axis=1)]
    if not len(pixels):
        pixels = small.reshape(-1, 3)
    shares: dict[str, float] = {}
    for p in pixels:
        name = colour_name((int(p[0]), int(p[1]), int(p[2])))
        shares[name] = shares.get(name, 0.0) + 1 / len(pixels)
    return sorted(shares.items(), key=lambda kv: -kv[1])[:n]


@dataclass
class _Seen:
    """What is perceived of one file, filled lazily by what a question needs."""

    space: SharedSpace
    item: ImageMedia | AudioMedia
    _embedded: Embedded | None = None
    _faces: FaceReading | None = None

    @property
    def embedded(self) -> Embedded:
        if self._embedded is None:
            self._embedded = self.space.embed([self.item])[0]
        return self._embedded

    @property
    def faces(self) -> FaceReading:
        if self._faces is None:
            e = self.embedded
            self._faces = e.faces or self.space.face_reader.read([self.item])[0]  # type: ignore[list-item]
        return self._faces

    @property
    def image(self) -> bool:
        return isinstance(self.item, ImageMedia)


Reply = tuple[str, float, list[dict[str, Any]]]  # answer, evidence confidence, evidence


def _labels(seen: _Seen) -> list[tuple[str, float]]:
    return seen.embedded.labels[:3]


def _shown(seen: _Seen, _: str) -> Reply:
    labels = _labels(seen)
    if not labels:
        return CANT_TELL, 0.0, []
    source = "image" if seen.image else "sound"
    ev = [{"from": source, "what": lb, "score": round(s, 4)} for lb, s in labels]
    return labels[0][0], float(labels[0][1]), ev


def _thing(question: str) -> str:
    """The thing asked about in "is there a dog?" ("dog"): the words after the verb phrase."""
    q = re.sub(r"[?.!]", "", question.lower()).strip()
    q = re.sub(
        r"^(is|are|does|do|can you see|can i see|is this|is it)\s+(there\s+)?"
        r"(it\s+|this\s+|the\s+(image|picture|photo)\s+)?(show\s+|contain\s+)?",
        "",
        q,
    )
    q = re.sub(r"\b(in|on)\s+(it|the|this)\b.*$", "", q)
    q = re.sub(r"^(a|an|the|any|some|a photo of a|a picture of a)\s+", "", q.strip())
    return q.strip()


def _present(seen: _Seen, question: str) -> Reply:
    thing = _thing(question)
    if not thing:
        return CANT_TELL, 0.0, []
    space = seen.space
    want = space.text.encode([thing])[0]
    labels = seen.embedded.labels[:5]
    names = [lb for lb, _ in labels]
    sims = space.text.encode(names) @ want if names else np.zeros(0)
    ev: list[dict[str, Any]] = []
    if len(sims) and sims.max() >= MIN_PRESENT:
        j = int(np.argmax(sims))
        ev.append({"from": "image" if seen.image else "sound", "what": names[j],
                   "score": round(float(labels[j][1]), 4)})  # fmt: skip
        return f"yes: {names[j]}", float(sims[j]), ev
    if seen.image and space.text.encode(["a person"])[0] @ want >= 0.6:
        faces = seen.faces.faces
        if faces:
            return (
                "yes: " + seen.faces.text,
                seen.faces.confidence,
                [
                    {
                        "from": "faces",
                        "what": seen.faces.text,
                        "score": round(seen.faces.confidence, 4),
                    }
                ],
            )
    top = labels[0] if labels else ("nothing", 0.0)
    ev = [{"from": "image" if seen.image else "sound", "what": top[0], "score": round(top[1], 4)}]
    return f"no: it looks like {top[0]}", float(1 - sims.max()) if len(sims) else 0.5, ev


def _written(seen: _Seen, _: str) -> Reply:
    if not seen.image:
        return CANT_TELL, 0.0, []
    e = seen.embedded
    text, conf = e.written, e.parts.get("written", 0.0)
    if text is None:
        r = seen.space.reader.read([seen.item])[0]  # type: ignore[list-item]
        text, conf = r.text, r.confidence
    if not text:
        return CANT_TELL, 0.0, [{"from": "ocr", "what": "no text found", "score": 0.0}]
    words = " ".join(text.split())
    return words, float(conf), [{"from": "ocr", "what": words, "score": round(float(conf), 4)}]


def _count(seen: _Seen, _: str) -> Reply:
    if not seen.image:
        return CANT_TELL, 0.0, []
    r = seen.faces
    if r.error:
        return CANT_TELL, 0.0, [{"from": "faces", "what": r.error, "score": 0.0}]
    ev = [{"from": "faces", "what": f"face at {[round(v) for v in f.box]}",
           "score": round(f.score, 4)} for f in r.faces]  # fmt: skip
    n = len(r.faces)
    answer = "no one: no face found" if n == 0 else f"{n} ({r.text})"
    return answer, r.confidence if n else 0.6, ev


def _mood(seen: _Seen, _: str) -> Reply:
    if not seen.image:
        return CANT_TELL, 0.0, []
    r = seen.faces
    if not r.faces:
        return CANT_TELL, 0.0, [{"from": "faces", "what": "no face found", "score": 0.0}]
    ev = [{"from": "faces", "what": f.expression, "score": round(f.expression_score, 4)}
          for f in r.faces]  # fmt: skip
    conf = float(np.mean([f.expression_score * f.score for f in r.faces]))
    return r.text, conf, ev


def _colour(seen: _Seen, _: str) -> Reply:
    if not isinstance(seen.item, ImageMedia):
        return CANT_TELL, 0.0, []
    colours = dominant_colours(seen.item.image)
    ev = [{"from": "pixels", "what": name, "score": round(share, 4)} for name, share in colours]
    main = [name for name, share in colours if share >= 0.2] or [colours[0][0]]
    return " and ".join(main), float(sum(s for n, s in colours if n in main)), ev


def _said(seen: _Seen, _: str) -> Reply:
    t = seen.embedded.transcript
    if seen.image or t is None or not t.text:
        return CANT_TELL, 0.0, [{"from": "speech", "what": "no speech heard", "score": 0.0}]
    return t.text, float(t.confidence), [{"from": "speech", "what": t.text,
                                          "score": round(float(t.confidence), 4)}]  # fmt: skip


def _heard(seen: _Seen, question: str) -> Reply:
    return _shown(seen, question) if not seen.image else (CANT_TELL, 0.0, [])


ANSWERERS: dict[str, Callable[[_Seen, str], Reply]] = {
    "shown": _shown, "present": _present, "written": _written, "count": _count,
    "mood": _mood, "colour": _colour, "said": _said, "heard": _heard,
}  # fmt: skip


def ask(path: str | Path, question: str, space: SharedSpace | None = None) -> Answer:
    """Answer ``question`` about the image or audio file at ``path`` from what is perceived in
    it, with the evidence and a confidence; "I can't tell" when nothing perceived answers it."""
    space = space or default_space()
    kind, sim = question_kind(question, space)
    p = str(path)
    if is_video(Path(p)):
        return Answer(p, question, kind, CANT_TELL, 0.0, error="a video: not answered yet")
    try:
        item = media.load(p, image_side=None)
    except MediaError as e:
        return Answer(p, question, kind, CANT_TELL, 0.0, error=str(e))
    if not isinstance(item, ImageMedia | AudioMedia):
        return Answer(p, question, kind, CANT_TELL, 0.0, error="a text file: nothing to perceive")
    if kind not in ANSWERERS:
        why = REFUSED.get(kind, "the question is not one this engine understands")
        return Answer(p, question, kind, CANT_TELL, 0.0, [{"from": "question", "what": why,
                                                            "score": round(sim, 4)}])  # fmt: skip
    answer, conf, evidence = ANSWERERS[kind](_Seen(space, item), question)
    if answer == CANT_TELL:
        conf = 0.0
    return Answer(p, question, kind, answer, min(1.0, sim * conf), evidence)
