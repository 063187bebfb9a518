"""File names that are not valid UTF-8, kept as git and rsync keep them.

A POSIX file name is bytes. Python reads one that is not UTF-8 (an old archive's Latin-1
``caf\\xe9.jpg``) with ``os.fsdecode``'s surrogateescape: a string that opens the file but
cannot be written as UTF-8 text, which is what the store, JSON and a terminal take. So a
path is stored and shown as ``path_text``: each byte that is not UTF-8 written ``\\xe9``,
every valid name unchanged; ``fs_path`` turns the text back into the path that opens the file.

The mapping is one-to-one: a valid name that holds a backslash followed by ``x`` and two hex
digits (which ``fs_path`` would read as a byte) has that backslash written ``\\x5c``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["fs_path", "path_text"]

_ESCAPE = re.compile(r"\\(?=x[0-9a-fA-F]{2})")  # a backslash that would read as an escape
_BYTE = re.compile(r"\\x([0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\udc80-\udcff]")  # surrogateescape's stand-ins for bytes 80-ff


def path_text(path: str | Path) -> str:
    """A file system path as UTF-8 text: valid names as they are, other bytes ``\\xHH``."""
    text = os.fsdecode(path)
    if not _SURROGATE.search(text) and "\\x" not in text:
        return text  # nearly every path: nothing to do
    text = _ESCAPE.sub(r"\\x5c", text)
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def fs_path(text: str) -> Path:
    """The path that ``path_text`` wrote as ``text`` (for opening the file)."""
    if "\\x" not in text:
        return Path(text)
    return Path(os.fsdecode(_unescape(text)))


def _unescape(text: str) -> bytes:
    """``text`` as the bytes of a file name: UTF-8, with each ``\\xHH`` the byte HH."""
    out = bytearray()
    pos = 0
    for m in _BYTE.finditer(text):
        out += text[pos : m.start()].encode("utf-8", "surrogateescape")
        out.append(int(m.group(1), 16))
        pos = m.end()
    out += text[pos:].encode("utf-8", "surrogateescape")
    return bytes(out)
