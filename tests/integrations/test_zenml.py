"""azcreds inside real ZenML (issue 12): the flavor, ZenML's secrets as a source, fileio, the example.

ZenML's pins clash with the dev pins, so ZenML lives in ``.venv-zenml`` (``scripts/setup`` builds it
from ``constraints-zenml.txt``) and these tests drive it in child processes of that interpreter:

- ``examples/zenml_pipeline.py --report``: three real pipelines (local orchestrator, ZenML's default
  local store, a temporary ``ZENML_CONFIG_PATH``), one per authentication case, each on a fresh
  container, outputs loaded back in a new process; the report holds the facts checked here;
- ``tests/integrations/zenml_checks.py``: ``zenml.io.fileio`` through the flavor, and the resolver;
- the same script's ``unreachable`` check, started first and run beside the pipelines (ZenML's
  REST client retries a dead server for ~30 s before it gives up).

Cost: about 60 s of wall time on a quiet 2-core machine (measured 117 s with the machine's load
average at 8), most of it the three pipelines; the fileio and resolver checks about 20 s.
The pinned pass (``.venv``) drives ZenML in ``.venv-zenml`` (constraints-zenml.txt); the
``.venv-latest`` pass drives it in ``.venv-zenml-latest``, resolved with no constraints: the newest
ZenML and dependencies a user's ``pip install 'azcreds[zenml]'`` gets.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from azcreds.testing import AzuriteServer, unique_container_name

ROOT = Path(__file__).resolve().parents[2]
CHECKS = Path(__file__).resolve().parent / "zenml_checks.py"
EXAMPLE = ROOT / "examples" / "zenml_pipeline.py"
INSTALL_HINT = "pip install 'azcreds[zenml]'"


def _pinned_venv() -> bool:
    from tests.test_constraints import installed_is_pinned

    return installed_is_pinned()


ZENML_VENV = ".venv-zenml" if _pinned_venv() else ".venv-zenml-latest"
ZENML_PYTHON = ROOT / ZENML_VENV / "bin" / "python"


def zenml_python() -> Path:
    if not ZENML_PYTHON.exists():
        pytest.fail(f"{ZENML_PYTHON} is missing: run scripts/setup (it builds {ZENML_VENV})")
    return ZENML_PYTHON


def child_env(tmp: Path, **extra: str) -> dict[str, str]:
    """This environment without credentials or settings, with a throwaway ZenML and no keyring."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AZCREDS_", "AZURE_", "IDENTITY_", "ZENML_"))
    }
    env.update(
        ZENML_CONFIG_PATH=str(tmp / "zenml"),
        ZENML_ANALYTICS_OPT_IN="false",
        AZCREDS_KEYRING_PATH=str(tmp / "no-keyring.azcv"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    python = zenml_python()
    tmp = tmp_path_factory.mktemp("zenml-pipelines")
    dead = tmp / "dead"
    dead.mkdir()
    port = closed_port()
    unreachable = subprocess.Popen(
        [str(python), str(CHECKS), "unreachable"],
        env=child_env(dead, ZENML_STORE_URL=f"http://127.0.0.1:{port}", ZENML_STORE_API_KEY="not-a-key"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        report_path = tmp / "report.json"
        example = subprocess.run(
            [str(python), str(EXAMPLE), "--report", str(report_path)],
            env=child_env(tmp),
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp,
        )
        out, err = unreachable.communicate(timeout=300)
    finally:
        unreachable.kill()
        unreachable.wait()
    assert example.returncode == 0, example.stdout[-3000:] + example.stderr[-5000:]
    assert unreachable.returncode == 0, err[-3000:]
    report = json.loads(report_path.read_text())
    return {
        "example": example,
        "report": report,
        "unreachable": json.loads(out.strip().splitlines()[-1]),
        "port": port,
    }


def test_three_pipelines_load_back_in_a_new_process_with_credentials_from_each_source(
    pipelines: dict[str, Any],
) -> None:
    report = pipelines["report"]
    assert "OK" in pipelines["example"].stdout
    assert set(report["runs"]) == {"zenml", "keyvault", "implicit"}
    for case, outputs in report["outputs"].items():
        assert base64.b64decode(outputs["raw_bytes"]) == b"\x00azcreds\xff", case
        assert outputs["text"] == "hello from azcreds"
        assert outputs["params"] == {"lr": 0.01, "layers": [64, 32]}
        assert outputs["frame"] == {"x": [1, 2, 3], "label": ["a", "b", "c"]}
    # The consuming step recorded which azcreds resolver answered its artifact store.
    sources = {case: summary["source"] for case, summary in report["summaries"].items()}
    assert sources == {"zenml": "zenml", "keyvault": "keyvault", "implicit": "env"}
    for summary in report["summaries"].values():
        assert (summary["bytes"], summary["x_sum"], summary["text"]) == (9, 6, "hello from azcreds")


def test_artifact_blobs_are_under_each_store_root_and_nowhere_else(pipelines: dict[str, Any]) -> None:
    report = pipelines["report"]
    listing: dict[str, list[str]] = report["listing"]  # the raw SDK's view of the whole account
    # Each store's container was created by its first write: no other container exists.
    assert sorted(listing) == sorted(report["containers"].values())
    for case, container in report["containers"].items():
        names = listing[container]
        assert names, case
        outside = [n for n in names if n != "zenml" and not n.startswith("zenml/")]
        assert outside == [], f"{case}: blobs outside az://{container}/zenml: {outside}"
        root = report["roots"][case]
        for artifact_uri in report["uris"][case]:
            assert artifact_uri.startswith(root + "/")
            key = artifact_uri.split("/", 3)[3]
            assert any(n.startswith(key + "/") for n in names), f"no blob below {artifact_uri}"
        assert any(n.endswith("/df.csv") for n in names)  # the DataFrame's materialized file
        assert any(n.startswith("zenml/logs/") and n.endswith(".log") for n in names)


def test_step_logs_are_readable_through_zenml(pipelines: dict[str, Any]) -> None:
    logs = pipelines["report"]["logs"]
    for case, steps in logs.items():
        assert "produce: making four artifacts" in steps["produce"], case
        source = {"zenml": "zenml", "keyvault": "keyvault", "implicit": "env"}[case]
        assert f"consume: 9 bytes, 3 rows, credentials from {source}" in steps["consume"], case


def test_the_canary_secret_appears_nowhere(pipelines: dict[str, Any]) -> None:
    report = pipelines["report"]
    canary = report["canary"]  # the storage account's key: in every connection string used
    assert len(canary) > 40
    example = pipelines["example"]
    places = {
        "ZenML's and the example's output": example.stdout + example.stderr,
        "step logs": json.dumps(report["logs"]),
        "run, step and artifact metadata and configs": json.dumps(report["metadata"]),
        "stack and component descriptions": json.dumps(report["described"]),
    }
    for where, text in places.items():
        assert canary not in text, where
    described = report["described"]
    assert "azcreds" in described["artifact-store describe az_store"]
    assert "az_secret" in described["artifact-store describe az_store"]
    assert "az_vault_secret" in described["artifact-store describe kv_store"]
    assert "az_store" in described["stack describe az_store_stack"]


def test_resolve_explain_shows_the_zenml_attempt(pipelines: dict[str, Any]) -> None:
    out = pipelines["example"].stdout
    explained = out[out.index("$ azcreds resolve az_vault_secret --explain --zenml") :]
    rows = [line.split("│") for line in explained.splitlines()[:20] if line.startswith("│")]
    resolvers = [cells[1].strip() for cells in rows if cells[1].strip()]
    assert resolvers == ["zenml", "env", "keyring", "keyvault"]  # ZenML's secret store asked first
    details = " ".join(" ".join(cells[2:4]) for cells in rows)
    assert " ".join(details.split()).startswith("miss no secret 'az_vault_secret' in ZenML's local store")


def test_an_unreachable_zenml_server_is_a_failure_that_names_it(pipelines: dict[str, Any]) -> None:
    facts = pipelines["unreachable"]
    port = pipelines["port"]
    assert facts["error"] == "ServiceError"
    assert facts["attempts"] == [
        [
            "zenml",
            "failed",
            f"the ZenML server at http://127.0.0.1:{port} could not be reached or failed (RuntimeError)",
        ]
    ]  # the chain stopped: no other resolver was asked
    assert "not-a-key" not in json.dumps(facts)


@pytest.fixture(scope="module")
def checks(azurite: AzuriteServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("zenml-checks")
    container = unique_container_name("fileio")
    done = subprocess.run(
        [str(zenml_python()), str(CHECKS), "checks", container],
        env=child_env(
            tmp_path,
            AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
            CANARY_CONNECTION_STRING=azurite.connection_string,
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    facts["container"] = container
    facts["output"] = done.stdout + done.stderr
    facts["canary"] = azurite.connection_string
    return facts


def test_zenml_fileio_through_the_flavor_with_bytes_and_str_paths(checks: dict[str, Any]) -> None:
    fileio = checks["fileio"]
    container = checks["container"]
    assert container in fileio["containers"]  # absent at first (the check asserts it), then written
    assert fileio["blobs"] == ["zenml", "zenml/a/x.txt", "zenml/a/y.txt", "zenml/g", "zenml/logs/step.log"]
    assert fileio["copy_refused"]
    assert fileio["rename_refused"]
    assert fileio["remove_missing_refused"]
    root = f"az://{container}/zenml"
    # ZenML's own bounds check (a string prefix) refuses other folders and containers...
    assert fileio["outside_refused"] == [
        f"File `az://{container}/other/x` is outside of artifact store bounds `{root}`",
        f"File `az://{container}-two/zenml/x` is outside of artifact store bounds `{root}`",
    ]
    # ...and azcreds' confinement what that prefix check lets through: a sibling, a '..' escape.
    assert fileio["sibling_refused"] == (
        f"PathOutsideStoreError: az://{container}/zenmlx/y is outside the store root {root}"
    )
    assert fileio["dotdot_refused"] == (
        f"PathOutsideStoreError: az://{container}/escape.txt is outside the store root {root}"
    )


def test_zenml_secret_resolver_hit_miss_and_invalid(checks: dict[str, Any]) -> None:
    facts = checks["resolver"]
    assert facts["schema"] == "azure-connection-string"
    assert facts["hit"].endswith("from zenml")
    assert facts["miss"] == "no secret 'missing_secret' in ZenML's local store"
    assert facts["chain_miss"].startswith(
        "secret 'missing_secret' not found. Attempted resolvers: zenml: no secret 'missing_secret' in "
        "ZenML's local store; env: "
    )
    assert facts["invalid"] == "invalid 'azure' secret: colour: unknown field"
    assert facts["unnamed"] == "ZenML's secret store holds named secrets only"
    assert checks["canary"] not in checks["output"]


def test_importing_the_integration_without_zenml_is_one_line_naming_the_extra() -> None:
    code = "import sys; sys.modules['zenml'] = None; import azcreds.integrations.zenml"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"ImportError: azcreds.integrations.zenml needs ZenML, which is not installed: {INSTALL_HINT}"
    )
    cli = (
        "import sys; sys.modules['zenml'] = None; from azcreds.cli import main; "
        "sys.argv = ['azcreds', 'resolve', 'az_secret', '--zenml']; sys.exit(main())"
    )
    done = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == f"azcreds: error: --zenml needs ZenML: {INSTALL_HINT}\n"
    assert done.stdout == ""


def test_import_azcreds_never_imports_zenml() -> None:
    code = (
        "import sys, azcreds\n"
        "azcreds.AzureArtifactStore, azcreds.resolve_credentials, azcreds.ResolverChain\n"
        "import azcreds.artifact_store, azcreds.resolve\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'zenml'))\n"
    )
    done = subprocess.run([str(zenml_python()), "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_venv_zenml_holds_exactly_the_pins_of_constraints_zenml() -> None:
    pins = {}
    for line in (ROOT / "constraints-zenml.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    code = (
        "import json; from importlib.metadata import distributions\n"
        "found = {d.metadata['Name'].lower().replace('_', '-'): d.version for d in distributions()}\n"
        "print(json.dumps(found))"
    )
    pinned = ROOT / ".venv-zenml" / "bin" / "python"  # in both passes: the pins are .venv-zenml's
    done = subprocess.run([str(pinned), "-c", code], capture_output=True, text=True, check=True)
    installed = json.loads(done.stdout)
    installed.pop("azcreds")
    installed.pop("pip", None)
    assert installed == pins
