"""The JSON API under ``/api``: each route checks its input, calls the library and renders
the library's own ``to_json``. Model work runs off the event loop through ``model_call``."""

from __future__ import annotations

import dataclasses
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

import sensorium
from sensorium.api import model_cards
from sensorium.errors import NotFoundError, UnsupportedMediaError, UsageError
from sensorium.media.types import MediaKind
from sensorium.perceive import (
    ask,
    iter_classify,
    iter_describe,
    iter_read,
    iter_transcribe,
    triage,
)
from sensorium.search import Hit, Page, Parsed, parse, parse_weights
from sensorium.search import Query as SearchQuery
from sensorium.search.near import NEAR_PATTERN, parse_near
from sensorium.search.search import CURSOR
from sensorium.search.syntax import ACCEPTED
from sensorium.service import thumbs
from sensorium.service.contract import (
    Holds,
    InvalidInput,
    error_response,
    errors,
    flag,
    nonblank,
)
from sensorium.service.protocol import HEAD_KEY, unservable_range
from sensorium.service.schemas import (
    Answer,
    Cards,
    Duplicates,
    Health,
    ItemDetails,
    Job,
    Jobs,
    Perceived,
    SearchResults,
    Stats,
    Ticket,
)
from sensorium.service.state import Service
from sensorium.store.base import Filter as StoreFilter

__all__ = ["router"]


