"""Credential rotation: a store built on a secret name survives its SAS being replaced and revoked.

Revocation is deterministic: the SAS is a container SAS bound to a stored access policy
(``si=``), and deleting the policy revokes it at once. Such a SAS carries no expiry of its own, so
azcreds neither refuses it nor warns that it expires soon. The secret lives in environment
variables (``AZCREDS_ROTATING__*``); rotating means a new variable value, as a deployment would.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (
    AccessPolicy,
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)

import azcreds.resolve
from azcreds.artifact_store import AzureArtifactStore
from azcreds.errors import PermissionDeniedError
from azcreds.resolve import resolve_credentials
from azcreds.testing import AzuriteServer
from tests.artifact_store.helpers import BLOCK

pytest_plugins = ["tests.artifact_store.fixtures"]

ALL = ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True)
READ_LIST = ContainerSasPermissions(read=True, list=True)


def set_policies(client: ContainerClient, **policies: ContainerSasPermissions) -> None:
    """Replace the container's stored access policies; a policy left out is revoked."""
    now = datetime.now(UTC)
    client.set_container_access_policy(
        signed_identifiers={
            pid: AccessPolicy(permission=p, start=now - timedelta(minutes=5), expiry=now + timedelta(hours=1))
            for pid, p in policies.items()
        }
    )


def policy_sas(azurite: AzuriteServer, container: str, policy_id: str) -> str:
    return generate_container_sas(
        azurite.account_name, container, account_key=azurite.account_key, policy_id=policy_id
    )


def signature(sas: str) -> str:
    return dict(p.split("=", 1) for p in sas.split("&"))["sig"]


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The names re-resolved with refresh=True (a spy around azcreds' own function, not the SDK)."""
    calls: list[str | None] = []
    real = azcreds.resolve.resolve_credentials

    def spy(name: str | None = None, *, refresh: bool = False, **kwargs: Any) -> Any:
        if refresh:
            calls.append(name)
        return real(name, refresh=refresh, **kwargs)

    monkeypatch.setattr(azcreds.resolve, "resolve_credentials", spy)
    return calls


@pytest.fixture
def rotate(
    azurite: AzuriteServer, raw: ContainerClient, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """``rotate("p2")``: the secret's SAS becomes p2's, then p2 replaces every other policy.

    In the order docs/artifact_store.md tells users: the new policy is added beside the old one,
    the new SAS is published, and only then is the old policy revoked. So a request that fails
    with the old SAS always finds the new one on re-resolving, however long each step takes (with
    ``publish=False`` nobody publishes: the old SAS is revoked and nothing replaces it).
    """
    monkeypatch.setenv("AZCREDS_ROTATING__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_ROTATING__ACCOUNT_URL", azurite.blob_endpoint)
    live: dict[str, ContainerSasPermissions] = {}

    def to(policy_id: str, *, permissions: ContainerSasPermissions = ALL, publish: bool = True) -> str:
        set_policies(raw, **live, **{policy_id: permissions})
        sas = policy_sas(azurite, container_name, policy_id)
        if publish:
            monkeypatch.setenv("AZCREDS_ROTATING__SAS_TOKEN", sas)
        set_policies(raw, **{policy_id: permissions})
        live.clear()
        live[policy_id] = permissions
        return sas

    return to


def sas_container(azurite: AzuriteServer, container_name: str, sas: str) -> ContainerClient:
    service = BlobServiceClient(azurite.blob_endpoint, credential=AzureSasCredential(sas), retry_total=0)
    return service.get_container_client(container_name)


def put(store: AzureArtifactStore, path: str, data: bytes) -> None:
    with store.open(path, "wb") as f:
        f.write(data)


def get(store: AzureArtifactStore, path: str) -> bytes:
    with store.open(path, "rb") as f:
        return f.read()


def test_the_store_keeps_working_after_its_sas_is_replaced_and_revoked(
    azurite: AzuriteServer,
    container_name: str,
    rotate: Callable[..., str],
    refreshes: list[str | None],
) -> None:
    old = rotate("p1")
    store = AzureArtifactStore(f"az://{container_name}/root", secret="rotating", block_size=BLOCK)
    assert store.credentials.schema_id == "azure-sas-token"
    put(store, f"{store.root}/a.bin", b"before")
    store.makedirs(f"{store.root}/dir")

    new = rotate("p2")  # p1 is deleted: the old SAS is revoked from now on
    with pytest.raises(HttpResponseError) as info:
        sas_container(azurite, container_name, old).get_blob_client("root/a.bin").get_blob_properties()
    assert info.value.status_code == 403  # the old SAS really is dead

    assert get(store, f"{store.root}/a.bin") == b"before"
    assert refreshes == ["rotating"]
    assert signature(new) in store.credentials.secret.sas_token.get_secret_value()  # type: ignore[attr-defined]
    put(store, f"{store.root}/b.bin", os.urandom(3 * BLOCK))
    store.copyfile(f"{store.root}/a.bin", f"{store.root}/copy.bin")  # the source is authorised by the new SAS
    store.rename(f"{store.root}/copy.bin", f"{store.root}/dir/moved.bin")
    assert store.listdir(store.root) == ["a.bin", "b.bin", "dir"]
    assert store.glob(f"{store.root}/**/*.bin")[-1] == f"{store.root}/dir/moved.bin"
    store.rmtree(f"{store.root}/dir")
    assert refreshes == ["rotating"]  # one re-resolution served everything after it


def test_rotation_in_the_middle_of_a_streamed_write(
    container_name: str, rotate: Callable[..., str], refreshes: list[str | None]
) -> None:
    rotate("p1")
    store = AzureArtifactStore(
        f"az://{container_name}/root", secret="rotating", block_size=BLOCK, max_concurrency=4
    )
    first, second = os.urandom(4 * BLOCK), os.urandom(6 * BLOCK + 5)
    with store.open(f"{store.root}/streamed.bin", "wb") as f:
        f.write(first)  # three blocks staged (or in flight) under the old SAS
        rotate("p2")
        f.write(second)  # the rest, and the commit, under the new one
    assert get(store, f"{store.root}/streamed.bin") == first + second
    assert refreshes == ["rotating"]  # concurrent failures of one generation re-resolve once


def test_the_implicit_chain_is_re_resolved_too(
    azurite: AzuriteServer,
    raw: ContainerClient,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
    refreshes: list[str | None],
) -> None:
    def connection_string(sas: str) -> str:
        return f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"

    set_policies(raw, p1=ALL)
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", connection_string(policy_sas(azurite, container_name, "p1"))
    )
    store = AzureArtifactStore(f"az://{container_name}")
    put(store, f"{store.root}/x", b"1")
    set_policies(raw, p2=ALL)
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", connection_string(policy_sas(azurite, container_name, "p2"))
    )
    assert get(store, f"{store.root}/x") == b"1"
    assert refreshes == [None]


