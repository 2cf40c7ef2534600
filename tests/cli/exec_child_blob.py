"""A child of ``azcreds exec``: build Blob clients only from the documented exported variables.

``python exec_child_blob.py CONTAINER MODE...`` round-trips one blob per mode and prints
``ok MODE``. Modes: ``connection-string`` (``AZURE_STORAGE_CONNECTION_STRING``), ``shared-key``
(account name + key + URL), ``sas`` (URL + SAS token), ``environment`` (azure-identity's
``EnvironmentCredential``), ``managed-identity`` (``ManagedIdentityCredential``, user-assigned
through ``AZURE_CLIENT_ID``) and ``implicit`` (azcreds' ``resolve_credentials()`` with no name,
whose ``to_env()`` must equal what this process was given). The test CA is trusted through
``REQUESTS_CA_BUNDLE`` as the child inherits it. Only loopback may be reached.
"""

from __future__ import annotations

import os
import sys

from azcreds.testing import network_guard

network_guard.install()

from azure.storage.blob import BlobServiceClient  # noqa: E402


def client(mode: str) -> BlobServiceClient:
    env = os.environ
    url = env["AZURE_STORAGE_ACCOUNT_URL"]
    if mode == "connection-string":
        return BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"], retry_total=0)
    if mode == "shared-key":
        from azure.core.credentials import AzureNamedKeyCredential

        # The az CLI's names carry the same values.
        assert env["AZURE_STORAGE_ACCOUNT"] == env["AZURE_STORAGE_ACCOUNT_NAME"]
        assert env["AZURE_STORAGE_KEY"] == env["AZURE_STORAGE_ACCOUNT_KEY"]
        key = AzureNamedKeyCredential(env["AZURE_STORAGE_ACCOUNT_NAME"], env["AZURE_STORAGE_ACCOUNT_KEY"])
        return BlobServiceClient(url, credential=key, retry_total=0)
    if mode == "sas":
        from azure.core.credentials import AzureSasCredential

        return BlobServiceClient(
            url, credential=AzureSasCredential(env["AZURE_STORAGE_SAS_TOKEN"]), retry_total=0
        )
    if mode == "environment":
        from azure.identity import EnvironmentCredential

        # AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST; no variable
        # turns MSAL instance discovery off for a private authority.
        credential = EnvironmentCredential(disable_instance_discovery=True)
        return BlobServiceClient(url, credential=credential, retry_total=0)
    if mode == "managed-identity":
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=env.get("AZURE_CLIENT_ID"))
        return BlobServiceClient(url, credential=credential, retry_total=0)
    if mode == "implicit":
        from azcreds import resolve_credentials

        creds = resolve_credentials()
        exported = creds.to_env()
        differing = sorted(k for k, v in exported.items() if env.get(k) != v)
        assert not differing, f"the implicit chain does not see the exports: {differing}"
        return creds.blob_service_client(retry_total=0)
    raise SystemExit(f"unknown mode {mode!r}")


def main(container: str, modes: list[str]) -> int:
    for mode in modes:
        service = client(mode)
        blob = service.get_blob_client(container, f"python/{mode}.txt")
        payload = f"written by a python child in mode {mode}".encode()
        blob.upload_blob(payload, overwrite=True)
        assert blob.download_blob().readall() == payload
        print("ok", mode, flush=True)
    blocked = network_guard.blocked_attempts()
    if blocked:
        print("non-loopback attempts:", *(a.describe() for a in blocked), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
