"""``azcreds schema show``: every field described, docstrings as plain text, unknown ids named."""

from __future__ import annotations

import pytest

from azcreds.schemas import list_schemas
from tests.cli.helpers import Cli

SCHEMA_IDS = [s.schema_id for s in list_schemas()]
MARKUP = (":func:", ":class:", ":meth:", ":mod:", ":attr:", "``")


@pytest.mark.parametrize("schema_id", SCHEMA_IDS)
def test_every_field_has_a_description(schema_id: str) -> None:
    schema = next(s for s in list_schemas() if s.schema_id == schema_id)
    undescribed = [name for name, info in schema.model_fields.items() if not info.description]
    assert not undescribed, f"{schema_id}: fields without Field(description=...): {undescribed}"


@pytest.mark.parametrize("schema_id", SCHEMA_IDS)
def test_schema_show_is_plain_text_with_every_description(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, schema_id: str
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one table line per field
    r = cli("schema", "show", schema_id)
    assert r.code == 0, r
    for markup in MARKUP:
        assert markup not in r.out, r.out
    schema = next(s for s in list_schemas() if s.schema_id == schema_id)
    lines = r.out.splitlines()
    for name, info in schema.model_fields.items():
        row = next(line for line in lines if line.startswith(f"│ {name} "))
        assert str(info.description) in row, row


def test_schema_show_refers_to_functions_by_name(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    r = cli("schema", "show", "azure")
    assert "(see infer_schema_id)" in r.out, r.out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["schema", "show", "nosuch"], "unknown schema 'nosuch'"),
        (["schema", "show", "azur"], "unknown schema 'azur'; did you mean 'azure'?"),
        (
            ["schema", "show", "azure-acount-key"],
            "unknown schema 'azure-acount-key'; did you mean 'azure-account-key'?",
        ),
        (["schema", "show", "nosuch"], "known: azure, azure-account-key, azure-connection-string"),
    ],
)
def test_schema_show_unknown_schema(cli: Cli, args: list[str], line: str) -> None:
    error = cli(*args).assert_clean_error(2)
    assert line in error, error
    assert "invalid secret" not in error
