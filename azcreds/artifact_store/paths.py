"""Store paths: parse, normalise and confine ``az://``/``abfs://`` URIs (every path goes through here)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from azcreds.errors import (
    PathOutsideStoreError,
)

SCHEMES: Final = ("az", "abfs")

_CONTAINER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")

_MAGIC = re.compile(r"[*?\[]")

MAX_BLOB_NAME_LENGTH: Final = 1024
"""Azure's limit on a blob name, in characters (Azurite does not enforce it)."""

MAX_PATH_SEGMENTS: Final = 254
"""Azure's limit on the ``/``-separated segments of a blob name (Azurite does not enforce it)."""


def _forbidden_characters() -> re.Pattern[str]:
    """Characters no path may hold: ``\\``, C0/DEL/C1 controls, surrogates, Unicode noncharacters.

    Azurite (and, as users report, Azure) turns ``\\`` into ``/`` after our confinement check;
    NUL, most C0 controls, U+FFFE and U+FFFF are stored and then break every listing (HTTP 500)
    because XML 1.0 cannot carry them; Azure's naming rules refuse controls (0x00-0x1F, U+0081);
    C1 controls would reach terminals as escape sequences. Surrogates cannot be sent as UTF-8.
    """
    ranges = [("\\", "\\"), ("\x00", "\x1f"), ("\x7f", "\x9f"), ("\ud800", "\udfff"), ("\ufdd0", "\ufdef")]
    ranges += [(chr(plane + 0xFFFE), chr(plane + 0xFFFF)) for plane in range(0, 0x110000, 0x10000)]
    return re.compile("[" + "".join(f"{re.escape(a)}-{re.escape(b)}" for a, b in ranges) + "]")


_FORBIDDEN = _forbidden_characters()


def _character_problem(text: str) -> str | None:
    """Why ``text`` cannot be part of a path (naming the character by code point), or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    if char == "\\":
        return "contains a backslash (\\), which the service turns into '/'; use '/' to separate segments"
    if ord(char) < 0xA0:
        return f"contains a control character ({code})"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"contains a lone surrogate ({code}), which is not valid Unicode"
    return f"contains a Unicode noncharacter ({code})"


def _segment_problem(part: str) -> str | None:
    """Why a path segment (other than ``.``/``..``, which are applied) cannot name a blob, or None.

    Azure's naming rules say no segment should end with a dot, and servers that canonicalise
    paths Windows-style strip trailing dots and spaces: ``...`` or ``.. .`` could become ``..``
    there, after our check. Such segments are refused rather than guessed at.
    """
    if part.endswith("."):
        return "has a segment ending with '.' (Azure's naming rules advise against it)"
    if not part.strip(". "):
        return "has a segment of only dots and spaces"
    return None


def _addressable_prefix(parts: Sequence[str]) -> int:
    """How many leading segments of a listed blob name a path could address.

    Listings show a blob only if all its segments are addressable; otherwise just the directories
    above the first bad segment (``a//b`` shows ``a``, as the service's own delimiter listing does).
    """
    for index, part in enumerate(parts):
        if part in ("", ".", "..") or _segment_problem(part) or _character_problem(part):
            return index
    return len(parts)


@dataclass(frozen=True)
class _Path:
    """A parsed, normalised ``az://container/key`` (``key`` is ``""`` for the container itself)."""

    scheme: str
    container: str
    parts: tuple[str, ...]

    @property
    def key(self) -> str:
        return "/".join(self.parts)

    @property
    def uri(self) -> str:
        return _uri(self.scheme, self.container, self.key)

    @property
    def prefix(self) -> str:
        """The blob-name prefix of everything below this path (``""`` for the container)."""
        return f"{self.key}/" if self.parts else ""


def _uri(scheme: str, container: str, key: str) -> str:
    return f"{scheme}://{container}/{key}" if key else f"{scheme}://{container}"


def _parse(uri: object, what: str = "path") -> _Path:
    """Check, split and normalise a URI; PathOutsideStoreError if it cannot name a blob of a container.

    The one place path rules live (docs/artifact_store.md, "Paths"): refused characters (``\\``,
    controls, noncharacters); ``.`` and empty segments dropped, ``..`` removing the previous one
    (never above the container); segments ending in ``.`` refused; at most 1,024 characters and
    254 segments. Nothing is decoded or Unicode-normalised: ``%2F``, ``?`` and ``#`` are literal
    characters of the blob name, as the SDK sends them (percent-encoded) and the service stores
    them. ``bytes`` (ZenML's ``PathType`` is ``bytes | str``) are decoded as UTF-8. An unusable
    value is described, never echoed: it could be a URL carrying a SAS.
    """
    if isinstance(uri, bytes):  # ZenML's PathType is bytes | str; its own stores decode UTF-8
        try:
            uri = uri.decode("utf-8")
        except UnicodeDecodeError:
            raise PathOutsideStoreError(f"{what} is bytes that are not valid UTF-8") from None
    if not isinstance(uri, str):
        raise PathOutsideStoreError(
            f"{what} must be an az:// or abfs:// URI (str or UTF-8 bytes), not {type(uri).__name__}"
        )
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        got = f" (got a {scheme}:// URL)" if sep and scheme.isascii() and scheme.isalpha() else ""
        raise PathOutsideStoreError(
            f"{what} must be an az://container/path or abfs://container/path URI{got}"
        )
    problem = _character_problem(rest)
    if problem is not None:
        raise PathOutsideStoreError(f"{what} {problem}")
    container, _, path = rest.partition("/")
    if "@" in container:
        raise PathOutsideStoreError(
            f"{what}: abfs://container@account.dfs.core.windows.net URIs are not supported; "
            "use abfs://container/path (the account comes from the credentials)"
        )
    if not _CONTAINER_NAME.fullmatch(container):
        raise PathOutsideStoreError(
            f"{what} does not start with a valid container name "
            "(3-63 lowercase letters, digits and single hyphens)"
        )
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathOutsideStoreError(f"{what} climbs above its container with '..'")
            parts.pop()
            continue
        problem = _segment_problem(part)
        if problem is not None:
            raise PathOutsideStoreError(f"{what} {problem}")
        parts.append(part)
    if len(parts) > MAX_PATH_SEGMENTS:
        raise PathOutsideStoreError(
            f"{what} has {len(parts)} segments; a blob name may have at most {MAX_PATH_SEGMENTS}"
        )
    length = len("/".join(parts))
    if length > MAX_BLOB_NAME_LENGTH:
        raise PathOutsideStoreError(
            f"{what} names a blob of {length} characters; at most {MAX_BLOB_NAME_LENGTH} are allowed"
        )
    return _Path(scheme, container, tuple(parts))


def normalize_uri(uri: str) -> str:
    """The normalised form of an ``az://``/``abfs://`` URI, as every store method and CLI guard uses it.

    ``az://c/a/./b/../x//`` → ``az://c/a/x``; ``az://c/.`` → ``az://c``. No request is made;
    PathOutsideStoreError if the URI breaks a path rule (see docs/artifact_store.md, "Paths").
    """
    return _parse(uri).uri


def container_root(uri: str) -> str:
    """``az://container`` for any path in it (the CLI's store root); PathOutsideStoreError if invalid."""
    parsed = _parse(uri)
    return _uri(parsed.scheme, parsed.container, "")


def _nfc(parts: Sequence[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", part) for part in parts)


def _has_magic(part: str) -> bool:
    return _MAGIC.search(part) is not None
