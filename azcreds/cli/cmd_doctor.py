"""``azcreds doctor NAME``: resolve a secret and check, point by point, why Azure Storage would refuse it."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from azcreds.cli._io import BadInput, print_json

# Container names: 3-63 lowercase letters, digits and single inner hyphens ($root is the root container).
_CONTAINER = re.compile(r"(?=.{3,63}$)[a-z0-9](?:-?[a-z0-9])*|\$root")


def _unicode_ok() -> bool:
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def doctor(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    container: Annotated[
        str | None,
        typer.Option("--container", "-c", help="Also check this container and probe list/read/write/delete."),
    ] = None,
    need: Annotated[
        str,
        typer.Option(
            "--need", help="The operations that must be allowed: letters of rlwd (read, list, write, delete)."
        ),
    ] = "rlwd",
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check a secret against Azure Storage point by point: each check, its evidence and the fix.

    Resolves NAME, then checks the account URL, a SAS's validity and permissions, a token
    credential's token, authentication, shared-key access, clock skew and, with --container,
    that the container exists and which of list, read, write and delete are allowed (probed
    without leaving data). Exit 0 when every check passes, 1 otherwise.
    """
    from azcreds.doctor import diagnose
    from azcreds.names import validate_secret_name

    validate_secret_name(name)  # a malformed name is bad input (exit 2) before any request
    if container is not None and not _CONTAINER.fullmatch(container):
        raise BadInput("--container must be 3-63 lowercase letters, digits and single inner hyphens")
    if not need or set(need) - set("rlwd"):
        raise BadInput("--need takes letters of rlwd (read, list, write, delete), such as rl")
    report = diagnose(name, container=container, need=need)
    if json_:
        print_json(report.to_json())
    else:
        typer.echo(report.render(unicode=_unicode_ok()))
    raise typer.Exit(0 if report.ok else 1)


app = typer.Typer(rich_markup_mode=None, add_completion=False)
app.command("doctor")(doctor)
