"""Log redaction: registered secrets are masked in any logger's records, tracebacks included."""

from __future__ import annotations

import logging
import uuid

import pytest

from azcreds.redact import MASK, register_secrets, scrub


def test_registered_secret_is_masked_in_message_args_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    register_secrets([secret])
    logger = logging.getLogger(f"third.party.{uuid.uuid4().hex[:6]}")
    with caplog.at_level(logging.DEBUG):
        logger.debug("GET /x?token=%s", secret)
        try:
            raise RuntimeError(f"bad {secret}")
        except RuntimeError:
            logger.exception("failed")
    text = caplog.text
    assert secret not in text
    assert f"token={MASK}" in text
    assert f"bad {MASK}" in text


def test_sas_signature_alone_and_url_encoded_forms_are_masked() -> None:
    sig = "abc%2Bdef%2F" + uuid.uuid4().hex
    register_secrets([f"sv=2025-11-05&sig={sig}"])
    assert scrub(f"GET /c?sv=2025-11-05&sig={sig} HTTP/1.1") == f"GET /c?{MASK} HTTP/1.1"
    assert scrub(f"GET /c?sig={sig}&sp=r HTTP/1.1") == f"GET /c?sig={MASK}&sp=r HTTP/1.1"
    assert MASK in scrub("sig=abc+def/" + sig[12:])


def test_short_values_are_not_registered() -> None:
    register_secrets(["ab", ""])
    assert scrub("ab cd") == "ab cd"


def test_unregistered_text_is_untouched(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("x").info("plain %d", 5)
    assert "plain 5" in caplog.text
