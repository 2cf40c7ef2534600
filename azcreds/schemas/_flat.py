"""The seed's flat ``azure`` schema: which concrete schema flat fields infer, and parsing by schema id.

:func:`infer_schema_id` applies the inference rules; :class:`AzureSecret` is the flat schema that
normalises through them; :func:`parse_secret` validates fields against any registered schema, the
flat one included (it infers straight from the fields). Import them from :mod:`azcreds.schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, SecretStr, ValidationError

from azcreds.errors import FieldError, SchemaValidationError
from azcreds.schemas._base import SecretSchema, get_schema, validation_error
from azcreds.schemas._concrete import (
    AccountKeySecret,
    ConnectionStringSecret,
    ManagedIdentitySecret,
    SasTokenSecret,
    ServicePrincipalSecret,
)

__all__ = ["AzureSecret", "infer_schema_id", "parse_secret"]

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
