"""Support-ticket triage: any mix of text, a photo or screenshot and a voice message -> the
category, sentiment and emotion, urgency, what the image shows, the product and a drafted
reply, each finding naming the modality it came from.

- **Category**: zero-shot in the shared space (``perceive/triage.toml``): the ticket's text, the
  voice message's transcript and the text read in the screenshot against each category's
  ``describes`` sentences, the image's label-bridge vector against its ``shows`` phrases; the
  sources' probabilities are mixed by their weights times their own confidence (late fusion).
  When labelled tickets exist, a fusion model trained with ``sensorium train fusion`` can
  replace this step.
- **Sentiment and emotion**: VADER (compound score) and the NRC emotion lexicon (``nrclex``'s
  bundled ``nrc_en.json``, through ``load_token_list``: its ``load_raw_text`` needs TextBlob
  corpora that are downloaded at run time, so it does not work offline), on the text and the
  transcript only (an error message read in a screenshot is not the customer's feeling).
- **Urgency**: negative sentiment, anger and fear, urgent words, shouting, and an error or
  damage seen in the image, each term in the evidence.
- **Image**: the classifier's labels, zero-shot "looks" (damage-like among them) and the text
  read in it (OCR), with the error lines picked out.
- **Product**: a search of a product collection with the ticket's text and image.
A modality the ticket lacks is simply absent from the result.
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sensorium import media
from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError, UsageError
from sensorium.media.types import AudioMedia, ImageMedia
from sensorium.space import SharedSpace
from sensorium.space.space import LOGIT_SCALE, Embedded

if TYPE_CHECKING:
    from sensorium.collection import Collection

__all__ = ["DEFAULT_CONFIG", "Triage", "TriageConfig", "load_config", "triage"]

DEFAULT_CONFIG = Path(__file__).resolve().with_name("triage.toml")  # shipped in the package
Evidence = dict[str, Any]  # {"from": modality, "what": ..., "score": ...}


# -- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    name: str
    describes: tuple[str, ...]  # sentences a ticket of this kind says (text, speech, OCR)
    shows: tuple[str, ...]  # phrases for what its photo shows (image, via the label bridge)
    reply: str  # the category's paragraph of the drafted reply


@dataclass(frozen=True)
class TriageConfig:
    categories: tuple[Category, ...]
    weights: dict[str, float]  # source -> weight in the category mix
    looks: tuple[str, ...]  # zero-shot phrases for the image
    damage: tuple[str, ...]  # the damage-like ones among ``looks``
    error_words: tuple[str, ...]  # words that mark text read in an image as an error
    urgency: dict[str, Any]  # words, w_* weights, levels
    reply: dict[str, str]  # the reply's fixed sentences
    speech_model: str = "tiny.en"  # the voice message's recogniser (perceive.transcribe)


def load_config(path: str | Path | None = None) -> TriageConfig:
    """Read a triage TOML (default ``perceive/triage.toml``); a missing or malformed file or
    category raises a ``UsageError`` naming it."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text())
        cats = tuple(Category(name, tuple(c["describes"]), tuple(c.get("shows", ())), c["reply"])
                     for name, c in raw["categories"].items())  # fmt: skip
        image = raw.get("image", {})
        return TriageConfig(cats, dict(raw.get("weights", {})), tuple(image.get("looks", ())),
                            tuple(image.get("damage", ())), tuple(image.get("error_words", ())),
                            dict(raw["urgency"]), dict(raw["reply"]),
                            raw.get("speech", {}).get("model", "tiny.en"))  # fmt: skip
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"triage config {path}: {e}") from e
    except (KeyError, TypeError) as e:
        raise UsageError(f"triage config {path}: missing or malformed field {e}") from e


