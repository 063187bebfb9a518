"""The CPU-path matrix as a benchmark: ``scripts/cpu_matrix.py`` (every line in a fresh process
with the environment that forces a kernel family), its pass/fail table kept in the results."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

NAME = "cpu_matrix"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "cpu_matrix.py"


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "matrix.json"
        proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=False)
        data: dict[str, Any] = json.loads(out.read_text())
    data["rc"] = proc.returncode
    return data


def markdown(data: dict[str, Any]) -> list[str]:
    lines = [
        "## The CPU-path matrix",
        "",
        f"`python scripts/cpu_matrix.py` on {data['cpu']}, {data['machine']['date']}: "
        f"{data['checks']} checks a line (words of 14 clips and 4 effects, top labels of 20 "
        "photos and 4 sounds, vectors of 27 items), each line in a fresh process, compared "
        "with the defaults (vectors within 1e-4). CI runs it (`scripts/test.sh`). A line whose "
        "kernels the CPU cannot run (AVX-512 ones on a CPU without it) is reported as not "
        "applicable there (`NEEDS` in the script), and the rest must pass.",
        "",
        "| line | environment | result | max vector difference | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in data["lines"]:
        env = ", ".join(f"`{k}={v}`" for k, v in r["env"].items()) or "(none)"
        result = ("pass" if r["pass"] else
                  f"not applicable: {r['not_applicable']}" if r["pass"] is None else
                  "**FAIL**: " + "; ".join(r["differences"]))  # fmt: skip
        lines.append(f"| {r['line']} | {env} | {result} | {r.get('max_vector_diff') or 0:.1e} | "
                     f"{r.get('seconds') or 0:.0f} |")  # fmt: skip
    return [*lines, ""]
