"""The field checks: account names and keys, URLs, GUIDs, tenants, SAS tokens (through the schemas)."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from azcreds import ExpiringCredentialWarning, SasTokenSecret, ServicePrincipalSecret, parse_secret
from tests.helpers import CLIENT_ID, TENANT_ID, sas_time, sas_token
from tests.schemas.helpers import KEY, invalid


@pytest.mark.parametrize("name", ["ab", "a" * 25, "Upper1", "has-dash", "has_underscore", "spa ce", ""])
def test_account_names_must_be_3_to_24_lowercase_alphanumerics(name: str) -> None:
    err = invalid("azure-account-key", {"account_name": name, "account_key": KEY})
    assert err.fields == ("account_name",)


@pytest.mark.parametrize("key", ["not base64!", "abc", "====", "", "a b c d"])
def test_account_keys_must_be_base64(key: str) -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": key})
    assert err.fields == ("account_key",)


@pytest.mark.parametrize("url", ["ftp://host", "not a url", "https://", "https://h/?q=1", "http://u:p@h"])
def test_account_url_must_be_http_url(url: str) -> None:
    err = invalid("azure-account-key", {"account_name": "acct", "account_key": KEY, "account_url": url})
    assert err.fields == ("account_url",)


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
