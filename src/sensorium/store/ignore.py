"""Which files an ingest leaves out: ``--exclude`` patterns and ``.sensoriumignore`` files.

Both speak gitignore's syntax (``*.tmp``, ``drafts/``, ``/top-level-only.jpg``, ``**/cache/``,
``!keep.jpg``), matched by ``pathspec`` against a file's path relative to the folder being
ingested. A ``.sensoriumignore`` applies to the folder that holds it and everything below it;
a deeper one has the last word, as a deeper ``.gitignore`` does. An ``--exclude`` pattern
always excludes (no ignore file brings back what the command line left out). A file given by
itself, outside any folder being ingested, is matched by its name against the patterns only.

The local ingest, the watcher and the Ray executor all decide through one ``Ignore``: the
planning stage (``store.ingest.plan``) that all three drive calls it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pathspec

from sensorium.errors import UsageError
from sensorium.media.names import path_text

__all__ = ["IGNORE_FILE", "Ignore"]

IGNORE_FILE = ".sensoriumignore"


def _spec(lines: Iterable[str], where: str) -> pathspec.GitIgnoreSpec:
    """Patterns -> one spec; a pattern gitignore cannot read is a usage error naming it."""
    kept = []
    for number, line in enumerate(lines, 1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError as e:
            raise UsageError(f"{where} line {number}: not a pattern: {line.strip()!r}") from e
        kept.append(line)
    return pathspec.GitIgnoreSpec.from_lines(kept)


class Ignore:
    """``ignore(path) -> bool``: True when ``path`` is left out.

    ``roots``: the folders being ingested or watched (files among them are skipped);
    ``exclude``: gitignore patterns from the command line. Ignore files are read once per
    folder, when a file under it is first asked about; ``reload`` forgets them (the watcher
    calls it when one changes)."""

    def __init__(self, roots: Iterable[Path], exclude: Iterable[str] = ()) -> None:
        self.exclude = tuple(exclude)
        # the innermost root first, so a nested root's files are relative to it
        self.roots = sorted({r for r in roots if r.is_dir()}, key=lambda r: -len(r.parts))
        self._patterns = _spec(self.exclude, "--exclude") if self.exclude else None
        self._files: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def reload(self) -> None:
        self._files.clear()

    def _file(self, folder: Path) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._files:
            path = folder / IGNORE_FILE
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                self._files[folder] = None
            except OSError as e:
                raise UsageError(f"{path_text(path)}: cannot be read ({e.strerror})") from e
            else:
                self._files[folder] = _spec(text.splitlines(), path_text(path))
        return self._files[folder]

    def _root(self, path: Path) -> Path | None:
        return next((r for r in self.roots if path.is_relative_to(r)), None)

    def __call__(self, path: Path) -> bool:
        root = self._root(path)
        relative = path.relative_to(root) if root else Path(path.name)
        if self._patterns is not None and self._patterns.match_file(relative.as_posix()):
            return True
        if root is None:
            return False
        specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []  # the ignore files above
        folder = root
        for depth, part in enumerate(relative.parts, 1):
            spec = self._file(folder)
            if spec is not None:
                specs.append((folder, spec))
            below = folder / part
            last = depth == len(relative.parts)
            verdict = None
            for where, spec in specs:  # the deepest has the last word
                name = below.relative_to(where).as_posix() + ("" if last else "/")
                said = spec.check_file(name).include
                verdict = verdict if said is None else said
            if verdict:  # as git: nothing under a folder left out comes back
                return True
            folder = below
        return False

    def keep(self, paths: list[Path]) -> list[Path]:
        """The paths not left out, in order."""
        return [p for p in paths if not self(p)]
