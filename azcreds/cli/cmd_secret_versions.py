"""``azcreds secret history | rollback``, ``get --version`` and ``--expires/--not-before`` (Key Vault).

Key Vault keeps every version of a secret; the keyring keeps only the newest, so these verbs and
options are for ``--store keyvault`` (anything else is bad input, exit 2). Values are never shown
by ``history``; ``rollback`` writes an old version's value again as the newest version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from azcreds.cli._io import BadInput, console, print_json

if TYPE_CHECKING:
    from datetime import datetime

    from azcreds.resolvers.base import WritableStore
    from azcreds.resolvers.keyvault import KeyVaultStore
    from azcreds.resolvers.keyvault_versions import SecretVersion

__all__ = ["keyvault_only", "lifetime_options", "register_commands", "show_version"]

NameArg = Annotated[str, typer.Argument(help="Secret name: 1-64 letters, digits, '_' or '-'.")]
StoreOption = Annotated[str, typer.Option("--store", help="Where the secret lives: keyvault only.")]
VaultOption = Annotated[
    str | None,
    typer.Option("--vault-url", help="Key Vault URL (else AZCREDS_KEYVAULT_URL)."),
]
VersionOption = Annotated[str, typer.Option("--version", help="The version id (see `secret history`).")]
ExpiresOption = Annotated[
    str | None,
    typer.Option("--expires", help="Key Vault: expiry of the new version, 90d / 12h / 2027-01-31 (UTC)."),
]
NotBeforeOption = Annotated[
    str | None,
    typer.Option("--not-before", help="Key Vault: the new version is not valid before this (as --expires)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def keyvault_only(store: str, what: str) -> None:
    """Bad input unless ``store`` is ``keyvault`` (the keyring keeps no versions or dates)."""
    if store != "keyvault":
        raise BadInput(f"{what} applies to --store keyvault only (the keyring keeps no versions or dates)")


def lifetime_options(
    store: str, expires: str | None, not_before: str | None
) -> tuple[datetime | None, datetime | None]:
    """``--expires`` / ``--not-before`` as UTC times (bad input if malformed or not Key Vault)."""
    from azcreds.lifetimes import parse_when

    parsed: list[datetime | None] = []
    for flag, value in (("--expires", expires), ("--not-before", not_before)):
        if value is None:
            parsed.append(None)
            continue
        keyvault_only(store, flag)
        try:
            parsed.append(parse_when(value))
        except ValueError as exc:
            raise BadInput(f"{flag} {exc}") from None
    expires_on, starts = parsed
    if expires_on is not None and starts is not None and starts >= expires_on:
        raise BadInput("--not-before must be earlier than --expires")
    return expires_on, starts


def _keyvault(target: WritableStore) -> KeyVaultStore:
    from azcreds.resolvers.keyvault import KeyVaultStore

    assert isinstance(target, KeyVaultStore)
    return target


def _stamp(when: datetime | None) -> str:
    from azcreds.lifetimes import stamp

    return stamp(when) if when is not None else ""


def _row(v: SecretVersion) -> dict[str, object]:
    return {
        "version": v.version,
        "current": v.current,
        "created": _stamp(v.created),
        "updated": _stamp(v.updated),
        "enabled": v.enabled,
        "not_before": _stamp(v.not_before),
        "expires": _stamp(v.expires_on),
    }


def show_version(target: WritableStore, name: str, version: str, *, reveal: bool, json_: bool) -> None:
    """``secret get NAME --version V``: one version's fields (masked unless ``reveal``)."""
    secret = _keyvault(target).get_version(name, version)
    fields = secret.field_values(reveal=reveal)
    if json_:
        print_json(
            {
                "name": name,
                "schema": secret.schema_id,
                "store": "keyvault",
                "version": version,
                "fields": fields,
            }
        )
        return
    from rich.table import Table

    table = Table("field", title=f"{name} ({secret.schema_id}, keyvault, version {version})")
    table.add_column("value", overflow="fold")
    for field, value in fields.items():
        table.add_row(field, value)
    console().print(table)


def history(
    name: NameArg, store: StoreOption = "keyvault", vault_url: VaultOption = None, json_: JsonOption = False
) -> None:
    """List a Key Vault secret's versions, newest first: dates, enabled, expiry (never values)."""
    from azcreds.cli._stores import writable_store

    keyvault_only(store, "secret history")
    rows = [_row(v) for v in _keyvault(writable_store(store, vault_url=vault_url)).history(name)]
    if json_:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=name)
    table.add_column("version", overflow="fold")  # whole: it is what `rollback --version` takes
    for column in ("created", "updated", "enabled", "not before", "expires"):
        table.add_column(column)
    for r in rows:
        marker = " (current)" if r["current"] else ""
        table.add_row(
            f"{r['version']}{marker}",
            str(r["created"]),
            str(r["updated"]),
            "yes" if r["enabled"] else "no",
            str(r["not_before"]),
            str(r["expires"]),
        )
    console().print(table)


def rollback(
    name: NameArg,
    version: VersionOption,
    expires: ExpiresOption = None,
    not_before: NotBeforeOption = None,
    store: StoreOption = "keyvault",
    vault_url: VaultOption = None,
    json_: JsonOption = False,
) -> None:
    """Make an old version's value the newest version again (the old one stays in the history)."""
    from azcreds.cli._stores import writable_store

    keyvault_only(store, "secret rollback")
    expires_on, starts = lifetime_options(store, expires, not_before)
    target = _keyvault(writable_store(store, vault_url=vault_url))
    new = target.rollback(name, version, expires_on=expires_on, not_before=starts)
    if json_:
        print_json({"name": name, "rolled_back_to": version, **_row(new)})
    else:
        typer.echo(f"rolled back secret {name!r} to version {version}: it is now version {new.version}")


def register_commands(app: typer.Typer) -> None:
    """Add ``history`` and ``rollback`` to the ``secret`` group."""
    app.command("history")(history)
    app.command("rollback")(rollback)
