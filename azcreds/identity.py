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

    mode = get_settings().managed_identity
    if mode == "off":
        return False
    return mode == "imds" or bool(identity_environment())


def default_keyvault_credential(**kwargs: Any) -> Any:
    """A ``ChainedTokenCredential`` for Key Vault (see the module docstring)."""
    from azure.identity import (
        AzureCliCredential,
        ChainedTokenCredential,
        EnvironmentCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )

    credentials: list[Any] = [EnvironmentCredential(**kwargs)]
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and os.environ.get("AZURE_CLIENT_ID"):
        credentials.append(WorkloadIdentityCredential(**kwargs))
    if managed_identity_available():
        client_id = os.environ.get("AZURE_CLIENT_ID")
        credentials.append(ManagedIdentityCredential(client_id=client_id, **kwargs))
    credentials.append(AzureCliCredential())
    return ChainedTokenCredential(*credentials)
