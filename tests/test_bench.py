"""The benchmark sections still run: the store section end to end at tiny sizes (figures not checked).

Wall-clock figures are never asserted; this catches a bench broken by a change in the code it drives.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from bench import chart
from tests.cli.helpers import Result, child_env, run_subprocess

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "AZCREDS_BENCH_STORE_LARGE_MIB": "1",
    "AZCREDS_BENCH_STORE_MEMORY_MIB": "4",
    "AZCREDS_BENCH_STORE_SMALL_FILES": "6",
    "AZCREDS_BENCH_STORE_SMALL_FILES_ADLFS": "3",
    "AZCREDS_BENCH_STORE_LIST_BLOBS": "13",
    "AZCREDS_BENCH_STORE_LARGE_REPEAT": "4",
}


def _run_store_bench(*options: str, **changes: str) -> Result:
    """``python -m bench [OPTIONS] store`` in a child with the test session's cleaned environment."""
    command = [sys.executable, "-m", "bench", *options, "store"]
    return run_subprocess(command, env=child_env(**changes), cwd=ROOT, timeout=300)


def _row(output: str, label: str) -> str:
    lines = [line for line in output.splitlines() if line.strip().startswith(label)]
    assert len(lines) == 1, f"no single row {label!r} in:\n{output}"
    return lines[0]


def test_store_bench_runs_every_row_at_tiny_sizes(tmp_path: Path) -> None:
    saved = tmp_path / "store.json"
    result = _run_store_bench("--json", str(saved), **TINY)
    assert result.code == 0, result.err[-3000:]
    out = result.out
    # 13 blobs: 7 at the top of many/ (even i), 6 below d0..d5 -> listdir sees 7 files + 6 directories.
    assert re.search(r"\(expected listdir entries\)\s+13\b", out), out
    assert "13 entries" in _row(out, "listdir: store")
    assert "13 entries" in _row(out, "listdir: raw SDK")
    assert "13 entries" in _row(out, "listdir: adlfs")
    spread = re.compile(r"x\d+\.\d\d raw throughput \((middle half of )?rounds x\d")
    for direction in ("upload", "download"):
        assert spread.search(_row(out, f"{direction}: store open+copyfileobj"))
    assert "1.00 requests/file" in _row(out, "write: store")
    assert "MiB above baseline" in out
    for direction in ("upload", "download"):
        for client in ("raw BlobClient (baseline)", "store open+copyfileobj", "adlfs open+copyfileobj"):
            assert re.search(r"\d\.\d\d s/GiB", _row(out, f"{direction}: client CPU, {client}"))
    # The saved figures hold everything the charts on docs/benchmarks.md are drawn from.
    run = json.loads(saved.read_text())
    chart.render(run)
    assert run["run"]["sections"] == ["store"]
    where = _row(out, "(Azurite's data)")
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        folder = re.search(r"tmpfs \((/dev/shm/azcreds-bench-azurite-[^)]+)\)", where)
        assert folder is not None, where
        assert not Path(folder[1]).exists()  # Azurite's data is removed with it


def test_the_charts_on_the_benchmarks_page_are_drawn_from_the_saved_run() -> None:
    saved = json.loads((ROOT / "bench" / "results" / "store.json").read_text())
    page = chart.PAGE.read_text()
    assert chart.updated_page(page, saved) == page, "run: python -m bench.chart bench/results/store.json"
    assert page.count("xychart-beta") == 2


def test_store_bench_refuses_an_unknown_azurite_mode() -> None:
    result = _run_store_bench(AZCREDS_BENCH_STORE_AZURITE="ramdisk")
    assert result.code != 0
    assert "must be tmpfs, memory or disk, not 'ramdisk'" in result.err


def test_exec_bench_runs_at_a_tiny_size() -> None:
    command = [sys.executable, "-m", "bench", "exec"]
    result = run_subprocess(
        command, env=child_env(AZCREDS_BENCH_EXEC_MIB="1", AZCREDS_BENCH_EXEC_RUNS="1"), cwd=ROOT
    )
    assert result.code == 0, result.err[-3000:]
    assert "x" in _row(result.out, "exec (masked): pipe throughput")
    assert "byte-exact" in _row(result.out, "bytes through, every run and way")


def test_fleet_bench_runs_every_row_at_tiny_sizes() -> None:
    """2 processes x 2 threads, TTL 1 s for 2 TTLs, in the three cache modes, and a 500-pod simulation."""
    tiny = {
        "AZCREDS_BENCH_FLEET_PROCS": "2",
        "AZCREDS_BENCH_FLEET_THREADS": "2",
        "AZCREDS_BENCH_FLEET_TTL": "1",
        "AZCREDS_BENCH_FLEET_PERIODS": "2",
        "AZCREDS_BENCH_FLEET_PODS": "500",
    }
    result = run_subprocess(
        [sys.executable, "-m", "bench", "fleet"], env=child_env(**tiny), cwd=ROOT, timeout=300
    )
    assert result.code == 0, result.err[-3000:]
    for label in ("refresh at the TTL (before)", "refresh ahead, no jitter", "refresh ahead + jitter"):
        windows = _row(result.out, f"{label}: Key Vault GETs per TTL window")
        assert re.search(r"\s\d+ \d+\s+2 processes", windows), windows
        assert re.search(r" of [\d,]+\s+max", _row(result.out, f"{label}: resolves that waited on Key Vault"))
    assert "peak GETs / 10 s, steady state" in result.out
    assert "all pods fresh in" in result.out


def test_fleet_simulation_without_jitter_refreshes_the_whole_fleet_in_one_window() -> None:
    """The model itself (deterministic): a fleet started within 10 s and refreshing at the TTL puts
    every pod's request in one 10 s window each round; jitter spreads them over 2/5 of the TTL."""
    from bench.fleet_sim import simulate

    lockstep = simulate(pods=2000, jitter=False, duration=1300)
    spread = simulate(pods=2000, jitter=True, duration=1300)
    assert lockstep.peak(600, 1300) == 2000
    assert spread.peak(600, 1300) < 2000 * 10 / (0.4 * 300) * 2  # within 2x of an even spread
    assert not lockstep.throttled
    assert not spread.throttled
    storm = simulate(pods=2000, jitter=True, storm=(600, 300), duration=1500)
    assert storm.errors == 0
    assert storm.last_throttled < 900 <= storm.last_recovered <= 900 + 30  # the stale retry pause
