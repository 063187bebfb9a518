"""Questions about one file, answered only from what the engine perceives in it.

The question's kind is recognised in the text encoder's space: each kind has a handful of
example questions, and the question takes the kind of its nearest example (below
``MIN_KIND`` it is not understood). Some kinds exist only to be refused (who someone is,
where or when a photo was taken): nothing the engine perceives answers them. Each kind has one
answering function that perceives only what it needs (text is read only for reading
questions, faces found only for questions about people) and returns the answer, a confidence
and its evidence, each piece naming the modality it came from. When the evidence is missing
the answer is "I can't tell".

A video is analysed once (``sensorium.video.analyze``: segments with what is seen, heard,
said, read and the faces in their frames; text and faces only for the questions that need
them) and asked the same questions per segment: each piece of evidence then carries the
segment's ``start`` and ``end`` in seconds, and "when does X happen?" names the segments where
X is seen, heard, said or read. Analyses are kept for the last few videos asked about, so
several questions about one video analyse it once.
"""

from __future__ import annotations

import colorsys
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sensorium import media
from sensorium.encoders.faces import FaceReading
from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import AudioMedia, ImageMedia
from sensorium.media.video import probe
from sensorium.perceive.inputs import is_video
from sensorium.space import SharedSpace
from sensorium.space.space import Embedded
from sensorium.video import VideoAnalysis, VideoSegment, analyze
from sensorium.video.summary import named_sounds

__all__ = ["Answer", "ask", "question_kind"]

CANT_TELL = "I can't tell"
MIN_KIND = 0.45  # cosine to the nearest example question below which a question is not understood
MIN_PRESENT = 0.5  # cosine between a thing asked about and a label that counts as seeing it
MATCH_MARGIN = 0.2  # a video's segments match a thing within this cosine of the best match
MAX_SPANS = 4  # a video's answer names at most this many time spans ("and N more")
MAX_EVIDENCE = 12  # pieces of evidence given for a video, the best first
MAX_SAID = 600  # characters of a video's transcript given as an answer
KEPT_ANALYSES = 4  # videos whose analysis is kept for the next question

# Example questions per kind (the kind is recognised by embedding similarity to these).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "shown": ("what is this?", "what is in the picture?", "what object is shown?",
              "what does the image show?", "what animal is this?", "what kind of thing is it?",
              "what happens in the video?", "what is shown in the video?"),
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
    "when": ("when does the dog appear?", "at what time is the cat shown?",
             "when is the word hello said?", "when can you hear music?",
             "at which moment does the car show up?", "when does she say goodbye?",
             "when is the sign shown?"),
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
    # {"from", "what", "score"}, and for a video the segment's "start" and "end" (seconds)
    evidence: list[dict[str, Any]] = field(default_factory=list)
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


# Words a question is framed with; any other word is what it asks about ("ram" in "is there a
# ram?"), which can pull a question away from its kind when the encoder knows it little. The
# frame: these, and the examples' words but for the things they ask about.
_FUNCTION = frozenset(
    {"a", "an", "the", "is", "are", "was", "were", "be", "there", "this", "that", "these",
     "those", "it", "its", "in", "on", "of", "at", "to", "for", "with", "by", "from", "and",
     "or", "what", "which", "who", "whose", "when", "where", "why", "how", "does", "do", "did",
     "can", "could", "will", "would", "any", "some", "word", "you", "they", "he", "she", "s",
     "second", "minute", "moment", "time", "point"}
)  # fmt: skip
THING_KINDS = frozenset({"present", "when"})  # kinds that the frame of a question may decide
_THINGS = frozenset(
    {"dog", "car", "cat", "tree", "horse", "apple", "bird", "chair", "hello", "music", "goodbye"}
)  # fmt: skip
_FRAME = (
    _FUNCTION | {w for qs in EXAMPLES.values() for q in qs for w in re.findall(r"[a-z]+", q)}
) - _THINGS


def _frame(question: str) -> str | None:
    """The question with what it asks about said as "something" ("is there a something?"),
    when that is one run of words outside ``_FRAME``; else None."""
    tokens = re.findall(r"[a-z]+(?:-[a-z]+)*|[^a-z\s]", question.lower())
    unknown = [t[0].isalpha() and t not in _FRAME and t.removesuffix("s") not in _FRAME
               for t in tokens]  # fmt: skip
    runs = sum(1 for i, u in enumerate(unknown) if u and (i == 0 or not unknown[i - 1]))
    if runs != 1:
        return None
    kept = [t if not u else "something" for t, u in zip(tokens, unknown)]
    return " ".join(t for i, t in enumerate(kept) if not (unknown[i] and i and unknown[i - 1]))


