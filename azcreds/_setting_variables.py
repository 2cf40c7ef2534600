"""Whether any ``AZCREDS_<SETTING>`` variable is set, answered without importing pydantic-settings.

With none set, the settings are the defaults, which are valid: the default chains then read them
only when a resolver after the environment's needs them (``azcreds exec`` from the environment
never does). With one set, they are read and validated up front, so a bad value is an error even
when the environment has the secret. tests/test_settings.py checks the names against
:class:`~azcreds.settings.AzcredsSettings`' fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["SETTING_VARIABLES", "any_setting_set"]

SETTING_VARIABLES = frozenset(
    {
        "AZCREDS_KEYVAULT_URL",
        "AZCREDS_KEYRING_PATH",
        "AZCREDS_KEYRING_PASSPHRASE",
        "AZCREDS_KEYRING_SESSION",
        "AZCREDS_CACHE_TTL",
        "AZCREDS_CACHE_MAX_STALE",
        "AZCREDS_KEYRING_LOCK_TIMEOUT",
        "AZCREDS_MANAGED_IDENTITY",
        "AZCREDS_DEVELOPER_IDENTITY",
        "AZCREDS_DEVELOPER_TIMEOUT",
        "AZCREDS_EXPIRY_WARNING",
    }
)
"""``AZCREDS_`` + each field of :class:`~azcreds.settings.AzcredsSettings`, upper case."""


def any_setting_set(environ: Mapping[str, str] | None = None) -> bool:
    """True if a settings variable is set (names compared case-insensitively, as the settings read them)."""
    env = os.environ if environ is None else environ
    return any(name.upper() in SETTING_VARIABLES for name in env)
