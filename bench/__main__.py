"""Run the benchmark sections: ``python -m bench [startup] [resolve] ...`` (all by default)."""

from __future__ import annotations

import platform
import sys

from bench import bench_keyring, bench_keyvault, bench_resolve, bench_startup, bench_store

SECTIONS = {
    "startup": bench_startup.run,
    "resolve": bench_resolve.run,
    "keyring": bench_keyring.run,
    "cli": bench_keyring.cli,
    "keyvault": bench_keyvault.run,
    "offazure": bench_keyvault.run_offazure,
    "store": bench_store.run,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    from azcreds.testing import network_guard

    network_guard.install()  # benchmarks talk to 127.0.0.1 only; anything else fails loudly
    print(f"azcreds benchmarks on Python {platform.python_version()}, {platform.machine()}, {sys.platform}")
    for name in chosen:
        SECTIONS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
