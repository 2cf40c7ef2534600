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
    assert creds.to_env()["AZURE_CLIENT_ID"] == creds.to_env()["AZURE_STORAGE_CLIENT_ID"] == CLIENT_ID


KEY = b64("k" * 64)
SAS = f"sv=2025-11-05&se={sas_time(timedelta(days=2))}&sig=abc"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def shared_key(name: str, url: str, connection_string: str, **credential: str) -> dict[str, str]:
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "AZURE_STORAGE_ACCOUNT_NAME": name,
        "AZURE_STORAGE_ACCOUNT": name,
        "AZURE_STORAGE_ACCOUNT_URL": url,
    }
    if "key" in credential:
        env |= {"AZURE_STORAGE_ACCOUNT_KEY": credential["key"], "AZURE_STORAGE_KEY": credential["key"]}
    else:
        env["AZURE_STORAGE_SAS_TOKEN"] = credential["sas"]
    return env


EXPORTS = {
    "account key, default URL": (
        {"account_name": "acct", "account_key": KEY},
        shared_key(
            "acct",
            "https://acct.blob.core.windows.net",
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};"
            "BlobEndpoint=https://acct.blob.core.windows.net",
            key=KEY,
        ),
    ),
    "account key, Azurite URL": (
        {"account_name": "acct", "account_key": KEY, "account_url": "http://127.0.0.1:1/acct"},
        shared_key(
            "acct",
            "http://127.0.0.1:1/acct",
            f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:1/acct",
            key=KEY,
        ),
    ),
    "SAS token": (
        {"account_name": "acct", "sas_token": "?" + SAS},
        shared_key(
            "acct",
            "https://acct.blob.core.windows.net",
            f"DefaultEndpointsProtocol=https;AccountName=acct;SharedAccessSignature={SAS};"
            "BlobEndpoint=https://acct.blob.core.windows.net",
            sas=SAS,
        ),
    ),
    "connection string without protocol or endpoint": (
        {"connection_string": f"accountname=acct;ACCOUNTKEY={KEY};EndpointSuffix=core.chinacloudapi.cn"},
        shared_key(
            "acct",
            "https://acct.blob.core.chinacloudapi.cn",
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};"
            "BlobEndpoint=https://acct.blob.core.chinacloudapi.cn;EndpointSuffix=core.chinacloudapi.cn",
            key=KEY,
        ),
    ),
    "SAS connection string": (
        {"connection_string": f"BlobEndpoint=http://127.0.0.1:1/acct/;SharedAccessSignature={SAS}"},
        shared_key(
            "acct",
            "http://127.0.0.1:1/acct",
            f"DefaultEndpointsProtocol=http;AccountName=acct;SharedAccessSignature={SAS};"
            "BlobEndpoint=http://127.0.0.1:1/acct",
            sas=SAS,
        ),
    ),
    "development storage": (
        {"connection_string": "UseDevelopmentStorage=true"},
        shared_key(
            "devstoreaccount1",
            "http://127.0.0.1:10000/devstoreaccount1",
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
            "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
            "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1",
            key=DEV_KEY,
        ),
    ),
    "development storage through a proxy URI": (
        {"connection_string": "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1:7"},
        shared_key(
            "devstoreaccount1",
            "http://127.0.0.1:7/devstoreaccount1",
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
            "BlobEndpoint=http://127.0.0.1:7/devstoreaccount1",
            key=DEV_KEY,
        ),
    ),
    "service principal": (
        {"account_name": "acct", "tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": "s"},
        {
            "AZURE_STORAGE_ACCOUNT_NAME": "acct",
            "AZURE_STORAGE_ACCOUNT": "acct",
            "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
            "AZURE_STORAGE_TENANT_ID": TENANT_ID,
            "AZURE_STORAGE_CLIENT_ID": CLIENT_ID,
            "AZURE_STORAGE_CLIENT_SECRET": "s",
            "AZURE_TENANT_ID": TENANT_ID,
            "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_CLIENT_SECRET": "s",
        },
    ),
    "service principal, own authority": (
        {
            "account_name": "acct",
            "tenant_id": TENANT_ID,
            "client_id": CLIENT_ID,
            "client_secret": "s",
            "account_url": "https://127.0.0.1:9/acct",
            "authority_host": "https://127.0.0.1:8443",
        },
        {
            "AZURE_STORAGE_ACCOUNT_NAME": "acct",
            "AZURE_STORAGE_ACCOUNT": "acct",
            "AZURE_STORAGE_ACCOUNT_URL": "https://127.0.0.1:9/acct",
            "AZURE_STORAGE_TENANT_ID": TENANT_ID,
            "AZURE_STORAGE_CLIENT_ID": CLIENT_ID,
            "AZURE_STORAGE_CLIENT_SECRET": "s",
            "AZURE_STORAGE_AUTHORITY_HOST": "https://127.0.0.1:8443",
            "AZURE_TENANT_ID": TENANT_ID,
            "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_CLIENT_SECRET": "s",
            "AZURE_AUTHORITY_HOST": "https://127.0.0.1:8443",
        },
    ),
    "system-assigned managed identity": (
        {"account_name": "acct"},
        {
            "AZURE_STORAGE_ACCOUNT_NAME": "acct",
            "AZURE_STORAGE_ACCOUNT": "acct",
            "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
        },
    ),
    "user-assigned managed identity": (
        {"account_name": "acct", "client_id": CLIENT_ID},
        {
            "AZURE_STORAGE_ACCOUNT_NAME": "acct",
            "AZURE_STORAGE_ACCOUNT": "acct",
            "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net",
            "AZURE_STORAGE_CLIENT_ID": CLIENT_ID,
            "AZURE_CLIENT_ID": CLIENT_ID,
        },
    ),
}


