"""The PDF renderer reaches nothing but the app's own static files: the fetcher serves a
static file from disk and refuses file://, other hosts, data:, paths that climb out of
the static tree and missing files — and a refusal stops the render."""

from pathlib import Path

import pytest
from django.conf import settings
from weasyprint.urls import FatalURLFetchingError

from reporting import pdf
from reporting.pdf import fetcher

# WeasyPrint renders here: make test-fast leaves these to make test.
pytestmark = pytest.mark.pdf

PRINT_CSS = Path(settings.BASE_DIR) / "static" / "css" / "print.css"


@pytest.mark.parametrize(
    "url", ["/static/css/print.css", "https://app.bpij.invalid/static/css/print.css"]
)
def test_the_fetcher_serves_a_static_file_from_disk(url):
    response = pdf.url_fetcher(url)
    assert response.read() == PRINT_CSS.read_bytes()
    assert response.content_type == "text/css"


def test_the_fetcher_serves_collected_static_files_by_their_hashed_names(tmp_path, settings):
    # After collectstatic (manifest storage), templates name hashed copies in STATIC_ROOT.
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "print.0123abcd.css").write_text("body { color: black }")
    settings.STATIC_ROOT = tmp_path
    response = pdf.url_fetcher("/static/css/print.0123abcd.css")
    assert response.read() == b"body { color: black }"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"file://{PRINT_CSS}", "not one of the app's static files"),
        ("file:///etc/passwd", "not one of the app's static files"),
        ("http://example.com/style.css", "not one of the app's static files"),
        ("https://example.com/static/css/print.css", "not one of the app's static files"),
        ("https://app.bpij.invalid/media/exports/x.pdf", "not one of the app's static files"),
        ("data:text/css,body{color:red}", "not one of the app's static files"),
        ("/static/../bpij/settings.py", "does not name a file inside the static files"),
        ("/static/css/../../bpij/settings.py", "does not name a file inside the static files"),
        ("/static/%2e%2e/bpij/settings.py", "does not name a file inside the static files"),
        ("/static/css/nope.css", "there is no static file 'css/nope.css'"),
        ("/static/", "does not name a file inside the static files"),
    ],
)
def test_the_fetcher_refuses_anything_but_an_existing_static_file(url, why):
    with pytest.raises(fetcher.RefusedURL, match=why):
        pdf.url_fetcher(url)


def test_traversal_is_refused_even_where_static_root_holds_the_target(tmp_path, settings):
    (tmp_path / "static").mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    settings.STATIC_ROOT = tmp_path / "static"
    with pytest.raises(fetcher.RefusedURL):
        pdf.url_fetcher("/static/../secret.txt")


@pytest.mark.parametrize(
    "reference",
    [
        '<link rel="stylesheet" href="http://example.com/evil.css">',
        '<img src="file:///etc/hostname" alt="">',
        '<img src="https://example.com/tracker.png" alt="">',
        '<link rel="stylesheet" href="/static/css/missing.css">',
    ],
)
def test_a_document_naming_anything_outside_the_static_files_does_not_render(reference):
    html = (
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
        f"<body>{reference}<p>x</p></body></html>"
    )
    with pytest.raises(FatalURLFetchingError):
        pdf.render_pdf(html)


def test_a_document_with_the_print_stylesheet_renders():
    html = (
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        '<link rel="stylesheet" href="/static/css/print.css"></head><body><p>x</p></body></html>'
    )
    assert pdf.render_pdf(html).startswith(b"%PDF-")
