"""Every command over a corpus of awkward inputs (issue 17): no traceback, no hang, one line
per bad file naming it and the cause, the good files unaffected, peak memory per command.

The corpus is ``tests/corpus/build.py``'s, the hour of silence included: truncated media at
several points, wrong extensions, zero bytes, NaN and Inf samples, one sample, 96 kHz stereo,
rotation metadata, animation, pages, 16-bit and CMYK pixels, a decompression bomb, UTF-16 and
Latin-1 text, NUL bytes, odd file names, a pipe, links to /dev/zero, to nowhere and to
themselves, videos without streams or sound, text that begins like a file signature, a
1 x 20000 strip, with untouched real files mixed in. Each command runs as its own process
(``python -m sensorium``) over each file alone and, where it takes several, over the whole
folder at once, killed at ``TIMEOUT_S``; its peak RSS is its own (``wait4``).

A call is judged on its output: a traceback, running past the bound, or an exit status other
than 0, 1 (some input failed) and 2 (wrong usage) is a failure; every bad file must be named
on exactly one line of the error output; a good file the command takes must get its result
(its path on the standard output; a single-file command: exit status 0); any call that fails
must name its file; a line of error output that names no file is stray.

``python -m benchmarks.corpus [--commands a,b] [--kinds x,y]`` runs a part and merges it into
``results/corpus.json`` (the whole matrix takes over an hour on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME = "corpus"
ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / f"{NAME}.json"
TIMEOUT_S = 120.0  # a call over one file
LONG_TIMEOUT_S = 400.0  # over the folder, or the hour of silence (Whisper takes a minute)
MEMORY_BOUND_MB = 1536
LABELS = "a cup of coffee,a bird,a person speaking,an elephant,a meeting note"
IMAGE, AUDIO, VIDEO, MUTE_VIDEO, TEXT = "image", "audio", "video", "mute video", "text"
EVERY = frozenset({IMAGE, AUDIO, VIDEO, MUTE_VIDEO, TEXT})

Args = Callable[[list[str], str], list[str]]  # (paths, db) -> arguments after "sensorium"


@dataclass(frozen=True)
class Command:
    name: str
    args: Args
    takes: frozenset[str]  # what a good file must hold to get a result
    many: bool = True  # takes several paths (a folder) in one call
    shown: bool = True  # a result shows the file's path on stdout (else: exit status 0)
    fresh_db: bool = False  # a collection of its own each call (ingest: no memory of failures)


def _one(name: str, args: Callable[[str], list[str]], takes: frozenset[str]) -> Command:
    """A command that takes one file and answers about it."""
    return Command(name, lambda p, db: args(p[0]), takes, many=False, shown=False)


def _search(option: str, takes: str) -> Command:
    """``search --image FILE`` (or ``--audio``) over a small collection of real files."""
    return Command(f"search-{option}", lambda p, db: ["search", f"--{option}", p[0], "--db", db],
                   frozenset({takes}), many=False, shown=False)  # fmt: skip


COMMANDS = [
    Command("ingest", lambda p, db: ["ingest", *p, "--db", db], EVERY, shown=False, fresh_db=True),
    Command("classify", lambda p, db: ["classify", *p, "--labels", LABELS], EVERY),
    Command(
        "transcribe",
        lambda p, db: ["transcribe", *p, "--model", "tiny.en"],
        frozenset({AUDIO, VIDEO}),
    ),
    Command("describe", lambda p, db: ["describe", *p], frozenset({IMAGE, AUDIO})),
    Command("read", lambda p, db: ["read", *p], frozenset({IMAGE})),
    _one("summarize", lambda p: ["summarize", p], frozenset({VIDEO, MUTE_VIDEO})),
    _search("image", IMAGE),
    _search("audio", AUDIO),
    _one("ask", lambda p: ["ask", p, "what is in it?"], frozenset({IMAGE, AUDIO})),
    _one("triage-image", lambda p: ["triage", "--image", p], frozenset({IMAGE})),
    _one("triage-audio", lambda p: ["triage", "--audio", p], frozenset({AUDIO})),
]


def _tagged(text: str, kinds: Sequence[Any]) -> str:
    """``text`` with each kind's path (as given, and resolved for links) as ``<name>``."""
    for k in sorted(kinds, key=lambda k: -len(str(k.path))):  # cut-half.jpg before half.jpg
        for name in dict.fromkeys((str(k.path), os.path.realpath(k.path))):
            text = text.replace(name, f"<{k.name}>")
    return text


