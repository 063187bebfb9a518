"""Shared by the scale-out tests: a folder of real media, and items compared store to store."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sensorium.store import LanceStore


def _rows(store: LanceStore) -> dict[str, dict]:  # type: ignore[type-arg]
    out = {r["id"]: r for r in store.items.to_arrow().to_pylist()}
    assert len(out) == store.count(), "an item was doubled"
    return out


def _assert_same_items(a: LanceStore, b: LanceStore, atol: float = 1e-4) -> None:
    """The same items (ids, paths, what was seen, heard and said, moments), vectors equal
    within float tolerance (the stores may have run their models with other thread counts),
    and the same failures."""
    ra, rb = _rows(a), _rows(b)
    assert sorted(ra) == sorted(rb)
    exact = ("path", "sha256", "size", "mtime", "kind", "segment", "width", "height", "models")
    for key, x in ra.items():
        y = rb[key]
        assert {f: x[f] for f in exact} == {f: y[f] for f in exact}, x["path"]
        assert x["transcript"] == y["transcript"] and x["text"] == y["text"], x["path"]
        for f in ("start", "end", "duration"):
            assert x[f] == pytest.approx(y[f], abs=1e-3), (x["path"], f)
        for f in ("vector", "features", "part_vectors"):
            if x[f] is None:
                assert y[f] is None, (x["path"], f)
            else:
                np.testing.assert_allclose(x[f], y[f], atol=atol, err_msg=f"{x['path']} {f}")
    assert sorted(f.path for f in a.failures()) == sorted(f.path for f in b.failures())


@pytest.fixture()
def same_items() -> Callable[..., None]:
    """``same_items(a, b, atol)``: asserts two stores hold the same items and failures."""
    return _assert_same_items
