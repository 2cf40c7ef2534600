"""``azcreds doctor``: the report, exit codes 0/1/2, --json, and never a secret in the output."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from azcreds.testing import AzuriteServer, EntraAuthority, StorageProxy
from azcreds.testing.guarded_python import GUARD_MARKER
from tests.cli.helpers import Cli, child_env, run_azcreds, run_subprocess
from tests.doctor.helpers import container_sas
from tests.helpers import b64


@pytest.fixture
def container(azurite: AzuriteServer, container_name: str) -> str:
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container_name)
    return container_name


def test_a_working_secret_passes_and_exits_0(
    cli: Cli, azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZCREDS_S1__CONNECTION_STRING", azurite.connection_string)
    r = cli("doctor", "s1", "--container", container)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].startswith("✓ secret resolves: azure-connection-string from env")
    assert any(line.startswith("✓ write blobs in") for line in lines)
    assert lines[-1] == "all checks passed"
    assert r.err == ""


def test_a_wrong_key_fails_with_the_fix_and_exits_1(
    cli: Cli, azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = b64("DOCTOR-WRONG-KEY-" + "k" * 47)
    monkeypatch.setenv("AZCREDS_S1__CONNECTION_STRING", azurite.connection_string_for(account_key=key))
    r = cli("doctor", "s1", "-c", container)
    assert r.code == 1, r
    assert "✗ authentication: Get Container Properties: HTTP 403 AuthorizationFailure" in r.out
    assert "fix: copy a current key" in r.out
    assert r.out.splitlines()[-1] == "1 check(s) failed (5 skipped)"  # not judged behind the failure
    r.assert_no_secret(key)


def test_the_json_form(
    cli: Cli, azurite: AzuriteServer, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = container_sas(azurite, container, "rl")
    monkeypatch.setenv("AZCREDS_S1__ACCOUNT_NAME", azurite.account_name)
    monkeypatch.setenv("AZCREDS_S1__ACCOUNT_URL", azurite.account_url())
    monkeypatch.setenv("AZCREDS_S1__SAS_TOKEN", token)
    r = cli("doctor", "s1", "--container", container, "--json")
    assert r.code == 1, r
    data = json.loads(r.out)
    assert (data["name"], data["container"], data["ok"]) == ("s1", container, False)
    by_id = {c["id"]: c for c in data["checks"]}
    assert by_id["sas-permissions"]["status"] == "fail"
    assert by_id["list"]["status"] == "pass"
    assert by_id["write"]["status"] == "fail"
    assert by_id["write"]["details"]["code"] == "AuthorizationPermissionMismatch"
    r.assert_no_secret(token, token.split("sig=")[1].split("&")[0])
    assert cli("doctor", "s1", "--container", container, "--json", "--need", "rl").code == 0


def test_a_secret_that_is_not_found_fails_the_resolve_check(cli: Cli) -> None:
    r = cli("doctor", "nosuch", "--json")
    assert r.code == 1
    check = json.loads(r.out)["checks"][0]
    assert (check["id"], check["status"]) == ("resolve", "fail")
    assert "azcreds secret register" in check["fix"]


def test_an_expired_stored_sas_fails_the_resolve_check(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    token = f"sv=2025-11-05&sr=c&sp=rl&se=2020-01-01T00:00:00Z&sig={b64('DOCTOR-EXPIRED-SIG-MARKER')}"
    monkeypatch.setenv("AZCREDS_S1__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_S1__SAS_TOKEN", token)
    r = cli("doctor", "s1")
    assert r.code == 1
    assert r.out.startswith("✗ secret resolves:")
    assert "has expired" in r.out
    r.assert_no_secret(token, b64("DOCTOR-EXPIRED-SIG-MARKER"))


def test_clock_skew_shows_through_a_service_whose_clock_is_off(
    cli: Cli, storage_proxy: StorageProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(storage_proxy.ca_path))
    monkeypatch.setenv("AZCREDS_S1__CONNECTION_STRING", storage_proxy.connection_string_for())
    assert cli("doctor", "s1").code == 0
    storage_proxy.clock_offset = -30 * 60  # the service is 30 min behind this machine
    r = cli("doctor", "s1")
    assert r.code == 1
    assert "✗ clock:" in r.out
    assert "ahead of the service's" in r.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["doctor", "bad name"], "invalid secret"),
        (["doctor", "s1", "--container", "Bad_Container"], "--container must be"),
        (["doctor", "s1", "--need", "rx"], "--need takes letters of rlwd"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    r = run_azcreds(*args)
    line = r.assert_clean_error(2)
    assert message in line
    assert r.out == ""


def test_no_secret_reaches_the_output_on_any_failure(
    azurite: AzuriteServer, container: str, entra_authority: EntraAuthority, tmp_path: Path
) -> None:
    """Canary: wrong key, wrong SAS and wrong client secret, each with a marker, through the real
    console script; the doctor prints evidence for each failure and never a marker."""
    marker = f"CANARY{uuid.uuid4().hex}"
    key = b64(marker + "-key-padding-to-length")
    sas = container_sas(azurite, container, "rl", key=key, expiry=timedelta(days=2))
    sig = sas.split("sig=")[1].split("&")[0]
    client_secret = marker + "-client-secret"
    env = child_env(
        AZCREDS_K1__CONNECTION_STRING=azurite.connection_string_for(account_key=key),
        AZCREDS_S1__ACCOUNT_NAME=azurite.account_name,
        AZCREDS_S1__ACCOUNT_URL=azurite.account_url(),
        AZCREDS_S1__SAS_TOKEN=sas,
        AZCREDS_P1__ACCOUNT_NAME=azurite.account_name,
        AZCREDS_P1__ACCOUNT_URL="https://127.0.0.1:1/devstoreaccount1",
        AZCREDS_P1__TENANT_ID=entra_authority.tenant_id,
        AZCREDS_P1__CLIENT_ID=entra_authority.app.client_id,
        AZCREDS_P1__CLIENT_SECRET=client_secret,
        AZCREDS_P1__AUTHORITY_HOST=entra_authority.authority,
        REQUESTS_CA_BUNDLE=str(entra_authority.ca_path),
    )
    entry = tmp_path / "azcreds_main.py"
    entry.write_text("import sys\nfrom azcreds.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    script = [sys.executable, "-m", "azcreds.testing.guarded_python", str(entry)]
    outputs = []
    for name in ("k1", "s1", "p1"):
        for extra in ([], ["--json"]):
            r = run_subprocess([*script, "doctor", name, "--container", container, *extra], env=env)
            assert r.code == 1, r
            assert "Traceback" not in r.out + r.err
            assert GUARD_MARKER not in r.err
            r.assert_no_secret(marker, key, sig, client_secret)
            outputs.append(r.out)
    assert "✗ authentication" in outputs[0]  # each failure was really reached
    assert "✗ authentication" in outputs[2]
    assert "✗ token" in outputs[4]
    assert "AADSTS7000215" in outputs[4]
