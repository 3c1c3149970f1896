"""The DOL-ready PDFs: a coalition's quarterly performance report and the program-wide
summary (docs/exports.md).

Each is a page template rendered with the read models of ``reporting.selectors.reports``
and printed by WeasyPrint with the small print stylesheet (``static/css/print.css``; the
USWDS stylesheet would slow WeasyPrint down a lot and is not needed on paper), through a
URL fetcher that serves only the app's own static files (``reporting.pdf.fetcher``). The
PDFs are tagged PDF/UA-1 (structure tree, document language, title shown in the window)
so screen readers can read them, and use only the font that ships with the app (Liberation
Sans under static/vendor/fonts, named "BPIJ Liberation Sans" by ``@font-face`` in print.css and
fetched through the static fetcher): the fonts installed on the host play no part, so
the same inputs give the same PDF on every machine. Nothing is fetched from the network.

Callers (the exports worker, the ``export_report`` command) take care of access: these
functions read the roll-ups they are given the ids of.
"""

import logging

from django.template.loader import render_to_string
from weasyprint import HTML

from reporting import charts
from reporting.pdf.fetcher import BASE_URL, RefusedURL, StaticFilesFetcher, url_fetcher
from reporting.selectors import reports
from reporting.selectors.reports import ReportUnavailable

__all__ = [
    "RefusedURL",
    "ReportUnavailable",
    "coalition_report_html",
    "coalition_report_pdf",
    "program_summary_html",
    "program_summary_pdf",
    "render_pdf",
    "url_fetcher",
]

PDF_VARIANT = "pdf/ua-1"
# The one font family of the PDFs, declared by @font-face in static/css/print.css.
PDF_FONT = "BPIJ Liberation Sans"

# WeasyPrint logs every step of every render at INFO ("Step 5 - Creating layout - Page
# 3"): noise in a worker's log. Its warnings (a CSS rule it ignores) still show.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def render_pdf(html: str) -> bytes:
    """Print an HTML document as a tagged PDF, fetching nothing but static files."""
    # The charts are the dashboards' SVG, whose font-family names the web fonts of the
    # pages; on paper they take the PDF's own font, or the host would choose one.
    html = html.replace(f'font-family="{charts.FONT}"', f'font-family="{PDF_FONT}"')
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher())
    # PDF/UA-1 turns on tagging (structure tree, /MarkInfo, /Lang from <html lang>).
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def coalition_report_html(*, period_id: int, provenance: dict) -> str:
    """The page the coalition's report PDF is printed from."""
    report = reports.coalition_report(period_id=period_id, provenance=provenance)
    return render_to_string(
        "reporting/pdf/coalition_report.html",
        {"report": report, "provenance": report.provenance, "form": reports.FORM},
    )


def coalition_report_pdf(*, period_id: int, provenance: dict) -> bytes:
    """The coalition's quarterly performance report for the period, laid out after DOL's
    H-1B quarterly performance report (ETA-9173-H1B), from the period's roll-up."""
    return render_pdf(coalition_report_html(period_id=period_id, provenance=provenance))


def program_summary_html(*, quarter: str, provenance: dict, accepted_only: bool = False) -> str:
    """The page the program summary PDF is printed from; ``accepted_only``: the summary
    made for DOL, whose figures count accepted reports only."""
    from reporting.services.rollups import accepted_program_rows

    summary = reports.program_summary(
        quarter=quarter,
        provenance=provenance,
        accepted_segments=accepted_program_rows(quarter=quarter) if accepted_only else None,
    )
    return render_to_string(
        "reporting/pdf/program_summary.html",
        {"summary": summary, "provenance": summary.provenance, "form": reports.FORM},
    )


def program_summary_pdf(*, quarter: str, provenance: dict, accepted_only: bool = False) -> bytes:
    """Every coalition's key figures for the quarter, the program totals, breakdowns by
    sector, state and track, and submission timeliness."""
    return render_pdf(
        program_summary_html(quarter=quarter, provenance=provenance, accepted_only=accepted_only)
    )
