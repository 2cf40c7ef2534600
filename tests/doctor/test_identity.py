"""diagnose() with token credentials and account settings Azurite lacks, through StorageProxy: a
Contributor without a data role (ZenML #3433/#3476), shared-key access turned off, and the token
checks for a service principal and a managed identity, all over HTTPS with real tokens."""

from __future__ import annotations

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient

from azcreds.doctor import diagnose
from azcreds.testing import (
    AzuriteServer,
    EntraAuthority,
    ManagedIdentityEndpoint,
    StorageProxy,
)
from tests.doctor.helpers import creds, key_creds


@pytest.fixture
def https_container(
    azurite_https: AzuriteServer, container_name: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(azurite_https.ca_path))  # one test CA for every server
    key = AzureNamedKeyCredential(azurite_https.account_name, azurite_https.account_key)
    BlobServiceClient(azurite_https.account_url(), credential=key).create_container(container_name)
    return container_name


def sp_creds(proxy: StorageProxy, authority: EntraAuthority, client_secret: str | None = None):  # type: ignore[no-untyped-def]
    return creds(
        "azure-service-principal",
        account_name=proxy.upstream.account_name,
        account_url=proxy.account_url(),
        tenant_id=authority.tenant_id,
        client_id=authority.app.client_id,
        client_secret=client_secret or authority.app.client_secret,
        authority_host=authority.authority,
    )


def test_a_contributor_without_a_data_role_is_told_which_role_each_operation_needs(
    storage_proxy: StorageProxy, entra_authority: EntraAuthority, https_container: str
) -> None:
    storage_proxy.rbac = True
    storage_proxy.assign_role(entra_authority.app.object_id, "Contributor")
    report = diagnose(credentials=sp_creds(storage_proxy, entra_authority), container=https_container)
    assert report.check("token").status == "pass"
    assert report.check("authentication").status == "pass"  # the service knows who it is
    assert report.check("container").status == "pass"  # a Contributor may read container properties
    for op, role in [
        ("list", "Storage Blob Data Reader"),
        ("read", "Storage Blob Data Reader"),
        ("write", "Storage Blob Data Contributor"),
        ("delete", "Storage Blob Data Contributor"),
    ]:
        check = report.check(op)
        assert check.status == "fail", op
        assert "AuthorizationPermissionMismatch" in check.evidence
        assert f'assign "{role}"' in (check.fix or "")
        assert entra_authority.app.client_id in (check.fix or "")
        assert "grant no access to its data" in (check.fix or "")
    denied = [
        r for r in storage_proxy.requests if r.details.get("decision") == "AuthorizationPermissionMismatch"
    ]
    assert len(denied) == 4


def test_with_the_data_role_every_check_passes(
    storage_proxy: StorageProxy, entra_authority: EntraAuthority, https_container: str
) -> None:
    storage_proxy.rbac = True
    storage_proxy.assign_role(
        entra_authority.app.object_id, "Storage Blob Data Contributor", container=https_container
    )
    report = diagnose(credentials=sp_creds(storage_proxy, entra_authority), container=https_container)
    assert report.ok, report.render()
    assert report.check("shared-key").status == "skip"  # tokens do not depend on it
    assert "in " in report.check("token").evidence
    assert " ms" in report.check("token").evidence
    assert entra_authority.authority in report.check("token").evidence


def test_a_wrong_client_secret_fails_the_token_check(
    storage_proxy: StorageProxy, entra_authority: EntraAuthority, https_container: str
) -> None:
    wrong = "wrong-client-secret-" + "x" * 20
    report = diagnose(credentials=sp_creds(storage_proxy, entra_authority, wrong), container=https_container)
    token = report.check("token")
    assert token.status == "fail"
    assert "AADSTS7000215" in token.evidence
    assert "client_secret" in (token.fix or "")
    assert wrong not in report.render()
    assert entra_authority.app.client_secret not in report.render()
    assert storage_proxy.requests == []  # no storage request without a token


def test_shared_key_access_disabled_fails_for_keys_and_says_use_a_token(
    storage_proxy: StorageProxy, https_container: str
) -> None:
    upstream = storage_proxy.upstream
    credentials = key_creds(storage_proxy.account_url(), upstream.account_name, upstream.account_key)
    assert diagnose(credentials=credentials, container=https_container).check("shared-key").status == "pass"
    storage_proxy.shared_key_access = False
    report = diagnose(credentials=credentials, container=https_container)
    check = report.check("shared-key")
    assert check.status == "fail"
    assert "KeyBasedAuthenticationNotPermitted" in check.evidence
    assert "token credential" in (check.fix or "")
    assert report.check("authentication").status == "skip"
    assert not report.ok


