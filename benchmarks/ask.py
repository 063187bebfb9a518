"""``sensorium ask`` per question kind, on questions whose answers real labelled data gives.

Images and speech: ``benchmarks/faces.py`` ``run_ask`` (it counts the faces that benchmark
finds). Videos (issue 16), built from real parts as the video tests build them
(``sensorium.eval.videos``), so what is on screen, said and heard when is known:

- Tux Paint stamps that have a spoken caption (a real recording naming the animal), 5 shots a
  video, each named aloud in its shot: what is said (the name, in the shot's segment), when the
  name is said, when the animal is shown, is there X (its own animal: yes, at its shot; another
  video's: no), what is shown (a label near the name), what is heard (speech, in the shot);
  refused: who, where, age, the weather, and what a sign says where no text is shown.
- ImageNet validation photos (foolbox) filling the frame over a silent track: when the class is
  shown, is there X, what is heard (silence); refused: what is said.
- Tux Paint road signs: what the sign says (the words read at the shot's time are the
  caption's).
- Tux Paint stamps with a colour in their caption: the colour named for the shot.
- LFW faces (scikit-image) then an object: how many people (1, at the face's shot; no one in
  videos of objects) and, for faces marked smiling or not by eye (``benchmarks/faces.py``),
  whether the person smiles.

A timed answer is right when the time it names (the union of its evidence's spans) overlaps the
truth with IoU >= 0.5; a per-shot answer, when the evidence covering the shot's middle holds it.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.faces import COLOURS, LFW_SMILING, LFW_UNSURE, REFUSE, _lfw
from benchmarks.faces import markdown_ask as _markdown_images
from benchmarks.faces import run_ask as _run_images
from sensorium.eval.datasets import DatasetMissingError, Stamp, imagenet_photos, tuxpaint_stamps
from sensorium.eval.metrics import normalize_text
from sensorium.eval.videos import Shot, tuxpaint_videos, write_video

__all__ = ["NAME", "markdown", "run", "run_video"]

NAME = "ask"
TUX_VIDEOS = 6  # Tux Paint videos of 5 spoken shots
OCR_REFUSALS = 2  # of them, asked what a sign says (text is read in every frame: slow)
PHOTO_VIDEOS = 4  # silent videos of 5 ImageNet photos
FACES = 10  # LFW faces, half smiling
# Held-out paraphrases of video questions (not among perceive.ask.EXAMPLES) -> expected kind.
VIDEO_KINDS = {
    "when does the cat show up?": "when", "at what second is the word said?": "when",
    "when do we hear a car?": "when", "what is being said in this clip?": "said",
    "what sounds are in the video?": "heard", "what is shown in this clip?": "shown",
    "who is talking?": "identity", "when was the video recorded?": "place_time",
    "is there a bird in the video?": "present", "how many people are in the video?": "count",
}  # fmt: skip
VIDEO_REFUSE = (*REFUSE, "who is speaking?", "where was this filmed?")
SPEECH_LIKE = ("speech", "narration", "conversation")


def _iou(spans: list[tuple[float, float]], truth: tuple[float, float]) -> float:
    """IoU of the time named (disjoint spans, as segments are) with the truth interval."""
    inter = sum(max(0.0, min(b, truth[1]) - max(a, truth[0])) for a, b in spans)
    union = sum(b - a for a, b in spans) + truth[1] - truth[0] - inter
    return inter / union if union > 0 else 0.0


def _spans(a: Any) -> list[tuple[float, float]]:
    return [(e["start"], e["end"]) for e in a.evidence if "start" in e]


def _at(a: Any, interval: tuple[float, float]) -> str | None:
    """What the evidence says at the middle of ``interval``, None if it says nothing there."""
    mid = (interval[0] + interval[1]) / 2
    return next((str(e["what"]) for e in a.evidence
                 if "start" in e and e["start"] <= mid < e["end"]), None)  # fmt: skip


class _Tally:
    def __init__(self) -> None:
        self.per_kind: dict[str, list[bool]] = {}
        self.examples: dict[str, list[str]] = {}

    def __call__(self, kind: str, ok: bool, a: Any) -> None:
        self.per_kind.setdefault(kind, []).append(bool(ok))
        if not ok and len(self.examples.setdefault(kind, [])) < 3:  # a few misses, to read
            self.examples[kind].append(f"{Path(a.path).name}: {a.question} -> {a.answer}")


def _tuxpaint(engine: Any, tmp: Path, score: _Tally) -> int:
    from sensorium.perceive.ask import CANT_TELL, ask

    videos = tuxpaint_videos(tmp / "tux", n_videos=TUX_VIDEOS)
    labels = [lb for v in videos for _, _, lb in v.intervals]
    for v_i, video in enumerate(videos):
        path = video.path
        said = ask(path, "what is said?", engine)
        heard = ask(path, "what can be heard?", engine)
        shown = ask(path, "what is shown?", engine)
        for i, (start, end, label) in enumerate(video.intervals):
            shot = (start, end)
            score("said (name in the shot's segment)",
                  label in normalize_text(_at(said, shot) or ""), said)  # fmt: skip
            sound = (_at(heard, shot) or "").lower()
            score("heard (speech in the shot)", any(w in sound for w in SPEECH_LIKE), heard)
            what = _at(shown, shot)
            sim = engine.space.text.encode([what])[0] @ engine.space.text.encode([label])[0] if what else 0.0
            score("shown (label near the shot's name)", sim >= 0.5, shown)
            a = ask(path, f"when is the word {label} said?", engine)
            score("when (said)", _iou(_spans(a), shot) >= 0.5, a)
            a = ask(path, f"when is the {label} shown?", engine)
            score("when (shown)", _iou(_spans(a), shot) >= 0.5, a)
            a = ask(path, f"is there a {label}?", engine)
            score("present (yes, at its time)",
                  a.answer.startswith("yes") and _iou(_spans(a), shot) >= 0.5, a)  # fmt: skip
            other = labels[(v_i * 5 + i + len(labels) // 2) % len(labels)]
            a = ask(path, f"is there a {other}?", engine)
            score("present (no)", a.answer.startswith("no"), a)
        for q in VIDEO_REFUSE:
            a = ask(path, q, engine)
            score("refuse (who, where, age, weather)", a.answer == CANT_TELL, a)
        if v_i < OCR_REFUSALS:
            a = ask(path, "what does the sign say?", engine)
            score("refuse (no text shown)", a.answer == CANT_TELL, a)
    return len(videos)


def _photos(engine: Any, tmp: Path, score: _Tally) -> int:
    from sensorium.perceive.ask import CANT_TELL, ask

    try:
        photos = imagenet_photos()
    except DatasetMissingError:
        return 0
    labels = [lb for _, lb in photos]
    n = min(PHOTO_VIDEOS, len(photos) // 5)
    for v in range(n):
        part = photos[v * 5 : (v + 1) * 5]
        shots = [Shot(p, 4.0, None, lb) for p, lb in part]
        video = write_video(tmp / f"photos-{v}.mp4", shots, audio="silent", fill=True, seed=v)
        for i, (start, end, label) in enumerate(video.intervals):
            a = ask(video.path, f"when is the {label} shown?", engine)
            score("when (shown)", _iou(_spans(a), (start, end)) >= 0.5, a)
            a = ask(video.path, f"is there a {label}?", engine)
            score("present (yes, at its time)",
                  a.answer.startswith("yes") and _iou(_spans(a), (start, end)) >= 0.5, a)  # fmt: skip
            other = labels[(v * 5 + i + len(labels) // 2) % len(labels)]
            a = ask(video.path, f"is there a {other}?", engine)
            score("present (no)", a.answer.startswith("no"), a)
        a = ask(video.path, "what is said?", engine)
        score("refuse (what is said, silent track)", a.answer == CANT_TELL, a)
        a = ask(video.path, "what can be heard?", engine)
        score("heard (silence)", a.answer.startswith("silence"), a)
    return n


def _written(engine: Any, tmp: Path, score: _Tally) -> dict[str, Any]:
    from sensorium.perceive.ask import ask

    signs = [s for s in tuxpaint_stamps() if "roadsigns" in str(s.image)]
    half = (len(signs) + 1) // 2
    read = 0
    for v, group in enumerate((signs[:half], signs[half:])):
        shots = [Shot(s.image, 3.0, None, s.caption) for s in group]
        video = write_video(tmp / f"signs-{v}.mp4", shots, audio="none")
        a = ask(video.path, "what does the sign say?", engine)
        for start, end, caption in video.intervals:
            words = _at(a, (start, end))
            if words:  # as for images: scored where text was read at all
                read += 1
                got = set(re.findall(r"[a-z]+", words.lower()))
                score("written (sign with text read)", got <= set(
                    re.findall(r"[a-z]+", caption.lower())), a)  # fmt: skip
    return {"signs": len(signs), "read": read}


def _coloured(stamps: list[Stamp]) -> list[tuple[Stamp, str]]:
    out = []
    for s in stamps:
        words = s.caption.lower().strip(" .!").split()
        truth = next((c for c in COLOURS if c in words), None)
        if truth and s.category != "people":
            out.append((s, truth))
    return out


def _colours(engine: Any, tmp: Path, score: _Tally, coloured: list[tuple[Stamp, str]]) -> int:
    from sensorium.perceive.ask import ask

    chosen = coloured[::3][:15]
    for v in range(0, len(chosen), 5):
        part = chosen[v : v + 5]
        video = write_video(tmp / f"colours-{v}.mp4", [Shot(s.image, 3.0) for s, _ in part],
                            audio="none")  # fmt: skip
        a = ask(video.path, "what colour is it?", engine)
        for (start, end, _), (_, truth) in zip(video.intervals, part):
            score("colour (of the shot)", truth in (_at(a, (start, end)) or ""), a)
        a = ask(video.path, "how many people are there?", engine)
        score("count (no one)", a.answer.startswith("no one"), a)
    return len(chosen)


def _people(engine: Any, tmp: Path, score: _Tally, objects: list[Stamp]) -> int:
    from sensorium.perceive.ask import ask

    faces = _lfw()[:100]
    smiling = sorted(LFW_SMILING)[: FACES // 2]
    plain = [i for i in range(100) if i not in LFW_SMILING | LFW_UNSURE][: FACES // 2]
    for n, i in enumerate(smiling + plain):
        face = tmp / f"lfw{i}.png"
        faces[i].image.save(face)
        shots = [Shot(face, 3.0), Shot(objects[n % len(objects)].image, 3.0)]
        video = write_video(tmp / f"person-{i}.mp4", shots, audio="none")
        person = video.intervals[0][:2]
        a = ask(video.path, "how many people are there?", engine)
        score("count (one person, at its time)",
              a.answer.startswith("1") and _at(a, person) is not None, a)  # fmt: skip
        a = ask(video.path, "is the person smiling?", engine)
        score("mood (smiling or not)", ("smiling" in (_at(a, person) or "")) == (i in LFW_SMILING),
              a)  # fmt: skip
    return len(smiling) + len(plain)


def run_video(tmp: Path) -> dict[str, Any]:
    """The video questions above, each kind scored: {"per_kind": {kind: {"n", "right"}}, ...}."""
    from sensorium.engine import Engine
    from sensorium.perceive.ask import question_kind

    engine = Engine()
    t0 = time.perf_counter()
    kinds = [question_kind(q, engine)[0] == k for q, k in VIDEO_KINDS.items()]
    score = _Tally()
    stamps = tuxpaint_stamps()
    coloured = _coloured(stamps)
    out: dict[str, Any] = {"kind": {"n": len(kinds), "right": int(sum(kinds))}}
    out["videos"] = {"tuxpaint": _tuxpaint(engine, tmp, score), "photos": _photos(engine, tmp, score)}
    out["signs"] = _written(engine, tmp, score)
    out["videos"]["colours"] = _colours(engine, tmp, score, coloured)
    out["videos"]["faces"] = _people(engine, tmp, score, [s for s, _ in coloured[1::3]])
    out["per_kind"] = {k: {"n": len(v), "right": int(sum(v))} for k, v in score.per_kind.items()}
    out["misses"] = score.examples
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def run(tmp: Path) -> dict[str, Any]:
    out = _run_images()
    out["video"] = run_video(tmp)
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    lines = _markdown_images(data) if "per_kind" in data else []
    v = data.get("video")
    if not v:
        return lines
    k, n = v["kind"], v["videos"]
    lines += ["", "### ask on videos (benchmarks/ask.py)", "",
              f"Videos built from real parts: {n['tuxpaint']} of 5 Tux Paint animals each named "
              f"aloud (real recordings), {n['photos']} of 5 ImageNet photos over a silent track, "
              f"Tux Paint road signs ({v['signs']['signs']}) and coloured stamps "
              f"({n['colours']}), {n['faces']} LFW faces each before an object. A timed answer "
              "is right when the time it names overlaps the truth with IoU >= 0.5. Video "
              f"question kinds recognised on {k['n']} held-out paraphrases: {k['right']} right.",
              "", "| question kind (video) | right / asked |", "|---|---|"]  # fmt: skip
    lines += [f"| {n} | {r['right']} / {r['n']} |" for n, r in v["per_kind"].items()]
    return [*lines, ""]


if __name__ == "__main__":
    import json
    import sys

    with tempfile.TemporaryDirectory() as d:
        result = {"video": run_video(Path(d))} if sys.argv[1:] == ["video"] else run(Path(d))
    print(json.dumps(result, indent=1))
    print("\n".join(markdown(result)))
