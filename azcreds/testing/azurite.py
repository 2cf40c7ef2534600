"""Run Azurite's Blob service on 127.0.0.1 for tests: start it, wait until it listens, kill it.

Azurite comes from npm (``package.json`` at the repository root; ``npm ci`` or ``scripts/setup``
installs it into ``node_modules``). Flags always passed: ``--blobHost 127.0.0.1``,
``--disableTelemetry`` (telemetry is on by default and would reach the internet),
``--skipApiVersionCheck`` (the SDK sends an ``x-ms-version`` newer than Azurite knows) and
``--disableProductStyleUrl`` (the account is always the first path segment). ``--loose`` is not
passed: tests should see Azurite reject what Azure would reject.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
import weakref
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from types import TracebackType

    from azcreds.testing.tls import TestCertificates

__all__ = [
    "AZURITE_BIN_ENV",
    "DEV_ACCOUNT_KEY",
    "DEV_ACCOUNT_NAME",
    "USER_DELEGATION_AZURITE",
    "AzuriteNotFoundError",
    "AzuriteServer",
    "AzuriteStartError",
    "find_azurite_blob",
    "find_azurite_package_blob",
    "generate_account_key",
    "unique_container_name",
]

AZURITE_BIN_ENV = "AZCREDS_AZURITE_BIN"
"""Environment variable naming the ``azurite-blob`` executable, overriding the search."""

DEV_ACCOUNT_NAME = "devstoreaccount1"
"""Azurite's built-in development account."""
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Azurite's well-known development account and key (public, not a secret)."""

_HOST = "127.0.0.1"
_BIN_NAMES = ("azurite-blob.cmd", "azurite-blob") if os.name == "nt" else ("azurite-blob",)
_START_ATTEMPTS = 5
_STOP_TIMEOUT = 5.0
_CONTAINER_PREFIX = re.compile(r"[a-z0-9](?:-?[a-z0-9])*")
_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")


class AzuriteNotFoundError(FileNotFoundError):
    """The ``azurite-blob`` executable is not installed where we look."""


class AzuriteStartError(RuntimeError):
    """Azurite exited or did not listen in time. The message ends with the tail of its log."""


def find_azurite_blob(search_from: Iterable[str | Path] | None = None) -> Path:
    """The ``azurite-blob`` executable.

    ``$AZCREDS_AZURITE_BIN`` if set; otherwise the first ``node_modules/.bin/azurite-blob`` in
    ``search_from`` or one of its parents (default: the current directory and this package's).
    """
    override = os.environ.get(AZURITE_BIN_ENV)
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise AzuriteNotFoundError(
            f"${AZURITE_BIN_ENV} is {override!r}, which is not an executable file. Unset it to "
            "use node_modules/.bin/azurite-blob, installed by `npm ci` (or scripts/setup)."
        )
    roots = [Path(root) for root in search_from] if search_from is not None else None
    if roots is None:
        roots = [Path.cwd(), Path(__file__).resolve().parent]
    for root in roots:
        for folder in (root.resolve(), *root.resolve().parents):
            for name in _BIN_NAMES:
                candidate = folder / "node_modules" / ".bin" / name
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return candidate
    searched = ", ".join(str(root) for root in roots)
    raise AzuriteNotFoundError(
        f"azurite-blob not found: no node_modules/.bin/azurite-blob in {searched} or their "
        "parents. Run `npm ci` in the azcreds repository (or scripts/setup) to install Azurite, "
        f"or set ${AZURITE_BIN_ENV} to the azurite-blob executable."
    )


USER_DELEGATION_AZURITE = "azurite-3.37"
"""The npm alias (``package.json``) of Azurite 3.37.0, installed next to the default 3.35.

azure-storage-blob 12.31 signs SAS at version 2026-10-06, whose user delegation string-to-sign
has two more lines (``srh``, ``srq``) that Azurite checks only from 3.37.0: 3.35 refuses every
correct user delegation SAS. 3.37 declares Node 22 but runs on Node 20 (npm warns); the rest of
the suite keeps the 3.35 of ``node_modules/.bin``.
"""


def find_azurite_package_blob(
    package: str = USER_DELEGATION_AZURITE, search_from: Iterable[str | Path] | None = None
) -> Path:
    """The Blob service script of the Azurite installed as ``node_modules/<package>`` (run with node).

    npm links only one ``azurite-blob`` into ``node_modules/.bin``, so a second Azurite (an npm
    alias) is started from its ``dist/src/blob/main.js``; :class:`AzuriteServer` runs a ``.js``
    binary with ``node``.
    """
    roots = [Path(root) for root in search_from] if search_from is not None else None
    if roots is None:
        roots = [Path.cwd(), Path(__file__).resolve().parent]
    for root in roots:
        for folder in (root.resolve(), *root.resolve().parents):
            candidate = folder / "node_modules" / package / "dist" / "src" / "blob" / "main.js"
            if candidate.is_file():
                return candidate
    raise AzuriteNotFoundError(
        f"node_modules/{package} not found from {', '.join(map(str, roots))}: run `npm ci` in the azcreds "
        "repository (or scripts/setup); package.json installs it as an npm alias of azurite"
    )


