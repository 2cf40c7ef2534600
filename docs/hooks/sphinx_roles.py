"""mkdocs hook: render the reST that azcreds' docstrings use, on the API reference pages.

The docstrings are read by people in editors and by ``help()`` as much as here, so they keep
Sphinx's inline roles (``:class:`X```, ``:func:`~a.b.c```) and the ``::`` that opens a literal
block. Markdown shows those characters as they are; this hook turns a role into its code span
(``~`` keeping only the last dotted part, as Sphinx does) and drops the lone ``::`` paragraph in
front of a code block.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):<code>(~?)([^<]+)</code>")
_LITERAL_MARKER = re.compile(r"<p>::</p>\s*")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Rewrite the rendered page: roles to code spans, no ``::`` paragraphs."""
    return _LITERAL_MARKER.sub("", _ROLE.sub(_role, html))
