"""The token credentials azcreds builds itself: no interactive login, no IMDS probe unless asked.

``default_keyvault_credential`` is what ``KeyVaultStore`` uses when given no credential: an explicit
chain of environment service principal, workload identity, managed identity and Azure CLI. Unlike
``DefaultAzureCredential`` it never opens a browser, and it only tries managed identity when an
identity endpoint or token file is configured — or ``AZCREDS_MANAGED_IDENTITY=imds`` asks for the
instance metadata service (IMDS) to be probed.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["default_keyvault_credential", "identity_environment", "managed_identity_available"]

#: Variables that say a managed identity endpoint (or a workload identity token) is configured.
IDENTITY_VARIABLES = (
    "IDENTITY_ENDPOINT",  # App Service, Functions, Container Apps, Arc
    "MSI_ENDPOINT",  # older App Service / Cloud Shell
    "AZURE_FEDERATED_TOKEN_FILE",  # AKS workload identity
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",  # AKS pod identity (an IMDS-style endpoint)
)


def identity_environment() -> list[str]:
    """The identity variables that are set, in the order above."""
    return [v for v in IDENTITY_VARIABLES if os.environ.get(v)]


def managed_identity_available() -> bool:
    """Whether managed identity may be used under ``AZCREDS_MANAGED_IDENTITY``: never for ``off``,
    always for ``imds``, and for ``auto`` only with an identity endpoint or token file configured."""
    from azcreds.settings import get_settings
    from azcreds.token_selection import token_selection

    mode = get_settings().managed_identity
    if mode == "off":
        return False
    # AZURE_TOKEN_CREDENTIALS=managedidentitycredential asks for managed identity by name: as in
    # azure-identity, that includes IMDS.
    named = token_selection().value == "managed_identity"
    return mode == "imds" or named or bool(identity_environment())


def default_keyvault_credential(**kwargs: Any) -> Any:
    """A ``ChainedTokenCredential`` for Key Vault (see the module docstring).

    ``AZURE_TOKEN_CREDENTIALS`` narrows it as azure-identity's ``DefaultAzureCredential`` does:
    ``prod`` keeps environment, workload identity and managed identity; ``dev`` keeps the developer
    tools (Azure CLI, Azure PowerShell, Azure Developer CLI); a credential's name keeps that one.
    Unset, the chain is environment, workload identity, managed identity, Azure CLI. A name azcreds
    does not build (``interactivebrowsercredential``: no interactive login) is a SettingsError.
    """
    import azure.identity

    from azcreds.errors import FieldError, SettingsError
    from azcreds.token_selection import VARIABLE, token_selection

    selection = token_selection()
    credentials: list[Any] = []
    if selection.allows("environment"):
        credentials.append(azure.identity.EnvironmentCredential(**kwargs))
    if selection.allows("workload_identity") and (
        os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and os.environ.get("AZURE_CLIENT_ID")
    ):
        credentials.append(azure.identity.WorkloadIdentityCredential(**kwargs))
    if selection.allows("managed_identity") and managed_identity_available():
        client_id = os.environ.get("AZURE_CLIENT_ID")
        credentials.append(azure.identity.ManagedIdentityCredential(client_id=client_id, **kwargs))
    if selection.value == "visual_studio_code":
        credentials.append(azure.identity.VisualStudioCodeCredential())
    # Unset: the Azure CLI only, as before AZURE_TOKEN_CREDENTIALS existed.
    tools = selection.developer_tools() if selection.explicit else selection.developer_tools()[:1]
    credentials += [getattr(azure.identity, tool.credential)() for tool in tools]
    if not credentials:
        problem = f"{selection.describe()} names a credential azcreds does not use for Key Vault"
        raise SettingsError([FieldError(VARIABLE, problem)])
    return azure.identity.ChainedTokenCredential(*credentials)
