"""Schemathesis, an API tester no one here wrote, against the real server on a real collection:
every check, every phase (stateful included), a fixed seed, 0 failures; with ``--token`` too.

Fewer examples per operation than the run in docs/service.md (100), to bound the suite's time;
the coverage phase, which walks every boundary of the schema, runs whole either way. Uploads in
schema-valid requests get real media from schemathesis_hooks.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytest.importorskip("schemathesis")

SEED = 27
EXAMPLES = 10  # per operation and phase; docs/service.md: 100
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
# A request of 16 images to read (OCR) takes ~25 s on two busy cores: the bound on an answer
# is raised from Schemathesis's 10 s, not the check turned off
OPTIONS = ["--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
           "--seed", str(SEED), "--workers", "1", "--generation-database", "none",
           "--request-timeout", "120", "--max-response-time", "60", "--no-color"]  # fmt: skip


def _schemathesis(url: str, folder: Path, *extra: str) -> str:
    """Run the CLI on the served schema; its report, after checking it found nothing."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/openapi.json",
               *OPTIONS, *extra]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder,
                         timeout=1500, check=False)  # fmt: skip
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-6000:]
    # every operation the server serves: a new route joins the run as it lands
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    n = sum(len(methods) for methods in paths.values())
    assert f"Selected: {n}/{n}" in report and f"Tested: {n}" in report, report[-3000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts and counts[1] == counts[2] and int(counts[1]) > 500, report[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}\b", report), (phase, report[-3000:])
    return report


def test_schemathesis_finds_nothing(live_url: str, tmp_path: Path) -> None:
    report = _schemathesis(live_url, tmp_path, "--max-examples", str(EXAMPLES))
    assert "failures" not in report.splitlines()[-1]


def test_schemathesis_with_the_token(live_token_url: str, tmp_path: Path) -> None:
    """Every operation declares the bearer scheme; ``ignored_auth`` (in ``--checks all``)
    sends each without the token and with a wrong one and needs 401; with it, they work."""
    _schemathesis(live_token_url, tmp_path, "--max-examples", "4",
                  "-H", "Authorization: Bearer s3cret")  # fmt: skip
