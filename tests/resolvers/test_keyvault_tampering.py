"""KeyVaultStore serves a Key Vault secret only when its tags, content type and body agree with the
name asked for. The bad secrets are planted through the real ``SecretClient``, as someone with
write access to the vault (but not to the code that reads it) would plant them."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from azcreds import (
    KeyVaultStore,
    SecretNotFoundError,
    StoreCorruptedError,
    explain_resolution,
    parse_secret,
    resolve_credentials,
)
from azcreds.errors import CorruptedSecretWarning
from azcreds.resolvers.keyvault import encode_name
from azcreds.testing import KeyVaultServer
from tests.cli.helpers import Cli
from tests.helpers import AZURITE_ACCOUNT_KEY, b64

# The planted secret's key: it must never appear in an error, a warning or CLI output.
INTRUDER_KEY = b64("TAMPER-INTRUDER-KEY-CANARY-" + "q" * 37)
INTRUDER_FIELDS = {"account_name": "intruder", "account_key": INTRUDER_KEY}
VICTIM = parse_secret("azure-account-key", {"account_name": "victim", "account_key": AZURITE_ACCOUNT_KEY})


@pytest.fixture
def attacker(keyvault_server: KeyVaultServer, identity_env: None) -> Iterator[Any]:
    """A plain SDK client with write access to the vault."""
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.secrets import SecretClient

    credential = ManagedIdentityCredential()
    with SecretClient(keyvault_server.vault_url, credential, **keyvault_server.client_kwargs()) as client:
        yield client


def plant(
    attacker: Any,
    name: str,
    *,
    tags: dict[str, str] | None = None,
    content_type: str | None = "application/json",
    body: str | None = None,
) -> str:
    """Write a secret at the Key Vault name of ``name``, by default tagged as ``intruder``."""
    vault_name = encode_name(name)
    attacker.set_secret(
        vault_name,
        json.dumps(INTRUDER_FIELDS) if body is None else body,
        content_type=content_type,
        tags={"azcreds-schema": "azure-account-key", "azcreds-name": "intruder"} if tags is None else tags,
    )
    return vault_name


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("COLUMNS", "80")
    return Cli(capsys, monkeypatch)


def assert_refused(exc: BaseException, *fragments: str) -> None:
    text = str(exc)
    assert isinstance(exc, StoreCorruptedError), repr(exc)
    assert INTRUDER_KEY not in text
    assert "TAMPER" not in text
    for fragment in fragments:
        assert fragment in text, text


# ------------------------------------------------------------------------------ the name tag


def test_a_secret_tagged_with_another_name_is_not_served(vault: KeyVaultStore, attacker: Any) -> None:
    plant(attacker, "victim")
    with pytest.raises(StoreCorruptedError) as info:
        vault.get("victim")
    assert_refused(info.value, "azcreds-victim-0", "'intruder'", "'victim'")
    with pytest.raises(StoreCorruptedError) as info:
        vault.info("victim")
    assert_refused(info.value, "azcreds-victim-0")
    with pytest.raises(StoreCorruptedError):
        vault.resolve("victim")


def test_resolve_credentials_stops_at_the_mismatch(configured: KeyVaultServer, attacker: Any) -> None:
    plant(attacker, "victim")
    with pytest.raises(StoreCorruptedError) as info:
        resolve_credentials("victim")
    assert_refused(info.value, "azcreds-name")
    res = explain_resolution("victim")
    assert [(a.source, a.outcome) for a in res.attempts][-1] == ("keyvault", "failed")
    assert INTRUDER_KEY not in repr(res)


def test_the_name_tag_compares_case_insensitively_and_keeps_its_spelling(
    vault: KeyVaultStore, attacker: Any
) -> None:
    plant(attacker, "victim", tags={"azcreds-schema": "azure-account-key", "azcreds-name": "ViCtim"})
    assert vault.get("VICTIM").field_values()["account_name"] == "intruder"  # the body is fine
    assert vault.info("victim").name == "ViCtim"
    assert [i.name for i in vault.list()] == ["ViCtim"]


def test_update_and_delete_refuse_the_mismatch_and_write_nothing(
    vault: KeyVaultStore, attacker: Any, keyvault_server: KeyVaultServer
) -> None:
    vault_name = plant(attacker, "victim")
    with pytest.raises(StoreCorruptedError) as info:
        vault.update("victim", account_url="https://127.0.0.1:1/victim")
    assert_refused(info.value)
    with pytest.raises(StoreCorruptedError):
        vault.delete("victim")
    with pytest.raises(StoreCorruptedError):
        vault.delete("victim", purge=True)
    with pytest.raises(StoreCorruptedError):
        vault.register("victim", VICTIM)  # without overwrite: "exists" would name the intruder
    assert len(keyvault_server.secret_versions(vault_name)) == 1
    assert keyvault_server.deleted_secret_names() == []


def test_a_disabled_secret_is_checked_by_its_tags_and_can_still_be_deleted(
    vault: KeyVaultStore, attacker: Any, keyvault_server: KeyVaultServer
) -> None:
    # A disabled secret answers 403 to a read: delete checks the newest version's tags instead.
    vault.register("mine", VICTIM)
    attacker.update_secret_properties(encode_name("mine"), enabled=False)
    vault.delete("mine")
    assert keyvault_server.deleted_secret_names() == [encode_name("mine")]

    vault_name = plant(attacker, "victim")
    attacker.update_secret_properties(vault_name, enabled=False)
    with pytest.raises(StoreCorruptedError) as info:
        vault.delete("victim")
    assert_refused(info.value)
    assert keyvault_server.deleted_secret_names() == [encode_name("mine")]


def test_register_with_overwrite_repairs_it(vault: KeyVaultStore, attacker: Any) -> None:
    plant(attacker, "victim")
    vault.register("victim", VICTIM, overwrite=True)
    assert vault.get("victim").field_values(reveal=True)["account_key"] == AZURITE_ACCOUNT_KEY
    vault.delete("victim")


def test_a_soft_deleted_mismatch_is_not_purged_or_listed_as_ours(
    vault: KeyVaultStore, attacker: Any, keyvault_server: KeyVaultServer
) -> None:
    vault_name = plant(attacker, "victim")
    attacker.begin_delete_secret(vault_name, _polling_interval=0.02).wait()
    with pytest.raises(StoreCorruptedError) as info:
        vault.delete("victim", purge=True)
    assert_refused(info.value, vault_name)
    assert keyvault_server.deleted_secret_names() == [vault_name]
    with pytest.warns(CorruptedSecretWarning, match=vault_name):
        assert list(vault.deleted()) == []
    # Registering recovers it and writes a proper version over it.
    vault.register("victim", VICTIM)
    assert vault.get("victim").field_values()["account_name"] == "victim"


# ------------------------------------------------------------------------------ schema, type, body

NOT_OURS = [
    pytest.param({"tags": {"azcreds-schema": "azure-account-key"}}, "no azcreds-name tag", id="no-name-tag"),
    pytest.param({"tags": {"azcreds-name": "victim"}}, "no azcreds-schema tag", id="no-schema-tag"),
    pytest.param(
        {"tags": {"azcreds-schema": "azure-nope", "azcreds-name": "victim"}},
        "unknown schema",
        id="unknown-schema",
    ),
    pytest.param(
        {"tags": {"azcreds-schema": "azure-sas-token", "azcreds-name": "victim"}},
        "do not match",
        id="schema-tag-disagrees-with-body",
    ),
    pytest.param(
        {
            "tags": {"azcreds-schema": "azure-account-key", "azcreds-name": "victim"},
            "body": json.dumps({"account_name": "victim"}),
        },
        "account_key",
        id="required-field-missing",
    ),
    pytest.param(
        {
            "tags": {"azcreds-schema": "azure-account-key", "azcreds-name": "victim"},
            "content_type": "text/plain",
        },
        "content type",
        id="content-type",
    ),
    pytest.param(
        {"tags": {"azcreds-schema": "azure-account-key", "azcreds-name": "victim"}, "content_type": None},
        "content type",
        id="no-content-type",
    ),
    pytest.param(
        {
            "tags": {"azcreds-schema": "azure-account-key", "azcreds-name": "victim"},
            "body": "TAMPER not json",
        },
        "JSON object",
        id="not-json",
    ),
    pytest.param(
        {
            "tags": {"azcreds-schema": "azure-account-key", "azcreds-name": "victim"},
            "body": json.dumps({"account_name": "victim", "account_key": 12345}),
        },
        "strings",
        id="non-string-value",
    ),
]


@pytest.mark.parametrize(("planted", "expect"), NOT_OURS)
def test_inconsistent_secrets_are_corruption_not_a_hit(
    vault: KeyVaultStore, attacker: Any, planted: dict[str, Any], expect: str
) -> None:
    plant(attacker, "victim", **planted)
    with pytest.raises(StoreCorruptedError) as info:
        vault.get("victim")
    assert_refused(info.value, expect)


# ------------------------------------------------------------------------------ list


def test_list_reports_mismatched_entries_instead_of_hiding_them(vault: KeyVaultStore, attacker: Any) -> None:
    vault.register("good", VICTIM)
    plant(attacker, "victim")  # our name, another name's tag
    plant(attacker, "other", tags={"azcreds-schema": "azure-account-key", "azcreds-name": "good"})
    attacker.set_secret("azcreds-x", "v", tags={"azcreds-name": "x"})  # our tags, not our encoding
    attacker.set_secret("unrelated-app-secret", "v")  # someone else's: not our business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infos = vault.list()
    assert [i.name for i in infos] == ["good"]
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, CorruptedSecretWarning))
    assert len(messages) == 3, messages
    assert any("azcreds-victim-0" in m and "'intruder'" in m for m in messages)
    assert any("azcreds-other-0" in m for m in messages)
    assert any("'azcreds-x'" in m for m in messages)
    assert not any("unrelated-app-secret" in m or INTRUDER_KEY in m for m in messages)


# ------------------------------------------------------------------------------ the CLI


def test_cli_secret_get_refuses_and_never_shows_the_intruder(
    cli: Cli, configured: KeyVaultServer, attacker: Any
) -> None:
    plant(attacker, "victim")
    for args in (["secret", "get", "victim", "--store", "keyvault"], ["resolve", "victim"]):
        r = cli(*args)
        line = r.assert_clean_error(1)
        assert "azcreds-victim-0" in line
        r.assert_no_secret(INTRUDER_KEY, "TAMPER")
        assert "intruder (" not in r.out  # no table titled with the planted name
    r = cli("secret", "get", "victim", "--store", "keyvault", "--reveal")
    r.assert_clean_error(1)
    r.assert_no_secret(INTRUDER_KEY)


def test_cli_secret_list_warns_about_the_mismatch(
    cli: Cli, configured: KeyVaultServer, attacker: Any
) -> None:
    KeyVaultStore(polling_interval=0.02).register("good", VICTIM)
    plant(attacker, "victim")
    r = cli("secret", "list", "--store", "keyvault", "--json")
    assert r.code == 0, r.err
    assert [row["name"] for row in json.loads(r.out)] == ["good"]
    [warning] = r.err_lines
    assert warning.startswith("azcreds: warning: ")
    assert "azcreds-victim-0" in warning
    r.assert_no_secret(INTRUDER_KEY)


def test_a_missing_secret_is_still_a_miss(vault: KeyVaultStore) -> None:
    with pytest.raises(SecretNotFoundError):
        vault.get("victim")
