"""The one check engine of a funding file (R-FIN-2): the public simulator, the private simulator,
the filing, the JSON twin, the Celery task and the benchmark all call ``check_files``.

Plain Python, no request: files in (binary file objects), a ``CheckResult`` out, whose anomalies
carry a JSON path, a stable code (``funding.anomalies.CODES``), a French message and a severity.
Amounts are ``Decimal`` from the first byte (``parse_float=Decimal``), never float.
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO

from django.conf import settings
from jsonschema.exceptions import ValidationError as SchemaError

from enrolment.registries.companies import is_valid_siret
from funding import format as funding_format
from funding.anomalies import Anomaly, Scope
from funding.identifiers import finess, rpps
from funding.zipcheck import Keep, check_zip, normalise_name

AMOUNT_FIELDS = frozenset({"montant_ht", "montant_ttc"})
DATE_FIELDS = frozenset({"date_etablissement", "date_bon_de_commande", "date_raccordement"})
AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]{0,9})\.[0-9]{2}$")
CENT = Decimal("0.01")
# VAT rates of the enrolment (EnrolmentRequest.VatRate), as fractions.
VAT_RATES = {"ttc_20": Decimal("0.20"), "ttc_8_5": Decimal("0.085"), "ttc_0": Decimal("0"), "ht_0": Decimal("0")}
IDENTIFIER_CHECKS: dict[str, tuple[Callable[[str], bool], str, str]] = {
    "RPPS": (rpps.is_valid, "rpps_invalide", "11 chiffres dont une clé de Luhn"),
    "FINESS": (finess.is_valid, "finess_invalide", "9 caractères dont une clé de Luhn"),
    "SIRET": (is_valid_siret, "siret_invalide", "14 chiffres dont une clé de Luhn"),
}
JSON_MESSAGES = {
    "Expecting value": "une valeur est attendue",
    "Expecting ',' delimiter": "une virgule est attendue",
    "Expecting ':' delimiter": "deux-points sont attendus",
    "Expecting property name enclosed in double quotes": "un nom de champ entre guillemets est attendu",
    "Unterminated string starting at": "un texte n'est pas terminé (guillemet fermant manquant)",
    "Extra data": "du contenu suit la fin du document",
    "Invalid control character at": "un caractère de contrôle est interdit dans un texte",
    "Invalid \\escape": "une séquence d'échappement est invalide",
    "Invalid \\uXXXX escape": "une séquence \\u est invalide",
}
# How many anomalies a report lists: a file broken on every line still gets a readable report.
MAX_ANOMALIES = 1000
READ_CHUNK = 1024 * 1024

FinancedElsewhere = Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class VendorContext:
    """The signed-in vendor's validated enrolment (private simulator and filing only)."""

    enrolment_number: str
    siret: str
    referencing_number: str
    vat_rate: str
    # (type, identifier) pairs → FIN number of another vendor's validated or paid request.
    financed_elsewhere: FinancedElsewhere | None = None


@dataclass
class CheckResult:
    anomalies: list[Anomaly] = field(default_factory=list)
    anomaly_count: int = 0  # all of them, also beyond the MAX_ANOMALIES listed
    beneficiary_count: int = 0
    total_ht: Decimal | None = None
    total_ttc: Decimal | None = None
    zip_given: bool = False
    pieces: dict[str, dict] = field(default_factory=dict)  # accepted pieces, name -> kept metadata
    document: dict[str, Any] | None = None

    @property
    def blocking(self) -> list[Anomaly]:
        return [anomaly for anomaly in self.anomalies if anomaly.blocking]

    @property
    def conforming(self) -> bool:
        return not any(anomaly.blocking for anomaly in self.anomalies)

    @property
    def json_accepted(self) -> bool:
        """Nothing blocks outside the zip: a filing can go on, « Incomplète » if the zip fails."""
        return not any(anomaly.blocking and anomaly.scope != Scope.ZIP for anomaly in self.anomalies)

    @property
    def zip_accepted(self) -> bool:
        return self.zip_given and not any(a.blocking and a.scope == Scope.ZIP for a in self.anomalies)


