"""Secret schemas: typed, strictly validated pydantic models, and the registry that names them.

Each schema knows its ``schema_id``, which of its fields are secret, and how to turn itself into
what the Azure Blob SDK needs (account name, account URL, credential). Validation is local (no
network) and its errors name fields, never values.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from azcreds.errors import (
    ExpiringCredentialWarning,
    FieldError,
    SchemaValidationError,
    UnknownSchemaError,
)

if TYPE_CHECKING:
    from azcreds.connection_string import ConnectionString

__all__ = [
    "AccountKeySecret",
    "AzureSecret",
    "ConnectionStringSecret",
    "ManagedIdentitySecret",
    "SasTokenSecret",
    "SecretSchema",
    "ServicePrincipalSecret",
    "get_schema",
    "infer_schema_id",
    "list_schemas",
    "parse_secret",
    "register_schema",
]

PUBLIC_AUTHORITY_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us"}
)
_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_SAS_EXPIRY_WARNING = timedelta(hours=24)


# --------------------------------------------------------------------------- field checks
# Each check raises ValueError with a message that never includes the value it was given.


def check_account_name(value: str) -> str:
    if _ACCOUNT_NAME.fullmatch(value) is None:
        raise ValueError("must be 3-24 lowercase letters and digits")
    return value


def check_account_key(value: str) -> str:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("must be base64 (as the Azure portal shows it)") from None
    if not raw:
        raise ValueError("must not be empty")
    return value


def check_guid(value: str) -> str:
    if _GUID.fullmatch(value) is None:
        raise ValueError("must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value.lower()


def check_tenant(value: str) -> str:
    if _GUID.fullmatch(value) is None and _DOMAIN.fullmatch(value) is None:
        raise ValueError("must be a GUID or a domain such as contoso.onmicrosoft.com")
    return value


def check_url(value: str, *, https_only: bool = False) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError("must be a URL such as https://host[:port][/path]") from None
    allowed = ("https",) if https_only else ("http", "https")
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError(f"must be an {' or '.join(allowed)} URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must not carry a query, fragment or user info")
    return value.rstrip("/")


def _parse_sas_time(value: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError("has an expiry (se) that is not an ISO 8601 UTC time")


def check_sas_token(value: str, *, now: datetime | None = None) -> str:
    """Validate a SAS token; return it without a leading ``?``. Warn if it expires within 24 h."""
    token = value[1:] if value.startswith("?") else value
    if not token or any(c.isspace() for c in token):
        raise ValueError("must be a SAS query string such as sv=...&sig=...")
    try:
        pairs = parse_qsl(token, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError("must be a SAS query string such as sv=...&sig=...") from None
    params: dict[str, str] = {}
    for key, val in pairs:
        if key in params:
            raise ValueError(f"repeats the parameter {key!r}")
        params[key] = val
    missing = [k for k in ("sv", "sig") if not params.get(k)]
    if missing:
        raise ValueError("lacks " + " and ".join(repr(k) for k in missing) + " (not a SAS token)")
    expiry = params.get("se")
    if expiry:
        when = _parse_sas_time(expiry)
        now = now or datetime.now(UTC)
        if when <= now:
            raise ValueError("has expired (its 'se' time has passed)")
        if when - now <= _SAS_EXPIRY_WARNING:
            warnings.warn(
                f"SAS token expires within 24 hours (at {when:%Y-%m-%dT%H:%M:%SZ})",
                ExpiringCredentialWarning,
                stacklevel=2,
            )
    return token


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


# --------------------------------------------------------------------------- base schema


def _wrap(check: Callable[[str], str]) -> Any:
    """A pydantic ``field_validator`` body that applies ``check`` to plain or secret strings."""

    def validate(cls: type[BaseModel], value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, SecretStr):
            return SecretStr(check(value.get_secret_value()))
        return check(value)

    return validate


def validation_error(schema_id: str | None, exc: ValidationError) -> SchemaValidationError:
    """Turn a pydantic ValidationError into ours, built without the input values."""
    errors: list[FieldError] = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(p) for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        elif message.startswith("Assertion failed, "):
            message = message[len("Assertion failed, ") :]
        errors.append(FieldError(field, message))
    return SchemaValidationError(schema_id, errors)


class SecretSchema(BaseModel):
    """Base of every secret schema. Subclasses set ``schema_id`` and implement the credential hooks."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        hide_input_in_errors=True,
        defer_build=True,  # build validators on first use: `azcreds schema list` needs none
    )

    schema_id: ClassVar[str]
    title: ClassVar[str] = ""

    # -- registry-facing helpers
    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Names of the fields that hold secret values (typed SecretStr)."""
        out = []
        for name, info in cls.model_fields.items():
            if info.annotation in (SecretStr, SecretStr | None):
                out.append(name)
        return tuple(out)

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        return tuple(n for n, info in cls.model_fields.items() if info.is_required())

    def normalize(self) -> SecretSchema:
        """The concrete schema this secret stands for (itself, except for the flat ``azure``)."""
        return self

    def field_values(self, *, reveal: bool = False) -> dict[str, str]:
        """The fields that are set, secret ones as ``'**********'`` unless ``reveal``."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                out[name] = value.get_secret_value() if reveal else "**********"
            else:
                out[name] = str(value)
        return out

    def secret_values(self) -> list[str]:
        """Every secret string this secret holds (for log redaction), parts of composites included."""
        return [v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr)]

    # -- credential hooks (see azcreds.credentials)
    def account_name_value(self) -> str:
        raise NotImplementedError

    def account_url_value(self) -> str:
        raise NotImplementedError

    def build_credential(self) -> Any:
        """The object ``BlobServiceClient(account_url, credential=...)`` takes. Imports SDKs lazily."""
        raise NotImplementedError

    def storage_options(self) -> dict[str, Any]:
        """Options for adlfs / fsspec ``storage_options=``."""
        raise NotImplementedError

    def env_vars(self) -> dict[str, str]:
        """The environment variables that carry this secret to other processes (values are secret).

        They work as they are with the Python and JavaScript Blob SDKs, azure-identity's
        ``EnvironmentCredential``/``ManagedIdentityCredential``, @azure/identity, the az CLI's
        storage commands and azcreds' own implicit chain (see docs/cli.md).
        """
        raise NotImplementedError


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


