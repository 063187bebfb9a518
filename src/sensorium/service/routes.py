"""The JSON API under ``/api``: each route checks its input, calls the library and renders
the library's own ``to_json``. Model work runs off the event loop through ``model_call``."""

from __future__ import annotations

import dataclasses
import mimetypes
import time
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

import sensorium
from sensorium.api import model_cards
from sensorium.errors import NotFoundError, UsageError
from sensorium.perceive import (
    ask,
    iter_classify,
    iter_describe,
    iter_read,
    iter_transcribe,
    triage,
)
from sensorium.search import Hit, parse_weights
from sensorium.service import thumbs
from sensorium.service.state import Service
from sensorium.store.base import Filter as StoreFilter

__all__ = ["router"]

router = APIRouter(prefix="/api")
CHUNK = 1 << 20  # bytes copied at a time from an upload to its file
MAX_FILES = 16  # files per classify, transcribe, describe or read request


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


E = Annotated[Service, Depends(service)]
K = Annotated[int, Query(ge=1, le=100, description="How many results.")]
KindQ = Annotated[str | None, Query(alias="type", description="image | audio | video | text")]
PathQ = Annotated[str | None, Query(description="Only paths matching this glob.")]
NotQ = Annotated[list[str] | None, Query(alias="not", description="Concepts to leave out.")]
LikeQ = Annotated[str | None, Query(description="More like this item (id).")]
KeywordsQ = Annotated[bool, Query(description="Also match the words (fused by rank).")]


class Filters(BaseModel):
    """Metadata filters beyond type and path (query parameters of the same names)."""

    min_duration: float | None = Field(None, ge=0, description="Seconds.")
    max_duration: float | None = Field(None, ge=0)
    min_size: int | None = Field(None, ge=0, description="Bytes.")
    max_size: int | None = Field(None, ge=0)
    since: float | None = Field(None, description="Ingested at or after (Unix seconds).")
    taken_after: float | None = Field(None, description="EXIF date taken (Unix seconds).")
    taken_before: float | None = None
    camera: str | None = Field(None, max_length=200, description="Part of the EXIF camera.")

    def to_filter(self) -> StoreFilter:
        return StoreFilter(**self.model_dump())


FiltersQ = Annotated[Filters, Depends()]


def hit_json(hit: Hit) -> dict[str, Any]:
    """A search hit, with where to fetch its media and thumbnail."""
    out = {"start": None, "end": None, **hit.to_json()}
    out["media_url"] = f"/api/items/{hit.item.id}/media"
    out["thumbnail_url"] = f"/api/items/{hit.item.id}/thumbnail"
    return out


class SearchResults(BaseModel):
    results: list[dict[str, Any]]
    seconds: float


class IngestRequest(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=1000, description="Under the --root folders.")


@router.get("/health")
async def health(e: E) -> dict[str, Any]:
    return {"status": "ok", "version": sensorium.__version__, "models_loaded": e.ready,
            "uptime_s": round(time.time() - e.started, 1)}  # fmt: skip


@router.get("/search", response_model=SearchResults)
async def search_get(
    e: E,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for.")],
    filters: FiltersQ,
    k: K = 10,
    kind: KindQ = None,
    path: PathQ = None,
    target: Annotated[str | None, Query(alias="in", description="seen | heard | said")] = None,
    negative: NotQ = None,
    like: LikeQ = None,
    keywords: KeywordsQ = True,
) -> dict[str, Any]:
    """Search by text ("beach -people" leaves people out); a video is returned at its best
    moment (start, end). Words said, written or typed are matched too, and explained."""
    t0 = time.perf_counter()
    where = filters.to_filter()
    hits = await e.model_call(lambda: e.collection.search(
        q, None, None, None, k, kind, path, target, negative, like, where, keywords))  # fmt: skip
    return {"results": [hit_json(h) for h in hits], "seconds": round(time.perf_counter() - t0, 3)}


async def _save(upload: UploadFile, folder: str, index: int) -> Path:
    """Write an upload to its own file (the body is already bounded by the guard)."""
    path = Service.upload_path(folder, upload.filename, index)
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        while chunk := await upload.read(CHUNK):
            f.write(chunk)
    if path.stat().st_size == 0:
        raise UsageError(f"{upload.filename or 'upload'}: the file is empty")
    return path


async def _checked(e: Service, uploads: list[UploadFile], folder: str) -> list[Path]:
    """Save and decode each upload: one that is unsupported or corrupt ends the request."""
    if len(uploads) > MAX_FILES:
        raise UsageError(f"at most {MAX_FILES} files a request")
    paths = [await _save(u, folder, i) for i, u in enumerate(uploads)]
    for p in paths:
        await e.model_call(Service.check_media, p)
    return paths


