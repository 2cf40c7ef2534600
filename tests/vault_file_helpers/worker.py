"""A separate process that writes to a vault file, for the concurrency and crash tests.

Usage: ``python worker.py register PATH WORKER COUNT`` or ``python worker.py count PATH``.
The passphrase comes from ``AZCREDS_TEST_PASSPHRASE`` (never the command line). The worker unlocks
the file, prints ``ready``, and starts when a line arrives on stdin.

- ``register``: COUNT transactions, each adding the key ``w<WORKER>-<i>`` = i; then prints ``done``.
- ``count``: forever, one transaction appending ``len(counters)`` to the list ``counters``; after each
  commit it prints the new length (so the parent knows which states were acknowledged).
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
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
