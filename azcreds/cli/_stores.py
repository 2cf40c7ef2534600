"""Opening the store a command names (``--store keyring|keyvault``), prompting for what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azcreds.cli._io import BadInput, is_interactive, prompt_secret

if TYPE_CHECKING:
    from azcreds.resolvers.keyring import KeyringStore

STORES = ("keyring", "keyvault")


def _configured_passphrase() -> bool:
    from azcreds.settings import get_settings

    return bool(get_settings().keyring_passphrase)


def keyring_store(*, creating: bool = False) -> KeyringStore:
    """The keyring store; asks for its passphrase on a terminal when none is configured."""
    from azcreds.resolvers.keyring import KeyringStore

    store = KeyringStore()
    if _configured_passphrase() or not is_interactive():
        return store
    if store.exists():
        if store.header().key_source == "passphrase":
            return KeyringStore(passphrase=prompt_secret("Keyring passphrase"))
    elif creating:
        passphrase = prompt_secret(f"New passphrase for {store.path}", confirm=True)
        if not passphrase:
            raise BadInput("the keyring passphrase cannot be empty")
        return KeyringStore(passphrase=passphrase)
    return store


def writable_store(kind: str, *, creating: bool = False) -> KeyringStore:
    """The store behind ``--store KIND``."""
    if kind == "keyring":
        return keyring_store(creating=creating)
    if kind == "keyvault":
        raise BadInput("--store keyvault is not available yet: the Key Vault store is not built")
    raise BadInput(f"--store must be one of: {', '.join(STORES)}")