async def _no_empty_fields(request: Request) -> None:
    """An empty form field is refused (422), not taken as left out: FastAPI would drop it,
    and the schema (a pattern, an enum, a length) refuses it."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return
    route = request.scope.get("route")
    declared = {f.alias for f in getattr(getattr(route, "dependant", None), "body_params", [])}
    for name, value in (await request.form()).multi_items():
        if value == "" and name in declared:
            raise InvalidInput(name, f"{name}: empty (leave the field out instead)")


# Operation ids are the route functions' names: a generated client calls ``search_get``
router = APIRouter(prefix="/api", generate_unique_id_function=lambda route: route.name,
                   dependencies=[Depends(_no_empty_fields)])  # fmt: skip
CHUNK = 1 << 20  # bytes copied at a time from an upload to its file
MAX_FILES = 16  # files per classify, transcribe, describe or read request
MAX_SIZE = 2**63 - 1  # bytes: the store's sizes are 64-bit
MAX_SECONDS = 1e9  # a duration bound: ~32 years, within the store's float32 durations
MAX_TIME = 1e11  # Unix seconds either side of 1970: ~3,000 years


async def service(request: Request) -> Service:
    """The request's service (async: FastAPI runs a plain function's dependency in a
    thread, a hop that costs more than the lookup)."""
    return request.app.state.service  # type: ignore[no-any-return]


Kind = Literal["image", "audio", "video", "text"]  # store.base.KINDS
Target = Literal["seen", "heard", "said", "written"]  # search.query.TARGETS


@dataclass(frozen=True)
class Syntax(Holds):
    """A query string in the search syntax: a token the syntax refuses is named (422), and
    the schema says what the syntax reads (``search.syntax.ACCEPTED``: words to look for,
    filters and concepts to leave out)."""

    def check(self, value: str) -> str:
        try:
            parse(value)
        except UsageError as err:
            raise ValueError(str(err)) from None
        return super().check(value)


SearchText = Annotated[
    str,
    Syntax(ACCEPTED, "say what to look for, in the search syntax (type:video dog -people); "
           "words and quoted words hold no dash first, and no colon but in a filter"),
]  # fmt: skip
# "text=1,image=0.5": each part at most once a name, a weight in [0, 1e6)
_WEIGHT = r"(text|image|audio|like)=(\d{1,6}(\.\d{0,17})?|\.\d{1,17})"
WEIGHTS = rf"^{_WEIGHT}(,{_WEIGHT})*$"

E = Annotated[Service, Depends(service)]
K = Annotated[int, Query(ge=1, le=100, description="How many results.")]
KindQ = Annotated[Kind | None, Query(alias="type", description="Only items of this kind.")]
PathQ = Annotated[str | None, Query(max_length=1000, description="Only paths matching this glob.")]
Concepts = list[Annotated[str, Field(min_length=1, max_length=1000)]]
NotQ = Annotated[
    Concepts | None, Query(alias="not", max_length=20, description="Concepts to leave out.")
]
# An item's id or path: any text a path can be, so no NUL
NO_NUL = "^[^\x00]*$"
ItemId = Annotated[str, PathParam(pattern=NO_NUL, description="An item's id (or path).")]
LikeQ = Annotated[
    str | None,
    Query(min_length=1, max_length=1000, pattern=NO_NUL, description="More like this item."),
]
Flag = Annotated[bool, BeforeValidator(flag)]  # true or false, nothing else
NEAR_HELP = ("Photos taken near a place (Paris; Paris, Texas; Paris, 5km) or a point "
             "(48.85,2.35,10km): 25 km unless given. A place that is not known: 404.")  # fmt: skip
KeywordsQ = Annotated[Flag, Query(description="Also match the words (fused by rank).")]


class Filters(BaseModel):
    """Metadata filters beyond type and path (query parameters of the same names)."""

    min_duration: float | None = Field(None, ge=0, le=MAX_SECONDS, description="Seconds.")
    max_duration: float | None = Field(None, ge=0, le=MAX_SECONDS)
    min_size: int | None = Field(None, ge=0, le=MAX_SIZE, description="Bytes.")
    max_size: int | None = Field(None, ge=0, le=MAX_SIZE)
    since: float | None = Field(None, ge=-MAX_TIME, le=MAX_TIME,
                                description="Ingested at or after (Unix seconds).")  # fmt: skip
    taken_after: float | None = Field(None, ge=-MAX_TIME, le=MAX_TIME,
                                      description="EXIF date taken (Unix seconds).")  # fmt: skip
    taken_before: float | None = Field(None, ge=-MAX_TIME, le=MAX_TIME)
    camera: str | None = Field(None, max_length=200, description="Part of the EXIF camera.")
    keyword: str | None = Field(
        None, min_length=1, max_length=200, description="A keyword (XMP, IPTC, a folder)."
    )
    near: str | None = Field(None, max_length=200, pattern=NEAR_PATTERN, description=NEAR_HELP,
                             examples=["Paris", "48.85,2.35,10km"])  # fmt: skip

    def empty(self) -> bool:
        """A range whose low end is above its high end: nothing lies in it."""
        pairs = ((self.min_duration, self.max_duration), (self.min_size, self.max_size),
                 (self.taken_after, self.taken_before))  # fmt: skip
        return any(lo is not None and hi is not None and lo > hi for lo, hi in pairs)

    def to_filter(self) -> StoreFilter:
        given = {name: getattr(self, name) for name in Filters.model_fields}
        near = given.pop("near")
        return StoreFilter(**given, near=parse_near(near) if near else None)


FiltersQ = Annotated[Filters, Query()]  # query parameters, read without a dependency call


def hit_json(hit: Hit) -> dict[str, Any]:
    """A search hit, with where to fetch its media and thumbnail."""
    out = {"start": None, "end": None, **hit.to_json()}
    out["media_url"] = f"/api/items/{hit.item.id}/media"
    out["thumbnail_url"] = f"/api/items/{hit.item.id}/thumbnail"
    return out


def _results(hits: list[Hit], t0: float) -> dict[str, Any]:
    return {"results": [hit_json(h) for h in hits], "seconds": round(time.perf_counter() - t0, 3)}


def _page(page: Page | None, parsed: Parsed, t0: float) -> dict[str, Any]:
    """A page of search results with the total, the weak count, the next page's cursor and
    the parts the query string was read as (``None``: a filter range that holds nothing)."""
    empty = {"total": 0, "offset": 0, "weak": 0, "sort": "relevance", "cursor": None}
    body = page.to_json() if page is not None else empty
    body["results"] = [hit_json(h) for h in page.hits] if page is not None else []
    return body | {"query": parsed.to_json(), "seconds": round(time.perf_counter() - t0, 3)}


Sort = Literal["relevance", "taken", "added"]  # search.SORTS
OffsetQ = Annotated[int, Query(ge=0, le=100_000, description="Skip this many results.")]
SortQ = Annotated[Sort, Query(description="relevance, or newest first by date taken or added.")]
CursorQ = Annotated[
    str | None,
    Query(pattern=CURSOR.pattern, max_length=50,
          description="The `cursor` of the page before: the next page of the same ranking, "
          "pinned while files are added (offset is then the cursor's)."),
]  # fmt: skip


class SearchOptions(Filters):
    """Everything a search takes beside its text and files, by the same names in GET's query
    parameters and in POST's form fields (the CLI's options, ``Collection.query``'s
    arguments): each option exists in every front end or in none."""

    weights: str | None = Field(
        None, pattern=WEIGHTS, max_length=200,
        description="Each part's weight, e.g. text=1,image=0.5 (parts: text, image, audio, "
        "like).",
    )  # fmt: skip
    k: int = Field(10, ge=1, le=100, description="How many results.")
    kind: Kind | None = Field(None, alias="type", description="Only items of this kind.")
    path: str | None = Field(None, min_length=1, max_length=1000,
                             description="Only paths matching this glob.")  # fmt: skip
    target: Target | None = Field(
        None, alias="in", description="Match the text against what is seen, heard or said only."
    )
    negative: Concepts | None = Field(None, alias="not", max_length=20,
                                      description="Concepts to leave out.")  # fmt: skip
    like: str | None = Field(None, min_length=1, max_length=1000, pattern=NO_NUL,
                             description="More like this item.")  # fmt: skip
    keywords: Flag = Field(True, description="Also match the words (fused by rank).")
    offset: int = Field(0, ge=0, le=100_000, description="Skip this many results.")
    sort: Sort = Field(
        "relevance", description="relevance, or newest first by date taken or added."
    )
    cursor: str | None = Field(
        None, pattern=CURSOR.pattern, max_length=50,
        description="The `cursor` of the page before: the next page of the same ranking, "
        "pinned while files are added (offset is then the cursor's).",
    )  # fmt: skip

    def query(self, e: Service, q: str | None, media: dict[MediaKind, Path]) -> SearchQuery:
        """The search these options ask for, as every front end builds one
        (``Collection.query``); weights of the given parts that are all 0 say nothing."""
        given = [*(["text"] if q else []), *(k.value for k in media)]
        given += ["like"] if self.like else []
        weights = parse_weights(self.weights)
        weights = weights if sum(weights.get(p, 1.0) for p in given) > 0 else {}
        return e.collection.query(
            q, image=media.get(MediaKind.IMAGE), audio=media.get(MediaKind.AUDIO),
            weights=weights, like=self.like, keywords=self.keywords, kind=self.kind,
            path=self.path, target=self.target, negative=tuple(self.negative or ()),
            filters=self.to_filter(),
        )  # fmt: skip

    def page(self, e: Service, query: SearchQuery) -> Page:
        return e.collection.page(query, self.k, self.offset, self.sort, self.cursor)


class IngestRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"paths": ["."]}]})
    paths: list[Annotated[str, Field(max_length=4096)]] = Field(
        min_length=1, max_length=1000,
        description="Files and folders under the --root folders; a relative path is taken "
        "from the first root.",
    )  # fmt: skip


@router.get("/health", response_model=Health, responses=errors())
async def health(e: E) -> dict[str, Any]:
    return {"status": "ok", "version": sensorium.__version__, "models_loaded": e.ready,
            "uptime_s": round(time.time() - e.started, 1)}  # fmt: skip


@router.get("/search", response_model=SearchResults, responses=errors(400, 404, 422, 503))
async def search_get(
    e: E,
    request: Request,
    q: Annotated[
        SearchText,
        Query(
            min_length=1,
            max_length=1000,
            description="What to look for.",
            examples=["a dog on the beach -people"],
        ),
    ],
    options: Annotated[SearchOptions, Query()],
) -> Response | dict[str, Any]:
    """Search by text in the search syntax (`type:video said:"gorilla" after:2021-06
    -people "an exact phrase"`: docs/service.md); a video is returned at its best moment
    (start, end). Words said, written or typed are matched too, and explained. A page of `k`
    from `offset` (or `cursor`) of `total`; `weak` results are no good match. A range filter
    whose low end is above its high end matches nothing."""
    t0 = time.perf_counter()
    parsed = parse(q)
    if options.empty():
        return _page(None, parsed, t0)

    asked = tuple(sorted(request.query_params.multi_items()))
    # An answer kept for this request at the store's version is the one a search would give
    # now (answers are kept only once the served index reads that version): no thread hop
    kept = e.answers.get(("search", e.collection.store.version(), asked))

    def run() -> SearchResults:
        """The answer, kept for this very request until the collection changes."""
        version = e.served_version()
        key = ("search", version, asked)
        page = options.page(e, options.query(e, q, {}))
        answer = SearchResults.model_validate(_page(page, parsed, t0))
        if version is not None and e.served_version() == version:  # nothing committed since
            e.answers.put(key, answer)
        return answer

    answer = kept if isinstance(kept, SearchResults) else await e.model_call(run)
    # serialised as FastAPI would from the declared model, without validating it again
    timed = answer.model_copy(update={"seconds": round(time.perf_counter() - t0, 3)})
    return Response(timed.model_dump_json(by_alias=True), media_type="application/json")


async def _save(upload: UploadFile, folder: str, index: int, field: str) -> Path:
    """Write an upload to its own file (the body is already bounded by the guard)."""
    path = Service.upload_path(folder, upload.filename, index)
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        while chunk := await upload.read(CHUNK):
            f.write(chunk)
    if path.stat().st_size == 0:
        raise InvalidInput(field, f"{upload.filename or 'upload'}: the file is empty")
    return path


async def _checked(e: Service, uploads: list[UploadFile], folder: str, field: str) -> list[Path]:
    """Save and decode each upload: one that is unsupported or corrupt ends the request."""
    return [p for p, _ in await _kinds(e, uploads, folder, field)]


async def _kinds(
    e: Service, uploads: list[UploadFile], folder: str, field: str
) -> list[tuple[Path, MediaKind]]:
    """As ``_checked``, with each upload's kind."""
    paths = [await _save(u, folder, i, field) for i, u in enumerate(uploads)]
    return [(p, await e.model_call(Service.check_media, p)) for p in paths]


