"""EnvResolver: secrets from environment variables.

Named secret ``NAME``: ``AZCREDS_<NAME>__<FIELD>`` (plus an optional ``AZCREDS_<NAME>__SCHEMA``).
Implicit credentials (no name): the seed's ``AZURE_STORAGE_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from azcreds.errors import FieldError, ResolverUnavailableError, SchemaValidationError
from azcreds.names import env_prefix, validate_secret_name
from azcreds.schemas import parse_secret

if TYPE_CHECKING:
    from azcreds.schemas import SecretSchema

__all__ = ["IMPLICIT_VARIABLES", "EnvResolver", "parse_variables"]

#: The implicit variables and the flat ``azure`` field each one fills.
IMPLICIT_VARIABLES: dict[str, str] = {
    "AZURE_STORAGE_CONNECTION_STRING": "connection_string",
    "AZURE_STORAGE_ACCOUNT_NAME": "account_name",
    "AZURE_STORAGE_ACCOUNT_KEY": "account_key",
    "AZURE_STORAGE_SAS_TOKEN": "sas_token",
    "AZURE_STORAGE_CLIENT_ID": "client_id",
    "AZURE_STORAGE_CLIENT_SECRET": "client_secret",
    "AZURE_STORAGE_TENANT_ID": "tenant_id",
    "AZURE_STORAGE_ACCOUNT_URL": "account_url",
    "AZURE_STORAGE_AUTHORITY_HOST": "authority_host",
}
_IMPLICIT_CREDENTIAL_FIELDS = frozenset(
    {"connection_string", "account_key", "sas_token", "client_secret", "tenant_id"}
)


class EnvResolver:
    """Reads secrets from environment variables (``os.environ`` at call time, or a given mapping)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    @property
    def source(self) -> Literal["env"]:
        return "env"

    def __repr__(self) -> str:
        return "EnvResolver()"

    def resolve(self, name: str | None) -> SecretSchema:
        environ = os.environ if self._environ is None else self._environ
        if name is None:
            return self._implicit(environ)
        return self._named(validate_secret_name(name), environ)

    def _named(self, name: str, environ: Mapping[str, str]) -> SecretSchema:
        prefix = env_prefix(name)
        keys = _keys_with_prefix(environ, prefix)
        fields: dict[str, str] = {}
        variables: dict[str, str] = {}
        for key in keys:
            field = key[len(prefix) :]
            if not field or "__" in field:
                continue  # "__" in the field: another secret whose name extends this one
            value = environ[key]
            if value:
                fields[field.lower()] = value
                variables[field.lower()] = key
        if not fields:
            raise ResolverUnavailableError(f"no {prefix}* variables are set")
        schema_id = fields.pop("schema", "azure")
        return parse_variables(schema_id, fields, variables)

    def _implicit(self, environ: Mapping[str, str]) -> SecretSchema:
        fields: dict[str, str] = {}
        variables: dict[str, str] = {}
        for var, field in IMPLICIT_VARIABLES.items():
            value = environ.get(var)
            if value:
                fields[field] = value
                variables[field] = var
        if "connection_string" in fields:
            disagreeing = _drop_restatements(fields)
            if disagreeing:
                raise SchemaValidationError(
                    "azure",
                    [
                        FieldError(
                            variables[f],
                            "differs from what AZURE_STORAGE_CONNECTION_STRING says: unset one of them",
                        )
                        for f in disagreeing
                    ],
                )
        if not fields.keys() & _IMPLICIT_CREDENTIAL_FIELDS:
            if "account_name" in fields:
                raise ResolverUnavailableError(
                    "AZURE_STORAGE_ACCOUNT_NAME is set without a key, SAS token or service principal"
                )
            raise ResolverUnavailableError("no AZURE_STORAGE_* credential variables are set")
        return parse_variables("azure", fields, variables)


def _drop_restatements(fields: dict[str, str]) -> list[str]:
    """Drop the variables that only repeat what the connection string says; return those that differ.

    ``azcreds exec`` exports a connection string together with the account name, key or SAS
    token and URL it holds (each client reads other names): that is one credential, not two.
    """
    from azcreds._validators import check_url
    from azcreds.connection_string import parse_connection_string

    try:
        parsed = parse_connection_string(fields["connection_string"])
    except ValueError:
        return []  # validation names the malformed string
    said = {
        "account_name": parsed.account_name,
        "account_key": parsed.account_key,
        "sas_token": parsed.sas_token,
        "account_url": parsed.blob_endpoint,
    }
    differing = []
    for key, stated in said.items():
        if key not in fields:
            continue
        given = fields[key]
        try:
            if key == "sas_token":
                given = given.removeprefix("?")
            elif key == "account_url":
                given = check_url(given)
        except ValueError:
            pass
        if given == stated:
            del fields[key]
        else:
            differing.append(key)
    return differing


def _keys_with_prefix(environ: Mapping[str, str], prefix: str) -> list[str]:
    """The variable names that start with ``prefix``.

    For ``os.environ`` on POSIX this scans the raw byte keys: decoding every name to str costs
    more than the whole rest of an uncached resolve (this is the hot loop of ``EnvResolver``).
    """
    raw = getattr(environ, "_data", None) if environ is os.environ else None
    if isinstance(raw, dict) and os.name == "posix":
        needle = os.fsencode(prefix)
        return [os.fsdecode(k) for k in raw if k.startswith(needle)]
    return [k for k in environ if k.startswith(prefix)]


def parse_variables(schema_id: str, fields: dict[str, str], variables: dict[str, str]) -> SecretSchema:
    """Validate ``fields`` read from the environment, reporting each bad field by the variable
    that holds it (``variables`` maps field → variable name)."""
    try:
        return parse_secret(schema_id, fields)
    except SchemaValidationError as exc:
        errors = [FieldError(variables.get(e.field, e.field), e.message) for e in exc.errors]
        raise SchemaValidationError(exc.schema_id, errors) from None
