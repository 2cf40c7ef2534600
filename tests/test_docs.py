"""The documentation site: it builds with --strict, and its API reference covers every public name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import azcreds
import azcreds.testing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return out


def anchors(page: Path) -> set[str]:
    return set(re.findall(r'id="(azcreds[\w.]*)"', page.read_text()))


def test_every_public_name_has_an_entry_in_the_api_reference(site: Path) -> None:
    ids = set().union(*(anchors(p) for p in (site / "api").glob("*/index.html")))
    exports = azcreds._EXPORTS
    missing = [
        name
        for name in azcreds.__all__
        if name != "__version__" and {f"azcreds.{name}", f"{exports[name]}.{name}"}.isdisjoint(ids)
    ]
    assert missing == []


def test_the_test_kit_reference_covers_azcreds_testing(site: Path) -> None:
    ids = anchors(site / "api" / "testing" / "index.html")
    missing = [
        name
        for name in azcreds.testing.__all__
        if not any(i.endswith(f".{name}") or i.startswith(f"azcreds.testing.{name}.") for i in ids)
    ]
    assert missing == []


def test_reference_pages_show_no_raw_sphinx_markup(site: Path) -> None:
    for page in (site / "api").glob("*/index.html"):
        text = page.read_text()
        assert re.search(r":(class|func|meth|mod|data|attr|exc):<code>", text) is None, page
        assert "<p>::</p>" not in text, page


def test_the_home_page_draws_the_flow(site: Path) -> None:
    home = (site / "index.html").read_text()
    assert '<pre class="mermaid">' in home
    for step in ("ResolverChain", "KeyVaultStore", "AzureCredentials", "AzureArtifactStore"):
        assert step in home