async def _one(e: Service, upload: UploadFile | None, folder: str, field: str) -> Path | None:
    """An optional upload of the form, saved under ``folder/field`` and checked."""
    return (await _checked(e, [upload], f"{folder}/{field}", field))[0] if upload else None


@router.post("/search", response_model=SearchResults,
             responses=errors(400, 404, 413, 415, 422, 503))  # fmt: skip
async def search_post(
    e: E,
    options: Annotated[SearchOptions, Form()],
    q: Annotated[SearchText | None, Form(min_length=1, max_length=1000)] = None,
    image: Annotated[UploadFile | None, File(description="An image to search with.")] = None,
    audio: Annotated[UploadFile | None, File(description="A sound or speech clip.")] = None,
) -> dict[str, Any]:
    """Search by text (in the search syntax, as GET) and/or an uploaded image and/or audio
    and/or an item (like), with weights. At least one of them; `in` and `not` need the text.
    Paged as GET."""
    t0 = time.perf_counter()
    if not (q or image or audio or options.like):  # as the schema says (filters alone: in q)
        raise UsageError("give q, image, audio or like")
    parsed = parse(q or "")
    if options.empty():
        return _page(None, parsed, t0)
    with Service.upload_dir() as folder:
        files = ((MediaKind.IMAGE, image), (MediaKind.AUDIO, audio))
        media = {kind: path for kind, upload in files
                 if (path := await _one(e, upload, folder, kind.value))}  # fmt: skip
        page = await e.model_call(lambda: options.page(e, options.query(e, q or None, media)))
    return _page(page, parsed, t0)


