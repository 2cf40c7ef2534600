"""AzcredsSettings: everything configurable, read from ``AZCREDS_*`` variables once, lazily."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AzcredsSettings", "get_settings", "reset_settings"]


class AzcredsSettings(BaseSettings):
    """azcreds' settings. Each field is read from ``AZCREDS_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="AZCREDS_", extra="ignore", frozen=True)

    keyvault_url: str | None = Field(
        default=None, description="Azure Key Vault URL; setting it turns the Key Vault resolver on."
    )
    keyring_path: Path | None = Field(
        default=None, description="The encrypted keyring file (default: in the user data folder)."
    )
    keyring_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase that unlocks the keyring without a prompt."
    )
    cache_ttl: float = Field(
        default=300.0, ge=0, description="Seconds a resolved credential is reused in this process."
    )
    cache_max_stale: float = Field(
        default=3600.0,
        ge=0,
        description=(
            "Seconds past the TTL a cached credential may still be served, with a warning, while "
            "its source fails transiently (throttling, 5xx, unreachable)."
        ),
    )
    managed_identity: Literal["auto", "off", "imds"] = Field(
        default="auto",
        description=(
            "auto: use managed identity only when an identity endpoint or workload identity token "
            "file is configured; off: never; imds: also probe the instance metadata service."
        ),
    )


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