# -- the result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """A triaged ticket. A part the ticket gives no evidence for is None and absent from
    ``to_json``; ``modalities`` lists what the ticket held."""

    modalities: list[str]  # "text", "image", "audio"
    category: dict[str, Any]  # {"label", "score", "scores", "from", "evidence"}
    urgency: dict[str, Any]  # {"level", "score", "evidence"}
    reply: dict[str, Any]  # {"text", "from"}
    sentiment: dict[str, Any] | None = None  # {"label", "compound", "from", "by_source"}
    emotion: dict[str, Any] | None = None  # {"top", "scores", "from", "evidence"}
    image: dict[str, Any] | None = None  # {"labels", "looks", "written", "error_text", "from"}
    speech: dict[str, Any] | None = None  # {"transcript", "confidence", "from"}
    product: dict[str, Any] | None = None  # {"name", "path", "score", "from", "alternatives"}
    errors: dict[str, str] = field(default_factory=dict)  # modality -> why it was not used
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> wall time

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"modalities": self.modalities, "category": self.category}
        for name in ("sentiment", "emotion", "image", "speech", "product"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out |= {"urgency": self.urgency, "reply": self.reply}
        if self.errors:
            out["errors"] = self.errors
        return out


# -- perceiving each modality -------------------------------------------------------------


@dataclass
class _Ticket:
    """What is perceived of one ticket, source by source (sources: text, speech, written,
    image)."""

    text: str | None = None
    image: ImageMedia | None = None
    audio: AudioMedia | None = None
    seen: Embedded | None = None  # the image in the shared space
    written: str | None = None  # text read in the image
    written_conf: float = 0.0
    transcript: str | None = None
    transcript_conf: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def modalities(self) -> list[str]:
        have = {"text": bool(self.text), "image": self.image is not None,
                "audio": self.audio is not None}  # fmt: skip
        return [m for m, ok in have.items() if ok]

    def words(self) -> dict[str, str]:
        """The customer's own words by source: what was written and what was said."""
        out = {"text": self.text or "", "speech": self.transcript or ""}
        return {k: v for k, v in out.items() if v.strip()}


def _load(path: str | Path, kind: type, ticket: _Ticket, name: str) -> Any:
    try:
        item = media.load(path, image_side=None)  # full size: small text in screenshots
    except MediaError as e:
        ticket.errors[name] = str(e)
        return None
    if not isinstance(item, kind):
        ticket.errors[name] = f"{path}: not an {name} file"
        return None
    return item


def _perceive_image(space: SharedSpace, t: _Ticket) -> None:
    """The photo in the shared space (labels, bridge vector) and the text read in it."""
    assert t.image is not None
    t.seen = space.embed([t.image])[0]
    if t.seen.written is not None:  # the space reads text already ($SENSORIUM_OCR)
        t.written, t.written_conf = t.seen.written, t.seen.parts.get("written", 0.0)
        return
    r = space.reader.read([t.image])[0]
    if r.error:
        t.errors["ocr"] = r.error
    t.written = " ".join(r.text.split()) or None
    t.written_conf = r.confidence if t.written else 0.0


def _perceive_audio(engine: Engine, cfg: TriageConfig, t: _Ticket) -> None:
    """The voice message through the engine's speech recogniser (every clip: a voice message
    is speech even where the sound classifier's speech gate would doubt it)."""
    assert t.audio is not None
    tr = engine.recognizer(cfg.speech_model).transcribe(t.audio)
    t.transcript = tr.text.strip() or None
    t.transcript_conf = tr.confidence if t.transcript else 0.0


# -- category -----------------------------------------------------------------------------


@cache
def _phrase_vectors(space: SharedSpace, phrases: tuple[str, ...]) -> np.ndarray:
    return space.text.encode(list(phrases))  # (P, 384)


def _category_probs(space: SharedSpace, cfg: TriageConfig, vector: np.ndarray,
                    kind: str) -> np.ndarray:  # fmt: skip
    """(384,) one source's vector -> (C,) probabilities over the categories: each category
    scores its best-matching phrase (``describes`` for words, ``shows`` for the image)."""
    scores = np.full(len(cfg.categories), -1.0, np.float32)
    for j, c in enumerate(cfg.categories):
        phrases = c.describes if kind == "words" else c.shows
        if phrases:
            scores[j] = float((_phrase_vectors(space, phrases) @ vector).max())
    e = np.exp(LOGIT_SCALE * (scores - scores.max()))
    return e / e.sum()


def _sources(space: SharedSpace, t: _Ticket) -> dict[str, tuple[np.ndarray, float, str]]:
    """source -> (its vector, its confidence, the modality it came from)."""
    out: dict[str, tuple[np.ndarray, float, str]] = {}
    texts = {"text": (t.text, 1.0, "text"), "speech": (t.transcript, t.transcript_conf, "audio"),
             "written": (t.written, t.written_conf, "image")}  # fmt: skip
    present = {k: v for k, v in texts.items() if v[0]}
    if present:
        vectors = space.text.encode([str(v[0]) for v in present.values()])  # (n, 384)
        out |= {k: (vec, v[1], v[2]) for (k, v), vec in zip(present.items(), vectors)}
    if t.seen is not None:
        bridge = t.seen.part_vectors.get("seen", t.seen.vector)  # without the text read in it
        out["image"] = (bridge, float(t.seen.labels[0][1]) if t.seen.labels else 0.0, "image")
    return out


