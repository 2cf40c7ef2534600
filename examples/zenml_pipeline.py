"""azcreds inside ZenML, on 127.0.0.1: the seed page's Azure artifact store, with the `azcreds` flavor.

The seed page's commands with one word changed (``-f azcreds``), for its three ways to authenticate:

  1. the secret in ZenML's secret store:  zenml secret create az_secret --connection_string=...
  2. the secret in Key Vault, read with the workload's managed identity (the production set-up)
  3. implicit authentication: AZURE_STORAGE_CONNECTION_STRING in the environment

Each runs a two-step pipeline (bytes, str, dict and a pandas DataFrame passed between the steps) with
ZenML's local orchestrator on a container that does not exist yet, then loads the outputs back in a
new process through ZenML's client. Azurite, the Key Vault and the identity endpoint are local.

Run it after ``scripts/setup`` with ``.venv-zenml/bin/python examples/zenml_pipeline.py``.
``--report FILE`` also writes what tests/integrations/test_zenml.py checks (blob listings of the
whole account, the loaded outputs, step logs, run metadata, ``describe`` outputs) as JSON.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from zenml import pipeline, step

# -- the pipeline: what a ZenML user writes, nothing azcreds-specific --------------------------


@step
def produce() -> tuple[
    Annotated[bytes, "raw_bytes"],
    Annotated[str, "text"],
    Annotated[dict[str, Any], "params"],
    Annotated[pd.DataFrame, "frame"],
]:
    print("produce: making four artifacts")
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "c"]})
    return b"\x00azcreds\xff", "hello from azcreds", {"lr": 0.01, "layers": [64, 32]}, frame


@step
def consume(
    raw_bytes: bytes, text: str, params: dict[str, Any], frame: pd.DataFrame
) -> Annotated[dict[str, Any], "summary"]:
    from zenml.client import Client

    store = Client().active_stack.artifact_store  # the azcreds flavor's component
    source = store.store.credentials.source  # which resolver answered: never the secret itself
    print(f"consume: {len(raw_bytes)} bytes, {len(frame)} rows, credentials from {source}")
    return {
        "bytes": len(raw_bytes),
        "text": text,
        "params": params,
        "x_sum": int(frame["x"].sum()),
        "source": source,
    }


@pipeline(enable_cache=False)
def azcreds_pipeline() -> None:
    raw_bytes, text, params, frame = produce()
    consume(raw_bytes, text, params, frame)


# -- the set-up a user does once, here all on 127.0.0.1 ----------------------------------------


def zenml_cli(*args: str, shown: tuple[str, ...] | None = None) -> None:
    """Run one ``zenml`` command in this process (the same click command as the ``zenml`` executable)."""
    from zenml.cli.cli import cli
    from zenml.utils import source_utils

    print(f"\n$ zenml {' '.join(shown or args)}", flush=True)
    cli.main(args=list(args), prog_name="zenml", standalone_mode=False)
    # The CLI makes the working directory ZenML's source root; the steps live beside this file.
    source_utils.set_custom_source_root(str(Path(__file__).resolve().parent))


def azcreds_cli(*args: str) -> None:
    print(f"\n$ azcreds {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "azcreds", *args], check=True)


def run_case(case: str, store: str, path: str, secret: str | None) -> str:
    """Register an artifact store and a stack for it, run the pipeline, return the run's id."""
    auth = [f"--authentication_secret={secret}"] if secret else []
    zenml_cli("artifact-store", "register", store, "-f", "azcreds", f"--path={path}", *auth)
    zenml_cli("stack", "register", f"{store}_stack", "-a", store, "-o", "default", "--set")
    print(f"\n>>> azcreds_pipeline()  [{case}]", flush=True)
    run = azcreds_pipeline()
    print(f"run {run.name}: {run.status}")
    return str(run.id)


