"""What ``azcreds exec`` exports works, as it is, in other clients: for every schema, a Python child
(Blob SDK, azure-identity, azcreds' implicit chain) and a Node.js child (``@azure/storage-blob``,
``@azure/identity``) round-trip a blob on Azurite reading only the documented variables.

The secrets live in ``AZCREDS_<NAME>__*`` variables of the parent, which the children never see.
Token schemas run against HTTPS Azurite with OAuth, the local Entra-style authority and the local
managed identity endpoint; the children trust the test CA through ``REQUESTS_CA_BUNDLE`` and
``NODE_EXTRA_CA_CERTS``, as a user's would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import AccountSasPermissions, BlobServiceClient, ResourceTypes, generate_account_sas

from azcreds.testing import AzuriteServer, EntraAuthority, ManagedIdentityEndpoint
from azcreds.testing.node import run_node
from tests.cli.helpers import child_env, run_subprocess

PYTHON_CHILD = Path(__file__).with_name("exec_child_blob.py")
NODE_CHILD = Path(__file__).parents[1] / "node" / "blob_roundtrip.js"


@dataclass
class Servers:
    """The servers a case may use, started only when it asks for them."""

    request: pytest.FixtureRequest

    def azurite(self, https: bool = False) -> AzuriteServer:
        server: AzuriteServer = self.request.getfixturevalue("azurite_https" if https else "azurite")
        return server

    @property
    def entra(self) -> EntraAuthority:
        authority: EntraAuthority = self.request.getfixturevalue("entra_authority")
        return authority

    @property
    def identity(self) -> ManagedIdentityEndpoint:
        endpoint: ManagedIdentityEndpoint = self.request.getfixturevalue("managed_identity_endpoint")
        return endpoint


@dataclass
class Case:
    """A secret (its ``AZCREDS_<NAME>__<FIELD>`` fields), the clients to try, the parent's extras."""

    fields: dict[str, str]
    python: list[str]
    node: list[str]
    server: AzuriteServer
    parent_env: dict[str, str] = field(default_factory=dict)
    # The token issuer, and the client id every token must have been issued to.
    issuer: EntraAuthority | ManagedIdentityEndpoint | None = None
    identity: str | None = None

    def assert_tokens_went_to_the_secrets_identity(self) -> None:
        if self.issuer is None:
            return
        issued = {r.identity for r in self.issuer.requests if r.status == 200 and r.identity is not None}
        assert issued == {self.identity}


def account_sas(server: AzuriteServer) -> str:
    return generate_account_sas(
        server.account_name,
        server.account_key,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, create=True, add=True, list=True),
        expiry=datetime.now(UTC) + timedelta(days=2),  # beyond the 24-hour warning
    )


KEY_MODES = ["connection-string", "shared-key", "implicit"]
SAS_MODES = ["connection-string", "sas", "implicit"]


def connection_string_key(s: Servers) -> Case:
    a = s.azurite()  # no DefaultEndpointsProtocol: the JavaScript SDK refuses such a string
    cs = f"AccountName={a.account_name};AccountKey={a.account_key};BlobEndpoint={a.blob_endpoint}"
    return Case({"CONNECTION_STRING": cs}, KEY_MODES, KEY_MODES[:2], a)


def connection_string_sas(s: Servers) -> Case:
    a = s.azurite()
    cs = f"BlobEndpoint={a.blob_endpoint};SharedAccessSignature={account_sas(a)}"
    return Case({"CONNECTION_STRING": cs}, SAS_MODES, SAS_MODES[:2], a)


def connection_string_development(s: Servers) -> Case:
    a = s.azurite()  # the SDKs alone would go to port 10000 (and JS would take the URI for a proxy)
    cs = f"UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1:{a.port}"
    return Case({"SCHEMA": "azure-connection-string", "CONNECTION_STRING": cs}, KEY_MODES, KEY_MODES[:2], a)


def account_key(s: Servers) -> Case:
    a = s.azurite()
    fields = {
        "SCHEMA": "azure-account-key",
        "ACCOUNT_NAME": a.account_name,
        "ACCOUNT_KEY": a.account_key,
        "ACCOUNT_URL": a.blob_endpoint,
    }
    return Case(fields, KEY_MODES, KEY_MODES[:2], a)


def sas_token(s: Servers) -> Case:
    a = s.azurite()
    fields = {
        "SCHEMA": "azure-sas-token",
        "ACCOUNT_NAME": a.account_name,
        "SAS_TOKEN": account_sas(a),
        "ACCOUNT_URL": a.blob_endpoint,
    }
    return Case(fields, SAS_MODES, SAS_MODES[:2], a)