def question_kind(question: str, engine: Engine | None = None) -> tuple[str, float]:
    """The question's kind and its cosine to the nearest example ("unknown" below MIN_KIND).

    The question is also read as its frame ("when is the word something said?" for "when is
    the word pigeon said?"), which decides when it is nearer a question about a thing
    (``THING_KINDS``): a word the encoder knows little then cannot make "is there a ram?"
    unknown, nor a pigeon make a question about a time one about presence."""
    space = (engine or default_engine()).space
    kinds, vectors = _kind_vectors(space)
    frame = _frame(question)
    asked = space.text.encode([question] if frame is None else [question, frame])  # (1|2, 384)
    sims = asked @ vectors.T  # (1|2, E)
    best = int(np.argmax(sims[0]))
    if frame is not None:
        framed = int(np.argmax(sims[1]))
        if kinds[framed] in THING_KINDS and sims[1, framed] > sims[0, best]:
            best, sims = framed, sims[::-1]
    return (kinds[best] if sims[0, best] >= MIN_KIND else "unknown"), float(sims[0, best])


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
        r"(it\s+|this\s+|the\s+(image|picture|photo|video|clip|film)\s+)?(show\s+|contain\s+)?",
        "",
        q,
    )
    q = re.sub(r"\b(in|on)\s+(it|the|this)\b.*$", "", q)
    q = re.sub(r"^(a|an|the|any|some|a photo of a|a picture of a)\s+", "", q.strip())
    return q.strip()


def _plain(label: str) -> str:
    """A label as a thing is named: "ram (adult male sheep)" -> "ram" (the gloss would pull
    it away from "is there a ram?")."""
    return re.sub(r"\s*\([^)]*\)", "", label).strip() or label


def _present(seen: _Seen, question: str) -> Reply:
    thing = _thing(question)
    if not thing:
        return CANT_TELL, 0.0, []
    space = seen.space
    want = space.text.encode([thing])[0]
    labels = seen.embedded.labels[:5]
    names = [lb for lb, _ in labels]
    sims = space.text.encode([_plain(n) for n in names]) @ want if names else np.zeros(0)
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


# The words of a "when" question that are not what it asks about.
_FILLER = frozenset(
    {"when", "what", "which", "at", "time", "times", "moment", "point", "second", "does", "do",
     "did", "is", "are", "was", "can", "could", "will", "you", "we", "i", "one", "someone",
     "somebody", "anyone", "he", "she", "they", "it", "this", "that", "there", "the", "a", "an",
     "of", "in", "on", "to", "video", "clip", "film", "screen", "appear", "appears", "appearing",
     "shown", "show", "shows", "seen", "see", "visible", "heard", "hear", "said", "say", "says",
     "saying", "spoken", "mentioned", "mention", "mentions", "read", "written", "happen",
     "happens", "occur", "occurs", "start", "starts", "begin", "begins", "come", "comes", "up",
     "word", "words", "speaker"}
)  # fmt: skip


def _when_thing(question: str) -> str:
    """What "when does the lion appear?" asks about ("lion"): its words less the question's."""
    words = re.findall(r"[a-z0-9']+", question.lower())
    return " ".join(w.strip("'") for w in words if w.strip("'") not in _FILLER)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def _when(seen: _Seen, question: str) -> Reply:
    """An audio clip's timeline is its transcript: the segments that say the thing asked
    about. A still image has none."""
    thing = _words(_when_thing(question))
    t = None if seen.image else seen.embedded.transcript
    if not thing or t is None:
        why = "a still image has no timeline" if seen.image else "no speech heard"
        return CANT_TELL, 0.0, [{"from": "question", "what": why, "score": 0.0}]
    hits = [s for s in t.segments if thing <= _words(s.text)]
    if not hits:
        return CANT_TELL, 0.0, [{"from": "speech", "what": f"not said: {' '.join(sorted(thing))}",
                                 "score": 0.0}]  # fmt: skip
    ev = [{"from": "speech", "what": s.text, "score": round(s.confidence, 4),
           "start": s.start, "end": s.end} for s in hits]  # fmt: skip
    return _span_list([(s.start, s.end) for s in hits]), max(s.confidence for s in hits), ev