@pytest.mark.parametrize(("fields", "expected"), EXPORTS.values(), ids=EXPORTS.keys())
def test_to_env_exports_every_clients_names(fields: dict[str, str], expected: dict[str, str]) -> None:
    # Flat `azure` fields: each normalises to one concrete schema, whose exports these are.
    creds = AzureCredentials.from_secret(parse_secret("azure", fields), name="x", source="env")
    assert creds.to_env() == expected


@pytest.mark.parametrize("fields", [fields for fields, _ in EXPORTS.values()], ids=EXPORTS.keys())
def test_to_env_round_trips_through_the_implicit_chain(
    fields: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AzureCredentials.from_secret(parse_secret("azure", fields), name="x", source="env")
    if original.schema_id == "azure-managed-identity":  # the identity endpoint of the workload
        monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "header")
    for key, value in original.to_env().items():
        monkeypatch.setenv(key, value)
    implicit = resolve_credentials()  # what a child of `azcreds exec` sees without a name
    assert implicit.account_url == original.account_url
    assert implicit.account_name == original.account_name
    assert implicit.to_env() == original.to_env()
    if original.schema_id in ("azure-service-principal", "azure-managed-identity"):
        assert implicit.schema_id == original.schema_id
        fields = implicit.secret.field_values(reveal=True)
        assert fields.pop("account_url") == original.account_url
        assert fields == {
            k: v for k, v in original.secret.field_values(reveal=True).items() if k != "account_url"
        }
    else:  # key and SAS secrets come back as the connection string that carries them
        assert implicit.schema_id == "azure-connection-string"
        assert (
            implicit.storage_options()["connection_string"]
            == original.to_env()["AZURE_STORAGE_CONNECTION_STRING"]
        )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AZURE_STORAGE_ACCOUNT_NAME", "other"),
        ("AZURE_STORAGE_ACCOUNT_KEY", b64("other" * 12)),
        ("AZURE_STORAGE_ACCOUNT_URL", "https://other.blob.core.windows.net"),
        ("AZURE_STORAGE_SAS_TOKEN", "sv=2025-11-05&sig=abc"),
    ],
)
def test_implicit_chain_refuses_variables_that_disagree_with_the_connection_string(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = AzureCredentials.from_secret(
        parse_secret("azure", {"account_name": "acct", "account_key": KEY}), name="x", source="env"
    ).to_env()
    for key, exported_value in exported.items():
        monkeypatch.setenv(key, exported_value)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SchemaValidationError) as info:
        resolve_credentials()
    assert info.value.fields == (variable,)
    assert "AZURE_STORAGE_CONNECTION_STRING" in str(info.value)
    assert KEY not in str(info.value)
    assert value not in str(info.value)


def test_storage_options_for_each_kind() -> None:
    key = AzureCredentials.from_secret(
        parse_secret("azure", {"account_name": "acct", "account_key": b64("k" * 64)}), name="k", source="env"
    )
    assert key.storage_options() == {"account_name": "acct", "account_key": b64("k" * 64)}
    local = AzureCredentials.from_secret(
        parse_secret("azure", {"connection_string": "UseDevelopmentStorage=true"}), name="c", source="env"
    )
    assert local.storage_options() == {"connection_string": local.to_env()["AZURE_STORAGE_CONNECTION_STRING"]}
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
