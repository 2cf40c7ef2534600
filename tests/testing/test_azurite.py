"""AzuriteServer against the real SDK: shared key over http, bearer tokens over HTTPS, lifecycle."""

from __future__ import annotations

import os
import socket
import stat
import time
from typing import TYPE_CHECKING, Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.storage.blob import BlobServiceClient

from azcreds.testing import (
    AZURITE_BIN_ENV,
    DEV_ACCOUNT_KEY,
    DEV_ACCOUNT_NAME,
    STORAGE_AUDIENCE,
    AzuriteNotFoundError,
    AzuriteServer,
    AzuriteStartError,
    StaticTokenCredential,
    find_azurite_blob,
    generate_account_key,
    mint_token,
    unique_container_name,
)
from azcreds.testing import azurite as azurite_module

if TYPE_CHECKING:
    from pathlib import Path

    from azcreds.testing import TestCertificates


def round_trip(service: BlobServiceClient, container_name: str) -> None:
    """Create a container, upload, download, list, delete: every call must succeed."""
    container = service.create_container(container_name)
    try:
        container.upload_blob("dir/hello.txt", b"hello azurite")
        assert container.download_blob("dir/hello.txt").readall() == b"hello azurite"
        assert [blob.name for blob in container.list_blobs()] == ["dir/hello.txt"]
        assert container_name in [c.name for c in service.list_containers()]
    finally:
        container.delete_container()


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- http, shared key ---------------------------------------------------------------------------


def test_endpoints_describe_the_running_server(azurite: AzuriteServer) -> None:
    assert azurite.is_running
    assert (azurite.host, azurite.scheme, azurite.ca_path) == ("127.0.0.1", "http", None)
    assert (azurite.account_name, azurite.account_key) == (DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
    assert azurite.blob_endpoint == f"http://127.0.0.1:{azurite.port}/devstoreaccount1"
    assert azurite.connection_string == (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{azurite.port}/devstoreaccount1;"
    )


def test_http_round_trip_with_connection_string(azurite: AzuriteServer, container_name: str) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    round_trip(service, container_name)


def test_wrong_account_key_is_refused_with_403(azurite: AzuriteServer, container_name: str) -> None:
    wrong = azurite.connection_string_for(account_key=generate_account_key())
    service = BlobServiceClient.from_connection_string(wrong, retry_total=0)
    with pytest.raises(HttpResponseError) as refused:
        service.create_container(container_name)
    assert refused.value.status_code == 403


# -- HTTPS, bearer tokens -----------------------------------------------------------------------


def https_client(server: AzuriteServer, credential: Any, **kwargs: Any) -> BlobServiceClient:
    return BlobServiceClient(
        server.blob_endpoint,
        credential=credential,
        connection_verify=str(server.ca_path),
        **kwargs,
    )


def test_https_round_trip_with_bearer_token(azurite_https: AzuriteServer, container_name: str) -> None:
    assert azurite_https.blob_endpoint == f"https://127.0.0.1:{azurite_https.port}/devstoreaccount1"
    credential = StaticTokenCredential(mint_token())
    round_trip(https_client(azurite_https, credential), container_name)
    assert credential.call_count >= 1
    assert set(credential.scopes) == {(f"{STORAGE_AUDIENCE}/.default",)}


def test_account_audience_is_accepted(azurite_https: AzuriteServer, container_name: str) -> None:
    token = mint_token(f"https://{azurite_https.account_name}.blob.core.windows.net")
    service = https_client(azurite_https, StaticTokenCredential(token))
    service.create_container(container_name).delete_container()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: mint_token("https://vault.azure.net"), id="wrong-audience"),
        pytest.param(lambda: mint_token(lifetime=-600), id="expired"),
        pytest.param(lambda: mint_token(extra_claims={"nbf": int(time.time()) + 600}), id="not-yet-valid"),
        pytest.param(lambda: mint_token(extra_claims={"iss": "https://issuer.invalid/"}), id="wrong-issuer"),
    ],
)
def test_bad_tokens_are_refused(azurite_https: AzuriteServer, container_name: str, token: Any) -> None:
    # expires_on in the future so the SDK sends the token and Azurite has to judge it.
    credential = StaticTokenCredential(token(), expires_on=int(time.time()) + 3600)
    service = https_client(azurite_https, credential, retry_total=0)
    with pytest.raises(HttpResponseError) as refused:
        service.create_container(container_name)
    assert refused.value.status_code in (401, 403)


