"""``azcreds exec`` output: throughput of a masked pipe against an unmasked one (``--no-masking``).

A child writes ``AZCREDS_BENCH_EXEC_MIB`` MiB (default 100) of random bytes to stdout in 64 KiB
writes; the bench reads the pipe and times, per run, first byte to last byte (the pipe's
throughput, azcreds' start-up left out) and the whole command. Three ways: the child alone (no
azcreds), ``azcreds exec --no-masking`` (the child writes straight into the bench's pipe: the
baseline) and ``azcreds exec`` masking (every byte through the masker and a second pipe). The
secret comes from the environment (no scrypt in the figures). Median of ``AZCREDS_BENCH_EXEC_RUNS``
(default 7) runs each, interleaved so that a busy machine slows all three alike.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import time

from bench._report import figure, row, section, target

KEY = "YmVuY2gtZXhlYy1rZXktLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLQ=="
CHILD = (
    "import random, sys\n"
    "data = random.Random(15).randbytes({size})\n"
    "w = sys.stdout.buffer.write\n"
    "for i in range(0, len(data), 1 << 16): w(data[i:i + (1 << 16)])\n"
)


def _one(argv: list[str], env: dict[str, str], size: int) -> tuple[float, float, str]:
    """(first-to-last byte seconds, whole command seconds, sha256) of one run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    digest = hashlib.sha256()
    first = None
    got = 0
    while chunk := os.read(fd, 1 << 20):
        if first is None:
            first = time.perf_counter()
        digest.update(chunk)
        got += len(chunk)
    last = time.perf_counter()
    if proc.wait() != 0 or got != size:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode} after {got} of {size} bytes")
    return last - (first or last), last - t0, digest.hexdigest()


def run() -> None:
    mib = int(os.environ.get("AZCREDS_BENCH_EXEC_MIB", "100"))
    runs = int(os.environ.get("AZCREDS_BENCH_EXEC_RUNS", "7"))
    size = mib << 20
    section(f"exec output: {mib} MiB of binary through a pipe (median of {runs} runs each)")
    env = os.environ.copy()
    env["AZCREDS_BENCH__ACCOUNT_NAME"] = "bench"
    env["AZCREDS_BENCH__ACCOUNT_KEY"] = KEY
    child = [sys.executable, "-c", CHILD.format(size=size)]
    azcreds = [sys.executable, "-m", "azcreds", "exec", "bench"]
    ways = {
        "child alone": child,
        "unmasked": [*azcreds, "--no-masking", "--", *child],
        "masked": [*azcreds, "--", *child],
    }
    pipe: dict[str, list[float]] = {w: [] for w in ways}
    whole: dict[str, list[float]] = {w: [] for w in ways}
    digests = set()
    for _ in range(runs):
        for way, argv in ways.items():
            p, w, digest = _one(argv, env, size)
            pipe[way].append(p)
            whole[way].append(w)
            digests.add(digest)
    if len(digests) != 1:
        raise RuntimeError("the bytes that came through differ between runs or ways")
    rate = {w: mib / statistics.median(s) for w, s in pipe.items()}
    took = {w: statistics.median(s) * 1000 for w, s in whole.items()}
    row(
        "child alone: pipe throughput",
        f"{rate['child alone']:.0f} MiB/s",
        f"whole run {took['child alone']:.0f} ms",
    )
    row(
        "exec --no-masking: pipe throughput",
        f"{rate['unmasked']:.0f} MiB/s",
        f"baseline; whole run {took['unmasked']:.0f} ms",
    )
    ratio = rate["masked"] / rate["unmasked"]
    row(
        "exec (masked): pipe throughput",
        f"{rate['masked']:.0f} MiB/s",
        f"x{ratio:.2f} of --no-masking",
        target(ratio >= 0.8, ">= x0.80"),
    )
    whole_ratio = took["unmasked"] / took["masked"]
    row(
        "exec (masked): whole command",
        f"{took['masked']:.0f} ms",
        f"x{whole_ratio:.2f} the speed of --no-masking (start-up included)",
    )
    row("bytes through, every run and way", "byte-exact", "one sha256 for all")
    figure("exec.pipe.masked_vs_unmasked", ratio)
    figure("exec.whole.masked_vs_unmasked", whole_ratio)
