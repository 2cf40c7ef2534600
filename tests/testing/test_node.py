"""The Node.js loopback guard: loopback goes through, every other destination is refused and reported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from azcreds.testing.node import GUARD_SCRIPT, run_node

PROBE = """
const http = require("http");
const dns = require("dns");
function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve("ok " + res.statusCode); });
    req.on("error", (e) => resolve("error " + e.code));
  });
}
(async () => {
  for (const arg of process.argv.slice(2)) {
    if (!arg.startsWith("dns:")) { console.log(arg, await get(arg)); continue; }
    try { await dns.promises.lookup(arg.slice(4)); console.log("dns resolved"); }
    catch (e) { console.log("dns", e.code); }
  }
})();
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    script = tmp_path / "probe.js"
    script.write_text(PROBE)
    return script


def test_loopback_is_allowed_and_nothing_is_reported(probe: Path, local_url: str) -> None:
    result = run_node(probe, local_url, local_url.replace("127.0.0.1", "localhost")).check()
    assert result.stdout.count("ok 204") == 2


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/metadata/identity/oauth2/token", "http://10.0.0.1/", "http://example.com/"],
)
def test_other_destinations_are_refused_before_connecting_and_reported(probe: Path, url: str) -> None:
    result = run_node(probe, url, "dns:login.microsoftonline.com")
    assert f"{url} error ENONLOOPBACK" in result.stdout
    assert "dns ENONLOOPBACK" in result.stdout
    hosts = {b["host"] for b in result.blocked}
    assert hosts == {url.split("/")[2], "login.microsoftonline.com"}
    with pytest.raises(AssertionError, match="non-loopback"):
        result.check()


def test_the_guard_holds_when_the_parent_drops_the_environment(probe: Path) -> None:
    # `env -i` stands for an env-cleaning launcher (azcreds exec --clean-env): the guard is on
    # node's own command line and reports on stderr, so neither NODE_OPTIONS nor the log is needed.
    result = run_node(probe, "http://169.254.169.254/", command_prefix=["env", "-i"])
    assert [b["host"] for b in result.blocked][:1] == ["169.254.169.254"]
    assert GUARD_SCRIPT.is_file()
