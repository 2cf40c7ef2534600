"""``azcreds exec NAME -- COMMAND``: run COMMAND with one secret's credentials and no other.

Plain click, like ``schema``: ``exec`` is the start-up path ``python -m bench exec-start``
measures, and importing typer cost about a sixth of it; the options are those
``azcreds exec --help`` shows. ``--scope`` loads the SAS machinery only when it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from azcreds.cli._io import BadInput

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name", metavar="NAME")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="COMMAND...")
@click.option(
    "--clean-env",
    is_flag=True,
    help="Give COMMAND only a minimal environment (PATH, HOME, locale, CA bundles...) plus the credentials.",
)
@click.option(
    "--scope",
    metavar="az://CONTAINER[/PATH]",
    help="Give only a short-lived SAS for this container (or prefix, or with --blob one blob).",
)
@click.option(
    "--permissions",
    metavar="P",
    help="With --scope: letters or words of read (r), add (a), create (c), write (w), delete (d), "
    "list (l), tag (t). Default r.",
)
@click.option(
    "--ttl", metavar="D", help="With --scope: how long the SAS lives, e.g. 15m, 1h, 7d. Default 1h."
)
@click.option("--blob", is_flag=True, help="With --scope: the PATH is one blob, not a prefix.")
@click.option("--no-masking", is_flag=True, help="Pass COMMAND's output through untouched.")
@click.option("--watch", is_flag=True, help="Restart COMMAND when the secret changes (keyring, Key Vault).")
@click.option(
    "--watch-interval",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds between Key Vault polls with --watch.",
)
@click.option(
    "--watch-grace",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds from SIGTERM to SIGKILL on a restart.",
)
def exec_(
    name: str,
    command: tuple[str, ...],
    clean_env: bool,
    scope: str | None,
    permissions: str | None,
    ttl: str | None,
    blob: bool,
    no_masking: bool,
    watch: bool,
    watch_interval: float,
    watch_grace: float,
) -> None:
    """Run COMMAND with the secret's credentials and no other: azcreds exec NAME -- COMMAND ...

    COMMAND inherits this environment without anything that carries, unlocks or selects another
    credential (AZCREDS_KEYRING_PASSPHRASE, AZCREDS_KEYRING_SESSION, AZCREDS_<NAME>__<FIELD>,
    AZURE_STORAGE_*, AZURE_CLIENT_SECRET, ...), plus the secret's variables. With --scope, those of
    a short-lived SAS for that container or blob instead: the child never gets the key or client
    secret. Its output has every secret value replaced by <concealed by azcreds> (docs/exec.md);
    with --watch it is restarted on rotation.
    """
    from azcreds.child_env import child_environment
    from azcreds.cli._launch import run_child, secret_watch
    from azcreds.resolve import explain_resolution

    if not command:
        raise BadInput("give a COMMAND after --: azcreds exec NAME -- COMMAND ...")
    if watch and scope is not None:
        # A scoped SAS is minted once, for its TTL; a restart on rotation would need a new one
        # minted from the new secret, which --watch does not do (yet): refuse, don't half-do it.
        raise BadInput("--watch and --scope don't go together: the scoped SAS is minted once")
    # Uncached: this process resolves once, and caching would read the settings for a TTL nobody
    # uses (pydantic-settings' import is a fifth of the start-up); with no AZCREDS_<SETTING> set,
    # a secret the environment has is then found without them (azcreds/_setting_variables.py).
    credentials = explain_resolution(name).unwrap()
    given = credentials
    if scope is not None or permissions is not None or ttl is not None or blob:
        from azcreds.cli.cmd_sas import scope_credentials  # typer: only on this path

        given = scope_credentials(credentials, scope, permissions, ttl, blob)

    def make_env(creds: AzureCredentials) -> dict[str, str]:
        return child_environment(creds, clean=clean_env)

    secrets = [*credentials.secret.secret_values()]
    if given is not credentials:
        secrets += given.secret.secret_values()  # the SAS the child gets is masked too
    run_child(
        command,
        make_env(given),
        secrets=secrets,
        masking=not no_masking,
        watch=secret_watch(name, credentials, make_env, watch_interval) if watch else None,
        grace=watch_grace,
    )
