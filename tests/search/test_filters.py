"""Typed filters: SQL for LanceDB, a mask for the serving index, and their validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sensorium.errors import UsageError
from sensorium.search.query import parse_negatives
from sensorium.store.base import Filter, parse_span


def test_sql() -> None:
    assert Filter().sql() is None and not Filter()
    assert (
        Filter(kind="image", path="*.jpg").sql()
        == "kind = 'image' AND path LIKE '%.jpg' ESCAPE '\\'"
    )
    sql = Filter(min_duration=2, since=10, camera="O'Brien").sql()
    assert sql == ("duration >= 2.0 AND ingested_at >= 10.0 AND "
                   "lower(camera) LIKE '%o''brien%' ESCAPE '\\'")  # fmt: skip
    assert "taken > 0.0" in (Filter(taken_before=5).sql() or "")


def test_mask_globs_like_sql_like() -> None:
    paths = ["/a/photos/x_1.jpg", "/a/photos/y.png", "/b/x.jpg", "/a/photos/x%1.jpg"]
    cols = {"kind": pa.array(["image"] * 4), "path": pa.array(paths),
            "camera": pa.array(["Canon", None, "NIKON d70", ""])}  # fmt: skip
    assert Filter(path="photos/*.jpg").mask(cols).tolist() == [True, False, False, True]
    assert Filter(path="/a/*/x?1.jpg").mask(cols).tolist() == [True, False, False, True]
    assert Filter(camera="nikon").mask(cols).tolist() == [False, False, True, False]


def test_validation_and_spans() -> None:
    with pytest.raises(UsageError):
        Filter(kind="pdf")
    with pytest.raises(UsageError):
        Filter(min_size=10, max_size=5)
    assert parse_span("90") == 90 and parse_span("1:30") == 90 and parse_span("2m") == 120


def test_negatives_as_rclip_writes_them() -> None:
    assert parse_negatives("beach -people") == ("beach", ("people",))
    assert parse_negatives('a dog -"red car" -cat') == ("a dog", ("red car", "cat"))
    assert parse_negatives("well-known place - x") == ("well-known place - x", ())
