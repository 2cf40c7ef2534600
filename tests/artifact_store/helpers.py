"""Shared pieces of the artifact-store tests: credentials for Azurite, a request counter, a CLI runner.

The fixtures built on them are in :mod:`tests.artifact_store.fixtures` (loaded with
``pytest_plugins``). Test stores use a 64 KiB block size so multi-block files stay cheap.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from azcreds.credentials import AzureCredentials
from azcreds.schemas import parse_secret
from azcreds.testing import AzuriteServer
from tests.cli.helpers import Result

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

    from azcreds.artifact_store import AzureArtifactStore

BLOCK = 64 * 1024


class RequestCounter:
    """Counts HTTP requests (azure-core ``raw_request_hook``) and the most in flight at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._in_flight = 0
        self.max_in_flight = 0

    def on_request(self, request: Any) -> None:
        http = request.http_request
        with self._lock:
            self.requests.append((http.method, http.url))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def on_response(self, response: Any) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def count(self) -> int:
        return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    def client_kwargs(self) -> dict[str, Any]:
        return {"raw_request_hook": self.on_request, "raw_response_hook": self.on_response}


def connection_string_credentials(azurite: AzuriteServer) -> AzureCredentials:
    secret = parse_secret("azure-connection-string", {"connection_string": azurite.connection_string})
    return AzureCredentials.from_secret(secret, name=None, source="env")


def account_key_credentials(azurite: AzuriteServer, key: str | None = None) -> AzureCredentials:
    fields = {
        "account_name": azurite.account_name,
        "account_key": key or azurite.account_key,
        "account_url": azurite.blob_endpoint,
    }
    return AzureCredentials.from_secret(parse_secret("azure-account-key", fields), name=None, source="env")


class StoreCli:
    """``cli("store", "ls", uri, stdin=b"...")``: ``azcreds.cli.main`` in this process, bytes stdin."""

    def __init__(self, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
        self._capsys = capsysbinary
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, stdin: bytes = b"") -> Result:
        from azcreds import clear_cache
        from azcreds.cli import main

        self._capsys.readouterr()
        self._monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        clear_cache()
        code = main(list(args))
        out, err = self._capsys.readouterr()
        self.stdout_bytes = out
        return Result(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def uri(store: AzureArtifactStore, *parts: str) -> str:
    return "/".join([store.root, *parts])


def put(store: AzureArtifactStore, path: str, data: bytes = b"x") -> None:
    with store.open(path, "wb") as f:
        f.write(data)


def get(store: AzureArtifactStore, path: str) -> bytes:
    with store.open(path, "rb") as f:
        return f.read()


def committed_blocks(raw: ContainerClient, name: str) -> int:
    committed, _ = raw.get_blob_client(name).get_block_list("committed")
    return len(committed)


STORE_CALLS: list[Callable[[AzureArtifactStore, str], object]] = [
    # Every store method, called with path p (the other path of a copy or rename inside the root):
    # for the tests that a refused path sends no request, whatever the method.
    lambda s, p: s.open(p, "rb"),
    lambda s, p: s.open(p, "wb"),
    lambda s, p: s.open(p, "x"),
    lambda s, p: s.exists(p),
    lambda s, p: s.isdir(p),
    lambda s, p: s.listdir(p),
    lambda s, p: s.scandir(p),
    lambda s, p: s.glob(p),
    lambda s, p: s.glob(p + "/*"),
    lambda s, p: s.glob(p + "/**"),
    lambda s, p: s.makedirs(p),
    lambda s, p: s.mkdir(p),
    lambda s, p: s.remove(p),
    lambda s, p: s.rmtree(p),
    lambda s, p: s.stat(p),
    lambda s, p: s.size(p),
    lambda s, p: list(s.walk(p)),
    lambda s, p: s.copyfile(s.root + "/a", p),
    lambda s, p: s.copyfile(p, s.root + "/a"),
    lambda s, p: s.rename(p, s.root + "/a"),
    lambda s, p: s.rename(s.root + "/a", p, overwrite=True),
]