ANSWERERS: dict[str, Callable[[_Seen, str], Reply]] = {
    "shown": _shown, "present": _present, "written": _written, "count": _count,
    "mood": _mood, "colour": _colour, "said": _said, "heard": _heard, "when": _when,
}  # fmt: skip


# -- videos: the same questions, per segment, with times -----------------------------------

# (path, mtime_ns, size) -> what was looked for, the analysis: kept by the engine whose models
# analysed the video (``Engine.kept``), the last KEPT_ANALYSES
Analyses = OrderedDict[tuple[str, int, int], tuple[frozenset[str], VideoAnalysis]]


# Looked for in every frame on a video's first question (a few ms a frame), so that questions
# about colours and people need no second analysis; text is read only when asked about (0.1 to
# 1 s a frame). Faces need the optional ai-edge-litert.
_CHEAP = frozenset({"keyframes"} | ({"faces"} if find_spec("ai_edge_litert") else set()))


@dataclass
class _Watched:
    """One video, analysed on the first question that needs it, with what that question needs
    ("ocr", "faces", "keyframes"); an analysis that looked for more serves too."""

    space: SharedSpace
    path: Path
    analyses: Analyses  # the engine's, shared by every question through it

    def analysis(self, *needs: str) -> VideoAnalysis:
        stat = self.path.stat()
        key = (str(self.path.resolve()), stat.st_mtime_ns, stat.st_size)
        kept = self.analyses.get(key)
        if kept is not None and set(needs) <= kept[0]:
            self.analyses.move_to_end(key)
            return kept[1]
        looks = frozenset(needs) | (kept[0] if kept is not None else _CHEAP)
        a = analyze(self.path, self.space, keyframes="keyframes" in looks, ocr="ocr" in looks,
                    faces="faces" in looks)  # fmt: skip
        self.analyses[key] = (looks, a)
        self.analyses.move_to_end(key)
        while len(self.analyses) > KEPT_ANALYSES:
            self.analyses.popitem(last=False)
        return a


def _span(start: float, end: float) -> str:
    return f"{start:.1f}-{end:.1f} s"


def _span_list(spans: list[tuple[float, float]]) -> str:
    """ "at 4.0-9.0 s and 20.0-26.0 s" (at most MAX_SPANS, then how many more)."""
    named = [_span(a, b) for a, b in spans[:MAX_SPANS]]
    more = f" and {len(spans) - MAX_SPANS} more" if len(spans) > MAX_SPANS else ""
    return "at " + ", ".join(named) + more


@dataclass(frozen=True)
class _Run:
    """Consecutive segments that give the same answer, as one span of time."""

    value: str
    start: float
    end: float
    score: float  # the best of its segments'


def _runs(found: list[tuple[VideoSegment, str, float]]) -> list[_Run]:
    """(segment, answer, score) in time order -> runs: neighbouring segments with the same
    answer join."""
    runs: list[_Run] = []
    for seg, value, score in found:
        last = runs[-1] if runs else None
        if last is not None and last.value == value and abs(last.end - seg.start) < 1e-6:
            runs[-1] = _Run(value, last.start, seg.end, max(last.score, score))
        else:
            runs.append(_Run(value, seg.start, seg.end, score))
    return runs


def _timed(runs: list[_Run]) -> str:
    """ "lion (9.0-13.0 s); king penguin (4.0-9.0 s)", at most MAX_SPANS, then how many more."""
    named = [f"{r.value} ({_span(r.start, r.end)})" for r in runs[:MAX_SPANS]]
    more = f"; and {len(runs) - MAX_SPANS} more" if len(runs) > MAX_SPANS else ""
    return "; ".join(named) + more


def _evidence(source: str, runs: list[_Run]) -> list[dict[str, Any]]:
    best = sorted(runs, key=lambda r: -r.score)[:MAX_EVIDENCE]
    return [{"from": source, "what": r.value, "score": round(r.score, 4),
             "start": round(r.start, 2), "end": round(r.end, 2)}
            for r in sorted(best, key=lambda r: r.start)]  # fmt: skip


