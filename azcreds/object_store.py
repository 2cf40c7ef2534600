"""``object_store_options``: credentials as object_store (polars, delta-rs, obstore) reads them.

The keys are object_store's ``AzureConfigKey`` names (``azure_storage_account_name``,
``azure_storage_account_key``, ``azure_storage_sas_key``, ``azure_storage_client_id`` /
``_client_secret`` / ``_tenant_id`` / ``_authority_host``, ``azure_federated_token_file``,
``azure_msi_endpoint``, ``azure_storage_endpoint``) and its client option ``allow_http``; values
are strings, as ``storage_options=`` of polars and delta-rs take them.

An account URL other than the public ``https://{account}.blob.core.windows.net`` becomes
``azure_storage_endpoint`` (object_store's ``azure_storage_use_emulator`` assumes port 10000, so
an Azurite on another port needs the endpoint), and an ``http`` one adds ``allow_http``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from azcreds.schemas._concrete import default_account_url, is_public_authority

if TYPE_CHECKING:
    from azcreds.credentials import AzureCredentials

__all__ = ["object_store_options"]


def _endpoint(account_name: str, account_url: str) -> dict[str, str]:
    options: dict[str, str] = {"azure_storage_account_name": account_name}
    url = account_url.rstrip("/")
    if url != default_account_url(account_name):
        options["azure_storage_endpoint"] = url
    if url.lower().startswith("http://"):
        options["allow_http"] = "true"
    return options


def object_store_options(credentials: AzureCredentials) -> dict[str, str]:
    """The object_store options of ``credentials`` (values are secret)."""
    schema_id = credentials.schema_id
    fields = credentials.secret.field_values(reveal=True)
    options = _endpoint(credentials.account_name, credentials.account_url)
    if schema_id == "azure-connection-string":
        from azcreds.connection_string import parse_connection_string

        parsed = parse_connection_string(fields["connection_string"])
        if parsed.account_key is not None:
            options["azure_storage_account_key"] = parsed.account_key
        else:
            assert parsed.sas_token is not None
            options["azure_storage_sas_key"] = parsed.sas_token.lstrip("?")
    elif schema_id == "azure-account-key":
        options["azure_storage_account_key"] = fields["account_key"]
    elif schema_id == "azure-sas-token":
        options["azure_storage_sas_key"] = fields["sas_token"].lstrip("?")
    elif schema_id == "azure-service-principal":
        options["azure_storage_tenant_id"] = fields["tenant_id"]
        options["azure_storage_client_id"] = fields["client_id"]
        options["azure_storage_client_secret"] = fields["client_secret"]
        authority = fields.get("authority_host")
        if authority and not is_public_authority(authority):
            options["azure_storage_authority_host"] = authority
    elif schema_id == "azure-managed-identity":
        options.update(_managed_identity(fields.get("client_id")))
    else:
        raise TypeError(
            f"{credentials} ({schema_id}) has no object_store equivalent: scope it first "
            "(creds.scoped(container).object_store_options()) or pass a token credential to the library"
        )
    return options


def _managed_identity(client_id: str | None) -> dict[str, str]:
    """Workload identity (a federated token file) or the managed identity endpoint of this host."""
    options: dict[str, str] = {}
    token_file = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
    if client_id:
        options["azure_storage_client_id"] = client_id
    if token_file:  # AKS workload identity: object_store exchanges the file at the authority
        options["azure_federated_token_file"] = token_file
        for variable, key in (
            ("AZURE_TENANT_ID", "azure_storage_tenant_id"),
            ("AZURE_AUTHORITY_HOST", "azure_storage_authority_host"),
        ):
            if os.environ.get(variable):
                options[key] = os.environ[variable]
        if not client_id and os.environ.get("AZURE_CLIENT_ID"):
            options["azure_storage_client_id"] = os.environ["AZURE_CLIENT_ID"]
        return options
    # Where azure-identity would ask: App Service / Functions, else an IMDS at another host (pod
    # identity); without either, object_store asks the real IMDS at 169.254.169.254 itself.
    endpoint = os.environ.get("IDENTITY_ENDPOINT") or os.environ.get("MSI_ENDPOINT")
    pod_identity = os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
    if endpoint:
        options["azure_msi_endpoint"] = endpoint
    elif pod_identity:
        options["azure_msi_endpoint"] = pod_identity.rstrip("/") + "/metadata/identity/oauth2/token"
    return options
