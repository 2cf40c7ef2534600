"""azcreds: typed, leak-proof Azure Storage credentials.

Public names are imported lazily (PEP 562), so ``import azcreds`` costs almost nothing and no
Azure SDK, pydantic or cryptography import happens until a name that needs it is used.
"""

from __future__ import annotations

import importlib

# Not `from typing import ...`: importing typing costs more than the rest of `import azcreds`.
TYPE_CHECKING = False

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "resolve_credentials": "azcreds.resolve",
    "explain_resolution": "azcreds.resolve",
    "clear_cache": "azcreds.resolve",
    "default_chain": "azcreds.resolve",
    "AzureCredentials": "azcreds.credentials",
    "AzureArtifactStore": "azcreds.artifact_store",
    "ArtifactStat": "azcreds.artifact_store",
    "Resolution": "azcreds.resolvers.chain",
    "ResolverChain": "azcreds.resolvers.chain",
    "Resolver": "azcreds.resolvers.base",
    "EnvResolver": "azcreds.resolvers.env",
    "KeyringStore": "azcreds.resolvers.keyring",
    "SecretInfo": "azcreds.resolvers.keyring",
    "KeyVaultStore": "azcreds.resolvers.keyvault",
    "SecretVersion": "azcreds.resolvers.keyvault_versions",
    "ManagedIdentityResolver": "azcreds.resolvers.managed_identity",
    "DeveloperIdentityResolver": "azcreds.resolvers.developer",
    "DeveloperCredential": "azcreds.developer",
    "DeveloperIdentitySecret": "azcreds.schemas",
    "DeveloperIdentityError": "azcreds.errors",
    "InactiveSecretError": "azcreds.errors",
    "SecretDisabledError": "azcreds.errors",
    "SecretExpiredError": "azcreds.errors",
    "SecretNotYetValidError": "azcreds.errors",
    "AzcredsSettings": "azcreds.settings",
    "SecretSchema": "azcreds.schemas",
    "ConnectionStringSecret": "azcreds.schemas",
    "AccountKeySecret": "azcreds.schemas",
    "SasTokenSecret": "azcreds.schemas",
    "ServicePrincipalSecret": "azcreds.schemas",
    "ManagedIdentitySecret": "azcreds.schemas",
    "AzureSecret": "azcreds.schemas",
    "get_schema": "azcreds.schemas",
    "list_schemas": "azcreds.schemas",
    "parse_secret": "azcreds.schemas",
    "register_schema": "azcreds.schemas",
    "validate_secret_name": "azcreds.names",
    "parse_reference": "azcreds.references",
    "resolve_reference": "azcreds.reference_values",
    "InvalidReferenceError": "azcreds.errors",
    "Attempt": "azcreds.errors",
    "AzcredsError": "azcreds.errors",
    "AzcredsWarning": "azcreds.errors",
    "ExpiringCredentialWarning": "azcreds.errors",
    "StaleCredentialWarning": "azcreds.errors",
    "CorruptedSecretWarning": "azcreds.errors",
    "SchemaValidationError": "azcreds.errors",
    "ScopeError": "azcreds.errors",
    "InvalidSecretNameError": "azcreds.errors",
    "SecretNotFoundError": "azcreds.errors",
    "SecretExistsError": "azcreds.errors",
    "ResolverUnavailableError": "azcreds.errors",
    "ResolverFailedError": "azcreds.errors",
    "PermissionDeniedError": "azcreds.errors",
    "StoreLockedError": "azcreds.errors",
    "StoreCorruptedError": "azcreds.errors",
    "StorePathError": "azcreds.errors",
    "StoreBusyError": "azcreds.errors",
    "SettingsError": "azcreds.errors",
    "ServiceError": "azcreds.errors",
    "ArtifactStoreError": "azcreds.errors",
    "ArtifactNotFoundError": "azcreds.errors",
    "ArtifactExistsError": "azcreds.errors",
    "PathOutsideStoreError": "azcreds.errors",
}

