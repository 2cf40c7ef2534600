"""``azcreds schema list | show SCHEMA_ID``."""

from __future__ import annotations

from typing import Annotated

import typer

from azcreds.cli._io import console, print_json

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("list")
def list_(json_: JsonOption = False) -> None:
    """List the registered secret schemas."""
    from azcreds.schemas import list_schemas

    rows: list[dict[str, object]] = [
        {
            "schema_id": s.schema_id,
            "title": s.title,
            "required": list(s.required_fields()),
            "optional": [f for f in s.model_fields if f not in s.required_fields()],
            "secret_fields": list(s.secret_fields()),
        }
        for s in list_schemas()
    ]
    if json_:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("schema id", "title", "required fields", "optional fields")
    for s in list_schemas():
        optional = [f for f in s.model_fields if f not in s.required_fields()]
        table.add_row(s.schema_id, s.title, ", ".join(s.required_fields()), ", ".join(optional))
    console().print(table)


@app.command("show")
def show(
    schema_id: Annotated[str, typer.Argument(help="A schema id from `schema list`.")],
    json_: JsonOption = False,
) -> None:
    """Show a schema's fields (or its JSON Schema with --json)."""
    from azcreds.schemas import get_schema

    schema = get_schema(schema_id)
    if json_:
        print_json(schema.model_json_schema())
        return
    from rich.table import Table

    table = Table("field", "required", "secret", "description", title=f"{schema.schema_id}: {schema.title}")
    required, secret = set(schema.required_fields()), set(schema.secret_fields())
    for name, info in schema.model_fields.items():
        table.add_row(
            name, "yes" if name in required else "", "yes" if name in secret else "", info.description or ""
        )
    out = console()
    out.print(table)
    if schema.__doc__:
        out.print(" ".join(schema.__doc__.split()))
