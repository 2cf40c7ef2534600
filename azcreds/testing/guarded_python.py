"""Run a Python script in a child process under the loopback-only network guard.

The pytest plugin guards the test process only; a script run as a subprocess (an official SDK
sample, an example) needs the guard inside the child. ``python -m azcreds.testing.guarded_python
SCRIPT ARGS`` installs :mod:`~azcreds.testing.network_guard`, runs ``SCRIPT`` as ``__main__`` (as
``python SCRIPT ARGS`` would: same ``sys.argv``, its folder first on ``sys.path``) and, however it
ends, reports every refused destination on stderr after :data:`GUARD_MARKER`. :func:`run_python`
does all that and reads the reports back into ``PythonResult.blocked``; :meth:`PythonResult.check`
fails on any, or on a non-zero exit, since client code may catch the ``OSError`` and carry on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["GUARD_MARKER", "PythonResult", "main", "run_python"]

GUARD_MARKER = "azcreds-network-guard: "
"""What starts each stderr line in which a guarded child reports a refused destination."""


@dataclass(frozen=True)
class PythonResult:
    """What a guarded Python run printed, its exit code, and the destinations the guard refused."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    blocked: list[dict[str, object]] = field(default_factory=list)

    def check(self) -> PythonResult:
        """Raise ``AssertionError`` unless the script exited 0 and tried no non-loopback address."""
        if self.blocked:
            raise AssertionError(f"the script tried non-loopback destinations: {self.blocked}")
        if self.returncode != 0:
            raise AssertionError(
                f"the script exited {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


def command(script: str | Path, *args: str) -> list[str]:
    """The command line that runs ``script`` under the guard with this interpreter."""
    return [sys.executable, "-m", "azcreds.testing.guarded_python", str(script), *args]


def parse_blocked(stderr: str) -> list[dict[str, object]]:
    """The refusals a guarded child reported on its stderr."""
    return [
        json.loads(line.split(GUARD_MARKER, 1)[1]) for line in stderr.splitlines() if GUARD_MARKER in line
    ]


def run_python(
    script: str | Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 120,
) -> PythonResult:
    """Run ``python SCRIPT ARGS`` under the guard and return what happened.

    ``env`` is the child's whole environment (default: this process's).
    """
    argv = command(script, *args)
    done = subprocess.run(
        argv,
        env=dict(os.environ if env is None else env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PythonResult(argv, done.returncode, done.stdout, done.stderr, parse_blocked(done.stderr))


def _report() -> None:
    from azcreds.testing import network_guard

    for attempt in network_guard.blocked_attempts():
        record = {
            "host": attempt.host,
            "port": attempt.port,
            "where": attempt.where,
            "caller": attempt.caller,
        }
        sys.stderr.write(GUARD_MARKER + json.dumps(record) + "\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """``python -m azcreds.testing.guarded_python SCRIPT [ARGS]``."""
    import runpy

    from azcreds.testing import network_guard

    arguments = sys.argv[1:] if argv is None else argv
    if not arguments:
        raise SystemExit("usage: python -m azcreds.testing.guarded_python SCRIPT [ARGS]")
    script = Path(arguments[0]).resolve()
    sys.argv = [str(script), *arguments[1:]]
    sys.path[0] = str(script.parent)
    network_guard.install()
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        _report()


if __name__ == "__main__":
    main()
