"""Path attacks on the artifact store and ``azcreds store``, with key and SAS credentials, on one account.

Each attack path is either refused before any request or kept inside the store root
``az://victim/root``. "Before any request" is observed twice, for real: the SDK's
``raw_request_hook`` on the store's client, and Azurite's own access log (a line per request it
served) between two marker requests. After the attacks the whole account is listed with the raw
SDK (every container, every blob): every blob that was there is still there, unchanged, and every
new blob is in ``victim`` under ``root/`` with a name no reader could resolve elsewhere.

A SAS matters here: Azurite resolves ``..`` in a request path itself when the signature does not
cover the path (test_paths.py shows it), so an unnormalised name escapes with a SAS where a key's
signature check would have refused it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import AccountSasPermissions, BlobServiceClient, ResourceTypes, generate_account_sas

from azcreds.artifact_store import FOLDER_MARKER_METADATA, AzureArtifactStore
from azcreds.credentials import AzureCredentials
from azcreds.errors import AzcredsError, PathOutsideStoreError
from azcreds.schemas import parse_secret
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import RequestCounter, StoreCli, account_key_credentials

VICTIM, OTHER = "victim", "other"
ROOT = f"az://{VICTIM}/root"
SEEDS = {
    VICTIM: [
        "outside.txt",
        "rootx/sibling.txt",
        "Root/x",
        "keep/k.txt",
        "a/b.txt",
        "root/keep/inside.txt",
        "root/keep/deeper/two.txt",
        "root/scratch/seed",
    ],
    OTHER: ["root/x.txt", "secret.txt"],
}

CONTAINER_ROOT = [  # everything that normalises to the container itself (issue 10, item 1)
    "az://victim",
    "az://victim/",
    "az://victim//",
    "az://victim/.",
    "az://victim/./",
    "az://victim/x/..",
    "abfs://victim/.",
    "abfs://victim/./",
    "az://victim/keep/..//",
    "az://victim/a/b/../..",
    "ABFS://victim/root/..",
]
OUT_OF_ROOT = [  # '..' out of the prefix (into the container), siblings, look-alikes, other containers
    "{r}/..",
    "{r}/../",
    "{r}/../outside.txt",
    "{r}/a/../../outside.txt",
    "{r}/./../outside.txt",
    "{r}//..//outside.txt",
    "{r}/a/b/../../../outside.txt",
    "{r}/*/../../outside.txt",
    "{r}/x?/../../outside.txt",
    "{r}/x#/../../outside.txt",
    "abfs://victim/root/../keep/k.txt",
    "az://victim/rootx/sibling.txt",
    "az://victim/rootx",
    "az://victim/Root/x",
    "az://victim/ROOT/x",
    "az://victim/keep/k.txt",
    "az://other/root/x.txt",
    "az://other/x",
    "abfs://other/root",
]
OUT_OF_CONTAINER = [  # '..' above the container itself
    "{r}/../../outside.txt",
    "{r}/../../other/secret.txt",
    "{r}/a/../../../other/root/x.txt",
    "az://victim/../other/secret.txt",
]
BAD_CHARACTERS = [
    # backslashes (issue 10, item 2): refused wherever they are
    "{r}/a\\..\\..\\outside.txt",
    "{r}\\..\\outside.txt",
    "{r}/..\\outside.txt",
    "{r}/\\..\\..\\outside.txt",
    "{r}/a\\b",
    "{r}\\x",
    "az://victim\\root\\x",
    "az://victim/x\\..",
    "abfs://victim/root/a\\..\\..\\outside.txt",
    # control characters, surrogates, noncharacters
    "{r}/x\x00",
    "{r}/\x00/../..",
    "{r}/a\x1fb",
    "{r}/a\x01",
    "{r}/a\tb",
    "{r}/a\nb",
    "{r}/a\rb",
    "{r}/a\x7fb",
    "{r}/a\x85b",
    "{r}/a\x9bb",
    "{r}/a\ufffeb",
    "{r}/a\uffffb",
    "{r}/a\ufdd0b",
    "{r}/a\U0010ffffb",
    "{r}/a\ud800b",
]
BAD_SEGMENTS = [  # segments a canonicalising server could shorten to '..', and overlong names
    "{r}/.../outside.txt",
    "{r}/.. ./outside.txt",
    "{r}/ ../outside.txt",
    "{r}/.. /outside.txt",
    "{r}/a./b",
    "{r}/x.",
    "{r}/x..",
    "{r}/ /x",
    "{r}/" + "a" * 1020,  # the root counts: 1,025 characters
    "{r}/" + "/".join(["s"] * 254),  # 255 segments
]
NOT_A_CONTAINER_URI = [
    "https://devstoreaccount1.blob.core.windows.net/victim/root/x?sig=SECRETSIG",
    "http://127.0.0.1:10000/devstoreaccount1/victim/root/x",
    "victim/root/x",
    "/victim/root/x",
    "az:/victim/root/x",
    "az:\\\\victim\\root\\x",
    "file:///etc/passwd",
    "az://victim@devstoreaccount1/root/x",
    "az://victim:10000/root/x",
    "az://../victim/root/x",
    "az://%76ictim/root/x",
    "az://VICTIM/root/x",
    "az://victim?x/root",
    "az://victim#/root",
    "",
]
REFUSED = [
    *CONTAINER_ROOT,
    *OUT_OF_ROOT,
    *OUT_OF_CONTAINER,
    *BAD_CHARACTERS,
    *BAD_SEGMENTS,
    *NOT_A_CONTAINER_URI,
]
"""Refused by the store rooted at ``az://victim/root``, before any request."""

