"""ManagedIdentityResolver: the workload's own identity, when there is one, for the storage account.

It closes both chains. It answers when managed identity is allowed by ``AZCREDS_MANAGED_IDENTITY``
(``auto``: only with an identity endpoint or workload identity token file in the environment;
``imds``: also on a VM, where only the instance metadata service can tell; ``off``: never) and the
account is known from ``AZURE_STORAGE_ACCOUNT_NAME``. A user-assigned identity is picked with
``AZURE_STORAGE_CLIENT_ID`` (or ``AZURE_CLIENT_ID``). It makes no network call: the token is
requested when the credential is first used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from azcreds.errors import FieldError, ResolverUnavailableError, SchemaValidationError
from azcreds.identity import identity_environment, managed_identity_available
from azcreds.schemas import parse_secret

if TYPE_CHECKING:
    from azcreds.schemas import SecretSchema

__all__ = ["ManagedIdentityResolver"]


class ManagedIdentityResolver:
    """Managed identity (system- or user-assigned) for ``AZURE_STORAGE_ACCOUNT_NAME``."""

    @property
    def source(self) -> Literal["managed-identity"]:
        return "managed-identity"

    def __repr__(self) -> str:
        return "ManagedIdentityResolver()"

    def resolve(self, name: str | None) -> SecretSchema:
        from azcreds.settings import get_settings

        mode = get_settings().managed_identity
        if mode == "off":
            raise ResolverUnavailableError("managed identity is off (AZCREDS_MANAGED_IDENTITY=off)")
        if not managed_identity_available():
            raise ResolverUnavailableError(
                "no managed identity endpoint in the environment (IDENTITY_ENDPOINT, "
                "AZURE_FEDERATED_TOKEN_FILE, ...); set AZCREDS_MANAGED_IDENTITY=imds to use IMDS"
            )
        account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
        if not account:
            found = ", ".join(identity_environment()) or "IMDS"
            raise ResolverUnavailableError(
                f"a managed identity is available ({found}) but AZURE_STORAGE_ACCOUNT_NAME is not set"
            )
        fields = {"account_name": account}
        variables = {"account_name": "AZURE_STORAGE_ACCOUNT_NAME"}
        for variable in ("AZURE_STORAGE_CLIENT_ID", "AZURE_CLIENT_ID"):
            if os.environ.get(variable):
                fields["client_id"], variables["client_id"] = os.environ[variable], variable
                break
        account_url = os.environ.get("AZURE_STORAGE_ACCOUNT_URL")
        if account_url:
            fields["account_url"], variables["account_url"] = account_url, "AZURE_STORAGE_ACCOUNT_URL"
        try:
            return parse_secret("azure-managed-identity", fields)
        except SchemaValidationError as exc:  # name the variables, as the env resolver does
            errors = [FieldError(variables.get(e.field, e.field), e.message) for e in exc.errors]
            raise SchemaValidationError(exc.schema_id, errors) from None
