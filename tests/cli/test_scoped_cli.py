"""``azcreds sas``, ``env --scope`` and ``exec --scope``: the output and the child get only a scoped SAS.

The children are real processes that use what they were given against Azurite, under the
loopback-only guard; their whole environment is scanned for the account key and client secret.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from azure.storage.blob import BlobServiceClient

from azcreds.child_env import KEPT_AZCREDS_SETTINGS
from azcreds.testing import AzuriteServer, EntraAuthority, unique_container_name
from tests.cli.helpers import Cli, child_env, run_in_pty
from tests.cli.test_env_exec import parse_exports

# The child: dump its environment, then read one blob and try to write one with what it got.
CHILD = """
import json, os, sys
from azcreds.testing import network_guard
network_guard.install()
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient
env = dict(os.environ)
service = BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"], retry_total=0)
container = service.get_container_client(sys.argv[2])
report = {"env": env, "read": container.download_blob("data/a.csv").readall().decode()}
try:
    container.upload_blob("data/new.csv", b"no")
    report["write"] = "allowed"
except HttpResponseError as exc:
    report["write"] = exc.status_code
report["blocked"] = [a.describe() for a in network_guard.blocked_attempts()]
json.dump(report, open(sys.argv[1], "w"))
"""


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.fixture
def container(azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AZCREDS_KEY__CONNECTION_STRING", azurite.connection_string)
    name = unique_container_name()
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(name)
    service.get_blob_client(name, "data/a.csv").upload_blob(b"x,y\n1,2\n")
    return name


def test_sas_prints_a_read_only_sas_for_the_container(
    cli: Cli, azurite: AzuriteServer, container: str
) -> None:
    result = cli("sas", "key", "--scope", f"az://{container}", "--permissions", "r", "--ttl", "10m")
    assert result.code == 0, result.err
    result.assert_no_secret(azurite.account_key, azurite.account_key[:20])
    token = result.out.strip()
    params = parse_qs(token)
    assert (params["sr"], params["sp"]) == (["c"], ["r"])
    assert f"az://{container} (r) until " in result.err
    from azure.core.credentials import AzureSasCredential
    from azure.core.exceptions import HttpResponseError

    service = BlobServiceClient(azurite.blob_endpoint, credential=AzureSasCredential(token), retry_total=0)
    assert service.get_blob_client(container, "data/a.csv").download_blob().readall() == b"x,y\n1,2\n"
    with pytest.raises(HttpResponseError) as info:
        service.get_blob_client(container, "data/b.csv").upload_blob(b"no")
    assert info.value.status_code == 403


def test_sas_url_for_one_blob(cli: Cli, azurite: AzuriteServer, container: str) -> None:
    result = cli("sas", "key", "--scope", f"az://{container}/data/a.csv", "--blob", "--url")
    assert result.code == 0, result.err
    url = result.out.strip()
    assert url.startswith(f"{azurite.blob_endpoint}/{container}/data/a.csv?")
    from azure.storage.blob import BlobClient

    assert BlobClient.from_blob_url(url, retry_total=0).download_blob().readall() == b"x,y\n1,2\n"


def test_sas_is_not_printed_on_a_terminal(azurite: AzuriteServer, container: str, tmp_path: Path) -> None:
    env = child_env(AZCREDS_KEY__CONNECTION_STRING=azurite.connection_string)
    code, output = run_in_pty(
        [sys.executable, "-m", "azcreds", "sas", "key", "--scope", f"az://{container}"], env=env
    )
    assert code == 0
    assert b"not printed on a terminal" in output
    assert b"sig=" not in output
    assert azurite.account_key.encode() not in output


def test_env_scope_exports_only_the_sas(cli: Cli, azurite: AzuriteServer, container: str) -> None:
    result = cli("env", "key", "--scope", f"az://{container}", "--ttl", "5m")
    assert result.code == 0, result.err
    result.assert_no_secret(azurite.account_key, azurite.account_key[:20])
    exported = parse_exports(result.out)
    assert "AZURE_STORAGE_ACCOUNT_KEY" not in exported
    assert "sig=" in exported["AZURE_STORAGE_SAS_TOKEN"]
    assert "SharedAccessSignature=" in exported["AZURE_STORAGE_CONNECTION_STRING"]


def run_scoped_child(
    cli: Cli, tmp_path: Path, name: str, container: str, *flags: str
) -> tuple[dict[str, str], str]:
    dump = tmp_path / "child-env.json"
    result = cli(
        "exec",
        name,
        "--scope",
        f"az://{container}",
        *flags,
        "--",
        sys.executable,
        "-c",
        CHILD,
        str(dump),
        container,
    )
    assert result.code == 0, result.err
    report = json.loads(dump.read_text())
    assert report["read"] == "x,y\n1,2\n"
    assert report["write"] == 403  # refused by Azurite
    assert report["blocked"] == []
    env: dict[str, str] = report["env"]
    return env


def test_exec_scope_child_sees_only_the_sas_and_cannot_write(
    cli: Cli, azurite: AzuriteServer, container: str, tmp_path: Path
) -> None:
    env = run_scoped_child(cli, tmp_path, "key", container, "--permissions", "r")
    everything = json.dumps(env)
    assert azurite.account_key not in everything
    assert azurite.account_key[:20] not in everything
    assert not [k for k in env if k.upper().startswith("AZCREDS_") and k not in KEPT_AZCREDS_SETTINGS]
    assert "AZURE_STORAGE_ACCOUNT_KEY" not in env
    assert "sig=" in env["AZURE_STORAGE_SAS_TOKEN"]


def test_exec_scope_from_a_service_principal_gives_a_user_delegation_sas(
    cli: Cli,
    azurite_user_delegation: AzuriteServer,
    entra_authority: EntraAuthority,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    az = azurite_user_delegation
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(az.ca_path))
    app = entra_authority.app
    for field, value in {
        "ACCOUNT_NAME": az.account_name,
        "ACCOUNT_URL": az.blob_endpoint,
        "TENANT_ID": entra_authority.tenant_id,
        "CLIENT_ID": app.client_id,
        "CLIENT_SECRET": app.client_secret,
        "AUTHORITY_HOST": entra_authority.authority,
    }.items():
        monkeypatch.setenv(f"AZCREDS_SP__{field}", value)
    # Another identity in the parent's environment must not reach the child either.
    monkeypatch.setenv("AZURE_CLIENT_SECRET", app.client_secret)
    container = unique_container_name()
    service = BlobServiceClient(az.blob_endpoint, credential=_key(az), retry_total=0)
    service.create_container(container)
    service.get_blob_client(container, "data/a.csv").upload_blob(b"x,y\n1,2\n")
    env = run_scoped_child(cli, tmp_path, "sp", container, "--ttl", "20m")
    assert app.client_secret not in json.dumps(env)
    assert "skoid=" in env["AZURE_STORAGE_SAS_TOKEN"]
    assert not {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"} & set(env)


def _key(az: AzuriteServer) -> object:
    from azure.core.credentials import AzureNamedKeyCredential

    return AzureNamedKeyCredential(az.account_name, az.account_key)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sas", "key"], "give --scope"),
        (["sas", "key", "--scope", "s3://bucket"], "--scope must be az://"),
        (["sas", "key", "--scope", "az://"], "names no container"),
        (["sas", "key", "--scope", "az://{c}", "--ttl", "8d"], "longer than 7 days"),
        (["sas", "key", "--scope", "az://{c}", "--ttl", "later"], "not a duration"),
        (["sas", "key", "--scope", "az://{c}", "--permissions", "rwx"], "unknown permission"),
        (["sas", "key", "--scope", "az://{c}", "--blob"], "--blob needs a blob path"),
        (["sas", "key", "--scope", "az://{c}/runs/"], "hierarchical namespace"),
        (["env", "key", "--ttl", "1h"], "--ttl only go with --scope"),
        (["exec", "key", "--permissions", "r", "--", "true"], "--permissions only go with --scope"),
    ],
)
def test_bad_scopes_are_one_line_errors_with_exit_code_2(
    args: list[str], message: str, cli: Cli, azurite: AzuriteServer, container: str
) -> None:
    result = cli(*(a.replace("{c}", container) for a in args))
    line = result.assert_clean_error(2)
    assert message in line
    result.assert_no_secret(azurite.account_key, azurite.account_key[:20])
    assert result.out == ""


def test_a_sas_secret_cannot_be_scoped_exit_2(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import sas_token

    token = sas_token(sig="c2lnbmF0dXJlLW9mLWEtc2Fz")
    monkeypatch.setenv("AZCREDS_SAS__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_SAS__SAS_TOKEN", token)
    result = cli("sas", "sas", "--scope", "az://models")
    assert "a SAS cannot mint" in result.assert_clean_error(2)
    result.assert_no_secret("c2lnbmF0dXJlLW9mLWEtc2Fz")
