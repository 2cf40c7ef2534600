"""The Typer application: command groups ``schema``, ``secret``, ``keyring`` and the top-level verbs."""

from __future__ import annotations

import typer

from azcreds.cli import cmd_keyring, cmd_resolve, cmd_schema, cmd_secret, cmd_store

app = typer.Typer(
    name="azcreds",
    help="Typed, leak-proof Azure Storage credentials: register, inspect and resolve secrets.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: rich is imported only by commands that print tables
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(cmd_schema.app, name="schema", help="List and show secret schemas.")
app.add_typer(cmd_secret.app, name="secret", help="Register, list, get, update and delete secrets.")
app.add_typer(cmd_keyring.app, name="keyring", help="Create and manage the local encrypted keyring.")
app.add_typer(cmd_store.app, name="store", help="List, upload, download and remove artifacts (az:// URIs).")
cmd_resolve.register(app)