@router.get("/items/{item_id}", response_model=ItemDetails, responses=errors(404))
async def item(e: E, item_id: ItemId) -> dict[str, Any]:
    """Everything stored about an item but its vectors; a video with its moments."""
    data = await anyio.to_thread.run_sync(e.collection.details, item_id)
    item = e.collection.item(item_id)
    data |= {"media_url": f"/api/items/{item.id}/media",
             "thumbnail_url": f"/api/items/{item.id}/thumbnail",
             "start": item.start, "end": item.end}  # fmt: skip
    for m in data.get("moments", []):
        m["thumbnail_url"] = f"/api/items/{m['id']}/thumbnail"
    for f in data.get("people", []):  # faces by id: the item's path is already in the answer
        f.pop("path", None)
        f["crop_url"] = f"/api/faces/{f['face_id']}/crop"
    return data


_FILE = {"schema": {"type": "string", "format": "binary"}}
_SERVED = ("image/*", "audio/*", "video/*", "text/plain", "application/octet-stream")
_MEDIA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file, as its kind's media type.",
          "content": dict.fromkeys(_SERVED, _FILE)},
    206: {"description": "The bytes a `Range` header asked for (several: multipart/byteranges).",
          "content": dict.fromkeys((*_SERVED, "multipart/byteranges"), _FILE),
          "headers": {"Content-Range": {"schema": {"type": "string"}, "required": True}}},
    **errors(404, 416),
}  # fmt: skip


