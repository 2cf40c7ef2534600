"""StorageProxy with the real Blob SDK: forwards faithfully, and refuses as Azure does."""

from __future__ import annotations

import pytest
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient

from azcreds.testing import StaticTokenCredential, StorageProxy, mint_token
from tests.doctor.helpers import container_sas


def client(proxy: StorageProxy, credential: object) -> BlobServiceClient:
    return BlobServiceClient(
        proxy.account_url(), credential=credential, connection_verify=proxy.ca_path, retry_total=0
    )


@pytest.fixture
def key_client(storage_proxy: StorageProxy) -> BlobServiceClient:
    upstream = storage_proxy.upstream
    return client(storage_proxy, AzureNamedKeyCredential(upstream.account_name, upstream.account_key))


def test_requests_pass_through_unchanged(key_client: BlobServiceClient, container_name: str) -> None:
    container = key_client.create_container(container_name)
    container.upload_blob("dir/a b+c%.txt", b"hello")
    blob = container.get_blob_client("dir/a b+c%.txt")
    assert blob.get_blob_properties().size == 5  # HEAD keeps its Content-Length
    assert blob.download_blob().readall() == b"hello"
    assert [b.name for b in container.list_blobs()] == ["dir/a b+c%.txt"]


def test_shared_key_access_off_refuses_keys_and_key_signed_sas_as_azure_does(
    storage_proxy: StorageProxy, key_client: BlobServiceClient, container_name: str
) -> None:
    key_client.create_container(container_name)
    sas = container_sas(storage_proxy.upstream, container_name, "rl")
    storage_proxy.shared_key_access = False
    for credential_client in (key_client, client(storage_proxy, AzureSasCredential(sas))):
        with pytest.raises(HttpResponseError) as caught:
            list(credential_client.get_container_client(container_name).list_blobs())
        error = caught.value
        assert error.status_code == 403
        assert error.error_code == "KeyBasedAuthenticationNotPermitted"
        assert error.response.headers["x-ms-error-code"] == "KeyBasedAuthenticationNotPermitted"
        assert error.response.headers["Content-Type"] == "application/xml"
        assert "Key based authentication is not permitted on this storage account." in error.message
    tokens = client(storage_proxy, StaticTokenCredential(mint_token()))
    assert list(tokens.get_container_client(container_name).list_blobs()) == []  # tokens still pass


def test_rbac_refuses_data_operations_without_a_data_role(
    storage_proxy: StorageProxy, key_client: BlobServiceClient, container_name: str
) -> None:
    key_client.create_container(container_name)
    key_client.get_container_client(container_name).upload_blob("a.txt", b"x")
    storage_proxy.rbac = True
    tokens = client(storage_proxy, StaticTokenCredential(mint_token()))
    container = tokens.get_container_client(container_name)
    with pytest.raises(HttpResponseError) as caught:
        container.get_container_properties()
    assert caught.value.error_code == "AuthorizationPermissionMismatch"  # no role at all
    from azcreds.testing import TEST_OBJECT_ID

    storage_proxy.assign_role(TEST_OBJECT_ID, "Contributor")
    container.get_container_properties()  # control plane: allowed
    with pytest.raises(HttpResponseError) as caught:
        list(container.list_blobs())
    assert caught.value.error_code == "AuthorizationPermissionMismatch"
    assert "not authorized to perform this operation using this permission" in caught.value.message
    storage_proxy.assign_role(TEST_OBJECT_ID, "Storage Blob Data Reader", container=container_name)
    assert [b.name for b in container.list_blobs()] == ["a.txt"]
    with pytest.raises(HttpResponseError) as caught:
        container.upload_blob("b.txt", b"y")
    assert caught.value.error_code == "AuthorizationPermissionMismatch"
    assert (
        key_client.get_container_client(container_name).get_blob_client("a.txt").exists()
    )  # keys unaffected
    storage_proxy.remove_roles(TEST_OBJECT_ID)
    with pytest.raises(HttpResponseError):
        container.get_container_properties()
    decisions = {r.details["decision"] for r in storage_proxy.requests}
    assert {"forwarded", "AuthorizationPermissionMismatch"} <= decisions


def test_an_unknown_role_is_refused(storage_proxy: StorageProxy) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        storage_proxy.assign_role("x", "Storage Blob Data Writer")


def test_clock_offset_shifts_the_date_header(
    storage_proxy: StorageProxy, key_client: BlobServiceClient
) -> None:
    from email.utils import parsedate_to_datetime

    seen: list[str] = []
    hook = lambda response: seen.append(response.http_response.headers["Date"])  # noqa: E731
    key_client.get_account_information(raw_response_hook=hook)
    storage_proxy.clock_offset = 3600
    key_client.get_account_information(raw_response_hook=hook)
    shift = parsedate_to_datetime(seen[1]) - parsedate_to_datetime(seen[0])
    assert 3590 <= shift.total_seconds() <= 3660


def test_faults_answer_with_the_services_error_body(
    storage_proxy: StorageProxy, key_client: BlobServiceClient
) -> None:
    storage_proxy.faults.add(status=503, times=1)
    with pytest.raises(HttpResponseError) as caught:
        key_client.get_account_information()
    assert caught.value.status_code == 503
    assert caught.value.error_code == "ServerBusy"
