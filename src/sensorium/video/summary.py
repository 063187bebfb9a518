"""A video's timeline as data (JSON) and as a picture (a contact sheet of its segments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from sensorium.video.analysis import VideoAnalysis, VideoSegment

__all__ = ["contact_sheet", "named_sounds", "summary_json"]

SHEET_COLUMNS = 4
CELL = 200  # pixels per key frame cell (square), plus the caption band below
CAPTION = 46


def named_sounds(heard: list[tuple[str, float]], n: int = 3) -> list[tuple[str, float]]:
    """Sound events worth naming: confident ones, and silence is the absence of one."""
    return [(lb, s) for lb, s in heard if lb != "Silence" and s >= 0.1][:n]


def _heard(seg: VideoSegment) -> list[dict[str, Any]]:
    return [{"label": lb, "score": round(s, 3)} for lb, s in named_sounds(seg.heard)]


def summary_json(a: VideoAnalysis, embedding: bool = True) -> dict[str, Any]:
    """``{"path", "duration", "segments": [{"start", "end", "seen", "heard", "said",
    "written"}], ...}`` (``written``: text read in the frames, with ``SpaceOptions.ocr``)."""
    out: dict[str, Any] = {
        "path": a.info.path,
        "duration": round(a.duration, 3),
        "width": a.info.width,
        "height": a.info.height,
        "fps": round(a.info.fps, 3),
        "has_audio": a.info.has_audio,
        "truncated": a.truncated,
        "notes": a.notes,
        "transcript": a.transcript.text if a.transcript else "",
        "segments": [
            {
                "start": round(s.start, 2),
                "end": round(s.end, 2),
                "seen": [{"label": lb, "score": round(x, 3)} for lb, x in s.seen[:3]],
                "heard": _heard(s),
                "said": s.said,
                "written": s.written,
                "faces": s.faces,
            }
            for s in a.segments
        ],
    }
    if embedding:
        out["embedding"] = [round(float(x), 6) for x in a.vector]
    return out


def _clock(t: float) -> str:
    m, s = divmod(round(t), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def contact_sheet(a: VideoAnalysis, path: str | Path, columns: int = SHEET_COLUMNS) -> Path:
    """A PNG grid of the segments' key frames, each with its time span, what was seen and
    what was said. Needs an analysis made with ``keyframes=True``."""
    path = Path(path)
    rows = (len(a.segments) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * CELL, max(1, rows) * (CELL + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, seg in enumerate(a.segments):
        x, y = (i % columns) * CELL, (i // columns) * (CELL + CAPTION)
        if seg.keyframe is not None:
            frame = seg.keyframe.copy()
            frame.thumbnail((CELL - 8, CELL - 8))
            sheet.paste(frame, (x + (CELL - frame.width) // 2, y + (CELL - frame.height) // 2))
        seen = seg.seen[0][0] if seg.seen else ""
        lines = [f"{_clock(seg.start)}-{_clock(seg.end)}  {seen}"[:34]]
        if seg.said:
            lines.append(f"“{seg.said}”"[:34])
        elif seg.written:
            lines.append(f"[{' '.join(seg.written.split())}]"[:34])
        draw.text((x + 6, y + CELL + 4), "\n".join(lines), fill="black", font=font, spacing=4)
        draw.rectangle([x, y, x + CELL - 1, y + CELL + CAPTION - 1], outline=(210, 210, 210))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path
