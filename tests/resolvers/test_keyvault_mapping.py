"""The Key Vault name mapping: documented examples, injective, foreign names refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from azcreds.resolvers.keyvault import decode_name, encode_name

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True)


def test_name_mapping_examples() -> None:
    assert encode_name("az_secret") == "azcreds-az-secret-1"
    assert encode_name("az-secret") == "azcreds-az-secret-0"
    assert encode_name("AZ_Secret") == "azcreds-az-secret-1"
    assert encode_name("prod_blob_key") == "azcreds-prod-blob-key-3"
    assert encode_name("plain") == "azcreds-plain-0"


@settings(max_examples=500, deadline=None)
@given(a=NAMES, b=NAMES)
def test_name_mapping_is_injective_and_fits(a: str, b: str) -> None:
    ea, eb = encode_name(a), encode_name(b)
    assert len(ea) <= 127
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in ea)
    assert decode_name(ea) == a.lower()
    assert (ea == eb) == (a.lower() == b.lower())


def test_foreign_vault_names_do_not_decode() -> None:
    for name in ("other-secret", "azcreds-", "azcreds-x", "azcreds-a-b-9", "azcreds-ab-00", "azcreds-a_b-0"):
        assert decode_name(name) is None