def judge(command: Command, call: Any, kinds: Sequence[Any], alone: bool) -> list[str]:
    """What is wrong with one call (``build.Call``) over ``kinds``: [] when nothing."""
    wrong = []
    if call.hung:
        wrong.append("hung")
    if call.traceback:
        wrong.append("traceback: " + call.err.strip().splitlines()[-1][:200])
    if call.crashed:
        wrong.append(f"exit status {call.rc}")
    if wrong:
        return wrong
    lines = [line for line in _tagged(call.err, kinds).splitlines() if line.strip()]
    out, shown = _tagged(call.out, kinds), " | ".join(lines)[:200]
    for k in kinds:
        named = [line for line in lines if f"<{k.name}>" in line]
        if alone and call.rc != 0 and not named:
            wrong.append(f"{k.name}: exit status {call.rc}, the file not named: {shown}")
        elif k.expected == "bad" and len(named) != 1:
            wrong.append(f"{k.name}: bad, named on {len(named)} error lines")
        elif k.expected == "good" and k.media in command.takes and (
            _failed(named) or (command.shown and f"<{k.name}>" not in out)
            or (alone and call.rc != 0)):  # fmt: skip
            wrong.append(f"{k.name}: good, but no result (exit status {call.rc}): {shown}")
    stray = [line for line in lines if "<" not in line]
    if stray and not (alone and wrong):
        wrong.append(f"{len(stray)} stray error lines: {' | '.join(stray)[:200]}")
    return wrong


def _failed(lines: list[str]) -> bool:
    return any(line.startswith(("error", "failed")) for line in lines)


def _record(call: Any, problems: list[str], kinds: Sequence[Any]) -> dict[str, Any]:
    lines = _tagged(call.err, kinds).strip().splitlines()
    return {
        "rc": call.rc,
        "s": round(call.seconds, 1),
        "mb": round(call.peak_mb),
        "traceback": call.traceback,
        "hung": call.hung,
        "crashed": call.crashed,
        "problems": problems,
        "line": lines[0][:300] if lines and len(kinds) == 1 else "",
    }


