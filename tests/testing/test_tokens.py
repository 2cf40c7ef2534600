"""mint_token and StaticTokenCredential (their use against Azurite is in test_azurite.py)."""

from __future__ import annotations

import time

import jwt
import pytest
from azure.core.credentials import (
    AccessToken,
    AccessTokenInfo,
    SupportsTokenInfo,
    TokenCredential,
)

from azcreds.testing import (
    STORAGE_AUDIENCE,
    TEST_APP_ID,
    TEST_OBJECT_ID,
    TEST_TENANT_ID,
    StaticTokenCredential,
    mint_token,
)


def claims_of(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_default_claims_are_what_azurite_oauth_basic_needs() -> None:
    before = int(time.time())
    token = mint_token()
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = claims_of(token)
    assert claims["aud"] == STORAGE_AUDIENCE
    assert claims["iss"] == f"https://sts.windows.net/{TEST_TENANT_ID}/"
    assert (claims["tid"], claims["oid"], claims["appid"]) == (
        TEST_TENANT_ID,
        TEST_OBJECT_ID,
        TEST_APP_ID,
    )
    assert isinstance(claims["iat"], int)
    assert isinstance(claims["nbf"], int)
    assert claims["iat"] <= before
    assert claims["nbf"] <= before
    assert before + 3600 <= claims["exp"] <= int(time.time()) + 3600


def test_parameters_shape_the_claims() -> None:
    claims = claims_of(
        mint_token(
            "https://acct.blob.core.windows.net",
            tenant_id="t-1",
            lifetime=60,
            object_id="o-1",
            app_id="a-1",
            extra_claims={"scp": "user_impersonation", "nbf": 1},
        )
    )
    assert claims["aud"] == "https://acct.blob.core.windows.net"
    assert claims["iss"] == "https://sts.windows.net/t-1/"
    assert (claims["tid"], claims["oid"], claims["appid"]) == ("t-1", "o-1", "a-1")
    assert claims["scp"] == "user_impersonation"
    assert claims["nbf"] == 1
    assert claims["exp"] - int(time.time()) <= 60


def test_negative_lifetime_is_expired() -> None:
    claims = claims_of(mint_token(lifetime=-600))
    assert claims["exp"] < time.time()
    assert claims["iat"] < claims["exp"]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(
            mint_token(lifetime=-600),
            options={"verify_signature": False, "verify_exp": True},
            audience=STORAGE_AUDIENCE,
        )


def test_each_token_is_signed_with_a_fresh_key() -> None:
    claims = {"iat": 1, "nbf": 1, "exp": 2}
    first, second = mint_token(extra_claims=claims), mint_token(extra_claims=claims)
    assert first.rsplit(".", 1)[0] == second.rsplit(".", 1)[0]
    assert first.rsplit(".", 1)[1] != second.rsplit(".", 1)[1]


def test_static_credential_implements_both_protocols_and_counts_calls() -> None:
    token = mint_token(lifetime=120)
    credential = StaticTokenCredential(token)
    assert isinstance(credential, TokenCredential)
    assert isinstance(credential, SupportsTokenInfo)
    expected_expiry = claims_of(token)["exp"]

    access = credential.get_token("https://storage.azure.com/.default", tenant_id="x")
    assert access == AccessToken(token, expected_expiry)
    info = credential.get_token_info("a/.default", "b/.default")
    assert isinstance(info, AccessTokenInfo)
    assert (info.token, info.expires_on, info.token_type) == (token, expected_expiry, "Bearer")
    assert credential.call_count == 2
    assert credential.scopes == [
        ("https://storage.azure.com/.default",),
        ("a/.default", "b/.default"),
    ]
    with credential as entered:
        assert entered is credential


def test_static_credential_expiry() -> None:
    assert StaticTokenCredential("opaque", expires_on=123).get_token().expires_on == 123
    in_an_hour = StaticTokenCredential("not-a-jwt").expires_on - time.time()
    assert 3500 < in_an_hour <= 3600
