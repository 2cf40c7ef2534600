"""``azcreds exec``: a child's output with its secret masked, and ``--watch`` restarting it on rotation.

Run it with ``python examples/exec_masked_watch.py``. It keeps a keyring in a temporary folder
(your real keyring is never touched), registers an account-key secret, then:

1. runs a child that prints its connection string and key: what reaches us is masked;
2. runs a long-lived child under ``--watch``, rotates the key with ``azcreds secret update``
   and reads the restarted child's first line; then stops it with SIGTERM (passed on to it).

Nothing leaves this machine; no Azure service is needed.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from azcreds.connection_string import AZURITE_ACCOUNT_KEY

AZCREDS = [sys.executable, "-m", "azcreds"]
MARKER = "<concealed by azcreds>"
PRINT_IT = (
    "import os; print(os.environ['AZURE_STORAGE_CONNECTION_STRING']); "
    "print('key:', os.environ['AZURE_STORAGE_ACCOUNT_KEY'])"
)
SERVE = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "print('serving with key', os.environ['AZURE_STORAGE_ACCOUNT_KEY'][:12], flush=True)\n"
    "while True: signal.pause()\n"
)


def azcreds(*args: str, stdin: str | None = None) -> str:
    print(f"$ azcreds {' '.join(args)}", flush=True)
    done = subprocess.run([*AZCREDS, *args], input=stdin, capture_output=True, text=True, check=True)
    print(done.stdout, end="", flush=True)
    return done.stdout


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="azcreds-exec-") as tmp:
        os.environ["AZCREDS_KEYRING_PATH"] = str(Path(tmp) / "keyring.azcv")
        os.environ["AZCREDS_KEYRING_PASSPHRASE"] = secrets.token_urlsafe(16)  # as CI would set it
        azcreds("keyring", "init")
        # --FIELD=- reads the value from stdin: it stays out of argv and shell history.
        azcreds(
            "secret", "register", "app", "--schema", "azure-account-key", "--account_name=devstoreaccount1",
            "--account_key=-", stdin=AZURITE_ACCOUNT_KEY,
        )  # fmt: skip

        out = azcreds("exec", "app", "--", sys.executable, "-c", PRINT_IT)
        if AZURITE_ACCOUNT_KEY in out or out.count(MARKER) != 2:
            print("UNEXPECTED: the key was not masked", file=sys.stderr)
            return 1

        print("$ azcreds exec app --watch -- python serve.py   (in the background)", flush=True)
        server = subprocess.Popen(
            [*AZCREDS, "exec", "app", "--watch", "--", sys.executable, "-c", SERVE],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        try:
            print(server.stdout.readline(), end="", flush=True)
            new_key = "bmV3IGtleSBhZnRlciByb3RhdGlvbiwgZm9yIHRoZSBleGFtcGxlIG9ubHkgLi4uLi4uLi4uLg=="
            azcreds("secret", "update", "app", "--account_key=-", stdin=new_key)
            restarted = server.stdout.readline()  # the restarted child's first line
            print(restarted, end="", flush=True)
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
        if restarted != f"serving with key {new_key[:12]}\n" or server.returncode != 0:
            print(f"UNEXPECTED: {restarted!r}, exit {server.returncode}", file=sys.stderr)
            return 1
        print("exec example OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
