"""``azcreds resolve`` and ``azcreds env``: use a secret without seeing it (``exec`` is cmd_exec.py)."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from azcreds.cli._io import BadInput, console, exit_code_for, print_error, print_json, print_warning
from azcreds.cli.cmd_sas import BlobOption, PermissionsOption, ScopeOption, TtlOption, scope_credentials

if TYPE_CHECKING:
    from azcreds.resolvers.chain import Resolution

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _developer_tools() -> dict[str, str | None]:
    """Where each developer tool is on PATH (None: not there); finding them runs none."""
    from azcreds.developer import tools_on_path

    return tools_on_path()


def _resolution_json(res: Resolution) -> dict[str, object]:
    creds = res.credentials
    return {
        "name": res.name,
        "ok": res.ok,
        "source": res.source,
        "schema": creds.schema_id if creds else None,
        "account_name": creds.account_name if creds else None,
        "account_url": creds.account_url if creds else None,
        "error": str(res.error) if res.error else None,
        "seconds": res.seconds,
        "developer_tools": _developer_tools(),
        "attempts": [
            {"source": a.source, "outcome": a.outcome, "detail": a.detail, "seconds": a.seconds}
            for a in res.attempts
        ],
    }


def resolve(
    name: Annotated[
        str | None, typer.Argument(help="Secret name; none for the implicit AZURE_STORAGE_* chain.")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show every resolver tried and why.")] = False,
    json_: JsonOption = False,
    zenml: Annotated[
        bool,
        typer.Option(
            "--zenml",
            help="Use the chain of the azcreds ZenML flavor: ZenML's secret store first, then the named "
            "chain (needs azcreds[zenml]).",
        ),
    ] = False,
) -> None:
    """Resolve a secret and show where it came from (never its value)."""
    from azcreds.resolve import explain_resolution

    res = _explain_zenml(name) if zenml else explain_resolution(name)
    if json_:
        print_json(_resolution_json(res))
    else:
        if explain:
            from rich.table import Table

            table = Table("resolver", "outcome", "detail", "time")
            for a in res.attempts:
                table.add_row(a.source, a.outcome, a.detail, f"{a.seconds * 1000:.2f} ms")
            console().print(table)
            from azcreds.resolvers.developer import developer_tools_summary

            typer.echo(f"developer tools: {developer_tools_summary()[0]}")
        if res.credentials is not None:
            c = res.credentials
            who = repr(c.name) if c.name is not None else "implicit credentials"
            typer.echo(f"{who}: {c.schema_id} from {c.source}, account {c.account_name} at {c.account_url}")
    if res.error is not None:
        if not json_:
            print_error(str(res.error))
        raise typer.Exit(exit_code_for(res.error))


def _explain_zenml(name: str | None) -> Resolution:
    if name is None:
        raise BadInput("--zenml needs a secret name: ZenML's secret store holds named secrets only")
    try:
        from azcreds.integrations.zenml.secrets import zenml_chain
    except ImportError:
        raise BadInput("--zenml needs ZenML: pip install 'azcreds[zenml]'") from None
    from azcreds.names import validate_secret_name

    validate_secret_name(name)
    return zenml_chain().explain(name)


def env(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    reveal: Annotated[bool, typer.Option("--reveal", help="Print values even to a terminal.")] = False,
    scope: ScopeOption = None,
    permissions: PermissionsOption = None,
    ttl: TtlOption = None,
    blob: BlobOption = False,
) -> None:
    """Print `export` lines of the secret's variables: eval "$(azcreds env NAME)".

    Values are printed when standard output is a pipe (for eval) or with --reveal; on a terminal
    they are masked. Variables of other credentials set in this environment (AZURE_STORAGE_*,
    AZURE_CLIENT_SECRET, ...) get `unset` lines first, so the shell ends up with this secret only.
    """
    from azcreds.child_env import other_credential_variables
    from azcreds.resolve import resolve_credentials

    credentials = scope_credentials(resolve_credentials(name), scope, permissions, ttl, blob)
    variables = credentials.to_env()
    show = reveal or not sys.stdout.isatty()
    for key in other_credential_variables(credentials):
        if key not in variables:
            typer.echo(f"unset {key}")
    for key, value in variables.items():
        typer.echo(f"export {key}={shlex.quote(value) if show else '***'}")
    if not show:
        print_warning('values masked on a terminal: use eval "$(azcreds env NAME)" or --reveal')


# The top-level verbs; azcreds.cli.app takes each command out of this app's click group.
app = typer.Typer(rich_markup_mode=None, add_completion=False)
app.command("resolve")(resolve)
app.command("env")(env)
