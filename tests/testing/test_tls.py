"""make_test_certificates: PEM files that make a real TLS handshake on loopback verify."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import TYPE_CHECKING

import pytest

from azcreds.testing import LOOPBACK_NAMES, TestCertificates, make_test_certificates

if TYPE_CHECKING:
    from pathlib import Path


def test_files_are_pem(tmp_path: Path) -> None:
    certificates = make_test_certificates(tmp_path / "tls")
    assert certificates == TestCertificates(
        ca_path=tmp_path / "tls" / "ca.pem",
        cert_path=tmp_path / "tls" / "server.pem",
        key_path=tmp_path / "tls" / "server-key.pem",
    )
    assert certificates.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert certificates.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY-----" in certificates.key_path.read_text()
    assert certificates.key_path.stat().st_mode & 0o077 == 0


def test_each_call_makes_a_new_ca(tmp_path: Path) -> None:
    first = make_test_certificates(tmp_path / "a").ca_path.read_bytes()
    assert first != make_test_certificates(tmp_path / "b").ca_path.read_bytes()


def _serve_tls_once(server: socket.socket, context: ssl.SSLContext) -> threading.Thread:
    def serve() -> None:
        conn, _ = server.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(tls.recv(64))
        except (ssl.SSLError, OSError):
            pass  # the client refused the certificate; its side asserts that

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("name", LOOPBACK_NAMES)
def test_handshake_verifies_for_each_loopback_name(test_certificates: TestCertificates, name: str) -> None:
    family = socket.AF_INET6 if name == "::1" else socket.AF_INET
    try:
        server = socket.socket(family)
        server.bind(("::1" if name == "::1" else "127.0.0.1", 0))
    except OSError as exc:
        pytest.skip(f"no loopback for {name}: {exc}")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(test_certificates.cert_path, test_certificates.key_path)
    client_context = ssl.create_default_context(cafile=str(test_certificates.ca_path))
    with server:
        server.listen()
        thread = _serve_tls_once(server, server_context)
        port = server.getsockname()[1]
        with (
            socket.create_connection((name, port), timeout=5) as raw,
            client_context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            tls.sendall(b"hello")
            assert tls.recv(64) == b"hello"
        thread.join(5)


def test_handshake_fails_without_the_ca(test_certificates: TestCertificates) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(test_certificates.cert_path, test_certificates.key_path)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        thread = _serve_tls_once(server, server_context)
        client_context = ssl.create_default_context(cafile=None, capath=None, cadata=None)
        with (
            socket.create_connection(server.getsockname(), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            client_context.wrap_socket(raw, server_hostname="127.0.0.1")
        thread.join(5)