class _Report:
    def __init__(self) -> None:
        self.result = CheckResult()
        self._seen: set[tuple[str, str]] = set()

    def add(self, code: str, message: str, path: str = "", **extra: Any) -> None:
        if (code, path) in self._seen:
            return
        self._seen.add((code, path))
        self.result.anomaly_count += 1
        if len(self.result.anomalies) < MAX_ANOMALIES:
            self.result.anomalies.append(Anomaly(code=code, message=message, path=path, **extra))

    def extend(self, anomalies: Iterable[Anomaly]) -> None:
        for anomaly in anomalies:
            self.add(anomaly.code, anomaly.message, anomaly.path)


def json_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _label(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[")[0] or path


# --- reading --------------------------------------------------------------------------------------


class _NonStandardValue(Exception):
    """NaN, Infinity: accepted by Python's json module, not by the JSON standard."""


def _read_json(json_file: BinaryIO | None, report: _Report) -> Any:
    if json_file is None:
        report.add("json_absent", "Joignez le fichier json de la demande.")
        return None
    limit = int(settings.FUNDING_JSON_MAX_BYTES)
    chunks, received = [], 0
    while received <= limit:  # by chunks: read(limit) would reserve the whole limit at once
        chunk = json_file.read(min(READ_CHUNK, limit + 1 - received))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        report.add(
            "json_trop_volumineux",
            f"Le fichier json dépasse la taille maximum de {limit // (1024 * 1024)} Mo : découpez-le ou allégez-le.",
        )
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        report.add(
            "json_encodage",
            f"Le fichier json n'est pas encodé en UTF-8 (octet illisible ligne {line}, colonne {column}) : "
            "enregistrez-le en UTF-8.",
            line=line,
            column=column,
        )
        return None
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise _NonStandardValue(name)

    try:
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as error:
        reason = next((fr for en, fr in JSON_MESSAGES.items() if error.msg.startswith(en)), "syntaxe invalide")
        report.add(
            "json_syntaxe",
            f"Le fichier json est mal formé ligne {error.lineno}, colonne {error.colno} : {reason}.",
            line=error.lineno,
            column=error.colno,
        )
        return None
    except _NonStandardValue as error:
        report.add("json_syntaxe", f"Le fichier json contient la valeur {error}, qui n'existe pas en JSON.")
        return None
    except RecursionError:
        report.add("json_syntaxe", "Le fichier json est imbriqué trop profondément.")
        return None
    for key in dict.fromkeys(duplicates):
        report.add("json_cle_en_double", f"Le champ « {key} » est écrit deux fois dans un même objet.", key)
    return document


# --- the schema ---------------------------------------------------------------------------------


def _schema_anomaly(error: SchemaError, report: _Report, document: Any, prefix: tuple = ()) -> None:
    parts = [*prefix, *error.absolute_path]
    path = json_path(parts)
    name = _label(path)
    kind = error.validator
    if kind == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        field_name = missing.group(1) if missing else ""
        full = f"{path}.{field_name}" if path else field_name
        report.add("champ_obligatoire", f"Le champ « {field_name} » est obligatoire.", full)
    elif kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        for extra in (key for key in error.instance if key not in allowed):
            full = f"{path}.{extra}" if path else extra
            report.add("champ_inconnu", f"Le champ « {extra} » ne fait pas partie du format : supprimez-le.", full)
    elif kind == "const" and name in ("format", "version"):
        report.add(
            "format_inconnu",
            f"Le champ « {name} » doit valoir « {error.validator_value} » "
            f"(format {funding_format.FORMAT_NAME} {funding_format.FORMAT_VERSION}).",
            path,
        )
    elif kind == "type" and name in AMOUNT_FIELDS and isinstance(error.instance, int | Decimal):
        report.add(
            "montant_nombre",
            f"Le montant « {name} » est écrit comme un nombre ({error.instance}) : écrivez-le entre guillemets "
            f'avec deux décimales, par exemple "{_as_amount_example(error.instance)}".',
            path,
        )
    elif kind == "type":
        expected = {"string": "un texte", "object": "un objet { … }", "array": "une liste [ … ]"}.get(
            error.validator_value, str(error.validator_value)
        )
        report.add("type_invalide", f"Le champ « {name} » doit être {expected}.", path)
    elif kind in ("enum", "const"):
        values = error.validator_value if kind == "enum" else [error.validator_value]
        report.add(
            "valeur_non_autorisee",
            f"La valeur « {error.instance} » n'est pas permise pour « {name} » : "
            + ", ".join(f"« {value} »" for value in values)
            + ".",
            path,
        )
    elif kind in ("pattern", "format") and name in AMOUNT_FIELDS:
        report.add(
            "montant_format",
            f"Le montant « {error.instance} » doit avoir exactement deux décimales après un point, "
            "sans espace ni symbole (ex. « 1250.00 »).",
            path,
        )
    elif kind in ("pattern", "format") and name in DATE_FIELDS:
        report.add("date_invalide", f"La date « {error.instance} » n'existe pas ou n'est pas écrite AAAA-MM-JJ.", path)
    elif kind == "pattern" and name == "siret":
        report.add("siret_invalide", f"Le numéro de SIRET « {error.instance} » doit comporter 14 chiffres.", path)
    elif kind == "pattern" and name == "identifiant":
        _identifier_anomaly(report, _identifier_type(document, parts), str(error.instance), path)
    elif kind in ("minLength", "maxLength", "minItems", "maxItems"):
        limit = error.validator_value
        if kind == "minItems":
            report.add("longueur_invalide", f"La liste « {name} » doit contenir au moins {limit} élément(s).", path)
        elif kind == "maxItems":
            report.add("longueur_invalide", f"La liste « {name} » contient plus de {limit} éléments.", path)
        elif kind == "minLength":
            report.add("longueur_invalide", f"Le champ « {name} » ne doit pas être vide.", path)
        else:
            report.add("longueur_invalide", f"Le champ « {name} » dépasse {limit} caractères.", path)
    else:
        report.add("format_invalide", f"La valeur « {error.instance} » ne respecte pas le format de « {name} ».", path)


def _check_schema(document: Any, report: _Report, progress: Callable[[float], None]) -> None:
    """The document's own fields, then each beneficiary line (its errors' paths prefixed with
    beneficiaires[i]); beyond the maximum number of lines, the lines are not checked one by one."""
    document_validator, line_validator, max_lines = funding_format.split_validators()
    for error in document_validator.iter_errors(document):
        _schema_anomaly(error, report, document)
    lines = document.get("beneficiaires") if isinstance(document, dict) else None
    if not isinstance(lines, list) or len(lines) > max_lines:
        return
    step = max(1, len(lines) // 50)
    for index, line in enumerate(lines):
        for error in line_validator.iter_errors(line):
            _schema_anomaly(error, report, document, prefix=("beneficiaires", index))
        if index % step == 0:
            progress(index / len(lines))


def _identifier_type(document: Any, parts: list[Any]) -> str:
    """The type_identifiant of the line an error is about (beneficiaires[i].identifiant)."""
    try:
        kind = document[parts[0]][parts[1]].get("type_identifiant")
    except (IndexError, KeyError, TypeError, AttributeError):
        return ""
    return kind if isinstance(kind, str) and kind in IDENTIFIER_CHECKS else ""


def _as_amount_example(value: int | Decimal) -> str:
    try:
        return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return "1250.00"


def _identifier_anomaly(report: _Report, kind: str, identifier: str, path: str) -> None:
    _, code, rule = IDENTIFIER_CHECKS.get(kind, (None, "format_invalide", "un identifiant RPPS, FINESS ou SIRET"))
    label = kind or "identifiant"
    report.add(code, f"Le numéro {label} « {identifier} » est invalide : {rule}.", path)


# --- the rules beyond the schema -----------------------------------------------------------------


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, str) and AMOUNT_RE.match(value):
        return Decimal(value)
    return None


def _date(value: Any) -> date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _french(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _check_rules(document: dict, report: _Report, *, today: date, period: tuple[date, date]) -> list[dict]:
    """Keys, amounts, totals, dates and doubles; returns the well-formed lines (dicts)."""
    supplier = document.get("fournisseur") if isinstance(document.get("fournisseur"), dict) else {}
    siret = supplier.get("siret")
    if isinstance(siret, str) and re.fullmatch(r"\d{14}", siret) and not is_valid_siret(siret):
        report.add(
            "siret_invalide",
            f"Le numéro de SIRET « {siret} » est invalide : sa clé de contrôle est fausse.",
            "fournisseur.siret",
        )
    request = document.get("demande") if isinstance(document.get("demande"), dict) else {}
    established = _date(request.get("date_etablissement"))
    if established and established > today:
        report.add(
            "date_future",
            f"La date d'établissement {_french(established)} est postérieure à aujourd'hui.",
            "demande.date_etablissement",
        )
    lines = document.get("beneficiaires") if isinstance(document.get("beneficiaires"), list) else []
    start, end = period
    seen: dict[tuple[str, str], int] = {}
    line_total = Decimal("0")
    all_amounts = True
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            all_amounts = False
            continue
        prefix = f"beneficiaires[{index}]"
        kind, identifier = line.get("type_identifiant"), line.get("identifiant")
        if isinstance(kind, str) and isinstance(identifier, str) and kind in IDENTIFIER_CHECKS:
            valid, _, _ = IDENTIFIER_CHECKS[kind]
            if not valid(identifier):
                _identifier_anomaly(report, kind, identifier, f"{prefix}.identifiant")
            key = (kind, identifier.strip().upper())
            if key in seen:
                report.add(
                    "beneficiaire_en_double",
                    f"Le bénéficiaire {kind} {identifier} figure déjà à la ligne beneficiaires[{seen[key]}] : "
                    "un bénéficiaire n'est financé qu'une fois.",
                    f"{prefix}.identifiant",
                )
            else:
                seen[key] = index
        amount = _amount(line.get("montant_ht"))
        if amount is None:
            all_amounts = False
        elif amount == 0:
            report.add(
                "montant_nul",
                "Un montant de 0 € est refusé : retirez la ligne ou corrigez son montant.",
                f"{prefix}.montant_ht",
            )
        else:
            line_total += amount
        ordered, connected = _date(line.get("date_bon_de_commande")), _date(line.get("date_raccordement"))
        for name, day in (("date_bon_de_commande", ordered), ("date_raccordement", connected)):
            if day is None:
                continue
            if day > today:
                report.add("date_future", f"La date {_french(day)} est postérieure à aujourd'hui.", f"{prefix}.{name}")
            if not start <= day <= end:
                report.add(
                    "date_hors_periode",
                    f"La date {_french(day)} est hors de la période du dispositif "
                    f"(du {_french(start)} au {_french(end)}).",
                    f"{prefix}.{name}",
                )
        if ordered and connected and ordered > connected:
            report.add(
                "date_ordre",
                f"Le bon de commande ({_french(ordered)}) est postérieur au raccordement ({_french(connected)}).",
                f"{prefix}.date_bon_de_commande",
            )
    total_ht = _amount(request.get("montant_ht"))
    if total_ht == 0:
        report.add("montant_nul", "Un montant de 0 € est refusé.", "demande.montant_ht")
    if total_ht is not None and all_amounts and lines and total_ht != line_total:
        report.add(
            "total_ht_incoherent",
            f"Le montant HT de la demande ({total_ht} €) n'est pas la somme des lignes ({line_total} €).",
            "demande.montant_ht",
        )
    total_ttc = _amount(request.get("montant_ttc"))
    rate = VAT_RATES.get(request.get("taux_tva")) if isinstance(request.get("taux_tva"), str) else None
    if total_ttc == 0:
        report.add("montant_nul", "Un montant de 0 € est refusé.", "demande.montant_ttc")
    if total_ht is not None and total_ttc is not None and rate is not None:
        expected = (total_ht * (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        if total_ttc != expected:
            report.add(
                "total_ttc_incoherent",
                f"Le montant TTC ({total_ttc} €) devrait être {expected} € : {total_ht} € HT au taux "
                f"« {request['taux_tva']} », arrondi au centime.",
                "demande.montant_ttc",
            )
    report.result.beneficiary_count = len(lines)
    report.result.total_ht = total_ht
    report.result.total_ttc = total_ttc
    return [line for line in lines if isinstance(line, dict)]


def _check_vendor(document: dict, lines: list[dict], vendor: VendorContext, report: _Report) -> None:
    supplier = document.get("fournisseur") if isinstance(document.get("fournisseur"), dict) else {}
    expected = {
        "numero_enrolement": ("Le numéro d'enrôlement", vendor.enrolment_number),
        "siret": ("Le numéro de SIRET", vendor.siret),
        "numero_referencement": ("Le numéro de référencement", vendor.referencing_number),
    }
    for name, (label, value) in expected.items():
        given = supplier.get(name)
        if isinstance(given, str) and given.strip().upper() != value.upper():
            report.add(
                "fournisseur_different",
                f"{label} « {given} » n'est pas celui de votre enrôlement validé ({value}).",
                f"fournisseur.{name}",
            )
    request = document.get("demande") if isinstance(document.get("demande"), dict) else {}
    rate = request.get("taux_tva")
    if isinstance(rate, str) and rate in VAT_RATES and rate != vendor.vat_rate:
        report.add(
            "taux_tva_different",
            f"Le taux TVA « {rate} » n'est pas celui de votre enrôlement (« {vendor.vat_rate} »).",
            "demande.taux_tva",
        )
    if vendor.financed_elsewhere is None:
        return
    pairs = []
    for line in lines:
        kind, identifier = line.get("type_identifiant"), line.get("identifiant")
        if isinstance(kind, str) and isinstance(identifier, str):
            pairs.append((kind, identifier.strip().upper()))
    financed = vendor.financed_elsewhere(pairs) if pairs else {}
    for index, line in enumerate(lines):
        key = (line.get("type_identifiant"), str(line.get("identifiant", "")).strip().upper())
        if key in financed:
            report.add(
                "beneficiaire_deja_finance",
                f"Le bénéficiaire {key[0]} {key[1]} est déjà financé dans la demande {financed[key]} d'un autre "
                "fournisseur : un bénéficiaire n'est financé qu'une fois.",
                f"beneficiaires[{index}].identifiant",
            )


def _check_pieces(lines: list[dict], present: set[str], report: _Report) -> None:
    cited: set[str] = set()
    for index, line in enumerate(lines):
        pieces = line.get("pieces") if isinstance(line.get("pieces"), list) else []
        for position, piece in enumerate(pieces):
            if not isinstance(piece, str):
                continue
            name = normalise_name(piece)
            cited.add(name)
            if name not in present:
                report.add(
                    "piece_absente",
                    f"La pièce « {piece} » citée par la ligne {index} est absente du zip.",
                    f"beneficiaires[{index}].pieces[{position}]",
                )
    for name in sorted(present - cited):
        report.add("piece_non_citee", f"Le fichier « {name} » du zip n'est cité par aucune ligne.", f"zip:{name}")


# --- the entry point ------------------------------------------------------------------------------


def scheme_period() -> tuple[date, date]:
    return settings.FUNDING_PERIOD_START, settings.FUNDING_PERIOD_END


def check_files(
    *,
    json_file: BinaryIO | None,
    zip_file: BinaryIO | None = None,
    vendor: VendorContext | None = None,
    today: date | None = None,
    period: tuple[date, date] | None = None,
    window_closed: str = "",
    known_pieces: Iterable[str] | None = None,
    keep: Keep | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Check a funding file and, optionally, its zip.

    ``vendor``: the signed-in vendor's enrolment (private simulator, filing). ``window_closed``:
    the French sentence saying no window is open (filing). ``known_pieces``: the pieces already on
    file when a new version comes without a zip. ``keep(name, checked)`` stores each accepted
    piece (filing). ``progress(fraction, label)`` is called as the check goes.
    """
    from django.utils import timezone

    today = today or timezone.localdate()
    period = period or scheme_period()
    report = _Report()
    notify = progress or (lambda fraction, label: None)
    json_share = 0.5 if zip_file is not None else 1.0
    notify(0.0, "Lecture du fichier json")
    document = _read_json(json_file, report)
    lines: list[dict] = []
    if document is not None:
        _check_schema(document, report, lambda done: notify(json_share * 0.9 * done, "Contrôle des bénéficiaires"))
    if isinstance(document, dict):
        lines = _check_rules(document, report, today=today, period=period)
        if vendor is not None:
            _check_vendor(document, lines, vendor, report)
        report.result.document = document
    if window_closed:
        report.add("guichet_ferme", window_closed)
    notify(json_share, "Contrôle des pièces du zip")
    if zip_file is not None:
        report.result.zip_given = True

        def member_progress(done: int, total: int) -> None:
            notify(json_share + (1 - json_share) * done / total, f"Pièce {done} sur {total}")

        zipped = check_zip(zip_file, keep=keep, progress=member_progress)
        report.extend(zipped.anomalies)
        report.result.pieces = zipped.accepted
        if zipped.readable and document is not None:
            _check_pieces(lines, zipped.present, report)
    elif known_pieces is not None:
        _check_pieces(lines, {normalise_name(name) for name in known_pieces}, report)
        report.result.pieces = {}
    else:
        report.add("zip_absent", "Aucun fichier zip n'a été joint : la présence des pièces n'a pas été vérifiée.")
    notify(1.0, "Contrôle terminé")
    return report.result
