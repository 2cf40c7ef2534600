"""AzureCredentials.scoped: a short-lived SAS that can do only what it says, enforced by Azurite.

Service SAS (account key) against Azurite 3.35 over http; user delegation SAS (service principal
and managed identity) against Azurite 3.37 over HTTPS with OAuth (``azurite_user_delegation``).
Each refusal is asked of the service, not predicted: write, another container, listing, a blob
next to the scoped one, and a SAS past its expiry (minted with the clock set in the past).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from azure.core.exceptions import HttpResponseError

import azcreds.scoping
from azcreds import AzureCredentials, ScopeError, resolve_credentials
from azcreds.testing import AzuriteServer, EntraAuthority, ManagedIdentityEndpoint, unique_container_name


def set_env_secret(monkeypatch: pytest.MonkeyPatch, name: str, fields: dict[str, str]) -> None:
    for field, value in fields.items():
        monkeypatch.setenv(f"AZCREDS_{name.upper()}__{field.upper()}", value)


def sas_params(creds: AzureCredentials) -> dict[str, str]:
    token = creds.secret.field_values(reveal=True)["sas_token"]
    return {k: v[0] for k, v in parse_qs(token).items()}


def refused(action: Callable[[], object]) -> int:
    """The HTTP status with which the service refused ``action`` (fails if it was allowed)."""
    with pytest.raises(HttpResponseError) as info:
        action()
    status = info.value.status_code
    assert status is not None
    return status


def freeze_clock(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(azcreds.scoping, "_clock", lambda: when)


def prepare(creds: AzureCredentials, *containers: str, **client_kwargs: object) -> None:
    service = creds.blob_service_client(retry_total=0, **client_kwargs)
    for container in containers:
        service.create_container(container)
        service.get_blob_client(container, "data/a.csv").upload_blob(b"x,y\n1,2\n")
        service.get_blob_client(container, "data/b.csv").upload_blob(b"x,y\n3,4\n")


def check_read_only_container_sas(scoped: AzureCredentials, container: str, other: str) -> None:
    service = scoped.blob_service_client(retry_total=0)
    own = service.get_container_client(container)
    assert own.download_blob("data/a.csv").readall() == b"x,y\n1,2\n"
    assert refused(lambda: own.upload_blob("data/new.csv", b"no")) == 403
    assert refused(lambda: own.delete_blob("data/a.csv")) == 403
    assert refused(lambda: list(own.list_blobs())) == 403  # "r" without "l"
    elsewhere = service.get_container_client(other)
    assert refused(lambda: elsewhere.download_blob("data/a.csv").readall()) == 403
    assert refused(lambda: elsewhere.upload_blob("data/new.csv", b"no")) == 403


# --------------------------------------------------------------------------- service SAS


@pytest.fixture
def key_creds(azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> AzureCredentials:
    set_env_secret(monkeypatch, "key", {"connection_string": azurite.connection_string})
    return resolve_credentials("key")


def test_a_read_only_service_sas_reads_and_nothing_else(key_creds: AzureCredentials) -> None:
    container, other = unique_container_name(), unique_container_name()
    prepare(key_creds, container, other)
    scoped = key_creds.scoped(container, permissions="r", ttl="15m")
    assert scoped.schema_id == "azure-sas-token"
    assert (scoped.name, scoped.source) == ("key", "env")
    assert scoped.scope is not None
    assert scoped.scope.signed_with == "account-key"
    params = sas_params(scoped)
    assert (params["sr"], params["sp"]) == ("c", "r")
    assert "skoid" not in params  # a service SAS, not a user delegation one
    check_read_only_container_sas(scoped, container, other)


def test_sas_times_are_the_ttl_from_now_with_a_start_skew_margin(
    key_creds: AzureCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    freeze_clock(monkeypatch, now)
    container = unique_container_name()
    scoped = key_creds.scoped(container, ttl=timedelta(hours=2))
    params = sas_params(scoped)
    assert params["st"] == "2030-05-06T06:53:09Z"  # 15 minutes before now
    assert params["se"] == "2030-05-06T09:08:09Z"
    assert scoped.scope is not None
    assert scoped.scope.expires_on == now + timedelta(hours=2)


def test_a_service_sas_past_its_ttl_is_refused(
    key_creds: AzureCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = unique_container_name()
    prepare(key_creds, container)
    freeze_clock(monkeypatch, datetime.now(UTC) - timedelta(hours=2))
    expired = key_creds.scoped(container, ttl="1h")  # valid from 2h15m ago until 1h ago
    blob = expired.blob_service_client(retry_total=0).get_blob_client(container, "data/a.csv")
    assert refused(lambda: blob.download_blob().readall()) == 403
    monkeypatch.undo()  # the same SAS minted now works: it was the time that was refused
    fresh = key_creds.scoped(container, ttl="1h")
    assert fresh.blob_service_client(retry_total=0).get_blob_client(container, "data/a.csv").exists()


def test_one_blob_scope_reaches_that_blob_only(key_creds: AzureCredentials) -> None:
    container = unique_container_name()
    prepare(key_creds, container)
    scoped = key_creds.scoped(container, blob="data/a.csv", permissions="read,write")
    assert sas_params(scoped)["sr"] == "b"
    service = scoped.blob_service_client(retry_total=0)
    own = service.get_blob_client(container, "data/a.csv")
    assert own.download_blob().readall() == b"x,y\n1,2\n"
    own.upload_blob(b"x,y\n9,9\n", overwrite=True)  # write was granted, on this blob
    sibling = service.get_blob_client(container, "data/b.csv")
    assert refused(lambda: sibling.download_blob().readall()) == 403
    assert refused(lambda: service.get_blob_client(container, "data/c.csv").upload_blob(b"no")) == 403


def test_write_list_scope_grants_exactly_that(key_creds: AzureCredentials) -> None:
    container = unique_container_name()
    prepare(key_creds, container)
    scoped = key_creds.scoped(container, permissions="cwl", ttl=600)
    own = scoped.blob_service_client(retry_total=0).get_container_client(container)
    own.upload_blob("out/result.csv", b"ok")
    assert sorted(b.name for b in own.list_blobs()) == ["data/a.csv", "data/b.csv", "out/result.csv"]
    assert refused(lambda: own.download_blob("data/a.csv").readall()) == 403  # no "r"
    assert refused(lambda: own.delete_blob("data/a.csv")) == 403  # no "d"


def test_a_prefix_is_refused_on_a_flat_namespace_never_widened(key_creds: AzureCredentials) -> None:
    container = unique_container_name()
    with pytest.raises(ScopeError, match="hierarchical namespace") as info:
        key_creds.scoped(container, prefix="runs/7")
    assert "never widens" in str(info.value)


def test_a_sas_cannot_mint_a_sas(key_creds: AzureCredentials) -> None:
    scoped = key_creds.scoped(unique_container_name())
    with pytest.raises(ScopeError, match="a SAS cannot mint"):
        scoped.scoped(unique_container_name())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"permissions": "rx"}, "unknown permission 'rx'"),
        ({"permissions": "read,own"}, "unknown permission 'own'"),
        ({"permissions": ""}, "non-empty"),
        ({"permissions": "l", "blob": "a.csv"}, "cannot list"),
        ({"ttl": 0}, "positive"),
        ({"ttl": "-5m"}, "not a duration"),
        ({"ttl": "8d"}, "longer than 7 days"),
        ({"ttl": timedelta(days=7, seconds=1)}, "longer than 7 days"),
        ({"ttl": "soon"}, "not a duration"),
        ({"prefix": "a", "blob": "b"}, "not both"),
        ({"blob": "../x"}, "'..'"),
    ],
)
def test_bad_scopes_are_refused_locally(
    kwargs: dict[str, object], message: str, azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An account no server answers for: any request would fail differently (and the guard is on).
    set_env_secret(
        monkeypatch,
        "far",
        {"connection_string": azurite.connection_string.replace(str(azurite.port), "9")},
    )
    creds = resolve_credentials("far")
    with pytest.raises(ScopeError, match=message):
        creds.scoped("models", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("container", ["ab", "Models", "a--b", "-ab", "x" * 64])
def test_container_names_are_checked_locally(container: str, key_creds: AzureCredentials) -> None:
    with pytest.raises(ScopeError, match="not a container name"):
        key_creds.scoped(container)


def test_permission_words_and_letters_mean_the_same(key_creds: AzureCredentials) -> None:
    assert azcreds.scoping.parse_permissions("list read") == "rl"
    assert azcreds.scoping.parse_permissions("r, l") == "rl"
    assert azcreds.scoping.parse_permissions("dwcar") == "racwd"
    assert azcreds.scoping.parse_duration("1h30m") == timedelta(minutes=90)


# --------------------------------------------------------------------------- user delegation SAS


@pytest.fixture
def trust_test_ca(azurite_user_delegation: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_user_delegation.ca_path))


@pytest.fixture
def sp_creds(
    azurite_user_delegation: AzuriteServer,
    entra_authority: EntraAuthority,
    monkeypatch: pytest.MonkeyPatch,
    trust_test_ca: None,
) -> AzureCredentials:
    set_env_secret(
        monkeypatch,
        "sp",
        {
            "account_name": azurite_user_delegation.account_name,
            "account_url": azurite_user_delegation.blob_endpoint,
            "tenant_id": entra_authority.tenant_id,
            "client_id": entra_authority.app.client_id,
            "client_secret": entra_authority.app.client_secret,
            "authority_host": entra_authority.authority,
        },
    )
    return resolve_credentials("sp")


def test_a_read_only_user_delegation_sas_reads_and_nothing_else(sp_creds: AzureCredentials) -> None:
    container, other = unique_container_name(), unique_container_name()
    prepare(sp_creds, container, other)
    scoped = sp_creds.scoped(container, ttl="30m")
    assert scoped.scope is not None
    assert scoped.scope.signed_with == "user-delegation-key"
    params = sas_params(scoped)
    assert params["skoid"]  # signed with a user delegation key, for the principal's object id
    assert params["spr"] == "https"
    assert (params["sr"], params["sp"]) == ("c", "r")
    check_read_only_container_sas(scoped, container, other)


def test_a_user_delegation_sas_past_its_ttl_is_refused(
    sp_creds: AzureCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = unique_container_name()
    prepare(sp_creds, container)
    freeze_clock(monkeypatch, datetime.now(UTC) - timedelta(hours=3))
    expired = sp_creds.scoped(container, ttl="2h")
    blob = expired.blob_service_client(retry_total=0).get_blob_client(container, "data/a.csv")
    assert refused(lambda: blob.download_blob().readall()) == 403


def test_a_user_delegation_sas_for_one_blob(sp_creds: AzureCredentials) -> None:
    container = unique_container_name()
    prepare(sp_creds, container)
    scoped = sp_creds.scoped(container, blob="data/b.csv")
    service = scoped.blob_service_client(retry_total=0)
    assert service.get_blob_client(container, "data/b.csv").download_blob().readall() == b"x,y\n3,4\n"
    assert refused(lambda: service.get_blob_client(container, "data/a.csv").download_blob().readall()) == 403


def test_a_managed_identity_mints_a_user_delegation_sas(
    azurite_user_delegation: AzuriteServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    trust_test_ca: None,
) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_user_delegation.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_user_delegation.blob_endpoint)
    creds = resolve_credentials()
    assert creds.schema_id == "azure-managed-identity"
    container = unique_container_name()
    prepare(creds, container)
    scoped = creds.scoped(container, permissions="rl")
    own = scoped.blob_service_client(retry_total=0).get_container_client(container)
    assert [b.name for b in own.list_blobs()] == ["data/a.csv", "data/b.csv"]
    assert refused(lambda: own.upload_blob("data/new.csv", b"no")) == 403


def test_a_user_delegation_sas_pickles_without_the_client_secret(
    sp_creds: AzureCredentials, entra_authority: EntraAuthority
) -> None:
    import pickle

    container = unique_container_name()
    prepare(sp_creds, container)
    scoped = sp_creds.scoped(container, permissions="r", ttl="5m")
    payload = pickle.dumps(scoped)
    secret = entra_authority.app.client_secret
    assert secret.encode() not in payload
    assert secret not in repr(scoped) + str(scoped)
    back = pickle.loads(payload)
    assert back.blob_service_client(retry_total=0).get_blob_client(container, "data/a.csv").exists()


def test_a_directory_sas_is_signed_for_the_prefix_and_azurite_refuses_it(key_creds: AzureCredentials) -> None:
    """The hierarchical-namespace path: no emulator has one, so the signing is checked here and
    the refusal of ``sr=d`` on a flat namespace is Azurite's (a prefix is never a container SAS)."""
    container = unique_container_name()
    prepare(key_creds, container)
    now = datetime.now(UTC)
    account_key = key_creds.credential.named_key.key
    token = azcreds.scoping._sign(
        key_creds,
        container,
        "data",
        "rl",
        now - timedelta(minutes=15),
        now + timedelta(minutes=10),
        account_key=account_key,
        user_delegation_key=None,
        directory=True,
    )
    params = {k: v[0] for k, v in parse_qs(token).items()}
    assert (params["sr"], params["sdd"], params["sp"]) == ("d", "1", "rl")
    from azure.core.credentials import AzureSasCredential
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(key_creds.account_url, credential=AzureSasCredential(token), retry_total=0)
    blob = service.get_blob_client(container, "data/a.csv")
    assert refused(lambda: blob.download_blob().readall()) == 403


