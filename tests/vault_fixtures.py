"""Fixtures of the keyring-file tests: a file path, and a dict-backed OS keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.vault_helpers import (
    DictKeyring,
)


@pytest.fixture
def os_keyring() -> Iterator[DictKeyring]:
    """A dict-backed keyring installed with keyring.set_keyring (the previous one restored)."""
    previous = keyring.get_keyring()
    backend = DictKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "keyring.vault"
