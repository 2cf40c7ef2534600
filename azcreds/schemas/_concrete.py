"""The five concrete schemas, one kind of credential each, and what each gives the Azure SDKs.

Connection string, account key, SAS token, service principal and managed identity: their fields,
the checks on them (from :mod:`azcreds._validators`), and the credential, ``storage_options`` and
environment variables each turns into. Import them from :mod:`azcreds.schemas`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from azcreds._validators import (
    check_account_key,
    check_account_name,
    check_guid,
    check_sas_token,
    check_tenant,
    check_token_account_url,
    check_url,
)
from azcreds.schemas._base import SecretSchema, _wrap

if TYPE_CHECKING:
    from azcreds.connection_string import ConnectionString

__all__ = [
    "AccountKeySecret",
    "ConnectionStringSecret",
    "ManagedIdentitySecret",
    "SasTokenSecret",
    "ServicePrincipalSecret",
    "default_account_url",
    "is_public_authority",
    "shared_key_env",
]

PUBLIC_AUTHORITY_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us"}
)


def default_account_url(account_name: str) -> str:
    return f"https://{account_name}.blob.core.windows.net"


def shared_key_env(
    *,
    account_name: str,
    account_url: str,
    connection_string: str,
    account_key: str | None = None,
    sas_token: str | None = None,
) -> dict[str, str]:
    """The variables of an account key or SAS credential, for every client at once.

    A full connection string (Python and JavaScript SDKs, az CLI), the seed's
    ``AZURE_STORAGE_ACCOUNT_NAME`` + ``AZURE_STORAGE_ACCOUNT_KEY``/``AZURE_STORAGE_SAS_TOKEN``
    (azcreds' implicit chain), the az CLI's ``AZURE_STORAGE_ACCOUNT``/``AZURE_STORAGE_KEY``,
    and ``AZURE_STORAGE_ACCOUNT_URL``.
    """
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "AZURE_STORAGE_ACCOUNT_NAME": account_name,
        "AZURE_STORAGE_ACCOUNT": account_name,
        "AZURE_STORAGE_ACCOUNT_URL": account_url,
    }
    if account_key is not None:
        env["AZURE_STORAGE_ACCOUNT_KEY"] = account_key
        env["AZURE_STORAGE_KEY"] = account_key
    if sas_token is not None:
        env["AZURE_STORAGE_SAS_TOKEN"] = sas_token
    return env


def is_public_authority(authority_host: str | None) -> bool:
    if authority_host is None:
        return True
    host = urlsplit(authority_host if "//" in authority_host else f"https://{authority_host}")
    return (host.hostname or "").lower() in PUBLIC_AUTHORITY_HOSTS


class _AccountSchema(SecretSchema):
    """Common fields: the account, and an optional endpoint override."""

    account_name: str = Field(description="Storage account name (3-24 lowercase letters/digits).")
    account_url: str | None = Field(
        default=None,
        description="Blob endpoint; default https://{account_name}.blob.core.windows.net",
    )

    _check_account_name = field_validator("account_name")(_wrap(check_account_name))
    _check_account_url = field_validator("account_url")(_wrap(check_url))

    def account_name_value(self) -> str:
        return self.account_name

    def account_url_value(self) -> str:
        return self.account_url or default_account_url(self.account_name)

    def _account_env(self) -> dict[str, str]:
        """The account's variables: the seed's and the az CLI's name, and the Blob endpoint."""
        return {
            "AZURE_STORAGE_ACCOUNT_NAME": self.account_name,
            "AZURE_STORAGE_ACCOUNT": self.account_name,
            "AZURE_STORAGE_ACCOUNT_URL": self.account_url_value(),
        }


class _TokenAccountSchema(_AccountSchema):
    """An account reached with an Entra ID token credential: its ``account_url`` must be https.

    azure-storage-blob refuses a token credential for any ``http`` account URL, loopback included
    (``StorageAccountHostsMixin.__init__``: "Token credential is only supported with HTTPS."),
    and offers no switch to allow it; so the schema refuses it first, naming the field.
    """

    _check_token_url = field_validator("account_url")(_wrap(check_token_account_url))


# --------------------------------------------------------------------------- concrete schemas


class ConnectionStringSecret(SecretSchema):
    """An Azure Storage connection string (account key, SAS, or the Azurite development account)."""

    schema_id: ClassVar[str] = "azure-connection-string"
    title: ClassVar[str] = "Connection string"

    connection_string: SecretStr = Field(description="The storage account's connection string.")

    @field_validator("connection_string")
    @classmethod
    def _check(cls, value: SecretStr) -> SecretStr:
        from azcreds.connection_string import parse_connection_string

        parse_connection_string(value.get_secret_value())
        return value

    @cached_property
    def parsed(self) -> ConnectionString:
        from azcreds.connection_string import parse_connection_string

        return parse_connection_string(self.connection_string.get_secret_value())

    def secret_values(self) -> list[str]:
        parsed = self.parsed
        parts = [parsed.account_key, parsed.sas_token]
        return [*super().secret_values(), *(p for p in parts if p)]

    def account_name_value(self) -> str:
        return self.parsed.account_name

    def account_url_value(self) -> str:
        return self.parsed.blob_endpoint

    def build_credential(self) -> Any:
        parsed = self.parsed
        from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

        if parsed.account_key is not None:
            return AzureNamedKeyCredential(parsed.account_name, parsed.account_key)
        assert parsed.sas_token is not None
        return AzureSasCredential(parsed.sas_token)

    def storage_options(self) -> dict[str, Any]:
        return {"connection_string": self.parsed.canonical()}

    def env_vars(self) -> dict[str, str]:
        parsed = self.parsed
        return shared_key_env(
            account_name=parsed.account_name,
            account_url=parsed.blob_endpoint,
            connection_string=parsed.canonical(),
            account_key=parsed.account_key,
            sas_token=parsed.sas_token,
        )


class AccountKeySecret(_AccountSchema):
    """A storage account name and one of its access keys."""

    schema_id: ClassVar[str] = "azure-account-key"
    title: ClassVar[str] = "Account key"

    account_key: SecretStr = Field(description="One of the account's access keys (base64).")

    _check_key = field_validator("account_key")(_wrap(check_account_key))

    def build_credential(self) -> Any:
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(self.account_name, self.account_key.get_secret_value())

    def _connection_string(self) -> str:
        from azcreds.connection_string import format_connection_string

        return format_connection_string(
            account_name=self.account_name,
            blob_endpoint=self.account_url_value(),
            account_key=self.account_key.get_secret_value(),
        )

    def storage_options(self) -> dict[str, Any]:
        if self.account_url and self.account_url != default_account_url(self.account_name):
            return {"connection_string": self._connection_string()}
        return {
            "account_name": self.account_name,
            "account_key": self.account_key.get_secret_value(),
        }

    def env_vars(self) -> dict[str, str]:
        return shared_key_env(
            account_name=self.account_name,
            account_url=self.account_url_value(),
            connection_string=self._connection_string(),
            account_key=self.account_key.get_secret_value(),
        )


class SasTokenSecret(_AccountSchema):
    """A storage account name and a shared access signature (SAS) token."""

    schema_id: ClassVar[str] = "azure-sas-token"
    title: ClassVar[str] = "SAS token"

    sas_token: SecretStr = Field(description="A SAS query string (sv=...&sig=...), '?' optional.")

    _check_sas = field_validator("sas_token")(_wrap(check_sas_token))

    def build_credential(self) -> Any:
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(self.sas_token.get_secret_value())

    def _connection_string(self) -> str:
        from azcreds.connection_string import format_connection_string

        return format_connection_string(
            account_name=self.account_name,
            blob_endpoint=self.account_url_value(),
            sas_token=self.sas_token.get_secret_value(),
        )

    def storage_options(self) -> dict[str, Any]:
        if self.account_url and self.account_url != default_account_url(self.account_name):
            return {"connection_string": self._connection_string()}
        return {"account_name": self.account_name, "sas_token": self.sas_token.get_secret_value()}

    def env_vars(self) -> dict[str, str]:
        return shared_key_env(
            account_name=self.account_name,
            account_url=self.account_url_value(),
            connection_string=self._connection_string(),
            sas_token=self.sas_token.get_secret_value(),
        )


class ServicePrincipalSecret(_TokenAccountSchema):
    """A Microsoft Entra service principal (tenant, client id, client secret) with storage access."""

    schema_id: ClassVar[str] = "azure-service-principal"
    title: ClassVar[str] = "Service principal"

    tenant_id: str = Field(description="Directory (tenant) id: a GUID or a domain.")
    client_id: str = Field(description="Application (client) id: a GUID.")
    client_secret: SecretStr = Field(description="The application's client secret.")
    authority_host: str | None = Field(
        default=None, description="Entra authority; default the public cloud's."
    )

    _check_tenant = field_validator("tenant_id")(_wrap(check_tenant))
    _check_client = field_validator("client_id")(_wrap(check_guid))
    _check_authority = field_validator("authority_host")(_wrap(lambda v: check_url(v, https_only=True)))

    def build_credential(self) -> Any:
        from azure.identity import ClientSecretCredential

        kwargs: dict[str, Any] = {}
        if self.authority_host:
            kwargs["authority"] = self.authority_host
            if not is_public_authority(self.authority_host):
                kwargs["disable_instance_discovery"] = True
        return ClientSecretCredential(
            self.tenant_id, self.client_id, self.client_secret.get_secret_value(), **kwargs
        )

    def storage_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "account_name": self.account_name,
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
        }
        if self.account_url and self.account_url != default_account_url(self.account_name):
            options["account_host"] = urlsplit(self.account_url).netloc
        return options

    def env_vars(self) -> dict[str, str]:
        # The seed's AZURE_STORAGE_* names (azcreds' implicit chain) and azure-identity's
        # AZURE_* names, which EnvironmentCredential and @azure/identity read.
        identity = {
            "TENANT_ID": self.tenant_id,
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret.get_secret_value(),
        }
        if self.authority_host:
            identity["AUTHORITY_HOST"] = self.authority_host
        return (
            self._account_env()
            | {f"AZURE_STORAGE_{k}": v for k, v in identity.items()}
            | {f"AZURE_{k}": v for k, v in identity.items()}
        )