def test_shared_key_works_on_the_https_instance(azurite_https: AzuriteServer, container_name: str) -> None:
    assert azurite_https.connection_string.startswith("DefaultEndpointsProtocol=https;")
    service = BlobServiceClient.from_connection_string(
        azurite_https.connection_string, connection_verify=str(azurite_https.ca_path)
    )
    round_trip(service, container_name)


def test_https_without_the_test_ca_fails_verification(
    azurite_https: AzuriteServer, container_name: str
) -> None:
    service = BlobServiceClient.from_connection_string(azurite_https.connection_string, retry_total=0)
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        service.create_container(container_name)


# -- lifecycle ----------------------------------------------------------------------------------


def test_custom_accounts_replace_the_dev_account_and_stop_kills_the_process(
    container_name: str,
) -> None:
    key, secondary = generate_account_key(), generate_account_key()
    with AzuriteServer(accounts={"azcredstest": (key, secondary), "other": key}) as server:
        pid = server.pid
        assert (server.account_name, server.account_key) == ("azcredstest", key)
        assert server.accounts == {"azcredstest": key, "other": key}
        for account_key in (key, secondary):
            connection_string = server.connection_string_for(account_key=account_key)
            service = BlobServiceClient.from_connection_string(connection_string)
            round_trip(service, unique_container_name("acct"))
        dev = server.connection_string_for(DEV_ACCOUNT_NAME, DEV_ACCOUNT_KEY)
        service = BlobServiceClient.from_connection_string(dev, retry_total=0)
        with pytest.raises(HttpResponseError):
            service.create_container(container_name)
        port = server.port
    assert not server.is_running
    assert process_gone(pid)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    server.stop()  # a second stop is harmless
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_location_keeps_data_across_restarts(tmp_path: Path, container_name: str) -> None:
    workspace = tmp_path / "azurite-data"
    with AzuriteServer(location=workspace) as server:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        service.create_container(container_name).upload_blob("kept.txt", b"still here")
    assert any(workspace.iterdir())
    with AzuriteServer(location=workspace) as server:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        blob = service.get_blob_client(container_name, "kept.txt")
        assert blob.download_blob().readall() == b"still here"


def test_a_port_taken_meanwhile_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()  # accepts TCP but is not Azurite: readiness must not be fooled
        ports = iter([squatter.getsockname()[1]])
        real_free_port = azurite_module._free_port
        monkeypatch.setattr(azurite_module, "_free_port", lambda: next(ports, None) or real_free_port())
        with AzuriteServer() as server:
            assert server.port != squatter.getsockname()[1]
            BlobServiceClient.from_connection_string(server.connection_string).get_account_information()


def test_missing_binary_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(AzuriteNotFoundError, match="npm ci"):
        find_azurite_blob(search_from=[tmp_path])
    monkeypatch.setenv(AZURITE_BIN_ENV, str(tmp_path / "no-such-azurite"))
    with pytest.raises(AzuriteNotFoundError, match=f"{AZURITE_BIN_ENV}.*npm ci"):
        AzuriteServer().start()


def test_binary_is_found_from_the_package_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_azurite_blob().name.startswith("azurite-blob")


def test_early_exit_reports_the_log_tail(tmp_path: Path) -> None:
    fake = tmp_path / "azurite-blob"
    fake.write_text("#!/bin/sh\necho 'fake azurite: bad flag' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(AzuriteStartError, match=r"(?s)exited with code 3.*fake azurite: bad flag"):
        AzuriteServer(binary=fake).start()


def test_oauth_needs_https() -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        AzuriteServer(oauth=True)


def test_https_server_serves_the_test_certificate(
    azurite_https: AzuriteServer, test_certificates: TestCertificates
) -> None:
    assert azurite_https.ca_path == test_certificates.ca_path
    assert azurite_https.oauth


@pytest.mark.parametrize("prefix", ["t", "abc", "a-b-c", "x" * 30, "0day"])
def test_unique_container_names_are_valid_and_unique(prefix: str) -> None:
    names = {unique_container_name(prefix) for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert 3 <= len(name) <= 63
        assert name == name.lower()
        assert "--" not in name
        assert name[0].isalnum()
        assert name[-1].isalnum()
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


@pytest.mark.parametrize("prefix", ["", "-a", "a-", "a--b", "Abc", "a_b", "x" * 31])
def test_invalid_container_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        unique_container_name(prefix)
