"""Tiny helpers shared by the benchmark sections: timing loops, percentiles, one output format."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

ROWS: list[tuple[str, str, str, str]] = []

FIGURES: dict[str, float] = {}
"""Numbers a section records for charts (``figure``); ``python -m bench --json FILE`` saves them."""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def per_call_ns(fn: Callable[[], object], calls: int) -> list[float]:
    """Time each call separately (ns); includes ~50-100 ns of timer overhead per sample."""
    samples = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return samples


def timer_overhead_ns(calls: int = 20000) -> float:
    return statistics.median(per_call_ns(lambda: None, calls))


def process_ms(code: str, runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall time of ``python -c code`` in a fresh interpreter, in ms, one sample per run."""
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env or os.environ.copy())
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def command_ms(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, env=env or os.environ.copy(), stdout=subprocess.DEVNULL)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def pty_command_ms(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Like command_ms, with stdout and stderr on a pseudo-terminal (what a user at a shell sees)."""
    import pty

    samples = []
    for _ in range(runs):
        master, slave = pty.openpty()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env or os.environ.copy(), stdout=slave, stderr=slave)
        os.close(slave)
        while True:  # drain the terminal, or a long output would block the child
            try:
                if not os.read(master, 65536):
                    break
            except OSError:  # EIO: the child closed the terminal
                break
        code = proc.wait()
        samples.append((time.perf_counter() - t0) * 1000)
        os.close(master)
        if code != 0:
            raise subprocess.CalledProcessError(code, argv)
    return samples


def row(metric: str, value: str, baseline: str, verdict: str = "") -> None:
    ROWS.append((metric, value, baseline, verdict))
    print(f"  {metric:<52} {value:>22}   {baseline}{('   ' + verdict) if verdict else ''}", flush=True)


def figure(key: str, value: float) -> None:
    """Record one number of this run under a stable key (``store.upload.store_vs_raw``, ...)."""
    FIGURES[key] = round(value, 4)


def target(ok: bool, text: str) -> str:
    return f"[{'meets' if ok else 'MISSES'} target {text}]"


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)
