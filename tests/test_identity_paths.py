"""Service principal and managed identity secrets, end to end: token endpoint → credential →
BlobServiceClient → HTTPS Azurite with OAuth. Everything on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from azcreds import AzureCredentials, ManagedIdentityResolver, explain_resolution, resolve_credentials
from azcreds.testing import AzuriteServer, EntraAuthority, ManagedIdentityEndpoint


@pytest.fixture
def trust_test_ca(azurite_https: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """azure-identity's requests transport trusts REQUESTS_CA_BUNDLE (SSL_CERT_FILE alone is not enough)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_https.ca_path))


def round_trip(creds: AzureCredentials, azurite: AzuriteServer, container: str) -> bytes:
    service = creds.blob_service_client(connection_verify=str(azurite.ca_path), retry_total=0)
    service.create_container(container)
    blob = service.get_blob_client(container, "model/weights.bin")
    blob.upload_blob(b"token-authenticated bytes")
    return blob.download_blob().readall()


@pytest.mark.usefixtures("trust_test_ca")
def test_service_principal_secret_round_trip(
    azurite_https: AzuriteServer,
    entra_authority: EntraAuthority,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = entra_authority.app
    for field, value in {
        "ACCOUNT_NAME": azurite_https.account_name,
        "ACCOUNT_URL": azurite_https.blob_endpoint,
        "TENANT_ID": entra_authority.tenant_id,
        "CLIENT_ID": app.client_id,
        "CLIENT_SECRET": app.client_secret,
        "AUTHORITY_HOST": entra_authority.authority,
    }.items():
        monkeypatch.setenv(f"AZCREDS_SP__{field}", value)
    creds = resolve_credentials("sp")
    assert creds.schema_id == "azure-service-principal"
    assert type(creds.credential).__name__ == "ClientSecretCredential"
    assert round_trip(creds, azurite_https, container_name) == b"token-authenticated bytes"
    assert entra_authority.token_count() >= 1


@pytest.mark.usefixtures("trust_test_ca")
def test_wrong_client_secret_is_an_authentication_error(
    azurite_https: AzuriteServer,
    entra_authority: EntraAuthority,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_https.blob_endpoint)
    monkeypatch.setenv("AZURE_STORAGE_TENANT_ID", entra_authority.tenant_id)
    monkeypatch.setenv("AZURE_STORAGE_CLIENT_ID", entra_authority.app.client_id)
    monkeypatch.setenv("AZURE_STORAGE_CLIENT_SECRET", "not-the-secret")
    monkeypatch.setenv("AZURE_STORAGE_AUTHORITY_HOST", entra_authority.authority)
    creds = resolve_credentials()  # the seed's implicit service principal variables
    with pytest.raises(ClientAuthenticationError):
        round_trip(creds, azurite_https, container_name)


@pytest.mark.usefixtures("trust_test_ca")
@pytest.mark.parametrize("style", ["app_service", "imds"])
@pytest.mark.parametrize("assigned", ["system", "user"])
def test_managed_identity_round_trip(
    style: str,
    assigned: str,
    azurite_https: AzuriteServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = (
        managed_identity_endpoint.app_service_env()
        if style == "app_service"
        else managed_identity_endpoint.imds_env()
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", azurite_https.blob_endpoint)
    if assigned == "user":
        monkeypatch.setenv("AZURE_STORAGE_CLIENT_ID", managed_identity_endpoint.user_assigned[0].client_id)
    creds = resolve_credentials()  # implicit chain: no AZURE_STORAGE_* credential → managed identity
    assert creds.source == "managed-identity"
    assert (creds.secret.field_values().get("client_id") is not None) == (assigned == "user")
    assert round_trip(creds, azurite_https, container_name) == b"token-authenticated bytes"
    assert managed_identity_endpoint.token_count(style) == 1


@pytest.mark.usefixtures("trust_test_ca")
def test_named_managed_identity_secret_round_trip(
    azurite_https: AzuriteServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZCREDS_MI__SCHEMA", "azure-managed-identity")
    monkeypatch.setenv("AZCREDS_MI__ACCOUNT_NAME", azurite_https.account_name)
    monkeypatch.setenv("AZCREDS_MI__ACCOUNT_URL", azurite_https.blob_endpoint)
    monkeypatch.setenv("AZCREDS_MI__CLIENT_ID", managed_identity_endpoint.user_assigned[0].client_id)
    creds = resolve_credentials("mi")
    assert creds.source == "env"
    assert round_trip(creds, azurite_https, container_name) == b"token-authenticated bytes"


def test_implicit_managed_identity_refuses_an_http_account_url_naming_the_variable(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azcreds import SchemaValidationError

    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", "http://127.0.0.1:10000/acct")
    with pytest.raises(SchemaValidationError) as info:
        resolve_credentials()  # before: resolved, then the SDK's raw "only supported with HTTPS"
    assert info.value.fields == ("AZURE_STORAGE_ACCOUNT_URL",)
    assert managed_identity_endpoint.token_count() == 0


def test_managed_identity_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    from azcreds import ResolverUnavailableError, clear_cache

    resolver = ManagedIdentityResolver()
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    with pytest.raises(ResolverUnavailableError, match="no managed identity endpoint"):
        resolver.resolve(None)  # auto, and nothing in the environment: IMDS is not probed
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", "imds")
    clear_cache()
    assert resolver.resolve(None).schema_id == "azure-managed-identity"
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", "off")
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")
    clear_cache()
    with pytest.raises(ResolverUnavailableError, match="off"):
        resolver.resolve(None)
    monkeypatch.setenv("AZCREDS_MANAGED_IDENTITY", "auto")
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME")
    clear_cache()
    with pytest.raises(ResolverUnavailableError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        resolver.resolve(None)


def test_chain_miss_off_azure_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """With managed identity `auto` and no identity environment, missing costs no network at all."""
    opened: list[object] = []
    original = socket.socket.connect

    def counting_connect(self: socket.socket, address: object) -> None:
        opened.append(address)
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    for name in ("az_secret", None):
        res = explain_resolution(name)
        assert not res.ok
        assert [a.source for a in res.attempts[-2:]] == ["managed-identity", "developer"]
        assert {a.outcome for a in res.attempts} == {"miss"}
    assert opened == []