__all__ = [
    "AccountKeySecret",
    "ArtifactExistsError",
    "ArtifactNotFoundError",
    "ArtifactStat",
    "ArtifactStoreError",
    "Attempt",
    "AzcredsError",
    "AzcredsSettings",
    "AzcredsWarning",
    "AzureArtifactStore",
    "AzureCredentials",
    "AzureSecret",
    "ConnectionStringSecret",
    "CorruptedSecretWarning",
    "DeveloperCredential",
    "DeveloperIdentityError",
    "DeveloperIdentityResolver",
    "DeveloperIdentitySecret",
    "EnvResolver",
    "ExpiringCredentialWarning",
    "InactiveSecretError",
    "InvalidReferenceError",
    "InvalidSecretNameError",
    "KeyVaultStore",
    "KeyringStore",
    "ManagedIdentityResolver",
    "ManagedIdentitySecret",
    "PathOutsideStoreError",
    "PermissionDeniedError",
    "Resolution",
    "Resolver",
    "ResolverChain",
    "ResolverFailedError",
    "ResolverUnavailableError",
    "SasTokenSecret",
    "SchemaValidationError",
    "ScopeError",
    "SecretDisabledError",
    "SecretExistsError",
    "SecretExpiredError",
    "SecretInfo",
    "SecretNotFoundError",
    "SecretNotYetValidError",
    "SecretSchema",
    "SecretVersion",
    "ServiceError",
    "ServicePrincipalSecret",
    "SettingsError",
    "StaleCredentialWarning",
    "StoreBusyError",
    "StoreCorruptedError",
    "StoreLockedError",
    "StorePathError",
    "__version__",
    "clear_cache",
    "default_chain",
    "explain_resolution",
    "get_schema",
    "list_schemas",
    "parse_reference",
    "parse_secret",
    "register_schema",
    "resolve_credentials",
    "resolve_reference",
    "validate_secret_name",
]

if TYPE_CHECKING:
    from typing import Any

    from azcreds.artifact_store import ArtifactStat, AzureArtifactStore
    from azcreds.credentials import AzureCredentials
    from azcreds.developer import DeveloperCredential
    from azcreds.errors import (
        ArtifactExistsError,
        ArtifactNotFoundError,
        ArtifactStoreError,
        Attempt,
        AzcredsError,
        AzcredsWarning,
        CorruptedSecretWarning,
        DeveloperIdentityError,
        ExpiringCredentialWarning,
        InactiveSecretError,
        InvalidReferenceError,
        InvalidSecretNameError,
        PathOutsideStoreError,
        PermissionDeniedError,
        ResolverFailedError,
        ResolverUnavailableError,
        SchemaValidationError,
        ScopeError,
        SecretDisabledError,
        SecretExistsError,
        SecretExpiredError,
        SecretNotFoundError,
        SecretNotYetValidError,
        ServiceError,
        SettingsError,
        StaleCredentialWarning,
        StoreBusyError,
        StoreCorruptedError,
        StoreLockedError,
        StorePathError,
    )
    from azcreds.names import validate_secret_name
    from azcreds.reference_values import resolve_reference
    from azcreds.references import parse_reference
    from azcreds.resolve import clear_cache, default_chain, explain_resolution, resolve_credentials
    from azcreds.resolvers.base import Resolver
    from azcreds.resolvers.chain import Resolution, ResolverChain
    from azcreds.resolvers.developer import DeveloperIdentityResolver
    from azcreds.resolvers.env import EnvResolver
    from azcreds.resolvers.keyring import KeyringStore, SecretInfo
    from azcreds.resolvers.keyvault import KeyVaultStore
    from azcreds.resolvers.keyvault_versions import SecretVersion
    from azcreds.resolvers.managed_identity import ManagedIdentityResolver
    from azcreds.schemas import (
        AccountKeySecret,
        AzureSecret,
        ConnectionStringSecret,
        DeveloperIdentitySecret,
        ManagedIdentitySecret,
        SasTokenSecret,
        SecretSchema,
        ServicePrincipalSecret,
        get_schema,
        list_schemas,
        parse_secret,
        register_schema,
    )
    from azcreds.settings import AzcredsSettings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'azcreds' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
