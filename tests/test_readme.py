"""The Quickstart code users copy runs as written against a fresh Azurite container.

README.md's Python blocks (and docs/index.md's) are taken from the page and run in a process of
their own, with only the variable the page tells users to export; the container the page names is
swapped for a fresh one, so the "container does not exist yet" path is the one that runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from azcreds.testing import AzuriteServer
from tests.cli.helpers import child_env, run_subprocess

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(page: str) -> list[str]:
    """The ```python blocks of the page's Quickstart section."""
    text = (ROOT / page).read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_quickstart_runs_on_a_fresh_account(
    page: str, azurite: AzuriteServer, container_name: str, tmp_path: Path
) -> None:
    blocks = python_blocks(page)
    assert blocks, f"no Python in {page}'s Quickstart"
    code = "\n".join(blocks).replace('"models"', repr(container_name))
    code = code.replace("az://models/", f"az://{container_name}/")
    assert "models" not in code  # every use of the container was swapped
    raw = BlobServiceClient.from_connection_string(azurite.connection_string)
    assert not raw.get_container_client(container_name).exists()
    script = tmp_path / "quickstart.py"
    script.write_text(code, encoding="utf-8")
    env = child_env(AZCREDS_AZ_SECRET__CONNECTION_STRING=azurite.connection_string)
    r = run_subprocess([sys.executable, str(script)], env=env, cwd=tmp_path)
    assert r.code == 0, r.err[-3000:]
    assert "Traceback" not in r.err
    assert azurite.account_key not in r.out + r.err
    blobs = {b.name for b in raw.get_container_client(container_name).list_blobs()}
    assert "v1/weights.bin" in blobs or "project-x/v1/weights.bin" in blobs, blobs
