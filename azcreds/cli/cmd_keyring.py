"""``azcreds keyring init | status | passwd | unlock | lock``: the local encrypted keyring file."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from azcreds.cli._io import BadInput, is_interactive, print_json, prompt_secret
from azcreds.cli._stores import keyring_store
from azcreds.cli._typer import group_app

app = group_app("Create and manage the local encrypted keyring.")


def _new_passphrase(from_stdin: bool, label: str) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif is_interactive():
        value = prompt_secret(label, confirm=True)
    else:
        raise BadInput("no terminal to prompt on: pass --passphrase-stdin or set AZCREDS_KEYRING_PASSPHRASE")
    if not value:
        raise BadInput("the passphrase cannot be empty")
    return value


@app.command("init")
def init(
    os_keyring: Annotated[
        bool,
        typer.Option("--os-keyring", help="Keep a random key in the OS keyring instead of a passphrase."),
    ] = False,
    passphrase_stdin: Annotated[
        bool, typer.Option("--passphrase-stdin", help="Read the new passphrase from standard input.")
    ] = False,
) -> None:
    """Create the encrypted keyring file (passphrase from AZCREDS_KEYRING_PASSPHRASE, stdin or a prompt)."""
    from azcreds.resolvers.keyring import KeyringStore
    from azcreds.settings import get_settings

    if os_keyring:
        store = KeyringStore()
        store.create(use_os_keyring=True)
    elif passphrase_stdin or (not get_settings().keyring_passphrase and is_interactive()):
        store = KeyringStore(passphrase=_new_passphrase(passphrase_stdin, "New keyring passphrase"))
        store.create(use_os_keyring=False)
    else:
        store = KeyringStore()
        store.create()
    header = store.header()
    typer.echo(f"created keyring {store.path} ({header.key_source}, {header.cipher})")


@app.command("status")
def status(json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False) -> None:
    """Show the keyring file, how it is protected, and whether it unlocks."""
    from azcreds.errors import AzcredsError
    from azcreds.resolvers.keyring import KeyringStore

    store = KeyringStore()
    data: dict[str, object] = {"path": str(store.path), "exists": store.exists()}
    if store.exists():
        header = store.header()
        data |= {
            "format_version": header.format_version,
            "cipher": header.cipher,
            "key_source": header.key_source,
            "kdf": header.kdf,
            "kdf_params": vars(header.kdf_params) if header.kdf_params else None,
        }
        try:
            data |= {"unlocked": True, "secrets": len(store.list())}
        except AzcredsError as exc:
            data |= {"unlocked": False, "why": str(exc)}
    if json_:
        print_json(data)
        return
    for key, value in data.items():
        typer.echo(f"{key}: {value}")


@app.command("passwd")
def passwd(
    passphrase_stdin: Annotated[
        bool, typer.Option("--new-passphrase-stdin", help="Read the new passphrase from standard input.")
    ] = False,
    os_keyring: Annotated[
        bool, typer.Option("--to-os-keyring", help="Switch to a random key in the OS keyring.")
    ] = False,
) -> None:
    """Re-encrypt the keyring under a new passphrase (atomically; the old one stops working)."""
    store = keyring_store()
    if not store.exists():
        raise BadInput(f"no keyring file at {store.path}: run `azcreds keyring init` first")
    if os_keyring:
        store.change_key(use_os_keyring=True)
    else:
        store.change_key(passphrase=_new_passphrase(passphrase_stdin, "New keyring passphrase"))
    typer.echo(f"re-encrypted keyring {store.path}")


def print_note(message: str) -> None:
    """A note on stderr (stdout is for eval)."""
    sys.stderr.write(f"azcreds: {message}\n")


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> int:
    """``15m``, ``1h30m``, ``90s``, ``2h`` or plain seconds (``900``) → seconds; BadInput otherwise."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        match = _DURATION.fullmatch(value)
        if not value or match is None:
            raise BadInput("--for is a duration such as 15m, 1h30m, 90s or 2h")
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    from azcreds.keyring_session import MAX_SESSION_SECONDS

    if not 0 < seconds <= MAX_SESSION_SECONDS:
        raise BadInput(f"--for is more than 0 s and at most {MAX_SESSION_SECONDS // 3600}h")
    return seconds


@app.command("unlock")
def unlock(
    for_: Annotated[
        str, typer.Option("--for", help="How long the session lasts (15m, 1h30m, 90s; at most 24h).")
    ] = "15m",
    passphrase_stdin: Annotated[
        bool, typer.Option("--passphrase-stdin", help="Read the passphrase from standard input.")
    ] = False,
) -> None:
    """Unlock once and print `export AZCREDS_KEYRING_SESSION=...`: eval "$(azcreds keyring unlock)".

    Later commands with that variable open the keyring without the passphrase and without
    scrypt, until the session expires or `azcreds keyring lock` ends it. The unlocked key is kept
    wrapped in a 0600 file in the user's runtime folder; the session value alone opens nothing.
    Neither the session nor the passphrase reaches a command run by `exec` or `run`.
    """
    from azcreds.resolvers.keyring import KeyringStore
    from azcreds.settings import get_settings

    seconds = parse_duration(for_)
    configured = get_settings().keyring_passphrase
    if passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n")
    elif configured is not None and configured.get_secret_value():
        passphrase = configured.get_secret_value()
    elif is_interactive():
        passphrase = prompt_secret("Keyring passphrase")
    else:
        raise BadInput("no terminal to prompt on: pass --passphrase-stdin or set AZCREDS_KEYRING_PASSPHRASE")
    if not passphrase:
        raise BadInput("the passphrase cannot be empty")
    store = KeyringStore(passphrase=passphrase)  # never an existing session: unlock needs the passphrase
    if not store.exists():
        raise BadInput(f"no keyring file at {store.path}: run `azcreds keyring init` first")
    value = store.start_session(seconds)
    typer.echo(f"export AZCREDS_KEYRING_SESSION={value}")
    print_note(f"keyring session for {store.path} started; it lasts {for_.strip()}")


@app.command("lock")
def lock(
    all_: Annotated[bool, typer.Option("--all", help="End every keyring session of this user.")] = False,
) -> None:
    """End the keyring session in AZCREDS_KEYRING_SESSION (or every one, --all); prints `unset ...`."""
    from azcreds.keyring_session import end_all_sessions, end_session
    from azcreds.settings import get_settings

    session = get_settings().keyring_session
    if all_:
        ended = end_all_sessions()
    elif session is not None and session.get_secret_value():
        ended = int(end_session(session.get_secret_value()))
    else:
        raise BadInput("no AZCREDS_KEYRING_SESSION in this environment: nothing to lock (or use --all)")
    typer.echo("unset AZCREDS_KEYRING_SESSION")
    print_note(f"ended {ended} keyring session{'s' if ended != 1 else ''}")
