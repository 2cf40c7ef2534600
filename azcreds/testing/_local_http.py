"""Plumbing shared by the fake Azure services: a threaded loopback HTTP(S) server, faults, a request log.

:class:`LocalHTTPServer` runs ``http.server`` in a thread on 127.0.0.1 (port 0 unless told), speaks
HTTP/1.1 with keep-alive and ``TCP_NODELAY`` (without it each keep-alive request costs ~40 ms), and
serves HTTPS when given :class:`~azcreds.testing.tls.TestCertificates`; the TLS handshake runs in the
connection's thread, so a client that never completes it cannot stall the others. Subclasses
implement :meth:`LocalHTTPServer._handle`, one request in, one :class:`HTTPResponse` out.

Around that the base provides what the tests of retry and error paths need: :class:`FaultInjector`
(status codes with ``Retry-After``, delays, dropped connections, per-identity refusals), a log of
:class:`RecordedRequest` (never a secret header or token), a *down* state (the listener is closed, so
connections are refused, then reopened on the same port) and a *black hole* (connections are
accepted and never answered).

Nothing here imports the Azure SDK or PyJWT.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import socket
import ssl
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping
    from email.message import Message
    from types import TracebackType

    from azcreds.testing.tls import TestCertificates

__all__ = [
    "Fault",
    "FaultInjector",
    "HTTPRequest",
    "HTTPResponse",
    "LocalHTTPServer",
    "RecordedRequest",
    "ServerError",
    "fault_response",
]

HOST = "127.0.0.1"
_JOIN_TIMEOUT = 5.0
_MAX_BODY = 4 * 1024 * 1024


@dataclass
class Fault:
    """One injected fault; :meth:`FaultInjector.add` documents the fields.

    ``hits`` counts the requests it was applied to; ``remaining`` is ``None`` for a fault that
    never runs out.
    """

    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    remaining: int | None = 1
    path_regex: str | None = None
    method: str | None = None
    identity: str | None = None
    code: str | None = None
    message: str | None = None
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def matches(self, method: str, path: str, identities: Collection[str]) -> bool:
        """Whether the fault applies to a request (and still has uses left)."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self._pattern is not None and not self._pattern.search(path):
            return False
        return self.identity is None or self.identity.lower() in {i.lower() for i in identities}


