"""The published format `segurnum-financement-sas` 1.0 (R-FIN-1): the JSON Schema file, the
documentation generated from it, the blank model derived from it and the filled example.

The schema is the one source: the documentation page and the blank model are computed from it,
so neither can drift. The files are named by settings (FUNDING_SCHEMA_FILE, FUNDING_EXAMPLE_FILE):
ASP may swap the format without touching the code.
"""

import copy
import io
import json
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker

FORMAT_NAME = "segurnum-financement-sas"
FORMAT_VERSION = "1.0"


@cache
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def schema() -> dict[str, Any]:
    return _load(str(settings.FUNDING_SCHEMA_FILE))


def schema_bytes() -> bytes:
    return Path(settings.FUNDING_SCHEMA_FILE).read_bytes()


def example_bytes() -> bytes:
    return Path(settings.FUNDING_EXAMPLE_FILE).read_bytes()


def example() -> dict[str, Any]:
    """A fresh copy of the example: callers may change it."""
    return copy.deepcopy(_load(str(settings.FUNDING_EXAMPLE_FILE)))


@cache
def _validator(path: str) -> Draft202012Validator:
    document = _load(path)
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document, format_checker=FormatChecker(["date"]))


def validator() -> Draft202012Validator:
    """The whole schema, as published."""
    return _validator(str(settings.FUNDING_SCHEMA_FILE))


def _inline(node: Any) -> Any:
    """The schema with every local ``$ref`` replaced by what it points to: the same rules,
    without a reference look-up for each field of each of 5 000 lines."""
    if isinstance(node, dict):
        merged = _resolve(node) if "$ref" in node else node
        return {key: _inline(value) for key, value in merged.items() if key not in ("$ref", "$defs")}
    if isinstance(node, list):
        return [_inline(item) for item in node]
    return node


@cache
def _split_validators(path: str) -> tuple[Draft202012Validator, Draft202012Validator, int]:
    inlined = _inline(_load(path))
    lines = inlined["properties"]["beneficiaires"]
    line_schema = lines.pop("items")
    checker = FormatChecker(["date"])
    return (
        Draft202012Validator(inlined, format_checker=checker),
        Draft202012Validator(line_schema, format_checker=checker),
        int(lines.get("maxItems", 0)),
    )


def split_validators() -> tuple[Draft202012Validator, Draft202012Validator, int]:
    """The schema cut in two for the check engine: the document without its lines' rules, and
    one beneficiary line (checked one by one, so the page can show the progress); and the
    maximum number of lines, beyond which the lines are not checked one by one."""
    return _split_validators(str(settings.FUNDING_SCHEMA_FILE))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A property with its ``$ref`` (local, ``#/$defs/…``) merged under its own keywords."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target), **{key: value for key, value in node.items() if key != "$ref"}}


@dataclass(frozen=True)
class FieldDoc:
    path: str  # beneficiaires[].montant_ht
    type: str
    required: str  # « Oui », « Non » or the condition
    format: str
    example: str
    description: str
    depth: int


_TYPES = {"string": "texte", "object": "objet", "array": "liste", "number": "nombre", "integer": "entier"}


def _format_text(node: dict[str, Any]) -> str:
    parts = []
    if "x-format" in node:
        parts.append(node["x-format"])
    if "const" in node:
        parts.append(f"vaut exactement « {node['const']} »")
    if "enum" in node:
        parts.append("une valeur parmi : " + ", ".join(f"« {value} »" for value in node["enum"]))
    if "pattern" in node and "x-format" not in node:
        parts.append(f"motif {node['pattern']}")
    if "minLength" in node or "maxLength" in node:
        parts.append(f"{node.get('minLength', 0)} à {node.get('maxLength', '…')} caractères")
    if "minItems" in node or "maxItems" in node:
        parts.append(f"{node.get('minItems', 0)} à {node.get('maxItems', '…')} éléments")
    if node.get("type") == "array" and node.get("items", {}).get("type") == "string":
        parts.append("éléments de type texte")
    return " ; ".join(parts)


def _example_text(node: dict[str, Any]) -> str:
    examples = node.get("examples") or []
    if not examples:
        return ""
    value = examples[0]
    if isinstance(value, str):
        return value
    if node.get("type") == "array" and value and isinstance(value[0], dict):
        return f"{len(value)} ligne(s), voir l'exemple complet"
    return json.dumps(value, ensure_ascii=False)


def documentation() -> list[FieldDoc]:
    """Every field of the format, in the schema's order: type, mandatory, format, example."""
    rows: list[FieldDoc] = []

    def walk(node: dict[str, Any], prefix: str, required: set[str], depth: int) -> None:
        for name, child in node.get("properties", {}).items():
            child = _resolve(child)
            path = f"{prefix}{name}"
            condition = child.get("x-obligatoire")
            rows.append(
                FieldDoc(
                    path=path,
                    type=_TYPES.get(child.get("type", ""), child.get("type", "")),
                    required="Oui" if name in required else (f"Oui, {condition}" if condition else "Non"),
                    format=_format_text(child),
                    example=_example_text(child),
                    description=child.get("description", ""),
                    depth=depth,
                )
            )
            if child.get("type") == "object":
                walk(child, f"{path}.", set(child.get("required", [])), depth + 1)
            elif child.get("type") == "array":
                items = _resolve(child.get("items", {}))
                if items.get("type") == "object":
                    walk(items, f"{path}[].", set(items.get("required", [])), depth + 1)

    root = schema()
    walk(root, "", set(root.get("required", [])), 0)
    return rows


def blank_model() -> dict[str, Any]:
    """The model to fill in: every field of the schema, empty (constants already set), with one
    beneficiary line of each kind of identity (a professional, a structure)."""

    def blank(node: dict[str, Any]) -> Any:
        node = _resolve(node)
        if "const" in node:
            return node["const"]
        kind = node.get("type")
        if kind == "object":
            return {name: blank(child) for name, child in node.get("properties", {}).items()}
        if kind == "array":
            items = _resolve(node.get("items", {}))
            return [blank(items)] if items.get("type") == "object" else [""]
        return ""

    model = blank(schema())
    line = model["beneficiaires"][0]
    professional = {key: value for key, value in line.items() if key != "raison_sociale"}
    structure = {key: value for key, value in line.items() if key not in ("nom", "prenom")}
    model["beneficiaires"] = [professional | {"type_identifiant": "RPPS"}, structure | {"type_identifiant": "FINESS"}]
    return model


def blank_model_bytes() -> bytes:
    return (json.dumps(blank_model(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def example_piece_names() -> list[str]:
    names: list[str] = []
    for line in example()["beneficiaires"]:
        names.extend(name for name in line["pieces"] if name not in names)
    return names


def example_piece_pdf(name: str) -> bytes:
    """A one-page PDF standing for a purchase order or a connection report of the example."""
    text = f"Exemple de piece justificative : {name}".encode("ascii", "replace")
    stream = b"BT /F1 12 Tf 50 780 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def example_zip_bytes() -> bytes:
    """The zip of the example's pieces, so the simulator can be tried end to end."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in example_piece_names():
            archive.writestr(name, example_piece_pdf(name))
    return buffer.getvalue()
