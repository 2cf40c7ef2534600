"""constraints.txt pins exactly what azcreds[dev] needs, no more: every pin is a dependency of the package
or of its dev tools, directly or through another one, and every such dependency is pinned.

(lazy-importer, which azcreds never imports, is one: keyring's importlib_metadata 10 imports it.)
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CONSTRAINTS = Path(__file__).parent.parent / "constraints.txt"


def pins() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[canonicalize_name(name)] = version
    return out


def needed(root: str = "azcreds", extras: frozenset[str] = frozenset({"dev"})) -> set[str]:
    """Every distribution ``root[extras]`` requires on this interpreter, transitively (markers applied)."""
    seen: dict[str, frozenset[str]] = {}
    todo = [(canonicalize_name(root), extras)]
    while todo:
        name, wanted = todo.pop()
        if name in seen and wanted <= seen[name]:
            continue
        seen[name] = seen.get(name, frozenset()) | wanted
        for text in importlib.metadata.distribution(name).requires or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {"", *wanted}):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return set(seen) - {canonicalize_name(root)}


def installed_is_pinned() -> bool:
    return all(importlib.metadata.version(name) == version for name, version in pins().items())


@pytest.mark.skipif(not installed_is_pinned(), reason="not the pinned venv (.venv-latest resolves anew)")
def test_constraints_pin_exactly_the_dependency_tree() -> None:
    tree, pinned = needed(), set(pins())
    assert not pinned - tree, f"pinned but nothing requires them: {sorted(pinned - tree)}"
    assert not tree - pinned, f"required but not pinned: {sorted(tree - pinned)}"