def check_token_account_url(value: str) -> str:
    """An account URL that token credentials may be sent to: https only."""
    if urlsplit(value).scheme.lower() == "http":
        raise ValueError(
            "must be an https URL: the Blob SDK sends token credentials (service principal, "
            "managed identity) only over HTTPS"
        )
    return value


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


# --------------------------------------------------------------------------- the flat schema

#: Which fields each concrete schema takes from the flat ``azure`` schema.
_FLAT_TARGETS: dict[str, tuple[type[SecretSchema], frozenset[str]]] = {
    "connection_string": (ConnectionStringSecret, frozenset({"connection_string"})),
    "account_key": (AccountKeySecret, frozenset({"account_name", "account_key", "account_url"})),
    "sas_token": (SasTokenSecret, frozenset({"account_name", "sas_token", "account_url"})),
    "service_principal": (
        ServicePrincipalSecret,
        frozenset(
            {
                "account_name",
                "tenant_id",
                "client_id",
                "client_secret",
                "account_url",
                "authority_host",
            }
        ),
    ),
    "managed_identity": (
        ManagedIdentitySecret,
        frozenset({"account_name", "client_id", "account_url"}),
    ),
}


def infer_schema_id(fields: Mapping[str, object]) -> str:
    """Pick the concrete schema for flat fields, by the rules of the seed's ``azure`` schema.

    ``connection_string`` → connection string; ``account_key`` → account key; ``sas_token`` → SAS;
    ``tenant_id`` or ``client_secret`` → service principal; otherwise → managed identity. Two of
    these at once is an error naming the fields.
    """
    present = {k for k, v in fields.items() if v not in (None, "")}
    kinds = []
    if "connection_string" in present:
        kinds.append(("connection_string", "connection_string"))
    if "account_key" in present:
        kinds.append(("account_key", "account_key"))
    if "sas_token" in present:
        kinds.append(("sas_token", "sas_token"))
    sp_fields = sorted(present & {"tenant_id", "client_secret"})
    if sp_fields:
        kinds.append(("service_principal", " and ".join(sp_fields)))
    if len(kinds) > 1:
        named = ", ".join(f for _, f in kinds)
        raise SchemaValidationError(
            "azure",
            [
                FieldError(
                    kinds[1][1].split(" and ")[0],
                    f"conflicting credentials: {named} each select a different kind of "
                    "credential; give exactly one",
                )
            ],
        )
    kind = kinds[0][0] if kinds else "managed_identity"
    target, allowed = _FLAT_TARGETS[kind]
    extra = sorted(present - allowed)
    if extra:
        raise SchemaValidationError(
            "azure",
            [
                FieldError(
                    f,
                    f"cannot be combined with {kinds[0][1] if kinds else 'a managed identity'} "
                    f"(it belongs to another kind of credential)",
                )
                for f in extra
            ],
        )
    return target.schema_id


