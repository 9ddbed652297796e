"""ANS referencing registry (R-WIZ-1, R-BIZ-3): only referenced software can be enrolled.

The registry lives in the ``ReferencedSoftware`` table, loaded from the project's fixture or
imported from the ANS list with ``manage.py import_referenced_software``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from enrolment.models import ReferencedSoftware
from enrolment.registries.companies import is_valid_siret, normalize_siret
from segurnum.text import compact, fold


@dataclass(frozen=True)
class ReferencingInfo:
    referencing_number: str
    software_name: str
    version: str
    dsr_label: str
    editor_siret: str
    editor_name: str = ""


def normalize_referencing_number(number: str | None) -> str:
    return compact(number)


def _to_info(software: ReferencedSoftware) -> ReferencingInfo:
    return ReferencingInfo(
        referencing_number=software.referencing_number,
        software_name=software.software_name,
        version=software.version,
        dsr_label=software.dsr_label,
        editor_siret=software.editor_siret,
        editor_name=software.editor_name,
    )


def lookup(number: str) -> ReferencingInfo | None:
    """The active referenced software with this number (spaces ignored), or None.

    The number is matched exactly first; users often type the letters in the wrong case
    (« TNDSAS0031 »), so a case-insensitive match is accepted next.
    """
    number = normalize_referencing_number(number)
    if not number:
        return None
    active = ReferencedSoftware.objects.filter(active=True)
    software = active.filter(referencing_number=number).first()
    if software is None:
        software = active.filter(referencing_number__iexact=number).order_by("referencing_number").first()
    return _to_info(software) if software is not None else None


# --------------------------------------------------------------------------------------------
# Import of the ANS list (CSV), used by ``manage.py import_referenced_software``
# --------------------------------------------------------------------------------------------

REQUIRED_COLUMNS: dict[str, str] = {
    "numero_referencement": "referencing_number",
    "nom_logiciel": "software_name",
    "version": "version",
    "dsr": "dsr_label",
    "siret_editeur": "editor_siret",
}
OPTIONAL_COLUMNS: dict[str, str] = {"nom_editeur": "editor_name", "actif": "active"}
_TRUE_VALUES = frozenset({"oui", "1", "true", "vrai", "o", "yes"})
_FALSE_VALUES = frozenset({"non", "0", "false", "faux", "n", "no"})


@dataclass(frozen=True)
class ReferencingRow:
    line: int
    referencing_number: str
    software_name: str
    version: str
    dsr_label: str
    editor_siret: str
    editor_name: str | None  # None: column absent, leave the stored name alone
    active: bool


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    deactivated: int
    unchanged: int

    def summary(self) -> str:
        return f"{self.created} logiciels créés, {self.updated} mis à jour, {self.deactivated} désactivés"


class ReferencingImportError(Exception):
    """The file cannot be imported; ``errors`` lists every problem, with its line number."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


def _column_key(name: str) -> str:
    # Headers typed by hand come with accents, capitals or spaces (« Numéro référencement »).
    return re.sub(r"[\s\-]+", "_", fold(name).strip().strip("\ufeff").lower())


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,").delimiter
    except csv.Error:
        return ";" if header.count(";") > header.count(",") else ","


def _max_length(field_name: str) -> int:
    return ReferencedSoftware._meta.get_field(field_name).max_length or 0


def decode_csv(data: bytes) -> str:
    """UTF-8 text, with or without a byte order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferencingImportError(
            [f"Le fichier n'est pas encodé en UTF-8 (octet invalide en position {exc.start})."]
        ) from exc


def _numbered_rows(reader: Any, errors: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line they start on (a quoted cell may span several lines)."""
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(f"Ligne {start} : ligne CSV illisible ({exc}).")
            return
        line = reader.line_num
        yield start, cells


