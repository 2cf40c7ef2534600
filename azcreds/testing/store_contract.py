"""The contract every writable azcreds store keeps, as a test mixin (like keyring's BackendBasicTests).

Subclass it in a pytest module and provide a ``store`` fixture returning an empty store::

    class TestMyStore(WritableStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(...)

A store has ``register(name, secret, overwrite=False)``, ``get(name)``, ``list()``,
``update(name, **fields)``, ``delete(name)`` and, as a resolver, ``source`` and ``resolve(name)``.
"""

from __future__ import annotations

from typing import Any

import pytest

from azcreds.errors import (
    InvalidSecretNameError,
    ResolverUnavailableError,
    SchemaValidationError,
    SecretExistsError,
    SecretNotFoundError,
)
from azcreds.schemas import SecretSchema, parse_secret

__all__ = ["WritableStoreContract"]

_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_OTHER_KEY = "b3RoZXIta2V5LW1hdGVyaWFsLWZvci1jb250cmFjdC10ZXN0cy0xMjM0NTY3ODkw"
_CLIENT = "0b7a3c1e-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _key_secret(account: str = "contract", key: str = _KEY) -> SecretSchema:
    return parse_secret("azure-account-key", {"account_name": account, "account_key": key})


class WritableStoreContract:
    """Round trip, unicode values, overwrite, update, delete, not-found, list, names."""

    def test_round_trip(self, store: Any) -> None:
        store.register("contract-1", _key_secret())
        got = store.get("contract-1")
        assert got.schema_id == "azure-account-key"
        assert got.field_values(reveal=True) == {"account_name": "contract", "account_key": _KEY}

    def test_every_schema_round_trips(self, store: Any) -> None:
        secrets = {
            "cs": parse_secret(
                "azure-connection-string",
                {"connection_string": f"AccountName=contract;AccountKey={_KEY};EndpointSuffix=example.net"},
            ),
            "sas": parse_secret(
                "azure-sas-token",
                {"account_name": "contract", "sas_token": "sv=2025-11-05&sp=r&sig=abc%2Bdef"},
            ),
            "sp": parse_secret(
                "azure-service-principal",
                {
                    "account_name": "contract",
                    "tenant_id": _TENANT,
                    "client_id": _CLIENT,
                    "client_secret": "s3",
                },
            ),
            "mi": parse_secret("azure-managed-identity", {"account_name": "contract", "client_id": _CLIENT}),
        }
        for name, secret in secrets.items():
            store.register(name, secret)
        for name, secret in secrets.items():
            got = store.get(name)
            assert got.schema_id == secret.schema_id
            assert got.field_values(reveal=True) == secret.field_values(reveal=True)

    def test_unicode_values_round_trip(self, store: Any) -> None:
        secret = parse_secret(
            "azure-service-principal",
            {
                "account_name": "contract",
                "tenant_id": _TENANT,
                "client_id": _CLIENT,
                "client_secret": "pässwörd-秘密-🔑-\u00a0end",
            },
        )
        store.register("unicode", secret)
        assert store.get("unicode").field_values(reveal=True)["client_secret"] == "pässwörd-秘密-🔑-\u00a0end"

    @pytest.mark.parametrize("name", ["ünïcode", "秘密", "a b", "-lead", "_lead", "", "x" * 65])
    def test_invalid_names_are_refused_before_storing(self, store: Any, name: str) -> None:
        with pytest.raises(InvalidSecretNameError):
            store.register(name, _key_secret())
        assert [i.name for i in store.list()] == []

    def test_overwrite_is_refused_without_flag(self, store: Any) -> None:
        store.register("taken", _key_secret())
        with pytest.raises(SecretExistsError):
            store.register("taken", _key_secret(key=_OTHER_KEY))
        assert store.get("taken").field_values(reveal=True)["account_key"] == _KEY
        store.register("taken", _key_secret(key=_OTHER_KEY), overwrite=True)
        assert store.get("taken").field_values(reveal=True)["account_key"] == _OTHER_KEY

    def test_names_are_case_insensitive_and_keep_their_spelling(self, store: Any) -> None:
        store.register("Az_Secret", _key_secret())
        assert store.get("az_secret").field_values()["account_name"] == "contract"
        with pytest.raises(SecretExistsError):
            store.register("AZ_SECRET", _key_secret())
        assert [i.name for i in store.list()] == ["Az_Secret"]

    def test_update_changes_fields_and_revalidates(self, store: Any) -> None:
        store.register("upd", _key_secret())
        updated = store.update("upd", account_key=_OTHER_KEY, account_url="http://127.0.0.1:1/contract")
        assert updated.field_values(reveal=True)["account_key"] == _OTHER_KEY
        assert store.get("upd").field_values()["account_url"] == "http://127.0.0.1:1/contract"
        with pytest.raises(SchemaValidationError):
            store.update("upd", account_key="not base64!")
        assert store.get("upd").field_values(reveal=True)["account_key"] == _OTHER_KEY
        store.update("upd", account_url=None)
        assert "account_url" not in store.get("upd").field_values()

    def test_delete(self, store: Any) -> None:
        store.register("gone", _key_secret())
        store.delete("GONE")
        with pytest.raises(SecretNotFoundError):
            store.get("gone")
        with pytest.raises(SecretNotFoundError):
            store.delete("gone")

    def test_not_found(self, store: Any) -> None:
        with pytest.raises(SecretNotFoundError):
            store.get("never")
        with pytest.raises(SecretNotFoundError):
            store.update("never", account_key=_KEY)
        with pytest.raises(ResolverUnavailableError):
            store.resolve("never")

    def test_list_names_and_schemas_without_values(self, store: Any) -> None:
        store.register("b-second", _key_secret())
        store.register("a-first", parse_secret("azure-managed-identity", {"account_name": "contract"}))
        infos = store.list()
        assert [(i.name, i.schema_id) for i in infos] == [
            ("a-first", "azure-managed-identity"),
            ("b-second", "azure-account-key"),
        ]
        assert _KEY not in repr(infos)

    def test_resolver_protocol(self, store: Any) -> None:
        store.register("res", _key_secret())
        assert store.resolve("RES").schema_id == "azure-account-key"
        assert isinstance(store.source, str)
        with pytest.raises(ResolverUnavailableError):
            store.resolve(None)
