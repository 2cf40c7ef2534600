"""The pytest plugin, run for real on inner pytest sessions (pytester, in process)."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

import pytest

import azcreds
from azcreds.testing import network_guard

if TYPE_CHECKING:
    from collections.abc import Callable

pytest_plugins = ["pytester"]

# The inner runs need no hypothesis: loading its plugin afresh costs ~2 s each time.
PLUGIN = ("-p", "azcreds.testing.pytest_plugin", "-p", "no:hypothesispytest")


def test_swallowed_refusal_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket

        def test_probe_that_swallows_errors():
            try:
                socket.create_connection(("169.254.169.254", 80), timeout=1)
            except OSError:
                pass

        def test_clean():
            pass
        """
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*refused 1 non-loopback connection or lookup attempt(s) during the test*",
            "*169.254.169.254:80 via socket.create_connection*",
        ]
    )
    assert network_guard.blocked_attempts() == []


def test_refusal_in_fixture_teardown_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket
        import pytest

        @pytest.fixture
        def leaky():
            yield
            try:
                socket.getaddrinfo("login.microsoftonline.com", 443)
            except OSError:
                pass

        def test_uses_leaky(leaky):
            pass
        """
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*during teardown*", "*login.microsoftonline.com:443*"])


def test_refusal_outside_any_test_fails_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket

        try:  # at import, during collection
            socket.gethostbyname("example.invalid")
        except OSError:
            pass

        def test_fine():
            pass
        """
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*outside any test*", "*example.invalid via socket.gethostbyname*"])


def test_guard_is_put_back_when_another_plugin_restores_socket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import _socket
        import socket

        def test_clobber():  # what pytest-socket does after each test
            socket.socket.connect = _socket.socket.connect

        def test_still_guarded():
            assert socket.socket.connect is not _socket.socket.connect
            assert getattr(socket.socket.connect, "__azcreds_network_guard__", False)
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=2)


def test_environment_is_cleaned_for_each_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_STORAGE_CONNECTION_STRING",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
        "IMDS_ENDPOINT",
        "AZCREDS_KEYVAULT_URL",
        "azcreds_cache_ttl",
    ):
        monkeypatch.setenv(name, "from-outside")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/kept/ca.pem")
    monkeypatch.setenv("AZCREDS_AZURITE_BIN", "/kept/azurite-blob")
    pytester.makepyfile(
        """
        import os
        from pathlib import Path

        def test_env(tmp_path):
            cleared = ("AZURE_", "IDENTITY_", "MSI_", "IMDS_", "AZCREDS_")
            left = sorted(
                n for n in os.environ
                if n.upper().startswith(cleared)
                and n not in ("AZCREDS_KEYRING_PATH", "AZCREDS_AZURITE_BIN")
            )
            assert left == []
            assert os.environ["REQUESTS_CA_BUNDLE"] == "/kept/ca.pem"
            assert os.environ["AZCREDS_AZURITE_BIN"] == "/kept/azurite-blob"
            assert Path(os.environ["AZCREDS_KEYRING_PATH"]).parent == tmp_path
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)
    assert os.environ["AZURE_CLIENT_ID"] == "from-outside"  # restored after the inner test


def test_azcreds_cache_is_cleared_before_and_after_each_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    clear: Callable[[], None] = lambda: calls.append("clear")  # noqa: E731
    monkeypatch.setattr(azcreds, "clear_cache", clear, raising=False)
    pytester.makepyfile(
        """
        def test_one():
            pass

        def test_two():
            pass
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=2)
    assert calls == ["clear"] * 4


def test_plugin_fixtures_are_available(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re

        def test_container_name(container_name):
            assert re.fullmatch(r"t-[0-9a-f]{32}", container_name)

        def test_certificates(test_certificates):
            assert test_certificates.ca_path.is_file()
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=2)


def test_outer_session_is_still_guarded() -> None:
    assert network_guard.is_installed()
    assert getattr(socket.socket.connect, "__azcreds_network_guard__", False)