def _category(space: SharedSpace, cfg: TriageConfig, t: _Ticket) -> dict[str, Any]:
    names = [c.name for c in cfg.categories]
    mix, total, evidence = np.zeros(len(names)), 0.0, []
    for source, (vector, conf, modality) in _sources(space, t).items():
        p = _category_probs(space, cfg, vector, "image" if source == "image" else "words")
        w = cfg.weights.get(source, 1.0) * max(conf, 1e-3)
        mix, total = mix + w * p, total + w
        j = int(np.argmax(p))
        evidence.append({"from": modality, "source": source, "what": names[j],
                         "score": round(float(p[j]), 4), "weight": round(w, 4)})  # fmt: skip
    if total == 0:
        return {"label": None, "score": 0.0, "scores": {}, "from": [], "evidence": []}
    mix = mix / total
    order = np.argsort(-mix)
    return {"label": names[order[0]], "score": round(float(mix[order[0]]), 4),
            "scores": {names[j]: round(float(mix[j]), 4) for j in order[:3]},
            "from": sorted({e["from"] for e in evidence}), "evidence": evidence}  # fmt: skip


# -- sentiment and emotion ----------------------------------------------------------------


@cache
def _vader() -> Any:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as e:
        raise UsageError("sentiment needs vaderSentiment: pip install 'sensorium[triage]'") from e
    return SentimentIntensityAnalyzer()


_MODALITY = {"text": "text", "speech": "audio", "written": "image"}


def _sentiment(words: dict[str, str]) -> dict[str, Any] | None:
    if not words:
        return None
    by = {s: _vader().polarity_scores(w)["compound"] for s, w in words.items()}
    compound = float(np.mean(list(by.values())))
    label = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
    return {"label": label, "compound": round(compound, 4),
            "from": sorted({_MODALITY[s] for s in by}),
            "by_source": [{"from": _MODALITY[s], "source": s, "compound": round(c, 4)}
                          for s, c in by.items()]}  # fmt: skip


_WORD = re.compile(r"[a-z']+")


def _tokens(text: str) -> list[str]:
    """Lower-case words, each with a crude singular/stem fallback the lexicon may know
    ("crashes" -> "crash", "charged" -> "charge")."""
    out = []
    for w in _WORD.findall(text.lower()):
        out.append(w)
        for suffix, repl in (("es", ""), ("s", ""), ("ed", "e"), ("ed", ""), ("ing", "")):
            if w.endswith(suffix) and len(w) > len(suffix) + 2:
                out.append(w[: -len(suffix)] + repl)
    return out


@cache
def _nrc_lexicon() -> dict[str, list[str]]:
    try:
        from nrclex import NRCLex
    except ImportError as e:
        raise UsageError("emotion needs nrclex: pip install 'sensorium[triage]'") from e
    return NRCLex(None).__lexicon__  # type: ignore[no-any-return]


def _emotion(words: dict[str, str]) -> dict[str, Any] | None:
    if not words:
        return None
    lexicon = _nrc_lexicon()
    counts: dict[str, int] = {}
    evidence: list[Evidence] = []
    for source, text in words.items():
        seen = dict.fromkeys(w for w in _tokens(text) if w in lexicon)  # each word once
        for w in seen:
            feelings = [f for f in lexicon[w] if f not in ("positive", "negative")]
            for f in feelings:
                counts[f] = counts.get(f, 0) + 1
            if feelings:
                evidence.append({"from": _MODALITY[source], "what": w, "emotions": feelings})
    total = sum(counts.values())
    shares = {f: round(n / total, 4) for f, n in sorted(counts.items(), key=lambda kv: -kv[1])}
    top = next(iter(shares), None)
    return {"top": top, "scores": shares, "from": sorted({_MODALITY[s] for s in words}),
            "evidence": evidence[:12]}  # fmt: skip


# -- the image ----------------------------------------------------------------------------


def _error_lines(cfg: TriageConfig, written: str | None) -> str | None:
    """The part of the text read in a screenshot that reads as an error message."""
    if not written:
        return None
    low = written.lower()
    return written if any(w in low for w in cfg.error_words) else None


