"""The azcreds pytest plugin: loopback-only network, a clean environment, Azurite fixtures.

Load it with ``-p azcreds.testing.pytest_plugin`` (azcreds' own ``addopts`` do). It

- installs :mod:`~azcreds.testing.network_guard` for the whole session, and fails any test
  during whose setup, call or teardown a non-loopback connection or lookup was attempted, even if
  the code under test swallowed the ``OSError``; attempts outside any test fail the session;
- removes every ``AZURE_*``, ``IDENTITY_*``, ``MSI_*``, ``IMDS_*`` and ``AZCREDS_*`` environment
  variable for each test (except ``AZCREDS_AZURITE_BIN``, which only tells the harness where
  Azurite is), points ``AZCREDS_KEYRING_PATH`` into the test's ``tmp_path``, and clears azcreds'
  caches before and after the test;
- provides the fixtures ``test_certificates``, ``azurite``, ``azurite_https``,
  ``azurite_user_delegation``, ``container_name``, ``keyvault_server``,
  ``managed_identity_endpoint`` and ``entra_authority``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

import pytest

from azcreds.testing import network_guard
from azcreds.testing._local_http import LocalHTTPServer
from azcreds.testing.azurite import (
    AZURITE_BIN_ENV,
    AzuriteServer,
    find_azurite_package_blob,
    unique_container_name,
)
from azcreds.testing.identity_servers import EntraAuthority, ManagedIdentityEndpoint
from azcreds.testing.keyvault_server import KeyVaultServer
from azcreds.testing.tls import TestCertificates, make_test_certificates

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from pathlib import Path

__all__ = [
    "CLEARED_ENV_PREFIXES",
    "KEPT_ENV_VARIABLES",
    "azurite",
    "azurite_https",
    "azurite_user_delegation",
    "container_name",
    "entra_authority",
    "keyvault_server",
    "managed_identity_endpoint",
    "test_certificates",
]

CLEARED_ENV_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "IMDS_", "AZCREDS_")
"""Environment variables with these prefixes (any case) are removed for each test."""

KEPT_ENV_VARIABLES = frozenset({AZURITE_BIN_ENV})
"""Harness settings kept despite their prefix."""

_guard_installed_here = pytest.StashKey[bool]()
_attempts_outside_tests = pytest.StashKey[list[network_guard.BlockedAttempt]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_guard_installed_here] = not network_guard.is_installed()
    config.stash[_attempts_outside_tests] = []
    network_guard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    # An inner pytest run (pytester) must not take the outer session's guard away.
    if config.stash.get(_guard_installed_here, False):
        network_guard.uninstall()


# -- failing tests that tried to leave the machine --------------------------------------------


def _take_blocked_message(phase: str) -> str | None:
    attempts = network_guard.blocked_attempts()
    if not attempts:
        return None
    network_guard.clear_blocked_attempts()
    lines = "\n".join(f"  - {attempt.describe()}" for attempt in attempts)
    return (
        f"the network guard refused {len(attempts)} non-loopback connection or lookup "
        f"attempt(s) during {phase} (tests may only reach 127.0.0.0/8, ::1, localhost):\n{lines}"
    )


def _guarded_phase(phase: str) -> Generator[None, object, object]:
    network_guard.install()  # put back whatever another plugin (pytest-socket) restored
    try:
        result = yield
    except BaseException as exc:
        message = _take_blocked_message(phase)
        if message is not None:
            exc.add_note(message)
        raise
    finally:
        network_guard.install()
    message = _take_blocked_message(phase)
    if message is not None:
        pytest.fail(message, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    leftover = network_guard.blocked_attempts()
    if leftover:  # made outside any test: during collection, say
        item.config.stash[_attempts_outside_tests].extend(leftover)
        network_guard.clear_blocked_attempts()
    return (yield from _guarded_phase("setup"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded_phase("the test"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guarded_phase("teardown"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    outside = session.config.stash.get(_attempts_outside_tests, [])
    outside += network_guard.blocked_attempts()
    if not outside:
        return
    network_guard.clear_blocked_attempts()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("azcreds network guard: non-loopback attempts outside any test:", red=True)
        for attempt in outside:
            reporter.write_line(f"  - {attempt.describe()}", red=True)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- a clean environment per test -------------------------------------------------------------


def _clear_azcreds_caches() -> None:
    clear_cache = getattr(importlib.import_module("azcreds"), "clear_cache", None)
    if callable(clear_cache):
        clear_cache()
    settings = sys.modules.get("azcreds.settings")  # not loaded: nothing cached
    reset_settings = getattr(settings, "reset_settings", None)
    if callable(reset_settings):
        reset_settings()


@pytest.fixture(autouse=True)
def _azcreds_clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No Azure or azcreds settings from the outside; a keyring file of the test's own."""
    for name in list(os.environ):
        if name.upper().startswith(CLEARED_ENV_PREFIXES) and name not in KEPT_ENV_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AZCREDS_KEYRING_PATH", str(tmp_path / "azcreds-keyring"))
    # Never the user's OS keyring: tests that need one hand a backend in explicitly.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    _clear_azcreds_caches()
    yield
    _clear_azcreds_caches()