@router.post("/search", response_model=SearchResults)
async def search_post(
    e: E,
    q: Annotated[str | None, Form(max_length=1000)] = None,
    image: Annotated[UploadFile | None, File(description="An image to search with.")] = None,
    audio: Annotated[UploadFile | None, File(description="A sound or speech clip.")] = None,
    weights: Annotated[str | None, Form(description="e.g. text=1,image=0.5")] = None,
    k: Annotated[int, Form(ge=1, le=100)] = 10,
    kind: Annotated[str | None, Form(alias="type")] = None,
    path: Annotated[str | None, Form()] = None,
    target: Annotated[str | None, Form(alias="in")] = None,
    negative: Annotated[list[str] | None, Form(alias="not")] = None,
    like: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Search by text and/or an uploaded image and/or audio, with weights."""
    t0 = time.perf_counter()
    with Service.upload_dir() as folder:
        image_path = (await _checked(e, [image], folder))[0] if image else None
        audio_path = (await _checked(e, [audio], folder + "/a"))[0] if audio else None
        hits = await e.model_call(lambda: e.collection.search(
            q or None, image_path, audio_path, parse_weights(weights), k, kind or None,
            path or None, target or None, negative, like or None))  # fmt: skip
    return {"results": [hit_json(h) for h in hits], "seconds": round(time.perf_counter() - t0, 3)}


@router.get("/items/{item_id}")
async def item(e: E, item_id: str) -> dict[str, Any]:
    """Everything stored about an item but its vectors; a video with its moments."""
    data = await anyio.to_thread.run_sync(e.collection.details, item_id)
    item = e.collection.item(item_id)
    data |= {"media_url": f"/api/items/{item.id}/media",
             "thumbnail_url": f"/api/items/{item.id}/thumbnail",
             "start": item.start, "end": item.end}  # fmt: skip
    for m in data.get("moments", []):
        m["thumbnail_url"] = f"/api/items/{m['id']}/thumbnail"
    return data


@router.get("/items/{item_id}/media", response_class=FileResponse)
async def item_media(e: E, item_id: str) -> FileResponse:
    """The item's file, by id only; HTTP Range requests get 206 and Content-Range."""
    item = e.collection.item(item_id)
    path = Path(item.path)
    if not path.is_file():
        raise NotFoundError(f"{path.name}: the file is gone")
    kind = mimetypes.guess_type(path.name)[0] or {"text": "text/plain"}.get(item.kind)
    return FileResponse(path, media_type=kind or "application/octet-stream",
                        headers={"Cache-Control": "private, max-age=60"})  # fmt: skip


@router.get("/items/{item_id}/thumbnail", response_class=Response)
async def item_thumbnail(e: E, item_id: str) -> Response:
    """A small picture: the image, a video moment's frame, a sound's waveform."""
    item = e.collection.item(item_id)
    data, media_type = await anyio.to_thread.run_sync(thumbs.thumbnail, item)
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=300"})  # fmt: skip


@router.get("/items/{item_id}/similar", response_model=SearchResults)
async def item_similar(e: E, item_id: str, filters: FiltersQ, k: K = 10, kind: KindQ = None,
                       path: PathQ = None) -> dict[str, Any]:  # fmt: skip
    """More like this: the files nearest to the item."""
    t0 = time.perf_counter()
    where = filters.to_filter()
    hits = await anyio.to_thread.run_sync(
        lambda: e.collection.similar(item_id, k, kind, path, where)
    )
    return {"results": [hit_json(h) for h in hits], "seconds": round(time.perf_counter() - t0, 3)}


@router.get("/duplicates")
async def duplicates(
    e: E,
    threshold: Annotated[
        float | None,
        Query(
            gt=0,
            le=1,
            description="Images: cosine of features; sounds: correlation "
            "of aligned spectrograms (default per kind).",
        ),
    ] = None,
    kind: Annotated[str | None, Query(alias="type", description="image | audio")] = None,
) -> dict[str, Any]:
    """Groups of near-identical images and sounds, the one to keep first."""
    groups = await anyio.to_thread.run_sync(lambda: e.collection.duplicates(threshold, kind))
    return {"groups": [g.to_json() for g in groups]}


Files = Annotated[list[UploadFile], File(description="One or more files.")]


async def _perceive(e: Service, files: list[UploadFile], run: Any) -> dict[str, Any]:
    """Save and check the uploads, run ``run(paths)`` (an iterator of results), and name each
    result by its upload's file name."""
    with Service.upload_dir() as folder:
        paths = await _checked(e, files, folder)
        results = await e.model_call(lambda: list(run(paths)))
    names = {str(p): f.filename or p.name for p, f in zip(paths, files)}
    return {"results": [dataclasses.replace(r, path=names.get(r.path, Path(r.path).name)).to_json()
                        for r in results]}  # fmt: skip


@router.post("/classify")
async def classify(
    e: E, files: Files, labels: Annotated[str, Form(description="Comma-separated labels.")],
    top: Annotated[int, Form(ge=1, le=100)] = 3,
) -> dict[str, Any]:  # fmt: skip
    """Zero-shot classification of each file against the labels."""
    label_list = [lb.strip() for lb in labels.split(",") if lb.strip()]
    return await _perceive(
        e, files, lambda ps: iter_classify(ps, label_list, top=top, engine=e.engine)
    )


@router.post("/transcribe")
async def transcribe(
    e: E, files: Files,
    model: Annotated[str, Form(description="tiny.en | base")] = "base",
    hint: Annotated[str | None, Form()] = None,
    language: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:  # fmt: skip
    """Speech to text with timestamps; silence, music and noise give empty text."""
    return await _perceive(e, files, lambda ps: iter_transcribe(
        ps, model, hint or None, language or None, engine=e.engine))  # fmt: skip


@router.post("/describe")
async def describe(
    e: E, files: Files, read: Annotated[bool | None, Form(description="Read text.")] = None
) -> dict[str, Any]:
    """What images show and sounds are, in words."""
    return await _perceive(e, files, lambda ps: iter_describe(ps, read, engine=e.engine))


@router.post("/read")
async def read(e: E, files: Files) -> dict[str, Any]:
    """Text read in images (OCR)."""
    return await _perceive(e, files, lambda ps: iter_read(ps, engine=e.engine))


@router.post("/ask")
async def ask_post(
    e: E,
    file: Annotated[UploadFile, File(description="An image, a sound or a video.")],
    question: Annotated[str, Form(min_length=1, max_length=500)],
) -> dict[str, Any]:
    """Answer a question about an image, a sound or a video from what is perceived in it, with
    the evidence (for a video, each piece timed); "I can't tell" when nothing perceived answers
    it."""
    with Service.upload_dir() as folder:
        (path,) = await _checked(e, [file], folder)
        answer = await e.model_call(lambda: ask(path, question, e.engine))
    if answer.error:
        raise UsageError(answer.error)
    return answer.to_json()


@router.post("/triage")
async def triage_post(
    e: E,
    text: Annotated[str | None, Form(max_length=10000)] = None,
    image: Annotated[UploadFile | None, File(description="A photo or screenshot.")] = None,
    audio: Annotated[UploadFile | None, File(description="A voice message.")] = None,
    products: Annotated[
        bool, Form(description="Find the product in the served collection.")
    ] = False,
) -> dict[str, Any]:
    """Triage a support ticket: category, sentiment and emotion, urgency, what the image
    shows, the product, a drafted reply; each finding names the modality it came from."""
    with Service.upload_dir() as folder:
        image_path = (await _checked(e, [image], folder))[0] if image else None
        audio_path = (await _checked(e, [audio], folder + "/a"))[0] if audio else None
        ticket = await e.model_call(lambda: triage(
            text or None, image_path, audio_path, e.collection if products else None,
            engine=e.engine))  # fmt: skip
    return ticket.to_json()


@router.post("/ingest", status_code=202)
async def ingest(e: E, body: IngestRequest) -> dict[str, Any]:
    """Ingest files and folders under the --root folders, as a job; searches go on meanwhile."""
    job = await anyio.to_thread.run_sync(e.submit_ingest, body.paths)
    return job.to_json()


@router.get("/jobs")
async def jobs(e: E) -> dict[str, Any]:
    return {"jobs": [j.to_json() for j in sorted(e.jobs.values(), key=lambda j: -j.created)]}


@router.get("/jobs/{job_id}")
async def job(e: E, job_id: str) -> dict[str, Any]:
    """An ingest job's progress: state, done of total, failures with reasons."""
    return e.job(job_id).to_json()


@router.get("/stats")
async def stats(e: E) -> dict[str, Any]:
    data = await anyio.to_thread.run_sync(e.collection.stats)
    data.pop("folder", None)  # a server path the client has no use for
    data["roots"] = [str(r) for r in e.roots]
    return data


@router.get("/models")
async def models() -> dict[str, Any]:
    return {"models": await anyio.to_thread.run_sync(model_cards)}
