"""ManagedIdentityEndpoint and EntraAuthority driven by the real azure-identity (and MSAL).

The full token path runs for real: local token endpoint → azure-identity credential →
BlobServiceClient → Azurite over HTTPS with ``--oauth basic``. Nothing may leave loopback: the
plugin's network guard fails any test that tried, and the tests check it explicitly too.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
from azure.identity import (
    ClientSecretCredential,
    CredentialUnavailableError,
    DefaultAzureCredential,
    ManagedIdentityCredential,
)
from azure.storage.blob import BlobServiceClient

from azcreds.testing import (
    STORAGE_AUDIENCE,
    TEST_TENANT_ID,
    EntraAuthority,
    ManagedIdentityEndpoint,
    audience_for,
    network_guard,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from azure.core.credentials import TokenCredential

    from azcreds.testing import AzuriteServer

STORAGE_SCOPE = "https://storage.azure.com/.default"
VAULT_SCOPE = "https://vault.azure.net/.default"


def set_env(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def style_env(endpoint: ManagedIdentityEndpoint, style: str) -> dict[str, str]:
    return endpoint.app_service_env() if style == "app_service" else endpoint.imds_env()


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def blob_round_trip(azurite: AzuriteServer, credential: TokenCredential, container_name: str) -> None:
    service = BlobServiceClient(
        azurite.blob_endpoint, credential=credential, connection_verify=str(azurite.ca_path)
    )
    container = service.create_container(container_name)
    try:
        container.upload_blob("token/path.txt", b"through a local token endpoint")
        assert container.download_blob("token/path.txt").readall() == b"through a local token endpoint"
    finally:
        container.delete_container()


def raw_get(endpoint: ManagedIdentityEndpoint, path: str, headers: Mapping[str, str]) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=10)
    try:
        connection.request("GET", path, headers=dict(headers))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_audience_for_resources_and_scopes() -> None:
    assert audience_for(STORAGE_SCOPE) == STORAGE_AUDIENCE
    assert audience_for("https://storage.azure.com/") == STORAGE_AUDIENCE
    assert audience_for(VAULT_SCOPE) == "https://vault.azure.net"
    assert audience_for("api://my-app/.default") == "api://my-app"


# -- managed identity, App Service style ---------------------------------------------------------


def test_app_service_token_for_the_system_identity_is_cached(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, managed_identity_endpoint.app_service_env())
    credential = ManagedIdentityCredential()

    tokens = {credential.get_token(STORAGE_SCOPE).token for _ in range(3)}

    assert len(tokens) == 1
    assert managed_identity_endpoint.token_count("app_service") == 1
    (request,) = managed_identity_endpoint.requests
    assert request.path == "/msi/token"
    assert dict(request.query) == {"api-version": "2019-08-01", "resource": "https://storage.azure.com"}
    assert request.details["identity_header"] == "valid"
    assert request.details["metadata"] == "true"
    claims = claims_of(tokens.pop())
    system = managed_identity_endpoint.system_assigned
    assert (claims["aud"], claims["oid"], claims["appid"], claims["tid"]) == (
        STORAGE_AUDIENCE,
        system.object_id,
        system.client_id,
        TEST_TENANT_ID,
    )
    assert claims["exp"] - time.time() > 3500


def test_user_assigned_identity_has_its_own_object_id(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, managed_identity_endpoint.app_service_env())
    user = managed_identity_endpoint.add_user_assigned()

    token = ManagedIdentityCredential(client_id=user.client_id).get_token(VAULT_SCOPE).token

    claims = claims_of(token)
    assert (claims["aud"], claims["oid"], claims["appid"]) == (
        "https://vault.azure.net",
        user.object_id,
        user.client_id,
    )
    assert managed_identity_endpoint.requests[0].query["client_id"] == user.client_id
    assert user.object_id != managed_identity_endpoint.system_assigned.object_id


@pytest.mark.parametrize("style", ["app_service", "imds"])
def test_unknown_client_id_is_400(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    env = (
        managed_identity_endpoint.app_service_env()
        if style == "app_service"
        else managed_identity_endpoint.imds_env()
    )
    set_env(monkeypatch, env)
    credential = ManagedIdentityCredential(client_id="00000000-0000-4000-8000-000000000000", retry_total=0)

    # azure-identity reports a 400 from the endpoint as "unavailable", so a chain moves on.
    with pytest.raises(CredentialUnavailableError):
        credential.get_token(STORAGE_SCOPE)
    assert [r.status for r in managed_identity_endpoint.requests] == [400]


def test_no_system_identity_means_400_without_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    with ManagedIdentityEndpoint(system_assigned=False, user_assigned=1) as endpoint:
        set_env(monkeypatch, endpoint.app_service_env())
        with pytest.raises(CredentialUnavailableError):
            ManagedIdentityCredential().get_token(STORAGE_SCOPE)
        user = endpoint.user_assigned[0]
        assert claims_of(ManagedIdentityCredential(client_id=user.client_id).get_token(STORAGE_SCOPE).token)[
            "oid"
        ] == (user.object_id)
        with pytest.raises(LookupError):
            _ = endpoint.system_assigned


def test_identity_header_and_metadata_header_are_checked(
    managed_identity_endpoint: ManagedIdentityEndpoint,
) -> None:
    resource = "api-version=2019-08-01&resource=https://storage.azure.com"
    status, body = raw_get(
        managed_identity_endpoint, f"/msi/token?{resource}", {"X-IDENTITY-HEADER": "wrong"}
    )
    assert (status, body["statusCode"]) == (401, 401)
    status, _ = raw_get(
        managed_identity_endpoint,
        f"/msi/token?{resource}",
        {"X-IDENTITY-HEADER": managed_identity_endpoint.identity_header},
    )
    assert status == 200
    imds = "/imds/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com"
    status, body = raw_get(managed_identity_endpoint, imds, {})
    assert (status, body["error"]) == (400, "invalid_request")
    status, body = raw_get(managed_identity_endpoint, imds, {"Metadata": "true"})
    assert status == 200
    assert body["expires_in"] == "3600"
    assert [r.details["identity_header"] for r in managed_identity_endpoint.requests[:2]] == [
        "wrong",
        "valid",
    ]
    assert managed_identity_endpoint.identity_header not in repr(managed_identity_endpoint.requests)


# -- managed identity, IMDS style ----------------------------------------------------------------


def test_imds_style_through_pod_identity_host_never_probes_169_254(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, managed_identity_endpoint.imds_env())
    network_guard.clear_blocked_attempts()

    token = DefaultAzureCredential(exclude_workload_identity_credential=True).get_token(STORAGE_SCOPE).token

    assert claims_of(token)["oid"] == managed_identity_endpoint.system_assigned.object_id
    (request,) = managed_identity_endpoint.requests
    assert request.path == "/imds/metadata/identity/oauth2/token"
    assert request.query["api-version"] == "2018-02-01"
    assert request.details["metadata"] == "true"
    assert network_guard.blocked_attempts() == []


# -- the full token path to Azurite --------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "user_assigned"),
    [("app_service", False), ("app_service", True), ("imds", False), ("imds", True)],
    ids=["app-service-system", "app-service-user", "imds-system", "imds-user"],
)
def test_managed_identity_to_azurite_over_https(
    managed_identity_endpoint: ManagedIdentityEndpoint,
    azurite_https: AzuriteServer,
    container_name: str,
    monkeypatch: pytest.MonkeyPatch,
    style: str,
    user_assigned: bool,
) -> None:
    endpoint = managed_identity_endpoint
    set_env(monkeypatch, endpoint.app_service_env() if style == "app_service" else endpoint.imds_env())
    identity = endpoint.user_assigned[0] if user_assigned else endpoint.system_assigned
    credential = ManagedIdentityCredential(client_id=identity.client_id if user_assigned else None)

    blob_round_trip(azurite_https, credential, container_name)

    assert endpoint.token_count(style) == 1  # type: ignore[arg-type]
    assert endpoint.requests[0].identity == identity.client_id
    assert network_guard.blocked_attempts() == []


def test_service_principal_to_azurite_over_https(
    entra_authority: EntraAuthority, azurite_https: AzuriteServer, container_name: str
) -> None:
    app = entra_authority.app
    credential = ClientSecretCredential(
        entra_authority.tenant_id, app.client_id, app.client_secret, **entra_authority.credential_kwargs()
    )

    blob_round_trip(azurite_https, credential, container_name)

    discovery, token = entra_authority.requests
    assert (discovery.method, discovery.path) == (
        "GET",
        f"/{TEST_TENANT_ID}/v2.0/.well-known/openid-configuration",
    )
    assert (token.method, token.path, token.status) == ("POST", f"/{TEST_TENANT_ID}/oauth2/v2.0/token", 200)
    assert token.details["grant_type"] == "client_credentials"
    assert token.details["scope"] == STORAGE_SCOPE
    assert token.details["client_id"] == app.client_id
    assert token.details["client_secret"] == "<present>"
    assert app.client_secret not in repr(entra_authority.requests)
    assert network_guard.blocked_attempts() == []


def test_authority_host_variable_works_like_the_authority_argument(
    entra_authority: EntraAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra_authority.authority)
    app = entra_authority.app
    credential = ClientSecretCredential(
        entra_authority.tenant_id,
        app.client_id,
        app.client_secret,
        disable_instance_discovery=True,
        connection_verify=entra_authority.ca_path,
    )
    claims = claims_of(credential.get_token(VAULT_SCOPE).token)
    assert (claims["aud"], claims["oid"], claims["appid"]) == (
        "https://vault.azure.net",
        app.object_id,
        app.client_id,
    )


# -- Entra authority errors ----------------------------------------------------------------------


def test_wrong_secret_is_401_invalid_client(entra_authority: EntraAuthority) -> None:
    app = entra_authority.app
    credential = ClientSecretCredential(
        entra_authority.tenant_id, app.client_id, "not-the-secret", **entra_authority.credential_kwargs()
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(STORAGE_SCOPE)
    assert entra_authority.requests[-1].status == 401
    assert entra_authority.requests[-1].authorized is False
    assert "not-the-secret" not in repr(entra_authority.requests)


def test_unknown_client_other_tenant_and_bad_scope_are_refused(entra_authority: EntraAuthority) -> None:
    other = entra_authority.register_app()
    stranger = ClientSecretCredential(
        entra_authority.tenant_id,
        "00000000-0000-4000-8000-000000000001",
        other.client_secret,
        **entra_authority.credential_kwargs(),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        stranger.get_token(STORAGE_SCOPE)
    wrong_tenant = ClientSecretCredential(
        "99999999-0000-4000-8000-000000000000",
        other.client_id,
        other.client_secret,
        **entra_authority.credential_kwargs(),
    )
    with pytest.raises(ClientAuthenticationError):
        wrong_tenant.get_token(STORAGE_SCOPE)
    ok = ClientSecretCredential(
        entra_authority.tenant_id, other.client_id, other.client_secret, **entra_authority.credential_kwargs()
    )
    assert claims_of(ok.get_token(STORAGE_SCOPE).token)["oid"] == other.object_id
    with pytest.raises(ClientAuthenticationError, match="AADSTS1002012"):
        ok.get_token("https://storage.azure.com")  # client credentials need a /.default scope


def test_discovery_document(entra_authority: EntraAuthority) -> None:
    import ssl

    context = ssl.create_default_context(cafile=entra_authority.ca_path)
    connection = http.client.HTTPSConnection(
        entra_authority.host, entra_authority.port, context=context, timeout=10
    )
    try:
        connection.request("GET", f"/{TEST_TENANT_ID}/v2.0/.well-known/openid-configuration")
        document = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    base = f"{entra_authority.authority}/{TEST_TENANT_ID}"
    assert document["token_endpoint"] == entra_authority.token_endpoint == f"{base}/oauth2/v2.0/token"
    assert document["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert document["issuer"] == f"{base}/v2.0"
    assert document["jwks_uri"] == f"{base}/discovery/v2.0/keys"


def test_entra_500_then_success(entra_authority: EntraAuthority) -> None:
    app = entra_authority.app
    entra_authority.faults.add(status=500, times=1, method="POST")
    credential = ClientSecretCredential(
        entra_authority.tenant_id,
        app.client_id,
        app.client_secret,
        retry_backoff_factor=0.01,
        **entra_authority.credential_kwargs(),
    )
    assert credential.get_token(STORAGE_SCOPE).token
    assert [r.status for r in entra_authority.requests if r.method == "POST"] == [500, 200]


# -- managed identity faults, down and black hole ----------------------------------------------


def test_500_once_is_retried(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, managed_identity_endpoint.app_service_env())
    managed_identity_endpoint.faults.add(status=500, times=1)

    assert ManagedIdentityCredential(retry_backoff_factor=0.01).get_token(STORAGE_SCOPE).token
    assert [r.status for r in managed_identity_endpoint.requests] == [500, 200]


# What azure-identity raises when the endpoint does not answer differs by style: App Service lets
# the transport's error through, IMDS reports the endpoint as unavailable.
NO_ANSWER = {
    "app_service": (ServiceRequestError, ServiceResponseError),
    "imds": (CredentialUnavailableError, CredentialUnavailableError),
}


@pytest.mark.parametrize("style", ["app_service", "imds"])
def test_down_refuses_connections_then_comes_back_on_the_same_port(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    set_env(monkeypatch, style_env(managed_identity_endpoint, style))
    port = managed_identity_endpoint.port

    with managed_identity_endpoint.down():
        started = time.monotonic()
        with pytest.raises(NO_ANSWER[style][0]):
            ManagedIdentityCredential(retry_total=0).get_token(STORAGE_SCOPE)
        assert time.monotonic() - started < 5
        assert not managed_identity_endpoint.is_running

    assert managed_identity_endpoint.port == port
    assert ManagedIdentityCredential().get_token(STORAGE_SCOPE).token
    assert managed_identity_endpoint.token_count() == 1


@pytest.mark.parametrize("style", ["app_service", "imds"])
def test_black_hole_accepts_and_never_answers(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    set_env(monkeypatch, style_env(managed_identity_endpoint, style))
    managed_identity_endpoint.black_hole = True

    started = time.monotonic()
    with pytest.raises(NO_ANSWER[style][1]):
        ManagedIdentityCredential(retry_total=0, read_timeout=0.3).get_token(STORAGE_SCOPE)
    assert 0.3 <= time.monotonic() - started < 5
    assert [r.status for r in managed_identity_endpoint.requests] == [None]

    managed_identity_endpoint.black_hole = False
    assert ManagedIdentityCredential().get_token(STORAGE_SCOPE).token


def test_slow_token_endpoint(
    managed_identity_endpoint: ManagedIdentityEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, managed_identity_endpoint.app_service_env())
    managed_identity_endpoint.faults.add(delay=0.2)
    started = time.monotonic()
    assert ManagedIdentityCredential().get_token(STORAGE_SCOPE).token
    assert time.monotonic() - started >= 0.2
    assert managed_identity_endpoint.requests[0].fault is True


# -- what the real endpoints accept, as other clients spell it ------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/imds/metadata/identity/oauth2/token/",  # what Node's MSAL sends (lower-cased, trailing slash)
        "/IMDS/Metadata/Identity/OAuth2/Token",
    ],
)
def test_imds_path_takes_a_trailing_slash_and_any_case(
    managed_identity_endpoint: ManagedIdentityEndpoint, path: str
) -> None:
    query = "api-version=2018-02-01&resource=https://storage.azure.com"
    status, body = raw_get(managed_identity_endpoint, f"{path}?{query}", {"Metadata": "true"})
    assert status == 200, body
    assert claims_of(body["access_token"])["aud"] == STORAGE_AUDIENCE
    assert managed_identity_endpoint.token_count("imds") == 1


@pytest.mark.parametrize("path", ["/msi/token/", "/MSI/Token"])
def test_app_service_path_takes_a_trailing_slash_and_any_case(
    managed_identity_endpoint: ManagedIdentityEndpoint, path: str
) -> None:
    query = "api-version=2019-08-01&resource=https://storage.azure.com"
    # Header names are case-insensitive on the wire; some clients send them lower-cased.
    headers = {"x-identity-header": managed_identity_endpoint.identity_header}
    status, body = raw_get(managed_identity_endpoint, f"{path}?{query}", headers)
    assert status == 200, body
    assert managed_identity_endpoint.token_count("app_service") == 1


def test_unknown_paths_are_still_404(managed_identity_endpoint: ManagedIdentityEndpoint) -> None:
    query = "api-version=2018-02-01&resource=https://storage.azure.com"
    for path in ("/imds/metadata/identity/oauth2/token//", "/imds/metadata/identity/oauth2", "/msi/tokens"):
        status, _ = raw_get(managed_identity_endpoint, f"{path}?{query}", {"Metadata": "true"})
        assert status == 404, path


def https_get(authority: EntraAuthority, path: str) -> tuple[int, Any]:
    import ssl

    context = ssl.create_default_context(cafile=authority.ca_path)
    connection = http.client.HTTPSConnection(authority.host, authority.port, context=context, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        f"/{TEST_TENANT_ID}/v2.0/.well-known/openid-configuration/",
        f"/{TEST_TENANT_ID.upper()}/V2.0/.well-known/OpenID-Configuration",
        f"/{TEST_TENANT_ID}/.well-known/openid-configuration",  # the v1 document
    ],
)
def test_discovery_takes_v1_trailing_slash_and_any_case(entra_authority: EntraAuthority, path: str) -> None:
    status, document = https_get(entra_authority, path)
    assert status == 200, document
    assert document["token_endpoint"].startswith(f"{entra_authority.authority}/{TEST_TENANT_ID}/oauth2/")
    assert "authorization_endpoint" in document


def test_v1_discovery_names_the_v1_endpoints(entra_authority: EntraAuthority) -> None:
    _, document = https_get(entra_authority, f"/{TEST_TENANT_ID}/.well-known/openid-configuration")
    base = f"{entra_authority.authority}/{TEST_TENANT_ID}"
    assert document["token_endpoint"] == f"{base}/oauth2/token"
    assert document["issuer"] == f"https://sts.windows.net/{TEST_TENANT_ID}/"


def test_token_endpoint_takes_a_trailing_slash_and_any_case(entra_authority: EntraAuthority) -> None:
    import ssl
    from urllib.parse import urlencode

    app = entra_authority.app
    form = {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "scope": STORAGE_SCOPE,
    }
    v1_form = {**{k: v for k, v in form.items() if k != "scope"}, "resource": "https://storage.azure.com"}
    context = ssl.create_default_context(cafile=entra_authority.ca_path)
    for path, fields in (
        (f"/{TEST_TENANT_ID}/oauth2/v2.0/token/", form),
        (f"/{TEST_TENANT_ID}/OAuth2/V2.0/Token", form),
        (f"/{TEST_TENANT_ID}/oauth2/token", v1_form),  # the v1 endpoint names a resource
    ):
        connection = http.client.HTTPSConnection(
            entra_authority.host, entra_authority.port, context=context, timeout=10
        )
        try:
            connection.request(
                "POST",
                path,
                body=urlencode(fields),
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
        assert response.status == 200, (path, body)
        assert claims_of(body["access_token"])["aud"] == STORAGE_AUDIENCE
    assert body["resource"] == "https://storage.azure.com"
    assert entra_authority.token_count() == 3
