"""A long-running child for the ``--watch`` tests: ``python watch_child.py LOG polite|stubborn``.

On start it appends ``start PID KEY`` to LOG (KEY: the account key it was given) and prints the key
(which azcreds masks). SIGTERM: ``polite`` appends ``term PID`` and exits 0; ``stubborn`` appends
``ignored PID`` and keeps running (until SIGKILL). SIGUSR1 appends ``usr1 PID`` and exits 5. No
timing: the tests wait for these lines.
"""

from __future__ import annotations

import os
import signal
import sys


def log(line: str) -> None:
    with open(sys.argv[1], "a") as f:
        f.write(f"{line} {os.getpid()}\n")


def main() -> None:
    mode = sys.argv[2]

    def on_term(signum: int, frame: object) -> None:
        if mode == "polite":
            log("term")
            sys.exit(0)
        log("ignored")

    def on_usr1(signum: int, frame: object) -> None:
        log("usr1")
        sys.exit(5)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_usr1)
    key = os.environ["AZURE_STORAGE_ACCOUNT_KEY"]
    print(f"child has key {key}", flush=True)
    log(f"start {key}")
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