def _media_type(path: Path, kind: str) -> str:
    """A text is served as plain text whatever its name says (never as HTML on this origin)."""
    guess = mimetypes.guess_type(path.name)[0] or ""
    if kind == MediaKind.TEXT:
        return "text/plain"
    return (
        guess if guess.split("/")[0] in ("image", "audio", "video") else "application/octet-stream"
    )


@router.get("/items/{item_id}/media", response_class=FileResponse, responses=_MEDIA_RESPONSES)
async def item_media(request: Request, e: E, item_id: ItemId) -> Response:
    """The item's file, by id only. A `Range` header gets 206 and Content-Range; one that is
    malformed or lies outside the file gets 416."""
    item = e.collection.item(item_id)
    path = Path(item.path)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not S_ISREG(stat.st_mode):
        raise NotFoundError(f"{path.name}: the file is gone")
    response = FileResponse(path, media_type=_media_type(path, item.kind), stat_result=stat,
                            headers={"Cache-Control": "private, max-age=60"})  # fmt: skip
    if why := unservable_range(request, stat.st_size, response):
        return error_response("range", why, headers={"Content-Range": f"bytes */{stat.st_size}"})
    if request.scope.get(HEAD_KEY):
        request.scope["method"] = "HEAD"  # routed as GET: now the file sends its headers only
    return response


@router.get("/items/{item_id}/thumbnail", response_class=Response, responses={
    200: {"description": "JPEG (an image, a video moment) or PNG (a waveform, a text).",
          "content": {"image/jpeg": _FILE, "image/png": _FILE}},
    **errors(404, 422)})  # fmt: skip
async def item_thumbnail(e: E, item_id: ItemId) -> Response:
    """A small picture: the image, a video moment's frame, a sound's waveform."""
    item = e.collection.item(item_id)
    data, media_type = await anyio.to_thread.run_sync(thumbs.thumbnail, item)
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=300"})  # fmt: skip


