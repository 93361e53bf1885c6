"""A report as PDF: WeasyPrint over the report page's own sections (``reports/print.html``
includes the templates the page shows), so the PDF holds the same figures, charts and
tables as the page."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from helpdesk.reports.presentation import report_context
from helpdesk.reports.report import Report


def report_html(report: Report, *, language: str = "en") -> str:
    """The printable page: the report page's sections and charts, without the filters."""
    with translation.override(language):
        return render_to_string("reports/print.html", report_context(report))


def report_pdf(report: Report, *, language: str = "en") -> bytes:
    """The report as a PDF document, in ``language``."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=report_html(report, language=language)).write_pdf()
    return pdf
