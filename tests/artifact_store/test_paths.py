"""The path rules of the artifact store (docs/artifact_store.md, "Paths"), and the Azurite facts behind them.

Rules are checked on ``normalize_uri`` and on every store method (refused before any request,
counted with the SDK's ``raw_request_hook``); the facts that make them necessary are checked
against Azurite with the raw SDK, so an Azurite that changes them shows up here. The attack list
against a whole account is in ``test_path_attacks.py``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient, ContainerClient

from azcreds.artifact_store import (
    MAX_BLOB_NAME_LENGTH,
    MAX_PATH_SEGMENTS,
    AzureArtifactStore,
    normalize_uri,
)
from azcreds.credentials import AzureCredentials
from azcreds.errors import PathOutsideStoreError
from azcreds.testing import AzuriteServer, unique_container_name
from tests.artifact_store.helpers import STORE_CALLS, RequestCounter

pytest_plugins = ["tests.artifact_store.fixtures"]

NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")

# -------------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("az://box/.", "az://box"),
        ("az://box/./", "az://box"),
        ("az://box/x/..", "az://box"),
        ("abfs://box/.", "abfs://box"),
        ("az://box/keep/..//", "az://box"),
        ("az://box//", "az://box"),
        ("AZ://box/a/./b/../c//d/", "az://box/a/c/d"),
        ("az://box/a/", "az://box/a"),
        # Nothing is decoded: the SDK percent-encodes '%', '?' and '#' and the service stores them.
        ("az://box/a%2Fb", "az://box/a%2Fb"),
        ("az://box/%2e%2e/x", "az://box/%2e%2e/x"),
        ("az://box/..%2F..%2Fx", "az://box/..%2F..%2Fx"),
        ("az://box/%5C..%5Cx", "az://box/%5C..%5Cx"),
        ("az://box/q?sig=x#frag", "az://box/q?sig=x#frag"),
        # Look-alikes of '/' and '.' are ordinary characters, and nothing is Unicode-normalised.
        ("az://box/a\uff0f..\uff0fb", "az://box/a\uff0f..\uff0fb"),
        ("az://box/a\u2215b", "az://box/a\u2215b"),
        ("az://box/\uff0e\uff0e/x", "az://box/\uff0e\uff0e/x"),
        (f"az://box/{NFD}", f"az://box/{NFD}"),
        ("az://box/.hidden/..x/x..y", "az://box/.hidden/..x/x..y"),
        ("az://box/tab-free name \u00a0ok", "az://box/tab-free name \u00a0ok"),
    ],
)
def test_normalisation(given: str, normalised: str) -> None:
    assert normalize_uri(given) == normalised
    assert normalize_uri(normalised) == normalised  # idempotent


REFUSED = [
    # (path, words the message must contain)
    ("az://box/root/a\\..\\..\\outside.txt", "backslash"),
    ("az://box\\root", "backslash"),
    ("az://box/a\\b", "backslash"),
    ("az://box/a\x00b", "U+0000"),
    ("az://box/a\x1fb", "U+001F"),
    ("az://box/a\tb", "U+0009"),
    ("az://box/a\nb", "U+000A"),
    ("az://box/a\rb", "U+000D"),
    ("az://box/a\x7fb", "U+007F"),
    ("az://box/a\x85b", "U+0085"),
    ("az://box/a\x9bb", "U+009B"),
    ("az://box/a\ud800b", "surrogate"),
    ("az://box/a\ufffeb", "noncharacter"),
    ("az://box/a\uffffb", "noncharacter"),
    ("az://box/a\ufdd0b", "noncharacter"),
    ("az://box/a\U0001fffeb", "noncharacter"),
    ("az://box/a\U0010ffffb", "noncharacter"),
    ("az://box/.../x", "ending with '.'"),
    ("az://box/.. ./x", "ending with '.'"),
    ("az://box/ ../x", "ending with '.'"),
    ("az://box/.. /x", "only dots and spaces"),
    ("az://box/ /x", "only dots and spaces"),
    ("az://box/x./y", "ending with '.'"),
    ("az://box/x.", "ending with '.'"),
    ("az://box/..", "climbs above its container"),
    ("az://box/a/../../x", "climbs above its container"),
    ("az://box/" + "a" * (MAX_BLOB_NAME_LENGTH + 1), "1025 characters"),
    ("az://box/" + "/".join(["s"] * (MAX_PATH_SEGMENTS + 1)), "255 segments"),
    ("az://Box/x", "container name"),
    ("az://%62ox/x", "container name"),
    ("az://box?x/y", "container name"),
    ("az://box:443/y", "container name"),
    ("az://box@acct/y", "not supported"),
    ("https://acct.blob.core.windows.net/box/x?sig=SECRETSIG\\", "az://container/path"),
    ("az:\\\\box\\x", "az://container/path"),
]


@pytest.mark.parametrize(("path", "needle"), REFUSED)
def test_refused_paths_name_the_problem_without_echoing_the_character(path: str, needle: str) -> None:
    with pytest.raises(PathOutsideStoreError) as info:
        normalize_uri(path)
    message = str(info.value)
    assert needle in message
    assert isinstance(info.value, ValueError)
    assert "SECRETSIG" not in message
    assert message.isprintable()  # no control character, surrogate or noncharacter echoed


def test_the_limits_count_the_whole_blob_name_including_the_root(creds: AzureCredentials) -> None:
    assert normalize_uri("az://box/" + "a" * MAX_BLOB_NAME_LENGTH)
    assert normalize_uri("az://box/" + "/".join(["s"] * MAX_PATH_SEGMENTS))
    assert normalize_uri("az://box/" + "é" * MAX_BLOB_NAME_LENGTH)  # characters, not bytes
    store = AzureArtifactStore("az://box/root", credentials=creds)
    with pytest.raises(PathOutsideStoreError, match="1025 characters"):
        store.exists("az://box/root/" + "a" * (MAX_BLOB_NAME_LENGTH - 4))
    with pytest.raises(PathOutsideStoreError, match="255 segments"):
        store.exists("az://box/root/" + "/".join(["s"] * MAX_PATH_SEGMENTS))


# ------------------------------------------------------------------------ every method, no request


ESCAPES = [
    "{r}/a\\..\\..\\outside.txt",
    "{r}\\..\\outside.txt",
    "{r}/x\x00",
    "{r}/x\x1f",
    "{r}/.../x",
    "{c}/.",
    "{c}/x/..",
    "{c}/keep/..//",
]


@pytest.mark.parametrize("template", ESCAPES)
@pytest.mark.parametrize("call", STORE_CALLS)
def test_every_method_refuses_before_any_request(
    creds: AzureCredentials,
    counter: RequestCounter,
    container_name: str,
    template: str,
    call: Callable[[AzureArtifactStore, str], object],
) -> None:
    root = f"az://{container_name}/root"
    store = AzureArtifactStore(root, credentials=creds, client_kwargs=counter.client_kwargs())
    path = template.format(r=root, c=f"az://{container_name}")
    with pytest.raises(PathOutsideStoreError):
        call(store, path)
    assert counter.count == 0


@pytest.mark.parametrize(
    "root",
    [
        "az://box/root\\x",
        "az://box\\root",
        "az://box/a\\..\\..",
        "az://box/root\x00",
        "az://box/root.",
        "az://box/.../root",
        "az://box/..",
        "az://box/a/../..",
    ],
)
def test_store_roots_follow_the_same_rules(creds: AzureCredentials, root: str) -> None:
    with pytest.raises(PathOutsideStoreError):
        AzureArtifactStore(root, credentials=creds)


def test_store_roots_are_normalised(creds: AzureCredentials) -> None:
    assert AzureArtifactStore("az://box/a/../b/./", credentials=creds).root == "az://box/b"
    assert AzureArtifactStore("abfs://box/x/..", credentials=creds).root == "abfs://box"


def test_unicode_look_alikes_of_the_root_are_outside_it(
    creds: AzureCredentials, counter: RequestCounter, raw: ContainerClient, container_name: str
) -> None:
    store = AzureArtifactStore(
        f"az://{container_name}/{NFC}", credentials=creds, client_kwargs=counter.client_kwargs()
    )
    with pytest.raises(PathOutsideStoreError, match="Unicode normalisation"):
        store.open(f"az://{container_name}/{NFD}/x", "wb")
    assert counter.count == 0
    with store.open(f"az://{container_name}/{NFC}/{NFD}", "wb") as f:  # inside: kept as given
        f.write(b"d")
    with store.open(f"az://{container_name}/{NFC}/{NFC}", "wb") as f:
        f.write(b"c")
    assert sorted(raw.list_blob_names()) == sorted([f"{NFC}/{NFD}", f"{NFC}/{NFC}"])
    assert sorted(store.listdir(store.root)) == sorted([NFC, NFD])


# ---------------------------------------------------------------- listings hide unaddressable names


def test_listings_skip_names_no_path_can_address(store: AzureArtifactStore, raw: ContainerClient) -> None:
    for name in ("root/ok.txt", "root/dir/x", "root/trail.", "root/.../y", "root/dbl//z", "root/ /w"):
        raw.upload_blob(name, b"1")
    assert store.listdir(store.root) == ["dbl", "dir", "ok.txt"]
    assert store.listdir(store.root + "/dbl") == []
    assert list(store.walk(store.root)) == [
        (store.root, ["dbl", "dir"], ["ok.txt"]),
        (store.root + "/dbl", [], []),
        (store.root + "/dir", [], ["x"]),
    ]
    assert store.glob(store.root + "/**") == [
        store.root + "/dbl",
        store.root + "/dir",
        store.root + "/dir/x",
        store.root + "/ok.txt",
    ]
    store.rmtree(store.root)  # removes them too: they are inside the root
    assert list(raw.list_blob_names()) == []


QUERY_SIGNIFICANT = ["a&b=c", "p+q", "h#x", "q?x", "%41x", "%00", "a b", "x;y", "%2F", "%25"]


def test_names_with_query_characters_list_and_remove_exactly_themselves(
    store: AzureArtifactStore, raw: ContainerClient
) -> None:
    # Listings put the prefix in the query string; each name must list only itself.
    neighbours = ["root/a", "root/a/x", "root/ab", "root/p q/x", "root/h", "root/q", "root/Ax/y", "root/x"]
    for name in neighbours:
        raw.upload_blob(name, b"n")
    for name in QUERY_SIGNIFICANT:
        raw.upload_blob(f"root/{name}/f", name.encode())
    for name in QUERY_SIGNIFICANT:
        assert store.listdir(f"{store.root}/{name}") == ["f"], name
        assert list(store.walk(f"{store.root}/{name}")) == [(f"{store.root}/{name}", [], ["f"])], name
    for name in QUERY_SIGNIFICANT:
        store.rmtree(f"{store.root}/{name}")
    assert sorted(raw.list_blob_names()) == sorted(neighbours)


def test_rmtree_of_a_root_with_query_characters_stays_in_it(
    creds: AzureCredentials, raw: ContainerClient, container_name: str
) -> None:
    for name in ("x&y=z/in.txt", "x/outside.txt", "xyz.txt", "x&y=z2/beside.txt"):
        raw.upload_blob(name, b"1")
    store = AzureArtifactStore(f"az://{container_name}/x&y=z", credentials=creds)
    assert store.listdir(store.root) == ["in.txt"]
    store.rmtree(store.root)
    assert sorted(raw.list_blob_names()) == ["x&y=z2/beside.txt", "x/outside.txt", "xyz.txt"]


# --------------------------------------------------------------------- what Azurite really does


@pytest.fixture
def scratch(azurite: AzuriteServer) -> Iterator[ContainerClient]:
    """A container of its own, deleted afterwards (some names here break its listings)."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string, retry_total=0)
    client = service.get_container_client(unique_container_name("facts"))
    client.create_container()
    yield client
    client.delete_container()
    client.close()


