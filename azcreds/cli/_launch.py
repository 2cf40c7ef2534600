"""Starting the child of ``azcreds exec`` and ``azcreds run``: one function both call.

The child inherits this terminal and standard streams; its exit code becomes azcreds' (a signal
``N`` that ended it becomes ``128 + N``, as a shell reports it). A command that cannot be started
is bad input. Variables the CLI set in its own environment (:data:`CLI_ONLY_VARIABLES`) are taken
out of the child's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from azcreds.cli._io import BadInput

__all__ = ["CLI_ONLY_VARIABLES", "launch"]

CLI_ONLY_VARIABLES: dict[str, str] = {}
"""Variables ``azcreds.cli.main`` put into ``os.environ`` for itself (it restores them when it
returns); a child gets the environment it would have had without them."""


def launch(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``command`` with exactly ``env`` as its environment; return the exit code to pass on."""
    import subprocess

    if not command:
        raise BadInput("give a command after --")
    child = {k: v for k, v in env.items() if CLI_ONLY_VARIABLES.get(k) != v}
    try:
        completed = subprocess.run(list(command), env=child, check=False)
    except FileNotFoundError:
        raise BadInput(f"command not found: {command[0]}") from None
    except PermissionError:
        raise BadInput(f"command is not executable: {command[0]}") from None
    code = completed.returncode
    return 128 - code if code < 0 else code
