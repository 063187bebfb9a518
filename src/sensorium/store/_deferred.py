"""Imports put off until used, for start-up time (a one-shot CLI search: benchmarks/search.py).

``import lancedb`` imports the REST client of Lance namespaces
(``lance_namespace_urllib3_client``), whose package ``__init__`` builds every API class of it,
366 methods each wrapped by pydantic's ``validate_call``: 1.3 s of lancedb's 2.2 s import
(Xeon, 2 cores), for a client that a folder or a bucket never uses. ``defer_namespace_client``
(run when this module is imported, which store/lance.py does before lancedb) registers that
package without running its ``__init__``: its submodules (the models lancedb imports) load as
before, and the first attribute asked of the package itself runs the ``__init__`` then, so a
user of the REST client sees the same package.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["defer_namespace_client"]

NAMESPACE_CLIENT = "lance_namespace_urllib3_client"
_lock = threading.Lock()


def defer_namespace_client() -> None:
    """Before ``import lancedb``: its namespace client's package ``__init__`` runs on first use."""
    if NAMESPACE_CLIENT in sys.modules:
        return
    spec = importlib.util.find_spec(NAMESPACE_CLIENT)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return
    module = importlib.util.module_from_spec(spec)

    def load(name: str) -> Any:
        with _lock:
            if module.__dict__.pop("__getattr__", None) is not None:
                spec.loader.exec_module(module)  # type: ignore[union-attr]
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {NAMESPACE_CLIENT!r} has no attribute {name!r}") from None

    module.__getattr__ = load  # type: ignore[method-assign]
    sys.modules[NAMESPACE_CLIENT] = module


def loaded(module: ModuleType) -> bool:
    """Whether a deferred package's ``__init__`` has run (for tests)."""
    return "__getattr__" not in module.__dict__


defer_namespace_client()
