"""Reading a PDF back as a person would: its text (poppler's pdftotext) and page 1 as an image
(pdftoppm)."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image


def require_poppler() -> None:
    """poppler-utils (pdftotext, pdftoppm) is installed by .ci/run; elsewhere its absence skips."""
    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        return
    if os.environ.get("CI"):
        pytest.fail("pdftotext / pdftoppm absents : apt-get install poppler-utils")
    pytest.skip("pdftotext / pdftoppm absents (apt-get install poppler-utils)")


def pdf_text(content: bytes) -> str:
    require_poppler()
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def page_count(content: bytes) -> int:
    require_poppler()
    result = subprocess.run(["pdfinfo", "-"], input=content, capture_output=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", result.stdout.decode(), re.M).group(1))


def first_page_png(content: bytes, *, dpi: int = 150, keep_as: Path | None = None) -> Image.Image:
    require_poppler()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "receipt.pdf"
        source.write_bytes(content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(source), f"{folder}/page"],
            check=True,
        )
        png = Path(folder) / "page.png"
        if keep_as is not None:
            keep_as.write_bytes(png.read_bytes())
        image = Image.open(png)
        image.load()
        return image.convert("L")


def link_rectangles(content: bytes) -> dict[str, tuple[float, float, float, float]]:
    """URI link annotations of the PDF: {url: (x1, y1, x2, y2)} in points from the bottom left."""
    text = content.decode("latin-1")
    links = {}
    for annotation in re.findall(r"<<[^<>]*?/A\s*<<[^<>]*?/URI[^<>]*>>[^<>]*?>>", text, re.S):
        uri = re.search(r"/URI \(([^)]*)\)", annotation).group(1)
        rect = re.search(r"/Rect \[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", annotation)
        links[uri] = tuple(float(value) for value in rect.groups())
    return links
