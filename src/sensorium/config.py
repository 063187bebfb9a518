"""Where Sensorium keeps its files. One place, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["adapters", "home", "models_dir"]


def home() -> Path:
    """``$SENSORIUM_HOME``, else the user's cache dir (``~/.cache/sensorium`` on Linux)."""
    env = os.environ.get("SENSORIUM_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("sensorium"))


def models_dir() -> Path:
    return home() / "models"


def adapters() -> tuple[str, ...]:
    """``$SENSORIUM_ADAPTERS``: the modalities ("image,sound") whose shipped learned adapter the
    default space uses instead of the label bridge. Empty by default (docs/benchmarks.md)."""
    raw = os.environ.get("SENSORIUM_ADAPTERS", "")
    return tuple(m.strip() for m in raw.split(",") if m.strip())
