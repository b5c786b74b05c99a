"""The dashboard's one HTML page and its Content-Security-Policy: served by the app and
written whole into a saved report (``wattwise report --html``), which needs no server."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from importlib.resources import files
from typing import Any

_CSP_MARK = "<!-- wattwise:csp -->"
_VENDOR_MARK = "<!-- wattwise:vendor -->"
_APP_SCRIPT = '<script>\n"use strict";'
#: The vendored chart library (uPlot 1.6.32, MIT; see static/vendor/uplot/README.md).
VENDOR = "static/vendor/uplot"
VENDOR_FILES = {"uPlot.iife.min.js": "text/javascript", "uPlot.min.css": "text/css"}
#: What JSON may not carry verbatim inside a <script> element (``</script>``,
#: ``<!--``) or where JavaScript once ended a line; all are valid JSON escapes.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def page_html(data: dict[str, Any] | None = None) -> str:
    """The dashboard's one page; with ``data``, a saved report that needs no server.

    ``data`` goes in a ``<script type="application/json">`` block, escaped for that
    context, which the page reads as data: it is never run as script. The served
    page loads the chart library from the dashboard itself; a saved report carries
    it inline, so the file works alone. The page carries its Content-Security-Policy
    (no script or style but its own, by hash, and the library's; with ``data``, no
    network at all, not even its own origin).
    """
    page = _template()
    saved = data is not None
    policy = page_csp(connect="'none'" if saved else "'self'", meta=True, inline=saved)
    page = page.replace(
        _CSP_MARK, f'<meta http-equiv="Content-Security-Policy" content="{policy}">', 1
    )
    if saved:
        js, css = vendor_text("uPlot.iife.min.js"), vendor_text("uPlot.min.css")
        page = page.replace(_VENDOR_MARK, f"<style>{css}</style>\n<script>{js}</script>", 1)
        block = f'<script type="application/json" id="wattwise-data">{script_json(data)}</script>\n'
        page = page.replace(_APP_SCRIPT, block + _APP_SCRIPT, 1)
    else:
        page = page.replace(
            _VENDOR_MARK,
            '<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n'
            '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">\n'
            '<script src="/static/vendor/uplot/uPlot.iife.min.js"></script>', 1,
        )
    return page


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element; a number that is
    not finite (which JSON cannot carry) is written as null (``json_safe``)."""
    text = json.dumps(json_safe(value)[0], ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group()], text)


def json_safe(value: Any) -> tuple[Any, int]:
    """``value`` with every float that is not finite replaced by None, and how many were.

    A stored record can hold an infinity (SQLite keeps one; a summary written with
    Python's default ``json.dumps`` can hold ``NaN``), which JSON cannot carry: the API
    and a saved report write it as null, with a note, never invalid JSON or a failure.
    """
    if isinstance(value, float):
        return (value, 0) if math.isfinite(value) else (None, 1)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        count = 0
        for k, v in value.items():
            out[k], n = json_safe(v)
            count += n
        return out, count
    if isinstance(value, (list, tuple)):
        items = [json_safe(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def non_finite_note(count: int) -> str:
    """The note a payload carries when stored numbers that are not finite were written as null."""
    return (f"{count} stored figure(s) were not finite numbers (an infinity or NaN in the "
            "record) and are shown as null")


def page_csp(*, connect: str = "'self'", meta: bool = False, inline: bool = False) -> str:
    """The Content-Security-Policy of the page: its own script and style by hash, and the
    chart library's, from this dashboard (``'self'``) or, ``inline`` in a saved report,
    by hash.

    ``meta``: the form for a ``<meta>`` element, which cannot carry ``frame-ancestors``.
    """
    script, style = _hashes()
    if inline:
        lib_js = _digest(vendor_text("uPlot.iife.min.js"))
        lib_css = _digest(vendor_text("uPlot.min.css"))
        scripts, styles = f"'{script}' '{lib_js}'", f"'{style}' '{lib_css}'"
    else:
        scripts, styles = f"'self' '{script}'", f"'self' '{style}'"
    images = "'none'" if inline else "'self'"
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; "
        f"connect-src {connect}; img-src {images}; base-uri 'none';"
        " form-action 'none'"
    )
    return policy if meta else policy + "; frame-ancestors 'none'"


@functools.cache
def vendor_text(name: str) -> str:
    """A file of the vendored chart library, checked safe to inline in a ``<script>``."""
    if name not in VENDOR_FILES:
        raise KeyError(name)
    text = files("wattwise.server").joinpath(f"{VENDOR}/{name}").read_text("utf-8")
    if re.search(r"</(script|style)|<!--", text, re.I):  # pragma: no cover - drift guard
        raise RuntimeError(f"{name} cannot be inlined in a page as it is")
    return text


@functools.cache
def static_text(name: str) -> str:
    """A file of the page's ``static`` folder (the icon)."""
    return files("wattwise.server").joinpath(f"static/{name}").read_text("utf-8")


@functools.cache
def _template() -> str:
    page = files("wattwise.server").joinpath("static/index.html").read_text("utf-8")
    if (_CSP_MARK not in page or _VENDOR_MARK not in page
            or page.count(_APP_SCRIPT) != 1):  # pragma: no cover - drift guard
        raise RuntimeError("dashboard page has lost its CSP, library or script marker")
    return page


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@functools.cache
def _hashes() -> tuple[str, str]:
    page = _template()

    def body(open_tag: str, close_tag: str) -> str:
        start = page.index(open_tag) + len(open_tag)
        return page[start : page.index(close_tag, start)]

    return _digest(body("<script>", "</script>")), _digest(body("<style>", "</style>"))
