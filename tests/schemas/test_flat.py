"""The flat ``azure`` schema: inferring the concrete schema, and the errors that name conflicting fields."""

from __future__ import annotations

import pytest

from azcreds import (
    AccountKeySecret,
    AzureSecret,
    ConnectionStringSecret,
    ManagedIdentitySecret,
    SasTokenSecret,
    SecretSchema,
    ServicePrincipalSecret,
    parse_secret,
)
from tests.helpers import CLIENT_ID, TENANT_ID, sas_token
from tests.schemas.helpers import AZURITE_CS, KEY, invalid


def test_flat_managed_identity_needs_an_https_account_url() -> None:
    err = invalid("azure", {"account_name": "acct", "account_url": "http://127.0.0.1:10000/acct"})
    assert err.fields == ("account_url",)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"connection_string": AZURITE_CS}, ConnectionStringSecret),
        ({"account_name": "acct", "account_key": KEY}, AccountKeySecret),
        ({"account_name": "acct", "sas_token": sas_token()}, SasTokenSecret),
        (
            {"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": "s"},
            ServicePrincipalSecret,
        ),
        ({"account_name": "acct"}, ManagedIdentitySecret),
        ({"account_name": "acct", "client_id": CLIENT_ID}, ManagedIdentitySecret),
    ],
)
def test_flat_schema_infers_the_kind(fields: dict[str, str], expected: type[SecretSchema]) -> None:
    assert AzureSecret.model_validate(fields)  # the flat model itself accepts the seed's names
    secret = parse_secret("azure", fields)
    assert type(secret) is expected


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"account_name": "acct", "account_key": KEY, "sas_token": sas_token()},
            {"account_key", "sas_token"},
        ),
        ({"connection_string": AZURITE_CS, "account_key": KEY}, {"connection_string", "account_key"}),
        (
            {
                "account_name": "acct",
                "account_key": KEY,
                "tenant_id": TENANT_ID,
                "client_id": CLIENT_ID,
                "client_secret": "s",
            },
            {"account_key", "tenant_id", "client_secret"},
        ),
    ],
)
def test_flat_schema_two_combinations_is_an_error_naming_them(
    fields: dict[str, str], named: set[str]
) -> None:
    err = invalid("azure", fields)
    for field in named:
        assert field in str(err)
    assert "conflicting" in str(err)


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"account_name": "acct", "client_secret": "s"}, {"tenant_id", "client_id"}),
        ({"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID}, {"client_secret"}),
        ({"account_name": "acct", "tenant_id": TENANT_ID, "client_secret": "s"}, {"client_id"}),
    ],
)
def test_flat_schema_partial_service_principal_names_the_missing(
    fields: dict[str, str], missing: set[str]
) -> None:
    err = invalid("azure", fields)
    assert set(err.fields) == missing


def test_flat_schema_fields_of_another_kind_are_named() -> None:
    err = invalid("azure", {"account_name": "acct", "account_key": KEY, "client_id": CLIENT_ID})
    assert err.fields == ("client_id",)
    err = invalid("azure", {"connection_string": AZURITE_CS, "account_name": "acct"})
    assert err.fields == ("account_name",)


def test_flat_schema_without_anything_names_account_name() -> None:
    err = invalid("azure", {})
    assert err.fields == ("account_name",)


def test_flat_schema_errors_report_the_azure_schema() -> None:
    err = invalid("azure", {"account_name": "acct", "account_key": "!!"})
    assert err.schema_id == "azure"
    assert err.fields == ("account_key",)
