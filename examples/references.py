"""Secret references: a child process and a config file get a secret by reference, never by copy.

The flow docs/references.md describes, for real: a secret in the local keyring, a dotenv file
holding only ``azcreds://`` references, ``azcreds run`` starting a child that uploads a blob to
Azurite with what the references resolved to, ``azcreds inject`` writing a 0600 config file from
a template, and a keyring session so the second run needs neither the passphrase nor scrypt.
Everything runs on loopback, in a temporary folder; no secret value is printed.
"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from azcreds.testing import AzuriteServer, network_guard, unique_container_name

CHILD = """
import os, sys
from azure.storage.blob import BlobServiceClient
client = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
container = client.create_container(sys.argv[1])
container.upload_blob("hello.txt", b"uploaded by a child that never saw a secret name")
print("child: uploaded hello.txt as", os.environ["STORAGE_ACCOUNT"])
print("child: keyring passphrase visible:", "AZCREDS_KEYRING_PASSPHRASE" in os.environ)
print("child: keyring session visible:", "AZCREDS_KEYRING_SESSION" in os.environ)
"""


def azcreds_cli(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """Run the real `azcreds` command, echoing it as a user would type it."""
    print(f"\n$ azcreds {' '.join(args)}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "azcreds", *args], check=True, env=env, capture_output=capture, text=True
    )
    return done.stdout if capture else ""


def main() -> int:
    network_guard.install()  # this example talks to 127.0.0.1 only
    with tempfile.TemporaryDirectory(prefix="azcreds-refs-") as tmp, AzuriteServer() as azurite:
        folder = Path(tmp)
        runtime = folder / "runtime"
        runtime.mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)  # where keyring sessions live
        os.environ["AZCREDS_KEYRING_PATH"] = str(folder / "keyring.azcv")
        os.environ["AZCREDS_KEYRING_PASSPHRASE"] = secrets.token_urlsafe(16)
        azcreds_cli("keyring", "init")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "azcreds",
                "secret",
                "register",
                "az_secret",
                "--schema=azure",
                "--connection_string=-",
            ],
            input=azurite.connection_string,
            text=True,
            check=True,
        )

        env_file = folder / "app.env"
        env_file.write_text(
            "AZURE_STORAGE_CONNECTION_STRING=azcreds://az_secret\n"
            "STORAGE_ACCOUNT=azcreds://az_secret/account_name\n"
        )
        print(f"\n{env_file.name}:\n{env_file.read_text()}")
        child = folder / "child.py"
        child.write_text(CHILD)
        container = unique_container_name("refs")
        azcreds_cli("run", "--env-file", str(env_file), "--", sys.executable, str(child), container)

        template = folder / "settings.ini.tpl"
        template.write_text(
            "[storage]\naccount = {{ azcreds://az_secret/account_name }}\n"
            "key = {{ azcreds://az_secret/account_key }}\n"
        )
        out = folder / "settings.ini"
        azcreds_cli("inject", "-i", str(template), "-o", str(out))
        mode = stat.S_IMODE(out.stat().st_mode)
        lines = out.read_text().splitlines()
        print(f"{out.name}: mode {mode:o}, {len(lines)} lines, key line resolved: {'{{' not in lines[2]}")

        # One scrypt run now; later commands open the keyring with the session instead.
        export = azcreds_cli("keyring", "unlock", "--for", "5m", capture=True)
        session_env = {k: v for k, v in os.environ.items() if k != "AZCREDS_KEYRING_PASSPHRASE"}
        session_env["AZCREDS_KEYRING_SESSION"] = export.strip().split("=", 1)[1]
        print("(AZCREDS_KEYRING_SESSION set from its output; AZCREDS_KEYRING_PASSPHRASE unset)")
        second = unique_container_name("refs")
        azcreds_cli(
            "run", "--env-file", str(env_file), "--", sys.executable, "-c", CHILD, second, env=session_env
        )
        azcreds_cli("keyring", "lock", env=session_env)

        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(azurite.connection_string)
        blobs = [b.name for c in (container, second) for b in client.get_container_client(c).list_blobs()]
        if mode != 0o600 or blobs != ["hello.txt", "hello.txt"] or "{{" in out.read_text():
            print(f"UNEXPECTED: mode {mode:o}, blobs {blobs}", file=sys.stderr)
            return 1
        print("references OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
