"""Start a command for ``azcreds exec`` (and ``run``): the supervisor, with CLI errors and warnings.

One call for every command that runs a child with secrets: it masks the child's output unless
told not to, warns once about a terminal left unmasked, maps "cannot start" to bad input (exit 2)
and exits with the child's status. Variables the CLI set in its own environment
(:data:`CLI_ONLY_VARIABLES`) are taken out of the child's. Plain click, no typer: ``exec`` is the
start-up path ``python -m bench exec-start`` measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

import click

from azcreds.cli._io import BadInput, print_warning

__all__ = ["CLI_ONLY_VARIABLES", "run_child", "secret_watch"]

CLI_ONLY_VARIABLES: dict[str, str] = {}
"""Variables ``azcreds.cli.main`` put into ``os.environ`` for itself (it restores them when it
returns); a child gets the environment it would have had without them."""

if TYPE_CHECKING:
    from collections.abc import Callable

    from azcreds.credentials import AzureCredentials
    from azcreds.supervise import Watch


def _without_cli_only(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if CLI_ONLY_VARIABLES.get(k) != v}


def secret_watch(
    name: str,
    credentials: AzureCredentials,
    child_env: Callable[[AzureCredentials], dict[str, str]],
    interval: float,
) -> Watch | None:
    """The ``--watch`` of ``name`` (None, with a warning, for a source that cannot change)."""
    from azcreds.watch import MIN_KEYVAULT_INTERVAL, SecretWatch

    if not interval >= MIN_KEYVAULT_INTERVAL:  # also NaN
        raise BadInput(
            f"--watch-interval must be at least {MIN_KEYVAULT_INTERVAL:g} seconds (a fleet shares one "
            "Key Vault's request budget)"
        )
    watch = SecretWatch(
        name, credentials, lambda creds: _without_cli_only(child_env(creds)), keyvault_interval=interval
    )
    if not watch.watched:
        print_warning(
            f"--watch: {name!r} comes from {credentials.source}, which does not change; not watched"
        )
        return None
    return watch


def run_child(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    secrets: Iterable[str],
    masking: bool = True,
    watch: Watch | None = None,
    grace: float = 10.0,
) -> NoReturn:
    """Run ``command`` under :class:`azcreds.supervise.Supervisor` and exit with its status."""
    from azcreds.supervise import Supervisor

    if not grace >= 0:
        raise BadInput("--watch-grace must be a number of seconds, 0 or more")
    if not command:
        raise BadInput("give a command after --")
    env = _without_cli_only(env)
    supervisor = Supervisor(
        command, env, secrets=secrets, masking=masking, watch=watch, grace=grace, on_warning=print_warning
    )
    if supervisor.unmasked_terminals:
        streams = supervisor.unmasked_terminals
        what = f"{streams[0]} is a terminal" if len(streams) == 1 else "stdout and stderr are terminals"
        print_warning(
            f"{what}: the command keeps it and its output there is not masked "
            "(pipe it, e.g. `| cat`, to mask; --no-masking to silence this)"
        )
    try:
        code = supervisor.run()
    except FileNotFoundError:
        raise BadInput(f"command not found: {command[0]}") from None
    except PermissionError:
        raise BadInput(f"command is not executable: {command[0]}") from None
    raise click.exceptions.Exit(code)
