"""A loopback-only network guard: refuse, before any packet leaves, every non-loopback destination.

:func:`install` patches the :mod:`socket` entry points that open connections, send datagrams or
resolve names (``socket.socket.connect``/``connect_ex``/``sendto``/``sendmsg``,
``socket.create_connection``, ``socket.getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``,
``gethostbyaddr``, ``getnameinfo``). Allowed destinations are 127.0.0.0/8, ``::1``, the name
``localhost`` and ``AF_UNIX`` paths; everything else, private ranges and the instance metadata
service (169.254.169.254) included, raises :class:`NonLoopbackConnectionError`. No name other than
``localhost`` is ever resolved, so no DNS query leaves the machine either.

Code under test, the Azure SDKs' managed-identity probes for example, may catch the ``OSError`` and
carry on, so every refusal is also recorded: :func:`blocked_attempts` lists them and the pytest
plugin fails a test that left any behind.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

__all__ = [
    "BlockedAttempt",
    "NonLoopbackConnectionError",
    "blocked_attempts",
    "clear_blocked_attempts",
    "install",
    "is_allowed_host",
    "is_installed",
    "loopback_only",
    "uninstall",
]

_LOCALHOST_NAMES = frozenset({"localhost", "localhost."})


class NonLoopbackConnectionError(OSError):
    """The network guard refused a destination that is not loopback.

    An ``OSError`` (``errno.ENETUNREACH``), so SDK code sees an ordinary connection failure.
    """

    def __init__(self, attempt: BlockedAttempt) -> None:
        super().__init__(
            errno.ENETUNREACH,
            f"azcreds network guard refused {attempt.describe()}: tests may only reach loopback "
            "(127.0.0.0/8, ::1, localhost) or AF_UNIX sockets",
        )
        self.attempt = attempt


@dataclass(frozen=True)
class BlockedAttempt:
    """One refused destination: the host and port asked for, the patched call, and the caller."""

    host: str
    port: int | str | None
    where: str
    caller: str

    def describe(self) -> str:
        """``host:port via where (from caller)``, for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        target = self.host if self.port is None else f"{host}:{self.port}"
        return f"{target} via {self.where} (from {self.caller})"


_state_lock = threading.RLock()
_attempts: list[BlockedAttempt] = []
# (owner, attribute) -> what was there before the guard, or _INHERITED when the class only
# inherited it. Kept while the guard is installed, so uninstall() restores the true originals.
_originals: dict[tuple[object, str], Any] = {}
_INHERITED = object()
_MARK = "__azcreds_network_guard__"
_installed = False


def blocked_attempts() -> list[BlockedAttempt]:
    """Every refusal recorded since the last :func:`clear_blocked_attempts`, oldest first."""
    with _state_lock:
        return list(_attempts)


def clear_blocked_attempts() -> None:
    """Forget the recorded refusals."""
    with _state_lock:
        _attempts.clear()


def is_installed() -> bool:
    """Whether :func:`install` was called and :func:`uninstall` not since."""
    with _state_lock:
        return _installed


def is_allowed_host(host: object) -> bool:
    """Whether ``host`` (a name or IP literal, str or bytes) is loopback.

    ``None`` and ``""`` (the local host as a bind or lookup target) count as loopback; a name other
    than ``localhost`` does not, since checking it would need a DNS query.
    """
    if host is None:
        return True
    if isinstance(host, bytes | bytearray):
        try:
            host = bytes(host).decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return False
    if host == "":
        return True
    if host.lower() in _LOCALHOST_NAMES:
        return True
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _caller() -> str:
    """The first frame outside this module and :mod:`socket`/:mod:`ssl`, as ``file:line``."""
    skip = {__file__, socket.__file__}
    ssl_module = sys.modules.get("ssl")
    if ssl_module is not None and ssl_module.__file__:
        skip.add(ssl_module.__file__)
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in skip:
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _refuse(host: object, port: object, where: str) -> NonLoopbackConnectionError:
    host_text = bytes(host).decode("ascii", "replace") if isinstance(host, bytes | bytearray) else str(host)
    port_value: int | str | None = port if isinstance(port, int | str) or port is None else str(port)
    attempt = BlockedAttempt(host_text, port_value, where, _caller())
    with _state_lock:
        _attempts.append(attempt)
    return NonLoopbackConnectionError(attempt)