def run_command(command: Command, kinds: Sequence[Any], folder: Path | None, db: Path,
                alone: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:  # fmt: skip
    """``command`` over each kind alone (``alone``), then (if it takes many) over the whole
    ``folder`` (None: not)."""
    from tests.corpus.build import run_cli

    out: dict[str, Any] = {"alone": {}}
    fresh = iter(range(10**6))

    def db_for_call() -> str:
        return str(db.parent / f"ingest-{next(fresh)}" if command.fresh_db else db)

    for k in kinds if alone else []:
        call = run_cli(command.args([str(k.path)], db_for_call()),
                       LONG_TIMEOUT_S if k.slow else TIMEOUT_S)  # fmt: skip
        problems = judge(command, call, [k], alone=True)
        out["alone"][k.name] = _record(call, problems, [k])
        log(f"{command.name:15} {k.name:24} rc={call.rc} {call.seconds:5.1f} s "
            f"{call.peak_mb:5.0f} MB {'; '.join(problems)}")  # fmt: skip
    if command.many and folder is not None:
        call = run_cli(command.args([str(folder)], db_for_call()), LONG_TIMEOUT_S)
        problems = judge(command, call, kinds, alone=False)
        out["together"] = _record(call, problems, kinds)
        log(f"{command.name:15} {'(all together)':24} rc={call.rc} {call.seconds:5.1f} s "
            f"{call.peak_mb:5.0f} MB {'; '.join(problems)}")  # fmt: skip
    return out


def run(tmp: Path, commands: Sequence[str] | None = None, kinds: Sequence[str] | None = None,
        folder_only: bool = False) -> dict[str, Any]:  # fmt: skip
    """The matrix, or a part: ``commands`` over ``kinds`` alone (no run over the folder), or
    (``folder_only``) over the folder only."""
    sys.path.insert(0, str(ROOT))
    from tests.corpus.build import build, run_cli

    folder = tmp / "corpus"
    built = build(folder)
    tried = [k for k in built if not k.skip and (kinds is None or k.name in kinds)]
    chosen = [c for c in COMMANDS if (commands is None or c.name in commands)
              and (c.many or not folder_only)]  # fmt: skip
    db = tmp / "db"
    if any(c.name.startswith("search") for c in chosen):  # a collection for them to search
        good = [str(k.path) for k in built if k.name in ("photo", "speech", "bird", "note")]
        ready = run_cli(["ingest", *good, "--db", str(db)], LONG_TIMEOUT_S)
        if ready.rc != 0:
            raise RuntimeError(f"could not ingest the real files: {ready.err}")
    whole = folder if kinds is None else None  # a part of the kinds: no run over the folder
    results = {c.name: run_command(c, tried, whole, db, alone=not folder_only)
               for c in chosen}  # fmt: skip
    return _summed({"kinds": [{"name": k.name, "file": k.path.name, "expected": k.expected,
                               "why": k.why, "media": k.media, "skip": k.skip} for k in built],
                    "timeout_s": TIMEOUT_S, "long_timeout_s": LONG_TIMEOUT_S,
                    "memory_bound_mb": MEMORY_BOUND_MB,
                    "commands": results})  # fmt: skip


def _calls(c: dict[str, Any]) -> list[dict[str, Any]]:
    return [*c["alone"].values(), *([c["together"]] if "together" in c else [])]


def _summed(data: dict[str, Any]) -> dict[str, Any]:
    """Per command and overall: calls, tracebacks, hangs, crashes, wrong results, peak RSS."""
    for c in data["commands"].values():
        calls = _calls(c)
        c["summary"] = {
            "calls": len(calls),
            "tracebacks": sum(r["traceback"] for r in calls),
            "hangs": sum(r["hung"] for r in calls),
            "crashes": sum(r["crashed"] for r in calls),
            "wrong": sum(len(r["problems"]) for r in calls),
            "peak_rss_mb_alone": max((r["mb"] for r in c["alone"].values()), default=0),
            "peak_rss_kind": max(c["alone"], key=lambda k: c["alone"][k]["mb"], default=""),
            "peak_rss_mb_next": _next_highest(c["alone"]),
            "peak_rss_mb_together": c["together"]["mb"] if "together" in c else None,
            "slowest_s": max((r["s"] for r in calls), default=0.0),  # none: a part run
        }
    sums = [c["summary"] for c in data["commands"].values()]
    data["kinds_tried"] = sum(not k["skip"] for k in data["kinds"])
    data["totals"] = {key: sum(s[key] for s in sums)
                      for key in ("calls", "tracebacks", "hangs", "crashes", "wrong")}  # fmt: skip
    data["totals"]["peak_rss_mb"] = max(
        max(s["peak_rss_mb_alone"], s["peak_rss_mb_together"] or 0) for s in sums
    )
    return data


def _next_highest(alone: dict[str, Any]) -> int:
    """The highest peak RSS but one: what the command costs without its worst file."""
    return (sorted((r["mb"] for r in alone.values()), reverse=True)[1:2] or [0])[0]


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with ``new``'s calls put in (a part run later replaces the same calls)."""
    for name, c in new["commands"].items():
        into = old["commands"].setdefault(name, {"alone": {}})
        into["alone"].update(c["alone"])
        if "together" in c:
            into["together"] = c["together"]
    old["kinds"] = new["kinds"]
    return _summed(old)


def markdown(data: dict[str, Any]) -> list[str]:
    t = data["totals"]
    skipped = "; ".join(f"{k['name']} ({k['skip']})" for k in data["kinds"] if k["skip"])
    lines = [
        "## Awkward inputs: every command over a corpus of bad files",
        "",
        f"{data['kinds_tried']} kinds of awkward input (`tests/corpus/build.py`: truncated at "
        "several points, misnamed, empty, NaN/Inf samples, 96 kHz stereo, an hour of silence, "
        "rotated, animated, multi-page, 16-bit, CMYK, a decompression bomb, UTF-16 and Latin-1, "
        "NUL bytes, odd names, a pipe, links to /dev/zero, nowhere and themselves, videos "
        "without streams, a 1 x 20000 strip; untouched real files mixed in), every command run "
        "as its own process over each file alone and over the whole folder "
        f"(`benchmarks/corpus.py`; a call is killed after {data['timeout_s']:.0f} s, "
        f"{data['long_timeout_s']:.0f} s over the folder or the hour). {t['calls']} calls: "
        f"**{t['tracebacks']} tracebacks, {t['hangs']} hangs, {t['crashes']} crashes**, "
        f"{t['wrong']} wrong results (a bad file not named on one line, a good file without "
        f"its result); highest peak RSS of any call {t['peak_rss_mb']} MB (bound "
        f"{data['memory_bound_mb']} MB).",
        "",
        *([f"Not tried on this machine: {skipped}.", ""] if skipped else []),
        "| command | calls | tracebacks | hangs | crashes | wrong results | peak RSS, one file "
        "a call (the file) | next highest | peak RSS, all together | slowest call |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in data["commands"].items():
        s = c["summary"]
        together = f"{s['peak_rss_mb_together']} MB" if s["peak_rss_mb_together"] else "n/a"
        lines.append(f"| `{name}` | {s['calls']} | {s['tracebacks']} | {s['hangs']} | "
                     f"{s['crashes']} | {s['wrong']} | {s['peak_rss_mb_alone']} MB "
                     f"({s['peak_rss_kind']}) | {s['peak_rss_mb_next']} MB | {together} "
                     f"| {s['slowest_s']} s |")  # fmt: skip
    found = [f"- `{name}`: {what}" for name, c in data["commands"].items()
             for what in _found(c, data["memory_bound_mb"])]  # fmt: skip
    return [*lines, *(["", "What went wrong, by command (each with the files it went wrong on):",
                       "", *found] if found else []), ""]  # fmt: skip


def _found(c: dict[str, Any], bound: int) -> list[str]:
    """One command's problems, the same problem on several files said once, with the files;
    and the calls over the memory bound."""
    by_problem: dict[str, list[str]] = {}
    calls = [*c["alone"].items(), *([("all together", c["together"])] if "together" in c else [])]
    for name, r in calls:
        for p in r["problems"]:
            what = p.removeprefix(f"{name}: ")
            by_problem.setdefault(what, []).append(name)
    over = [f"{name} ({r['mb']} MB)" for name, r in calls if r["mb"] > bound]
    return [f"{what} ({len(names)}: {', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"
            for what, names in by_problem.items()] + (
        [f"peak RSS over {bound} MB: {', '.join(over)}"] if over else [])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", help="comma-separated command names (default: all)")
    parser.add_argument("--kinds", help="comma-separated kind names, each alone (default: all, "
                        "then the folder)")  # fmt: skip
    parser.add_argument("--folder-only", action="store_true", help="the run over the folder")
    a = parser.parse_args()
    commands = a.commands.split(",") if a.commands else None
    kinds = a.kinds.split(",") if a.kinds else None
    with tempfile.TemporaryDirectory() as tmp:
        data = run(Path(tmp), commands, kinds, a.folder_only)
    if RESULT.exists() and (commands or kinds or a.folder_only):
        data = merge(json.loads(RESULT.read_text()), data)
    from benchmarks.run import machine

    data["machine"] = machine()
    RESULT.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print("\n".join(markdown(data)))


if __name__ == "__main__":
    main()
