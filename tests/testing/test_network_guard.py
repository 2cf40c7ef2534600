"""The loopback-only network guard: forbidden destinations are refused and recorded, loopback works.

Every test that aims at a forbidden address first checks that the guard is really in place, so a
broken plugin fails here instead of sending anything.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import TYPE_CHECKING

import pytest

from azcreds.testing import network_guard
from azcreds.testing.network_guard import NonLoopbackConnectionError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def require_guard() -> None:
    """Fail (without touching the network) unless the session guard patches ``socket``."""
    if not network_guard.is_installed():
        pytest.fail("the network guard is not installed: refusing to aim at a forbidden address")
    for patched in (socket.socket.connect, socket.create_connection, socket.getaddrinfo):
        if getattr(patched, "__module__", None) != network_guard.__name__:
            pytest.fail(f"{patched!r} is not the guard's: refusing to aim at a forbidden address")


def take_attempts() -> list[network_guard.BlockedAttempt]:
    """The recorded attempts, cleared so the plugin's per-test check passes."""
    attempts = network_guard.blocked_attempts()
    network_guard.clear_blocked_attempts()
    return attempts


def test_plugin_installed_the_guard_for_the_session() -> None:
    require_guard()


@pytest.mark.parametrize(
    "connect",
    [
        pytest.param(lambda: socket.create_connection(("169.254.169.254", 80), 1), id="create"),
        pytest.param(lambda: socket.socket().connect(("169.254.169.254", 80)), id="connect"),
    ],
)
def test_imds_is_refused_and_recorded(connect: Callable[[], object]) -> None:
    require_guard()
    with pytest.raises(NonLoopbackConnectionError) as refused:
        connect()
    assert isinstance(refused.value, OSError)
    assert "169.254.169.254:80" in str(refused.value)
    [attempt] = take_attempts()
    assert (attempt.host, attempt.port) == ("169.254.169.254", 80)
    assert attempt.where.startswith("socket.")
    assert attempt.caller.startswith(__file__)


def test_private_address_is_refused_by_connect_and_connect_ex() -> None:
    require_guard()
    with socket.socket() as sock, pytest.raises(NonLoopbackConnectionError):
        sock.connect(("10.0.0.1", 443))
    with socket.socket() as sock, pytest.raises(NonLoopbackConnectionError):
        sock.connect_ex(("10.0.0.1", 443))
    attempts = take_attempts()
    assert [(a.host, a.port, a.where) for a in attempts] == [
        ("10.0.0.1", 443, "socket.connect"),
        ("10.0.0.1", 443, "socket.connect_ex"),
    ]


def test_datagram_to_a_private_address_is_refused() -> None:
    require_guard()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(NonLoopbackConnectionError),
    ):
        sock.sendto(b"query", ("10.0.0.1", 53))
    [attempt] = take_attempts()
    assert (attempt.host, attempt.port, attempt.where) == ("10.0.0.1", 53, "socket.sendto")


def test_public_ipv6_address_is_refused() -> None:
    require_guard()
    with socket.socket(socket.AF_INET6) as sock, pytest.raises(NonLoopbackConnectionError):
        sock.connect(("2001:db8::1", 443, 0, 0))
    [attempt] = take_attempts()
    assert attempt.describe().startswith("[2001:db8::1]:443 via socket.connect")


@pytest.mark.parametrize(
    "lookup",
    [
        pytest.param(lambda: socket.getaddrinfo("login.microsoftonline.com", 443), id="getaddrinfo"),
        pytest.param(lambda: socket.gethostbyname("login.microsoftonline.com"), id="gethostbyname"),
        pytest.param(lambda: socket.create_connection(("login.microsoftonline.com", 443), 1), id="create"),
    ],
)
def test_name_resolution_is_refused_before_any_dns_query(lookup: Callable[[], object]) -> None:
    require_guard()
    with pytest.raises(NonLoopbackConnectionError):
        lookup()
    [attempt] = take_attempts()
    assert attempt.host == "login.microsoftonline.com"


def test_swallowed_refusal_is_still_recorded() -> None:
    require_guard()
    with contextlib.suppress(OSError):  # what an SDK probe does with a connection failure
        socket.create_connection(("169.254.169.254", 80), 1)
    assert [a.host for a in take_attempts()] == ["169.254.169.254"]


def test_managed_identity_imds_probe_is_refused_and_recorded() -> None:
    """The real azure-identity IMDS probe swallows the error; the record still shows it."""
    from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

    require_guard()
    credential = ManagedIdentityCredential(retry_total=0)  # its default retries take ~5 s
    with pytest.raises(CredentialUnavailableError):
        credential.get_token("https://storage.azure.com/.default")
    assert any(a.host == "169.254.169.254" for a in take_attempts())


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.42.0.7", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        (b"127.0.0.1", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("172.31.255.254", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1%lo", False),
        ("8.8.8.8", False),
        ("sub.localhost", False),
        ("login.microsoftonline.com", False),
        ("devstoreaccount1.blob.core.windows.net", False),
        (b"\xff", False),
    ],
)
def test_is_allowed_host(host: str | bytes, allowed: bool) -> None:
    assert network_guard.is_allowed_host(host) is allowed


def _echo_once(server: socket.socket) -> threading.Thread:
    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(64))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_ipv4_loopback_connections_work() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "127.0.0.1", "localhost"):
            thread = _echo_once(server)
            with socket.create_connection((host, port), timeout=5) as client:
                client.sendall(b"ping")
                assert client.recv(64) == b"ping"
            thread.join(5)
    assert network_guard.blocked_attempts() == []


def test_ipv6_loopback_connections_work() -> None:
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback on this machine: {exc}")
    with server:
        server.listen()
        thread = _echo_once(server)
        with socket.socket(socket.AF_INET6) as client:
            client.settimeout(5)
            client.connect(server.getsockname())
            client.sendall(b"ping6")
            assert client.recv(64) == b"ping6"
        thread.join(5)
    assert network_guard.blocked_attempts() == []


def test_unix_sockets_work(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    if len(path) > 100:
        pytest.skip("tmp_path too long for an AF_UNIX socket path")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        thread = _echo_once(server)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            client.sendall(b"unix")
            assert client.recv(64) == b"unix"
        thread.join(5)


def test_install_uninstall_are_idempotent_and_loopback_only_restores() -> None:
    original_connect = socket.socket.__dict__["connect"]
    try:
        network_guard.uninstall()
        network_guard.uninstall()
        assert not network_guard.is_installed()
        assert "connect" not in vars(socket.socket)  # inherited from _socket.socket again
        with network_guard.loopback_only():
            assert network_guard.is_installed()
            with network_guard.loopback_only():  # nested: leaves the outer guard in place
                pass
            assert network_guard.is_installed()
        assert not network_guard.is_installed()
    finally:
        network_guard.install()
        network_guard.install()
    require_guard()
    assert socket.socket.__dict__["connect"] is not original_connect  # freshly installed
    with network_guard.loopback_only():
        pass
    assert network_guard.is_installed()  # the session's guard survives a with block
