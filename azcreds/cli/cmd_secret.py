"""``azcreds secret register | list | get | update | delete`` (``history`` and ``rollback``, and the
Key Vault options ``--version``, ``--expires``, ``--not-before``: :mod:`azcreds.cli.cmd_secret_versions`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import click
import typer

from azcreds.cli._io import (
    BadInput,
    collect_fields,
    console,
    is_interactive,
    nearest,
    parse_field_flags,
    print_json,
    read_value,
)
from azcreds.cli._stores import writable_store
from azcreds.cli._typer import group_app
from azcreds.cli.cmd_secret_versions import (
    ExpiresOption,
    NotBeforeOption,
    lifetime_options,
    register_commands,
    show_version,
)

if TYPE_CHECKING:
    from azcreds.resolvers.base import WritableStore
    from azcreds.resolvers.keyring import SecretInfo
    from azcreds.schemas import SecretSchema

app = group_app("Register, list, get, update and delete secrets.")

FIELD_FLAGS = {"allow_extra_args": True, "ignore_unknown_options": True}
NameArg = Annotated[str, typer.Argument(help="Secret name: 1-64 letters, digits, '_' or '-'.")]
StoreOption = Annotated[str, typer.Option("--store", help="Where the secret lives: keyring or keyvault.")]
VaultOption = Annotated[
    str | None,
    typer.Option("--vault-url", help="Key Vault URL for --store keyvault (else AZCREDS_KEYVAULT_URL)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _summary(name: str, secret: SecretSchema, store: str, *, reveal: bool = False) -> dict[str, object]:
    return {
        "name": name,
        "schema": secret.schema_id,
        "store": store,
        "fields": secret.field_values(reveal=reveal),
    }


@app.command("register", context_settings=FIELD_FLAGS)
def register(
    ctx: typer.Context,
    name: NameArg,
    schema: Annotated[str, typer.Option("--schema", "-s", help="Schema id (see `azcreds schema list`).")],
    store: StoreOption = "keyring",
    vault_url: VaultOption = None,
    interactive: Annotated[bool, typer.Option("-i", "--interactive", help="Prompt for every field.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing secret.")] = False,
    expires: ExpiresOption = None,
    not_before: NotBeforeOption = None,
    json_: JsonOption = False,
) -> None:
    """Register a secret: azcreds secret register NAME --schema ID --FIELD=VALUE ...

    VALUE is literal, @PATH (read a file), - (read stdin), or left out to be prompted for
    with hidden input. --field_name and --field-name are the same flag.
    """
    from azcreds.names import validate_secret_name
    from azcreds.schemas import get_schema, parse_secret

    validate_secret_name(name)
    schema_cls = get_schema(schema)
    fields = collect_fields(schema_cls, list(ctx.args), interactive=interactive)
    secret = parse_secret(schema, fields)
    expires_on, starts = lifetime_options(store, expires, not_before)
    target = writable_store(store, creating=True, vault_url=vault_url)
    if expires_on or starts:
        from azcreds.resolvers.keyvault import KeyVaultStore

        assert isinstance(target, KeyVaultStore)
        target.register(name, secret, overwrite=overwrite, expires_on=expires_on, not_before=starts)
    else:
        target.register(name, secret, overwrite=overwrite)
    if json_:
        print_json(_summary(name, secret, store))
    else:
        typer.echo(f"registered secret {name!r} ({secret.schema_id}) in the {store} at {target.path}")


@contextlib.contextmanager
def _nearest_name(target: WritableStore, store: str, name: str) -> Iterator[None]:
    """A name not in the keyring: say which registered name is nearest (names are not secret).

    Only for the keyring, whose listing is a read of the file already open; listing Key Vault
    would be another round trip per page.
    """
    from azcreds.errors import SecretNotFoundError

    try:
        yield
    except SecretNotFoundError as exc:
        names = {i.name.lower(): i.name for i in target.list()} if store == "keyring" else {}
        hint = nearest(name.lower(), names)  # names compare case-insensitively
        if hint is None:
            raise
        raise click.ClickException(f"{exc}; did you mean {names[hint]!r}?") from exc


def _info_rows(infos: list[SecretInfo]) -> list[dict[str, str]]:
    return [
        {"name": i.name, "schema": i.schema_id, "store": i.store, "created": i.created, "updated": i.updated}
        for i in infos
    ]


@app.command("list")
def list_(store: StoreOption = "keyring", vault_url: VaultOption = None, json_: JsonOption = False) -> None:
    """List secrets (names and schemas; never values)."""
    rows = _info_rows(writable_store(store, vault_url=vault_url).list())
    if json_:
        print_json(rows)
        return
    if not rows:
        typer.echo(f"no secrets in the {store}")
        return
    from rich.table import Table

    table = Table("name", "schema", "store", "updated")
    for r in rows:
        table.add_row(r["name"], r["schema"], r["store"], r["updated"])
    console().print(table)


@app.command("get")
def get(
    name: NameArg,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show secret values too.")] = False,
    version: Annotated[
        str | None, typer.Option("--version", help="Key Vault: this version (see `secret history`).")
    ] = None,
    store: StoreOption = "keyring",
    vault_url: VaultOption = None,
    json_: JsonOption = False,
) -> None:
    """Show a secret's schema and fields; secret values are masked unless --reveal."""
    if version is not None:
        if store != "keyvault":
            raise BadInput("--version applies to --store keyvault only (the keyring keeps no versions)")
        show_version(writable_store(store, vault_url=vault_url), name, version, reveal=reveal, json_=json_)
        return
    target = writable_store(store, vault_url=vault_url)
    with _nearest_name(target, store, name):
        secret = target.get(name)
    info = target.info(name)
    data = _summary(info.name, secret, store, reveal=reveal) | {"updated": info.updated}
    if json_:
        print_json(data)
        return
    from rich.table import Table

    table = Table("field", title=f"{info.name} ({secret.schema_id}, {store})")
    table.add_column("value", overflow="fold")  # a revealed key must never be cut short
    for field, value in secret.field_values(reveal=reveal).items():
        table.add_row(field, value)
    console().print(table)


