"""AzureCredentials: the credential objects, and real round trips on Azurite from env secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
)

from azcreds import AzureCredentials, SchemaValidationError, parse_secret, resolve_credentials
from azcreds.testing import AzuriteServer
from tests.helpers import CLIENT_ID, TENANT_ID, b64, sas_time


def account_sas(azurite: AzuriteServer, *, write: bool = True, expiry: timedelta = timedelta(days=2)) -> str:
    return generate_account_sas(
        azurite.account_name,
        azurite.account_key,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, list=True, write=write, create=write, add=write),
        expiry=datetime.now(UTC) + expiry,
    )


def round_trip(creds: AzureCredentials, container: str, payload: bytes = b"hello azcreds") -> bytes:
    service = creds.blob_service_client(retry_total=0)
    service.create_container(container)
    blob = service.get_blob_client(container, "dir/artifact.bin")
    blob.upload_blob(payload)
    return blob.download_blob().readall()


def test_connection_string_secret_round_trip(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__CONNECTION_STRING", azurite.connection_string)
    creds = resolve_credentials("az_secret")
    assert creds.schema_id == "azure-connection-string"
    assert isinstance(creds.credential, AzureNamedKeyCredential)
    assert creds.account_url == azurite.blob_endpoint
    assert round_trip(creds, container_name) == b"hello azcreds"


def test_account_key_secret_round_trip(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_KEY", azurite.account_key)
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_URL", azurite.blob_endpoint)
    creds = resolve_credentials("az_secret")
    assert creds.schema_id == "azure-account-key"
    assert round_trip(creds, container_name, b"\x00" * 10_000) == b"\x00" * 10_000


def test_sas_secret_round_trip(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_AZ_SECRET__SAS_TOKEN", "?" + account_sas(azurite))
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_URL", azurite.blob_endpoint)
    creds = resolve_credentials("az_secret")
    assert creds.schema_id == "azure-sas-token"
    assert isinstance(creds.credential, AzureSasCredential)
    assert round_trip(creds, container_name) == b"hello azcreds"


def test_sas_connection_string_round_trip(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={account_sas(azurite)}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", value)
    creds = resolve_credentials()  # the implicit chain of the seed
    assert isinstance(creds.credential, AzureSasCredential)
    assert round_trip(creds, container_name) == b"hello azcreds"


def test_implicit_account_key_variables(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", azurite.account_key)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite.blob_endpoint)
    assert round_trip(resolve_credentials(), container_name) == b"hello azcreds"


def test_wrong_key_is_rejected_by_azurite(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_KEY", b64("not the real key" * 4))
    monkeypatch.setenv("AZCREDS_AZ_SECRET__ACCOUNT_URL", azurite.blob_endpoint)
    creds = resolve_credentials("az_secret")
    with pytest.raises(HttpResponseError) as info:
        creds.blob_service_client(retry_total=0).create_container(container_name)
    assert info.value.status_code == 403


def test_read_only_sas_cannot_write(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container_name)
    monkeypatch.setenv("AZCREDS_RO__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_RO__SAS_TOKEN", account_sas(azurite, write=False))
    monkeypatch.setenv("AZCREDS_RO__ACCOUNT_URL", azurite.blob_endpoint)
    service = resolve_credentials("ro").blob_service_client(retry_total=0)
    assert [c.name for c in service.list_containers(name_starts_with=container_name)] == [container_name]
    with pytest.raises(HttpResponseError) as info:
        service.get_blob_client(container_name, "x").upload_blob(b"nope")
    assert info.value.status_code == 403


def test_expired_sas_is_refused_at_resolve_time(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = generate_account_sas(
        azurite.account_name,
        azurite.account_key,
        resource_types=ResourceTypes(container=True, object=True),
        permission=AccountSasPermissions(read=True),
        expiry=datetime.now(UTC) - timedelta(minutes=5),
    )
    monkeypatch.setenv("AZCREDS_OLD__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_OLD__SAS_TOKEN", token)
    with pytest.raises(SchemaValidationError, match="AZCREDS_OLD__SAS_TOKEN: has expired"):
        resolve_credentials("old")


def test_credential_is_built_once_and_shared() -> None:
    creds = AzureCredentials.from_secret(
        parse_secret(
            "azure-service-principal",
            {"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": "s"},
        ),
        name="sp",
        source="env",
    )
    from azure.identity import ClientSecretCredential

    assert isinstance(creds.credential, ClientSecretCredential)
    assert creds.credential is creds.credential


def test_managed_identity_credential_object() -> None:
    from azure.identity import ManagedIdentityCredential

    secret = parse_secret("azure-managed-identity", {"account_name": "acct", "client_id": CLIENT_ID})
    creds = AzureCredentials.from_secret(secret, name="mi", source="env")
    assert isinstance(creds.credential, ManagedIdentityCredential)
    assert creds.to_env() == {"AZURE_STORAGE_ACCOUNT_NAME": "acct", "AZURE_STORAGE_CLIENT_ID": CLIENT_ID}


@pytest.mark.parametrize(
    "fields",
    [
        {"connection_string": "UseDevelopmentStorage=true"},
        {"account_name": "acct", "account_key": b64("k" * 64)},
        {"account_name": "acct", "account_key": b64("k" * 64), "account_url": "http://127.0.0.1:1/acct"},
        {"account_name": "acct", "sas_token": f"sv=2025-11-05&se={sas_time(timedelta(days=2))}&sig=abc"},
        {
            "account_name": "acct",
            "sas_token": "sv=2025-11-05&sig=abc",
            "account_url": "http://127.0.0.1:1/acct",
        },
        {"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": "s"},
        {
            "account_name": "acct",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": "s",
            "account_url": "https://127.0.0.1:9/acct",
            "authority_host": "https://127.0.0.1:8443",
        },
    ],
)
def test_to_env_round_trips_through_the_implicit_chain(
    fields: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AzureCredentials.from_secret(parse_secret("azure", fields), name="x", source="env")
    for key, value in original.to_env().items():
        assert key.startswith("AZURE_STORAGE_")
        monkeypatch.setenv(key, value)
    implicit = resolve_credentials()
    assert implicit.account_url == original.account_url
    assert implicit.account_name == original.account_name
    assert (
        implicit.secret.field_values(reveal=True).items()
        >= {
            k: v for k, v in original.secret.field_values(reveal=True).items() if k != "connection_string"
        }.items()
        or implicit.schema_id == "azure-connection-string"
    )


def test_storage_options_for_each_kind() -> None:
    key = AzureCredentials.from_secret(
        parse_secret("azure", {"account_name": "acct", "account_key": b64("k" * 64)}), name="k", source="env"
    )
    assert key.storage_options() == {"account_name": "acct", "account_key": b64("k" * 64)}
    local = AzureCredentials.from_secret(
        parse_secret("azure", {"connection_string": "UseDevelopmentStorage=true"}), name="c", source="env"
    )
    assert local.storage_options() == {"connection_string": "UseDevelopmentStorage=true"}
    sp = AzureCredentials.from_secret(
        parse_secret(
            "azure",
            {"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": "s"},
        ),
        name="sp",
        source="env",
    )
    assert set(sp.storage_options()) == {"account_name", "tenant_id", "client_id", "client_secret"}


def test_adlfs_reads_with_storage_options(
    azurite: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_AZ_SECRET__CONNECTION_STRING", azurite.connection_string)
    creds = resolve_credentials("az_secret")
    round_trip(creds, container_name, b"a,b\n1,2\n")
    import adlfs

    fs = adlfs.AzureBlobFileSystem(**creds.storage_options(), skip_instance_cache=True)
    assert fs.cat_file(f"{container_name}/dir/artifact.bin") == b"a,b\n1,2\n"
