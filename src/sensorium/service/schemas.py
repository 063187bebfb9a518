"""What the routes answer, declared: the fields every answer holds, typed; the library's own
``to_json`` may add more (``extra="allow"``), which a client keeps as additional properties."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Answer",
    "Cards",
    "Chip",
    "Duplicates",
    "Explanation",
    "Faces",
    "Health",
    "Hit",
    "ItemDetails",
    "Job",
    "Jobs",
    "ParsedQuery",
    "PeopleList",
    "Perceived",
    "PersonOut",
    "SearchResults",
    "Stats",
    "Ticket",
    "Watch",
]

Kind = Literal["image", "audio", "video", "text"]  # store.base.KINDS, as the schema's enum
_OPEN = ConfigDict(extra="allow")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    models_loaded: bool = Field(description="The models are loaded (the first search is fast).")
    uptime_s: float = Field(ge=0)


class Explanation(BaseModel):
    """Why a result matched (``search.explain.Explanation``): each part's score, the human
    ``lines`` every front end shows, and the data they say, each key only where it applies:
    ``moment`` {start, end}, ``transcript``, ``labels`` [{label, score}], ``seen``,
    ``heard``, ``said``, ``written``, ``text``, ``matched`` and ``part_scores`` (a video
    moment's parts), ``words``, ``keyword`` {word, in, at, query, by}, ``not``, ``near``
    {within_km, km, place, chosen, point}, ``shared_labels`` (more like this),
    ``shared_image_labels``, ``shared_audio_labels``, ``shared_like_labels``, ``target``."""

    model_config = _OPEN
    parts: dict[str, float] = Field(description="Query part (text, image, audio, keyword, "
                                    "item, ...) -> its score.")  # fmt: skip
    lines: list[str] = Field(description='Best first, each "<tag> <text>": its first word is '
                             "one of moment, matched, said, seen, heard, written, typed, shares, "
                             "near, words, only, without.")  # fmt: skip


class Hit(BaseModel):
    """A search result: a file, or a video at its best moment (``start``, ``end``)."""

    model_config = _OPEN
    id: str
    path: str
    type: Kind
    score: float
    start: float | None = Field(description="Seconds, for a video moment; else null.")
    end: float | None
    explanation: Explanation = Field(description="What matched, as data and as lines.")
    media_url: str
    thumbnail_url: str
    weak: bool = Field(description="No good match: under the calibrated cut (folded away).")


class Chip(BaseModel):
    """One part of the query string as it was read, where it is written in it."""

    key: str = Field(description="type, said, seen, heard, written, camera, after, before, "
                     "path, keyword, not (a concept left out), phrase (exact words).")  # fmt: skip
    value: str
    start: int = Field(ge=0, description="Its characters in the query string: [start, end).")
    end: int = Field(ge=0)


class ParsedQuery(BaseModel):
    text: str | None = Field(description="The words searched for (by meaning and as words).")
    chips: list[Chip]


class SearchResults(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{
                "results": [{
                    "id": "3ea4c0", "path": "/home/me/clips/animals.mp4", "type": "video",
                    "score": 0.557, "start": 9.0, "end": 13.0,
                    "explanation": {"moment": {"start": 9.0, "end": 13.0}, "seen": ["lion"],
                                    "said": "Lion", "matched": "seen", "parts": {"text": 0.43},
                                    "lines": ["moment 9.0–13.0 s", "said “Lion”", "seen lion",
                                              "matched on what is seen"]},
                    "media_url": "/api/items/3ea4c0/media",
                    "thumbnail_url": "/api/items/3ea4c0/thumbnail", "weak": False,
                }],
                "total": 57, "offset": 0, "weak": 41, "sort": "relevance",
                "cursor": "Qm9vay1tYXJrLTE.10",
                "query": {"text": "lion", "chips": [
                    {"key": "type", "value": "video", "start": 0, "end": 10}]},
                "seconds": 0.02,
            }]
        }
    )  # fmt: skip
    results: list[Hit]
    seconds: float = Field(ge=0)
    total: int | None = Field(None, ge=0, description="Results ranked (a search's candidates).")
    offset: int | None = Field(None, ge=0, description="Of this page's first result.")
    weak: int | None = Field(None, ge=0, description="Results, of total, that are no good match.")
    sort: Literal["relevance", "taken", "added"] | None = None
    cursor: str | None = Field(None, description="The next page of the same ranking (pinned); "
                               "null after the last.")  # fmt: skip
    query: ParsedQuery | None = Field(None, description="The query string as it was read.")


class ItemDetails(BaseModel):
    """Everything stored about an item but its vectors; a video's ``moments``."""

    model_config = _OPEN
    id: str
    path: str
    kind: Kind
    media_url: str
    thumbnail_url: str
    start: float
    end: float


class Duplicates(BaseModel):
    groups: list[dict[str, Any]] = Field(description="{kind, score, items: [{id, path, "
                                         "similarity}]}, the one to keep first.")  # fmt: skip


class Perceived(BaseModel):
    results: list[dict[str, Any]] = Field(
        description="One per upload, named by its file name; an unusable one has `error`."
    )


class Answer(BaseModel):
    """An answer about an upload, from what is perceived in it."""

    model_config = _OPEN
    path: str = Field(description="The upload's file name.")
    question: str
    kind: str = Field(description="What the question asks for: count, shown, heard, ...")
    answer: str = Field(description='"I can\'t tell" when nothing perceived answers it.')
    confidence: float
    evidence: list[dict[str, Any]] = Field(description="{from, what, score}, timed for a video.")


class Ticket(BaseModel):
    """A triaged support ticket; each finding names the modalities it came from."""

    model_config = _OPEN
    modalities: list[Literal["text", "image", "audio"]] = Field(min_length=1)


class Job(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    paths: int = Field(ge=0, description="Paths given.")
    total: int | None = Field(ge=0, description="Files to encode, once planned.")
    done: int = Field(ge=0)
    failed: list[dict[str, Any]] = Field(description="[{path, error}]")
    report: dict[str, Any] | None
    error: str | None
    created: float
    finished: float | None


class Jobs(BaseModel):
    jobs: list[Job]


class Watch(BaseModel):
    """Where ``serve --watch``'s watcher stands (``store.watch.WatchStatus``)."""

    folders: list[str] = Field(description="The folders watched.")
    observer: Literal["inotify", "polling"] | None = Field(
        description="How changes are heard; null before it starts.")  # fmt: skip
    watching: bool = Field(description="Caught up with the folders, and following them.")
    pending: int = Field(ge=0, description="Changed files waiting for their writes to settle.")
    batches: int = Field(ge=0, description="Batches committed since the service started.")
    added: int = Field(ge=0)
    updated: int = Field(ge=0)
    removed: int = Field(ge=0)
    failed: int = Field(ge=0)
    last_batch: float | None = Field(description="When the last batch was committed (Unix s).")
    error: str | None = Field(description="What stopped the watcher, if something did.")


class Stats(BaseModel):
    model_config = _OPEN
    items: int = Field(ge=0)
    by_type: dict[str, int]
    roots: list[str]
    watch: Watch | None = Field(description="The watcher, with `--watch`; else null.")


class Cards(BaseModel):
    models: list[dict[str, Any]]


class PersonOut(BaseModel):
    """One person: the faces grouped together, the name given, a face crop to show."""

    model_config = _OPEN
    id: int
    name: str | None
    faces: int = Field(description="How many faces.")
    files: int = Field(description="In how many files.")
    face: str = Field(description="The id of the clearest face.")
    crop_url: str


class PeopleList(BaseModel):
    enabled: bool = Field(description="Whether ingest recognises faces (a collection setting).")
    people: list[PersonOut]


class Faces(BaseModel):
    faces: list[dict[str, Any]] = Field(description="{face_id, item_id, box, score, person, "
                                        "crop_url, item_url}, clearest first.")  # fmt: skip