@router.get("/items/{item_id}/similar", response_model=SearchResults,
            responses=errors(404, 422))  # fmt: skip
async def item_similar(e: E, item_id: ItemId, filters: FiltersQ, k: K = 10, kind: KindQ = None,
                       path: PathQ = None) -> dict[str, Any]:  # fmt: skip
    """More like this: the files nearest to the item."""
    t0 = time.perf_counter()
    if filters.empty():
        e.collection.item(item_id)  # an unknown item is still 404
        return _results([], t0)
    where = filters.to_filter()
    hits = await anyio.to_thread.run_sync(
        lambda: e.collection.similar(item_id, k, kind, path, where)
    )
    return _results(hits, t0)


@router.get("/duplicates", response_model=Duplicates, responses=errors(422))
async def duplicates(
    e: E,
    threshold: Annotated[float | None, Query(
        gt=0, le=1, description="Images: cosine of features; sounds: correlation of aligned "
        "spectrograms (default per kind).")] = None,
    kind: Annotated[Literal["image", "audio"] | None, Query(alias="type")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Groups of near-identical images and sounds, the one to keep first."""
    groups = await anyio.to_thread.run_sync(lambda: e.collection.duplicates(threshold, kind))
    return {"groups": [g.to_json() for g in groups]}


Files = Annotated[list[UploadFile], File(max_length=MAX_FILES,
                                         description=f"One to {MAX_FILES} files.")]  # fmt: skip
PERCEIVE_ERRORS = errors(400, 413, 415, 422, 503)


async def _perceive(e: Service, files: list[UploadFile], run: Any) -> dict[str, Any]:
    """Save and check the uploads, run ``run(paths)`` (an iterator of results), and name each
    result by its upload's file name."""
    with Service.upload_dir() as folder:
        paths = await _checked(e, files, folder, "files")
        results = await e.model_call(lambda: list(run(paths)))
    names = {str(p): f.filename or p.name for p, f in zip(paths, files)}
    return {"results": [dataclasses.replace(r, path=names.get(r.path, Path(r.path).name)).to_json()
                        for r in results]}  # fmt: skip


@router.post("/classify", response_model=Perceived, responses=PERCEIVE_ERRORS)
async def classify(
    e: E, files: Files,
    labels: Annotated[str, Holds(nonblank(","), "give at least one label"), Form(max_length=10000,
                                description="Comma-separated labels, e.g. a bird,a car,music.")],
    top: Annotated[int, Form(ge=1, le=100)] = 3,
) -> dict[str, Any]:  # fmt: skip
    """Zero-shot classification of each file against the labels."""
    label_list = [lb.strip() for lb in labels.split(",") if lb.strip()]
    return await _perceive(
        e, files, lambda ps: iter_classify(ps, label_list, top=top, engine=e.engine)
    )


@router.post("/transcribe", response_model=Perceived, responses=PERCEIVE_ERRORS)
async def transcribe(
    e: E, files: Files,
    model: Annotated[str, Form(description="A Whisper model that is installed.")] = "base",
    hint: Annotated[
        str | None, Form(min_length=1, max_length=1000, description="Words to expect.")
    ] = None,
    language: Annotated[str | None, Form(description="A Whisper language code (default: "
                                         "detected).")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Speech to text with timestamps; silence, music and noise give empty text."""
    e.check_choice("transcribe", "model", model)
    if language is not None:
        e.check_choice("transcribe", "language", language)
    return await _perceive(e, files, lambda ps: iter_transcribe(
        ps, model, hint or None, language, engine=e.engine))  # fmt: skip


@router.post("/describe", response_model=Perceived, responses=PERCEIVE_ERRORS)
async def describe(
    e: E, files: Files, read: Annotated[Flag | None, Form(description="Read text.")] = None
) -> dict[str, Any]:
    """What images show and sounds are, in words."""
    return await _perceive(e, files, lambda ps: iter_describe(ps, read, engine=e.engine))


@router.post("/read", response_model=Perceived, responses=PERCEIVE_ERRORS)
async def read(e: E, files: Files) -> dict[str, Any]:
    """Text read in images (OCR)."""
    return await _perceive(e, files, lambda ps: iter_read(ps, engine=e.engine))


@router.post("/ask", response_model=Answer, responses=PERCEIVE_ERRORS)
async def ask_post(
    e: E,
    file: Annotated[UploadFile, File(description="An image, a sound or a video.")],
    question: Annotated[str, Form(min_length=1, max_length=500,
                                  description="e.g. how many people are in the picture?")],
) -> dict[str, Any]:  # fmt: skip
    """Answer a question about an image, a sound or a video from what is perceived in it, with
    the evidence (for a video, each piece timed); "I can't tell" when nothing perceived answers
    it."""
    name = file.filename or "upload"
    with Service.upload_dir() as folder:
        ((path, kind),) = await _kinds(e, [file], folder, "file")
        if kind is MediaKind.TEXT:
            raise UnsupportedMediaError(name, "a text file: nothing to perceive")
        answer = await e.model_call(lambda: ask(path, question, e.engine))
    if answer.error:
        raise UsageError(f"{Path(name).name}: {answer.error}")
    return answer.to_json() | {"path": Path(name).name}  # never the server's upload path


@router.post("/triage", response_model=Ticket, responses=errors(400, 413, 415, 422, 503))
async def triage_post(
    e: E,
    text: Annotated[
        Annotated[str, Holds(nonblank(), "the text holds nothing but spaces")] | None,
        Form(max_length=10000, description="The ticket's words."),
    ] = None,
    image: Annotated[UploadFile | None, File(description="A photo or screenshot.")] = None,
    audio: Annotated[UploadFile | None, File(description="A voice message.")] = None,
    products: Annotated[
        Flag, Form(description="Find the product in the served collection.")
    ] = False,
) -> dict[str, Any]:
    """Triage a support ticket (text, an image, a voice message: at least one): category,
    sentiment and emotion, urgency, what the image shows, the product, a drafted reply; each
    finding names the modality it came from."""
    with Service.upload_dir() as folder:
        image_path = await _one(e, image, folder, "image")
        audio_path = await _one(e, audio, folder, "audio")
        ticket = await e.model_call(lambda: triage(
            text, image_path, audio_path, e.collection if products else None,
            engine=e.engine))  # fmt: skip
    return ticket.to_json()


@router.post(
    "/ingest", status_code=202, response_model=Job, responses=errors(400, 403, 404, 413, 422)
)
async def ingest(e: E, body: IngestRequest) -> dict[str, Any]:
    """Ingest files and folders under the --root folders, as a job; searches go on meanwhile."""
    job = await anyio.to_thread.run_sync(e.submit_ingest, body.paths)
    return job.to_json()


@router.get("/jobs", response_model=Jobs, responses=errors())
async def jobs(e: E) -> dict[str, Any]:
    return {"jobs": [j.to_json() for j in sorted(e.jobs.values(), key=lambda j: -j.created)]}


@router.get("/jobs/{job_id}", response_model=Job, responses=errors(404))
async def job(e: E, job_id: str) -> dict[str, Any]:
    """An ingest job's progress: state, done of total, failures with reasons."""
    return e.job(job_id).to_json()


@router.get("/stats", response_model=Stats, responses=errors())
async def stats(e: E) -> dict[str, Any]:
    data = await anyio.to_thread.run_sync(e.collection.stats)
    data.pop("folder", None)  # a server path the client has no use for
    data["roots"] = [str(r) for r in e.roots]
    data["watch"] = None if e.watcher is None else e.watcher.status().to_json()  # serve --watch
    return data


@router.get("/models", response_model=Cards, responses=errors())
async def models() -> dict[str, Any]:
    return {"models": await anyio.to_thread.run_sync(model_cards)}
