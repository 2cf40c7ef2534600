"""ManagedIdentityResolver: the workload's own identity, when there is one, for the storage account.

It closes both chains. It answers when managed identity is allowed by ``AZCREDS_MANAGED_IDENTITY``
(``auto``: only with an identity endpoint or workload identity token file in the environment;
``imds``: also on a VM, where only the instance metadata service can tell; ``off``: never) and the
account is known from ``AZURE_STORAGE_ACCOUNT_NAME``; ``AZURE_TOKEN_CREDENTIALS`` set to ``dev`` or
to a credential other than managed or workload identity excludes it, as in azure-identity. A
user-assigned identity is picked with ``AZURE_STORAGE_CLIENT_ID`` (or ``AZURE_CLIENT_ID``). It
makes no network call: the token is requested when the credential is first used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from azcreds.errors import ResolverUnavailableError
from azcreds.identity import identity_environment, managed_identity_available
from azcreds.resolvers.env import parse_variables

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
        from azcreds.token_selection import token_selection

        mode = get_settings().managed_identity
        if mode == "off":
            raise ResolverUnavailableError("managed identity is off (AZCREDS_MANAGED_IDENTITY=off)")
        selection = token_selection()
        if not (selection.allows("managed_identity") or selection.allows("workload_identity")):
            raise ResolverUnavailableError(f"{selection.describe()} excludes managed identity")
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
        for field, names in _OPTIONAL_VARIABLES.items():
            for variable in names:
                value = os.environ.get(variable)
                if value:
                    fields[field] = value
                    variables[field] = variable
                    break
        # Errors name the variable that holds the bad value, never the value.
        return parse_variables("azure-managed-identity", fields, variables)


#: Optional fields and the variables they are read from, first set one wins.
_OPTIONAL_VARIABLES = {
    "client_id": ("AZURE_STORAGE_CLIENT_ID", "AZURE_CLIENT_ID"),
    "account_url": ("AZURE_STORAGE_ACCOUNT_URL",),
}