class AzureSecret(SecretSchema):
    """The flat schema of ZenML's Azure artifact store: every field optional, kind inferred.

    It normalises into exactly one concrete schema (see :func:`infer_schema_id`).
    """

    schema_id: ClassVar[str] = "azure"
    title: ClassVar[str] = "Azure (flat, inferred)"

    account_name: str | None = Field(
        default=None,
        description="Storage account name (3-24 lowercase letters/digits); alone, a managed identity.",
    )
    account_key: SecretStr | None = Field(
        default=None, description="One of the account's access keys (base64): an account key secret."
    )
    sas_token: SecretStr | None = Field(
        default=None, description="A SAS query string (sv=...&sig=...): a SAS token secret."
    )
    connection_string: SecretStr | None = Field(
        default=None, description="The storage account's connection string: a connection string secret."
    )
    client_id: str | None = Field(
        default=None,
        description="Application (client) id, a GUID: of the service principal or user-assigned identity.",
    )
    client_secret: SecretStr | None = Field(
        default=None, description="The application's client secret: a service principal secret."
    )
    tenant_id: str | None = Field(
        default=None, description="Directory (tenant) id, a GUID or a domain: a service principal secret."
    )
    account_url: str | None = Field(
        default=None, description="Blob endpoint; default https://{account_name}.blob.core.windows.net"
    )
    authority_host: str | None = Field(
        default=None, description="Entra authority of a service principal; default the public cloud's."
    )

    def normalize(self) -> SecretSchema:
        raw = {
            k: (v.get_secret_value() if isinstance(v, SecretStr) else v)
            for k, v in self.__dict__.items()
            if v is not None
        }
        schema_id = infer_schema_id(raw)
        return parse_secret(schema_id, raw, report_as="azure")

    def account_name_value(self) -> str:
        return self.normalize().account_name_value()

    def account_url_value(self) -> str:
        return self.normalize().account_url_value()

    def build_credential(self) -> Any:
        return self.normalize().build_credential()

    def storage_options(self) -> dict[str, Any]:
        return self.normalize().storage_options()

    def env_vars(self) -> dict[str, str]:
        return self.normalize().env_vars()


# --------------------------------------------------------------------------- registry

_SchemaT = TypeVar("_SchemaT", bound=type[SecretSchema])
_REGISTRY: dict[str, type[SecretSchema]] = {}


def register_schema(cls: _SchemaT, *, replace: bool = False) -> _SchemaT:
    """Add a schema class to the registry (usable as a decorator). Ids are unique."""
    schema_id = getattr(cls, "schema_id", None)
    if not isinstance(schema_id, str) or not schema_id:
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute 'schema_id'")
    if schema_id in _REGISTRY and _REGISTRY[schema_id] is not cls and not replace:
        raise ValueError(f"schema id {schema_id!r} is already registered")
    _REGISTRY[schema_id] = cls
    return cls


for _cls in (
    ConnectionStringSecret,
    AccountKeySecret,
    SasTokenSecret,
    ServicePrincipalSecret,
    ManagedIdentitySecret,
    AzureSecret,
):
    register_schema(_cls)


def get_schema(schema_id: str) -> type[SecretSchema]:
    """The schema class registered under ``schema_id``; UnknownSchemaError if none is."""
    try:
        return _REGISTRY[schema_id]
    except (KeyError, TypeError):
        raise UnknownSchemaError(schema_id, sorted(_REGISTRY)) from None


def list_schemas() -> list[type[SecretSchema]]:
    """Every registered schema class, in registration order."""
    return list(_REGISTRY.values())


def catalog() -> list[dict[str, Any]]:
    """Every schema's id, title and field names, as ``azcreds schema list`` shows them.

    The CLI reads a copy of this from ``azcreds/cli/schema_catalog.json`` so that listing schemas
    does not import pydantic; ``scripts/gen-schema-catalog`` writes it and a test keeps it equal.
    """
    rows: list[dict[str, Any]] = []
    for s in list_schemas():
        required = s.required_fields()
        rows.append(
            {
                "schema_id": s.schema_id,
                "title": s.title,
                "required": list(required),
                "optional": [f for f in s.model_fields if f not in required],
                "secret_fields": list(s.secret_fields()),
            }
        )
    return rows


def parse_secret(schema_id: str, fields: Mapping[str, Any], *, report_as: str | None = None) -> SecretSchema:
    """Validate ``fields`` against ``schema_id`` and return the normalised, concrete secret.

    Raises SchemaValidationError naming each bad field (never its value).
    """
    cls = get_schema(schema_id)
    if cls is AzureSecret:  # infer straight from the fields: one model validation, not two
        data = dict(fields)
        unknown = [k for k in data if k not in AzureSecret.model_fields]
        if unknown:
            raise SchemaValidationError(
                report_as or schema_id, [FieldError(str(k), "unknown field") for k in unknown]
            )
        present = {k: v for k, v in data.items() if v is not None}
        return parse_secret(infer_schema_id(present), present, report_as=report_as or schema_id)
    try:
        secret = cls.model_validate(dict(fields))
    except ValidationError as exc:
        raise validation_error(report_as or schema_id, exc) from None
    return secret.normalize()
