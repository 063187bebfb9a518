"""``sensorium.open(db) -> Collection``: ingest, search, stats and show over one store."""

from __future__ import annotations

import dataclasses
import functools
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from sensorium import config
from sensorium.distributed import RayOptions, ray_ingest
from sensorium.engine import Engine, default_engine
from sensorium.errors import NotFoundError, UsageError
from sensorium.media.types import MediaKind
from sensorium.perceive.inputs import expand_paths
from sensorium.search import (
    Hit,
    Page,
    Query,
    SearchState,
    parse_query,
    persisted,
    search,
    search_page,
    similar,
)
from sensorium.search.duplicates import DuplicateGroup, duplicates
from sensorium.search.vectors import Retriever, Stopped, VectorIndex
from sensorium.store import IngestReport, Item, LanceStore, ingest
from sensorium.store.base import Filter
from sensorium.store.people import Person

if TYPE_CHECKING:
    from sensorium.store.watch import WatchBatch, Watcher, WatchOptions

__all__ = ["Collection", "QueryOptions", "default_db", "open_collection"]


def default_db() -> str | Path:
    """``$SENSORIUM_DB`` (a folder or s3://bucket/prefix), else ``./.sensorium``."""
    where = config.db()
    return where if "://" in where else Path(where)


class QueryOptions(TypedDict, total=False):
    """What a search takes beside its query string, by name (``Collection.query``)."""

    image: str | Path | None
    audio: str | Path | None
    weights: Mapping[str, float] | None
    like: str | None
    keywords: bool
    kind: str | None
    path: str | None
    target: str | None
    negative: str | Sequence[str]
    filters: Filter | None
    syntax: bool


