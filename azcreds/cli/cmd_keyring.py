"""``azcreds keyring init | status | passwd``: the local encrypted keyring file."""

from __future__ import annotations

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