def main(report_path: str | None) -> int:
    from azcreds.testing import (
        AzuriteServer,
        KeyVaultServer,
        ManagedIdentityEndpoint,
        generate_account_key,
        make_test_certificates,
        network_guard,
        unique_container_name,
    )

    network_guard.install()  # 127.0.0.1 only; anything else fails loudly
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="azcreds-zenml-")))
        certs = make_test_certificates(tmp)
        account_key = generate_account_key()  # the secret that must never show up anywhere
        azurite = stack.enter_context(AzuriteServer(accounts={"zenmlaccount": account_key}))
        vault = stack.enter_context(KeyVaultServer(certificates=certs))
        identity = stack.enter_context(ManagedIdentityEndpoint())
        print(
            f"Azurite {azurite.blob_endpoint}, Key Vault {vault.vault_url}, "
            f"identity endpoint {identity.app_service_url}"
        )
        connection_string = azurite.connection_string
        os.environ.update(
            ZENML_CONFIG_PATH=str(tmp / "zenml"),  # a throwaway ZenML client and local store
            ZENML_ANALYTICS_OPT_IN="false",
            AZCREDS_KEYRING_PATH=str(tmp / "no-keyring.azcv"),  # not the user's keyring
            # Case 2's platform and team settings: an identity endpoint, and the vault to read.
            AZCREDS_KEYVAULT_URL=vault.vault_url,
            REQUESTS_CA_BUNDLE=str(certs.ca_path),
            # Case 3: the seed's implicit authentication (only the implicit chain reads it).
            AZURE_STORAGE_CONNECTION_STRING=connection_string,
            **identity.app_service_env(),
        )
        containers = {
            case: unique_container_name(prefix)
            for case, prefix in (("zenml", "zs"), ("keyvault", "kv"), ("implicit", "im"))
        }
        roots = {case: f"az://{container}/zenml" for case, container in containers.items()}

        zenml_cli(
            "artifact-store", "flavor", "register", "azcreds.integrations.zenml.AzcredsArtifactStoreFlavor"
        )
        runs: dict[str, str] = {}

        # 1. The secret in ZenML's secret store, with the seed's `azure` schema fields.
        zenml_cli(
            "secret", "create", "az_secret", f"--connection_string={connection_string}",
            shown=("secret", "create", "az_secret", "--connection_string=<your connection string>"),
        )  # fmt: skip
        runs["zenml"] = run_case("secret in ZenML", "az_store", roots["zenml"], "az_secret")

        # 2. The secret in Key Vault; the workload reads it with its managed identity.
        secret_file = tmp / "conn.txt"
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(connection_string)
        azcreds_cli("secret", "register", "az_vault_secret", "--schema", "azure", "--store", "keyvault",
                    f"--connection_string=@{secret_file}")  # fmt: skip
        secret_file.unlink()
        azcreds_cli("resolve", "az_vault_secret", "--explain", "--zenml")  # ZenML: miss, ..., keyvault: hit
        runs["keyvault"] = run_case("secret in Key Vault", "kv_store", roots["keyvault"], "az_vault_secret")

        # 3. Implicit authentication: no authentication_secret.
        runs["implicit"] = run_case("implicit", "implicit_store", roots["implicit"], None)

        # A new process loads every output back through ZenML's client.
        facts_file = tmp / "loaded.json"
        subprocess.run([sys.executable, __file__, "--load", json.dumps(runs), str(facts_file)], check=True)
        facts = json.loads(facts_file.read_text())
        for case, summary in facts["summaries"].items():
            print(f"\nloaded back [{case}]: {summary}")
        if {case: s["source"] for case, s in facts["summaries"].items()} != {
            "zenml": "zenml",
            "keyvault": "keyvault",
            "implicit": "env",
        }:
            print("UNEXPECTED: a case resolved its credentials from the wrong source", file=sys.stderr)
            return 1

        if report_path:
            from azure.storage.blob import BlobServiceClient

            service = BlobServiceClient.from_connection_string(connection_string)
            listing = {
                c.name: sorted(service.get_container_client(c.name).list_blob_names())
                for c in service.list_containers()
            }
            report = {
                "canary": account_key,
                "account": azurite.account_name,
                "containers": containers,
                "roots": roots,
                "runs": runs,
                "listing": listing,
                "zenml_config_path": os.environ["ZENML_CONFIG_PATH"],
                **facts,
            }
            Path(report_path).write_text(json.dumps(report, indent=1, default=str))
    print("\nOK: three pipelines on fresh containers, outputs loaded back in a new process")
    return 0


def load(runs: dict[str, str]) -> dict[str, Any]:
    """In a new process: every run's outputs, artifact URIs, step logs and metadata; the describes."""
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.log_stores.artifact.artifact_log_store import fetch_log_records
    from zenml.stack import StackComponent

    from azcreds.testing import network_guard

    network_guard.install()
    client = Client()
    summaries, outputs, uris, logs, metadata = {}, {}, {}, {}, {}
    for case, run_id in runs.items():
        run = client.get_pipeline_run(run_id)
        produced = {name: versions[0] for name, versions in run.steps["produce"].outputs.items()}
        frame = produced["frame"].load()
        outputs[case] = {
            "raw_bytes": base64.b64encode(produced["raw_bytes"].load()).decode(),
            "text": produced["text"].load(),
            "params": produced["params"].load(),
            "frame": frame.to_dict(orient="list"),
        }
        summary = run.steps["consume"].outputs["summary"][0]
        summaries[case] = summary.load()
        uris[case] = sorted(v.uri for v in [*produced.values(), summary])
        metadata[case] = json.dumps(
            [run.run_metadata, run.config.model_dump(mode="json")]
            + [[s.run_metadata, s.config.model_dump(mode="json")] for s in run.steps.values()]
            + [v.run_metadata for v in [*produced.values(), summary]],
            default=str,
        )
        logs[case] = {}
        for step_name, step_run in run.steps.items():
            lines: list[str] = []
            for stream in step_run.log_collection or []:
                if stream.artifact_store_id is None or stream.uri is None:
                    continue
                model = client.get_stack_component(
                    StackComponentType.ARTIFACT_STORE, stream.artifact_store_id
                )
                artifact_store = StackComponent.from_model(model)
                lines += [entry.message for entry in fetch_log_records(artifact_store, stream.uri, 10_000)]
            logs[case][step_name] = lines
    described = {}
    for command in (["stack", "describe", "az_store_stack"], ["artifact-store", "describe", "az_store"],
                    ["artifact-store", "describe", "kv_store"], ["stack", "list"]):  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            from zenml.cli.cli import cli

            cli.main(args=command, prog_name="zenml", standalone_mode=False)
        described[" ".join(command)] = out.getvalue() + err.getvalue()
    return {
        "summaries": summaries,
        "outputs": outputs,
        "uris": uris,
        "logs": logs,
        "metadata": metadata,
        "described": described,
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--load":
        Path(sys.argv[3]).write_text(json.dumps(load(json.loads(sys.argv[2])), default=str))
        sys.exit(0)
    report = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--report" else None
    sys.exit(main(report))