class Collection:
    def __init__(self, folder: str | Path | None = None, engine: Engine | None = None):
        where = str(folder) if folder else str(default_db())
        # A folder, or object storage ("s3://bucket/prefix", reached through the AWS variables).
        self.folder: str | Path = where if "://" in where else Path(where)
        self.store = LanceStore(self.folder, config.storage_options(where))
        self.engine = engine or default_engine()  # the models it embeds and searches with
        self.space = self.engine.space
        self.index: VectorIndex | None = None
        self.writing = threading.Lock()  # one writer at a time: ingests and watchers share it
        self.auto_serve = True  # from the second search on, build the serving index meanwhile
        self.search_state = SearchState()  # pinned pages, threads that look words up
        self._searches = 0  # searches answered by the store (until the index is ready)
        self._building: threading.Thread | None = None  # the index built in the background
        self._starting = threading.Lock()  # one background build, whatever the threads

    def serve(self) -> Collection:
        """Answer searches from an in-memory index kept in step with the store, built now
        (search/vectors.py): for a long-lived process, the service. A collection does it by
        itself in the background from its second search on (``auto_serve``); this builds it
        at once. The index's trained lists are kept beside the tables (``items.ivf``,
        search/persisted.py), so the next process reads them instead of training again."""
        building = self._building
        if building is not None and building is not threading.current_thread():
            building.join()  # the background build: wait for it rather than build twice
        if self.index is None:
            self.index = VectorIndex(self.store, self._saved_lists())
        self.index.sync()
        return self

    def _saved_lists(self) -> Path | None:
        """Where the serving index keeps its lists: beside the tables (a local folder)."""
        return None if isinstance(self.folder, str) else self.folder / persisted.FILE_NAME

    @property
    def retriever(self) -> Retriever:
        return self.index if self.index is not None else self.store

    def _searcher(self) -> Retriever:
        """The retriever for one search. Without ``serve()``, the first search goes to the
        store, and so does a one-shot CLI search (it never waits for an index, nor shares its
        two cores with one); the second starts building the serving index in a daemon thread
        and searches go on to the store until it is ready, then to it: the same rows (an
        exact scan below ``ANN_FROM`` rows, IVF-Flat above: recall in docs/benchmarks.md).
        ``auto_serve = False`` keeps every search on the store (no index in memory)."""
        if self.index is not None or not self.auto_serve:
            return self.retriever
        with self._starting:
            self._searches += 1
            if self._searches >= 2 and self._building is None:
                self._building = threading.Thread(target=self._build_index, daemon=True,
                                                  name="sensorium-serving-index")  # fmt: skip
                self._building.start()
        return self.retriever

    def _build_index(self) -> None:
        try:
            index = VectorIndex(self.store, self._saved_lists())
            index.sync()
        except Stopped:  # the process exits
            return
        except Exception as e:  # the store answers on: the index only saves time
            warnings.warn(f"the serving index was not built ({e}); searching the store",
                          stacklevel=1)  # fmt: skip
            return
        self.index = index

    def ingest(
        self,
        inputs: Iterable[str | Path],
        sync: bool = False,
        batch_size: int = 64,
        on_planned: Callable[[int], None] = lambda _: None,
        on_done: Callable[[int], None] = lambda _: None,
        video_fps: float = 1.0,
        ray: RayOptions | None = None,
        exclude: Sequence[str] = (),
    ) -> IngestReport:
        """Add new and changed files (folders recursively, globs); ``sync`` drops vanished ones.
        Videos are sampled at ``video_fps`` frames a second, plus the first frame of each shot.
        With ``ray``, files are decoded and embedded on a Ray cluster (its nodes must see the
        files at the same paths) and committed here: the same items as a local ingest.
        ``exclude``: gitignore patterns of files left out, as a ``.sensoriumignore`` file's
        (``store.ignore``); with ``sync`` their stored items are removed."""
        if batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if video_fps <= 0:
            raise UsageError("--video-fps must be above 0")
        inputs = list(inputs)
        roots = [Path(p) for p in inputs if Path(p).exists()]
        if ray is not None and self.store.people_on:
            raise UsageError("people are recognised by a local ingest only (not with Ray)")
        if ray is None:
            people = self.store.people if self.store.people_on else None
            run = functools.partial(ingest, people=people)
        else:
            run = functools.partial(ray_ingest, options=ray)
        with self.writing:
            return run(self.store, self.space, expand_paths(inputs), roots, sync, batch_size,
                       video_fps, on_planned, on_done, exclude=exclude)  # fmt: skip

    def watcher(
        self,
        folders: Iterable[str | Path],
        options: WatchOptions | None = None,
        on_batch: Callable[[WatchBatch], None] = lambda _: None,
        note: Callable[[str], None] = lambda _: None,
    ) -> Watcher:
        """A ``Watcher`` of ``folders`` into this collection (``run(stop)`` to start it), its
        writes under this collection's lock (as ``ingest``'s)."""
        from sensorium.store.watch import Watcher

        return Watcher(self.store, self.space, list(folders), options, self.writing,
                       on_batch, note)  # fmt: skip

    def watch(
        self,
        folders: Iterable[str | Path],
        stop: threading.Event,
        options: WatchOptions | None = None,
        on_batch: Callable[[WatchBatch], None] = lambda _: None,
        note: Callable[[str], None] = lambda _: None,
    ) -> None:
        """Keep the collection in step with ``folders`` until ``stop`` is set: first an
        ingest of the folders with sync (what changed while nobody watched), then new,
        changed, moved and removed files as they settle, in batches (``store.watch``).
        ``on_batch`` gets each batch's report once committed; ``note`` one-line messages
        (the observer in use, a fallback to polling). Blocks: run it in a thread to go on."""
        self.watcher(folders, options, on_batch, note).run(stop)

    def search(
        self, text: str | None = None, *, k: int = 10, **given: Unpack[QueryOptions]
    ) -> list[Hit]:
        """The ``k`` best files; a video as its best moment (``hit.item.start``, ``.end``).

        ``text`` is read in the search syntax (``type:image dog -people``); the rest of the
        query is given by name, as ``query`` takes it: ``image``, ``audio``, ``weights``,
        ``like`` (an item's id or path), ``keywords``, ``kind``, ``path``, ``target`` ("seen",
        "heard", "said"; "where does she say budget" sets it by itself), ``negative``
        (concepts subtracted from the text) and ``filters``."""
        query = self._with_people(self.query(text, **given))
        return search(self._searcher(), self.space, query, k, self.search_state)

    def query(
        self,
        text: str | None = None,
        *,
        image: str | Path | None = None,
        audio: str | Path | None = None,
        weights: Mapping[str, float] | None = None,
        like: str | None = None,
        keywords: bool = True,
        kind: str | None = None,
        path: str | None = None,
        target: str | None = None,
        negative: str | Sequence[str] = (),
        filters: Filter | None = None,
        syntax: bool = True,
    ) -> Query:
        """One search as a ``Query``: a query string in the search syntax
        (``sensorium.search.syntax``: ``type:video said:"gorilla" -people``, ...) with the
        files to search by, weights, an item (``like``, id or path), whether to match words
        too (``keywords``) and filters beside it (``parse_query``, which every front end
        uses). ``syntax=False``: the text is words only, not a query string."""
        files = {MediaKind.IMAGE: image, MediaKind.AUDIO: audio}
        return parse_query(
            text,
            media={kind: Path(f) for kind, f in files.items() if f},
            weights=weights,
            like=self.item(like) if like else None,
            keywords=keywords,
            kind=kind,
            path=path,
            target=target,
            negative=(negative,) if isinstance(negative, str) else tuple(negative),
            filters=filters,
            syntax=syntax,
        )

    def page(
        self,
        query: Query | str,
        k: int = 10,
        offset: int = 0,
        sort: str = "relevance",
        cursor: str | None = None,
    ) -> Page:
        """Results ``offset`` to ``offset + k`` (a query string is read by ``query``), by
        ``sort`` ("relevance", "taken", "added"), with the total, the weak count and a
        ``cursor`` for the next page of the same ranking (``search.search_page``)."""
        q = self._with_people(self.query(query) if isinstance(query, str) else query)
        return search_page(self._searcher(), self.space, q, k, offset, sort, cursor,
                           self.search_state)  # fmt: skip

    def _with_people(self, query: Query) -> Query:
        """``person:`` resolved to the files that person is seen in (a name nobody has, or
        a collection without people, matches nothing)."""
        name = query.filters.person
        if name is None or query.filters.paths is not None:
            return query
        persons = self.store.people.named(name) if self._has_people() else []
        paths = self.store.people.paths_of(persons)
        why = "" if persons else f"'person:{name}': no one in the collection has that name"
        return dataclasses.replace(query, filters=dataclasses.replace(query.filters, paths=paths),
                                   impossible=query.impossible or why)  # fmt: skip

    def _has_people(self) -> bool:
        """Whether faces were ever stored (the tables are made on first use, not by a read)."""
        return self.store.people_on or "faces" in self.store.db.table_names()

    # -- people (a collection setting, off by default: README, "Privacy") -------------------

    def set_people(self, on: bool) -> None:
        """Turn face recognition on or off: with it on, ingest stores an identity vector for
        each face and groups faces into people; files stored before are encoded again by the
        next ingest. Off: no new faces are recognised (``forget_people`` drops the stored)."""
        with self.writing:
            self.store.set_people(on)

    def forget_people(self) -> int:
        """Drop every stored face, person and name; returns how many faces were dropped."""
        if not self._has_people():
            return 0
        with self.writing:
            people = self.store.people
            n = people.count()
            people.faces.delete("true")
            people.names.delete("true")
            return n

    def people(self) -> list[Person]:
        """Every person, most faces first."""
        return self.store.people.persons() if self._has_people() else []

    def person_faces(self, person: int) -> list[dict[str, Any]]:
        """A person's faces: face id, file, box, detection score; clearest first."""
        faces = self.store.people.faces_of(person) if self._has_people() else []
        if not faces:
            raise NotFoundError(f"no person {person} in the collection")
        return faces

    def name_person(self, person: int, name: str) -> None:
        with self.writing:
            self.store.people.name(person, name)

    def merge_people(self, into: int, others: Sequence[int]) -> int:
        """``others``' faces become ``into``'s; returns how many faces moved."""
        with self.writing:
            return self.store.people.merge(into, others)

    def split_person(self, face_ids: Sequence[str]) -> int:
        """These faces become a new person; returns its id."""
        with self.writing:
            return self.store.people.split(face_ids)

    def face_crop(self, face_id: str) -> bytes:
        """A stored face's JPEG crop (by its id: never a path the caller names)."""
        crop = self.store.people.crop(face_id) if self._has_people() else None
        if crop is None:
            raise NotFoundError(f"no face {face_id!r} in the collection")
        return crop

    def stats(self) -> dict[str, Any]:
        failures = self.store.failures()
        return {
            "items": self.store.files(),
            "moments": self.store.count(),
            "by_type": self.store.kinds(),
            "failed": len(failures),
            "failures": [{"path": f.path, "error": f.error} for f in failures],
            **self.store.info(),
        }

    def show(self, key: str) -> Item | None:
        """An item by id or path (a relative path is resolved first); a video's first moment."""
        store = self.retriever
        return store.get(key) or store.get(str(Path(key).resolve()))

    def item(self, key: str) -> Item:
        """As ``show``, but a key that names no item raises ``NotFoundError``."""
        item = self.show(key)
        if item is None:
            raise NotFoundError(f"no item {key!r} in the collection")
        return item

    def details(self, key: str) -> dict[str, Any]:
        """Everything stored about an item, as JSON; a video's moments in time order (its
        per-moment labels, transcript and segments are in the moments)."""
        item = self.item(key)
        data = item.to_json()
        if item.kind is MediaKind.IMAGE and self._has_people():
            data["people"] = self.store.people.in_item(item.id)
        if item.kind is MediaKind.VIDEO:
            for name in ("labels", "transcript", "segments"):
                data.pop(name)
            data["moments"] = [m.moment_json() for m in self.store.moments(item.path)]
        return data

    def similar(
        self, key: str, k: int = 10, kind: str | None = None, path: str | None = None,
        filters: Filter | None = None,
    ) -> list[Hit]:  # fmt: skip
        """More like this: the ``k`` files nearest to an item (by id or path) of any kind, not
        itself."""
        if k < 1:
            raise UsageError("k must be at least 1")
        where = filters or Filter()
        if kind:
            where = dataclasses.replace(where, kind=kind)
        if path:
            where = dataclasses.replace(where, path=path)
        return similar(self._searcher(), self.item(key), k, where)

    def duplicates(
        self,
        threshold: float | None = None,
        kind: str | None = None,
        vector_floor: float | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of near-identical images and sounds (re-encoded, resized, cropped,
        flipped, quieter, trimmed copies), most similar first: two images are one when the
        cosine of their encoder features reaches ``threshold``, two sounds when their aligned
        spectrograms correlate at ``threshold``; and the cosine of their shared-space vectors
        reaches ``vector_floor`` (defaults per kind, measured in benchmarks/duplicates.py)."""
        return duplicates(self.store, threshold, kind, vector_floor)

    def moments(self, key: str) -> list[Item]:
        """Every stored moment of a file, in time order (one item for a file that is not a
        video; none for an unknown file)."""
        item = self.show(key)
        return self.store.moments(item.path) if item else []


def open_collection(db: str | Path | None = None, engine: Engine | None = None) -> Collection:
    """The collection in ``db`` (a folder or s3://bucket/prefix; default ``default_db()``),
    embedding and searching with ``engine`` (default: the environment's)."""
    return Collection(db, engine)
