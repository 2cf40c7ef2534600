"""The encrypted keyring: unlock cost, `get` after unlock, and keyrings.cryptfile as the baseline."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._report import per_call_ns, percentile, row, section, target, timer_overhead_ns

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
PASSPHRASE = "bench passphrase, not a secret"
GETS = 20_000
CRYPTFILE_GETS = 10


def run() -> None:
    from azcreds import KeyringStore, parse_secret

    section("encrypted keyring (default scrypt N=2**17, r=8, p=1; AES-256-GCM)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "keyring.azcv"
        store = KeyringStore(path, passphrase=PASSPHRASE)
        secret = parse_secret("azure", {"account_name": "devstoreaccount1", "account_key": KEY})
        for i in range(20):
            store.register(f"secret-{i}", secret)

        unlocks = []
        for _ in range(3):
            fresh = KeyringStore(path, passphrase=PASSPHRASE)
            t0 = time.perf_counter()
            fresh.get("secret-7")  # unlock (one scrypt) + first read
            unlocks.append((time.perf_counter() - t0) * 1000)
        unlock = statistics.median(unlocks)
        row("unlock + first get (median of 3)", f"{unlock:.0f} ms", "one scrypt run per unlock per process")

        overhead = timer_overhead_ns()
        gets = [s - overhead for s in per_call_ns(lambda: fresh.get("secret-7"), GETS)]
        g50, g99 = percentile(gets, 50) / 1000, percentile(gets, 99) / 1000

        cryptfile = _cryptfile_get_ms(Path(tmp))
        row(
            f"get after unlock p50 ({GETS:,} calls)",
            f"{g50:.1f} us",
            f"keyrings.cryptfile get_password: {cryptfile:.0f} ms (x{cryptfile * 1000 / g50:,.0f})",
            target(g50 <= 50, "<= 50 us"),
        )
        row("get after unlock p99", f"{g99:.1f} us", "stat + validation; decrypts only after a write")

        t0 = time.perf_counter()
        for i in range(20):
            store.update(f"secret-{i}", account_url="http://127.0.0.1:10000/devstoreaccount1")
        write = (time.perf_counter() - t0) / 20 * 1000
        row(
            "update (locked read-modify-write, 2 fsyncs)",
            f"{write:.1f} ms",
            "per write, 20 secrets in the file",
        )


def _cryptfile_get_ms(folder: Path) -> float:
    """keyrings.cryptfile derives its key (argon2) on every read: the cost azcreds avoids."""
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    ring = CryptFileKeyring()
    ring.file_path = str(folder / "cryptfile.cfg")  # type: ignore[misc]
    ring.keyring_key = PASSPHRASE
    ring.set_password("azcreds-bench", "secret-7", KEY)
    samples = []
    for _ in range(CRYPTFILE_GETS):
        t0 = time.perf_counter()
        assert ring.get_password("azcreds-bench", "secret-7") == KEY
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def cli() -> None:
    """Start-up of the console script, as a user runs it, to a pipe and to a terminal.

    azcreds' own modules are byte-compiled first, as ``pip install`` does (this checkout is an
    editable install and the CI environment sets PYTHONDONTWRITEBYTECODE, so nothing else would).
    """
    import compileall
    import sys

    import azcreds
    from bench._report import command_ms, pty_command_ms

    compileall.compile_dir(Path(azcreds.__file__).parent, quiet=1)
    runs = 21
    section(f"CLI start-up (median of {runs} runs each; azcreds byte-compiled as pip would)")
    env = os.environ.copy()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    script = str(Path(sys.executable).parent / "azcreds")
    bare = statistics.median(command_ms([sys.executable, "-c", "pass"], runs, env))
    for argv in (["--help"], ["schema", "list"], ["schema", "list", "--json"]):
        for where, timer in (("pipe", command_ms), ("terminal", pty_command_ms)):
            if where == "terminal" and "--json" in argv:
                continue
            ms = statistics.median(timer([script, *argv], runs, env))
            row(
                f"azcreds {' '.join(argv)} (to a {where})",
                f"{ms:.0f} ms (+{ms - bare:.0f} ms)",
                f"x{ms / bare:.1f} python -c pass ({bare:.0f} ms)",
                target(ms - bare <= 150, "<= +150 ms"),
            )
