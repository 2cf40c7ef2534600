"""object_store_options(): real polars (object_store, in Rust) reading and writing az:// on Azurite.

Key, SAS (registered and scoped) and service principal credentials. polars opens its own sockets
from Rust, which the Python network guard does not see: every endpoint and authority given to it
here is on 127.0.0.1. The service principal case runs in a child process whose ``SSL_CERT_FILE``
is the test CA (object_store's rustls reads it) and whose token requests the local Entra authority
counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from azcreds import AzureCredentials, resolve_credentials
from azcreds.testing import AzuriteServer, EntraAuthority, ManagedIdentityEndpoint, unique_container_name
from tests.helpers import CLIENT_ID, TENANT_ID, b64

CSV = b"a,b\n1,2\n3,4\n"
FRAME = pl.DataFrame({"a": [1, 3], "b": [2, 4]})


@pytest.fixture
def container(azurite: AzuriteServer) -> str:
    name = unique_container_name()
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(name)
    service.get_blob_client(name, "in/x.csv").upload_blob(CSV)
    return name


def set_env(monkeypatch: pytest.MonkeyPatch, name: str, **fields: str) -> AzureCredentials:
    for field, value in fields.items():
        monkeypatch.setenv(f"AZCREDS_{name.upper()}__{field.upper()}", value)
    return resolve_credentials(name)


def test_option_names_per_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    key = b64("object-store-key-" + "k" * 47)
    creds = set_env(monkeypatch, "ak", account_name="acct", account_key=key)
    assert creds.object_store_options() == {
        "azure_storage_account_name": "acct",
        "azure_storage_account_key": key,
    }
    sp = set_env(
        monkeypatch,
        "sp",
        account_name="acct",
        tenant_id=TENANT_ID,
        client_id=CLIENT_ID,
        client_secret="s3cr3t-value",
        authority_host="https://login.example.test",
    )
    assert sp.object_store_options() == {
        "azure_storage_account_name": "acct",
        "azure_storage_tenant_id": TENANT_ID,
        "azure_storage_client_id": CLIENT_ID,
        "azure_storage_client_secret": "s3cr3t-value",
        "azure_storage_authority_host": "https://login.example.test",
    }
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token")
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT_ID)
    mi = set_env(monkeypatch, "mi", schema="azure-managed-identity", account_name="acct", client_id=CLIENT_ID)
    assert mi.object_store_options() == {
        "azure_storage_account_name": "acct",
        "azure_storage_client_id": CLIENT_ID,
        "azure_federated_token_file": "/var/run/secrets/azure/tokens/azure-identity-token",
        "azure_storage_tenant_id": TENANT_ID,
    }


def test_polars_reads_and_writes_with_a_connection_string(
    azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = set_env(monkeypatch, "cs", connection_string=azurite.connection_string)
    options = creds.object_store_options()
    assert options["azure_storage_endpoint"] == azurite.blob_endpoint
    assert options["allow_http"] == "true"
    assert pl.read_csv(f"az://{container}/in/x.csv", storage_options=options).equals(FRAME)
    FRAME.write_parquet(f"az://{container}/out/x.parquet", storage_options=options)
    raw = BlobServiceClient.from_connection_string(azurite.connection_string)
    written = raw.get_blob_client(container, "out/x.parquet").download_blob().readall()
    assert written[:4] == b"PAR1"


def test_polars_with_an_account_key_secret(
    azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = set_env(
        monkeypatch,
        "ak",
        account_name=azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.blob_endpoint,
    )
    frame = pl.scan_csv(f"az://{container}/in/*.csv", storage_options=creds.object_store_options()).collect()
    assert frame.equals(FRAME)


def test_polars_with_a_registered_sas(
    azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = generate_container_sas(
        azurite.account_name,
        container,
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(days=2),
    )
    creds = set_env(
        monkeypatch,
        "sas",
        account_name=azurite.account_name,
        sas_token=token,
        account_url=azurite.blob_endpoint,
    )
    options = creds.object_store_options()
    assert options["azure_storage_sas_key"] == token
    assert pl.read_csv(f"az://{container}/in/x.csv", storage_options=options).equals(FRAME)


def test_polars_with_a_scoped_read_only_sas_cannot_write(
    azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = set_env(monkeypatch, "key", connection_string=azurite.connection_string)
    scoped = creds.scoped(container, permissions="rl", ttl="10m")
    options = scoped.object_store_options()
    assert azurite.account_key not in options.values()
    assert pl.scan_csv(f"az://{container}/in/*.csv", storage_options=options).collect().equals(FRAME)
    with pytest.raises(PermissionError, match="403"):  # Azurite refused polars' PUT
        FRAME.write_csv(f"az://{container}/out/y.csv", storage_options=options)
    other = unique_container_name()
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(other)
    with pytest.raises(Exception, match="403"):
        pl.read_csv(f"az://{other}/in/x.csv", storage_options=options)


SP_CHILD = """
import json, sys
import polars as pl
options = json.loads(sys.stdin.read())
frame = pl.read_csv(sys.argv[1], storage_options=options)
print(frame.to_dicts())
"""


def test_polars_with_a_service_principal_through_the_local_authority(
    azurite_https: AzuriteServer, entra_authority: EntraAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_https.ca_path))
    app = entra_authority.app
    creds = set_env(
        monkeypatch,
        "sp",
        account_name=azurite_https.account_name,
        account_url=azurite_https.blob_endpoint,
        tenant_id=entra_authority.tenant_id,
        client_id=app.client_id,
        client_secret=app.client_secret,
        authority_host=entra_authority.authority,
    )
    container = unique_container_name()
    service = creds.blob_service_client(retry_total=0)
    service.create_container(container)
    service.get_blob_client(container, "in/x.csv").upload_blob(CSV)
    options = creds.object_store_options()
    assert options["azure_storage_authority_host"] == entra_authority.authority
    before = entra_authority.token_count()
    env = {**os.environ, "SSL_CERT_FILE": str(azurite_https.ca_path)}
    done = subprocess.run(
        [sys.executable, "-c", SP_CHILD, f"az://{container}/in/x.csv"],
        input=json.dumps(options),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[{'a': 1, 'b': 2}, {'a': 3, 'b': 4}]"
    assert entra_authority.token_count() == before + 1  # object_store's own client-credentials request


MI_CHILD = """
import json, sys
import polars as pl
print(pl.read_csv(sys.argv[1], storage_options=json.loads(sys.stdin.read())).to_dicts())
"""


def test_polars_with_a_managed_identity_through_an_imds_style_endpoint(
    azurite_https: AzuriteServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IMDS style (``AZURE_POD_IDENTITY_AUTHORITY_HOST``). The App Service style is not tested with
    object_store: it reads ``expires_on`` as a string, as App Service sends it, and the local
    endpoint answers the integer azure-identity is tested with."""
    import json

    for key, value in managed_identity_endpoint.imds_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_https.ca_path))
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_https.blob_endpoint)
    creds = resolve_credentials()
    assert creds.schema_id == "azure-managed-identity"
    container = unique_container_name()
    service = creds.blob_service_client(retry_total=0)
    service.create_container(container)
    service.get_blob_client(container, "in/x.csv").upload_blob(CSV)
    options = creds.object_store_options()
    assert options["azure_msi_endpoint"] == (
        managed_identity_endpoint.imds_authority + "/metadata/identity/oauth2/token"
    )
    before = managed_identity_endpoint.token_count("imds")
    done = subprocess.run(
        [sys.executable, "-c", MI_CHILD, f"az://{container}/in/x.csv"],
        input=json.dumps(options),
        capture_output=True,
        text=True,
        env={**os.environ, "SSL_CERT_FILE": str(azurite_https.ca_path)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[{'a': 1, 'b': 2}, {'a': 3, 'b': 4}]"
    assert managed_identity_endpoint.token_count("imds") == before + 1  # object_store's own request
