"""The serving index: the store's vectors in memory, for a long-lived process (the service,
which calls ``Collection.serve()``, and any collection from its second search on).

LanceDB stays the store of record; this index answers ``search`` from memory and follows the
table version: a commit of this process is seen at the next query (unless another thread is
reading a newer version then: searches do not wait for it), another process's within
``READ_CONSISTENCY`` (store/lance.py). On a new version only the rows that are new or changed
(by ``id``, ``mtime`` and ``ingested_at``) are read and added; rows that went away are masked
out, and the index is rebuilt once a quarter of it is dead.

Why this shape (benchmarks/search.py, 2-core EPYC, 384-d, k = 10): a LanceDB query costs
7-17 ms at 10k-100k rows even with its IVF-HNSW-SQ index (planning, a scan of the unindexed
rows, Arrow to Python rows), and its flat scan 80-250 ms. In memory, FAISS answers in under
a millisecond. Of its indexes, an HNSW graph (M 16, efConstruction 40) recalled 0.98 at 100k
but only 0.82 at 1M (0.93 at efSearch 1024, 1.5 ms) and took 211 s to build there; an
inverted file of exact vectors (IVF-Flat, ~500 rows a list, 16 lists probed) recalled 0.998
at 1M in 0.7 ms and built in 74 s. So: IVF-Flat from ``ANN_FROM`` rows, and an exact scan
below that and for narrow filters (under ``EXACT_BELOW`` allowed rows), which costs 0.2-1 ms
at 10k rows.

The trained lists are kept with the collection (``saved``: ``items.ivf`` beside the tables,
search/persisted.py): a new process reads the centroids, each row's list and the vectors
instead of training (at a million rows, 135 s on 2 shared Xeon cores) and reading the vectors from
LanceDB, when the file is of the table's version; after other commits it keeps the centroids
and the unchanged rows' lists, reads every vector from the table and writes the file again.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sensorium.search import keywords, persisted
from sensorium.search.keywords import Keywords, supported
from sensorium.search.persisted import SavedLists
from sensorium.store.base import COLUMNS, Filter, Snapshot, Store
from sensorium.store.records import Item

__all__ = ["ANN_FROM", "EXACT_BELOW", "Retriever", "Stopped", "VectorIndex", "faiss_module"]

DIM = 384
ANN_FROM = 10_000  # rows: below this, every query is an exact scan of the matrix (< 1 ms)
EXACT_BELOW = 10_000  # allowed rows after a filter: below this, an exact scan of just those
LIST_ROWS = 500  # rows per inverted list (nlist = rows / 500, 64 to 4096)
NPROBE = 16  # lists visited: recall@10 0.998 at 1M (32: 0.998, 64: 1.0 at 2.9 ms)
TRAIN_PER_LIST = 50  # k-means sample: 50 rows a list (100k at 1M: 41 s)
REBUILD_DEAD = 0.25  # rebuild the index once this share of its entries is dead
MASKS = 32  # filters whose row masks are kept, per version
MAX_CHUNKS = 8  # Arrow chunks of the kept columns before they are joined (take is per chunk)
_KEYS = ["id", "mtime", "ingested_at"]
KEYWORDS_INLINE = 2_000  # new rows whose keywords the thread that reads a version adds itself


class Stopped(Exception):
    """The process is exiting: a background thread reads no more from the store."""


class _Gate:
    """LanceDB aborts the process (SIGABRT) when the interpreter exits while another thread
    is inside one of its calls; a daemon thread that builds an index (``Collection``) may
    be. So threads other than the main one read the store through this gate, and at exit
    (``atexit``) it closes: the exit waits for the reads under way (seconds at most: the
    longest, the vectors, 3.3 s at a million rows), and later ones raise ``Stopped``.
    Training and filling lists (FAISS) and writing ``items.ivf`` are safe to cut short."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.inside = 0
        self.closed = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if threading.current_thread() is threading.main_thread():
            yield  # the exiting thread itself: nothing to wait for
            return
        with self.cond:
            if self.closed:
                raise Stopped("the process is exiting")
            self.inside += 1
        try:
            yield
        finally:
            with self.cond:
                self.inside -= 1
                self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.wait_for(lambda: self.inside == 0)


