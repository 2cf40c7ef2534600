"""Replace secret values, and the forms derived from them, with a fixed marker in a byte stream.

:func:`secret_forms` turns the secret values a child was given into the byte strings that must
not pass: each value as is, URL-encoded, the ``sig`` of a SAS token (decoded and encoded), and
base64 copies in the standard and URL-safe alphabets — at each of the three byte alignments, so a
secret inside a longer base64 text (a base64-encoded connection string, say) is found too. Forms
that contain another form are dropped: masking the inner one hides the secret part (a connection
string shows ``AccountKey=<concealed by azcreds>``, a SAS token ``sig=<concealed by azcreds>``).

:class:`StreamMasker` masks a stream fed in pieces of any size: what cannot be the start of a
form is released at once, and only a tail that could still grow into one is held back until the
next piece (or the end of the stream) decides it. The search is ``bytes.find`` per form (C speed)
and the replacement, on the rare pieces that hold a form, one leftmost-longest regular expression.
Masking is a safety net, not a guarantee: a child can always transform a secret beyond
recognition (reverse it, encrypt it, print it one character per line).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote

__all__ = ["MARKER", "MIN_SECRET_LENGTH", "StreamMasker", "secret_forms"]

MARKER = b"<concealed by azcreds>"
"""What every masked form is replaced with."""

MIN_SECRET_LENGTH = 6
"""Shorter values are not masked: they would hide ordinary words; no key, SAS or secret is this short."""


def _url_forms(value: str) -> set[str]:
    return {value, unquote(value), quote(value, safe=""), quote(value, safe="/=")}


def _plain_values(value: str) -> set[str]:
    """The value and, for a SAS token, its signature (decoded): what base64 copies are made of."""
    plain = {value}
    if "sig=" in value:  # a SAS token: its signature alone is the secret part
        for key, val in parse_qsl(value.lstrip("?"), keep_blank_values=True):
            if key == "sig" and val:
                plain.add(val)
    return plain


def _base64_cores(raw: bytes) -> set[bytes]:
    """The base64 characters that depend only on ``raw``, for ``raw`` at each offset mod 3.

    Any base64 text of a byte string containing ``raw`` contains one of these (in its alphabet).
    """
    cores: set[bytes] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        first = -(-8 * shift // 6)  # the first character with no filler bit
        last = 8 * (shift + len(raw)) // 6  # one past the last character with no bit of what follows
        core = encoded[first:last]
        cores |= {core, core.replace(b"+", b"-").replace(b"/", b"_")}
    return cores


def secret_forms(values: Iterable[str]) -> list[bytes]:
    """The byte strings to mask for these secret values (see the module docstring), longest first."""
    forms: set[bytes] = set()
    for value in values:
        if len(value) < MIN_SECRET_LENGTH:
            continue
        for plain in _plain_values(value):
            forms |= {text.encode() for text in _url_forms(plain)}
            forms |= _base64_cores(plain.encode())
    forms = {f for f in forms if len(f) >= MIN_SECRET_LENGTH}
    # A form that contains another is found through the inner one, which is all that is masked.
    minimal = [f for f in forms if not any(g != f and g in f for g in forms)]
    return sorted(minimal, key=lambda f: (-len(f), f))


class StreamMasker:
    """Masks one stream: ``feed(piece)`` returns what may be shown now, ``finish()`` the rest."""

    def __init__(self, forms: Iterable[bytes], marker: bytes = MARKER) -> None:
        self._forms = sorted(set(forms), key=lambda f: (-len(f), f))
        self._marker = marker
        self._held = b""
        self._longest = max((len(f) for f in self._forms), default=0)
        self._by_first: dict[int, list[bytes]] = {}
        for form in self._forms:
            self._by_first.setdefault(form[0], []).append(form)
        self._pattern = re.compile(b"|".join(re.escape(f) for f in self._forms)) if self._forms else None

    @property
    def forms(self) -> list[bytes]:
        return list(self._forms)

    def feed(self, data: bytes) -> bytes:
        """Mask ``data`` (the next piece of the stream); returns the bytes that can be released."""
        if self._pattern is None:
            return data
        buffer = self._held + data if self._held else data
        if any(form in buffer for form in self._forms):
            buffer = self._pattern.sub(self._marker, buffer)
        hold = self._possible_start(buffer)
        if hold:
            self._held = buffer[-hold:]
            return buffer[:-hold]
        self._held = b""
        return buffer

    def finish(self) -> bytes:
        """The end of the stream: the held-back tail, which can no longer become a secret."""
        held, self._held = self._held, b""
        return held

    def _possible_start(self, buffer: bytes) -> int:
        """The length of the longest tail of ``buffer`` that is the start of a form (0 if none)."""
        start = max(0, len(buffer) - self._longest + 1)
        by_first = self._by_first
        for i in range(start, len(buffer)):
            candidates = by_first.get(buffer[i])
            if candidates is None:
                continue
            tail = buffer[i:]
            if any(form.startswith(tail) for form in candidates):
                return len(buffer) - i
        return 0