def _image(space: SharedSpace, cfg: TriageConfig, t: _Ticket) -> dict[str, Any] | None:
    if t.seen is None:
        return None
    bridge = t.seen.part_vectors.get("seen", t.seen.vector)
    looks: list[Evidence] = []
    if cfg.looks:
        sims = LOGIT_SCALE * (_phrase_vectors(space, cfg.looks) @ bridge)
        p = np.exp(sims - sims.max())
        p /= p.sum()
        looks = [
            {"what": cfg.looks[j], "score": round(float(p[j]), 4),
             "damage_like": cfg.looks[j] in cfg.damage}
            for j in np.argsort(-p)[:3]
        ]  # fmt: skip
    return {"from": "image",
            "labels": [{"label": lb, "score": round(s, 4)} for lb, s in t.seen.labels[:3]],
            "looks": looks, "written": t.written,
            "written_confidence": round(t.written_conf, 4),
            "error_text": _error_lines(cfg, t.written)}  # fmt: skip


# -- urgency ------------------------------------------------------------------------------


def _urgent_words(cfg: TriageConfig, words: dict[str, str]) -> list[Evidence]:
    found = []
    for source, text in words.items():
        low = " " + " ".join(_WORD.findall(text.lower())) + " "
        found += [{"from": _MODALITY[source], "what": w} for w in cfg.urgency["words"]
                  if f" {w} " in low]  # fmt: skip
    return found


def _shouting(text: str | None) -> float:
    """0-1: exclamation marks and words in capitals in the written text."""
    if not text:
        return 0.0
    caps = sum(1 for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper())
    return min(1.0, (text.count("!") + caps) / 3)


Finding = dict[str, Any] | None  # one part of the result, None when nothing gives it


def _urgency(cfg: TriageConfig, t: _Ticket, sentiment: Finding, emotion: Finding,
             image: Finding) -> dict[str, Any]:  # fmt: skip
    u, words = cfg.urgency, t.words()
    terms: list[Evidence] = []
    if sentiment and sentiment["compound"] < 0:
        terms.append({"from": sentiment["from"], "what": "negative sentiment",
                      "score": round(-sentiment["compound"] * u["w_negative"], 4)})  # fmt: skip
    if emotion and emotion["scores"]:
        share = emotion["scores"].get("anger", 0.0) + emotion["scores"].get("fear", 0.0)
        if share:
            terms.append({"from": emotion["from"], "what": "anger and fear",
                          "score": round(share * u["w_emotion"], 4)})  # fmt: skip
    found = _urgent_words(cfg, words)
    if found:
        terms.append({"from": sorted({f["from"] for f in found}), "what": "urgent words: " +
                      ", ".join(f["what"] for f in found),
                      "score": round(min(len(found), 3) / 3 * u["w_words"], 4)})  # fmt: skip
    if _shouting(t.text):
        terms.append({"from": ["text"], "what": "shouting (capitals, exclamation marks)",
                      "score": round(_shouting(t.text) * u["w_shouting"], 4)})  # fmt: skip
    if image and (image["error_text"] or any(lk["damage_like"] for lk in image["looks"][:1])):
        what = "an error message in the screenshot" if image["error_text"] else "damage seen"
        terms.append({"from": ["image"], "what": what, "score": u["w_seen"]})
    score = min(1.0, sum(x["score"] for x in terms))
    level = [name for floor, name in u["levels"] if score >= floor][-1]
    return {"level": level, "score": round(score, 4), "evidence": terms}


# -- product and reply --------------------------------------------------------------------


def _name(path: str) -> str:
    return re.sub(r"[_\-]+", " ", Path(path).stem).strip()


