"""Bad input exits 2, runtime failures 1: one ``azcreds: error:`` line, no traceback, no secret."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from azcreds.resolvers.keyring import KeyringStore
from tests.cli.helpers import PASSPHRASE, S1_KEY, Cli
from tests.helpers import TENANT_ID, b64, sas_token

# Secret values the cases hand to the CLI. None of them (nor the word MARKER) may ever be printed.
KEY = b64("BI-VALID-KEY-MARKER-" + "v" * 44)
BAD_KEY = "BI-NOT-BASE64-MARKER!*"
EXPIRED_SAS = sas_token(sig=b64("BI-EXPIRED-SIG-MARKER"), expires_in=timedelta(days=-1))
VALID_SAS = sas_token(sig=b64("BI-VALID-SIG-MARKER"))
NO_SIG_SAS = sas_token(sig="x").replace("&sig=x", "&si=BI-NOSIG-MARKER")
BAD_CS = "BI-MALFORMED-CONNECTION-STRING-MARKER"
SP_SECRET = "BI-SP-SECRET-MARKER"
WRONG_PASSPHRASE = "BI-WRONG-PASSPHRASE-MARKER"
LITERAL = "BI-LITERAL-ON-ARGV-MARKER"  # for non-secret slots: unknown fields, stray arguments

FILES: dict[str, bytes] = {
    "key": KEY.encode(),
    "badkey": BAD_KEY.encode() + b"\n",
    "expired": EXPIRED_SAS.encode(),
    "sas": VALID_SAS.encode(),
    "nosig": NO_SIG_SAS.encode(),
    "cs": BAD_CS.encode(),
    "spsecret": SP_SECRET.encode(),
    "big": b"BI-BIG-FILE-MARKER\n" * (64 * 1024 // 19 + 10),
    "latin1": b"\xff\xfe BI-LATIN1-MARKER \xe9\xe9",
}
SECRETS = [
    "MARKER",
    KEY,
    BAD_KEY,
    EXPIRED_SAS,
    VALID_SAS,
    NO_SIG_SAS,
    b64("BI-EXPIRED-SIG-MARKER"),
    b64("BI-VALID-SIG-MARKER"),
    S1_KEY,
    PASSPHRASE,
]

AK = ["secret", "register", "s2", "--schema", "azure-account-key"]  # + fields
SP = ["secret", "register", "s2", "--schema", "azure-service-principal", "--account_name=acct"]


@dataclass
class Bad:
    id: str
    args: list[str]
    expect: str  # a fragment of the error line (case-insensitive): the right error, not any error
    stdin: str = ""
    env: dict[str, str | None] = field(default_factory=dict)
    keyring: bool = True  # a keyring holding s1 (else: no keyring file at all)


BAD_INPUT = [
    # -- schemas and fields
    Bad(
        "unknown-schema",
        [
            "secret",
            "register",
            "s2",
            "--schema",
            "no-such-schema",
            "--account_name=acct",
            "--account_key=@{tmp}/key",
        ],
        "unknown schema",
    ),
    Bad(
        "unknown-field",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key", f"--colour={LITERAL}"],
        "unknown field 'colour' for schema azure-account-key",
    ),
    # A field that does not exist is reported as such, even without a value (not "no terminal to prompt").
    Bad(
        "unknown-field-without-value",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key", "--colour"],
        "unknown field",
    ),
    Bad("empty-passphrase-env", ["secret", "list"], "locked", env={"AZCREDS_KEYRING_PASSPHRASE": ""}),
    Bad("missing-required-field", [*AK, "--account_name=acct"], "account_key: required"),
    Bad("flag-without-value-no-terminal", [*AK, "--account_name=acct", "--account_key"], "no terminal"),
    Bad("interactive-without-terminal", [*AK, "-i", "--account_name=acct"], "account_key"),
    Bad(
        "sp-missing-client-id",
        [*SP, f"--tenant_id={TENANT_ID}", "--client_secret=@{tmp}/spsecret"],
        "client_id",
    ),
    Bad("flat-azure-without-fields", ["secret", "register", "s2", "--schema", "azure"], "invalid 'azure'"),
    Bad(
        "flat-azure-two-credentials",
        [
            "secret",
            "register",
            "s2",
            "--schema",
            "azure",
            "--account_name=acct",
            "--account_key=@{tmp}/key",
            "--sas_token=@{tmp}/sas",
        ],
        "conflicting",
    ),
    Bad("key-not-base64", [*AK, "--account_name=acct", "--account_key=@{tmp}/badkey"], "base64"),
    Bad(
        "sas-expired",
        [
            "secret",
            "register",
            "s2",
            "--schema",
            "azure-sas-token",
            "--account_name=acct",
            "--sas_token=@{tmp}/expired",
        ],
        "expired",
    ),
    Bad(
        "sas-without-sig",
        [
            "secret",
            "register",
            "s2",
            "--schema",
            "azure-sas-token",
            "--account_name=acct",
            "--sas-token=@{tmp}/nosig",
        ],
        "sig",
    ),
    Bad(
        "client-id-not-a-guid",
        [*SP, f"--tenant_id={TENANT_ID}", f"--client_id={LITERAL}", "--client_secret=@{tmp}/spsecret"],
        "GUID",
    ),
    Bad(
        "connection-string-malformed",
        ["secret", "register", "s2", "--schema", "azure-connection-string", "--connection_string=@{tmp}/cs"],
        "connection_string",
    ),
    Bad(
        "account-name-invalid",
        [*AK, "--account_name=Not_An_Account", "--account_key=@{tmp}/key"],
        "account_name",
    ),
    Bad(
        "account-url-invalid",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key", "--account-url=ftp://acct.example.com"],
        "account_url",
    ),
    # -- where values come from
    Bad("at-path-missing", [*AK, "--account_name=acct", "--account_key=@{tmp}/no-such-file"], "no such file"),
    Bad("at-path-is-a-folder", [*AK, "--account_name=acct", "--account_key=@{tmp}"], "--account_key=@"),
    Bad("at-path-too-large", [*AK, "--account_name=acct", "--account_key=@{tmp}/big"], "64 KiB"),
    Bad("at-path-not-utf8", [*AK, "--account_name=acct", "--account_key=@{tmp}/latin1"], "UTF-8"),
    Bad(
        "stdin-too-large",
        [*AK, "--account_name=acct", "--account_key=-"],
        "64 KiB",
        stdin="BI-BIG-STDIN-MARKER\n" * 4000,
    ),
    Bad(
        "two-fields-from-stdin",
        [*AK, "--account_name=-", "--account_key=-"],
        "only one field",
        stdin=f"acct\n{KEY}\n",
    ),
    Bad(
        "field-given-twice",
        [*AK, "--account_name=acct", "--account-name=acct", "--account_key=@{tmp}/key"],
        "twice",
    ),
    Bad(
        "secret-field-given-twice",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key", "--account-key=@{tmp}/key"],
        "twice",
    ),
    Bad(
        "stray-positional",
        [*AK, "--account_name=acct", LITERAL, "--account_key=@{tmp}/key"],
        "unexpected argument",
    ),
    Bad("malformed-field-flag", [*AK, "--account_name=acct", f"--1colour={LITERAL}"], "field flag"),
    Bad(
        "field-before-name",
        ["secret", "register", f"--account_key={LITERAL}", "s2", "--schema", "azure-account-key"],
        "name",
    ),
    # -- names
    Bad(
        "name-with-space",
        ["secret", "register", "a b", "--schema", "azure-managed-identity", "--account_name=acct"],
        "name",
    ),
    Bad(
        "name-leading-underscore",
        ["secret", "register", "_bad", "--schema", "azure-managed-identity", "--account_name=acct"],
        "name",
    ),
    Bad(
        "name-with-dot",
        ["secret", "register", "a.b", "--schema", "azure-managed-identity", "--account_name=acct"],
        "name",
    ),
    Bad(
        "name-too-long",
        ["secret", "register", "a" * 65, "--schema", "azure-managed-identity", "--account_name=acct"],
        "64",
    ),
    Bad("get-invalid-name", ["secret", "get", "_bad"], "name"),
    Bad("resolve-invalid-name", ["resolve", "a b"], "name"),
    Bad("env-invalid-name", ["env", "a.b"], "name"),
    Bad(
        "existing-name",
        [*AK[:2], "s1", *AK[3:], "--account_name=acct", "--account_key=@{tmp}/key"],
        "already exists",
    ),
    Bad(
        "existing-name-other-case",
        [*AK[:2], "S1", *AK[3:], "--account_name=acct", "--account_key=@{tmp}/key"],
        "already exists",
    ),
    # -- the store
    Bad(
        "wrong-passphrase-list",
        ["secret", "list"],
        "passphrase",
        env={"AZCREDS_KEYRING_PASSPHRASE": WRONG_PASSPHRASE},
    ),
    Bad(
        "wrong-passphrase-register",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key"],
        "passphrase",
        env={"AZCREDS_KEYRING_PASSPHRASE": WRONG_PASSPHRASE},
    ),
    Bad(
        "wrong-passphrase-resolve",
        ["resolve", "s1"],
        "passphrase",
        env={"AZCREDS_KEYRING_PASSPHRASE": WRONG_PASSPHRASE},
    ),
    Bad(
        "no-passphrase-no-terminal",
        ["secret", "get", "s1"],
        "locked",
        env={"AZCREDS_KEYRING_PASSPHRASE": None},
    ),
    Bad(
        "no-passphrase-no-terminal-resolve",
        ["resolve", "s1"],
        "locked",
        env={"AZCREDS_KEYRING_PASSPHRASE": None},
    ),
    Bad("store-unknown", ["secret", "list", "--store", "nowhere"], "--store"),
    Bad(
        "store-unknown-register",
        [*AK, "--account_name=acct", "--account_key=@{tmp}/key", "--store=nowhere"],
        "--store",
    ),
    Bad("purge-with-keyring", ["secret", "delete", "s1", "--purge", "--yes"], "--purge"),
    Bad("delete-without-yes-no-terminal", ["secret", "delete", "s1"], "--yes"),
    # -- update
    Bad("update-without-fields", ["secret", "update", "s1"], "at least one"),
    Bad("update-unknown-field", ["secret", "update", "s1", f"--colour={LITERAL}"], "colour"),
    Bad("update-bad-value", ["secret", "update", "s1", "--account-key=@{tmp}/badkey"], "base64"),
    Bad("update-stray-positional", ["secret", "update", "s1", LITERAL], "unexpected argument"),
    Bad("update-flag-without-value-no-terminal", ["secret", "update", "s1", "--account_key"], "no terminal"),
    Bad("update-remove-required-field", ["secret", "update", "s1", "--account_key="], "account_key"),
    # -- other commands and click's own usage errors
    Bad("exec-command-not-found", ["exec", "s1", "--", "{tmp}/no-such-command"], "not found"),
    Bad("exec-without-command", ["exec", "s1"], "COMMAND"),
    Bad("schema-show-unknown", ["schema", "show", "no-such-schema"], "unknown schema"),
    Bad("get-without-name", ["secret", "get"], "Missing argument"),
    Bad("register-without-schema", ["secret", "register", "s2", "--account_name=acct"], "--schema"),
    Bad("schema-option-without-value", ["secret", "register", "s2", "--schema"], "--schema"),
    Bad("unknown-command", ["no-such-command"], "no-such-command"),
    Bad("unknown-option", ["secret", "list", "--colour"], "--colour"),
    Bad("extra-argument", ["secret", "get", "s1", "extra"], "extra"),
    # -- keyring
    Bad("keyring-init-exists", ["keyring", "init"], "already exists"),
    Bad(
        "keyring-init-exists-stdin",
        ["keyring", "init", "--passphrase-stdin"],
        "already exists",
        stdin="another passphrase\n",
    ),
    Bad("keyring-init-empty-passphrase", ["keyring", "init", "--passphrase-stdin"], "empty", keyring=False),
    Bad("keyring-init-no-key-no-terminal", ["keyring", "init"], "passphrase", keyring=False),
    Bad("keyring-passwd-empty", ["keyring", "passwd", "--new-passphrase-stdin"], "empty", stdin="\n"),
    Bad("keyring-passwd-no-terminal", ["keyring", "passwd"], "no terminal"),
    Bad(
        "keyring-passwd-wrong-passphrase",
        ["keyring", "passwd", "--new-passphrase-stdin"],
        "passphrase",
        stdin="new passphrase\n",
        env={"AZCREDS_KEYRING_PASSPHRASE": WRONG_PASSPHRASE},
    ),
    Bad(
        "keyring-passwd-no-file",
        ["keyring", "passwd", "--new-passphrase-stdin"],
        "keyring init",
        stdin="new passphrase\n",
        env={"AZCREDS_KEYRING_PASSPHRASE": PASSPHRASE},
        keyring=False,
    ),
]


@pytest.fixture
def scene(request: pytest.FixtureRequest, keyring_path: Path, tmp_path: Path) -> Path:
    """The files every case may name, and (unless the case says not) a keyring holding ``s1``."""
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    if request.param:
        request.getfixturevalue("populated")
    return tmp_path


@pytest.mark.parametrize(
    ("case", "scene"), [(c, c.keyring) for c in BAD_INPUT], ids=[c.id for c in BAD_INPUT], indirect=["scene"]
)
def test_bad_input_exits_2_with_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, scene: Path, case: Bad
) -> None:
    for name, value in case.env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    args = [arg.replace("{tmp}", str(scene)) for arg in case.args]
    r = cli(*args, stdin=case.stdin)
    line = r.assert_clean_error(2)
    assert case.expect.lower() in line.lower(), line
    r.assert_no_secret(*SECRETS, WRONG_PASSPHRASE)
    assert r.out == ""


def test_nothing_was_written_by_bad_input(cli: Cli, populated: KeyringStore, tmp_path: Path) -> None:
    """A refused register or update leaves the keyring as it was."""
    (tmp_path / "badkey").write_text(BAD_KEY)
    before = populated.path.read_bytes()
    assert cli(*AK, "--account_name=acct", f"--account_key=@{tmp_path}/badkey").code == 2
    assert cli("secret", "update", "s1", f"--account_key=@{tmp_path}/badkey").code == 2
    assert cli("secret", "register", "S1", "--schema", "azure-managed-identity", "--account_name=x").code == 2
    assert populated.path.read_bytes() == before
    assert [i.name for i in populated.list()] == ["s1"]


# --------------------------------------------------------------------------- runtime failures: exit 1


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["secret", "get", "nope"], "'nope' not found"),
        (["secret", "get", "nope", "--reveal", "--json"], "'nope' not found"),
        (["secret", "delete", "nope", "--yes"], "'nope' not found"),
        (["secret", "update", "nope", "--account_name=acct"], "'nope' not found"),
        (["resolve", "nope"], "'nope' not found"),
        (["resolve"], "not found"),
        (["env", "nope"], "'nope' not found"),
        (["exec", "nope", "--", "true"], "'nope' not found"),
    ],
    ids=["get", "get-reveal-json", "delete", "update", "resolve", "resolve-implicit", "env", "exec"],
)
def test_missing_secret_exits_1(cli: Cli, populated: KeyringStore, args: list[str], expect: str) -> None:
    r = cli(*args)
    line = r.assert_clean_error(1)
    assert expect in line
    r.assert_no_secret(S1_KEY, PASSPHRASE)


def test_resolve_json_failure(cli: Cli, populated: KeyringStore) -> None:
    """--json on failure: the JSON on stdout says why; the exit code is still 1."""
    r = cli("resolve", "nope", "--json")
    assert r.code == 1, r
    data = json.loads(r.out)
    assert data["ok"] is False
    assert data["source"] is None
    assert "not found" in data["error"]
    assert [a["source"] for a in data["attempts"]][:2] == ["env", "keyring"]
    assert {a["outcome"] for a in data["attempts"]} == {"miss"}
    assert "Traceback" not in r.err


def test_resolve_missing_lists_the_resolvers_tried(cli: Cli, populated: KeyringStore) -> None:
    r = cli("resolve", "nope")
    line = r.assert_clean_error(1)
    assert "env:" in line
    assert "AZCREDS_NOPE__" in line
    assert "keyring:" in line
    assert str(populated.path) in line


def test_missing_secret_without_keyring_file_exits_1(cli: Cli, keyring_path: Path) -> None:
    line = cli("secret", "get", "s1").assert_clean_error(1)
    assert "not found" in line
    line = cli("resolve", "s1").assert_clean_error(1)
    assert "keyring" in line


@pytest.mark.parametrize("where", ["magic", "header", "last-byte", "middle", "truncated", "empty"])
@pytest.mark.parametrize("command", [["secret", "list"], ["resolve", "s1"], ["secret", "get", "s1"]])
def test_corrupted_keyring_exits_1_naming_the_file(
    cli: Cli, populated: KeyringStore, where: str, command: list[str]
) -> None:
    path = populated.path
    data = bytearray(path.read_bytes())
    if where == "truncated":
        data = data[: len(data) // 2]
    elif where == "empty":
        data = bytearray()
    else:
        offset = {"magic": 0, "header": 20, "last-byte": len(data) - 1, "middle": len(data) * 3 // 4}[where]
        data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    r = cli(*command)
    line = r.assert_clean_error(1)
    assert str(path) in line
    assert "corrupt" in line.lower()
    r.assert_no_secret(S1_KEY, PASSPHRASE)
    assert path.read_bytes() == bytes(data), "a corrupted keyring must never be rewritten"
