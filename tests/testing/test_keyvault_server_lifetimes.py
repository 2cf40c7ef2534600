"""KeyVaultServer's versions and lifetimes, shown with the official azure-keyvault-secrets SDK:
version listing with paging and maxresults, disabled versions, and nbf/exp, which Key Vault
stores and returns but (for secrets) does not enforce on get."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.secrets import SecretClient

from azcreds.testing import KEYVAULT_AUDIENCE, KeyVaultServer, StaticTokenCredential, mint_token


@pytest.fixture
def client(keyvault_server: KeyVaultServer) -> SecretClient:
    credential = StaticTokenCredential(mint_token(KEYVAULT_AUDIENCE))
    return SecretClient(keyvault_server.vault_url, credential, **keyvault_server.client_kwargs())


def test_versions_are_listed_in_pages_of_maxresults(
    keyvault_server: KeyVaultServer, client: SecretClient
) -> None:
    made = [client.set_secret("rotated", f"value-{i}").properties.version for i in range(7)]
    keyvault_server.clear_requests()
    listed = [p.version for p in client.list_properties_of_secret_versions("rotated", max_page_size=3)]
    assert listed == made
    pages = [r for r in keyvault_server.requests if r.path.endswith("/versions") and r.authorized]
    assert [r.query.get("maxresults") for r in pages] == ["3", "3", "3"]  # 3 + 3 + 1
    with pytest.raises(HttpResponseError) as refused:
        list(client.list_properties_of_secret_versions("rotated", max_page_size=0))
    assert refused.value.status_code == 400


def test_not_before_and_expires_round_trip_and_are_not_enforced_on_get(client: SecretClient) -> None:
    starts = datetime(2030, 1, 1, tzinfo=UTC)
    expires = datetime(2020, 1, 1, tzinfo=UTC)  # already past: stored as given
    created = client.set_secret("dated", "v", not_before=starts, expires_on=expires)
    assert (created.properties.not_before, created.properties.expires_on) == (starts, expires)
    fetched = client.get_secret("dated")  # Key Vault returns a not-yet-valid or expired secret
    assert fetched.value == "v"
    assert (fetched.properties.not_before, fetched.properties.expires_on) == (starts, expires)
    [listed] = client.list_properties_of_secret_versions("dated")
    assert (listed.not_before, listed.expires_on) == (starts, expires)
    later = datetime(2031, 6, 30, tzinfo=UTC)
    updated = client.update_secret_properties("dated", created.properties.version, expires_on=later)
    assert (updated.not_before, updated.expires_on) == (starts, later)  # nbf kept, exp changed


def test_a_disabled_version_refuses_get_but_others_still_read(client: SecretClient) -> None:
    old = client.set_secret("toggle", "old").properties.version
    new = client.set_secret("toggle", "new").properties.version
    client.update_secret_properties("toggle", new, enabled=False)
    with pytest.raises(HttpResponseError) as disabled:
        client.get_secret("toggle")
    assert disabled.value.status_code == 403
    assert disabled.value.error is not None
    assert disabled.value.error.innererror == {"code": "SecretDisabled"}
    assert "disabled secret" in str(disabled.value.message)
    assert client.get_secret("toggle", old).value == "old"
    states = {p.version: p.enabled for p in client.list_properties_of_secret_versions("toggle")}
    assert states == {old: True, new: False}
