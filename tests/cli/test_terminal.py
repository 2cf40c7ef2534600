"""On a pseudo-terminal (own session, bounded by timeouts): hidden prompts, confirmation, NO_COLOR."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from azcreds.errors import SecretNotFoundError
from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, S1_KEY, child_env, run_in_pty
from tests.helpers import b64

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")

TYPED_KEY = b64("PTY-TYPED-KEY-MARKER-" + "t" * 43)
AZCREDS = [sys.executable, "-m", "azcreds"]


def tty_env(**changes: str | None) -> dict[str, str]:
    return child_env(TERM="xterm-256color", COLUMNS="100", LINES="40", **changes)


def test_missing_secret_field_is_prompted_for_hidden(keyring: Path) -> None:
    code, out = run_in_pty(
        [
            *AZCREDS,
            "secret",
            "register",
            "s1",
            "--schema",
            "azure-account-key",
            "--account_name=acct",
            "--account_key",
        ],
        answers=[(b"account_key: ", TYPED_KEY.encode() + b"\n")],
        env=tty_env(),
    )
    assert code == 0, out
    assert b"account_key: " in out
    assert b"registered" in out
    assert TYPED_KEY.encode() not in out, "the typed secret was echoed"
    assert b"Traceback" not in out
    secret = KeyringStore(keyring, passphrase=PASSPHRASE).get("s1")
    assert secret.account_key.get_secret_value() == TYPED_KEY  # type: ignore[attr-defined]


def test_required_fields_not_given_are_prompted_for(keyring: Path) -> None:
    code, out = run_in_pty(
        [*AZCREDS, "secret", "register", "s1", "--schema", "azure-account-key"],
        answers=[(b"account_name: ", b"acct\n"), (b"account_key: ", TYPED_KEY.encode() + b"\n")],
        env=tty_env(),
    )
    assert code == 0, out
    assert b"acct" in out  # a non-secret field is echoed as typed
    assert TYPED_KEY.encode() not in out
    secret = KeyringStore(keyring, passphrase=PASSPHRASE).get("s1")
    assert secret.account_name == "acct"  # type: ignore[attr-defined]


def test_keyring_passphrase_is_prompted_for(populated: KeyringStore) -> None:
    code, out = run_in_pty(
        [*AZCREDS, "secret", "list", "--json"],
        answers=[(b"passphrase: ", PASSPHRASE.encode() + b"\n")],
        env=tty_env(AZCREDS_KEYRING_PASSPHRASE=None),
    )
    assert code == 0, out
    assert b'"name": "s1"' in out
    assert PASSPHRASE.encode() not in out


@pytest.mark.parametrize(("answer", "kept"), [(b"n\n", True), (b"y\n", False)])
def test_delete_asks_for_confirmation(populated: KeyringStore, answer: bytes, kept: bool) -> None:
    code, out = run_in_pty([*AZCREDS, "secret", "delete", "s1"], answers=[(b"[y/N]", answer)], env=tty_env())
    assert b"Traceback" not in out
    if kept:
        assert code != 0, out
        assert populated.info("s1").name == "s1"
    else:
        assert code == 0, out
        assert b"deleted" in out
        with pytest.raises(SecretNotFoundError):
            populated.get("s1")


def test_env_on_a_terminal_masks_values(populated: KeyringStore) -> None:
    code, out = run_in_pty([*AZCREDS, "env", "s1"], env=tty_env())
    assert code == 0, out
    assert b"export AZURE_STORAGE_ACCOUNT_KEY=" in out
    assert S1_KEY.encode() not in out
    code, out = run_in_pty([*AZCREDS, "env", "s1", "--reveal"], env=tty_env())
    assert code == 0, out
    assert S1_KEY.encode() in out


def test_env_mask_notice_on_a_terminal_is_not_an_error(populated: KeyringStore) -> None:
    """`azcreds env` succeeds (exit 0) on a terminal; its notice about masking must not say "error"."""
    code, out = run_in_pty([*AZCREDS, "env", "s1"], env=tty_env())
    assert code == 0, out
    assert b"azcreds: error:" not in out, out


@pytest.mark.parametrize(
    "args",
    [["schema", "list"], ["secret", "get", "s1"], ["--help"]],
    ids=["schema-list", "secret-get", "help"],
)
def test_no_color_means_no_ansi_escapes_on_a_terminal(populated: KeyringStore, args: list[str]) -> None:
    code, out = run_in_pty([*AZCREDS, *args], env=tty_env(NO_COLOR="1"))
    assert code == 0, out
    assert b"\x1b[" not in out, out


def test_end_of_input_at_a_hidden_prompt_aborts_cleanly(keyring: Path) -> None:
    code, out = run_in_pty(
        [
            *AZCREDS,
            "secret",
            "register",
            "s1",
            "--schema",
            "azure-account-key",
            "--account_name=acct",
            "--account_key",
        ],
        answers=[(b"account_key: ", b"\x04")],
        env=tty_env(),
    )
    assert code == 130, out
    assert b"azcreds: error: aborted" in out
    assert b"Traceback" not in out
    assert KeyringStore(keyring, passphrase=PASSPHRASE).list() == []


def test_wrong_typed_passphrase_is_bad_input(populated: KeyringStore) -> None:
    code, out = run_in_pty(
        [*AZCREDS, "secret", "list"],
        answers=[(b"passphrase: ", b"PTY-WRONG-PASSPHRASE-MARKER\n")],
        env=tty_env(AZCREDS_KEYRING_PASSPHRASE=None),
    )
    assert code == 2, out
    assert b"azcreds: error:" in out
    assert b"MARKER" not in out
    assert b"Traceback" not in out


def test_new_keyring_passphrase_must_be_typed_twice_alike(keyring_path: Path) -> None:
    code, out = run_in_pty(
        [*AZCREDS, "secret", "register", "s1", "--schema", "azure-managed-identity", "--account_name=acct"],
        answers=[(b"New passphrase", b"PTY-ONE-MARKER\n"), (b"(again): ", b"PTY-TWO-MARKER\n")],
        env=tty_env(AZCREDS_KEYRING_PASSPHRASE=None),
    )
    assert code == 2, out
    assert b"differ" in out
    assert b"MARKER" not in out
    assert not keyring_path.exists()


def test_misspelt_secret_field_is_not_prompted_for_with_echo(keyring: Path) -> None:
    """`--acount_key` (a typo, no value) on a terminal: refuse the unknown field at once.

    Prompting for it would ask for the secret with *visible* input (the CLI does not know the
    made-up field is secret) before failing on "unknown field" anyway.
    """
    code, out = run_in_pty(
        [
            *AZCREDS,
            "secret",
            "register",
            "s1",
            "--schema",
            "azure-account-key",
            "--account_name=acct",
            "--acount_key",
        ],
        typeahead=b"\x04",  # if it does prompt, the prompt reads end-of-input at once
        env=tty_env(),
    )
    lines = out.replace(b"\r\n", b"\n").split(b"\n")
    prompts = [line for line in lines if line.startswith(b"acount_key")]
    assert not prompts, f"prompted for the unknown field with echo on: {out!r}"
    assert code == 2, out
    assert b"unknown field" in out
