"""The five concrete schemas: account URLs (https for token credentials), their credentials."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from azcreds import AccountKeySecret, parse_secret
from tests.helpers import CLIENT_ID, TENANT_ID, sas_token
from tests.schemas.helpers import KEY, invalid


def test_account_key_secret_defaults_the_account_url() -> None:
    s = parse_secret("azure-account-key", {"account_name": "acct", "account_key": KEY})
    assert isinstance(s, AccountKeySecret)
    assert s.account_url_value() == "https://acct.blob.core.windows.net"
    assert isinstance(s.account_key, SecretStr)


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
