"""The deposit receipt (« accusé de dépôt », R-AFT-4): one PDF builder for every kind of deposit.

A deposit (an enrolment, a funding request's version, a modification ENR…Mn) is first
turned into a ``Receipt``: plain values, the documents with their size and SHA-256, and the
SHA-256 of the submitted data. ``render_pdf`` draws any ``Receipt``. A new kind of deposit only
needs a function that builds its ``Receipt``.

ReportLab draws the PDF: pure Python, no system library, so `make run` works on a fresh machine
(WeasyPrint would need Pango and its fonts from Debian). The QR code's modules come from the
`qrcode` package and are drawn as vector squares: sharp at any zoom or print size.

The PDF is made from stored values only and ReportLab runs in its « invariant » mode (no creation
date, fixed document id): the same deposit always gives the same bytes, whether it is downloaded
today or attached to a mail the worker sends again.

« Submitted data » (its SHA-256 is printed on the receipt): the JSON text of ``submitted_data()``
— the values the vendor sent, under the model's field names, the IBAN without blanks in capitals,
the documents as (kind or name, original name, size, SHA-256) sorted — written with sorted keys,
no blanks between items (separators ``,`` and ``:``), non-ASCII characters as they are, encoded in
UTF-8. Anyone holding the values can compute it again (``canonical_sha256``). For a modification
ENR…Mn (``modification_submitted_data``) the values are its blocks and its new values only, and the
documents its new ones; the same for the compléments of an « A compléter » round
(``correction_submitted_data``).
"""

import hashlib
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import qrcode
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from enrolment.field_groups import Applicant, Bank, Company

DATA_FORMAT_ENROLMENT = "segurnum/accuse-de-depot/enrolement/1"
DATA_FORMAT_FUNDING = "segurnum/accuse-de-depot/financement/1"
DATA_FORMAT_MODIFICATION = "segurnum/accuse-de-depot/modification/1"
DATA_FORMAT_CORRECTION = "segurnum/accuse-de-depot/complements/1"

# The request's values, as the vendor sent them (R-WIZ-2..6), in the order of the wizard: the
# software found at step 1, the field groups (defined once, enrolment.field_groups), the rate.
ENROLMENT_SUBMITTED_FIELDS = (
    "referencing_number",
    "software_name",
    "software_version",
    "dsr_label",
    *Company.names(),
    "is_distributor",
    *Applicant.names(),
    *Bank.names(),
    "vat_rate",
)


@dataclass(frozen=True)
class ReceiptDocument:
    label: str  # what the piece is (« RIB », « Fichier json »…)
    name: str  # the file's name as the vendor sent it
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    kind: str  # « Demande d'enrôlement », « Demande de financement », « Demande de modification »
    number: str
    submitted_at: datetime
    software: str
    siret: str
    denomination: str
    representative: str
    documents: list[ReceiptDocument]
    data_sha256: str
    tracking_url: str
    tracking_label: str
    tracking_hint: str
    details: list[tuple[str, str]] = field(default_factory=list)
    # « Nouvelles valeurs » of a modification: (label, new value), drawn under their own heading.
    changes: list[tuple[str, str]] = field(default_factory=list)
    file_suffix: str = ""  # « -version-2 » for a funding request's second version

    @property
    def filename(self) -> str:
        return f"accuse-de-depot-{self.number}{self.file_suffix}.pdf"


# --- the submitted data and its digest ---------------------------------------------------------------


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def canonical_sha256(data: Any) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def enrolment_submitted_data(enrolment) -> dict[str, Any]:
    values = {name: getattr(enrolment, name) for name in ENROLMENT_SUBMITTED_FIELDS}
    values["iban"] = "".join(values["iban"].split()).upper()
    pieces = sorted(
        (
            {"kind": d.kind, "name": d.original_name, "size": d.size, "sha256": d.sha256}
            for d in enrolment.documents.all()
        ),
        key=lambda piece: piece["kind"],
    )
    return {"format": DATA_FORMAT_ENROLMENT, "values": values, "documents": pieces}


def funding_submitted_data(version) -> dict[str, Any]:
    request = version.request
    pieces = sorted(
        ({"name": d.name, "size": d.size, "sha256": d.sha256} for d in version.documents.all()),
        key=lambda piece: piece["name"],
    )
    return {
        "format": DATA_FORMAT_FUNDING,
        "values": {
            "enrolment": request.enrolment.number,
            "siret": request.siret,
            "version": version.number,
            "json_name": version.json_name,
            "json_size": version.json_size,
            "json_sha256": version.json_sha256,
            "zip_name": version.zip_name,
            "beneficiary_count": version.beneficiary_count,
            "amount_ht": str(version.amount_ht),
            "amount_ttc": str(version.amount_ttc),
            "vat_rate": version.vat_rate,
        },
        "documents": pieces,
    }


