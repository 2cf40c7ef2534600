"""KeyVaultServer driven by the real azure-keyvault-secrets SDK, with tokens from azure-identity.

Credentials come from the local managed identity endpoint (App Service style) and the Entra-style
authority, so every request carries a real token from a real credential. Raw ``http.client``
requests pin down the wire details the SDK hides (the challenge, token checks, paging links).
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceResponseError,
)
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import http_challenge_cache

from azcreds.testing import (
    KEYVAULT_AUDIENCE,
    TEST_TENANT_ID,
    KeyVaultServer,
    mint_token,
    network_guard,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from azcreds.testing import EntraAuthority, ManagedIdentityEndpoint, TestCertificates

API = "api-version=2026-04-01"
FAST_POLL = {"_polling_interval": 0.01}


@pytest.fixture
def mi_credential(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> ManagedIdentityCredential:
    """The system-assigned identity, App Service style."""
    for name, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(name, value)
    return ManagedIdentityCredential()


@pytest.fixture
def client(keyvault_server: KeyVaultServer, mi_credential: ManagedIdentityCredential) -> SecretClient:
    return SecretClient(
        keyvault_server.vault_url,
        mi_credential,
        retry_backoff_factor=0.01,
        **keyvault_server.client_kwargs(),
    )


def raw_request(
    server: KeyVaultServer,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
) -> tuple[int, dict[str, str], Any]:
    """One request over a fresh connection: (status, headers, parsed JSON body or None)."""
    context = ssl.create_default_context(cafile=server.ca_path)
    connection = http.client.HTTPSConnection(server.host, server.port, context=context, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data) if data else None
    finally:
        connection.close()


def vault_token(**kwargs: Any) -> str:
    return mint_token(KEYVAULT_AUDIENCE, **kwargs)


# -- the challenge and the token checks ------------------------------------------------------


def test_first_request_is_challenged_without_body_then_resent_with_a_token(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    http_challenge_cache.remove_challenge_for_url(
        keyvault_server.vault_url
    )  # in case the port was used before

    secret = client.set_secret("first", "value-1")

    assert secret.value == "value-1"
    challenge, authorized = keyvault_server.requests
    assert (challenge.method, challenge.path, challenge.status) == ("PUT", "/secrets/first", 401)
    assert not challenge.authorized
    assert challenge.body_size == 0
    assert (authorized.method, authorized.status, authorized.authorized) == ("PUT", 200, True)
    assert authorized.body_size > 0


def test_challenge_names_the_tenant_and_the_vault_resource(keyvault_server: KeyVaultServer) -> None:
    status, headers, body = raw_request(keyvault_server, "GET", f"/secrets?{API}")

    assert status == 401
    assert headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{TEST_TENANT_ID}", '
        'resource="https://vault.azure.net"'
    )
    assert body["error"]["code"] == "Unauthorized"


# Tokens are minted when the test runs, not at collection: a suite slower than 10 minutes would
# otherwise reach the not-yet-valid token's nbf before this test does.
@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: mint_token("https://storage.azure.com"), "AKV10022"),
        (lambda: vault_token(lifetime=-120), "AKV10020"),
        (lambda: vault_token(extra_claims={"nbf": int(time.time()) + 600}), "AKV10021"),
        (lambda: vault_token(tenant_id="11111111-2222-3333-4444-555555555555"), "AKV10032"),
        (lambda: "not-a-jwt", "AKV10032"),
    ],
    ids=["storage-audience", "expired", "not-yet-valid", "other-tenant", "garbage"],
)
def test_bad_tokens_get_401_and_do_nothing(
    keyvault_server: KeyVaultServer, make_token: Callable[[], str], reason: str
) -> None:
    token = make_token()
    status, headers, body = raw_request(
        keyvault_server, "PUT", f"/secrets/name?{API}", token=token, body={"value": "v"}
    )

    assert status == 401
    assert "WWW-Authenticate" in headers
    assert body["error"]["message"].startswith(reason)
    assert keyvault_server.secret_names() == []
    assert keyvault_server.requests[-1].authorized is False


def test_vault_url_is_an_accepted_audience(keyvault_server: KeyVaultServer) -> None:
    token = mint_token(keyvault_server.vault_url)
    status, _, body = raw_request(
        keyvault_server, "PUT", f"/secrets/n?{API}", token=token, body={"value": "v"}
    )
    assert status == 200
    assert body["value"] == "v"


def test_api_version_is_required(keyvault_server: KeyVaultServer) -> None:
    status, _, body = raw_request(keyvault_server, "GET", "/secrets", token=vault_token())
    assert status == 400
    assert body["error"]["code"] == "BadParameter"


def test_tokens_are_never_recorded(keyvault_server: KeyVaultServer) -> None:
    token = vault_token()
    raw_request(keyvault_server, "PUT", f"/secrets/n?{API}", token=token, body={"value": "v"})
    recorded = repr(keyvault_server.requests)
    assert token not in recorded
    assert token.split(".")[1] not in recorded


# -- secrets through the SDK ---------------------------------------------------------------------


@pytest.mark.parametrize("credential_kind", ["managed-identity", "service-principal"])
def test_set_get_versions_round_trip(
    credential_kind: str,
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    entra_authority: EntraAuthority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if credential_kind == "managed-identity":
        for name, value in managed_identity_endpoint.app_service_env().items():
            monkeypatch.setenv(name, value)
        credential: Any = ManagedIdentityCredential()
        expected_oid = managed_identity_endpoint.system_assigned.object_id
    else:
        app = entra_authority.app
        credential = ClientSecretCredential(
            entra_authority.tenant_id, app.client_id, app.client_secret, **entra_authority.credential_kwargs()
        )
        expected_oid = app.object_id
    client = SecretClient(keyvault_server.vault_url, credential, **keyvault_server.client_kwargs())

    first = client.set_secret("conn", "one", content_type="text/plain", tags={"team": "data"})
    second = client.set_secret("conn", "two")

    latest = client.get_secret("conn")
    assert (latest.value, latest.properties.version) == ("two", second.properties.version)
    old = client.get_secret("conn", first.properties.version)
    assert (old.value, old.properties.content_type, old.properties.tags) == (
        "one",
        "text/plain",
        {"team": "data"},
    )
    assert old.id == f"{keyvault_server.vault_url}/secrets/conn/{first.properties.version}"
    assert old.properties.recovery_level == "Recoverable+Purgeable"
    assert old.properties.recoverable_days == 90
    assert old.properties.created_on is not None
    assert old.properties.enabled is True
    versions = [v.version for v in client.list_properties_of_secret_versions("conn")]
    assert versions == [first.properties.version, second.properties.version]
    authorized = [r for r in keyvault_server.requests if r.authorized]
    assert {r.identity for r in authorized} == {expected_oid}
    assert network_guard.blocked_attempts() == []


def test_list_is_paged_with_absolute_next_links(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    for index in range(5):
        keyvault_server.add_secret(f"s{index}", f"value-{index}")

    names = [p.name for p in client.list_properties_of_secrets(max_page_size=2)]

    assert names == ["s0", "s1", "s2", "s3", "s4"]
    pages = [r for r in keyvault_server.requests if r.path == "/secrets" and r.authorized]
    assert [p.query.get("maxresults") for p in pages] == ["2", "2", "2"]
    status, _, body = raw_request(keyvault_server, "GET", f"/secrets?{API}&maxresults=2", token=vault_token())
    assert status == 200
    assert body["nextLink"].startswith(f"{keyvault_server.vault_url}/secrets?api-version=")
    assert all("value" not in item for item in body["value"])
    assert body["value"][0]["id"] == f"{keyvault_server.vault_url}/secrets/s0"


def test_version_listing_is_paged_too(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    made = [keyvault_server.add_secret("many", str(i)) for i in range(4)]
    listed = [p.version for p in client.list_properties_of_secret_versions("many", max_page_size=3)]
    assert listed == made
    assert keyvault_server.count("GET", "/versions$", authorized=True) == 2


def test_maxresults_over_25_is_refused(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    with pytest.raises(HttpResponseError) as refused:
        list(client.list_properties_of_secrets(max_page_size=26))
    assert refused.value.status_code == 400


def test_update_properties_disable_and_reenable(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    created = client.set_secret("flag", "on")

    updated = client.update_secret_properties(
        "flag", enabled=False, tags={"state": "off"}, content_type="x/y"
    )
    assert (updated.enabled, updated.tags, updated.content_type) == (False, {"state": "off"}, "x/y")
    assert updated.version == created.properties.version
    with pytest.raises(HttpResponseError) as disabled:
        client.get_secret("flag")
    assert disabled.value.status_code == 403
    listed = next(iter(client.list_properties_of_secrets()))
    assert listed.enabled is False

    client.update_secret_properties("flag", created.properties.version, enabled=True)
    assert client.get_secret("flag").value == "on"
    assert client.get_secret("flag").properties.tags == {"state": "off"}


def test_delete_recover_purge_and_conflict(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    client.set_secret("gone", "v1")

    poller = client.begin_delete_secret("gone", **FAST_POLL)
    poller.wait()
    deleted = poller.result()
    assert deleted.recovery_id == f"{keyvault_server.vault_url}/deletedsecrets/gone"
    assert deleted.deleted_date is not None
    assert deleted.scheduled_purge_date is not None
    assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 90
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("gone")
    assert [d.name for d in client.list_deleted_secrets()] == ["gone"]
    assert client.get_deleted_secret("gone").name == "gone"
    with pytest.raises(ResourceExistsError) as conflict:
        client.set_secret("gone", "v2")
    assert conflict.value.status_code == 409

    recover = client.begin_recover_deleted_secret("gone", **FAST_POLL)
    recover.wait()
    assert recover.result().name == "gone"
    assert client.get_secret("gone").value == "v1"

    client.begin_delete_secret("gone", **FAST_POLL).wait()
    client.purge_deleted_secret("gone")
    purge = [r for r in keyvault_server.requests if r.method == "DELETE" and r.path == "/deletedsecrets/gone"]
    assert [r.status for r in purge] == [204]
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("gone")
    assert client.set_secret("gone", "v3").value == "v3"
    assert keyvault_server.secret_versions("gone") == [client.get_secret("gone").properties.version]


def test_pollers_wait_while_delete_and_recover_complete(
    test_certificates: TestCertificates, mi_credential: ManagedIdentityCredential
) -> None:
    with KeyVaultServer(certificates=test_certificates, operation_delay=0.15) as server:
        client = SecretClient(server.vault_url, mi_credential, **server.client_kwargs())
        client.set_secret("slow", "v")

        client.begin_delete_secret("slow", **FAST_POLL).wait()
        polls = [r.status for r in server.requests if r.path == "/deletedsecrets/slow"]
        assert polls[0] == 404
        assert polls[-1] == 200

        client.begin_recover_deleted_secret("slow", **FAST_POLL).wait()
        polls = [r.status for r in server.requests if r.path == "/secrets/slow/"]
        assert polls[0] == 404
        assert polls[-1] == 200
        assert server.errors == []


def test_a_delete_in_progress_conflicts_until_it_completes(
    test_certificates: TestCertificates, mi_credential: ManagedIdentityCredential
) -> None:
    with KeyVaultServer(certificates=test_certificates, operation_delay=30) as server:
        client = SecretClient(server.vault_url, mi_credential, retry_total=0, **server.client_kwargs())
        client.set_secret("busy", "v")

        client.begin_delete_secret("busy")  # no wait(): the deletion is still running

        for attempt in (
            lambda: client.purge_deleted_secret("busy"),
            lambda: client.begin_recover_deleted_secret("busy"),
            lambda: client.set_secret("busy", "again"),
        ):
            with pytest.raises(ResourceExistsError) as conflict:
                attempt()
            assert conflict.value.status_code == 409
        with pytest.raises(ResourceNotFoundError):
            client.get_deleted_secret("busy")
        with pytest.raises(ResourceNotFoundError):
            client.get_secret("busy")


def test_missing_secret_is_404_secret_not_found(client: SecretClient) -> None:
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_secret("nothing")
    assert missing.value.error is not None
    assert missing.value.error.code == "SecretNotFound"
    with pytest.raises(ResourceNotFoundError):
        client.purge_deleted_secret("nothing")


def test_names_are_case_insensitive_and_keep_the_first_spelling(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    client.set_secret("MySecret", "one")
    client.set_secret("MYSECRET", "two")

    assert client.get_secret("mysecret").value == "two"
    assert [p.name for p in client.list_properties_of_secrets()] == ["MySecret"]
    assert len(list(client.list_properties_of_secret_versions("mYsEcReT"))) == 2
    client.begin_delete_secret("MYSECRET", **FAST_POLL).wait()
    with pytest.raises(ResourceExistsError):
        client.set_secret("mysecret", "three")


@pytest.mark.parametrize("name", ["bad_name", "x" * 128, "dots.are.bad"])
def test_invalid_names_are_400_bad_parameter(client: SecretClient, name: str) -> None:
    with pytest.raises(HttpResponseError) as refused:
        client.set_secret(name, "v")
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "BadParameter"


def test_values_up_to_25_kb(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    limit = KeyVaultServer.MAX_VALUE_BYTES
    assert limit == 25 * 1024
    assert client.set_secret("big", "x" * limit).value == "x" * limit
    with pytest.raises(HttpResponseError) as too_big:
        client.set_secret("big", "x" * (limit + 1))
    assert too_big.value.status_code == 400
    with pytest.raises(HttpResponseError):  # bytes, not characters
        client.set_secret("big", "é" * (limit // 2 + 1))
    assert len(keyvault_server.secret_versions("big")) == 1


def test_tag_limits(client: SecretClient) -> None:
    fifteen = {f"t{i}": "v" for i in range(15)}
    assert client.set_secret("tagged", "v", tags=fifteen).properties.tags == fifteen
    for tags in ({f"t{i}": "v" for i in range(16)}, {"long": "v" * 257}):
        with pytest.raises(HttpResponseError) as refused:
            client.set_secret("tagged", "v", tags=tags)
        assert refused.value.status_code == 400


# -- faults ----------------------------------------------------------------------------------------


def test_429_retry_after_is_honoured(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    keyvault_server.add_secret("hot", "v")
    client.get_secret("hot")  # the challenge round trip, out of the way
    keyvault_server.clear_requests()
    fault = keyvault_server.faults.add(
        status=429, retry_after=1, times=1, method="GET", path_regex="^/secrets/hot"
    )

    assert client.get_secret("hot").value == "v"

    throttled, retried = keyvault_server.requests
    assert (throttled.status, throttled.fault, retried.status) == (429, True, 200)
    assert retried.time - throttled.time >= 1.0
    assert fault.hits == 1
    assert keyvault_server.faults.pending == []


def test_503_then_success(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    keyvault_server.add_secret("flaky", "v")
    keyvault_server.faults.add(status=503, times=2)

    assert client.get_secret("flaky").value == "v"
    assert [r.status for r in keyvault_server.requests if r.authorized] == [503, 503, 200]


def test_500_without_retries_surfaces(keyvault_server: KeyVaultServer, mi_credential: Any) -> None:
    client = SecretClient(
        keyvault_server.vault_url, mi_credential, retry_total=0, **keyvault_server.client_kwargs()
    )
    keyvault_server.faults.add(status=500, times=1)
    with pytest.raises(HttpResponseError) as failed:
        client.set_secret("n", "v")
    assert failed.value.status_code == 500
    assert client.set_secret("n", "v").value == "v"


def test_dropped_connection_is_retried(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    keyvault_server.add_secret("d", "v")
    keyvault_server.faults.add(drop=True, times=1, method="GET")

    assert client.get_secret("d").value == "v"
    assert [r.status for r in keyvault_server.requests if r.authorized] == [None, 200]


def test_dropped_connection_without_retries_raises(
    keyvault_server: KeyVaultServer, mi_credential: Any
) -> None:
    client = SecretClient(
        keyvault_server.vault_url, mi_credential, retry_total=0, **keyvault_server.client_kwargs()
    )
    keyvault_server.add_secret("d", "v")
    keyvault_server.faults.add(drop=True, times=None, method="GET")
    with pytest.raises(ServiceResponseError):
        client.get_secret("d")


def test_slow_responses_delay_and_time_out(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    keyvault_server.add_secret("slow", "v")
    client.get_secret("slow")
    keyvault_server.faults.add(delay=0.2, times=1)
    started = time.monotonic()
    assert client.get_secret("slow").value == "v"
    assert time.monotonic() - started >= 0.2

    keyvault_server.faults.add(delay=5, times=1)
    with pytest.raises(ServiceResponseError, match=r"(?i)timed? ?out"):
        client.get_secret("slow", read_timeout=0.2, retry_total=0)


def test_403_for_one_identity_only(
    keyvault_server: KeyVaultServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(name, value)
    denied = managed_identity_endpoint.user_assigned[0]
    keyvault_server.add_secret("s", "v")
    keyvault_server.faults.deny(denied.object_id)

    allowed_client = SecretClient(
        keyvault_server.vault_url, ManagedIdentityCredential(), **keyvault_server.client_kwargs()
    )
    denied_client = SecretClient(
        keyvault_server.vault_url,
        ManagedIdentityCredential(client_id=denied.client_id),
        **keyvault_server.client_kwargs(),
    )

    assert allowed_client.get_secret("s").value == "v"
    with pytest.raises(HttpResponseError) as forbidden:
        denied_client.get_secret("s")
    assert forbidden.value.status_code == 403
    assert forbidden.value.error is not None
    assert forbidden.value.error.code == "Forbidden"
    assert not isinstance(forbidden.value, ClientAuthenticationError)


def test_faults_skip_the_unauthenticated_challenge(keyvault_server: KeyVaultServer) -> None:
    keyvault_server.faults.add(status=500, times=1)
    status, _, _ = raw_request(keyvault_server, "GET", f"/secrets?{API}")
    assert status == 401
    status, _, _ = raw_request(keyvault_server, "GET", f"/secrets?{API}", token=vault_token())
    assert status == 500


# -- lifecycle ---------------------------------------------------------------------------------------


def test_https_only_and_lifecycle(test_certificates: TestCertificates) -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        KeyVaultServer(certificates=None)  # type: ignore[arg-type]
    server = KeyVaultServer(certificates=test_certificates)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.vault_url
    with server:
        assert server.vault_url == f"https://127.0.0.1:{server.port}"
        server.add_secret("kept", "v")
        server.faults.add(status=500)
        server.reset()
        assert server.secret_names() == []
        assert server.faults.pending == []
        assert server.requests == []
    assert not server.is_running
    with pytest.raises(ConnectionRefusedError):
        raw_request(server, "GET", f"/secrets?{API}")


@pytest.fixture
def keep_alive_client(keyvault_server: KeyVaultServer) -> Iterator[http.client.HTTPSConnection]:
    context = ssl.create_default_context(cafile=keyvault_server.ca_path)
    connection = http.client.HTTPSConnection(
        keyvault_server.host, keyvault_server.port, context=context, timeout=10
    )
    yield connection
    connection.close()


def test_keep_alive_requests_share_one_connection_with_nagle_off(
    keyvault_server: KeyVaultServer, keep_alive_client: http.client.HTTPSConnection
) -> None:
    keyvault_server.add_secret("k", "v")
    headers = {"Authorization": f"Bearer {vault_token()}"}
    for _ in range(20):
        keep_alive_client.request("GET", f"/secrets/k?{API}", headers=headers)
        response = keep_alive_client.getresponse()
        assert response.status == 200
        response.read()
    # Nagle plus delayed ACKs would cost ~40 ms a keep-alive request: the server's side of the
    # one connection must have TCP_NODELAY set (checked on the socket, not with a stopwatch).
    with keyvault_server._lock:
        connections = list(keyvault_server._connections)
    assert len(connections) == 1
    assert connections[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


# -- backup and restore ----------------------------------------------------------------------


def test_backup_restore_round_trip_keeps_versions_tags_and_attributes(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    first = client.set_secret("kept", "one", content_type="text/plain", tags={"team": "data"})
    second = client.set_secret("kept", "two", content_type="application/json")
    client.update_secret_properties("kept", first.properties.version, enabled=False)

    backup = client.backup_secret("kept")

    assert isinstance(backup, bytes)
    assert b"one" not in backup
    assert b"two" not in backup
    assert b"kept" not in backup
    client.begin_delete_secret("kept", **FAST_POLL).wait()
    client.purge_deleted_secret("kept")
    restored = client.restore_secret_backup(backup)
    assert restored.name == "kept"
    assert restored.version == second.properties.version
    assert restored.id == f"{keyvault_server.vault_url}/secrets/kept/{second.properties.version}"
    assert client.get_secret("kept").value == "two"
    versions = {v.version: v for v in client.list_properties_of_secret_versions("kept")}
    assert list(versions) == [first.properties.version, second.properties.version]
    old = versions[first.properties.version]
    assert (old.enabled, old.content_type, old.tags) == (False, "text/plain", {"team": "data"})
    assert old.created_on == first.properties.created_on
    assert versions[second.properties.version].content_type == "application/json"
    assert keyvault_server.secret_value("kept", first.properties.version) == "one"


def test_restore_needs_a_free_name(keyvault_server: KeyVaultServer, client: SecretClient) -> None:
    client.set_secret("Taken", "v1")
    backup = client.backup_secret("taken")  # names are case-insensitive
    with pytest.raises(ResourceExistsError) as exists:
        client.restore_secret_backup(backup)
    assert exists.value.status_code == 409
    assert exists.value.error is not None
    assert exists.value.error.code == "Conflict"

    client.begin_delete_secret("taken", **FAST_POLL).wait()
    with pytest.raises(ResourceExistsError, match="deleted but recoverable"):
        client.restore_secret_backup(backup)  # soft-deleted: purge first
    client.purge_deleted_secret("taken")
    assert client.restore_secret_backup(backup).name == "Taken"


def test_backup_of_a_missing_or_deleted_secret_is_404(client: SecretClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        client.backup_secret("never-set")
    client.set_secret("deleted", "v1")
    client.begin_delete_secret("deleted", **FAST_POLL).wait()
    with pytest.raises(ResourceNotFoundError) as missing:
        client.backup_secret("deleted")
    assert missing.value.error is not None
    assert missing.value.error.code == "SecretNotFound"


def test_tampered_or_foreign_backups_are_400(
    keyvault_server: KeyVaultServer, client: SecretClient, test_certificates: TestCertificates
) -> None:
    client.set_secret("sealed", "v1")
    backup = bytearray(client.backup_secret("sealed"))
    client.begin_delete_secret("sealed", **FAST_POLL).wait()
    client.purge_deleted_secret("sealed")
    backup[-1] ^= 1
    for blob in (bytes(backup), b"not a backup", b""):
        with pytest.raises(HttpResponseError) as corrupt:
            client.restore_secret_backup(blob)
        assert corrupt.value.status_code == 400
        assert corrupt.value.error is not None
        assert corrupt.value.error.code == "BadParameter"
    assert keyvault_server.secret_names() == []

    backup[-1] ^= 1  # intact again, but another vault's key cannot open it
    with KeyVaultServer(certificates=test_certificates) as other:
        status, _, body = raw_request(
            other,
            "POST",
            f"/secrets/restore?{API}",
            token=vault_token(),
            body={"value": base64.urlsafe_b64encode(bytes(backup)).decode().rstrip("=")},
        )
    assert (status, body["error"]["code"]) == (400, "BadParameter")


def test_a_shared_backup_key_restores_into_another_vault(
    test_certificates: TestCertificates, mi_credential: ManagedIdentityCredential
) -> None:
    key = bytes(range(32))
    with (
        KeyVaultServer(certificates=test_certificates, backup_key=key) as one,
        KeyVaultServer(certificates=test_certificates, backup_key=key) as two,
    ):
        source = SecretClient(one.vault_url, mi_credential, **one.client_kwargs())
        version = source.set_secret("moved", "v1", tags={"a": "b"}).properties.version
        target = SecretClient(two.vault_url, mi_credential, **two.client_kwargs())
        restored = target.restore_secret_backup(source.backup_secret("moved"))
        assert restored.id == f"{two.vault_url}/secrets/moved/{version}"  # ids are host-relative
        assert (target.get_secret("moved").value, restored.tags) == ("v1", {"a": "b"})
    with pytest.raises(ValueError, match="32 bytes"):
        KeyVaultServer(certificates=test_certificates, backup_key=b"short")


# -- what Key Vault accepts beyond what the Python SDK sends ---------------------------------


def test_trailing_slashes_path_case_and_query_case(keyvault_server: KeyVaultServer) -> None:
    token = vault_token()
    status, _, body = raw_request(
        keyvault_server, "PUT", f"/Secrets/Mixed/?{API}", token=token, body={"value": "v"}
    )
    assert status == 200, body
    version = body["id"].rsplit("/", 1)[1]
    for path in (
        f"/secrets/mixed?{API}",
        "/SECRETS/MIXED/?API-Version=2025-07-01",
        f"/secrets/mixed/{version.upper()}/?{API}",
    ):
        status, _, body = raw_request(keyvault_server, "GET", path, token=token)
        assert (status, body.get("value")) == (200, "v"), path
    for path in (f"/secrets/?{API}", f"/secrets/mixed/Versions/?{API}", f"/secrets?maxResults=1&{API}"):
        status, _, body = raw_request(keyvault_server, "GET", path, token=token)
        assert (status, len(body["value"])) == (200, 1), path
    status, _, backup = raw_request(keyvault_server, "POST", f"/secrets/mixed/Backup/?{API}", token=token)
    assert status == 200
    assert backup["value"]
    status, _, _ = raw_request(keyvault_server, "DELETE", f"/secrets/mixed/?{API}", token=token)
    assert status == 200
    for path in (f"/DeletedSecrets/?{API}", f"/deletedsecrets/MIXED/?{API}"):
        assert raw_request(keyvault_server, "GET", path, token=token)[0] == 200, path
    assert raw_request(keyvault_server, "DELETE", f"/deletedsecrets/mixed/?{API}", token=token)[0] == 204
    status, _, body = raw_request(
        keyvault_server, "POST", f"/secrets/Restore/?{API}", token=token, body=backup
    )
    assert (status, body["id"].split("/")[-2]) == (200, "Mixed")
    for path in (f"/secrets//?{API}", f"/secrets/mixed//?{API}", f"/secrets/mixed/{version}/x?{API}"):
        assert raw_request(keyvault_server, "GET", path, token=token)[0] == 404, path
