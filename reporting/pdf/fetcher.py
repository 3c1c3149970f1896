"""The only way a PDF being rendered reaches anything outside its own HTML: the app's
own static files, read from disk.

WeasyPrint fetches every stylesheet, image and font a document names through a URL
fetcher. Ours serves ``/static/<path>`` (resolved against a base URL on a reserved
``.invalid`` host, RFC 2606, so nothing can ever be looked up on the network) from
``STATIC_ROOT`` after ``collectstatic`` (where the hashed names of the manifest storage
live) or from the staticfiles finders, and refuses everything else — ``file://``, any
other host, ``data:``, a path that climbs out of the static tree, a missing file — by
raising. The renderer treats a refusal as fatal (``fail_on_errors``), so a template
that names something outside the app fails loudly instead of fetching it or quietly
leaving it out.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs in a document resolve against this base; the host can never exist.
BASE_URL = "https://app.bpij.invalid/"


class RefusedURL(ValueError):
    """A URL the PDF renderer may not fetch."""


def _static_prefixes() -> list[str]:
    static_url = settings.STATIC_URL or "/static/"
    prefixes = [urljoin(BASE_URL, static_url)]
    if not urlsplit(static_url).scheme:
        prefixes.append(static_url)
    return prefixes


def static_path(url: str) -> Path:
    """The file on disk a static URL names, or RefusedURL saying why not."""
    for prefix in _static_prefixes():
        if url.startswith(prefix):
            relative = urlsplit(url[len(prefix) :]).path
            break
    else:
        raise RefusedURL(
            f"{url[:200]!r} is not one of the app's static files: a PDF may only use files "
            f"under {settings.STATIC_URL} (file://, data: and other hosts are refused)."
        )
    relative = unquote(relative)
    segments = relative.split("/")
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or any(part in ("", ".", "..") for part in segments)
    ):
        raise RefusedURL(f"{url[:200]!r} does not name a file inside the static files.")
    root = Path(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    if root is not None:
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root.resolve()) and candidate.is_file():
            return candidate
    found = finders.find(relative)
    if isinstance(found, list):  # find(all=True) shape; we asked for the first match
        found = found[0] if found else None
    if not found:
        raise RefusedURL(f"{url[:200]!r}: there is no static file {relative!r}.")
    return Path(found)


class StaticFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher, narrowed to the app's static files."""

    def __init__(self) -> None:
        # No protocol at all for the parent's opener: it is never used.
        super().__init__(allowed_protocols=(), fail_on_errors=True)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = static_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )


url_fetcher = StaticFilesFetcher()
