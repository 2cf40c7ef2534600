"""A separate process that writes to a vault file, for the concurrency and crash tests.

Usage: ``python worker.py register PATH WORKER COUNT`` or ``python worker.py count PATH``.
The passphrase comes from ``AZCREDS_TEST_PASSPHRASE`` (never the command line). The worker unlocks
the file, prints ``ready``, and starts when a line arrives on stdin.

- ``register``: COUNT transactions, each adding the key ``w<WORKER>-<i>`` = i; then prints ``done``.
- ``count``: forever, one transaction appending ``len(counters)`` to the list ``counters``; after each
  commit it prints the new length (so the parent knows which states were acknowledged).
- ``hold``: take the write lock (a transaction), print ``locked``, and keep it until a second line
  arrives on stdin (a writer that hangs).
- ``hold-forked``: take the write lock, fork, and exit at once without releasing it: the forked
  child (which shares the lock) prints ``locked`` and keeps it until a line arrives on stdin. The
  pid the lock file records is then that of a process that no longer runs.
"""

from __future__ import annotations

import os
import sys

from azcreds.vault_file import PassphraseKey, VaultFile


def main(argv: list[str]) -> int:
    mode, path = argv[0], argv[1]
    vault = VaultFile(path)
    vault.unlock(PassphraseKey(os.environ["AZCREDS_TEST_PASSPHRASE"]))
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "register":
        worker, count = argv[2], int(argv[3])
        for i in range(count):
            with vault.transaction() as payload:
                payload[f"w{worker}-{i}"] = i
        print("done", flush=True)
        return 0
    if mode == "count":
        while True:
            with vault.transaction() as payload:
                counters = payload.setdefault("counters", [])
                counters.append(len(counters))
                committed = len(counters)
            print(committed, flush=True)
    if mode == "hold":
        with vault.transaction():
            print("locked", flush=True)
            sys.stdin.readline()
        return 0
    if mode == "hold-forked":
        with vault.transaction():
            if os.fork() == 0:
                print("locked", flush=True)
                sys.stdin.readline()
            os._exit(0)  # neither process releases the lock on its way out
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
