"""Keep secret values out of every log record, whichever library writes it.

Some loggers below azcreds print what they send: urllib3 logs each request URL (a SAS token's
``sig`` included) at DEBUG, and SDK HTTP logging can print bodies. azcreds registers the secret
strings of every credential it hands out, and a log-record factory (installed once, on first
registration) replaces them with ``***`` in the message, its arguments and any traceback text
before a handler sees the record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

__all__ = ["MASK", "register_secrets", "scrub"]

MASK = "***"
_MIN_LENGTH = 6  # shorter strings would mask ordinary words; no real key, SAS or secret is this short

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_seen: frozenset[str] = frozenset()  # raw values already registered: the common, fast case
_installed = False


def _forms(value: str) -> set[str]:
    """The spellings in which a secret can appear in a URL or a log line."""
    forms = {value, unquote(value), quote(value, safe=""), quote(value, safe="/=")}
    if "sig=" in value:  # a SAS token: its signature alone is the secret part
        for key, val in parse_qsl(value.lstrip("?"), keep_blank_values=True):
            if key == "sig" and val:
                forms |= {val, quote(val, safe=""), quote(val, safe="/=")}
    return {f for f in forms if len(f) >= _MIN_LENGTH}


def register_secrets(values: Iterable[str]) -> None:
    """Mask these strings (and their URL-encoded forms) in every log record from now on."""
    global _secrets, _seen, _installed
    fresh = [v for v in values if v and v not in _seen]
    if not fresh:
        return
    new: set[str] = set()
    for value in fresh:
        new |= _forms(value)
    with _lock:
        _seen = _seen | set(fresh)
        _secrets = _secrets | new
        if not _installed:
            _install()
            _installed = True


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    for secret in sorted((s for s in _secrets if s in text), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _contains_secret(text: str) -> bool:
    return any(s in text for s in _secrets)


def _install() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    if _contains_secret(message):
        record.msg = scrub(message)
        record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if _contains_secret(text):
            record.exc_text = scrub(text)
