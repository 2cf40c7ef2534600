"""One process of the fleet bench: THREADS threads resolving one Key Vault secret until a deadline.

``python -m bench._fleet_worker MODE THREADS SECONDS INTERVAL_MS`` under the loopback network guard,
with the vault, identity endpoint and TTL in the environment (set by bench/bench_fleet.py). It
imports everything, prints ``ready``, waits for a line on stdin (the fleet starts together), then
every thread resolves, pauses INTERVAL_MS, and so on. It prints one JSON line: the latency of every
resolve after each thread's first (ns), and how many of those waited on the source.

MODE: ``ttl`` — the cache as before refresh ahead (refresh at the TTL, callers waiting);
``ahead`` — refresh ahead at a fixed 9/10 of the TTL (no jitter); ``jitter`` — as shipped.
"""

from __future__ import annotations

import json
import sys
import threading
import time


def main(argv: list[str]) -> int:
    from azcreds.testing import network_guard

    network_guard.install()
    mode, threads, seconds, interval_ms = argv[0], int(argv[1]), float(argv[2]), float(argv[3])
    import azure.identity  # imported before the start, as a running service has them
    import azure.keyvault.secrets  # noqa: F401

    import azcreds
    import azcreds.resolve as cache

    if mode == "ttl":
        cache._refresh_span = (1.0, 1.0)
    elif mode == "ahead":
        cache._random = lambda: 1.0
    elif mode != "jitter":
        raise SystemExit(f"unknown mode {mode!r}")
    waited = threading.local()
    original = cache._resolve_waiting

    def counting(*args: object, **kwargs: object) -> object:
        waited.count = getattr(waited, "count", 0) + 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    cache._resolve_waiting = counting  # type: ignore[assignment]
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + seconds
    samples: list[list[int]] = []
    waits: list[int] = []
    errors: list[str] = []
    pause = interval_ms / 1000

    def resolver() -> None:
        mine: list[int] = []
        try:
            azcreds.resolve_credentials("fleet")  # warm-up: the cold resolve
            before = getattr(waited, "count", 0)
            clock = time.perf_counter_ns
            while time.monotonic() < deadline:
                t0 = clock()
                azcreds.resolve_credentials("fleet")
                mine.append(clock() - t0)
                time.sleep(pause)
            waits.append(getattr(waited, "count", 0) - before)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        samples.append(mine)

    workers = [threading.Thread(target=resolver) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(
        json.dumps({"samples": [s for mine in samples for s in mine], "waits": sum(waits), "errors": errors})
    )
    blocked = network_guard.blocked_attempts()
    return 1 if errors or blocked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