def _whole(a: VideoAnalysis, source: str, what: str) -> list[dict[str, Any]]:
    return [{"from": source, "what": what, "score": 0.0, "start": 0.0,
             "end": round(a.duration, 2)}]  # fmt: skip


def _weighted(runs: list[_Run]) -> float:
    """Duration-weighted mean score of runs."""
    spans = np.array([max(r.end - r.start, 1e-3) for r in runs])
    return float((spans * np.array([r.score for r in runs])).sum() / spans.sum())


def _v_shown(w: _Watched, _: str) -> Reply:
    a = w.analysis()
    runs = _runs([(s, s.seen[0][0], s.seen[0][1]) for s in a.segments if s.seen])
    if not runs:
        return CANT_TELL, 0.0, []
    return _timed(runs), _weighted(runs), _evidence("image", runs)


def _label_sims(space: SharedSpace, want: np.ndarray, names: list[str]) -> dict[str, float]:
    unique = sorted(set(names))
    if not unique:
        return {}
    return dict(zip(unique, (space.text.encode([_plain(n) for n in unique]) @ want).tolist()))


def _nearest(w: _Watched, a: VideoAnalysis, thing: str
             ) -> list[tuple[VideoSegment, str, str, float]]:  # fmt: skip
    """Per segment, the label seen or sound heard nearest ``thing``, with its cosine:
    (segment, "image" | "sound", label, cosine)."""
    want = w.space.text.encode([thing])[0]
    labels = {s.index: [("image", lb) for lb, _ in s.seen[:5]]
              + [("sound", lb) for lb, _ in named_sounds(s.heard)] for s in a.segments}  # fmt: skip
    sims = _label_sims(w.space, want, [lb for ls in labels.values() for _, lb in ls])
    out = []
    for s in a.segments:
        if labels[s.index]:
            source, label = max(labels[s.index], key=lambda x: sims[x[1]])
            out.append((s, source, label, sims[label]))
    return out


def _matches(nearest: list[tuple[VideoSegment, str, str, float]], sources: frozenset[str]
             ) -> list[tuple[VideoSegment, str, str, float]]:  # fmt: skip
    """The segments where a thing is seen or heard (``sources``): their nearest label at
    MIN_PRESENT or more, and within MATCH_MARGIN of the best segment's (a lion's shot, not the
    elephant's, whose "African bush elephant" is 0.5 from "lion")."""
    kept = [m for m in nearest if m[1] in sources]
    floor = max(MIN_PRESENT, max((m[3] for m in kept), default=0.0) - MATCH_MARGIN)
    return [m for m in kept if m[3] >= floor]


def _v_present(w: _Watched, question: str) -> Reply:
    thing = _thing(question)
    if not thing:
        return CANT_TELL, 0.0, []
    a = w.analysis()
    nearest = _nearest(w, a, thing)
    found = _matches(nearest, frozenset({"image", "sound"}))
    if found:
        runs = _runs([(s, lb, sim) for s, _, lb, sim in found])
        sources = {lb: src for _, src, lb, _ in found}
        ev = [e for r in runs for e in _evidence(sources[r.value], [r])][:MAX_EVIDENCE]
        return "yes: " + _timed(runs), max(r.score for r in runs), ev
    space = w.space
    if space.text.encode(["a person"])[0] @ space.text.encode([thing])[0] >= 0.6:
        faced = w.analysis("faces").segments
        people = _runs([(s, s.faces, s.face_reading.confidence) for s in faced
                        if s.face_reading is not None])  # fmt: skip
        if people:
            return (
                "yes: " + _timed(people),
                max(r.score for r in people),
                _evidence("faces", people),
            )
    shown = _runs([(s, s.seen[0][0], s.seen[0][1]) for s in a.segments if s.seen])
    closest = max((m[3] for m in nearest), default=0.5)
    return f"no: it shows {_timed(shown)}", 1.0 - closest, _evidence("image", shown)


def _v_written(w: _Watched, _: str) -> Reply:
    a = w.analysis("ocr")
    weight = w.space.options.ocr_weight or 1.0
    runs = _runs([(s, " ".join(s.written.split()), s.parts.get("written", 0.0) / weight)
                  for s in a.segments if s.written])  # fmt: skip
    if not runs:
        return CANT_TELL, 0.0, _whole(a, "ocr", "no text found")
    return _timed(runs), _weighted(runs), _evidence("ocr", runs)


