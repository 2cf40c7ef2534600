"""``azcreds sas`` and the ``--scope`` options of ``env``/``exec``: a short-lived SAS instead of the secret.

``--scope az://CONTAINER[/PATH]`` (``abfs://`` too) narrows the secret with
:meth:`AzureCredentials.scoped` before anything is printed or handed to a child: ``PATH`` is a
prefix (a directory SAS, refused on accounts without a hierarchical namespace) or, with
``--blob``, one blob. ``--permissions`` (default ``r``) and ``--ttl`` (default ``1h``) say what and
how long. Bad input is refused before any request, with exit code 2.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from azcreds.cli._io import BadInput, print_warning

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = [
    "BlobOption",
    "PermissionsOption",
    "ScopeOption",
    "TtlOption",
    "app",
    "parse_scope",
    "sas",
    "scope_credentials",
]

ScopeOption = Annotated[
    str | None,
    typer.Option(
        "--scope",
        metavar="az://CONTAINER[/PATH]",
        help="Give only a short-lived SAS for this container (or prefix, or with --blob one blob).",
    ),
]
PermissionsOption = Annotated[
    str | None,
    typer.Option(
        "--permissions",
        metavar="P",
        help="With --scope: letters or words of read (r), add (a), create (c), write (w), delete (d), "
        "list (l), tag (t). Default r.",
    ),
]
TtlOption = Annotated[
    str | None,
    typer.Option(
        "--ttl", metavar="D", help="With --scope: how long the SAS lives, e.g. 15m, 1h, 7d. Default 1h."
    ),
]
BlobOption = Annotated[bool, typer.Option("--blob", help="With --scope: the PATH is one blob, not a prefix.")]

_SCHEMES = ("az://", "abfs://")


def parse_scope(uri: str) -> tuple[str, str | None]:
    """``az://container[/path]`` → (container, path or None)."""
    lowered = uri.lower()
    scheme = next((s for s in _SCHEMES if lowered.startswith(s)), None)
    if scheme is None:
        raise BadInput(f"--scope must be az://CONTAINER[/PATH] or abfs://CONTAINER[/PATH], not {uri!r}")
    container, _, path = uri[len(scheme) :].partition("/")
    if not container:
        raise BadInput(f"--scope {uri!r} names no container")
    path = path.strip("/")
    return container, path or None


def scope_credentials(
    credentials: AzureCredentials,
    scope: str | None,
    permissions: str | None,
    ttl: str | None,
    blob: bool = False,
) -> AzureCredentials:
    """``credentials`` narrowed to ``--scope`` (or as they are when no scope was given)."""
    if scope is None:
        given = [
            flag for flag, value in (("--permissions", permissions), ("--ttl", ttl)) if value is not None
        ]
        if blob:
            given.append("--blob")
        if given:
            raise BadInput(f"{', '.join(given)} only go with --scope az://CONTAINER[/PATH]")
        return credentials
    container, path = parse_scope(scope)
    if blob and path is None:
        raise BadInput("--blob needs a blob path in --scope az://CONTAINER/PATH")
    from azcreds.scoping import DEFAULT_TTL

    return credentials.scoped(
        container,
        prefix=None if blob else path,
        permissions=permissions if permissions is not None else "r",
        ttl=ttl if ttl is not None else DEFAULT_TTL,
        blob=path if blob else None,
    )


def sas(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    scope: ScopeOption = None,
    permissions: PermissionsOption = None,
    ttl: TtlOption = None,
    blob: BlobOption = False,
    url: Annotated[bool, typer.Option("--url", help="Print the container or blob URL with the SAS.")] = False,
    reveal: Annotated[bool, typer.Option("--reveal", help="Print the SAS even to a terminal.")] = False,
) -> None:
    """Print a short-lived SAS for one container or blob: azcreds sas NAME --scope az://C[/P] --ttl 1h

    The SAS goes to standard output when it is a pipe or a file (SAS=$(azcreds sas ...)), or with
    --reveal; on a terminal it is not printed. What it allows and until when goes to stderr.
    """
    from azcreds.resolve import resolve_credentials

    if scope is None:
        raise BadInput("give --scope az://CONTAINER[/PATH]")
    scoped = scope_credentials(resolve_credentials(name), scope, permissions, ttl, blob)
    token = scoped.secret.field_values(reveal=True)["sas_token"]
    assert scoped.scope is not None
    if url:
        path = scoped.scope.blob or ""
        base = f"{scoped.account_url.rstrip('/')}/{scoped.scope.container}" + (f"/{path}" if path else "")
        token = f"{base}?{token}"
    if reveal or not sys.stdout.isatty():
        typer.echo(token)
        sys.stderr.write(f"azcreds: SAS for {scoped.scope}\n")
    else:
        print_warning(f"SAS for {scoped.scope} not printed on a terminal: pipe it, or use --reveal")


app = typer.Typer(rich_markup_mode=None, add_completion=False)
app.command("sas")(sas)