class FaultInjector:
    """Faults a server applies to the requests they match, first added first.

    Thread-safe: tests add faults while the server's threads take them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = 1,
        path_regex: str | None = None,
        method: str | None = None,
        identity: str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> Fault:
        """Apply a fault to the next ``times`` matching requests (``times=None``: to all of them).

        - ``status``: answer with this status and the service's error body (``code``/``message``
          override the default text); ``retry_after`` adds a ``Retry-After`` header (seconds).
        - ``delay``: wait this many seconds first (then answer normally, or per ``status``/``drop``).
        - ``drop``: read the request, then close the connection without any response.
        - ``path_regex`` (searched in the URL path, without the query), ``method`` and
          ``identity`` (an object id, app id or client id, as the server defines it) narrow the
          requests it applies to.
        """
        if status is None and not drop and delay <= 0:
            raise ValueError("a fault needs a status, drop=True or a positive delay")
        if status is not None and drop:
            raise ValueError("a fault either answers with a status or drops the connection, not both")
        if retry_after is not None and status is None:
            raise ValueError("retry_after needs a status (429 or 503, typically)")
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP status code")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for every matching request")
        fault = Fault(
            status=status,
            retry_after=retry_after,
            delay=delay,
            drop=drop,
            remaining=times,
            path_regex=path_regex,
            method=method,
            identity=identity,
            code=code,
            message=message,
            _pattern=re.compile(path_regex) if path_regex is not None else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def deny(self, identity: str, *, path_regex: str | None = None, method: str | None = None) -> Fault:
        """Refuse every request of ``identity`` with 403 until :meth:`clear` (or :meth:`remove`)."""
        return self.add(status=403, times=None, identity=identity, path_regex=path_regex, method=method)

    def take(self, method: str, path: str, identities: Collection[str] = ()) -> Fault | None:
        """The first fault matching a request, with one use spent; ``None`` if none matches."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, identities):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def remove(self, fault: Fault) -> None:
        """Stop applying ``fault``."""
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """The faults that still have uses left."""
        with self._lock:
            return [f for f in self._faults if f.remaining is None or f.remaining > 0]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as a server saw it. No secret header, form field or token is kept.

    ``time`` is :func:`time.monotonic` when the request arrived; ``status`` the answer (``None``
    when the connection was dropped or black-holed); ``authorized`` whether the request's
    credentials were accepted (a bearer token, an identity header, a client secret); ``identity``
    who it was (an object id or client id, per server); ``fault`` whether a fault was applied;
    ``body_size`` the request body's length in bytes.
    ``details`` holds non-secret, server-specific facts (the form fields of a token request
    without the secret, say).
    """

    method: str
    path: str
    query: Mapping[str, str]
    time: float
    status: int | None
    authorized: bool
    identity: str | None = None
    fault: bool = False
    body_size: int = 0
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerError:
    """An exception raised while handling a request: a bug in the fake, answered with 500."""

    method: str
    path: str
    traceback: str


@dataclass
class HTTPRequest:
    """A parsed request, handed to :meth:`LocalHTTPServer._handle`."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    received: float
    host: str
    target: str = ""  # the request target exactly as sent (path and query, still percent-encoded)

    def header(self, name: str) -> str | None:
        """A header's value, or ``None``."""
        value = self.headers.get(name)
        return None if value is None else str(value)

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` if it is not)."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class HTTPResponse:
    """An answer, and what to record about the request it answers.

    ``drop`` closes the connection instead of answering; ``delay`` waits first.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    authorized: bool = False
    identity: str | None = None
    fault: bool = False
    details: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, **kwargs: Any) -> HTTPResponse:
        """A JSON answer."""
        headers = {"Content-Type": "application/json; charset=utf-8", **kwargs.pop("headers", {})}
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(status, body, headers, **kwargs)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # LocalHTTPServer.stop closes the connections and joins the threads
    allow_reuse_address = True  # come back up on the same port while old sockets are in TIME_WAIT

    def __init__(self, owner: LocalHTTPServer, port: int, context: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.context = context
        super().__init__((HOST, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        if self.context is not None:  # the handshake runs in the connection's thread (_Handler.setup)
            connection = self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{type(self.owner).__name__}-connection",
            daemon=True,
        )
        self.owner._track_thread(thread)
        thread.start()

    def finish_request(self, request: Any, client_address: Any) -> None:
        self.owner._open_connection(request)
        try:
            super().finish_request(request, client_address)
        finally:
            self.owner._close_connection(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up, fail the TLS handshake or time out are part of the job.
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10.0)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def version_string(self) -> str:
        return self.server.owner.server_name

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header of a server whose clock is off by ``clock_offset`` seconds.
        if timestamp is None:
            timestamp = time.time() + self.server.owner.clock_offset
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        # Idle keep-alive connections wait here; stop() and take_down() wake them by closing.
        try:
            super().handle_one_request()
        except OSError:  # reset, TLS error, or the socket shut down under us
            self.close_connection = True

    def _dispatch(self) -> None:
        self.server.owner._serve(self)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class LocalHTTPServer:
    """A fake service on 127.0.0.1: start/stop (or ``with``), faults, request log, down, black hole.

    Subclasses set :attr:`server_name` and implement :meth:`_handle`.
    """

    server_name: ClassVar[str] = "azcreds-local-http/1.0"

    clock_offset: float = 0.0
    """Seconds added to the time in every ``Date`` header: a server whose clock is off."""

    def __init__(self, *, certificates: TestCertificates | None = None, port: int = 0) -> None:
        self.certificates = certificates
        self.faults = FaultInjector()
        self._requested_port = port
        self._port: int | None = None
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._requests: list[RecordedRequest] = []
        self._errors: list[ServerError] = []
        self._black_hole = False
        self._context: ssl.SSLContext | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalHTTPServer:
        """Listen on 127.0.0.1 (on the same port as before, after :meth:`take_down`)."""
        if self._server is not None:
            return self
        if self.certificates is not None and self._context is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(self.certificates.cert_path), str(self.certificates.key_path))
            self._context = context
        port = self._port if self._port is not None else self._requested_port
        self._stopping.clear()
        server = _Server(self, port, self._context)
        self._port = int(server.server_address[1])
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-{self._port}",
            daemon=True,
        )
        self._server, self._serve_thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection; wait for the threads. Idempotent."""
        server, thread = self._server, self._serve_thread
        self._server = self._serve_thread = None
        with self._lock:  # ordered against _open_connection
            self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(_JOIN_TIMEOUT)
        with self._lock:
            connections = list(self._connections)
            threads, self._threads = self._threads, []
        for connection in connections:
            _shutdown_socket(connection)
        for worker in threads:
            worker.join(_JOIN_TIMEOUT)

    def take_down(self) -> None:
        """Stop listening, so connections to :attr:`port` are refused, until :meth:`bring_up`."""
        self._require_port()
        self.stop()

    def bring_up(self) -> None:
        """Listen again on the same port after :meth:`take_down`."""
        self._require_port()
        self.start()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Refuse connections inside the block (:meth:`take_down`, then :meth:`bring_up`)."""
        self.take_down()
        try:
            yield
        finally:
            self.bring_up()

    @property
    def black_hole(self) -> bool:
        """When true, requests are read and never answered (until turned off or stopped)."""
        return self._black_hole

    @black_hole.setter
    def black_hole(self, value: bool) -> None:
        self._black_hole = value

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self.is_running else "stopped"
        return f"<{type(self).__name__} {state}>"

    # -- state -------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    @property
    def host(self) -> str:
        """``127.0.0.1``."""
        return HOST

    @property
    def port(self) -> int:
        """The port (kept across :meth:`take_down`/:meth:`bring_up`)."""
        return self._require_port()

    @property
    def scheme(self) -> str:
        """``https`` with certificates, else ``http``."""
        return "https" if self.certificates is not None else "http"

    @property
    def base_url(self) -> str:
        """``{scheme}://127.0.0.1:{port}``."""
        return f"{self.scheme}://{HOST}:{self.port}"

    @property
    def ca_path(self) -> str | None:
        """The CA file clients must trust (``connection_verify=``), or ``None`` over http."""
        return str(self.certificates.ca_path) if self.certificates is not None else None

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started: call start() or use it in a with")
        return self._port

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def count(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        *,
        authorized: bool | None = None,
    ) -> int:
        """How many recorded requests match (``None`` matches anything)."""
        pattern = re.compile(path_regex) if path_regex is not None else None
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
            and (authorized is None or r.authorized == authorized)
        )

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    @property
    def errors(self) -> list[ServerError]:
        """Exceptions raised by the fake itself (each answered with 500); empty when all is well."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget faults, recorded requests and errors; leave the black hole off."""
        self.faults.clear()
        self._black_hole = False
        with self._lock:
            self._requests.clear()
            self._errors.clear()

    # -- serving -----------------------------------------------------------------------------

    def _track_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)

    def _open_connection(self, connection: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():  # accepted while stop() ran: it may have missed this one
                _shutdown_socket(connection)
            self._connections.add(connection)

    def _close_connection(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _record(self, request: HTTPRequest, response: HTTPResponse | None) -> None:
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            time=request.received,
            status=None if response is None or response.drop else response.status,
            authorized=response.authorized if response is not None else False,
            identity=response.identity if response is not None else None,
            fault=response.fault if response is not None else False,
            body_size=len(request.body),
            details=dict(response.details) if response is not None else {},
        )
        with self._lock:
            self._requests.append(entry)

    def _serve(self, handler: _Handler) -> None:
        received = time.monotonic()
        split = urlsplit(handler.path)
        request = HTTPRequest(
            method=handler.command.upper(),
            path=unquote(split.path),
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=handler.headers,
            body=b"",
            received=received,
            host=str(handler.headers.get("Host") or f"{HOST}:{self.port}"),
            target=handler.path,
        )
        try:
            request.body = _read_body(handler)
        except (ValueError, OSError):
            handler.close_connection = True
            self._record(request, None)
            return
        if self._black_hole:
            self._record(request, None)
            while self._black_hole and not self._stopping.wait(0.05):
                pass
            _drop(handler)
            return
        try:
            response = self._handle(request)
        except Exception:
            with self._lock:
                self._errors.append(ServerError(request.method, request.path, traceback.format_exc()))
            response = HTTPResponse.json(
                500, {"error": {"code": "InternalServerError", "message": "the test server failed"}}
            )
        if response.delay > 0 and self._stopping.wait(response.delay):
            self._record(request, None)
            _drop(handler)
            return
        self._record(request, response)
        if response.drop:
            _drop(handler)
            return
        _send(handler, response)

    def _handle(self, request: HTTPRequest) -> HTTPResponse:
        raise NotImplementedError


def _read_body(handler: _Handler) -> bytes:
    length = handler.headers.get("Content-Length")
    if length is not None:
        size = int(length)
        if size < 0 or size > _MAX_BODY:
            raise ValueError("bad Content-Length")
        return handler.rfile.read(size)
    if "chunked" in str(handler.headers.get("Transfer-Encoding", "")).lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > _MAX_BODY:
                raise ValueError("body too large")
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return b""


def _send(handler: _Handler, response: HTTPResponse) -> None:
    handler.send_response(response.status)
    for name, value in response.headers.items():
        handler.send_header(name, value)
    if response.status not in (204, 304) and handler.command != "HEAD":
        handler.send_header("Content-Length", str(len(response.body)))
    handler.end_headers()
    if response.body and response.status not in (204, 304) and handler.command != "HEAD":
        handler.wfile.write(response.body)


def _shutdown_socket(connection: socket.socket) -> None:
    # socket.socket's own shutdown, not SSLSocket's: no TLS close_notify, and safe while another
    # thread is blocked reading the connection (it wakes up with EOF).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(connection, socket.SHUT_RDWR)


def _drop(handler: _Handler) -> None:
    handler.close_connection = True
    _shutdown_socket(handler.connection)


def fault_response(
    fault: Fault,
    error_body: Callable[[int, str | None, str | None], object],
) -> HTTPResponse | None:
    """The response a fault dictates, or ``None`` when it only delays a normal answer.

    ``error_body(status, code, message)`` builds the service's error payload.
    """
    if fault.drop:
        return HTTPResponse(0, drop=True, delay=fault.delay, fault=True)
    if fault.status is None:
        return None
    headers = {}
    if fault.retry_after is not None:
        retry_after = fault.retry_after
        headers["Retry-After"] = (
            str(int(retry_after)) if retry_after == int(retry_after) else str(retry_after)
        )
    response = HTTPResponse.json(
        fault.status, error_body(fault.status, fault.code, fault.message), headers=headers
    )
    response.delay = fault.delay
    response.fault = True
    return response