def _v_count(w: _Watched, _: str) -> Reply:
    a = w.analysis("faces")
    counted = [(s, s.face_reading) for s in a.segments if s.face_reading is not None]
    if not counted:
        return "no one: no face found", 0.6, _whole(a, "faces", "no face found")
    n = max(len(r.faces) for _, r in counted)
    most = _runs([(s, r.text, r.confidence) for s, r in counted if len(r.faces) == n])
    fewer = _runs([(s, r.text, r.confidence) for s, r in counted if len(r.faces) < n])
    answer = f"{n} at most at once: {_timed(most)}"
    return answer, _weighted(most), _evidence("faces", sorted(most + fewer, key=lambda r: r.start))


def _v_mood(w: _Watched, _: str) -> Reply:
    a = w.analysis("faces")
    found = [(s, s.faces, float(np.mean([f.expression_score * f.score for f in r.faces])))
             for s in a.segments if (r := s.face_reading) is not None]  # fmt: skip
    if not found:
        return CANT_TELL, 0.0, _whole(a, "faces", "no face found")
    runs = _runs(found)
    return _timed(runs), _weighted(runs), _evidence("faces", runs)


def _colour_thing(question: str) -> str:
    """What "what colour is the apple?" asks the colour of ("apple"); "" for "it"."""
    m = re.search(r"colou?rs?\s+(?:is|are|does|do)\s+(.+)$", re.sub(r"[?.!]", "", question.lower()))
    thing = re.sub(r"^(the|a|an|this|that|these|those)\s+", "", m.group(1).strip()) if m else ""
    thing = re.sub(r"\s+(have|has|wear|wears)$", "", thing)
    return "" if thing in ("it", "they", "this", "that", "in it", "") else thing


def _v_colour(w: _Watched, question: str) -> Reply:
    a = w.analysis("keyframes")
    thing = _colour_thing(question)
    seen = _matches(_nearest(w, a, thing), frozenset({"image"})) if thing else []
    chosen = {s.index for s, *_ in seen}
    found = []
    for s in a.segments:
        if s.keyframe is None or (chosen and s.index not in chosen):
            continue
        colours = dominant_colours(s.keyframe)
        main = [(n, sh) for n, sh in colours if sh >= 0.2] or colours[:1]
        found.append((s, " and ".join(n for n, _ in main), sum(sh for _, sh in main)))
    if not found:
        return CANT_TELL, 0.0, []
    runs = _runs(found)
    return _timed(runs), _weighted(runs), _evidence("pixels", runs)


def _v_said(w: _Watched, _: str) -> Reply:
    a = w.analysis()
    found = [(s, s.said, float(np.mean([x.probability for x in s.words])))
             for s in a.segments if s.said and s.words]  # fmt: skip
    if not found:
        why = "no audio track" if "no audio track" in a.notes else "no speech heard"
        return CANT_TELL, 0.0, _whole(a, "speech", why)
    text = " ".join(s.said for s, _, _ in found)
    text = text if len(text) <= MAX_SAID else text[: MAX_SAID - 1].rsplit(" ", 1)[0] + "…"
    runs = _runs(found)
    return text, _weighted(runs), _evidence("speech", runs)


def _loudest(s: VideoSegment) -> tuple[str, float]:
    """A segment's most confident sound worth naming, else silence."""
    named = named_sounds(s.heard, 1)
    return named[0] if named else ("silence", dict(s.heard).get("Silence", 0.5))


def _v_heard(w: _Watched, _: str) -> Reply:
    a = w.analysis()
    if not any(s.heard for s in a.segments):
        why = "no audio track" if "no audio track" in a.notes else "nothing heard"
        return CANT_TELL, 0.0, _whole(a, "sound", why)
    runs = _runs([(s, *_loudest(s)) for s in a.segments if s.heard])
    return _timed(runs), _weighted(runs), _evidence("sound", runs)


# A "when" question's verb says where to look: "when is X said" in the speech only.
_LOOK_IN = (
    ({"say", "says", "said", "spoken", "saying", "mention", "mentions", "mentioned", "talk",
      "talks", "utter", "uttered"}, frozenset({"speech"})),
    ({"hear", "heard", "audible", "sound", "sounds"}, frozenset({"sound", "speech"})),
    ({"read", "written", "write", "writes"}, frozenset({"ocr"})),
    ({"see", "seen", "shown", "show", "shows", "appear", "appears", "visible", "look", "looks"},
     frozenset({"image", "ocr"})),
)  # fmt: skip
_EVERYWHERE = frozenset({"image", "sound", "speech", "ocr"})