def flat_sas_token(s: Servers) -> Case:
    case = sas_token(s)
    del case.fields["SCHEMA"]  # the flat `azure` schema, normalised to a SAS token
    return case


def service_principal(s: Servers, *, flat: bool = False) -> Case:
    a, entra = s.azurite(https=True), s.entra
    fields = {
        "SCHEMA": "azure-service-principal",
        "ACCOUNT_NAME": a.account_name,
        "ACCOUNT_URL": a.blob_endpoint,
        "TENANT_ID": entra.tenant_id,
        "CLIENT_ID": entra.app.client_id,
        "CLIENT_SECRET": entra.app.client_secret,
        "AUTHORITY_HOST": entra.authority,
    }
    if flat:
        del fields["SCHEMA"]
    return Case(
        fields, ["environment", "implicit"], ["environment"], a, issuer=entra, identity=entra.app.client_id
    )


def managed_identity(s: Servers, *, style: str, user_assigned: bool) -> Case:
    a, endpoint = s.azurite(https=True), s.identity
    fields = {
        "SCHEMA": "azure-managed-identity",
        "ACCOUNT_NAME": a.account_name,
        "ACCOUNT_URL": a.blob_endpoint,
    }
    identity = endpoint.user_assigned[0] if user_assigned else endpoint.system_assigned
    if user_assigned:
        fields["CLIENT_ID"] = identity.client_id
    env = endpoint.app_service_env() if style == "app_service" else endpoint.imds_env()
    # The parent had another identity selected: the child must not inherit that choice.
    env["AZURE_CLIENT_ID"] = endpoint.add_user_assigned().client_id
    modes = ["managed-identity", "default"]
    return Case(fields, ["managed-identity", "implicit"], modes, a, env, endpoint, identity.client_id)


CASES: dict[str, Callable[[Servers], Case]] = {
    "connection-string-key": connection_string_key,
    "connection-string-sas": connection_string_sas,
    "connection-string-development": connection_string_development,
    "account-key": account_key,
    "sas-token": sas_token,
    "flat-sas-token": flat_sas_token,
    "service-principal": service_principal,
    "flat-service-principal": lambda s: service_principal(s, flat=True),
    "managed-identity-system-app-service": lambda s: managed_identity(
        s, style="app_service", user_assigned=False
    ),
    "managed-identity-user-app-service": lambda s: managed_identity(
        s, style="app_service", user_assigned=True
    ),
    "managed-identity-system-imds": lambda s: managed_identity(s, style="imds", user_assigned=False),
    "managed-identity-user-imds": lambda s: managed_identity(s, style="imds", user_assigned=True),
}


def prepare(case_id: str, request: pytest.FixtureRequest, container: str) -> tuple[Case, dict[str, str]]:
    case = CASES[case_id](Servers(request))
    server = case.server
    ca = server.ca_path
    raw = BlobServiceClient.from_connection_string(
        server.connection_string, **({"connection_verify": str(ca)} if ca else {})
    )
    raw.create_container(container)
    parent = {f"AZCREDS_EXPORTED__{k}": v for k, v in case.fields.items()} | case.parent_env
    if ca is not None:
        parent |= {"REQUESTS_CA_BUNDLE": str(ca), "NODE_EXTRA_CA_CERTS": str(ca)}
    return case, child_env(**parent)


@pytest.mark.parametrize("case_id", CASES)
def test_python_child_round_trips_with_the_exports(
    case_id: str, request: pytest.FixtureRequest, container_name: str
) -> None:
    case, env = prepare(case_id, request, container_name)
    argv = [sys.executable, str(PYTHON_CHILD), container_name, *case.python]
    r = run_subprocess(["azcreds", "exec", "exported", "--", *argv], env=env)
    assert r.code == 0, r
    assert r.out.splitlines() == [f"ok {mode}" for mode in case.python]
    case.assert_tokens_went_to_the_secrets_identity()


@pytest.mark.parametrize("case_id", CASES)
def test_node_child_round_trips_with_the_exports(
    case_id: str, request: pytest.FixtureRequest, container_name: str
) -> None:
    case, env = prepare(case_id, request, container_name)
    result = run_node(
        NODE_CHILD, container_name, *case.node, env=env, command_prefix=["azcreds", "exec", "exported", "--"]
    ).check()
    assert result.stdout.splitlines() == [f"ok {mode}" for mode in case.node]
    case.assert_tokens_went_to_the_secrets_identity()