reading_store = _Gate()
atexit.register(reading_store.close)


def _read_meta(snap: Snapshot) -> pa.Table:
    with reading_store():
        return snap.meta().combine_chunks()


class Retriever(Protocol):
    """What search needs from where it looks: a store, or the serving index over one."""

    def search(
        self, vector: np.ndarray, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]: ...

    def keyword(
        self, text: str, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]: ...

    def get(self, key: str) -> Item | None: ...


@dataclass
class _State:
    """One table version in memory. Labels are the index's ids (append-only); rows are the
    version's positions."""

    snapshot: Snapshot
    keys: pa.Table  # id, mtime, ingested_at, label: one row per table row
    columns: dict[str, pa.Array]  # COLUMNS, by row
    label_of_row: np.ndarray  # (N,) int64
    row_of_label: np.ndarray  # (L,) int64, -1 where the label is dead
    flat: np.ndarray  # (L, 384) float32: every label's vector
    meta: pa.Table  # every label's other result columns (taking rows from memory: µs, not ms)
    graph: Any  # faiss.IndexIVFFlat over the labels, or None (exact scans only)
    dead: int = 0  # labels whose row is gone
    epoch: int = 0  # which numbering of the labels: each build numbers them anew


class VectorIndex:
    """``search``, ``keyword`` and ``get`` from memory; other reads go to the store.

    The keyword index (search/keywords.py) follows the states: built in a background thread
    after the vectors (1-3 s at 100k rows), then brought to each new version by the thread
    that reads it (a few new rows) or again in the background (many); until it is of the
    state searched, ``keyword`` asks the store, whose ranking it reproduces. With ``saved``,
    it is kept beside it too (``items.keywords``), read back by a new process of the same
    table version: 0.8 s against 3-8 s to build at 100k rows (2 shared cores)."""

    def __init__(self, store: Store, saved: Path | None = None) -> None:
        self.store = store
        self.saved = saved  # where its lists are kept with the collection (persisted.py), or None
        self._state: _State | None = None
        self._lock = threading.RLock()  # a faiss index is not safe to add to while searched
        self._loading = threading.Lock()  # one reader of a new version at a time
        self._masks: OrderedDict[Filter, tuple[np.ndarray, Any]] = OrderedDict()
        self._epochs = 0  # builds so far
        self._keywords: Keywords | None = None  # of some state: ``_keywords_of`` checks
        self._keywords_lock = threading.Lock()  # guards _keywords_thread
        self._keywords_thread: threading.Thread | None = None

    # -- keeping in step with the store --------------------------------------------------

    def sync(self) -> _State:
        """The state of the store's current version (read or updated when it moved on).

        A new version is read without the search lock (at a million rows that takes about
        4 s, mostly the key columns): while one thread reads it, the others answer from the
        version before instead of waiting; only adding the new rows to the graph and the swap
        hold the lock (milliseconds: the new rows' lists are found before)."""
        with reading_store():
            version = self.store.version()
        st = self._state
        if st is not None and st.snapshot.version == version:
            return st
        if not self._loading.acquire(blocking=st is None):  # another thread reads it now
            assert st is not None
            return st
        try:
            st = self._state
            with reading_store():
                version = self.store.version()  # another loader may have gone further meanwhile
            if st is None or st.snapshot.version != version:
                apply = self._load(st)
                with self._lock:
                    self._state = st = apply()
                    self._masks.clear()
                self._follow_keywords(st)
            return st
        finally:
            self._loading.release()

    def _load(self, old: _State | None) -> Callable[[], _State]:
        """Reads what the store's current version changed; returns what turns it into the
        new state (run under the search lock: it adds to the shared graph)."""
        with reading_store():
            snap = self.store.snapshot()
            table = snap.columns(list(dict.fromkeys([*_KEYS, *COLUMNS])))
        n = table.num_rows
        keys = table.select(_KEYS).append_column("row", pa.array(np.arange(n, dtype=np.int64)))
        columns = {c: table.column(c).combine_chunks() for c in COLUMNS}
        if old is None:
            built = self._build(snap, keys, columns)
            return lambda: built
        # Rows whose id, mtime and ingested_at are unchanged keep their label and vector.
        joined = keys.join(old.keys.select([*_KEYS, "label"]), _KEYS, join_type="left outer")
        row = joined.column("row").to_numpy()
        label = joined.column("label").fill_null(-1).to_numpy()
        kept = label >= 0
        fresh = np.sort(row[~kept])  # (F,) positions of new or changed rows
        label_of_row = np.empty(n, np.int64)
        label_of_row[row[kept]] = label[kept]
        start = len(old.row_of_label)
        total = start + len(fresh)
        grows_up = old.graph is None and total >= ANN_FROM and faiss_module() is not None
        if total - n > REBUILD_DEAD * total or grows_up:
            built = self._build(snap, keys, columns)  # a new graph: the old one is untouched
            return lambda: built
        label_of_row[fresh] = np.arange(start, start + len(fresh))
        row_of_label = np.full(start + len(fresh), -1, np.int64)
        row_of_label[label_of_row] = np.arange(n)
        with reading_store():
            vectors = snap.vectors(fresh)  # (F, 384)
            meta = pa.concat_tables([old.meta, snap.meta(fresh)])
        if meta.column(0).num_chunks > MAX_CHUNKS:
            meta = meta.combine_chunks()
        keys = keys.append_column("label", pa.array(label_of_row[keys.column("row").to_numpy()]))

        # Outside the search lock, as the only loader: _append writes past the old length
        # (searches read below it), and finding each new row's list only reads the centroids.
        flat = _append(old.flat, vectors)
        lists = None if old.graph is None else old.graph.quantizer.search(vectors, 1)[1]  # (F, 1)

        def apply() -> _State:
            if old.graph is not None and lists is not None and len(vectors):
                import faiss  # into the lists found above; labels follow on, as ``add`` gives

                old.graph.add_core(len(vectors), faiss.swig_ptr(vectors), None,
                                   faiss.swig_ptr(np.ascontiguousarray(lists.ravel())))  # fmt: skip
            return _State(snap, keys, columns, label_of_row, row_of_label, flat, meta,
                          old.graph, total - n, old.epoch)  # fmt: skip

        return apply

    def _build(self, snap: Snapshot, keys: pa.Table, columns: dict[str, pa.Array]) -> _State:
        n = keys.num_rows
        graph, vectors = None, None
        with ThreadPoolExecutor(1) as pool:  # LanceDB reads the rest meanwhile (0.3 s at 1M)
            reading = pool.submit(_read_meta, snap)
            if n >= ANN_FROM and faiss_module() is not None:
                graph, vectors = self._ivf(snap, keys.select(_KEYS))
            if vectors is None:
                with reading_store():
                    vectors = snap.vectors(np.arange(n))  # (N, 384)
            meta = reading.result()
        labels = np.arange(keys.num_rows, dtype=np.int64)
        keys = keys.append_column("label", pa.array(labels))
        self._epochs += 1
        return _State(snap, keys, columns, labels, labels.copy(), vectors, meta, graph,
                      epoch=self._epochs)  # fmt: skip

    def _ivf(self, snap: Snapshot, keys: pa.Table) -> tuple[Any, np.ndarray]:
        """(the IVF-Flat graph over every row, the (N, 384) vectors). From the saved file
        whole when it is of this version with these keys (read and checked in 0.8 s at a
        million rows, against 3.3 s to read the vectors from LanceDB and over 2 minutes to
        train and fill the lists: Xeon, 2 shared cores); with its centroids
        and its unchanged rows' lists after other commits; else trained. Saved unless read
        whole (search/persisted.py)."""
        n = keys.num_rows
        nlist = int(np.clip(n // LIST_ROWS, 64, 4096))
        saved = persisted.load(self.saved) if self.saved is not None else None
        if saved is not None and saved.version == snap.version and saved.keys.equals(keys):
            return _ivf_over(saved.centroids, saved.vectors, saved.lists), saved.vectors
        with reading_store():
            vectors = snap.vectors(np.arange(n))  # (N, 384): a stale file's are never used
        lists = np.full(n, -1, np.int64)
        if saved is not None and 2 * len(saved.centroids) >= nlist:  # still about the size
            centroids = saved.centroids
            rows, old_rows = _same_keys(keys, saved.keys)
            lists[rows] = saved.lists[old_rows]
        else:
            centroids = _train(vectors, nlist)
        fresh = np.flatnonzero(lists < 0)
        if len(fresh):
            lists[fresh] = _assign(centroids, vectors[fresh])
        graph = _ivf_over(centroids, vectors, lists)
        if self.saved is not None:
            persisted.save(self.saved, SavedLists(snap.version, keys, vectors, lists, centroids))
        return graph, vectors

    # -- queries ---------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        """The ``k`` rows nearest to ``vector`` (384,) by cosine, best first, filtered."""
        if isinstance(where, str):  # raw SQL: only the store can read it
            return self.store.search(vector, k, where)
        self.sync()
        with self._lock:  # the latest state: its graph holds exactly its labels
            st = self._state
            assert st is not None
            labels, scores = self._nearest(st, np.asarray(vector, np.float32), k, where)
            vectors = st.flat[labels]  # (R, 384), copied while no commit can move them
        items = st.snapshot.to_items(st.meta.take(labels), vectors)
        return list(zip(items, scores.tolist()))

    def _nearest(
        self, st: _State, q: np.ndarray, k: int, where: Filter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, cosines) of the ``k`` nearest live labels passing the filter, best first."""
        allowed, bitmap = self._allowed(st, where)  # live labels passing the filter
        n_allowed = len(st.label_of_row) if allowed is None else len(allowed)
        if n_allowed == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if st.graph is None or n_allowed < EXACT_BELOW:
            labels = np.arange(len(st.flat)) if allowed is None else allowed
            # einsum, not BLAS: one vector against many is memory-bound, and BLAS threads
            # that wait on each other cost 10x on a busy 2-core machine (0.7 against 9 ms
            # at 10k rows, measured under load).
            sims = np.einsum("ij,j->i", st.flat if allowed is None else st.flat[allowed], q)
            if allowed is None and st.dead:
                sims = np.where(st.row_of_label >= 0, sims, -np.inf)
            top = np.argpartition(-sims, min(k, len(sims)) - 1)[:k]
            top = top[np.argsort(-sims[top])]
            top = top[np.isfinite(sims[top])]
            return labels[top], sims[top]
        import faiss

        params = faiss.SearchParametersIVF()
        # a filter keeping a share f of the rows visits 1 / f times more lists
        params.nprobe = int(min(st.graph.nlist, np.ceil(NPROBE * len(st.label_of_row) / n_allowed)))
        if bitmap is not None:
            params.sel = faiss.IDSelectorBitmap(len(st.row_of_label), faiss.swig_ptr(bitmap))
        sims, labels = st.graph.search(q[None], k, params=params)  # (1, k) each
        ok = labels[0] >= 0
        return labels[0][ok], sims[0][ok]

    def _allowed(self, st: _State, where: Filter | None) -> tuple[np.ndarray | None, Any]:
        """(live labels passing the filter, as an array and as a faiss bitmap), or (None,
        None) when every label is live and nothing is filtered. Kept per filter."""
        if not where and not st.dead:
            return None, None
        key = where or Filter()
        if key in self._masks:
            self._masks.move_to_end(key)
            return self._masks[key]
        live = st.row_of_label >= 0
        if where:
            live = np.zeros(len(st.row_of_label), bool)
            live[st.label_of_row[where.mask(st.columns)]] = True
        allowed = np.flatnonzero(live)
        out = (allowed, np.packbits(live, bitorder="little"))
        self._masks[key] = out
        if len(self._masks) > MASKS:
            self._masks.popitem(last=False)
        return out

    def keyword(
        self, text: str, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        """The ``k`` items best matching ``text``'s words, best BM25 score first, as the
        store ranks them (search/keywords.py); from the store while the keyword index is
        not of the latest state yet, or for raw SQL."""
        if isinstance(where, str):
            return self.store.keyword(text, k, where)
        # Not ``sync``: this runs beside the query's vector search (search.py), whose thread
        # reads a new version; the store answers until the keyword index is of it.
        with reading_store():
            version = self.store.version()
        with self._lock:
            st = self._state
            kw = self._keywords
            if st is None or kw is None or (kw.epoch, kw.version) != (st.epoch, version) \
                    or st.snapshot.version != version:  # fmt: skip
                kw = None
            else:
                allowed, _ = self._allowed(st, where)
        if kw is None or st is None:
            return self.store.keyword(text, k, where)
        ok = st.row_of_label >= 0  # (L,) live labels passing the filter
        if allowed is not None:
            ok = np.zeros(len(st.row_of_label), bool)
            ok[allowed] = True
        labels, scores = kw.search(text, k, ok)
        with self._lock:  # copied while no commit can move them
            vectors = st.flat[labels]  # (R, 384)
        items = st.snapshot.to_items(st.meta.take(labels), vectors)
        return list(zip(items, scores.tolist()))

    # -- the keyword index -----------------------------------------------------------------

    def _follow_keywords(self, st: _State) -> None:
        """Bring the keyword index to the new state ``st``: here, when it is of the same
        labelling and few rows are new; else in a background thread."""
        kw = self._keywords
        fresh = len(st.row_of_label) - (kw.n if kw is not None else 0)
        if kw is not None and kw.epoch == st.epoch and 0 <= fresh <= KEYWORDS_INLINE:
            with suppress(Stopped):
                self._keywords = self._next_keywords(kw, st)
            return
        with self._keywords_lock:
            if self._keywords_thread is None:
                self._keywords_thread = threading.Thread(
                    target=self._keywords_worker, name="keyword-index", daemon=True
                )
                self._keywords_thread.start()

    def _keywords_worker(self) -> None:
        """Until the keyword index is of the latest state (or none can be made)."""
        try:
            while True:
                st = self._state
                kw = self._keywords
                if st is not None and (kw is None or kw.version != st.snapshot.version
                                       or kw.epoch != st.epoch):  # fmt: skip
                    kw = self._next_keywords(kw, st)
                    self._keywords = kw
                with self._keywords_lock:
                    latest = self._state
                    if kw is None or latest is None or (kw.version, kw.epoch) == (
                        latest.snapshot.version, latest.epoch):  # fmt: skip
                        self._keywords_thread = None
                        return
        except BaseException:
            with self._keywords_lock:
                self._keywords_thread = None
            if not isinstance(sys.exc_info()[1], Stopped):
                raise

    def _next_keywords(self, kw: Keywords | None, st: _State) -> Keywords | None:
        """The keyword index of ``st``: ``kw`` with its new labels and statistics, or made
        anew; None where the store has no keyword index (or one this module cannot
        reproduce): ``keyword`` then asks the store."""
        config_of = getattr(self.store, "keyword_config", None)
        if config_of is None:
            return None
        with reading_store():
            config = config_of()
        if config is None or not all(supported(d) for d in config.values()):
            return None
        # LanceDB's index counts rows deleted or replaced until a compaction remaps it
        live = st.row_of_label >= 0
        counted = None
        if st.dead:
            with reading_store():
                docs = self.store.keyword_docs()  # type: ignore[attr-defined]
            counted = live if docs == int(live.sum()) else None
        same = kw is not None and kw.epoch == st.epoch and kw.config == config
        if kw is not None and same and kw.n <= len(live):
            texts = {c: st.meta.column(c).slice(kw.n).to_pylist() for c in config}
            return kw.updated(texts, st.snapshot.version, counted)
        # kept with the collection when its labels are the table's rows, none dead
        path = self.saved.with_name(keywords.FILE_NAME) if self.saved is not None else None
        rows = not st.dead and np.array_equal(st.label_of_row, np.arange(len(live)))
        if path is not None and rows:
            found = Keywords.load(path, config, st.epoch, st.snapshot.version, len(live))
            if found is not None:
                return found
        texts = {c: st.meta.column(c).to_pylist() for c in config}
        built = Keywords.build(config, texts, st.epoch, st.snapshot.version, counted)
        if path is not None and rows:
            built.save(path)
        return built

    def get(self, key: str) -> Item | None:
        """An item by id or path (a video's first moment), found in memory."""
        st = self.sync()
        for column in ("id", "path"):
            values = st.keys.column("id") if column == "id" else st.columns["path"]
            hits = np.flatnonzero(pc.equal(values, key).to_numpy(zero_copy_only=False))
            if len(hits):
                rows = st.keys.column("row").to_numpy()[hits] if column == "id" else hits
                labels = st.label_of_row[rows]
                items = st.snapshot.to_items(st.meta.take(labels), st.flat[labels])
                return min(items, key=lambda i: i.segment)
        return None


def _train(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """(L, 384) centroids of k-means over a sample of ``TRAIN_PER_LIST`` rows a list."""
    import faiss

    graph = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    n = len(vectors)
    sample = np.random.default_rng(0).choice(n, min(n, nlist * TRAIN_PER_LIST), False)
    graph.cp.min_points_per_centroid = 1  # a sample of 50 a list is enough here
    graph.train(vectors[np.sort(sample)])
    return graph.quantizer.reconstruct_n(0, nlist)  # type: ignore[no-any-return]


def _assign(centroids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(F, 384) -> (F,) the list of each vector: its nearest centroid, as ``add`` finds it."""
    import faiss

    quantizer = faiss.IndexFlatIP(DIM)
    quantizer.add(centroids)
    return quantizer.search(vectors, 1)[1].ravel()  # type: ignore[no-any-return]


def _ivf_over(centroids: np.ndarray, vectors: np.ndarray, lists: np.ndarray) -> Any:
    """An IVF-Flat index with these (L, 384) centroids holding the (N, 384) vectors, labels
    0..N-1, each in its list (N,): no training, no search for lists. Each list is filled at
    once, its rows in label order (as ``add`` leaves them): 1.4 s at a million rows against
    1.8 s for ``add_core``, which grows every list row by row."""
    import faiss

    graph = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, len(centroids),
                               faiss.METRIC_INNER_PRODUCT)  # fmt: skip
    graph.quantizer.add(np.ascontiguousarray(centroids, np.float32))
    graph.is_trained = True
    order = np.argsort(lists, kind="stable")  # (N,) labels, list by list
    bounds = np.searchsorted(lists[order], np.arange(len(centroids) + 1))  # (L + 1,)
    invlists = graph.invlists
    assert invlists is not None
    for i in np.flatnonzero(np.diff(bounds)):
        a, b = int(bounds[i]), int(bounds[i + 1])
        labels = order[a:b]
        rows = np.ascontiguousarray(vectors[labels], np.float32)  # (n_i, 384)
        invlists.add_entries(int(i), b - a, faiss.swig_ptr(labels),
                             faiss.swig_ptr(rows.view(np.uint8)))  # fmt: skip
    graph.ntotal = len(vectors)
    return graph


def _same_keys(keys: pa.Table, old: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(rows of ``keys``, their rows in ``old``) where id, mtime and ingested_at agree."""
    mine = keys.append_column("row", pa.array(np.arange(keys.num_rows, dtype=np.int64)))
    theirs = old.select(_KEYS).append_column(
        "old", pa.array(np.arange(old.num_rows, dtype=np.int64))
    )
    joined = mine.join(theirs, _KEYS, join_type="inner")
    return joined.column("row").to_numpy(), joined.column("old").to_numpy()


def _append(flat: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(L, 384) + (F, 384) -> (L + F, 384), in place when the buffer under ``flat`` has room
    (it grows by half each time: at 1M rows a copy costs a second; searches that hold the
    old state keep reading rows below L, which do not change)."""
    base = flat.base if isinstance(flat.base, np.ndarray) and flat.base.ndim == 2 else flat
    n, total = len(flat), len(flat) + len(rows)
    if base is flat or len(base) < total or not np.shares_memory(base[:1], flat[:1]):
        base = np.empty((max(total, int(total * 1.5)), DIM), np.float32)
        base[:n] = flat
    base[n:total] = rows
    return base[:total]


def faiss_module() -> Any:
    """FAISS (``pip install faiss-cpu``), or None: without it every query is an exact scan,
    right but slower (16 ms at 100k rows, 170 ms at 1M)."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss
