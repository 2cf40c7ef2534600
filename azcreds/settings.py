"""AzcredsSettings: everything configurable, read from ``AZCREDS_*`` variables once, lazily.

A value that is not allowed raises :class:`~azcreds.errors.SettingsError` naming each bad variable
and what it allows, never the value (it is built from ``errors(include_input=False)``).

A pydantic-settings model with ``env_prefix="AZCREDS_"`` (names case-insensitive; keyword
arguments win over the environment). Its import is the largest single cost of ``azcreds exec``'s
start-up after pydantic itself (about 60 ms on the 2-core machine, ``python -X importtime``): the
price of keeping settings on the library made for them, as the design says.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from azcreds.errors import FieldError, SettingsError

__all__ = ["AzcredsSettings", "get_settings", "reset_settings"]

ENV_PREFIX = "AZCREDS_"
_SECONDS = "must be a number of seconds, 0 or more"
# What each setting allows, for errors; a validator's own ValueError message is used as it is.
_ALLOWED = {
    "cache_ttl": _SECONDS,
    "cache_max_stale": _SECONDS,
    "keyring_lock_timeout": _SECONDS,
    "managed_identity": "must be one of auto, off or imds",
    "developer_identity": "must be on or off",
    "developer_timeout": "must be a number of seconds, more than 0",
    "expiry_warning": _SECONDS,
    "keyring_path": "must be a file path",
    "keyvault_url": "must be an https URL such as https://myvault.vault.azure.net",
}


class AzcredsSettings(BaseSettings):
    """azcreds' settings. Each field is read from ``AZCREDS_<FIELD>`` (case-insensitive).

    Keyword arguments (``AzcredsSettings(cache_ttl=0)``) win over the environment.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    keyvault_url: str | None = Field(
        default=None,
        description="Azure Key Vault URL (https); setting it turns the Key Vault resolver on. Empty: unset.",
    )
    keyring_path: Path | None = Field(
        default=None, description="The encrypted keyring file (default: in the user data folder)."
    )
    keyring_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase that unlocks the keyring without a prompt."
    )
    keyring_session: SecretStr | None = Field(
        default=None,
        description="A session from `azcreds keyring unlock`: opens the keyring without scrypt.",
    )
    cache_ttl: float = Field(
        default=300.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds a resolved credential is reused in this process.",
    )
    cache_max_stale: float = Field(
        default=3600.0,
        ge=0,
        allow_inf_nan=False,
        description=(
            "Seconds past the TTL a cached credential may still be served, with a warning, while "
            "its source fails transiently (throttling, 5xx, unreachable)."
        ),
    )
    keyring_lock_timeout: float = Field(
        default=30.0,
        ge=0,
        allow_inf_nan=False,
        description=(
            "Seconds a keyring write waits for another writer's lock before failing with "
            "StoreBusyError (which names the holder's process id)."
        ),
    )
    managed_identity: Literal["auto", "off", "imds"] = Field(
        default="auto",
        description=(
            "auto: use managed identity only when an identity endpoint or workload identity token "
            "file is configured; off: never; imds: also probe the instance metadata service."
        ),
    )

    developer_identity: Literal["on", "off"] = Field(
        default="off",
        description=(
            "on: close both chains with the developer's own login (az, pwsh, azd), as "
            "AZURE_TOKEN_CREDENTIALS=dev does; AZURE_TOKEN_CREDENTIALS=prod still excludes it."
        ),
    )
    developer_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a developer tool (az, pwsh, azd) may take to give a token (process_timeout).",
    )
    expiry_warning: float = Field(
        default=7 * 86400.0,
        ge=0,
        allow_inf_nan=False,
        description=(
            "Seconds before a Key Vault secret's expires_on from which resolving it warns "
            "(ExpiringCredentialWarning) and resolve --explain shows the date."
        ),
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # from None: the ValidationError's text holds the input value.
            raise SettingsError(_field_errors(exc)) from None

    @field_validator("keyvault_url", mode="before")
    @classmethod
    def _check_vault_url(cls, value: object) -> object:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(_ALLOWED["keyvault_url"])
        from azcreds._validators import check_url

        return check_url(value.strip(), https_only=True)

    @field_validator("keyring_path", mode="before")
    @classmethod
    def _check_keyring_path(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: unset it for the default keyring, or give a file path")
        return value


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        if error["type"] == "value_error":  # our validators' messages, written not to echo values
            message = str(error["msg"]).removeprefix("Value error, ")
        else:
            message = _ALLOWED.get(field, str(error["msg"]))
        errors.append(FieldError(variable, message))
    return errors


_lock = threading.Lock()
_settings: AzcredsSettings | None = None


def get_settings() -> AzcredsSettings:
    """The process-wide settings, read from the environment on first use."""
    global _settings
    current = _settings
    if current is None:
        with _lock:
            if _settings is None:
                _settings = AzcredsSettings()
            current = _settings
    return current


def reset_settings() -> None:
    """Forget the settings so the next :func:`get_settings` reads the environment again."""
    global _settings
    with _lock:
        _settings = None