def _check_address(family: int, address: object, where: str) -> None:
    """Raise unless a socket address of ``family`` is loopback or AF_UNIX."""
    if family == getattr(socket, "AF_UNIX", object()):
        return
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
        host = address[0]
        port = address[1] if len(address) > 1 else None
        if is_allowed_host(host):
            return
        raise _refuse(host, port, where)
    raise _refuse(repr(address), None, f"{where} (address family {family})")


def _patch(owner: object, name: str, make: Callable[[Any], Any]) -> None:
    current = getattr(owner, name)
    if getattr(current, _MARK, False):
        return
    if (owner, name) not in _originals:
        _originals[(owner, name)] = vars(owner).get(name, _INHERITED) if isinstance(owner, type) else current
    wrapper = make(current)
    setattr(wrapper, _MARK, True)
    setattr(owner, name, wrapper)


def _patch_connect(original: Any) -> Any:
    def connect(self: socket.socket, address: Any, /) -> None:
        _check_address(self.family, address, "socket.connect")
        return original(self, address)  # type: ignore[no-any-return]

    return connect


def _patch_connect_ex(original: Any) -> Any:
    def connect_ex(self: socket.socket, address: Any, /) -> int:
        _check_address(self.family, address, "socket.connect_ex")
        return original(self, address)  # type: ignore[no-any-return]

    return connect_ex


def _patch_sendto(original: Any) -> Any:
    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        if args:  # sendto(data, address) or sendto(data, flags, address)
            _check_address(self.family, args[-1], "socket.sendto")
        return original(self, data, *args)  # type: ignore[no-any-return]

    return sendto


def _patch_sendmsg(original: Any) -> Any:
    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None:  # (ancdata, flags, address)
            _check_address(self.family, args[2], "socket.sendmsg")
        return original(self, buffers, *args)  # type: ignore[no-any-return]

    return sendmsg


def _patch_create_connection(original: Any) -> Any:
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        if not is_allowed_host(host):
            raise _refuse(host, port, "socket.create_connection")
        return original(address, *args, **kwargs)  # type: ignore[no-any-return]

    return create_connection


def _patch_getaddrinfo(original: Any) -> Any:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_allowed_host(host):
            raise _refuse(host, port, "socket.getaddrinfo")
        return original(host, port, *args, **kwargs)

    return getaddrinfo


def _patch_name_lookup(where: str) -> Callable[[Any], Any]:
    def make(original: Any) -> Any:
        def lookup(host: Any) -> Any:
            if not is_allowed_host(host):
                raise _refuse(host, None, where)
            return original(host)

        return lookup

    return make


def _patch_getnameinfo(original: Any) -> Any:
    def getnameinfo(sockaddr: Any, flags: int) -> Any:
        # With NI_NUMERICHOST this only formats the address; otherwise it would be a reverse query.
        if not flags & socket.NI_NUMERICHOST and not is_allowed_host(sockaddr[0]):
            raise _refuse(sockaddr[0], sockaddr[1], "socket.getnameinfo")
        return original(sockaddr, flags)

    return getnameinfo


def install() -> None:
    """Put the guard in place, or back in place.

    Idempotent. Another tool that restores ``socket`` functions behind the guard's back (the
    pytest-socket plugin resets ``socket.socket.connect`` after every test) is undone: each
    patch found missing is applied again, wrapping whatever is there now.
    """
    global _installed
    with _state_lock:
        _patch(socket.socket, "connect", _patch_connect)
        _patch(socket.socket, "connect_ex", _patch_connect_ex)
        _patch(socket.socket, "sendto", _patch_sendto)
        _patch(socket.socket, "sendmsg", _patch_sendmsg)
        _patch(socket, "create_connection", _patch_create_connection)
        _patch(socket, "getaddrinfo", _patch_getaddrinfo)
        _patch(socket, "gethostbyname", _patch_name_lookup("socket.gethostbyname"))
        _patch(socket, "gethostbyname_ex", _patch_name_lookup("socket.gethostbyname_ex"))
        _patch(socket, "gethostbyaddr", _patch_name_lookup("socket.gethostbyaddr"))
        _patch(socket, "getnameinfo", _patch_getnameinfo)
        _installed = True


def uninstall() -> None:
    """Restore the original :mod:`socket` functions. Calling it when not installed does nothing."""
    global _installed
    with _state_lock:
        for (owner, name), original in reversed(list(_originals.items())):
            if original is _INHERITED:
                if name in vars(owner):
                    delattr(owner, name)
            else:
                setattr(owner, name, original)
        _originals.clear()
        _installed = False


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Guard the block; on exit, remove the guard only if this block installed it."""
    installed_here = not is_installed()
    install()
    try:
        yield
    finally:
        if installed_here:
            uninstall()