def test_a_managed_identity_gets_its_token_and_reaches_storage(
    storage_proxy: StorageProxy,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    https_container: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    storage_proxy.rbac = True
    storage_proxy.assign_role(managed_identity_endpoint.system_assigned.object_id, "Storage Blob Data Reader")
    credentials = creds(
        "azure-managed-identity",
        account_name=storage_proxy.upstream.account_name,
        account_url=storage_proxy.account_url(),
    )
    report = diagnose(credentials=credentials, container=https_container, need="rl")
    assert report.ok, report.render()
    assert managed_identity_endpoint.app_service_url in report.check("token").evidence
    assert report.check("write").status == "skip"  # refused, and not needed
    assert "system-assigned" not in report.render()  # no fix shown when nothing failed
    assert managed_identity_endpoint.token_count() == 1


def test_a_managed_identity_with_no_endpoint_fails_the_token_check_without_probing(
    storage_proxy: StorageProxy, https_container: str
) -> None:
    credentials = creds(
        "azure-managed-identity",
        account_name=storage_proxy.upstream.account_name,
        account_url=storage_proxy.account_url(),
    )
    report = diagnose(credentials=credentials, container=https_container)
    token = report.check("token")
    assert token.status == "fail"
    assert "no managed identity endpoint" in token.evidence
    assert storage_proxy.requests == []


def test_an_unknown_user_assigned_identity_fails_the_token_check(
    storage_proxy: StorageProxy,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    https_container: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    credentials = creds(
        "azure-managed-identity",
        account_name=storage_proxy.upstream.account_name,
        account_url=storage_proxy.account_url(),
        client_id="0b7a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
    )
    report = diagnose(credentials=credentials, container=https_container)
    assert report.check("token").status == "fail"
    assert "client_id" in (report.check("token").fix or "")


@pytest.mark.parametrize(
    ("token_kwargs", "said"),
    [
        ({"lifetime": -120}, "Lifetime validation failed. The token is expired."),
        ({"audience": "https://vault.azure.net"}, "Invalid token audience."),
        ({"extra_claims": {"iss": "https://sts.example.org/"}}, "Invalid token issuer."),
    ],
)
def test_a_token_the_service_refuses_fails_authentication_with_the_services_reason(
    azurite_https: AzuriteServer,
    managed_identity_endpoint: ManagedIdentityEndpoint,
    https_container: str,
    monkeypatch: pytest.MonkeyPatch,
    token_kwargs: dict[str, object],
    said: str,
) -> None:
    """Azurite itself refuses these tokens (403 AuthenticationFailed with its detail); the token
    check passes, since the credential did hand one out."""
    from azcreds import AzureCredentials, parse_secret
    from azcreds.testing import StaticTokenCredential, mint_token

    for key, value in managed_identity_endpoint.app_service_env().items():
        monkeypatch.setenv(key, value)
    secret = parse_secret(
        "azure-managed-identity",
        {"account_name": azurite_https.account_name, "account_url": azurite_https.account_url()},
    )
    token = StaticTokenCredential(mint_token(**token_kwargs), expires_on=2**31 - 1)  # type: ignore[arg-type]
    credentials = AzureCredentials(
        name="doc",
        schema_id=secret.schema_id,
        source="env",
        account_name=secret.account_name,
        account_url=secret.account_url_value(),
        secret=secret,
        _credential=[token],  # a credential that hands out this token, as a broken identity would
    )
    report = diagnose(credentials=credentials, container=https_container)
    assert report.check("token").status == "pass"
    auth = report.check("authentication")
    assert auth.status == "fail"
    assert auth.details["code"] == "AuthenticationFailed"
    assert said in auth.evidence
    assert "https://storage.azure.com" in (auth.fix or "")
    assert token.token not in report.render()


def test_without_a_container_an_identity_with_no_role_cannot_list_the_account(
    storage_proxy: StorageProxy, entra_authority: EntraAuthority, https_container: str
) -> None:
    storage_proxy.rbac = True
    report = diagnose(credentials=sp_creds(storage_proxy, entra_authority))
    check = report.check("list-containers")
    assert check.status == "fail"
    assert "AuthorizationPermissionMismatch" in check.evidence
    assert 'assign "Storage Blob Data Reader"' in (check.fix or "")
    storage_proxy.assign_role(entra_authority.app.object_id, "Reader")
    assert diagnose(credentials=sp_creds(storage_proxy, entra_authority)).ok
