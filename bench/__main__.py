"""Run the benchmark sections: ``python -m bench [--json FILE] [startup] [resolve] ...`` (all by default).

``--json FILE`` also writes the figures the sections recorded (``bench._report.figure``) as JSON,
for ``python -m bench.chart FILE``, which draws the charts on docs/benchmarks.md from them.
"""

from __future__ import annotations

import platform
import sys

from bench import (
    bench_exec,
    bench_exec_start,
    bench_fleet,
    bench_keyring,
    bench_keyvault,
    bench_resolve,
    bench_startup,
    bench_store,
)

SECTIONS = {
    "startup": bench_startup.run,
    "resolve": bench_resolve.run,
    "keyring": bench_keyring.run,
    "cli": bench_keyring.cli,
    "exec-start": bench_exec_start.run,
    "keyvault": bench_keyvault.run,
    "offazure": bench_keyvault.run_offazure,
    "store": bench_store.run,
    "exec": bench_exec.run,
    "fleet": bench_fleet.run,
}


def main(argv: list[str]) -> int:
    json_path = None
    if argv[:1] == ["--json"]:
        if len(argv) < 2:
            print("--json needs a file name", file=sys.stderr)
            return 2
        json_path, argv = argv[1], argv[2:]
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
    if json_path is not None:
        import json

        from bench._report import FIGURES

        run = {"python": platform.python_version(), "machine": platform.machine(), "sections": chosen}
        with open(json_path, "w") as f:
            json.dump({"run": run, "figures": FIGURES}, f, indent=1, sort_keys=True)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
