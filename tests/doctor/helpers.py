"""Building credentials for the doctor tests: from schemas as users store them, or past validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azure.storage.blob import generate_container_sas

from azcreds import AzureCredentials, parse_secret
from azcreds.schemas import SasTokenSecret
from azcreds.testing import AzuriteServer


def creds(schema: str, **fields: str) -> AzureCredentials:
    return AzureCredentials.from_secret(parse_secret(schema, fields), name="doc", source="env")


def key_creds(url: str, account: str, key: str) -> AzureCredentials:
    return creds("azure-account-key", account_name=account, account_key=key, account_url=url)


def container_sas(
    azurite: AzuriteServer,
    container: str,
    permission: str,
    *,
    expiry: timedelta = timedelta(days=30),
    start: timedelta | None = None,
    key: str | None = None,
) -> str:
    now = datetime.now(UTC)
    return generate_container_sas(
        azurite.account_name,
        container,
        account_key=key or azurite.account_key,
        permission=permission,
        expiry=now + expiry,
        start=now + start if start is not None else None,
    )


def sas_creds(url: str, account: str, token: str) -> AzureCredentials:
    return creds("azure-sas-token", account_name=account, sas_token=token, account_url=url)


def unvalidated_sas_creds(url: str, account: str, token: str) -> AzureCredentials:
    """A SAS the schema would refuse today (already expired): as cached credentials hold one that
    expired after it was resolved."""
    from pydantic import SecretStr

    secret = SasTokenSecret.model_construct(account_name=account, sas_token=SecretStr(token), account_url=url)
    return AzureCredentials.from_secret(secret, name="doc", source="env")


class FixedClock:
    """This machine's clock, as the doctor sees it: real time shifted by ``offset``, read once."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.now = datetime.now(UTC) + offset

    def __call__(self) -> datetime:
        return self.now
