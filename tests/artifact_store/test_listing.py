"""The store's listings (``azcreds.artifact_store.listing``) against the SDK's own, on Azurite.

The store reads ``List Blobs`` replies with ElementTree instead of the SDK's deserializer; these
tests hold it to the SDK: the same entries, fields and pages, the same errors, the same requests.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    ContentSettings,
    generate_container_sas,
)

from azcreds.artifact_store import AzureArtifactStore
from azcreds.artifact_store.listing import fast_entries, list_entries, sdk_entries
from azcreds.credentials import AzureCredentials
from azcreds.schemas import parse_secret
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import RequestCounter

pytest_plugins = ["tests.artifact_store.fixtures"]

NAMES = [
    "root/a.txt",
    "root/b c.bin",
    "root/ünï cödé/名前.csv",
    "root/deep/x/y/z.json",
    "root/deep/x/w.txt",
    "root/empty.dat",
    "top.txt",
]


@pytest.fixture
def tree(raw: ContainerClient) -> ContainerClient:
    """Files of several sizes and content types, metadata, a folder marker, unicode and spaces."""
    for i, name in enumerate(NAMES):
        raw.upload_blob(
            name,
            os.urandom(i * 7),
            content_settings=ContentSettings(content_type=f"application/x-test-{i}"),
            metadata={"index": str(i)},
        )
    raw.upload_blob("root/marked", b"", metadata={"hdi_isfolder": "true"})
    return raw


@pytest.mark.parametrize("prefix", ["", "root/", "root/deep/", "root/deep/x/", "nothing/"])
@pytest.mark.parametrize("delimiter", ["/", None])
def test_fast_listing_equals_the_sdks(tree: ContainerClient, prefix: str, delimiter: str | None) -> None:
    fast = list(fast_entries(tree, prefix, delimiter=delimiter))
    sdk = sdk_entries(tree, prefix, delimiter=delimiter)
    assert fast == sdk
    if prefix == "root/" and delimiter:
        by_name = {e.name: e for e in fast}
        assert by_name["root/deep/"].is_prefix
        assert by_name["root/b c.bin"].size == 7
        assert by_name["root/b c.bin"].content_type == "application/x-test-1"
        assert by_name["root/b c.bin"].metadata == {"index": "1"}
        assert by_name["root/marked"].metadata == {"hdi_isfolder": "true"}
        modified = by_name["root/a.txt"].last_modified
        assert modified is not None
        assert abs(datetime.now(UTC) - modified) < timedelta(minutes=5)
        head = tree.get_blob_client("root/a.txt").get_blob_properties()
        assert by_name["root/a.txt"].etag == head.etag.strip('"')  # listings carry it unquoted, HEAD quoted


@pytest.mark.parametrize("delimiter", ["/", None])
def test_pages_follow_the_continuation_marker(
    azurite: AzuriteServer, tree: ContainerClient, delimiter: str | None
) -> None:
    """Three entries a page: every entry once, as the SDK pages them, one request per page."""
    counter = RequestCounter()
    client = BlobServiceClient.from_connection_string(
        azurite.connection_string, **counter.client_kwargs()
    ).get_container_client(tree.container_name)
    fast = list_entries(client, "root/", delimiter=delimiter, page_size=3)
    assert fast == sdk_entries(tree, "root/", delimiter=delimiter, page_size=3)
    one_page = sdk_entries(tree, "root/", delimiter=delimiter)
    assert sorted(e.name for e in fast) == sorted(e.name for e in one_page)
    assert len(fast) >= 6
    assert len(counter.requests) == -(-len(fast) // 3)
    assert all(method == "GET" and "comp=list" in url for method, url in counter.requests)


def test_a_sas_credential_lists_through_the_fast_path_and_never_logs_it(
    azurite: AzuriteServer, tree: ContainerClient, container_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    sas = generate_container_sas(
        azurite.account_name,
        container_name,
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(days=2),
    )
    secret = parse_secret(
        "azure-sas-token",
        {"account_name": azurite.account_name, "sas_token": sas, "account_url": azurite.blob_endpoint},
    )
    creds = AzureCredentials.from_secret(secret, name="listing-sas", source="env")  # as azcreds hands it out
    client = creds.blob_service_client(logging_enable=True).get_container_client(container_name)
    with caplog.at_level(logging.DEBUG):
        assert list(fast_entries(client, "root/", delimiter="/")) == sdk_entries(tree, "root/", delimiter="/")
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    assert caplog.records, "DEBUG logging of the SDK pipeline was expected to say something"
    for record in caplog.records:
        assert signature not in record.getMessage()


def test_a_missing_container_raises_the_sdks_error(azurite: AzuriteServer) -> None:
    client = ContainerClient.from_connection_string(azurite.connection_string, "no-such-container-here")
    with pytest.raises(ResourceNotFoundError) as info:
        list_entries(client, "", delimiter="/")
    assert info.value.error_code == "ContainerNotFound"


def test_store_listings_and_stats_agree(
    tree: ContainerClient, container_name: str, creds: AzureCredentials
) -> None:
    store = AzureArtifactStore(f"az://{container_name}/root", credentials=creds)
    root = store.root
    assert store.listdir(root) == sorted(["a.txt", "b c.bin", "ünï cödé", "deep", "empty.dat", "marked"])
    listed = {e.name: e for e in store.scandir(root)}
    assert listed["b c.bin"] == store.stat(f"{root}/b c.bin")  # listing and HEAD tell the same story
    assert listed["b c.bin"].etag is not None
    assert listed["b c.bin"].etag.startswith('"')  # as in HTTP: usable in If-Match as it is
    assert listed["marked"].is_dir
    assert store.glob(f"{root}/**/*.json") == [f"{root}/deep/x/y/z.json"]
    assert list(store.walk(f"{root}/deep")) == [
        (f"{root}/deep", ["x"], []),
        (f"{root}/deep/x", ["y"], ["w.txt"]),
        (f"{root}/deep/x/y", [], ["z.json"]),
    ]


def test_encoded_names_are_decoded() -> None:
    """The service percent-encodes names XML cannot carry and says so with Encoded="true"."""
    from azcreds.artifact_store.listing import _parse_page

    body = (
        b'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>'
        b'<Blob><Name Encoded="true">a%01b</Name><Properties><Content-Length>3</Content-Length>'
        b"<Last-Modified>Sat, 28 Nov 2026 03:50:31 GMT</Last-Modified><Etag>0x1</Etag></Properties></Blob>"
        b'<BlobPrefix><Name Encoded="false">d%20/</Name></BlobPrefix>'
        b"</Blobs><NextMarker>next-page</NextMarker></EnumerationResults>"
    )
    marker, entries = _parse_page(body)
    blob, prefix = list(entries)
    assert marker == "next-page"
    assert blob.name == "a\x01b"
    assert blob.size == 3
    assert blob.last_modified == datetime(2026, 11, 28, 3, 50, 31, tzinfo=UTC)
    assert (prefix.name, prefix.is_prefix) == ("d%20/", True)