# -- servers and names ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A test CA and a server certificate for 127.0.0.1, localhost and ::1 (PEM files)."""
    return make_test_certificates(tmp_path_factory.mktemp("azcreds-tls"))


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """Azurite over http, in memory, with ``devstoreaccount1``; one for the session."""
    with AzuriteServer() as server:
        yield server


@pytest.fixture(scope="session")
def azurite_https(test_certificates: TestCertificates) -> Iterator[AzuriteServer]:
    """Azurite over HTTPS with ``--oauth basic`` (trust ``ca_path``); one for the session."""
    with AzuriteServer(certificates=test_certificates, oauth=True) as server:
        yield server


@pytest.fixture(scope="session")
def azurite_user_delegation(test_certificates: TestCertificates) -> Iterator[AzuriteServer]:
    """Azurite 3.37 (``USER_DELEGATION_AZURITE``) over HTTPS with ``--oauth basic``: the first
    that accepts the user delegation SAS azure-storage-blob 12.31 signs; one for the session."""
    binary = find_azurite_package_blob()
    with AzuriteServer(certificates=test_certificates, oauth=True, binary=binary) as server:
        yield server


@pytest.fixture
def container_name() -> str:
    """A fresh, valid, unique container name."""
    return unique_container_name()


def _fail_on_server_errors(server: LocalHTTPServer) -> None:
    errors = server.errors
    if errors:
        details = "\n".join(f"{e.method} {e.path}:\n{e.traceback}" for e in errors)
        pytest.fail(
            f"{server!r} failed on {len(errors)} request(s) (answered 500):\n{details}", pytrace=False
        )


@pytest.fixture
def keyvault_server(test_certificates: TestCertificates) -> Iterator[KeyVaultServer]:
    """A fresh, empty Key Vault secrets server over HTTPS for the test (``KeyVaultServer``).

    Use ``SecretClient(keyvault_server.vault_url, credential, **keyvault_server.client_kwargs())``.
    """
    with KeyVaultServer(certificates=test_certificates) as server:
        yield server
        _fail_on_server_errors(server)


@pytest.fixture
def managed_identity_endpoint() -> Iterator[ManagedIdentityEndpoint]:
    """A managed identity endpoint (App Service and IMDS style) with a system-assigned and one
    user-assigned identity; set ``app_service_env()`` or ``imds_env()`` with ``monkeypatch``."""
    with ManagedIdentityEndpoint() as endpoint:
        yield endpoint
        _fail_on_server_errors(endpoint)


@pytest.fixture
def entra_authority(test_certificates: TestCertificates) -> Iterator[EntraAuthority]:
    """An Entra-style authority over HTTPS with one registered app (``entra_authority.app``).

    Use ``ClientSecretCredential(tenant, app.client_id, app.client_secret,
    **entra_authority.credential_kwargs())``.
    """
    with EntraAuthority(certificates=test_certificates) as authority:
        yield authority
        _fail_on_server_errors(authority)
