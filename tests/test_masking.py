"""The stream masker: every form of a secret becomes the marker, however the stream is cut."""

from __future__ import annotations

import base64
import random
from urllib.parse import quote

import pytest

from azcreds.masking import MARKER, StreamMasker, secret_forms
from tests.helpers import b64, sas_token

KEY = b64("MASK-TEST-KEY-" + "m" * 50)
KEY_WITH_SYMBOLS = "ab+cd/ef==" + b64("x" * 30)  # '+', '/' and '=' change under URL encoding
SIG_DECODED = "c2lnbmF0dXJl+cGx1cw/c2xhc2g="  # a signature is base64: "+", "/" and "="
SIG = quote(SIG_DECODED, safe="")  # as it stands in the query string
SAS = sas_token(sig=SIG)
CS = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.windows.net"


def mask(values: list[str], data: bytes, pieces: list[int] | None = None) -> bytes:
    """``data`` through a masker for ``values``, fed in pieces of the given sizes (all at once if None)."""
    masker = StreamMasker(secret_forms(values))
    out = b""
    at = 0
    for size in pieces or [len(data)]:
        out += masker.feed(data[at : at + size])
        at += size
    out += masker.feed(data[at:])
    return out + masker.finish()


@pytest.mark.parametrize(
    "shown",
    [
        pytest.param(KEY, id="plain"),
        pytest.param(f"key={KEY}\n", id="in-a-line"),
        pytest.param(quote(KEY_WITH_SYMBOLS, safe=""), id="url-encoded"),
        pytest.param(quote(KEY_WITH_SYMBOLS, safe="/="), id="url-encoded-keeping-slashes"),
    ],
)
def test_plain_and_url_encoded_copies_become_the_marker(shown: str) -> None:
    out = mask([KEY, KEY_WITH_SYMBOLS], shown.encode())
    assert MARKER in out
    assert KEY.encode() not in out
    assert quote(KEY_WITH_SYMBOLS, safe="").encode() not in out


def test_a_connection_string_shows_its_account_but_not_its_key() -> None:
    out = mask([CS, KEY], f"connecting with {CS}\n".encode())
    assert out == (
        b"connecting with DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
        + MARKER
        + b";EndpointSuffix=core.windows.net\n"
    )


def test_a_sas_token_shows_its_fields_but_not_its_signature() -> None:
    out = mask([SAS], f"https://acct.blob.core.windows.net/c?{SAS}".encode())
    assert MARKER in out
    assert SIG.encode() not in out
    assert b"sv=2025-11-05&ss=b&srt=sco&sp=rl&se=" in out  # the rest of the query is not secret
    # the signature decoded from the URL, on its own
    assert mask([SAS], SIG_DECODED.encode()) == MARKER


@pytest.mark.parametrize("prefix", range(6))
@pytest.mark.parametrize("urlsafe", [False, True], ids=["standard", "urlsafe"])
def test_base64_copies_at_every_alignment_are_masked(prefix: int, urlsafe: bool) -> None:
    # The secret inside a longer text that is then base64-encoded: its position mod 3 decides
    # which characters encode it.
    text = b"x" * prefix + f"AccountKey={KEY_WITH_SYMBOLS};".encode() + b"tail"
    encoded = base64.urlsafe_b64encode(text) if urlsafe else base64.b64encode(text)
    out = mask([KEY_WITH_SYMBOLS], encoded)
    assert MARKER in out
    # what is left of the encoded text cannot be decoded back into the key
    for piece in out.split(MARKER):
        assert len(piece) < len(encoded) // 2


def test_split_at_every_position_still_masks() -> None:
    data = f"before {KEY} after\n".encode()
    want = b"before " + MARKER + b" after\n"
    for cut in range(1, len(data)):
        assert mask([KEY], data, [cut]) == want, cut
    assert mask([KEY], data, [1] * len(data)) == want  # one byte at a time


def test_what_cannot_start_a_secret_is_released_at_once() -> None:
    masker = StreamMasker(secret_forms([KEY]))
    assert masker.feed(b"progress: 10%\n") == b"progress: 10%\n"
    assert masker.feed(b"no newline yet, ") == b"no newline yet, "
    # A possible start of the key is held back, and only that ...
    start = KEY[:5].encode()
    assert masker.feed(b"value " + start) == b"value "
    # ... until the next bytes show it is not the key
    assert masker.feed(b"!") == start + b"!"
    assert masker.feed(start) == b""
    assert masker.finish() == start  # the end of the stream releases a tail that never completed


def test_binary_data_passes_byte_exact_except_the_secrets() -> None:
    rng = random.Random(15)
    blob = bytearray(rng.randbytes(3 << 20))
    for at in (0, 1234, 65535, 65536 * 3 - 5, len(blob) - len(KEY)):
        blob[at : at + len(KEY)] = KEY.encode()
    data = bytes(blob)
    pieces = [rng.randrange(1, 70000) for _ in range(80)]
    assert mask([KEY], data, pieces) == data.replace(KEY.encode(), MARKER)
    assert mask(["unrelated-secret-value"], data, pieces) == data


def test_short_values_and_no_values_mask_nothing() -> None:
    assert secret_forms(["abc", ""]) == []
    masker = StreamMasker([])
    assert masker.feed(b"abc") == b"abc"
    assert masker.finish() == b""


def test_forms_that_contain_another_are_left_to_the_inner_one() -> None:
    forms = secret_forms([CS, KEY])
    assert KEY.encode() in forms
    assert CS.encode() not in forms
    assert all(not (g != f and g in f) for f in forms for g in forms)