def test_a_second_refusal_is_permission_denied_without_the_sas(
    azurite: AzuriteServer,
    raw: ContainerClient,
    container_name: str,
    rotate: Callable[..., str],
    refreshes: list[str | None],
) -> None:
    old = rotate("p1")
    store = AzureArtifactStore(f"az://{container_name}/root", secret="rotating", block_size=BLOCK)
    put(store, f"{store.root}/a.bin", b"x")
    rotate("p2", publish=False)  # p1 revoked, but nobody published a new SAS
    checks: list[Callable[[], object]] = [
        lambda: get(store, f"{store.root}/a.bin"),
        lambda: put(store, f"{store.root}/b.bin", b"small: one Put Blob"),
        lambda: store.listdir(store.root),
        lambda: store.copyfile(f"{store.root}/a.bin", f"{store.root}/c.bin"),
    ]
    for check in checks:
        with pytest.raises(PermissionDeniedError) as info:
            check()
        message = str(info.value)
        assert "HTTP 403" in message
        assert signature(old) not in message
        assert "sig=" not in message
        assert "?" not in message
    assert refreshes == ["rotating"] * len(checks)  # each operation re-resolves once, then gives up


def test_explicit_credentials_are_never_re_resolved(
    container_name: str, rotate: Callable[..., str], refreshes: list[str | None]
) -> None:
    rotate("p1")
    store = AzureArtifactStore(f"az://{container_name}", credentials=resolve_credentials("rotating"))
    put(store, f"{store.root}/a", b"x")
    rotate("p2")
    with pytest.raises(PermissionDeniedError):
        get(store, f"{store.root}/a")
    assert refreshes == []


def test_a_missing_permission_is_not_an_authentication_failure(
    container_name: str, rotate: Callable[..., str], refreshes: list[str | None]
) -> None:
    rotate("p1", permissions=READ_LIST)
    store = AzureArtifactStore(f"az://{container_name}", secret="rotating")
    with pytest.raises(PermissionDeniedError, match="403"):
        put(store, f"{store.root}/a", b"x")
    assert refreshes == []  # a read-only SAS stays read-only: nothing to gain by re-resolving