def generate_account_key() -> str:
    """A random storage account key (64 random bytes, base64), for ``accounts=``."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


def unique_container_name(prefix: str = "t") -> str:
    """A container name no other call returns: ``{prefix}-{32 hex digits}``.

    ``prefix`` must be 1-30 lowercase letters, digits and single inner hyphens, so the result
    is a valid container name (3-63 characters, starting with a letter or digit).
    """
    if len(prefix) > 30 or not _CONTAINER_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"container name prefix {prefix!r} must be 1-30 lowercase letters, digits and "
            "single inner hyphens"
        )
    return f"{prefix}-{uuid.uuid4().hex}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty log>"


def _shutdown(process: subprocess.Popen[bytes], log: IO[bytes], workdir: str | None) -> None:
    """Terminate ``process`` (kill it after a grace period), then drop its log and workdir."""
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        log.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


class AzuriteServer:
    """An ``azurite-blob`` process on 127.0.0.1. Use as a context manager, or ``start``/``stop``.

    ``certificates`` serves HTTPS; ``oauth=True`` adds ``--oauth basic`` (bearer tokens, HTTPS
    only). ``accounts`` maps account names to a key or a (primary, secondary) key pair and
    replaces ``devstoreaccount1``; the first is the one the properties describe. ``location``
    keeps data in that folder instead of in memory. ``extra_args`` are appended to the command.
    """

    def __init__(
        self,
        *,
        certificates: TestCertificates | None = None,
        oauth: bool = False,
        accounts: Mapping[str, str | tuple[str, str]] | None = None,
        location: str | Path | None = None,
        binary: str | Path | None = None,
        startup_timeout: float = 30.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        if oauth and certificates is None:
            raise ValueError("oauth=True needs HTTPS: pass certificates=make_test_certificates(...)")
        if accounts is not None:
            if not accounts:
                raise ValueError("accounts must name at least one account")
            for name in accounts:
                if not _ACCOUNT_NAME.fullmatch(name):
                    raise ValueError(f"account name {name!r} must be 3-24 lowercase letters/digits")
        self.certificates = certificates
        self.oauth = oauth
        self._accounts: dict[str, tuple[str, ...]] = (
            {name: (keys,) if isinstance(keys, str) else tuple(keys) for name, keys in accounts.items()}
            if accounts is not None
            else {DEV_ACCOUNT_NAME: (DEV_ACCOUNT_KEY,)}
        )
        self._custom_accounts = accounts is not None
        # Resolved now: Azurite runs in a temporary working directory.
        self.location = Path(location).resolve() if location is not None else None
        self.binary = Path(binary).absolute() if binary is not None else None
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._log_path: Path | None = None
        self._finalizer: weakref.finalize[..., AzuriteServer] | None = None
        self._last_probe_error = "none yet"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> AzuriteServer:
        """Start Azurite on a free port and return once it answers HTTP(S) requests.

        Raises :class:`AzuriteNotFoundError` if it is not installed and :class:`AzuriteStartError`
        if it exits or does not listen within ``startup_timeout`` seconds.
        """
        if self.is_running:
            return self
        binary = self.binary if self.binary is not None else find_azurite_blob().absolute()
        last_error: AzuriteStartError | None = None
        for _ in range(_START_ATTEMPTS):
            try:
                self._start_once(binary, _free_port())
                return self
            except _PortTakenError as exc:  # another process took the port between probe and bind
                last_error = AzuriteStartError(str(exc))
        assert last_error is not None
        raise last_error

    def _command(self, binary: Path, port: int) -> list[str]:
        launcher: list[str] = []
        if binary.suffix == ".js":  # a package's script, not a linked bin: run it with node
            node = shutil.which("node")
            if node is None:
                raise AzuriteNotFoundError(f"node is not on PATH, and {binary} needs it")
            launcher = [node]
        command = [
            *launcher,
            str(binary),
            "--blobHost",
            _HOST,
            "--blobPort",
            str(port),
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--disableProductStyleUrl",
        ]
        if self.location is not None:
            command += ["--location", str(self.location)]
        else:
            command.append("--inMemoryPersistence")
        if self.certificates is not None:
            command += ["--cert", str(self.certificates.cert_path.resolve())]
            command += ["--key", str(self.certificates.key_path.resolve())]
        if self.oauth:
            command += ["--oauth", "basic"]
        command += self.extra_args
        return command

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("AZURITE_ACCOUNTS", None)
        if self._custom_accounts:
            env["AZURITE_ACCOUNTS"] = ";".join(
                ":".join((name, *keys)) for name, keys in self._accounts.items()
            )
        return env

    def _start_once(self, binary: Path, port: int) -> None:
        workdir = tempfile.mkdtemp(prefix="azcreds-azurite-")
        log_path = Path(workdir) / "azurite.log"
        log = log_path.open("wb")
        if self.location is not None:
            self.location.mkdir(parents=True, exist_ok=True)
        try:
            process = subprocess.Popen(
                self._command(binary, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,  # Azurite may drop files in its working directory
                env=self._environment(),
            )
        except BaseException:
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        finalizer = weakref.finalize(self, _shutdown, process, log, workdir)
        try:
            self._wait_until_listening(process, port, log_path)
        except BaseException:
            finalizer()
            raise
        self._process, self._port, self._log_path, self._finalizer = (
            process,
            port,
            log_path,
            finalizer,
        )

    def _wait_until_listening(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if process.poll() is not None:
                tail = _tail(log_path)
                message = f"azurite-blob exited with code {process.returncode} on port {port}"
                if "EADDRINUSE" in tail:
                    raise _PortTakenError(f"{message}:\n{tail}")
                raise AzuriteStartError(f"{message}:\n{tail}")
            if self._answers_as_azurite(port):
                return
            if time.monotonic() > deadline:
                raise AzuriteStartError(
                    f"azurite-blob did not answer on {self.scheme}://{_HOST}:{port} within "
                    f"{self.startup_timeout:g} s (last probe: {self._last_probe_error}):\n"
                    f"{_tail(log_path)}"
                )
            # Waiting on the process doubles as the poll interval and notices an early exit.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.02)

    def _answers_as_azurite(self, port: int) -> bool:
        """Whether Azurite answers HTTP(S) on ``port``, not just anything accepting connections.

        The port was free when chosen, but another process may have taken it since; then Azurite
        exits with EADDRINUSE and we must not mistake the other listener for it.
        """
        connection: http.client.HTTPConnection
        if self.certificates is not None:
            context = ssl.create_default_context(cafile=str(self.certificates.ca_path))
            connection = http.client.HTTPSConnection(_HOST, port, timeout=0.5, context=context)
        else:
            connection = http.client.HTTPConnection(_HOST, port, timeout=0.5)
        try:
            connection.request("HEAD", "/")
            server = connection.getresponse().getheader("Server", "")
        except (OSError, http.client.HTTPException) as exc:
            self._last_probe_error = f"{type(exc).__name__}: {exc}"
            return False
        finally:
            connection.close()
        self._last_probe_error = f"the server on the port is {server!r}, not Azurite"
        return server.startswith("Azurite")

    def stop(self) -> None:
        """Terminate Azurite (SIGTERM, then SIGKILL after 5 s). Safe to call more than once."""
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer()

    def __enter__(self) -> AzuriteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"{self.scheme}://{_HOST}:{self._port}" if self.is_running else "stopped"
        return f"<AzuriteServer {state}>"

    # -- state -------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether the process was started, not stopped, and has not exited."""
        return self._finalizer is not None and self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The Azurite process id."""
        return self._started_process().pid

    @property
    def log_path(self) -> Path:
        """Azurite's stdout/stderr (access log and errors). Deleted by :meth:`stop`."""
        self._started_process()
        assert self._log_path is not None
        return self._log_path

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log, for failure messages."""
        return _tail(self.log_path, lines)

    def _started_process(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._finalizer is None:
            raise RuntimeError("AzuriteServer is not started: call start() or use it in a with")
        return self._process

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``127.0.0.1``."""
        return _HOST

    @property
    def port(self) -> int:
        """The port Azurite listens on."""
        self._started_process()
        assert self._port is not None
        return self._port

    @property
    def scheme(self) -> str:
        """``https`` when started with certificates, else ``http``."""
        return "https" if self.certificates is not None else "http"

    @property
    def ca_path(self) -> Path | None:
        """The CA file to trust (``connection_verify=``), or ``None`` over http."""
        return self.certificates.ca_path if self.certificates is not None else None

    @property
    def accounts(self) -> dict[str, str]:
        """Each account name and its primary key."""
        return {name: keys[0] for name, keys in self._accounts.items()}

    @property
    def account_name(self) -> str:
        """The first account: ``devstoreaccount1`` unless ``accounts`` was given."""
        return next(iter(self._accounts))

    @property
    def account_key(self) -> str:
        """The first account's primary key."""
        return self._accounts[self.account_name][0]

    def account_url(self, account_name: str | None = None) -> str:
        """``{scheme}://127.0.0.1:{port}/{account}``: the ``account_url`` for blob clients."""
        return f"{self.scheme}://{_HOST}:{self.port}/{account_name or self.account_name}"

    @property
    def blob_endpoint(self) -> str:
        """The first account's URL (path style): ``{scheme}://127.0.0.1:{port}/{account}``."""
        return self.account_url()

    def connection_string_for(self, account_name: str | None = None, account_key: str | None = None) -> str:
        """A connection string with an explicit ``BlobEndpoint`` for one account.

        ``account_key`` defaults to the account's primary key; pass another to test a wrong key.
        """
        name = account_name or self.account_name
        if account_key is None:
            if name not in self._accounts:
                raise KeyError(f"Azurite was not started with account {name!r}")
            account_key = self._accounts[name][0]
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={name};"
            f"AccountKey={account_key};BlobEndpoint={self.account_url(name)};"
        )

    @property
    def connection_string(self) -> str:
        """The first account's connection string, with an explicit ``BlobEndpoint``."""
        return self.connection_string_for()


class _PortTakenError(AzuriteStartError):
    """Azurite could not bind the port chosen for it."""
