"""The test servers judged by another SDK: @azure/keyvault-secrets with @azure/identity (Node's MSAL).

``tests/node/keyvault_secrets.js`` runs every secrets operation against :class:`KeyVaultServer`,
with tokens from the local managed identity endpoint (App Service style, then IMDS style as Node's
MSAL spells it: lower-cased with a trailing slash) or from the Entra-style authority
(``ClientSecretCredential``), under the loopback-only Node guard.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from azcreds.testing.node import run_node

if TYPE_CHECKING:
    from azcreds.testing import EntraAuthority, KeyVaultServer, ManagedIdentityEndpoint

SCRIPT = Path(__file__).resolve().parent.parent / "node" / "keyvault_secrets.js"


def run_script(vault: KeyVaultServer, *args: str, env: dict[str, str]) -> dict[str, Any]:
    child = {**os.environ, **env, "VAULT_URL": vault.vault_url, "NODE_EXTRA_CA_CERTS": str(vault.ca_path)}
    result = run_node(SCRIPT, *args, env=child, timeout=60).check()
    results: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return results


def check_operations(out: dict[str, Any], vault: KeyVaultServer) -> None:
    """Every operation's result, as Key Vault would give it."""
    first, second = out["set"]
    assert (first["contentType"], first["tags"], first["enabled"]) == ("text/plain", {"by": "node"}, True)
    assert first["id"] == f"{vault.vault_url}/secrets/node-secret/{first['version']}"
    assert out["get"] == {"value": "value-2", "version": second["version"]}
    assert out["getVersion"]["value"] == "value-1"
    assert out["getVersion"]["version"] == first["version"]
    assert out["list"] == ["node-other", "node-secret"]
    assert out["listVersions"] == [first["version"], second["version"]]
    assert (out["update"]["contentType"], out["update"]["tags"]) == ("application/json", {"updated": "yes"})
    assert out["disable"] == {"enabled": False, "getFails": {"status": 403, "code": "Forbidden"}}
    assert out["backup"]["bytes"] > 0
    assert out["backup"]["containsValue"] is False
    assert out["delete"] == {
        "name": "node-secret",
        "recoveryId": f"{vault.vault_url}/deletedsecrets/node-secret",
        "hasDates": True,
    }
    assert out["getAfterDelete"] == {"status": 404, "code": "SecretNotFound"}
    assert out["getDeleted"] == {"name": "node-secret"}
    assert out["listDeleted"] == ["node-secret"]
    assert out["setWhileDeleted"] == {"status": 409, "code": "Conflict"}
    assert out["recover"] == {"name": "node-secret"}
    assert out["getAfterRecover"] == "value-2"
    assert out["restoreOverExisting"] == {"status": 409, "code": "Conflict"}
    assert out["restoreOverDeleted"] == {"status": 409, "code": "Conflict"}
    assert out["purge"] == {"getDeletedAfter": {"status": 404, "code": "SecretNotFound"}}
    assert out["restore"]["name"] == "node-secret"
    assert out["restore"]["version"] == second["version"]
    assert out["restore"]["contentType"] == "application/json"  # the properties as backed up
    assert out["restoredVersions"] == [first["version"], second["version"]]
    assert out["getAfterRestore"] == "value-2"
    assert out["restoreTampered"] == {"status": 400, "code": "BadParameter"}
    assert out["notFound"] == {"status": 404, "code": "SecretNotFound"}
    assert out["notFoundVersion"] == {"status": 404, "code": "SecretNotFound"}
    # The server saw the whole list, authorized, and nothing it did not expect.
    assert vault.errors == []
    for method, route in [
        ("PUT", r"^/secrets/node-secret$"),
        ("GET", r"^/secrets/node-secret/$"),
        ("GET", r"^/secrets/node-secret/[0-9a-f]{32}$"),
        ("GET", r"^/secrets$"),
        ("GET", r"^/secrets/node-secret/versions$"),
        ("PATCH", r"^/secrets/node-secret/[0-9a-f]{32}$"),
        ("PATCH", r"^/secrets/node-other/$"),
        ("POST", r"^/secrets/node-secret/backup$"),
        ("DELETE", r"^/secrets/node-secret$"),
        ("GET", r"^/deletedsecrets/node-secret$"),
        ("GET", r"^/deletedsecrets$"),
        ("POST", r"^/deletedsecrets/node-secret/recover$"),
        ("DELETE", r"^/deletedsecrets/node-secret$"),
        ("POST", r"^/secrets/restore$"),
    ]:
        assert vault.count(method, route, authorized=True) >= 1, (method, route)
    assert vault.secret_names() == ["node-other", "node-secret"]


def test_managed_identity_app_service_style(
    keyvault_server: KeyVaultServer, managed_identity_endpoint: ManagedIdentityEndpoint
) -> None:
    out = run_script(keyvault_server, "app-service", env=managed_identity_endpoint.app_service_env())

    check_operations(out, keyvault_server)
    identities = {r.identity for r in keyvault_server.requests if r.authorized}
    assert identities == {managed_identity_endpoint.system_assigned.object_id}
    assert managed_identity_endpoint.token_count("app_service") >= 1
    assert {r.details["identity_header"] for r in managed_identity_endpoint.requests} == {"valid"}


@pytest.mark.parametrize("assigned", ["system", "user"])
def test_managed_identity_imds_style(
    keyvault_server: KeyVaultServer, managed_identity_endpoint: ManagedIdentityEndpoint, assigned: str
) -> None:
    identity = (
        managed_identity_endpoint.system_assigned
        if assigned == "system"
        else managed_identity_endpoint.user_assigned[0]
    )
    args = ["imds"] if assigned == "system" else ["imds", identity.client_id]

    out = run_script(keyvault_server, *args, env=managed_identity_endpoint.imds_env())

    check_operations(out, keyvault_server)
    assert {r.identity for r in keyvault_server.requests if r.authorized} == {identity.object_id}
    token_requests = managed_identity_endpoint.requests
    # Node's MSAL asks for the lower-cased URL with a trailing slash; it is answered at once.
    assert {r.path for r in token_requests} == {"/imds/metadata/identity/oauth2/token/"}
    assert {r.status for r in token_requests} == {200}
    assert {r.details["metadata"] for r in token_requests} == {"true"}
    if assigned == "user":
        assert {r.query.get("client_id") for r in token_requests} == {identity.client_id}


def test_client_secret_credential_against_the_local_authority(
    keyvault_server: KeyVaultServer, entra_authority: EntraAuthority
) -> None:
    app = entra_authority.app
    env = {
        "AZCREDS_TEST_TENANT_ID": entra_authority.tenant_id,
        "AZCREDS_TEST_CLIENT_ID": app.client_id,
        "AZCREDS_TEST_CLIENT_SECRET": app.client_secret,
        "AZCREDS_TEST_AUTHORITY": entra_authority.authority,
    }

    out = run_script(keyvault_server, "client-secret", env=env)

    check_operations(out, keyvault_server)
    assert {r.identity for r in keyvault_server.requests if r.authorized} == {app.object_id}
    assert entra_authority.token_count() >= 1
    assert entra_authority.count("GET", r"/v2.0/\.well-known/openid-configuration$") >= 1
    token_forms = [r.details for r in entra_authority.requests if r.method == "POST"]
    assert {f["grant_type"] for f in token_forms} == {"client_credentials"}
    assert {f["scope"] for f in token_forms} == {"https://vault.azure.net/.default"}
    assert app.client_secret not in repr(entra_authority.requests)
