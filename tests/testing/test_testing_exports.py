"""azcreds.testing's public surface: __all__ is exact, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import azcreds.testing

SUBMODULES = {
    "azurite",
    "developer_tools",
    "dask_guard",
    "guarded_python",
    "identity_servers",
    "keyvault_server",
    "network_guard",
    "node",
    "pytest_plugin",
    "storage_proxy",
    "store_contract",
    "tls",
    "tokens",
}


def test_all_lists_exactly_the_public_names() -> None:
    exported = azcreds.testing.__all__
    assert len(set(exported)) == len(exported)
    public = {name for name in vars(azcreds.testing) if not name.startswith("_")}
    # Submodules appear as attributes once imported; network_guard is exported on purpose.
    assert set(exported) == public - (SUBMODULES - {"network_guard"})


def test_import_loads_no_sdk_jwt_or_trustme() -> None:
    code = (
        "import sys; import azcreds; before = set(sys.modules); import azcreds.testing; "
        "import azcreds.testing.pytest_plugin; "
        "heavy = ('azure', 'jwt', 'trustme', 'cryptography', 'msal', 'requests'); "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