CLI_REFUSED = [*CONTAINER_ROOT, *OUT_OF_CONTAINER, *BAD_CHARACTERS, *BAD_SEGMENTS, *NOT_A_CONTAINER_URI]
"""Refused by ``azcreds store``, whose store root is the container of the URI (so OUT_OF_ROOT is not)."""

# Accepted paths and the blob name (in ``victim``) each must land on; "root" is the store root.
ACCEPTED: list[tuple[str, str]] = [
    ("{r}/.", "root"),
    ("{r}/", "root"),
    ("{r}/x/..", "root"),
    ("{r}//.//", "root"),
    ("{r}/a/./b/../c", "root/a/c"),
    ("{r}//a//b//", "root/a/b"),
    ("{r}/a/b/..", "root/a"),
    ("abfs://victim/root/ok", "root/ok"),
    ("AZ://victim/root/up", "root/up"),
    ("{r}/a/%2e%2e/%2e%2e/outside.txt", "root/a/%2e%2e/%2e%2e/outside.txt"),
    ("{r}/%2e%2e/outside.txt", "root/%2e%2e/outside.txt"),
    ("{r}/..%2Foutside.txt", "root/..%2Foutside.txt"),
    ("{r}/%2F..%2F..%2Foutside.txt", "root/%2F..%2F..%2Foutside.txt"),
    ("{r}/%5C..%5C..%5Coutside.txt", "root/%5C..%5C..%5Coutside.txt"),
    ("{r}/%00", "root/%00"),
    ("{r}/q?sig=SECRETSIG", "root/q?sig=SECRETSIG"),
    ("{r}/frag#x", "root/frag#x"),
    ("{r}/\uff0e\uff0e/x", "root/\uff0e\uff0e/x"),
    ("{r}/\u2025/x", "root/\u2025/x"),
    ("{r}/a\u2215..\u2215..\u2215outside.txt", "root/a\u2215..\u2215..\u2215outside.txt"),
    ("{r}/a\uff0f..\uff0foutside.txt", "root/a\uff0f..\uff0foutside.txt"),
    ("{r}/" + "a" * 1019, "root/" + "a" * 1019),
    ("{r}/.x", "root/.x"),
    ("{r}/..x", "root/..x"),
    ("{r}/cafe\u0301", "root/cafe\u0301"),
    ("{r}/caf\u00e9", "root/caf\u00e9"),
    ("{r}/\u202eevil", "root/\u202eevil"),
    ("{r}/sp ace/ tab", "root/sp ace/ tab"),
    # query-string characters: a listing must ask for this prefix, not "root/k" (the seeds)
    ("{r}/k&x=y", "root/k&x=y"),
    ("{r}/k#x", "root/k#x"),
    ("{r}/k+x", "root/k+x"),
    ("{r}/%6beep", "root/%6beep"),
]


def expand(template: str) -> str:
    return template.replace("{r}", ROOT)


def test_the_attack_list_is_long_enough_and_its_expectations_stay_in_the_root() -> None:
    assert len(REFUSED) + len(ACCEPTED) >= 80
    for _, key in ACCEPTED:
        assert key == "root" or key.startswith("root/")
        assert not key.startswith(("root/keep", "root/scratch"))  # the seeds inside must survive


# --------------------------------------------------------------------------------------- setup


@pytest.fixture(scope="module")
def account() -> Iterator[AzuriteServer]:
    """An Azurite of this module alone: "the whole account" is exactly what these tests made."""
    with AzuriteServer() as server:
        yield server


def account_sas(server: AzuriteServer) -> str:
    """Every permission on every container: a refusal below is the store's, not the SAS's."""
    return generate_account_sas(
        server.account_name,
        server.account_key,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
        expiry=datetime.now(UTC) + timedelta(days=2),  # no "expires within 24 hours" warning
    )


