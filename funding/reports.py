"""A check's report as people read it: the page's summary and table, the CSV download and the
JSON twin's answer all come from the same stored report."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from funding.anomalies import Anomaly, Severity
from funding.format import FORMAT_NAME, FORMAT_VERSION

NARROW_NO_BREAK_SPACE = "\u202f"
CSV_HEADER = ["Sévérité", "Code", "Emplacement", "Ligne", "Colonne", "Message"]


def euros(value: Decimal | str | None) -> str:
    """1234567.5 → « 1 234 567,50 € » (French grouping with a narrow no-break space)."""
    if value is None:
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    whole, cents = f"{amount:,.2f}".split(".")
    return f"{whole.replace(',', NARROW_NO_BREAK_SPACE)},{cents} €"


@dataclass
class Report:
    data: dict

    @property
    def anomalies(self) -> list[Anomaly]:
        return [Anomaly.from_dict(item) for item in self.data.get("anomalies", [])]

    @property
    def blocking(self) -> list[Anomaly]:
        return [anomaly for anomaly in self.anomalies if anomaly.severity == Severity.BLOCKING]

    @property
    def warnings(self) -> list[Anomaly]:
        return [anomaly for anomaly in self.anomalies if anomaly.severity == Severity.WARNING]

    @property
    def conforming(self) -> bool:
        return bool(self.data.get("conforming"))

    @property
    def truncated(self) -> bool:
        return self.data.get("anomaly_count", 0) > len(self.data.get("anomalies", []))

    @property
    def summary(self) -> str:
        if self.conforming:
            count = self.data.get("beneficiary_count", 0)
            return (
                f"Fichier conforme : {count} bénéficiaire{'s' if count > 1 else ''}, montant total "
                f"{euros(self.data.get('total_ht'))} HT, {euros(self.data.get('total_ttc'))} TTC."
            )
        count = len(self.blocking)
        return f"Fichier non conforme : {count} anomalie{'s' if count > 1 else ''} bloquante{'s' if count > 1 else ''}."

    def as_api(self) -> dict:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "conforme": self.conforming,
            "resume": self.summary,
            "beneficiaires": self.data.get("beneficiary_count", 0),
            "montant_total_ht": self.data.get("total_ht"),
            "montant_total_ttc": self.data.get("total_ttc"),
            "nombre_anomalies": self.data.get("anomaly_count", 0),
            "anomalies": [
                {
                    "code": anomaly.code,
                    "severite": str(anomaly.severity),
                    "chemin": anomaly.path,
                    "ligne": anomaly.line,
                    "colonne": anomaly.column,
                    "message": anomaly.message,
                }
                for anomaly in self.anomalies
            ],
        }

    def as_csv(self) -> bytes:
        """UTF-8 with a BOM and « ; »: what French spreadsheet software opens as it is."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Résumé", self.summary])
        writer.writerow(CSV_HEADER)
        for anomaly in self.anomalies:
            writer.writerow(
                [
                    str(anomaly.severity),
                    anomaly.code,
                    _safe_cell(anomaly.path),
                    anomaly.line or "",
                    anomaly.column or "",
                    _safe_cell(anomaly.message),
                ]
            )
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _safe_cell(text: str) -> str:
    """No formula injection: a cell starting with = + - @ is read as text by spreadsheets."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