def parse_referencing_csv(text: str) -> list[ReferencingRow]:
    """Parse and check every row; raise :class:`ReferencingImportError` listing all bad rows."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ReferencingImportError(["Le fichier est vide."])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        header = [_column_key(name) for name in next(reader)]
    except csv.Error as exc:
        raise ReferencingImportError([f"Ligne 1 : en-tête CSV illisible ({exc})."]) from exc
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ReferencingImportError([f"Colonne(s) obligatoire(s) absente(s) de l'en-tête : {', '.join(missing)}."])
    positions = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}

    rows: list[ReferencingRow] = []
    errors: list[str] = []
    first_line_of: dict[str, int] = {}
    for row_line, cells in _numbered_rows(reader, errors):
        if not any(cell.strip() for cell in cells):
            continue
        row_errors: list[str] = []
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            row_errors.append(f"{len(cells)} colonnes au lieu de {len(header)}")
        values = {name: (cells[index].strip() if index < len(cells) else "") for name, index in positions.items()}
        values["numero_referencement"] = normalize_referencing_number(values["numero_referencement"])
        values["siret_editeur"] = normalize_siret(values["siret_editeur"])
        for column, field_name in {**REQUIRED_COLUMNS, "nom_editeur": "editor_name"}.items():
            value = values.get(column, "")
            if not value and column in REQUIRED_COLUMNS:
                row_errors.append(f"le champ « {column} » est obligatoire")
            elif len(value) > _max_length(field_name):
                row_errors.append(f"le champ « {column} » dépasse {_max_length(field_name)} caractères")
        siret = values["siret_editeur"]
        if siret and not is_valid_siret(siret):
            row_errors.append(f"le SIRET de l'éditeur « {siret} » est invalide (14 chiffres, clé de contrôle)")
        active = True
        raw_active = values.get("actif", "").lower()
        if raw_active in _FALSE_VALUES:
            active = False
        elif raw_active and raw_active not in _TRUE_VALUES:
            row_errors.append(f"la valeur « {values['actif']} » de « actif » n'est pas oui/non, 1/0 ou true/false")
        number = values["numero_referencement"]
        if number in first_line_of:
            row_errors.append(f"le numéro de référencement « {number} » figure déjà ligne {first_line_of[number]}")
        elif number:
            first_line_of[number] = row_line
        if row_errors:
            errors.append(f"Ligne {row_line} : {' ; '.join(row_errors)}.")
            continue
        rows.append(
            ReferencingRow(
                line=row_line,
                referencing_number=number,
                software_name=values["nom_logiciel"],
                version=values["version"],
                dsr_label=values["dsr"],
                editor_siret=siret,
                editor_name=values["nom_editeur"] if "nom_editeur" in positions else None,
                active=active,
            )
        )
    if errors:
        raise ReferencingImportError(errors)
    if not rows:
        raise ReferencingImportError(["Le fichier ne contient aucune ligne de logiciel."])
    return rows


@transaction.atomic
def import_referenced_software(*, rows: list[ReferencingRow], deactivate_missing: bool = False) -> ImportResult:
    """Create or update the referenced software by referencing number, in one transaction.

    With ``deactivate_missing``, active software absent from ``rows`` is deactivated (never
    deleted: enrolments keep pointing at it).
    """
    existing = {
        software.referencing_number: software
        for software in ReferencedSoftware.objects.select_for_update().order_by("pk")
    }
    created = updated = unchanged = 0
    for row in rows:
        values: dict[str, object] = {
            "software_name": row.software_name,
            "version": row.version,
            "dsr_label": row.dsr_label,
            "editor_siret": row.editor_siret,
            "active": row.active,
        }
        if row.editor_name is not None:
            values["editor_name"] = row.editor_name
        software = existing.get(row.referencing_number)
        if software is None:
            ReferencedSoftware.objects.create(referencing_number=row.referencing_number, **values)
            created += 1
            continue
        changed = [name for name, value in values.items() if getattr(software, name) != value]
        if not changed:
            unchanged += 1
            continue
        for name in changed:
            setattr(software, name, values[name])
        software.save(update_fields=changed)
        updated += 1
    deactivated = 0
    if deactivate_missing:
        numbers = {row.referencing_number for row in rows}
        missing_pks = [
            software.pk for number, software in existing.items() if software.active and number not in numbers
        ]
        deactivated = ReferencedSoftware.objects.filter(pk__in=missing_pks).update(active=False)
    return ImportResult(created=created, updated=updated, deactivated=deactivated, unchanged=unchanged)
