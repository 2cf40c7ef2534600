"""``azcreds schema list | show SCHEMA_ID``.

Plain click rather than typer: ``schema list`` is the start-up path the bench measures, and it
reads the schema catalogue from ``schema_catalog.json`` instead of importing pydantic (the file is
written by ``scripts/gen-schema-catalog`` and kept equal to the schemas by a test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any

import click

from azcreds.cli._io import console, print_json
from azcreds.cli.app import Group

_CATALOG = os.path.join(os.path.dirname(__file__), "schema_catalog.json")

json_option = click.option("--json", "json_", is_flag=True, help="Print JSON for scripts.")


def catalog() -> list[dict[str, Any]]:
    """The rows of ``azcreds.schemas.catalog()``, read from the JSON copy shipped with the CLI."""
    with open(_CATALOG, encoding="utf-8") as f:
        rows: list[dict[str, Any]] = json.load(f)
    return rows


@click.group("schema", cls=Group, no_args_is_help=True, help="List and show secret schemas.")
def group() -> None:
    pass


@group.command("list")
@json_option
def list_(json_: bool) -> None:
    """List the registered secret schemas."""
    catalog_rows = catalog()
    if json_:
        print_json(catalog_rows)
        return
    # A definition list in click's help layout, not a rich table: rich would add about 90 ms to
    # the command the start-up bench measures (see the module docstring).
    formatter = click.HelpFormatter(width=max(shutil.get_terminal_size().columns - 2, 50))
    rows: list[tuple[str, str]] = []
    for row in catalog_rows:
        rows.append((row["schema_id"], row["title"]))
        for label in ("required", "optional"):
            if row[label]:
                rows.append(("", f"{label}: {', '.join(row[label])}"))
    formatter.write_dl(rows)
    click.echo(formatter.getvalue(), nl=False)


@group.command("show")
@click.argument("schema_id")
@json_option
def show(schema_id: str, json_: bool) -> None:
    """Show a schema's fields (or its JSON Schema with --json).

    SCHEMA_ID is a schema id from `schema list`.
    """
    from azcreds.schemas import get_schema

    schema = get_schema(schema_id)
    if json_:
        print_json(schema.model_json_schema())
        return
    from rich.markup import escape
    from rich.table import Table

    title = escape(f"{schema.schema_id}: {schema.title}")
    table = Table("field", "required", "secret", "description", title=title)
    required, secret = set(schema.required_fields()), set(schema.secret_fields())
    for name, info in schema.model_fields.items():
        yes = ("yes" if name in required else "", "yes" if name in secret else "")
        table.add_row(escape(name), *yes, escape(plain_text(info.description or "")))
    out = console()
    out.print(table)
    if schema.__doc__:
        out.print(escape(plain_text(schema.__doc__)))


# :func:`name`, :class:`~pkg.mod.Name`, :meth:`text <target>` (Sphinx roles) and ``literal``.
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`<]*?)\s*(?:<[^`>]*>)?`")
_LITERAL = re.compile(r"``([^`]+)``")


def plain_text(doc: str) -> str:
    """A docstring as one line for a terminal: Sphinx roles become their names, literals their text."""

    def role(match: re.Match[str]) -> str:
        text = match.group(2)
        return text.rsplit(".", 1)[-1] if match.group(1) else text

    return " ".join(_LITERAL.sub(r"\1", _ROLE.sub(role, doc)).split())
