"""The day's compliance report as a PDF (docs/dashboard.md): the same figures as its page, in a CJK font.

fpdf2 writes the file in pure Python and embeds only the glyphs used from the font named by
``LIVEWARD_REPORT_FONT`` (Noto Sans CJK by default, Debian's fonts-noto-cjk). Labels come from the
same translations as the page, in the language active when it is rendered.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from moderation.audit_catalogue import audit_spec
from moderation.errors import ModerationError
from moderation.models import Finding

FONT = "liveward-cjk"
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def _font_path() -> str:
    path = Path(settings.LIVEWARD_REPORT_FONT)
    if not path.is_file():
        raise ModerationError(
            f"the report font {str(path)[:120]!r} is missing (LIVEWARD_REPORT_FONT; Debian: fonts-noto-cjk)",
            code="unavailable",
        )
    return str(path)


def _table(pdf: FPDF, rows: list[tuple[str, ...]], *, widths: tuple[int, ...]) -> None:
    if not rows:
        rows = [(_("None."),) + ("",) * (len(widths) - 1)]
    with pdf.table(col_widths=widths, first_row_as_headings=False, line_height=7) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(str(value))


def _heading(pdf: FPDF, text: str, *, size: int) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, size=size)
    pdf.cell(0, size * 0.6, text, **NEXT_LINE)
    pdf.ln(1)
    pdf.set_font(FONT, size=10)


def _audit_label(name: str) -> str:
    spec = audit_spec(name)
    return str(spec.label) if spec is not None else name


def _severity_label(severity: str) -> str:
    return str(Finding.Severity(severity).label) if severity in Finding.Severity.values else severity


def compliance_report_pdf(report: dict) -> bytes:
    """Render the figures ``compliance_report(day)`` returns as a PDF file."""
    font = _font_path()
    day = report["day"].isoformat()
    title = _("Compliance report for %(day)s") % {"day": day}
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Liveward")
    pdf.add_font(FONT, fname=font)
    pdf.add_page()
    _heading(pdf, title, size=16)
    pdf.cell(0, 6, _("Made at %(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, **NEXT_LINE)
    latency, now = report["cut_latency"], report["now"]
    cut = (
        f"{latency['p50_ms']:.0f} ms / {latency['p99_ms']:.0f} ms "
        f"({_('%(count)s confirmed cuts') % {'count': latency['count']}})"
        if latency["count"]
        else "—"
    )
    staff = str(now["on_duty"])
    if now["load_per_patroller"] is not None:
        staff += " · " + _("%(load)s weighted streams each") % {"load": now["load_per_patroller"]}
    _table(
        pdf,
        [
            (_("Streams started"), report["streams_started"]),
            (_("Cut latency p50 / p99"), cut),
            (_("Live now / overdue a patrol"), f"{now['live']} / {now['overdue']} ({now['covered_percent']}%)"),
            (_("Staff on duty now"), staff),
            (_("Unresolved findings"), report["findings"]["unresolved"]),
        ],
        widths=(60, 120),
    )
    _heading(pdf, _("Actions"), size=13)
    _table(pdf, [(str(label), count) for label, count in report["actions"]], widths=(120, 60))
    _heading(pdf, _("Gate denials"), size=13)
    _table(pdf, [(str(label), count) for label, count in report["denials"]], widths=(120, 60))
    _heading(pdf, _("Findings"), size=13)
    _table(
        pdf,
        [
            (_audit_label(audit), _severity_label(severity), count)
            for (audit, severity), count in report["findings"]["by_audit"]
        ],
        widths=(110, 40, 30),
    )
    return bytes(pdf.output())