@app.command("update", context_settings=FIELD_FLAGS)
def update(
    ctx: typer.Context,
    name: NameArg,
    store: StoreOption = "keyring",
    vault_url: VaultOption = None,
    expires: ExpiresOption = None,
    not_before: NotBeforeOption = None,
    json_: JsonOption = False,
) -> None:
    """Change fields of a secret: azcreds secret update NAME --FIELD=VALUE ... (--FIELD= removes one).

    Key Vault: --expires / --not-before set the dates of the newest version (after the new
    fields, if any, are written as a new version).
    """
    from azcreds.schemas import get_schema

    expires_on, starts = lifetime_options(store, expires, not_before)
    target = writable_store(store, vault_url=vault_url)
    flags = parse_field_flags(list(ctx.args))
    if not flags and not (expires_on or starts):
        raise BadInput("give at least one --FIELD=VALUE to change (or --expires / --not-before)")
    changed: list[str] = []
    if flags:
        with _nearest_name(target, store, name):
            schema_cls = get_schema(target.info(name).schema_id)
        fields = collect_fields(schema_cls, list(ctx.args), prompt_missing_required=False)
        secret = target.update(name, **fields)
        changed += sorted(fields)
    if expires_on or starts:
        from azcreds.resolvers.keyvault import KeyVaultStore

        assert isinstance(target, KeyVaultStore)
        target.set_lifetime(name, expires_on=expires_on, not_before=starts)
        changed += [f for f, v in (("expires", expires_on), ("not_before", starts)) if v]
        if not flags:
            secret = target.get(name)
    if json_:
        print_json(_summary(name, secret, store))
    else:
        typer.echo(f"updated secret {name!r} ({secret.schema_id}): {', '.join(changed)}")


@app.command("delete")
def delete(
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    purge: Annotated[bool, typer.Option("--purge", help="Key Vault: purge, not only soft-delete.")] = False,
    store: StoreOption = "keyring",
    vault_url: VaultOption = None,
) -> None:
    """Delete a secret (Key Vault: soft-delete, recoverable; --purge removes it for good)."""
    from azcreds.errors import SecretNotFoundError

    if purge and store != "keyvault":
        raise BadInput("--purge applies to --store keyvault only")
    target = writable_store(store, vault_url=vault_url)
    try:
        with _nearest_name(target, store, name):
            shown = target.info(name).name
    except SecretNotFoundError:
        if not purge:  # purging a name that is already soft-deleted is allowed
            raise
        shown = name
    if not yes:
        if not is_interactive():
            raise BadInput("refusing to delete without --yes when there is no terminal to confirm on")
        what = "Purge" if purge else "Delete"
        if not typer.confirm(f"{what} secret {shown!r} from the {store}?", default=False, err=True):
            raise typer.Exit(1)
    if purge:
        from azcreds.resolvers.keyvault import KeyVaultStore

        assert isinstance(target, KeyVaultStore)
        target.delete(name, purge=True)
        typer.echo(f"deleted and purged secret {shown!r} from the {store}")
        return
    target.delete(name)
    recoverable = " (soft-deleted: recoverable until purged)" if store == "keyvault" else ""
    typer.echo(f"deleted secret {shown!r} from the {store}{recoverable}")


register_commands(app)

__all__ = ["app", "read_value"]
