"""``sensorium ask`` per question kind, on questions whose answers real labelled data gives
(the measurement lives beside the faces benchmark, whose faces it counts)."""

from __future__ import annotations

from benchmarks.faces import markdown_ask as markdown
from benchmarks.faces import run_ask as run

__all__ = ["NAME", "markdown", "run"]

NAME = "ask"
