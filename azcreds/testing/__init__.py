"""azcreds' test harness, for azcreds' own tests and for users' tests of code that uses azcreds.

- :mod:`~azcreds.testing.network_guard`: refuse every non-loopback connection and DNS lookup
  (``network_guard.install()``/``uninstall()``, or ``with loopback_only():``).
- :mod:`~azcreds.testing.azurite`: run Azurite's Blob service on 127.0.0.1.
- :mod:`~azcreds.testing.tls`: a throwaway CA and loopback server certificate.
- :mod:`~azcreds.testing.tokens`: JWTs Azurite's ``--oauth basic`` accepts, and a static credential.
- :mod:`~azcreds.testing.keyvault_server`: a Key Vault secrets data plane over HTTPS.
- :mod:`~azcreds.testing.identity_servers`: a managed identity endpoint (App Service and IMDS
  style) and an Entra-style authority for service principals.
- :mod:`~azcreds.testing.developer_tools`: stand-in ``az`` and ``azd`` executables that answer
  azure-identity's developer credentials as the real tools do.
- :mod:`~azcreds.testing.storage_proxy`: a proxy in front of Azurite that refuses as Azure does
  what Azurite lets through (shared-key access turned off, missing Storage Blob Data roles).
- :mod:`~azcreds.testing.node`: run Node.js scripts (the JavaScript Azure SDKs) under the same
  loopback-only guard; :mod:`~azcreds.testing.guarded_python` does it for Python scripts run as
  child processes (``python -m azcreds.testing.guarded_python SCRIPT``).
- :mod:`~azcreds.testing.dask_guard`: the same guard in ``dask.distributed`` worker and nanny
  processes (``LocalCluster(..., **dask_guard.PRELOADS)``).
- :mod:`~azcreds.testing.pytest_plugin`: all of the above as pytest fixtures
  (``-p azcreds.testing.pytest_plugin``).

Importing this package is cheap: the Azure SDK, PyJWT and trustme are imported only when used.
"""

from azcreds.testing import network_guard
from azcreds.testing._local_http import Fault, FaultInjector, RecordedRequest
from azcreds.testing.azurite import (
    AZURITE_BIN_ENV,
    DEV_ACCOUNT_KEY,
    DEV_ACCOUNT_NAME,
    USER_DELEGATION_AZURITE,
    AzuriteNotFoundError,
    AzuriteServer,
    AzuriteStartError,
    find_azurite_blob,
    find_azurite_package_blob,
    generate_account_key,
    unique_container_name,
)
from azcreds.testing.developer_tools import DeveloperToolMode, DeveloperTools
from azcreds.testing.identity_servers import (
    AssignedIdentity,
    EntraAuthority,
    ManagedIdentityEndpoint,
    RegisteredApp,
    audience_for,
)
from azcreds.testing.keyvault_server import KEYVAULT_AUDIENCE, KeyVaultServer
from azcreds.testing.network_guard import (
    BlockedAttempt,
    NonLoopbackConnectionError,
    blocked_attempts,
    clear_blocked_attempts,
    is_allowed_host,
    loopback_only,
)
from azcreds.testing.storage_proxy import BLOB_ROLES, RoleAssignment, StorageProxy
from azcreds.testing.tls import LOOPBACK_NAMES, TestCertificates, make_test_certificates
from azcreds.testing.tokens import (
    STORAGE_AUDIENCE,
    TEST_APP_ID,
    TEST_OBJECT_ID,
    TEST_TENANT_ID,
    StaticTokenCredential,
    mint_token,
)

__all__ = [
    "AZURITE_BIN_ENV",
    "BLOB_ROLES",
    "DEV_ACCOUNT_KEY",
    "DEV_ACCOUNT_NAME",
    "KEYVAULT_AUDIENCE",
    "LOOPBACK_NAMES",
    "STORAGE_AUDIENCE",
    "TEST_APP_ID",
    "TEST_OBJECT_ID",
    "TEST_TENANT_ID",
    "USER_DELEGATION_AZURITE",
    "AssignedIdentity",
    "AzuriteNotFoundError",
    "AzuriteServer",
    "AzuriteStartError",
    "BlockedAttempt",
    "DeveloperToolMode",
    "DeveloperTools",
    "EntraAuthority",
    "Fault",
    "FaultInjector",
    "KeyVaultServer",
    "ManagedIdentityEndpoint",
    "NonLoopbackConnectionError",
    "RecordedRequest",
    "RegisteredApp",
    "RoleAssignment",
    "StaticTokenCredential",
    "StorageProxy",
    "TestCertificates",
    "audience_for",
    "blocked_attempts",
    "clear_blocked_attempts",
    "find_azurite_blob",
    "find_azurite_package_blob",
    "generate_account_key",
    "is_allowed_host",
    "loopback_only",
    "make_test_certificates",
    "mint_token",
    "network_guard",
    "unique_container_name",
]
