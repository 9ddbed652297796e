"""Real funding files for the tests: the published example, changed one way or another, and zips
built member by member (good pieces, bombs, links, encrypted members, CP437 names…)."""

import copy
import io
import json
import zipfile
from decimal import Decimal

from funding import format as funding_format
from tests import files


def example() -> dict:
    return copy.deepcopy(funding_format.example())


def json_bytes(document) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def example_json() -> io.BytesIO:
    return io.BytesIO(funding_format.example_bytes())


def example_zip() -> io.BytesIO:
    return io.BytesIO(funding_format.example_zip_bytes())


def with_totals(document: dict) -> dict:
    """Recompute the request's HT and TTC (20 %) from its lines, so one change stays the only one."""
    total = sum(Decimal(line["montant_ht"]) for line in document["beneficiaires"])
    document["demande"]["montant_ht"] = f"{total:.2f}"
    document["demande"]["montant_ttc"] = f"{(total * Decimal('1.2')).quantize(Decimal('0.01')):.2f}"
    return document


def make_zip(members: list[tuple]) -> io.BytesIO:
    """members: (name, content) or (name, content, {"attr": …, "flag_bits": …, "store": True})."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            name, content, options = (*member, {})[:3]
            info = zipfile.ZipInfo(name, date_time=(2026, 2, 3, 10, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if options.get("store") else zipfile.ZIP_DEFLATED
            if "attr" in options:
                info.external_attr = options["attr"]
            if "flag_bits" in options:
                info.flag_bits |= options["flag_bits"]
            archive.writestr(info, content)
    buffer.seek(0)
    return buffer


def example_members() -> list[tuple[str, bytes]]:
    return [(name, funding_format.example_piece_pdf(name)) for name in funding_format.example_piece_names()]


def pdf() -> bytes:
    return files.pdf_bytes("Bon de commande")


def patch_zip(buffer: io.BytesIO, *, rename: dict[str, bytes] | None = None, encrypt: set[str] = frozenset()):
    """Rewrite raw header bytes that zipfile will not write itself: names in another encoding
    than UTF-8 (no UTF-8 flag, e.g. CP437 from an old Windows tool), the « encrypted » flag."""
    rename = rename or {}
    data = bytearray(buffer.getvalue())
    for signature, length_at, name_at, flags_at in ((b"PK\x03\x04", 26, 30, 6), (b"PK\x01\x02", 28, 46, 8)):
        position = data.find(signature)
        while position != -1:
            length = int.from_bytes(data[position + length_at : position + length_at + 2], "little")
            name = bytes(data[position + name_at : position + name_at + length]).decode("utf-8", "replace")
            if name in encrypt:
                data[position + flags_at] |= 0x01
            if name in rename:
                raw = rename[name]
                assert len(raw) == length, "même longueur en octets exigée"
                data[position + name_at : position + name_at + length] = raw
                data[position + flags_at + 1] &= ~0x08 & 0xFF  # no UTF-8 flag (bit 11)
            position = data.find(signature, position + 4)
    return io.BytesIO(bytes(data))
