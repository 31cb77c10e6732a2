"""Inline the vendored JavaScript/CSS (``layout/assets``) into a rendered HTML page.

folium links Leaflet and its plugins from public CDNs. The map builder replaces those links by
``layout-asset:<relative path>`` pseudo-URLs (:func:`asset_js` / :func:`asset_css`), and
:func:`inline_assets` then swaps each such ``<script src>`` / ``<link href>`` for an inline
``<script>`` / ``<style>`` with the file's content; images referenced by the CSS become ``data:``
URIs. :func:`remote_asset_refs` lists any asset still loaded from a remote host, so callers can
refuse to write a page that would not work offline.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
from html.parser import HTMLParser
from pathlib import Path

from layout.errors import LayoutError

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"
"""Folder of the vendored assets (see its README.md for versions, sources and licences)."""
SCHEME = "layout-asset:"

_SCRIPT_LINK = re.compile(r'<script src="layout-asset:(?P<rel>[^"]+)"></script>')
_CSS_LINK = re.compile(r'<link rel="stylesheet" href="layout-asset:(?P<rel>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<ref>[^)'\"]+)(?P=q)\)")


def asset_js(rel: str) -> str:
    """Return the pseudo-URL of a vendored JavaScript file, e.g. ``leaflet/leaflet.js``."""
    _asset_file(rel)
    return SCHEME + rel


def asset_css(rel: str) -> str:
    """Return the pseudo-URL of a vendored CSS file, e.g. ``leaflet/leaflet.css``."""
    _asset_file(rel)
    return SCHEME + rel


def _asset_file(rel: str) -> Path:
    path = (ASSET_DIR / rel).resolve()
    if ASSET_DIR not in path.parents or not path.is_file():
        raise LayoutError(f"vendored asset not found: {rel!r} (looked in {ASSET_DIR})")
    return path


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@functools.cache
def inline_js(rel: str) -> str:
    """Return the text of a vendored script, safe inside ``<script>...</script>``."""
    text = _asset_file(rel).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


@functools.cache
def inline_css(rel: str) -> str:
    """Return the text of a vendored stylesheet with its relative ``url()`` images inlined."""
    path = _asset_file(rel)
    text = path.read_text(encoding="utf-8")

    def repl(match: re.Match[str]) -> str:
        ref = match["ref"]
        if ref.startswith(("#", "data:")):
            return match.group(0)
        if "://" in ref or ref.startswith("//"):
            raise LayoutError(f"{rel}: remote url({ref}) cannot be inlined")
        target = (path.parent / ref).resolve()
        if not target.is_file():
            raise LayoutError(f"{rel}: url({ref}) points to a file that is not vendored")
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(repl, text).replace("</style", "<\\/style")


def inline_assets(html: str) -> str:
    """Replace every ``layout-asset:`` link in ``html`` by the inline file content.

    Parameters
    ----------
    html : str
        A rendered page whose asset links use :func:`asset_js` / :func:`asset_css` URLs.

    Returns
    -------
    str
        The page with inline ``<script>`` and ``<style>`` elements.

    Raises
    ------
    LayoutError
        If an asset is missing or a ``layout-asset:`` reference is left in an unknown form.

    """
    html = _SCRIPT_LINK.sub(lambda m: f"<script>\n{inline_js(m['rel'])}\n</script>", html)
    html = _CSS_LINK.sub(lambda m: f"<style>\n{inline_css(m['rel'])}\n</style>", html)
    if SCHEME in html:
        start = html.index(SCHEME)
        raise LayoutError(f"unresolved asset reference near: {html[max(0, start - 60):start + 60]!r}")
    return html


class _RefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in {"src", "href", "data", "poster", "srcset"}:
                self.refs.append((tag, value.strip()))


def remote_asset_refs(html: str) -> list[str]:
    """Return the URLs of elements in ``html`` that would load something from a remote host.

    Looks at ``src``/``href``/``srcset`` attributes of every tag but ``<a>`` (``<script>``,
    ``<link>``, ``<img>``, ``<iframe>``, ...) and at ``url(...)`` and ``@import`` in inline styles. ``data:``
    and fragment URLs are local; anything with a scheme other than ``data``/``file`` or a
    protocol-relative ``//host`` URL is remote. Tile URLs inside scripts are not assets and are
    not reported (tiles are opt-in).
    """
    collector = _RefCollector()
    collector.feed(html)
    urls = [url for tag, url in collector.refs if tag != "a"]
    for style in re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL | re.IGNORECASE):
        urls += [m["ref"] for m in _CSS_URL.finditer(style)]
        urls += re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)", style)
    return [u for u in urls if _is_remote(u)]


def _is_remote(url: str) -> bool:
    low = url.strip().lower()
    if low.startswith(("data:", "#", "file:", "about:", "javascript:void")):
        return False
    return low.startswith("//") or re.match(r"^[a-z][a-z0-9+.-]*:", low) is not None
