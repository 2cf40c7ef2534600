"""``azcreds exec NAME -- COMMAND``: run COMMAND with one secret's credentials and no other.

Plain click, like ``schema``: ``exec`` is the start-up path ``python -m bench exec`` measures, and
importing typer cost about a sixth of it; the options are those ``azcreds exec --help`` shows.
"""

from __future__ import annotations

import click

from azcreds.cli._io import BadInput


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name", metavar="NAME")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="COMMAND...")
@click.option(
    "--clean-env",
    is_flag=True,
    help="Give COMMAND only a minimal environment (PATH, HOME, locale, CA bundles...) plus the credentials.",
)
def exec_(name: str, command: tuple[str, ...], clean_env: bool) -> None:
    """Run COMMAND with the secret's credentials and no other: azcreds exec NAME -- COMMAND ...

    COMMAND inherits this environment without anything that carries, unlocks or selects another
    credential (AZCREDS_KEYRING_PASSPHRASE, AZCREDS_KEYRING_SESSION, AZCREDS_<NAME>__<FIELD>,
    AZURE_STORAGE_*, AZURE_CLIENT_SECRET, ...), plus the secret's variables.
    """
    from azcreds.child_env import child_environment
    from azcreds.cli._launch import launch
    from azcreds.resolve import resolve_credentials

    if not command:
        raise BadInput("give a COMMAND after --: azcreds exec NAME -- COMMAND ...")
    child_env = child_environment(resolve_credentials(name), clean=clean_env)
    raise click.exceptions.Exit(launch(command, child_env))
