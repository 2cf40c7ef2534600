"""Opening the store a command names (``--store keyring|keyvault``), prompting for what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azcreds.cli._io import BadInput, is_interactive, nearest, prompt_secret

if TYPE_CHECKING:
    from azcreds.resolvers.base import WritableStore
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


def writable_store(kind: str, *, creating: bool = False, vault_url: str | None = None) -> WritableStore:
    """The store behind ``--store KIND`` (``--vault-url`` or AZCREDS_KEYVAULT_URL for Key Vault)."""
    if kind == "keyring":
        if vault_url:
            raise BadInput("--vault-url applies to --store keyvault only")
        return keyring_store(creating=creating)
    if kind == "keyvault":
        from azcreds._validators import check_url
        from azcreds.resolvers.keyvault import KeyVaultStore

        store = KeyVaultStore(vault_url)
        if store.vault_url is None:
            raise BadInput("--store keyvault needs --vault-url or AZCREDS_KEYVAULT_URL")
        try:
            check_url(store.vault_url, https_only=True)
        except ValueError as exc:
            raise BadInput(f"--vault-url {exc}") from None
        return store
    hint = nearest(kind, STORES)
    raise BadInput(
        f"--store must be one of: {', '.join(STORES)}" + (f"; did you mean {hint!r}?" if hint else "")
    )
