"""Secret schemas: strict local validation, the flat `azure` inference, the registry."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from azcreds import (
    AccountKeySecret,
    AzureSecret,
    ConnectionStringSecret,
    ExpiringCredentialWarning,
    ManagedIdentitySecret,
    SasTokenSecret,
    SchemaValidationError,
    SecretSchema,
    ServicePrincipalSecret,
    get_schema,
    list_schemas,
    parse_secret,
    register_schema,
)
from azcreds.errors import UnknownSchemaError
from tests.helpers import AZURITE_ACCOUNT_KEY, CLIENT_ID, TENANT_ID, b64, sas_time, sas_token

KEY = b64("k" * 64)


def invalid(schema_id: str, fields: dict[str, Any]) -> SchemaValidationError:
    with pytest.raises(SchemaValidationError) as info:
        parse_secret(schema_id, fields)
    return info.value


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


# ---------------------------------------------------------------- field rules


@pytest.mark.parametrize("name", ["ab", "a" * 25, "Upper1", "has-dash", "has_underscore", "spa ce", ""])
def test_account_names_must_be_3_to_24_lowercase_alphanumerics(name: str) -> None:
    err = invalid("azure-account-key", {"account_name": name, "account_key": KEY})
    assert err.fields == ("account_name",)


@pytest.mark.parametrize("key", ["not base64!", "abc", "====", "", "a b c d"])
def test_account_keys_must_be_base64(key: str) -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": key})
    assert err.fields == ("account_key",)


def test_account_key_secret_defaults_the_account_url() -> None:
    s = parse_secret("azure-account-key", {"account_name": "acct", "account_key": KEY})
    assert isinstance(s, AccountKeySecret)
    assert s.account_url_value() == "https://acct.blob.core.windows.net"
    assert isinstance(s.account_key, SecretStr)


@pytest.mark.parametrize("url", ["ftp://host", "not a url", "https://", "https://h/?q=1", "http://u:p@h"])
def test_account_url_must_be_http_url(url: str) -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": KEY, "account_url": url})
    assert err.fields == ("account_url",)


TOKEN_SECRETS = {
    "azure-service-principal": {
        "account_name": "acct",
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": "SP-SECRET-MARKER",
    },
    "azure-managed-identity": {"account_name": "acct", "client_id": CLIENT_ID},
}


@pytest.mark.parametrize("url", ["http://127.0.0.1:10000/acct", "HTTP://acct.blob.core.windows.net"])
@pytest.mark.parametrize("schema_id", [*TOKEN_SECRETS, "azure"])
def test_token_credentials_need_an_https_account_url(schema_id: str, url: str) -> None:
    # azure-storage-blob refuses a token credential over http ("Token credential is only
    # supported with HTTPS."), loopback included: refuse it at validation, naming the field.
    fields = TOKEN_SECRETS.get(schema_id, TOKEN_SECRETS["azure-service-principal"])
    err = invalid(schema_id, {**fields, "account_url": url})
    assert err.schema_id == schema_id
    assert err.fields == ("account_url",)
    assert "https" in str(err)
    assert "MARKER" not in str(err) + repr(err)
    assert url not in str(err)


def test_flat_managed_identity_needs_an_https_account_url() -> None:
    err = invalid("azure", {"account_name": "acct", "account_url": "http://127.0.0.1:10000/acct"})
    assert err.fields == ("account_url",)


@pytest.mark.parametrize("schema_id", TOKEN_SECRETS)
def test_token_credentials_accept_https_account_urls(schema_id: str) -> None:
    s = parse_secret(schema_id, {**TOKEN_SECRETS[schema_id], "account_url": "https://127.0.0.1:10000/acct/"})
    assert s.account_url_value() == "https://127.0.0.1:10000/acct"


@pytest.mark.parametrize("schema_id", ["azure-account-key", "azure-sas-token"])
def test_key_and_sas_secrets_may_use_http(schema_id: str) -> None:
    credential = {"account_key": KEY} if schema_id == "azure-account-key" else {"sas_token": sas_token()}
    s = parse_secret(
        schema_id, {"account_name": "acct", "account_url": "http://127.0.0.1:1/acct", **credential}
    )
    assert s.account_url_value() == "http://127.0.0.1:1/acct"


def test_unknown_fields_are_refused_by_name() -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": KEY, "acount_key": "x"})
    assert err.fields == ("acount_key",)
    assert "unknown field" in str(err)


def test_missing_required_fields_are_named() -> None:
    err = invalid("azure-service-principal", {"account_name": "acct"})
    assert set(err.fields) == {"tenant_id", "client_id", "client_secret"}


@pytest.mark.parametrize("client_id", ["abc", "0b7a3c1e2d4f4a6b8c9d0e1f2a3b4c5d", "{" + CLIENT_ID + "}"])
def test_client_id_must_be_a_guid(client_id: str) -> None:
    err = invalid("azure-managed-identity", {"account_name": "acct", "client_id": client_id})
    assert err.fields == ("client_id",)


@pytest.mark.parametrize("tenant", [TENANT_ID, "contoso.onmicrosoft.com", "example.com"])
def test_tenant_may_be_guid_or_domain(tenant: str) -> None:
    s = parse_secret(
        "azure-service-principal",
        {"account_name": "acct", "tenant_id": tenant, "client_id": CLIENT_ID, "client_secret": "s"},
    )
    assert isinstance(s, ServicePrincipalSecret)


@pytest.mark.parametrize("tenant", ["common", "not a tenant", "-bad-.com", "x"])
def test_bad_tenants_are_refused(tenant: str) -> None:
    err = invalid(
        "azure-service-principal",
        {"account_name": "acct", "tenant_id": tenant, "client_id": CLIENT_ID, "client_secret": "s"},
    )
    assert err.fields == ("tenant_id",)


def test_authority_host_must_be_https() -> None:
    err = invalid(
        "azure-service-principal",
        {
            "account_name": "acct",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": "s",
            "authority_host": "http://127.0.0.1:1",
        },
    )
    assert err.fields == ("authority_host",)


# ---------------------------------------------------------------- SAS tokens


def test_sas_token_leading_question_mark_is_accepted_and_dropped() -> None:
    token = sas_token()
    s = parse_secret("azure-sas-token", {"account_name": "acct", "sas_token": "?" + token})
    assert isinstance(s, SasTokenSecret)
    assert s.sas_token.get_secret_value() == token


@pytest.mark.parametrize(
    "token",
    [
        "sig=abc",  # no sv
        "sv=2025-11-05",  # no sig
        "sv=2025-11-05&sig=",  # empty sig
        "?",
        "sv=1&sv=2&sig=x",  # repeated parameter
        "just some text",
        f"sv=2025-11-05&se={sas_time(-timedelta(minutes=1))}&sig=x",  # expired
        "sv=2025-11-05&se=tomorrow&sig=x",  # unparseable expiry
    ],
)
def test_bad_sas_tokens_are_refused(token: str) -> None:
    err = invalid("azure-sas-token", {"account_name": "acct", "sas_token": token})
    assert err.fields == ("sas_token",)


def test_expired_sas_error_says_expired() -> None:
    token = f"sv=2025-11-05&se={sas_time(-timedelta(hours=1))}&sig=x"
    err = invalid("azure-sas-token", {"account_name": "acct", "sas_token": token})
    assert "expired" in str(err)


def test_sas_expiring_within_24h_warns() -> None:
    with pytest.warns(ExpiringCredentialWarning, match="within 24 hours"):
        parse_secret(
            "azure-sas-token",
            {"account_name": "acct", "sas_token": sas_token(expires_in=timedelta(hours=3))},
        )


def test_sas_with_distant_expiry_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_secret("azure-sas-token", {"account_name": "acct", "sas_token": sas_token()})


def test_sas_date_only_expiry_is_understood() -> None:
    err = invalid("azure-sas-token", {"account_name": "acct", "sas_token": "sv=1&se=2001-01-01&sig=x"})
    assert "expired" in str(err)


# ---------------------------------------------------------------- connection strings

AZURITE_CS = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


def cs(value: str) -> ConnectionStringSecret:
    s = parse_secret("azure-connection-string", {"connection_string": value})
    assert isinstance(s, ConnectionStringSecret)
    return s


def test_connection_string_with_key_and_blob_endpoint() -> None:
    s = cs(AZURITE_CS)
    assert s.account_name_value() == "devstoreaccount1"
    assert s.account_url_value() == "http://127.0.0.1:10000/devstoreaccount1"
    assert s.parsed.account_key == AZURITE_ACCOUNT_KEY


def test_connection_string_keys_are_case_insensitive_and_endpoint_derived() -> None:
    s = cs(
        f"defaultendpointsprotocol=https;ACCOUNTNAME=acct;accountkey={KEY};endpointsuffix=core.chinacloudapi.cn"
    )
    assert s.account_url_value() == "https://acct.blob.core.chinacloudapi.cn"


def test_connection_string_default_protocol_and_suffix() -> None:
    assert (
        cs(f"AccountName=acct;AccountKey={KEY}").account_url_value() == "https://acct.blob.core.windows.net"
    )


def test_connection_string_with_sas_and_blob_endpoint_derives_account() -> None:
    s = cs(f"BlobEndpoint=https://myacct.blob.core.windows.net;SharedAccessSignature={sas_token()}")
    assert s.account_name_value() == "myacct"
    assert s.parsed.sas_token is not None
    assert s.parsed.account_key is None


def test_connection_string_use_development_storage() -> None:
    s = cs("UseDevelopmentStorage=true")
    assert s.account_url_value() == "http://127.0.0.1:10000/devstoreaccount1"
    assert s.parsed.development_storage


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("", "empty"),
        (";;", "empty"),
        ("AccountName=acct", "AccountKey or SharedAccessSignature"),
        (f"AccountKey={KEY}", "AccountName or BlobEndpoint"),
        ("AccountName=acct;AccountKey=not-base64!", "AccountKey must be base64"),
        (f"AccountName=acct;AccountKey={KEY};AccountName=other", "repeats"),
        (f"AccountName=acct;AccountKey={KEY};Bogus=1", "unknown key 'Bogus'"),
        (f"AccountName=acct;AccountKey={KEY};SharedAccessSignature={sas_token()}", "both"),
        (f"DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey={KEY}", "DefaultEndpointsProtocol"),
        (f"AccountName=acct;AccountKey={KEY};BlobEndpoint=notaurl", "BlobEndpoint"),
        ("UseDevelopmentStorage=true;AccountName=acct", "cannot be combined"),
        ("UseDevelopmentStorage=false", "must be 'true'"),
        ("garbage", "Key=Value"),
        ("BlobEndpoint=https://h.example;SharedAccessSignature=sv=1", "SharedAccessSignature"),
    ],
)
def test_bad_connection_strings(value: str, hint: str) -> None:
    err = invalid("azure-connection-string", {"connection_string": value})
    assert err.fields == ("connection_string",)
    assert hint in str(err)


def test_unknown_connection_string_key_that_looks_secret_is_not_echoed() -> None:
    err = invalid("azure-connection-string", {"connection_string": f"AccountName=acct;{KEY}"})
    assert KEY.rstrip("=") not in str(err)


# ---------------------------------------------------------------- the flat `azure` schema


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


def test_non_public_authority_disables_instance_discovery() -> None:
    s = parse_secret(
        "azure-service-principal",
        {
            "account_name": "acct",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": "s",
            "authority_host": "https://127.0.0.1:8443",
        },
    )
    credential = s.build_credential()
    # What azure-identity hands MSAL as instance_discovery (None: MSAL's default, discovery on).
    assert credential._instance_discovery is False
    public = s.model_copy(update={"authority_host": "https://login.microsoftonline.com"})
    assert public.build_credential()._instance_discovery is None
