"""The schema base class and the registry: the built-in ids, JSON schemas, registering, field errors."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from azcreds import (
    AccountKeySecret,
    SasTokenSecret,
    SecretSchema,
    get_schema,
    list_schemas,
    parse_secret,
    register_schema,
)
from azcreds.errors import UnknownSchemaError
from tests.schemas.helpers import KEY, invalid


def test_registry_has_the_six_contract_schemas() -> None:
    ids = [s.schema_id for s in list_schemas()]
    assert ids[:6] == [
        "azure-connection-string",
        "azure-account-key",
        "azure-sas-token",
        "azure-service-principal",
        "azure-managed-identity",
        "azure",
    ]
    assert get_schema("azure-sas-token") is SasTokenSecret


@pytest.mark.parametrize("schema", list_schemas())
def test_every_schema_has_a_json_schema_and_secret_fields_typed_secret(schema: type[SecretSchema]) -> None:
    js = schema.model_json_schema()
    json.dumps(js)
    assert js["additionalProperties"] is False
    for name in schema.secret_fields():
        prop = js["properties"][name]
        formats = [prop.get("format")] + [alt.get("format") for alt in prop.get("anyOf", [])]
        assert "password" in formats


def test_unknown_schema_id_is_a_validation_error() -> None:
    err = invalid("azure-nope", {})
    assert isinstance(err, UnknownSchemaError)
    assert err.fields == ("schema",)
    assert str(err) == "unknown schema 'azure-nope'; did you mean 'azure'?"
    far = invalid("zzz", {})
    assert "unknown schema 'zzz'; known: azure, azure-account-key," in str(far)


def test_third_party_schema_can_register_and_ids_are_unique() -> None:
    class Custom(AccountKeySecret):
        schema_id: ClassVar[str] = "test-custom-key"

    register_schema(Custom)
    try:
        assert get_schema("test-custom-key") is Custom
        secret = parse_secret("test-custom-key", {"account_name": "abc", "account_key": KEY})
        assert isinstance(secret, Custom)

        class Clash(AccountKeySecret):
            schema_id: ClassVar[str] = "azure-account-key"

        with pytest.raises(ValueError, match="already registered"):
            register_schema(Clash)
    finally:
        from azcreds import schemas

        schemas._REGISTRY.pop("test-custom-key", None)


def test_unknown_fields_are_refused_by_name() -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": KEY, "acount_key": "x"})
    assert err.fields == ("acount_key",)
    assert "unknown field" in str(err)


def test_missing_required_fields_are_named() -> None:
    err = invalid("azure-service-principal", {"account_name": "acct"})
    assert set(err.fields) == {"tenant_id", "client_id", "client_secret"}