def _product(engine: Engine, db: str | Path | Collection, text: str, t: _Ticket,
             image: str | Path | None) -> dict[str, Any] | None:  # fmt: skip
    from sensorium.collection import Collection  # the store layer: only when a collection is given

    if not text and t.image is None:
        return None
    products = db if isinstance(db, Collection) else Collection(db, engine)
    hits = products.search(text or None, image=image if t.image else None, k=3,
                           keywords=False, syntax=False)  # a ticket is no query string
    if not hits:
        return None
    best = hits[0]
    used = [m for m, ok in (("text", bool(text)), ("image", t.image is not None)) if ok]
    return {"name": _name(best.item.path), "path": best.item.path,
            "score": round(best.score, 4), "from": used,
            "parts": {k: round(v, 4) for k, v in best.parts.items()},
            "alternatives": [{"name": _name(h.item.path), "score": round(h.score, 4)}
                             for h in hits[1:]]}  # fmt: skip


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _reply(cfg: TriageConfig, category: dict[str, Any], urgency: dict[str, Any],
           sentiment: dict[str, Any] | None, image: dict[str, Any] | None,
           product: dict[str, Any] | None, heard: bool) -> dict[str, Any]:  # fmt: skip
    r, used = cfg.reply, {"category"}
    error = (image or {}).get("error_text")
    fill = _Blank(product=product["name"] if product else "order",
                  product_or_our_products=product["name"] if product else "our products",
                  urgency=urgency["level"], error=(error or "")[:120],
                  error_clause=f" (the message \"{error[:120]}\")" if error else "")  # fmt: skip
    lines = [r["greeting"]]
    if sentiment and sentiment["label"] == "negative":
        lines.append(r["apology"])
        used.add("sentiment")
    cat = next((c for c in cfg.categories if c.name == category["label"]), None)
    paragraph = cat.reply if cat is not None else ""
    if paragraph:
        lines.append(paragraph.format_map(fill))
    if error and "{error" not in paragraph:  # the category's paragraph did not quote it
        lines.append(r["error_seen"].format_map(fill))
    if heard:
        lines.append(r["heard"])
    if product and "{product" not in paragraph:
        lines.append(r["product"].format_map(fill))
    if urgency["level"] in ("high", "critical"):
        lines.append(r["urgent"].format_map(fill))
        used.add("urgency")
    used |= {"product"} if product else set()
    used |= {"image"} if error else set()
    body = " ".join(lines[1:])
    return {"text": "\n\n".join([lines[0], body, r["closing"]]), "from": sorted(used)}


# -- the entry point ----------------------------------------------------------------------


def triage(
    text: str | None = None,
    image: str | Path | None = None,
    audio: str | Path | None = None,
    products: str | Path | Collection | None = None,
    config: str | Path | TriageConfig | None = None,
    engine: Engine | None = None,
) -> Triage:
    """Triage one support ticket from any mix of ``text``, an ``image`` file (photo or
    screenshot) and an ``audio`` file (voice message). ``products``: a collection folder (or an
    open ``Collection``, as the service holds) to find the product in; ``config``: a triage TOML
    (default ``perceive/triage.toml``) or a loaded ``TriageConfig``. A modality not given is
    absent from the result; one that cannot be decoded is named in ``errors``."""
    cfg = config if isinstance(config, TriageConfig) else load_config(config)
    engine = engine or default_engine()
    space = engine.space
    t, clock, start = _Ticket(text=(text or "").strip() or None), {}, time.perf_counter()
    if image is not None:
        t.image = _load(image, ImageMedia, t, "image")
    if audio is not None:
        t.audio = _load(audio, AudioMedia, t, "audio")
    if t.image is not None:
        t0 = time.perf_counter()
        _perceive_image(space, t)
        clock["image"] = round(time.perf_counter() - t0, 3)
    if t.audio is not None:
        t0 = time.perf_counter()
        _perceive_audio(engine, cfg, t)
        clock["audio"] = round(time.perf_counter() - t0, 3)
    if not t.modalities:
        if t.errors:  # every file given was unusable: say which and why
            raise UsageError("; ".join(t.errors.values()))
        raise UsageError("a ticket needs text, an image or an audio file")
    words = t.words()
    sentiment, emotion, seen = _sentiment(words), _emotion(words), _image(space, cfg, t)
    category = _category(space, cfg, t)
    urgency = _urgency(cfg, t, sentiment, emotion, seen)
    query = " ".join(words.values())
    product = _product(engine, products, query, t, image) if products else None
    reply = _reply(cfg, category, urgency, sentiment, seen, product, t.transcript is not None)
    clock["total"] = round(time.perf_counter() - start, 3)
    speech = None
    if t.audio is not None:
        speech = {"from": "audio", "transcript": t.transcript or "",
                  "confidence": round(t.transcript_conf, 4)}  # fmt: skip
    return Triage(t.modalities, category, urgency, reply, sentiment, emotion, seen, speech,
                  product, t.errors, clock)  # fmt: skip