def test_azurite_turns_backslashes_into_slashes(scratch: ContainerClient) -> None:
    # One segment for a client that treats '\\' as a character; stored with '..' segments, so
    # every reader that resolves them (adlfs, a download to a local path) sees ../outside.txt.
    scratch.upload_blob("root/a\\..\\..\\outside.txt", b"1")
    scratch.upload_blob("root/b\\c", b"1")
    assert sorted(scratch.list_blob_names()) == ["root/a/../../outside.txt", "root/b/c"]


def test_azurite_stores_percent_escapes_query_and_fragment_characters_literally(
    scratch: ContainerClient,
) -> None:
    names = ["root/a%2Fb", "root/%2e%2e/x", "root/q?x=1#f", f"root/{NFC}", f"root/{NFD}", "root/a\uff0fb"]
    for name in names:
        scratch.upload_blob(name, b"1")
    assert sorted(scratch.list_blob_names()) == sorted(names)


def test_azurite_resolves_dot_segments_itself_for_a_sas(
    azurite: AzuriteServer, scratch: ContainerClient
) -> None:
    from datetime import UTC, datetime, timedelta

    from azure.core.credentials import AzureSasCredential
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        azurite.account_name,
        scratch.container_name,
        account_key=azurite.account_key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    client = ContainerClient(
        azurite.blob_endpoint, scratch.container_name, credential=AzureSasCredential(sas), retry_total=0
    )
    client.upload_blob("root/a/../../escaped", b"1")  # what the store must never send
    assert list(scratch.list_blob_names()) == ["escaped"]


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\ufffe", "\uffff"])
def test_azurite_stores_some_control_characters_and_then_cannot_list(
    scratch: ContainerClient, char: str
) -> None:
    scratch.upload_blob(f"root/a{char}b", b"1")
    with pytest.raises(HttpResponseError) as info:
        list(scratch.list_blob_names())
    assert info.value.status_code == 500
