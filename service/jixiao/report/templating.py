"""The Jinja2 environments the Markdown and HTML reports are written with, over the
templates/ folder of this package. HTML autoescapes every value: pack and caller texts are
untrusted. Markdown escapes through the `md` and `cell` filters (markdown.py)."""

from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=2)
def environment(html: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jixiao.report", "templates"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,  # a misspelt name in a template fails, not prints ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