def _looked_in(question: str) -> frozenset[str]:
    words = _words(question)
    return next((where for verbs, where in _LOOK_IN if verbs & words), _EVERYWHERE)


def _v_when(w: _Watched, question: str) -> Reply:
    """The segments where the thing asked about is seen or heard (label near it), said or
    read (its words all there), as the question's verb says: "at 4.0-9.0 s", each with what
    matched."""
    thing = _when_thing(question)
    if not thing:
        return CANT_TELL, 0.0, []
    a = w.analysis()
    want, where = _words(thing), _looked_in(question)
    matched = _matches(_nearest(w, a, thing), where)
    best = {s.index: (src, lb, sim) for s, src, lb, sim in matched}
    weight = w.space.options.ocr_weight or 1.0
    for s in a.segments:
        said = float(np.mean([x.probability for x in s.words])) if s.words else 0.0
        written = (" ".join(s.written.split()), s.parts.get("written", 0.0) / weight)
        for source, (text, conf) in (("speech", (s.said, said)), ("ocr", written)):
            better = conf > best.get(s.index, ("", "", 0.0))[2]
            if source in where and text and want <= _words(text) and better:
                best[s.index] = (source, text, conf)
    if not best:
        return CANT_TELL, 0.0, _whole(a, "question", f"{thing}: not seen, heard, said or read")
    hits = [s for s in a.segments if s.index in best]
    runs = _runs([(s, "", best[s.index][2]) for s in hits])
    ev = [{"from": best[s.index][0], "what": best[s.index][1],
           "score": round(best[s.index][2], 4), "start": round(s.start, 2),
           "end": round(s.end, 2)} for s in hits[:MAX_EVIDENCE]]  # fmt: skip
    return _span_list([(r.start, r.end) for r in runs]), max(r.score for r in runs), ev


VIDEO_ANSWERERS: dict[str, Callable[[_Watched, str], Reply]] = {
    "shown": _v_shown, "present": _v_present, "written": _v_written, "count": _v_count,
    "mood": _v_mood, "colour": _v_colour, "said": _v_said, "heard": _v_heard, "when": _v_when,
}  # fmt: skip


def _refused(p: str, question: str, kind: str, sim: float) -> Answer:
    why = REFUSED.get(kind, "the question is not one this engine understands")
    return Answer(p, question, kind, CANT_TELL, 0.0, [{"from": "question", "what": why,
                                                       "score": round(sim, 4)}])  # fmt: skip


def _answer(p: str, question: str, kind: str, sim: float, reply: Reply) -> Answer:
    answer, conf, evidence = reply
    return Answer(p, question, kind, answer, 0.0 if answer == CANT_TELL else min(1.0, sim * conf),
                  evidence)  # fmt: skip


def ask(path: str | Path, question: str, engine: Engine | None = None) -> Answer:
    """Answer ``question`` about the image, audio or video file at ``path`` from what is
    perceived in it, with the evidence (for a video, timed) and a confidence; "I can't tell"
    when nothing perceived answers it."""
    engine = engine or default_engine()
    space = engine.space
    kind, sim = question_kind(question, engine)
    p = str(path)
    try:
        if is_video(Path(p)):
            probe(p)  # a broken video is an error whatever the question
            if kind not in VIDEO_ANSWERERS:
                return _refused(p, question, kind, sim)
            watched = _Watched(space, Path(p), engine.kept("ask.videos", Analyses))
            return _answer(p, question, kind, sim, VIDEO_ANSWERERS[kind](watched, question))
        item = media.load(p, image_side=None)
    except MediaError as e:
        return Answer(p, question, kind, CANT_TELL, 0.0, error=e.cause)
    if not isinstance(item, ImageMedia | AudioMedia):
        return Answer(p, question, kind, CANT_TELL, 0.0, error="a text file: nothing to perceive")
    if kind not in ANSWERERS:
        return _refused(p, question, kind, sim)
    return _answer(p, question, kind, sim, ANSWERERS[kind](_Seen(space, item), question))
