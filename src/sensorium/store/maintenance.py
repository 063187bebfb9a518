"""Housekeeping of the items table at a cost per row, and a memory peak, that stay flat as
the table grows.

Every commit (an ingest batch) leaves a small fragment whose rows are outside the indices,
and every later merge on ``id``, lookup by path and query scans those. ``tidy`` runs every
few thousand rows written and after each ingest:

- the fragments outside the indices (the rows since the last run) are compacted;
- the new rows go into each index as a new segment, at the cost of the new rows only; an
  index in ``whole`` (the ANN index) takes them a segment's worth at a time (a search scans
  the rows it has not taken yet, a few ms for 10k), so each row is placed in its graph once;
- the newest segments of the other indices are merged as in the logarithmic method:
  while the newest ones together hold at least as many rows as the segment before them,
  that one joins them, up to the index's cap, so a row is merged a few times (log2 of the
  cap over a segment's size), never the whole index at once;
- then the fragments under one same set of segments are compacted together.

The caps bound what one step holds in memory (``caps``; the store sets them per index from
what a step over its rows costs): building the ANN index over 100k rows held 355 MB at its
peak, merging the keyword index's 118 MB, a key index's 67 MB, and the process kept what it
took. LanceDB's ``optimize()``, which this replaced, merged the new rows into each index's
one segment at every ingest; with the merge of each batch over the whole table (see
``LanceStore.upsert``) the 100k-text ingest peaked at 1.5 GB, against 0.9 GB now
(benchmarks/texts.py). The ANN index's partitions stay those trained on its first rows
(``ANN_THRESHOLD``).

Each step is one commit of its own: a process killed between two leaves a readable table,
with less folded, which the next run folds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Any

__all__ = ["KEEP_VERSIONS", "SEGMENT_ROWS", "segments", "tidy", "to_merge"]

KEEP_VERSIONS = timedelta(days=7)  # older table versions are removed (LanceDB's default)
SEGMENT_ROWS = 10_000  # an index's cap when ``caps`` names none


def segments(dataset: Any) -> dict[str, list[int]]:
    """Each index's segments, oldest first, as the rows each covers."""
    rows = {f.fragment_id: f.metadata.num_rows for f in dataset.get_fragments()}
    return {index.name: [sum(rows.get(f, 0) for f in s.fragment_ids) for s in index.segments]
            for index in dataset.describe_indices()}  # fmt: skip


def to_merge(sizes: list[int], cap: int = SEGMENT_ROWS) -> int:
    """How many of the newest segments (``sizes`` oldest first) to merge into one: the
    newest, and each older one that they together hold at least as many rows as, while
    the total stays within ``cap``; 0 when that is the newest alone."""
    total, k = sizes[-1] if sizes else 0, 1
    while k < len(sizes) and total >= sizes[-1 - k] and total + sizes[-1 - k] <= cap:
        total += sizes[-1 - k]
        k += 1
    return k if k > 1 else 0


def tidy(
    latest: Callable[[], Any],
    caps: Mapping[str, int] | None = None,
    whole: Collection[str] = (),
    cleanup: bool = True,
    only: Collection[str] | None = None,
) -> None:
    """Compact the new fragments, add their rows to the indices as segments (to those in
    ``whole`` once a cap's worth is outside them; their segments are never merged), merge
    the other indices' newest segments as ``to_merge`` says, compact what they cover and,
    with ``cleanup``, remove versions older than ``KEEP_VERSIONS`` (listing them all costs
    0.2 s at 1,600 versions). ``latest`` opens the table's current version; ``caps``: rows
    of a segment at most, by index name; ``only``: the indices to tend (default all)."""
    cap = lambda name: (caps or {}).get(name, SEGMENT_ROWS)  # noqa: E731
    latest().optimize.compact_files()  # indexed and unindexed fragments are not mixed
    dataset = latest()
    rows = sum(f.metadata.num_rows for f in dataset.get_fragments())  # as ``segments`` counts
    split = {n: s for n, s in segments(dataset).items() if only is None or n in only}
    grow = [n for n, sizes in split.items() if n not in whole or rows - sum(sizes) >= cap(n)]
    if grow:  # the new rows: a segment each
        dataset.optimize.optimize_indices(index_names=grow, num_indices_to_merge=0)
    merged = False
    for name, sizes in segments(latest()).items():
        if only is not None and name not in only:
            continue
        k = 0 if name in whole else to_merge(sizes, cap(name))
        if k:
            latest().optimize.optimize_indices(index_names=[name], num_indices_to_merge=k)
            merged = True
    if merged:
        latest().optimize.compact_files()  # the fragments under one segment of each index
    if cleanup:
        latest().cleanup_old_versions(older_than=KEEP_VERSIONS)
