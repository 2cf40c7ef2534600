"""Run Node.js scripts (the JavaScript Azure SDKs) under a loopback-only guard.

:func:`run_node` starts ``node --require loopback_guard.cjs SCRIPT``: the preload shipped beside this
module wraps ``net.Socket.prototype.connect`` (which ``http``, ``https``, ``tls`` and ``fetch`` all go
through) and ``dns.lookup``/``dns.resolve*``, and refuses every destination but 127.0.0.0/8, ``::1``,
``localhost`` and Unix sockets, before a packet leaves. Client code may catch the error and retry,
so every refusal is also reported (on stderr after :data:`GUARD_MARKER`, and in a log file named by
``AZCREDS_NODE_GUARD_LOG``), read back into ``NodeResult.blocked``; :meth:`NodeResult.check` fails
on any. The packages come from the repository's
``node_modules`` (installed by ``npm ci``), found as :func:`find_node_modules` says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["GUARD_MARKER", "GUARD_SCRIPT", "NodeNotFoundError", "NodeResult", "find_node_modules", "run_node"]

GUARD_SCRIPT = Path(__file__).with_name("loopback_guard.cjs")
"""The ``--require`` preload that keeps a Node.js process on loopback."""

GUARD_MARKER = "azcreds-loopback-guard: "
"""What starts each stderr line in which the guard reports a refused destination."""


class NodeNotFoundError(FileNotFoundError):
    """``node`` or the repository's ``node_modules`` is missing."""


def find_node_modules(search_from: Iterable[str | Path] | None = None) -> Path:
    """The first ``node_modules`` folder in ``search_from`` or a parent (default: cwd, this package)."""
    roots = [Path(r) for r in search_from] if search_from is not None else [Path.cwd(), Path(__file__)]
    for root in roots:
        for folder in (root.resolve(), *root.resolve().parents):
            candidate = folder / "node_modules"
            if candidate.is_dir():
                return candidate
    raise NodeNotFoundError(
        "no node_modules folder found: run `npm ci` in the azcreds repository (or scripts/setup)."
    )


@dataclass(frozen=True)
class NodeResult:
    """What a guarded Node.js run printed, its exit code, and the connections the guard refused."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    blocked: list[dict[str, object]] = field(default_factory=list)

    def check(self) -> NodeResult:
        """Raise ``AssertionError`` unless the script exited 0 and tried no non-loopback address."""
        if self.blocked:
            raise AssertionError(f"node tried non-loopback destinations: {self.blocked}")
        if self.returncode != 0:
            raise AssertionError(
                f"node exited {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


def run_node(
    script: str | Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    command_prefix: Sequence[str] = (),
    cwd: str | Path | None = None,
    timeout: float = 120,
    node_modules: str | Path | None = None,
) -> NodeResult:
    """Run ``node SCRIPT ARGS`` under the loopback guard and return what happened.

    ``env`` is the child's whole environment (default: this process's). ``command_prefix`` goes
    before ``node`` (e.g. ``["azcreds", "exec", "az_secret", "--"]``). The guard is on node's own
    command line, so a prefix that cleans the environment cannot drop it; ``NODE_OPTIONS`` carries
    it too, for node processes the script starts. ``NODE_PATH`` points at the repository's
    ``node_modules`` (scripts inside the repository find them without it).
    """
    node = shutil.which("node")
    if node is None:
        raise NodeNotFoundError("node is not on PATH: install Node.js 20 or newer")
    modules = Path(node_modules) if node_modules is not None else find_node_modules()
    child_env = dict(os.environ if env is None else env)
    with tempfile.TemporaryDirectory(prefix="azcreds-node-") as tmp:
        log = Path(tmp) / "blocked.jsonl"
        child_env["AZCREDS_NODE_GUARD_LOG"] = str(log)
        options = child_env.get("NODE_OPTIONS", "")
        child_env["NODE_OPTIONS"] = f'{options} --require "{GUARD_SCRIPT}"'.strip()
        child_env["NODE_PATH"] = os.pathsep.join(filter(None, [str(modules), child_env.get("NODE_PATH")]))
        argv = [*command_prefix, node, "--require", str(GUARD_SCRIPT), str(script), *args]
        done = subprocess.run(
            argv, env=child_env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
        logged = log.read_text().splitlines() if log.exists() else []
    reported = [line.split(GUARD_MARKER, 1)[1] for line in done.stderr.splitlines() if GUARD_MARKER in line]
    # The same refusal can be in both places; keep each once, in order.
    blocked = [json.loads(line) for line in dict.fromkeys([*reported, *logged])]
    return NodeResult(argv, done.returncode, done.stdout, done.stderr, blocked)