def credentials_for(kind: str, server: AzuriteServer) -> AzureCredentials:
    if kind == "key":
        return account_key_credentials(server)
    fields = {"account_name": server.account_name, "sas_token": account_sas(server)}
    fields["account_url"] = server.blob_endpoint
    return AzureCredentials.from_secret(parse_secret("azure-sas-token", fields), name=None, source="env")


def connection_string_for(kind: str, server: AzuriteServer) -> str:
    if kind == "key":
        return server.connection_string
    return f"BlobEndpoint={server.blob_endpoint};SharedAccessSignature={account_sas(server)}"


@pytest.fixture
def raw(account: AzuriteServer) -> Iterator[BlobServiceClient]:
    """The raw SDK on the account: seeds the containers (fresh for each test) and lists them after."""
    service = BlobServiceClient.from_connection_string(account.connection_string, retry_total=0)
    for container in service.list_containers():
        service.delete_container(container.name)
    for container, names in SEEDS.items():
        client = service.create_container(container)
        for name in names:
            client.upload_blob(name, f"seed {container}/{name}".encode())
    yield service
    service.close()


def snapshot(service: BlobServiceClient) -> dict[tuple[str, str], str]:
    """Every blob of the account: (container, name) → etag."""
    found: dict[tuple[str, str], str] = {}
    for container in service.list_containers():
        client = service.get_container_client(container.name)
        for blob in client.list_blobs():
            found[(container.name, blob.name)] = blob.etag
    return found


def assert_account_is_intact(service: BlobServiceClient, seeded: dict[tuple[str, str], str]) -> None:
    now = snapshot(service)
    assert sorted(c.name for c in service.list_containers()) == sorted(SEEDS)
    missing_or_changed = {k: v for k, v in seeded.items() if now.get(k) != v}
    assert missing_or_changed == {}
    for container, name in set(now) - set(seeded):
        segments = name.split("/")
        assert container == VICTIM, (container, name)
        if name == "root":  # the store root's own folder marker (makedirs of the root)
            props = service.get_blob_client(VICTIM, name).get_blob_properties()
            assert (props.size, props.metadata) == (0, FOLDER_MARKER_METADATA)
            continue
        assert segments[0] == "root", name
        assert len(segments) > 1, name
        assert not {"", ".", ".."} & set(segments), name  # nothing that resolves elsewhere
        assert "\\" not in name, name


class AccessLog:
    """Requests Azurite itself served, from its access log, between two marker requests.

    A marker is a request for a container name nobody else uses; once its line is in the log,
    every request answered before it is too (Azurite writes a line as it finishes a response).
    """

    def __init__(self, server: AzuriteServer, service: BlobServiceClient) -> None:
        self._server = server
        self._service = service

    def _lines(self) -> list[str]:
        return [
            line for line in self._server.log_path.read_text("utf-8", "replace").splitlines() if '"' in line
        ]

    def mark(self) -> int:
        """Send a marker request; the log position just after its line."""
        name = f"mark-{secrets.token_hex(8)}"
        with pytest.raises(ResourceNotFoundError):
            self._service.get_container_client(name).get_container_properties()
        while True:  # the marker was answered: its line is being written, no time involved
            lines = self._lines()
            for index, line in enumerate(lines):
                if f"/{name}?" in line:
                    return index + 1

    def between(self, start: int, end: int) -> list[str]:
        """Method and path of each request served in between (the query, which may hold a SAS, dropped)."""
        return [line.split('"')[1].split("?")[0] for line in self._lines()[start : end - 1]]


# ------------------------------------------------------------------------------------ the store


def _write(store: AzureArtifactStore, path: str, mode: str = "wb") -> None:
    with store.open(path, mode) as f:
        f.write(b"attack")


OPERATIONS: list[tuple[str, Callable[[AzureArtifactStore, str], object]]] = [
    ("open wb", _write),
    ("open xb", lambda s, p: _write(s, p, "xb")),
    ("open rb", lambda s, p: s.open(p, "rb").read()),
    ("exists", lambda s, p: s.exists(p)),
    ("isdir", lambda s, p: s.isdir(p)),
    ("stat", lambda s, p: s.stat(p)),
    ("size", lambda s, p: s.size(p)),
    ("listdir", lambda s, p: s.listdir(p)),
    ("scandir", lambda s, p: s.scandir(p)),
    ("walk", lambda s, p: list(s.walk(p))),
    ("glob", lambda s, p: s.glob(p)),
    ("glob /*", lambda s, p: s.glob(p + "/*")),
    ("glob /**", lambda s, p: s.glob(p + "/**")),
    ("copyfile from", lambda s, p: s.copyfile(p, ROOT + "/scratch/copied", overwrite=True)),
    ("copyfile to", lambda s, p: s.copyfile(ROOT + "/scratch/seed", p, overwrite=True)),
    ("rename from", lambda s, p: s.rename(p, ROOT + "/scratch/moved", overwrite=True)),
    ("rename to", lambda s, p: s.rename(ROOT + "/scratch/to-move", p, overwrite=True)),
    ("remove", lambda s, p: s.remove(p)),
    ("makedirs", lambda s, p: s.makedirs(p)),
    ("mkdir", lambda s, p: s.mkdir(p + "/m")),
    ("rmtree", lambda s, p: s.rmtree(p)),
]


