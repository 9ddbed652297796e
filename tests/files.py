"""Real files for upload tests: valid PDFs, PNGs and JPEGs, and the bad ones of R-WIZ-9."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

MAX_BYTES = 4 * 1024 * 1024


def pdf_bytes(text: str = "Pièce justificative", size: int | None = None) -> bytes:
    """A small valid PDF; with ``size``, padded with a comment to exactly that many bytes."""
    head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    head += b"% " + text.encode("latin-1", "replace") + b"\n"
    tail = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    if size is None:
        return head + tail
    padding = size - len(head) - len(tail) - 3
    return head + b"% " + b"x" * padding + b"\n" + tail


def png_bytes(width: int = 40, height: int = 30, color=(0, 0, 145)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf(name: str = "document.pdf", **kwargs) -> SimpleUploadedFile:
    return upload(name, pdf_bytes(**kwargs))


def png(name: str = "scan.png") -> SimpleUploadedFile:
    return upload(name, png_bytes(), "image/png")


def exe_renamed_pdf(name: str = "facture.pdf") -> SimpleUploadedFile:
    return upload(name, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200)
