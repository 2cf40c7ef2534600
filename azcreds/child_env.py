"""The environment of a process started with one secret: the parent's, minus every other credential.

``azcreds exec NAME -- COMMAND`` gives COMMAND the credentials of ``NAME`` and nothing that
carries, unlocks or selects another one, so the child authenticates as exactly that secret:

- removed: every ``AZCREDS_*`` variable except the non-secret settings in
  :data:`KEPT_AZCREDS_SETTINGS` (so the keyring passphrase, a keyring session and every
  ``AZCREDS_<NAME>__<FIELD>`` secret are gone); every ``AZURE_STORAGE_*`` variable; the variables
  azure-identity and @azure/identity read to pick or configure an identity
  (:data:`IDENTITY_VARIABLES`); and the managed identity endpoint variables
  (:data:`MANAGED_IDENTITY_VARIABLES`) — unless the secret *is* a managed identity, which is
  reached through them (and, under AKS workload identity, through :data:`WORKLOAD_IDENTITY_VARIABLES`);
- kept: everything else (``PATH``, ``HOME``, proxies, CA bundles, ``AZURE_SUBSCRIPTION_ID`` ...);
- added: the secret's exports (:meth:`AzureCredentials.to_env`), which win over anything kept.

``clean=True`` (``--clean-env``) keeps only :data:`CLEAN_ENV_VARIABLES` (and ``LC_*``) instead of
everything else. Names are compared case-insensitively, as azcreds' settings and Windows read them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = [
    "CLEAN_ENV_VARIABLES",
    "IDENTITY_VARIABLES",
    "KEPT_AZCREDS_SETTINGS",
    "MANAGED_IDENTITY_VARIABLES",
    "WORKLOAD_IDENTITY_VARIABLES",
    "child_environment",
    "other_credential_variables",
    "without_azcreds_secrets",
]

KEPT_AZCREDS_SETTINGS = frozenset(
    {
        "AZCREDS_KEYVAULT_URL",
        "AZCREDS_KEYRING_PATH",
        "AZCREDS_KEYRING_LOCK_TIMEOUT",
        "AZCREDS_CACHE_TTL",
        "AZCREDS_CACHE_MAX_STALE",
        "AZCREDS_MANAGED_IDENTITY",
        "AZCREDS_DEVELOPER_IDENTITY",
        "AZCREDS_DEVELOPER_TIMEOUT",
        "AZCREDS_EXPIRY_WARNING",
        "AZCREDS_DEBUG",
    }
)
"""The ``AZCREDS_*`` variables a child inherits: settings that neither carry nor unlock a secret.

Every other ``AZCREDS_*`` name is removed, including ones azcreds does not know yet: a new setting
reaches children only once it is listed here.
"""

WORKLOAD_IDENTITY_VARIABLES = frozenset(
    {
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_AUTHORITY_HOST",
        "AZURE_KUBERNETES_TOKEN_PROXY",
        "AZURE_KUBERNETES_SNI_NAME",
        "AZURE_KUBERNETES_CA_FILE",
        "AZURE_KUBERNETES_CA_DATA",
    }
)
"""AKS workload identity: with ``AZURE_FEDERATED_TOKEN_FILE`` set, ``ManagedIdentityCredential``
exchanges that token file for the identity these name."""

IDENTITY_VARIABLES = WORKLOAD_IDENTITY_VARIABLES | {
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_TOKEN_CREDENTIALS",
    "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
    "AZURE_REGIONAL_AUTHORITY_NAME",
}
"""What azure-identity's and @azure/identity's environment, workload identity and default
credentials read to choose and configure an identity."""

MANAGED_IDENTITY_VARIABLES = frozenset(
    {
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    }
)
"""Where the workload's managed identity endpoint is (App Service, Functions, Arc, Cloud Shell,
pod identity): a child given a managed identity secret needs them, any other child does not."""

CLEAN_ENV_VARIABLES = frozenset(
    {
        # POSIX basics
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TERM",
        "TMPDIR",
        "TZ",
        # TLS trust: not credentials, and without them nothing reaches a TLS-intercepted network
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        # what a Windows process needs to start and find its folders
        "SYSTEMROOT",
        "COMSPEC",
        "PATHEXT",
        "TEMP",
        "TMP",
        "USERPROFILE",
    }
)
"""What ``--clean-env`` keeps of the parent's environment (plus every ``LC_*``). Proxies are not
in it: a proxy URL may carry a password."""


def _is_managed_identity(credentials: AzureCredentials) -> bool:
    return credentials.schema_id == "azure-managed-identity"


def _identity_kept(environ: Mapping[str, str], credentials: AzureCredentials) -> frozenset[str]:
    """The identity variables a managed identity child keeps (none for other secrets)."""
    if not _is_managed_identity(credentials):
        return frozenset()
    upper = {k.upper() for k, v in environ.items() if v}
    if "AZURE_FEDERATED_TOKEN_FILE" in upper:
        return MANAGED_IDENTITY_VARIABLES | WORKLOAD_IDENTITY_VARIABLES
    return MANAGED_IDENTITY_VARIABLES


def _other_credential(name: str, kept: frozenset[str]) -> bool:
    upper = name.upper()
    if upper in kept:
        return False
    return (
        upper.startswith("AZURE_STORAGE_")
        or upper in IDENTITY_VARIABLES
        or upper in MANAGED_IDENTITY_VARIABLES
    )


def other_credential_variables(
    credentials: AzureCredentials, environ: Mapping[str, str] | None = None
) -> list[str]:
    """The names in ``environ`` that carry or select a credential other than ``credentials``.

    ``AZURE_STORAGE_*``, the identity variables and (unless ``credentials`` is a managed
    identity) the managed identity endpoint; not ``AZCREDS_*``. ``azcreds env`` prints ``unset``
    lines for those it does not export.
    """
    environ = os.environ if environ is None else environ
    kept = _identity_kept(environ, credentials)
    return [name for name in environ if _other_credential(name, kept)]


def child_environment(
    credentials: AzureCredentials, environ: Mapping[str, str] | None = None, *, clean: bool = False
) -> dict[str, str]:
    """The environment for a child process that should have exactly ``credentials`` (secret values).

    ``environ`` defaults to ``os.environ``. See the module docstring for the rule.
    """
    environ = os.environ if environ is None else environ
    identity = _identity_kept(environ, credentials)
    child: dict[str, str] = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper.startswith("AZCREDS_"):
            keep = upper in KEPT_AZCREDS_SETTINGS and not clean
        elif upper in identity:
            keep = True
        elif clean:
            keep = upper in CLEAN_ENV_VARIABLES or upper.startswith("LC_")
        else:
            keep = not _other_credential(name, identity)
        if keep:
            child[name] = value
    return child | credentials.to_env()


def without_azcreds_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the ``AZCREDS_*`` variables a child must not inherit (``azcreds run``).

    Only the settings in :data:`KEPT_AZCREDS_SETTINGS` stay: the keyring passphrase, a keyring
    session and every ``AZCREDS_<NAME>__<FIELD>`` secret are removed; everything else is kept (a
    child started by ``run`` gets the credentials its references resolved to, not just one).
    """
    return {
        name: value
        for name, value in environ.items()
        if not name.upper().startswith("AZCREDS_") or name.upper() in KEPT_AZCREDS_SETTINGS
    }
