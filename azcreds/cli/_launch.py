"""Starting the child of ``azcreds exec`` and ``azcreds run``: one function both call.

The child inherits this terminal and standard streams; its exit code becomes azcreds' (a signal
``N`` that ended it becomes ``128 + N``, as a shell reports it). A command that cannot be started
is bad input.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from azcreds.cli._io import BadInput

__all__ = ["launch"]


def launch(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``command`` with exactly ``env`` as its environment; return the exit code to pass on."""
    if not command:
        raise BadInput("give a command after --")
    try:
        completed = subprocess.run(list(command), env=dict(env), check=False)
    except FileNotFoundError:
        raise BadInput(f"command not found: {command[0]}") from None
    except PermissionError:
        raise BadInput(f"command is not executable: {command[0]}") from None
    code = completed.returncode
    return 128 - code if code < 0 else code