def modification_submitted_data(version) -> dict[str, Any]:
    """A modification ENR…Mn: its number, the enrolment's, the blocks chosen (in the form's
    order), the new values only (IBAN compacted in capitals) and the new documents by kind."""
    return {
        "format": DATA_FORMAT_MODIFICATION,
        "number": version.number,
        "enrolment": version.enrolment.number,
        "blocks": list(version.blocks),
        "values": _compacted(version.values),
        "documents": _pieces(version.documents),
    }


def correction_submitted_data(round_) -> dict[str, Any]:
    """The compléments of an « A compléter » round: the request's number, the round's, the items
    the agent asked for, the values sent (IBAN compacted in capitals) and the documents by kind."""
    return {
        "format": DATA_FORMAT_CORRECTION,
        "number": round_.enrolment.number,
        "round": round_.number,
        "items": list(round_.items),
        "values": _compacted(round_.values),
        "documents": _pieces(round_.documents),
    }


def _compacted(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if "iban" in values:
        values["iban"] = "".join(str(values["iban"]).split()).upper()
    return values


def _pieces(documents: dict[str, dict]) -> list[dict[str, Any]]:
    return sorted(
        (
            {"kind": kind, "name": meta["name"], "size": meta["size"], "sha256": meta["sha256"]}
            for kind, meta in documents.items()
        ),
        key=lambda piece: piece["kind"],
    )


IDENTITY_FIELDS = ("denomination", "representative_first_name", "representative_last_name")


def _in_force_when_sent(enrolment, replaced: dict[str, Any], later: list) -> dict[str, Any]:
    """The denomination and representative in force when a deposit was sent: those it replaced,
    as it stored them, and for the others today's values with every later change undone
    (``later``: what replaced values since, newest first, each with its ``previous_values``)."""

    def value(name: str) -> Any:
        if name in replaced:
            return replaced[name]
        current = getattr(enrolment, name)
        for change in later:
            if name in change.previous_values:
                current = change.previous_values[name]
        return current

    return {name: value(name) for name in IDENTITY_FIELDS}


def _validated_modifications(enrolment, after: int = 0) -> list:
    return list(enrolment.versions.filter(index__gt=after, status="validated").order_by("-index"))


def values_at_submission(version) -> dict[str, Any]:
    """A modification's: one pending modification at a time, so none was pending while it was."""
    return _in_force_when_sent(
        version.enrolment, version.previous_values, _validated_modifications(version.enrolment, version.index)
    )


def values_at_correction(round_) -> dict[str, Any]:
    """An « A compléter » round's: later rounds come before any modification (the request is
    validated after its rounds)."""
    enrolment = round_.enrolment
    rounds = enrolment.correction_rounds.filter(number__gt=round_.number, answered_at__isnull=False)
    later = _validated_modifications(enrolment) + list(rounds.order_by("-number"))
    return _in_force_when_sent(enrolment, round_.previous_values, later)


def _new_values(values: dict[str, Any], names) -> list[tuple[str, str]]:
    """The new values as a person reads them, the IBAN masked as on the private space."""
    from enrolment.amendments import display, item_label

    return [
        (item_label(name), display(name, values[name], masked=True) or "(vide)") for name in names if name in values
    ]


# --- building receipts -------------------------------------------------------------------------------


def status_check_url() -> str:
    """« Suivre ma demande », absolute: from SITE_URL (never from the request's Host header)."""
    return settings.SITE_URL + reverse("tracking:status")


def enrolment_receipt(enrolment) -> Receipt:
    documents = [
        ReceiptDocument(label=d.get_kind_display(), name=d.original_name, size=d.size, sha256=d.sha256)
        for d in sorted(enrolment.documents.all(), key=lambda d: d.kind)
    ]
    return Receipt(
        kind="Demande d'enrôlement",
        number=enrolment.number,
        submitted_at=enrolment.submitted_at,
        software=f"{enrolment.software_name} (version {enrolment.software_version}) — "
        f"N° unique de référencement (ANS) {enrolment.referencing_number}",
        siret=enrolment.siret,
        denomination=enrolment.denomination,
        representative=enrolment.representative_name,
        documents=documents,
        data_sha256=canonical_sha256(enrolment_submitted_data(enrolment)),
        tracking_url=status_check_url(),
        tracking_label="Suivre ma demande",
        tracking_hint=f"pour connaître l'état de votre demande : saisissez son numéro {enrolment.number} et votre "
        "numéro de SIRET.",
        details=[("Taux TVA", enrolment.get_vat_rate_display())],
    )


def funding_receipt(funding, version=None) -> Receipt:
    """The receipt of one version of a funding request (the current one by default): each version
    sent after « A modifier » is a deposit of its own."""
    version = version or funding.current_version
    enrolment = funding.enrolment
    documents = [
        ReceiptDocument(
            label="Fichier json", name=version.json_name, size=version.json_size, sha256=version.json_sha256
        )
    ]
    documents += [
        ReceiptDocument(label="Pièce du fichier zip", name=d.name, size=d.size, sha256=d.sha256)
        for d in version.documents.order_by("name")
    ]
    return Receipt(
        kind="Demande de financement",
        number=funding.number,
        submitted_at=version.created_at,
        software=f"{enrolment.software_name} (version {enrolment.software_version}) — enrôlement {enrolment.number}",
        siret=funding.siret,
        denomination=enrolment.denomination,
        representative=enrolment.representative_name,
        documents=documents,
        data_sha256=canonical_sha256(funding_submitted_data(version)),
        tracking_url=settings.SITE_URL + reverse("portal:funding"),
        tracking_label="Suivi de ma demande de financement",
        tracking_hint="et connectez-vous à votre espace pour suivre votre demande de financement.",
        details=[
            ("Version", str(version.number)),
            ("Bénéficiaires", str(version.beneficiary_count)),
            ("Montant HT", f"{_grouped(version.amount_ht)} €"),
            ("Montant TTC", f"{_grouped(version.amount_ttc)} €"),
            ("Fichier zip", version.zip_name or "aucun"),
        ],
        file_suffix=f"-version-{version.number}",
    )


def modification_receipt(version) -> Receipt:
    """The receipt of a modification ENR…Mn (R-AFT-2): the new values and documents it sent; the
    denomination and representative in force when it was submitted. Its status is not on it: the
    same modification gives the same bytes before and after an agent decides it."""
    from enrolment.amendments import BLOCKS_BY_SLUG

    enrolment = version.enrolment
    in_force = values_at_submission(version)
    blocks = [BLOCKS_BY_SLUG[slug] for slug in version.blocks if slug in BLOCKS_BY_SLUG]
    return Receipt(
        kind="Demande de modification",
        number=version.number,
        submitted_at=version.submitted_at,
        software=f"{enrolment.software_name} (version {enrolment.software_version}) — enrôlement {enrolment.number}",
        siret=enrolment.siret,
        denomination=in_force["denomination"],
        representative=_representative(in_force),
        documents=_receipt_documents(version.documents),
        data_sha256=canonical_sha256(modification_submitted_data(version)),
        tracking_url=status_check_url(),
        tracking_label="Suivre ma demande",
        tracking_hint=f"pour connaître l'état de votre enrôlement : saisissez son numéro {enrolment.number} et votre "
        f"numéro de SIRET. L'instruction de la demande de modification {version.number} se suit dans votre espace.",
        details=[
            ("Enrôlement modifié", enrolment.number),
            ("Blocs modifiés", ", ".join(block.title for block in blocks)),
        ],
        changes=_new_values(version.values, [name for block in blocks for name in block.fields]),
    )


def correction_receipt(round_) -> Receipt:
    """The receipt of the compléments sent for an « A compléter » round (R-AFT-1): the request
    keeps its number; the values and documents sent, the items the agent asked for."""
    from enrolment.amendments import CORRECTABLE

    enrolment = round_.enrolment
    in_force = values_at_correction(round_)
    return Receipt(
        kind="Compléments de la demande d'enrôlement",
        number=enrolment.number,
        submitted_at=round_.answered_at,
        software=f"{enrolment.software_name} (version {enrolment.software_version}) — "
        f"N° unique de référencement (ANS) {enrolment.referencing_number}",
        siret=enrolment.siret,
        denomination=in_force["denomination"],
        representative=_representative(in_force),
        documents=_receipt_documents(round_.documents),
        data_sha256=canonical_sha256(correction_submitted_data(round_)),
        tracking_url=status_check_url(),
        tracking_label="Suivre ma demande",
        tracking_hint=f"pour connaître l'état de votre demande : saisissez son numéro {enrolment.number} et votre "
        "numéro de SIRET.",
        details=[
            ("Demande de compléments", f"n° {round_.number}"),
            ("Éléments demandés", ", ".join(round_.item_labels)),
        ],
        changes=_new_values(round_.values, CORRECTABLE),
        file_suffix=f"-complements-{round_.number}",
    )


def _representative(values: dict[str, Any]) -> str:
    return f"{values['representative_first_name']} {values['representative_last_name'].upper()}"


def _receipt_documents(documents: dict[str, dict]) -> list[ReceiptDocument]:
    from enrolment.models import EnrolmentDocument

    return [
        ReceiptDocument(
            label=EnrolmentDocument.Kind(kind).label, name=meta["name"], size=meta["size"], sha256=meta["sha256"]
        )
        for kind, meta in sorted(documents.items())
    ]


# --- drawing the PDF ---------------------------------------------------------------------------------

BLUE_FRANCE = colors.HexColor("#000091")
GREY = colors.HexColor("#666666")
LIGHT = colors.HexColor("#eeeeee")
MARGIN = 18 * mm
QR_SIZE = 38 * mm
DOCUMENTS_PER_TABLE = 25
FRAME_PADDING = 6  # ReportLab's frames keep 6 points inside the margins
# Page streams compressed, not also ASCII85-encoded: a quarter smaller and, without ReportLab's
# optional C accelerator, much faster for a receipt of 2 000 pieces.
rl_config.useA85 = 0

_BASE = ParagraphStyle("base", fontName="Helvetica", fontSize=9.5, leading=12.5, alignment=TA_LEFT)
STYLES = {
    "base": _BASE,
    "small": ParagraphStyle("small", parent=_BASE, fontSize=8, leading=10, textColor=GREY),
    "brand": ParagraphStyle("brand", parent=_BASE, fontName="Helvetica-Bold", fontSize=9, textColor=BLUE_FRANCE),
    "title": ParagraphStyle("title", parent=_BASE, fontName="Helvetica-Bold", fontSize=20, leading=24, spaceAfter=2),
    "subtitle": ParagraphStyle("subtitle", parent=_BASE, fontSize=12, leading=15, spaceAfter=8),
    "h2": ParagraphStyle(
        "h2", parent=_BASE, fontName="Helvetica-Bold", fontSize=12, leading=15, spaceBefore=10, spaceAfter=4
    ),
    "label": ParagraphStyle("label", parent=_BASE, fontName="Helvetica-Bold"),
    "hash": ParagraphStyle("hash", parent=_BASE, fontName="Courier", fontSize=8.5, leading=10.5),
}


def _text(value: Any) -> str:
    """Escaped for ReportLab's markup, limited to what the PDF's standard fonts can show (Windows
    code page 1252): any other character (a control or bidi character in a file name…) becomes
    « ? » rather than a wrong glyph."""
    text = str(value).encode("cp1252", errors="replace").decode("cp1252")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return escape(text)


def _grouped(number: Any) -> str:
    integer, _, decimals = f"{number}".partition(".")
    grouped = f"{int(integer):,}".replace(",", " ")
    return f"{grouped},{decimals}" if decimals else grouped


def paris_time(moment: datetime) -> str:
    local = timezone.localtime(moment, timezone=_paris())
    return f"{local:%d/%m/%Y à %H:%M:%S} (heure de Paris)"


def _paris():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


class QrCode(Flowable):
    """The QR code of ``url``, modules drawn as filled squares, linked to the URL as well."""

    def __init__(self, url: str, size: float = QR_SIZE) -> None:
        super().__init__()
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(url)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.url = url
        self.width = self.height = size

    def draw(self) -> None:
        canvas = self.canv
        count = len(self.matrix)
        module = self.width / count
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for row, cells in enumerate(self.matrix):
            for column, dark in enumerate(cells):
                if dark:
                    y = self.height - (row + 1) * module
                    canvas.rect(column * module, y, module, module, stroke=0, fill=1)
        canvas.linkURL(self.url, (0, 0, self.width, self.height), relative=1)


def _key_values(rows: Iterable[tuple[str, str]]) -> Table:
    data = [[Paragraph(_text(k), STYLES["label"]), Paragraph(_text(v), STYLES["base"])] for k, v in rows]
    table = Table(data, colWidths=[48 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LIGHT),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _cell(value: str, width: float) -> str | Paragraph:
    """Short text as a plain cell (fast: a funding request lists up to 2 000 pieces); text that
    would not fit on one line as a wrapping paragraph."""
    if stringWidth(value, "Helvetica", _BASE.fontSize) <= width - 12:
        return _plain(value)
    return Paragraph(_text(value), STYLES["base"])


def _plain(value: Any) -> str:
    return html.unescape(_text(value))


def _documents_table(documents: list[ReceiptDocument]) -> Table:
    label_width, size_width = 55 * mm, 32 * mm
    name_width = A4[0] - 2 * (MARGIN + FRAME_PADDING) - label_width - size_width
    data: list[list] = [["Pièce", "Fichier", "Taille"]]
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", _BASE.fontSize, _BASE.leading),
        ("FONT", (0, 1), (-1, -1), "Helvetica", _BASE.fontSize, _BASE.leading),
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for document in documents:
        data.append(
            [
                _cell(document.label, label_width),
                _cell(document.name, name_width),
                f"{_grouped(document.size)} octets",
            ]
        )
        data.append([f"SHA-256 : {document.sha256}", "", ""])
        row = len(data) - 1
        style += [
            ("SPAN", (0, row), (-1, row)),
            ("FONT", (0, row), (-1, row), "Courier", 8.5, 10.5),
            ("LINEBELOW", (0, row), (-1, row), 0.5, GREY),
        ]
    table = Table(data, colWidths=[label_width, name_width, size_width], hAlign="LEFT", repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _footer(canvas, document) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7.5)
    canvas.setFillColor(GREY)
    footer = f"Accusé de dépôt {document.receipt_number} — page {document.page}"
    canvas.drawString(MARGIN + FRAME_PADDING, 10 * mm, footer)
    canvas.restoreState()


def render_pdf(receipt: Receipt) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Accusé de dépôt {receipt.number}",
        author="Agence de services et de paiement",
        subject=receipt.kind,
        creator="Portail Ségur Numérique",
        lang="fr-FR",
        invariant=1,
    )
    document.receipt_number = receipt.number
    story: list[Flowable] = [
        Paragraph("Agence de services et de paiement — Portail Ségur Numérique", STYLES["brand"]),
        Spacer(1, 6 * mm),
        Paragraph("Accusé de dépôt", STYLES["title"]),
        Paragraph(_text(f"{receipt.kind} {receipt.number}"), STYLES["subtitle"]),
        _key_values(
            [
                ("Numéro de la demande", receipt.number),
                ("Déposée le", paris_time(receipt.submitted_at)),
                ("Logiciel", receipt.software),
                ("Numéro de SIRET", receipt.siret),
                ("Dénomination sociale", receipt.denomination),
                ("Représentant", receipt.representative),
                *receipt.details,
            ]
        ),
    ]
    if receipt.changes:
        story += [Paragraph("Nouvelles valeurs", STYLES["h2"]), _key_values(receipt.changes)]
    story.append(Paragraph("Pièces déposées", STYLES["h2"]))
    # Tables of a few dozen rows: a single table of 2 000 pieces would be split page after page,
    # each split laying out the whole remainder again (minutes instead of seconds).
    for start in range(0, len(receipt.documents), DOCUMENTS_PER_TABLE):
        story.append(_documents_table(receipt.documents[start : start + DOCUMENTS_PER_TABLE]))
    if not receipt.documents:
        story.append(Paragraph("Aucune pièce.", STYLES["base"]))
    story += [
        Paragraph("Empreinte des données déposées", STYLES["h2"]),
        Paragraph(f"SHA-256 : {receipt.data_sha256}", STYLES["hash"]),
        Paragraph(
            "Empreinte SHA-256 du texte JSON des valeurs saisies et de la liste des pièces (nom, taille, "
            "empreinte), clés triées, encodé en UTF-8. Elle permet de vérifier que la demande conservée par "
            "l'ASP est celle que vous avez déposée.",
            STYLES["small"],
        ),
        Spacer(1, 6 * mm),
        KeepTogether(
            [
                Paragraph(_text(receipt.tracking_label), STYLES["h2"]),
                Table(
                    [
                        [
                            QrCode(receipt.tracking_url),
                            Paragraph(
                                f"Flashez ce code ou rendez-vous sur {_text(receipt.tracking_url)} "
                                f"{_text(receipt.tracking_hint)}",
                                STYLES["base"],
                            ),
                        ]
                    ],
                    colWidths=[QR_SIZE + 6 * mm, None],
                    hAlign="LEFT",
                    style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]),
                ),
            ]
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            "Ce document atteste le dépôt de la demande. Il ne vaut pas décision : l'ASP vous informera par "
            "courriel de la suite donnée. Conservez-le avec le numéro de votre demande.",
            STYLES["small"],
        ),
    ]
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
