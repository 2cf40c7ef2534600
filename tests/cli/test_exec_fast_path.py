"""The `exec` and `run` start-up path: no typer, rich, Azure SDK or OS keyring imports,
no pydantic plugin scan, and nothing of the CLI's own environment passed on to the child."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from azcreds._setting_variables import SETTING_VARIABLES
from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, child_env, run_subprocess
from tests.helpers import AZURITE_ACCOUNT_KEY

NOT_ON_THE_PATH = ("typer", "rich", "azure", "keyring", "shellingham")

PROBE = """
import sys
from azcreds.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(NAMES))
scanned = sys.modules.get("pydantic.plugin._loader")
sys.stderr.write("LOADED=" + ",".join(loaded) + "\\n")
sys.stderr.write("SETTINGS=" + str("pydantic_settings" in sys.modules) + "\\n")
sys.stderr.write("PLUGINS_SCANNED=" + str(getattr(scanned, "_plugins", None) is not None) + "\\n")
sys.exit(code)
""".replace("NAMES", repr(NOT_ON_THE_PATH))

CS = f"AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1"
DUMP = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@pytest.mark.parametrize("verb", [["exec", "s2"], ["run"]])
def test_exec_and_run_from_the_environment_import_nothing_heavy(verb: list[str], tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    env = child_env(AZCREDS_S2__CONNECTION_STRING=CS, REF="azcreds://s2/account_name")
    for name in SETTING_VARIABLES:  # no setting set (the tests' own keyring path...): the defaults
        env.pop(name, None)
    r = run_subprocess(
        [sys.executable, "-c", PROBE, *verb, "--", sys.executable, "-c", DUMP, str(out)], env=env
    )
    assert r.code == 0, r
    assert "LOADED=\n" in r.err, r.err
    assert "PLUGINS_SCANNED=False" in r.err, r.err
    if verb[0] == "exec":  # found in the environment: the settings are not needed, nor read
        assert "SETTINGS=False" in r.err, r.err
    seen = json.loads(out.read_text())
    assert "PYDANTIC_DISABLE_PLUGINS" not in seen  # the CLI's own setting stays its own
    assert seen.get("AZURE_STORAGE_ACCOUNT_NAME", seen.get("REF")) == "devstoreaccount1"


def test_a_users_own_pydantic_setting_reaches_the_child(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    env = child_env(AZCREDS_S2__CONNECTION_STRING=CS, PYDANTIC_DISABLE_PLUGINS="logfire")
    r = run_subprocess(
        [sys.executable, "-m", "azcreds", "exec", "s2", "--", sys.executable, "-c", DUMP, str(out)], env=env
    )
    assert r.code == 0, r
    assert json.loads(out.read_text())["PYDANTIC_DISABLE_PLUGINS"] == "logfire"


def test_exec_from_a_keyring_session_imports_nothing_heavy(populated: KeyringStore, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = child_env(AZCREDS_KEYRING_PATH=str(populated.path), XDG_RUNTIME_DIR=str(runtime))
    unlocked = run_subprocess(
        [sys.executable, "-m", "azcreds", "keyring", "unlock"],
        env=env | {"AZCREDS_KEYRING_PASSPHRASE": PASSPHRASE},
    )
    assert unlocked.code == 0, unlocked
    env["AZCREDS_KEYRING_SESSION"] = unlocked.out.strip().split("=", 1)[1]
    r = run_subprocess([sys.executable, "-c", PROBE, "exec", "s1", "--", "true"], env=env)
    assert r.code == 0, r
    assert "LOADED=\n" in r.err, r.err