def request_stays_inside(url: str, account_name: str) -> bool:
    """Whether a request the store sent addresses the root (a blob below it, or a listing of it)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    container = f"/{account_name}/{VICTIM}"
    if path == container:
        query = parse_qs(parts.query)
        if query.get("comp") == ["list"]:
            return query.get("prefix", [""])[0].startswith("root/")
        return query.get("comp") == ["batch"]  # the deletions inside are names the store listed
    if not path.startswith(container + "/"):
        return False
    segments = path[len(container) + 1 :].split("/")
    return segments[0] == "root" and not {"", ".", ".."} & set(segments) and "\\" not in path


@pytest.mark.parametrize("kind", ["key", "sas"])
def test_attacks_on_the_store_are_refused_before_any_request_or_stay_inside(
    account: AzuriteServer, raw: BlobServiceClient, kind: str
) -> None:
    seeded = snapshot(raw)
    counter = RequestCounter()
    # No retries: Azurite 3.35 answers every Blob Batch authorised by a SAS with a 500, so rmtree
    # fails (an ArtifactStoreError, counted as "accepted") instead of retrying for a minute.
    client_kwargs = {**counter.client_kwargs(), "retry_total": 0}
    store = AzureArtifactStore(ROOT, credentials=credentials_for(kind, account), client_kwargs=client_kwargs)
    victim = raw.get_container_client(VICTIM)
    log = AccessLog(account, raw)
    problems: list[str] = []

    start = log.mark()
    for template in REFUSED:
        path = expand(template)
        for name, operation in OPERATIONS:
            counter.reset()
            try:
                operation(store, path)
            except PathOutsideStoreError as exc:
                if "SECRETSIG" in str(exc) or not str(exc).isprintable():
                    problems.append(f"{name} {path!r}: the message echoes the path")
            except Exception as exc:
                problems.append(f"{name} {path!r}: {type(exc).__name__} instead of a refusal")
            else:
                problems.append(f"{name} {path!r}: accepted")
            if counter.count:
                problems.append(f"{name} {path!r}: {counter.count} requests before the refusal")
    served = log.between(start, log.mark())
    assert served == [], served[:5]  # Azurite saw no request at all from the refused attacks

    for template, key in ACCEPTED:
        path = expand(template)
        for name, operation in OPERATIONS:
            if name == "rmtree" and key == "root":
                continue  # emptying the store root is what rmtree(root) is for (the CLI refuses)
            if name == "rename to":
                victim.upload_blob("root/scratch/to-move", b"to move", overwrite=True)
            counter.reset()
            try:
                operation(store, path)
            except PathOutsideStoreError as exc:
                if "characters; at most" not in str(exc):  # "/m", "/*" made a 1,024-character name longer
                    problems.append(f"{name} {path!r}: refused, but it is inside the root")
            except AzcredsError:
                pass  # e.g. the root is not a file, a directory is not empty: fine
            outside = [
                url for _, url in counter.requests if not request_stays_inside(url, account.account_name)
            ]
            if outside:
                problems.append(f"{name} {path!r}: requests outside the root: {outside[:2]}")
            written = name == "open wb" and key != "root"
            if written and victim.get_blob_client(key).download_blob().readall() != b"attack":
                problems.append(f"{name} {path!r}: not written at {key!r}")
    store.close()
    assert problems == []
    assert_account_is_intact(raw, seeded)


# -------------------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("kind", ["key", "sas"])
def test_cli_rm_put_and_get_refuse_the_container_root_and_escapes(
    account: AzuriteServer,
    raw: BlobServiceClient,
    kind: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string_for(kind, account))
    cli = StoreCli(capsysbinary, monkeypatch)
    seeded = snapshot(raw)
    log = AccessLog(account, raw)
    problems: list[str] = []
    start = log.mark()
    for template in CLI_REFUSED:
        path = expand(template)
        for args in (("rm", "-r", path), ("rm", path), ("put", "-", path), ("get", path, str(tmp_path))):
            result = cli("store", *args, stdin=b"attack")
            clean = len(result.err.splitlines()) == 1 and "Traceback" not in result.err
            if result.code != 2 or not clean or "SECRETSIG" in result.err or result.out:
                problems.append(f"{args!r}: exit {result.code}, stderr {result.err!r}")
    served = log.between(start, log.mark())
    assert problems == []
    assert served == [], served[:5]
    assert list(tmp_path.iterdir()) == []
    assert_account_is_intact(raw, seeded)
