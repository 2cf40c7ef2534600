"""Secret names: the one naming rule every store shares, and its case-insensitive key."""

from __future__ import annotations

import re

from azcreds.errors import InvalidSecretNameError

__all__ = ["env_prefix", "is_secret_name", "name_key", "validate_secret_name"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def is_secret_name(name: str) -> bool:
    """Whether ``name`` follows the naming rule (see :func:`validate_secret_name`)."""
    return _NAME.fullmatch(name) is not None


def validate_secret_name(name: object) -> str:
    """Return ``name`` unchanged if it is a valid secret name, else raise InvalidSecretNameError.

    Valid: 1-64 characters of ASCII letters, digits, ``_`` and ``-``, starting with a letter or digit.
    """
    if not isinstance(name, str):
        raise InvalidSecretNameError("a secret name must be a string")
    if not is_secret_name(name):
        if not name:
            raise InvalidSecretNameError("a secret name cannot be empty")
        if len(name) > 64:
            raise InvalidSecretNameError("a secret name has at most 64 characters")
        raise InvalidSecretNameError(
            "a secret name is letters, digits, '_' and '-', starting with a letter or digit"
        )
    return name


def name_key(name: str) -> str:
    """The case-insensitive identity of a (valid) secret name: what stores compare."""
    return name.lower()


def env_prefix(name: str) -> str:
    """The environment variable prefix of a named secret: ``AZCREDS_<NAME>__``.

    NAME is upper-cased with every character that is not a letter or digit turned into ``_``
    (so ``az-secret`` and ``az_secret`` share variables, as they would in a shell).
    """
    return f"AZCREDS_{_NOT_ALNUM.sub('_', name.upper())}__"