class ManagedIdentitySecret(_TokenAccountSchema):
    """An Azure managed identity (system-assigned, or user-assigned with a client id)."""

    schema_id: ClassVar[str] = "azure-managed-identity"
    title: ClassVar[str] = "Managed identity"

    client_id: str | None = Field(
        default=None, description="Client id of a user-assigned identity; omit for system-assigned."
    )

    _check_client = field_validator("client_id")(_wrap(check_guid))

    def build_credential(self) -> Any:
        from azure.identity import ManagedIdentityCredential

        if self.client_id:
            return ManagedIdentityCredential(client_id=self.client_id)
        return ManagedIdentityCredential()

    def storage_options(self) -> dict[str, Any]:
        from azure.identity.aio import ManagedIdentityCredential

        credential = (
            ManagedIdentityCredential(client_id=self.client_id)
            if self.client_id
            else ManagedIdentityCredential()
        )
        options: dict[str, Any] = {"account_name": self.account_name, "credential": credential}
        if self.account_url and self.account_url != default_account_url(self.account_name):
            options["account_host"] = urlsplit(self.account_url).netloc
        return options

    def env_vars(self) -> dict[str, str]:
        env = self._account_env()
        if self.client_id:  # user-assigned: the seed's name and azure-identity's
            env["AZURE_STORAGE_CLIENT_ID"] = self.client_id
            env["AZURE_CLIENT_ID"] = self.client_id
        return env
