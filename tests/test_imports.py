"""What importing costs: the commands that never touch a collection must not load the store
(LanceDB and pyarrow: 130 MB and a second or more of start-up, benchmarks/videomem.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("lancedb", "pyarrow", "pandas")


def _imported(statement: str) -> set[str]:
    """The heavy top-level packages loaded by ``statement`` in a fresh interpreter."""
    code = f"import sys\n{statement}\nprint(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split()) & set(HEAVY)


@pytest.mark.parametrize("statement", [
    "import sensorium",
    "import sensorium.video",
    "from sensorium.engine import default_engine",
    "import sensorium.cli",
])  # fmt: skip
def test_no_store_without_a_collection(statement: str) -> None:
    assert _imported(statement) == set()


def test_collection_loads_on_first_use() -> None:
    assert _imported("import sensorium; sensorium.Collection") >= {"lancedb"}


def test_dir_lists_the_lazy_names_without_loading_them() -> None:
    """In a fresh interpreter, where ``Collection`` and ``open`` are not loaded yet."""
    listed = "import sensorium; assert set(sensorium.__all__) <= set(dir(sensorium))"
    assert _imported(listed) == set()


def test_lazy_names_are_the_real_ones() -> None:
    import sensorium
    import sensorium.store
    from sensorium.collection import Collection, open_collection
    from sensorium.store.lance import LanceStore

    assert sensorium.Collection is Collection and sensorium.open is open_collection
    assert sensorium.store.LanceStore is LanceStore
    assert set(sensorium.__all__) <= set(dir(sensorium))
    with pytest.raises(AttributeError):
        sensorium.no_such_name  # noqa: B018
