"""Throwaway TLS material for local HTTPS servers: a test CA and a loopback server certificate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

__all__ = ["LOOPBACK_NAMES", "TestCertificates", "make_test_certificates"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""The names the test server certificate is issued for."""
"""The names the server certificate is valid for."""


@dataclass(frozen=True)
class TestCertificates:
    """PEM files: the CA to trust (``ca_path``), the server chain and its private key."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    ca_path: Path
    cert_path: Path
    key_path: Path


def make_test_certificates(directory: str | Path) -> TestCertificates:
    """Create a fresh CA and a server certificate for :data:`LOOPBACK_NAMES` in ``directory``.

    Writes ``ca.pem``, ``server.pem`` (the server certificate and its chain) and ``server-key.pem``.
    Needs the ``trustme`` package (a dev dependency).
    """
    try:
        import trustme
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("make_test_certificates needs 'trustme': pip install 'azcreds[dev]'") from exc

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert(*LOOPBACK_NAMES)
    certificates = TestCertificates(
        ca_path=folder / "ca.pem",
        cert_path=folder / "server.pem",
        key_path=folder / "server-key.pem",
    )
    ca.cert_pem.write_to_path(str(certificates.ca_path))
    certificates.cert_path.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(certificates.key_path))
    certificates.key_path.chmod(0o600)
    return certificates