def test_scoped_credentials_say_what_they_allow(key_creds: AzureCredentials) -> None:
    container = unique_container_name()
    scoped = key_creds.scoped(container, permissions="rl", ttl="10m")
    assert f"scoped to az://{container} (rl) until " in str(scoped)
    assert "sig=" not in str(scoped) + repr(scoped)


def test_an_account_key_secret_mints_a_service_sas(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env_secret(
        monkeypatch,
        "ak",
        {
            "account_name": azurite.account_name,
            "account_key": azurite.account_key,
            "account_url": azurite.blob_endpoint,
        },
    )
    creds = resolve_credentials("ak")
    assert creds.schema_id == "azure-account-key"
    container = unique_container_name()
    prepare(creds, container)
    scoped = creds.scoped(container)
    assert scoped.blob_service_client(retry_total=0).get_blob_client(container, "data/b.csv").exists()


def test_a_refused_user_delegation_key_is_a_permission_error_without_the_token(
    azurite_user_delegation: AzuriteServer, trust_test_ca: None
) -> None:
    """Azurite refuses the key request of a token for another audience: a real 403, mapped."""
    from azcreds import ManagedIdentitySecret, PermissionDeniedError
    from azcreds.testing import StaticTokenCredential, mint_token

    secret = ManagedIdentitySecret(
        account_name=azurite_user_delegation.account_name, account_url=azurite_user_delegation.blob_endpoint
    )
    creds = AzureCredentials.from_secret(secret, name="mi", source="managed-identity")
    token = mint_token("https://vault.azure.net")
    creds._credential.append(StaticTokenCredential(token))  # the identity a workload would have got
    with pytest.raises(PermissionDeniedError, match="could not get a user delegation key") as info:
        creds.scoped(unique_container_name(), client_kwargs={"retry_total": 0})
    assert token not in str(info.value)
