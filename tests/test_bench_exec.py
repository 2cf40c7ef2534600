"""The `exec-start` bench section still runs end to end (one run per row; figures are never asserted)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.cli.helpers import child_env, run_subprocess

ROOT = Path(__file__).resolve().parents[1]


def test_exec_bench_runs_every_row() -> None:
    result = run_subprocess(
        [sys.executable, "-m", "bench", "exec-start"],
        env=child_env(AZCREDS_BENCH_EXEC_START_RUNS="1"),
        cwd=ROOT,
        timeout=300,
    )
    assert result.code == 0, result.err[-3000:]
    out = result.out
    assert "A SMOKE RUN, NOT A MEASUREMENT" in out
    for label in (
        "from the environment",
        "from the keyring, with a session",
        "from the keyring, with the passphrase",
    ):
        assert re.search(rf"azcreds exec, {label}\s+\d+ ms \(\+\d+ ms\)\s+x\d+\.\d python -c pass", out), out
    assert re.search(r"from the environment .*\[(meets|MISSES) target <= 120 ms\]", out), out
    assert re.search(r"with a session .*\[(meets|MISSES) target <= 150 ms\]", out), out
    for floor in ("click + one pydantic model + the child", "the same + pydantic-settings + AES-GCM"):
        assert re.search(rf"\(floor: {re.escape(floor)}\)\s+\d+ ms", out), out
