"""Secret references are parsed strictly: each form, what is not a reference, and malformed ones."""

from __future__ import annotations

import pytest

from azcreds import InvalidReferenceError, parse_reference
from azcreds.references import KeyVaultReference, SecretReference, looks_like_reference

V = "0123456789abcdef0123456789abcdef"  # a Key Vault version id
LOCAL = "https://127.0.0.1:8443"  # a configured (test) vault


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("azcreds://az_secret", SecretReference("az_secret")),
        ("azcreds://az-secret/account_key", SecretReference("az-secret", "account_key")),
        ("azcreds://s1/account-key", SecretReference("s1", "account_key")),
        (
            "azcreds://s1/AZURE_STORAGE_CONNECTION_STRING",
            SecretReference("s1", "AZURE_STORAGE_CONNECTION_STRING"),
        ),
        ("AZCREDS://s1", SecretReference("s1")),
        (
            "https://myvault.vault.azure.net/secrets/db-pass",
            KeyVaultReference("https://myvault.vault.azure.net", "db-pass"),
        ),
        (
            "https://myvault.vault.azure.net/secrets/db-pass/",
            KeyVaultReference("https://myvault.vault.azure.net", "db-pass"),
        ),
        (
            f"https://MyVault.vault.azure.net/secrets/x/{V}",
            KeyVaultReference("https://myvault.vault.azure.net", "x", V),
        ),
        ("https://v1.vault.azure.cn/secrets/x", KeyVaultReference("https://v1.vault.azure.cn", "x")),
        (f"{LOCAL}/secrets/x/{V}", KeyVaultReference(LOCAL, "x", V)),
        (
            "@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/mysecret/)",
            KeyVaultReference("https://myvault.vault.azure.net", "mysecret"),
        ),
        (
            f"@Microsoft.KeyVault(SecretUri={LOCAL}/secrets/mysecret/{V})",
            KeyVaultReference(LOCAL, "mysecret", V),
        ),
        (
            "@Microsoft.KeyVault(VaultName=myvault;SecretName=mysecret)",
            KeyVaultReference("https://myvault.vault.azure.net", "mysecret"),
        ),
        (
            f"@Microsoft.KeyVault(VaultName=my-vault;SecretName=s;SecretVersion={V})",
            KeyVaultReference("https://my-vault.vault.azure.net", "s", V),
        ),
    ],
)
def test_each_form_parses(text: str, expected: object) -> None:
    assert parse_reference(text, where="variable X", vaults=[LOCAL + "/"]) == expected
    assert looks_like_reference(text, vaults=[LOCAL])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain value",
        "https://example.com/secrets/x",  # not a Key Vault host
        "https://127.0.0.1:8443/secrets/x",  # loopback, but no vault configured there
        "https://myvault.vault.azure.net/",  # a vault URL, not a secret
        "https://myvault.vault.azure.net/keys/k",
        "http://myvault.vault.azure.net/secrets/x",  # Key Vault is https only: just a string
        "https://vault.azure.net/secrets/x",  # the suffix alone is no vault
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=azcreds://x",
        "see azcreds://s1",
    ],
)
def test_other_values_are_not_references(text: str) -> None:
    assert parse_reference(text, where="variable X") is None


SECRET_LOOKING = "SuperSecretValue123"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("azcreds://", "secret name"),
        ("azcreds:///field", "secret name"),
        ("azcreds://-bad", "secret name"),
        ("azcreds://" + "a" * 65, "secret name"),
        ("azcreds://s1/", "field"),
        ("azcreds://s1/a/b", "at most two parts"),
        ("azcreds://s1/Account_Key", "field"),
        ("azcreds://s1?x=" + SECRET_LOOKING, "no query"),
        ("azcreds://s1#" + SECRET_LOOKING, "no query"),
        ("azcreds://s 1", "spaces"),
        (" azcreds://s1", "spaces"),
        ("azcreds://s1 ", "spaces"),
        ("https://myvault.vault.azure.net/secrets", "secrets/NAME"),
        ("https://myvault.vault.azure.net/secrets/", "secrets/NAME"),
        ("https://myvault.vault.azure.net/secrets/a/b/c", "secrets/NAME"),
        ("https://myvault.vault.azure.net/secrets/under_score", "letters, digits and '-'"),
        ("https://myvault.vault.azure.net/secrets/x/notaversion", "32 hexadecimal"),
        (f"https://myvault.vault.azure.net/secrets/x?sig={SECRET_LOOKING}", "no query"),
        (f"https://u:{SECRET_LOOKING}@myvault.vault.azure.net/secrets/x", "no user name"),
        ("@Microsoft.KeyVault(", "')'"),
        ("@Microsoft.KeyVault()", "KEY=VALUE"),
        ("@Microsoft.KeyVault(SecretUri=https://example.com/secrets/x)", "Key Vault secret URI"),
        ("@Microsoft.KeyVault(SecretUri=azcreds://s1)", "Key Vault secret URI"),
        ("@Microsoft.KeyVault(VaultName=myvault)", "SecretUri"),
        ("@Microsoft.KeyVault(VaultName=my--vault;SecretName=s)", "VaultName"),
        ("@Microsoft.KeyVault(VaultName=v;SecretName=s)", "VaultName"),
        ("@Microsoft.KeyVault(VaultName=myvault;SecretName=s;SecretVersion=1)", "SecretVersion"),
        ("@Microsoft.KeyVault(VaultName=myvault;SecretName=s;VaultName=other)", "once"),
        (f"@Microsoft.KeyVault(VaultName=myvault;SecretName=s;Password={SECRET_LOOKING})", "SecretUri"),
        ("@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/x) tail", "')'"),
    ],
)
def test_malformed_references_name_where_they_are_never_the_value(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text, where="app.env:7 (DB)")
    message = str(info.value)
    assert message.startswith("app.env:7 (DB): malformed reference: "), message
    assert reason in message
    assert info.value.where == "app.env:7 (DB)"
    assert SECRET_LOOKING not in message
    assert isinstance(info.value, ValueError)


def test_a_reference_prints_back_in_its_canonical_form() -> None:
    ref = parse_reference(
        f"@Microsoft.KeyVault(SecretUri=https://MYVAULT.vault.azure.net/secrets/x/{V})", where="x"
    )
    assert str(ref) == f"https://myvault.vault.azure.net/secrets/x/{V}"
    assert str(SecretReference("s1", "account_key")) == "azcreds://s1/account_key"


def test_resolve_reference_reads_the_default_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    from azcreds import SecretNotFoundError, clear_cache, resolve_reference
    from tests.helpers import AZURITE_ACCOUNT_KEY

    monkeypatch.setenv("AZCREDS_REF1__ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZCREDS_REF1__ACCOUNT_KEY", AZURITE_ACCOUNT_KEY)
    clear_cache()
    assert resolve_reference("azcreds://ref1/account_name") == "acct"
    assert resolve_reference("azcreds://ref1/AZURE_STORAGE_KEY") == AZURITE_ACCOUNT_KEY
    assert "AccountKey=" + AZURITE_ACCOUNT_KEY in resolve_reference("azcreds://ref1")
    with pytest.raises(InvalidReferenceError, match="not a reference"):
        resolve_reference("just a value", where="variable X")
    with pytest.raises(InvalidReferenceError, match="has no field 'client_secret'") as info:
        resolve_reference("azcreds://ref1/client_secret", where="variable X")
    assert AZURITE_ACCOUNT_KEY not in str(info.value)
    with pytest.raises(SecretNotFoundError):
        resolve_reference("azcreds://ref2/account_name")
