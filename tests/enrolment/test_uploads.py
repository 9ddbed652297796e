"""check_upload(): every rule of R-WIZ-9 and SECURITY F1-F3, F5-F9, on files built here."""

import hashlib
import io
import random
import re
import struct
import time
import tracemalloc
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image, PngImagePlugin

from enrolment import uploads
from enrolment.uploads import ALLOWED_HINT, CheckedUpload, check_upload, safe_display_name
from tests import files

MIB = 1024 * 1024

MSG_EMPTY = "Le fichier est vide."
MSG_TOO_LARGE = "Le fichier dépasse la taille maximum de 4 Mo."
MSG_EXTENSION = "Type de fichier non autorisé : seuls les fichiers .png, .jpg, .jpeg ou .pdf sont acceptés."
MSG_CONTENT = "Le contenu du fichier ne correspond pas à un fichier .png, .jpg, .jpeg ou .pdf."
MSG_DIMENSIONS = "L'image est trop grande (dimensions excessives)."
MSG_IMAGE_CORRUPT = "Le fichier image est illisible ou endommagé."
MSG_PDF_CORRUPT = "Le fichier PDF est illisible ou endommagé."
MSG_PDF_ACTIVE = (
    "Le PDF contient des éléments actifs (scripts, pièces jointes…) ou est chiffré et ne peut être accepté."
)
MSG_PDF_UNSUPPORTED = (
    "Le PDF utilise un encodage interne que nous ne pouvons pas vérifier. Enregistrez-le à nouveau "
    "au format PDF (par exemple « Imprimer » puis « Enregistrer au format PDF ») et réessayez."
)
HTML_PAYLOAD = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _restore_pillow_limit():
    """check_upload() sets Pillow's global pixel limit from settings; tests that lower it must not leak."""
    saved = Image.MAX_IMAGE_PIXELS
    yield
    Image.MAX_IMAGE_PIXELS = saved


# ---------------------------------------------------------------------------------------------
# File builders
# ---------------------------------------------------------------------------------------------


def upload(name, content, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


class RawUpload:
    """A file-like upload that keeps its name untouched (Django's UploadedFile takes the
    basename itself) and records how much was asked of read()."""

    def __init__(self, name, content, size="real"):
        self.name = name
        self._buffer = io.BytesIO(content)
        self.size = len(content) if size == "real" else size
        self.requested = 0

    def seek(self, position):
        self._buffer.seek(position)

    def read(self, size=-1):
        self.requested += size if size is not None and size >= 0 else 10**12
        return self._buffer.read(size)


def image_bytes(fmt, size=(40, 30), mode="RGB", color=(200, 30, 30), **save):
    image = Image.new(mode, size, color)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def png_bytes(**kwargs):
    return image_bytes("PNG", **kwargs)


def jpeg_bytes(**kwargs):
    return image_bytes("JPEG", **kwargs)


def noise_png(size=(300, 200)):
    rng = random.Random(4)
    image = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width=20000, height=20000, color_type=2):
    """A PNG header declaring width x height, with a tiny IDAT: about a hundred bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def pdf_stream(dictionary, data):
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def make_pdf(catalog_extra=b"", extra_objects=(), trailer_extra=b"", padding=0, page_extra=b""):
    """A small valid one-page PDF; extra_objects are numbered from 5 on."""
    content = b"0 0 m 100 100 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> " + page_extra + b" >>",
        pdf_stream(b"", content),
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if padding:
        out += b"%" + b"A" * padding + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_of_size(target, **kwargs):
    """A valid PDF of exactly `target` bytes, padded with a comment line."""
    padding = max(1, target - len(make_pdf(padding=1, **kwargs)))
    for _ in range(5):
        data = make_pdf(padding=padding, **kwargs)
        if len(data) == target:
            return data
        padding += target - len(data)
    raise AssertionError("could not reach the requested size")


def object_stream_pdf(catalog, *, double_flate=False):
    """The catalog (object 1) lives in a compressed object stream (PDF 1.5), as qpdf or
    Acrobat write it: its keys never appear in the raw file."""
    payload = b"1 0 " + catalog
    compressed = zlib.compress(payload)
    filters = b"/FlateDecode"
    if double_flate:
        compressed = zlib.compress(compressed)
        filters = b"[/FlateDecode /FlateDecode]"
    objstm = pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter " + filters, compressed)
    out = bytearray(b"%PDF-1.7\n")
    out += b"5 0 obj\n" + objstm + b"\nendobj\n"
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"
    return bytes(out)


def assert_rejected(uploaded, code, message):
    with pytest.raises(ValidationError) as caught:
        check_upload(uploaded)
    assert caught.value.code == code
    assert caught.value.messages == [message]


# ---------------------------------------------------------------------------------------------
# Hint, empty and size (R-WIZ-9, F3)
# ---------------------------------------------------------------------------------------------


def test_hint_is_the_guide_text():
    assert ALLOWED_HINT == "Fichier de type .png, .jpg, .jpeg ou .pdf. Taille maximum : 4 Mo"


def test_empty_file_is_refused():
    assert_rejected(upload("rib.pdf", b""), "empty", MSG_EMPTY)


def test_empty_file_is_refused_before_its_name_is_judged():
    assert_rejected(upload("rib.exe", b""), "empty", MSG_EMPTY)


def test_file_of_exactly_4_mib_is_accepted_byte_for_byte():
    data = pdf_of_size(4 * MIB)
    assert len(data) == 4_194_304

    checked = check_upload(upload("kbis.pdf", data))

    assert isinstance(checked, CheckedUpload)
    assert checked.size == 4_194_304
    assert checked.content == data
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.content_type == "application/pdf"
    assert checked.extension == "pdf"


def test_file_one_byte_over_4_mib_is_refused():
    data = pdf_of_size(4 * MIB + 1)
    assert len(data) == 4_194_305
    assert_rejected(upload("kbis.pdf", data), "too_large", MSG_TOO_LARGE)


def test_oversize_is_refused_before_its_name_is_judged():
    assert_rejected(upload("setup.exe", b"MZ" + b"\x00" * (4 * MIB)), "too_large", MSG_TOO_LARGE)


def test_size_limit_comes_from_settings(settings):
    settings.UPLOAD_MAX_BYTES = 2 * MIB
    data = pdf_of_size(2 * MIB + 1)
    assert_rejected(upload("kbis.pdf", data), "too_large", "Le fichier dépasse la taille maximum de 2 Mo.")
    assert check_upload(upload("kbis.pdf", pdf_of_size(2 * MIB))).size == 2 * MIB


def test_a_wrong_declared_size_does_not_make_the_check_read_more(settings):
    settings.UPLOAD_MAX_BYTES = 2048
    raw = RawUpload("kbis.pdf", pdf_of_size(100_000), size=None)

    assert_rejected(raw, "too_large", "Le fichier dépasse la taille maximum de 2 Ko.")
    assert raw.requested <= 2049


def test_declared_size_is_checked_before_reading():
    raw = RawUpload("kbis.pdf", b"%PDF-1.7\n", size=5 * MIB)
    assert_rejected(raw, "too_large", MSG_TOO_LARGE)
    assert raw.requested == 0


# ---------------------------------------------------------------------------------------------
# Extension allow-list (F1)
# ---------------------------------------------------------------------------------------------


def test_upper_case_extension_is_accepted():
    checked = check_upload(upload("PHOTO.JPG", jpeg_bytes(), content_type="image/jpeg"))
    assert checked.extension == "jpg"
    assert checked.content_type == "image/jpeg"


def test_jpeg_extension_is_accepted_and_stored_as_jpg():
    checked = check_upload(upload("scan.jpeg", jpeg_bytes(), content_type="image/jpeg"))
    assert checked.extension == "jpg"


@pytest.mark.parametrize(
    "name",
    [
        "logo.svg",
        "setup.exe",
        "x.pdf%00.exe",
        "x.pdf\x00.exe",
        "x.pdf%2500.exe",  # double percent-encoding of the NUL
        "x.pdf%00",
        "x%2Eexe",
        "x.exe.",
        "x.exe . .",
        "document",
        "x.pdf\u202e",
        "facture.ｐｄｆ",  # full-width letters
    ],
)
def test_names_outside_the_allow_list_are_refused(name):
    # Real PNG bytes: only the name is wrong.
    assert_rejected(RawUpload(name, png_bytes()), "extension", MSG_EXTENSION)


def test_svg_is_refused_whatever_its_content():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert_rejected(upload("logo.svg", svg, content_type="image/svg+xml"), "extension", MSG_EXTENSION)


def test_double_extension_with_php_inside_is_judged_by_content():
    php = b"<?php system($_GET['c']); ?>"
    assert_rejected(upload("x.php.jpg", php, content_type="image/jpeg"), "content", MSG_CONTENT)


def test_double_extension_with_a_real_jpeg_is_accepted():
    checked = check_upload(upload("x.php.jpg", jpeg_bytes(), content_type="image/jpeg"))
    assert checked.content_type == "image/jpeg"
    assert checked.original_name == "x.php.jpg"


def test_trailing_spaces_and_dots_are_stripped_before_judging():
    assert check_upload(RawUpload("rib.pdf. ", make_pdf())).extension == "pdf"


# ---------------------------------------------------------------------------------------------
# Content by magic bytes; the client's Content-Type is ignored (F2)
# ---------------------------------------------------------------------------------------------


def test_windows_exe_renamed_pdf_is_refused_even_if_the_client_says_pdf():
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
    assert_rejected(upload("facture.pdf", exe, content_type="application/pdf"), "content", MSG_CONTENT)


def test_zip_renamed_png_is_refused():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "bonjour")
    assert_rejected(upload("scan.png", buffer.getvalue(), content_type="image/png"), "content", MSG_CONTENT)


def test_html_renamed_jpg_is_refused():
    assert_rejected(upload("photo.jpg", HTML_PAYLOAD, content_type="image/jpeg"), "content", MSG_CONTENT)


def test_a_signature_after_the_start_is_no_signature():
    # A script that carries « %PDF- » on its second line is not a PDF.
    fake = b"#!/bin/sh\n%PDF-1.7\nrm -rf /\n%%EOF\n"
    assert_rejected(upload("x.pdf", fake), "content", MSG_CONTENT)


@pytest.mark.parametrize(
    ("name", "signature", "code", "message"),
    [
        ("scan.png", b"\x89PNG\r\n\x1a\n", "corrupt", MSG_IMAGE_CORRUPT),
        ("photo.jpg", b"\xff\xd8\xff", "corrupt", MSG_IMAGE_CORRUPT),
        ("rib.pdf", b"%PDF-1.7\n", "corrupt", MSG_PDF_CORRUPT),
    ],
)
def test_signature_alone_is_not_enough(name, signature, code, message):
    # The right first bytes, then a shell script and a tar header: the content itself is judged
    # (images decoded, PDFs parsed), not only its signature.
    fake = signature + b"#!/bin/sh\nrm -rf /\n" + b"\x00" * 230 + b"ustar\x0000" + b"\x00" * 600
    assert_rejected(upload(name, fake), code, message)


def test_client_content_type_is_ignored_for_a_good_file():
    checked = check_upload(upload("scan.png", png_bytes(), content_type="application/x-msdownload"))
    assert checked.content_type == "image/png"
    assert checked.extension == "png"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", png_bytes(), "L'extension du fichier (.pdf) ne correspond pas à son contenu (PNG)."),
        ("photo.png", jpeg_bytes(), "L'extension du fichier (.png) ne correspond pas à son contenu (JPEG)."),
        ("rib.JPEG", make_pdf(), "L'extension du fichier (.jpeg) ne correspond pas à son contenu (PDF)."),
    ],
)
def test_extension_must_agree_with_content(name, content, message):
    assert_rejected(upload(name, content), "mismatch", message)


# ---------------------------------------------------------------------------------------------
# Images: pixel flood (F5)
# ---------------------------------------------------------------------------------------------


def test_decompression_bomb_png_is_refused_fast_and_small():
    data = bomb_png(20000, 20000)
    assert len(data) < 1024

    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(ValidationError) as caught:
            check_upload(upload("scan.png", data, content_type="image/png"))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "dimensions"
    assert caught.value.messages == [MSG_DIMENSIONS]
    assert elapsed < 1.0
    assert peak < 50 * MIB


def test_jpeg_declaring_huge_dimensions_is_refused():
    data = bytearray(jpeg_bytes(size=(16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width
    started = time.perf_counter()
    assert_rejected(upload("scan.jpg", bytes(data), content_type="image/jpeg"), "dimensions", MSG_DIMENSIONS)
    assert time.perf_counter() - started < 1.0


def test_pixel_limit_comes_from_settings(settings):
    settings.UPLOAD_MAX_PIXELS = 1000
    # 40 x 30 = 1200 pixels: over the limit but under twice it, where Pillow only warns.
    assert_rejected(upload("scan.png", png_bytes(size=(40, 30))), "dimensions", MSG_DIMENSIONS)
    assert check_upload(upload("scan.png", png_bytes(size=(30, 30)))).content_type == "image/png"


def test_image_just_under_the_default_limit_passes_the_header_check():
    # 8000 x 5000 = 40 Mpx exactly: accepted by the dimension rule (then fails as truncated).
    # Greyscale, so that the 40 Mpx decode buffer stays at 40 MB.
    assert_rejected(upload("scan.png", bomb_png(8000, 5000, color_type=0)), "corrupt", MSG_IMAGE_CORRUPT)
    assert_rejected(upload("scan.png", bomb_png(8000, 5001, color_type=0)), "dimensions", MSG_DIMENSIONS)


# ---------------------------------------------------------------------------------------------
# Images: corrupt files
# ---------------------------------------------------------------------------------------------


def test_truncated_png_is_refused():
    data = noise_png()
    assert_rejected(upload("scan.png", data[: len(data) // 2]), "corrupt", MSG_IMAGE_CORRUPT)


def test_truncated_jpeg_is_refused():
    data = jpeg_bytes(size=(400, 300))
    assert_rejected(upload("scan.jpg", data[:600]), "corrupt", MSG_IMAGE_CORRUPT)


def test_png_signature_followed_by_garbage_is_refused():
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", b"\x00" * 13) + b"garbage" * 20
    assert_rejected(upload("scan.png", data), "corrupt", MSG_IMAGE_CORRUPT)


# ---------------------------------------------------------------------------------------------
# Images: re-encoding strips metadata and appended data (F6, F7)
# ---------------------------------------------------------------------------------------------


def jpeg_with_gps_and_html():
    exif = Image.Exif()
    exif[0x010F] = "FabricantSecret"  # Make
    exif[0x010E] = "DESCRIPTION-A-EFFACER"  # ImageDescription
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}  # GPS IFD
    data = jpeg_bytes(size=(64, 48), exif=exif, comment=b"commentaire-secret")
    return data + HTML_PAYLOAD


def test_jpeg_with_exif_gps_and_html_after_eoi_is_stored_with_neither():
    data = jpeg_with_gps_and_html()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(0x8825)  # the test file really has GPS
    assert b"<script>" in data and b"DESCRIPTION-A-EFFACER" in data

    checked = check_upload(upload("photo.jpg", data, content_type="text/html"))

    assert checked.content_type == "image/jpeg"
    assert b"<script>" not in checked.content
    assert b"DESCRIPTION-A-EFFACER" not in checked.content
    assert b"FabricantSecret" not in checked.content
    assert b"commentaire-secret" not in checked.content
    assert b"Exif" not in checked.content
    assert checked.content.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(0x8825)
    assert checked.size == len(checked.content)
    assert checked.sha256 == hashlib.sha256(checked.content).hexdigest()


def test_jpeg_orientation_is_applied_then_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = jpeg_bytes(size=(40, 20), exif=exif)

    checked = check_upload(upload("photo.jpg", data))

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.size == (20, 40)
        assert 0x0112 not in stored.getexif()


def test_png_with_html_appended_and_in_text_chunks_is_cleaned():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_itxt("Description", "<script>alert(2)</script>", zip=False)
    data = png_bytes(size=(50, 40), pnginfo=info) + HTML_PAYLOAD
    assert data.count(b"<script>") == 3

    checked = check_upload(upload("scan.png", data, content_type="image/png"))

    assert checked.content_type == "image/png"
    assert b"<script>" not in checked.content
    assert checked.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert checked.content.endswith(png_chunk(b"IEND", b""))
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.size == (50, 40)
        assert stored.text == {}


def test_png_icc_profile_is_dropped():
    data = png_bytes(icc_profile=b"<script>alert(1)</script>" * 4)
    with Image.open(io.BytesIO(data)) as original:
        assert original.info.get("icc_profile")

    checked = check_upload(upload("scan.png", data))

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert "icc_profile" not in stored.info
    assert b"iCCP" not in checked.content


def test_png_palette_cannot_carry_a_payload():
    palette = b"<script>alert(1)</script>".ljust(768, b"\x00")
    image = Image.new("P", (8, 8), 0)
    image.putpalette(palette)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    assert b"<script>" in buffer.getvalue()

    checked = check_upload(upload("scan.png", buffer.getvalue()))

    assert b"<script>" not in checked.content
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == "RGB"


def test_png_palette_with_transparency_keeps_its_alpha():
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=1)

    checked = check_upload(upload("logo.png", buffer.getvalue()))

    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0)) == (255, 0, 0, 0)


@pytest.mark.parametrize(
    ("mode", "color", "expected_mode"),
    [("LA", (120, 200), "LA"), ("L", 90, "L"), ("RGBA", (1, 2, 3, 4), "RGBA"), ("I;16", 40000, "I;16")],
)
def test_png_modes_are_kept(mode, color, expected_mode):
    checked = check_upload(upload("scan.png", png_bytes(mode=mode, color=color)))
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == expected_mode
        assert stored.getpixel((0, 0)) == color


def test_cmyk_jpeg_is_accepted_as_rgb():
    checked = check_upload(upload("scan.jpg", jpeg_bytes(mode="CMYK", color=(0, 255, 255, 0))))
    assert checked.content_type == "image/jpeg"
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.mode == "RGB"
        red, green, blue = stored.getpixel((5, 5))
        assert red > 200 and green < 50 and blue < 50


def test_jpeg_is_reencoded_with_quality_90():
    checked = check_upload(upload("scan.jpg", jpeg_bytes(quality=30)))
    reference = jpeg_bytes(quality=90)
    with Image.open(io.BytesIO(checked.content)) as stored, Image.open(io.BytesIO(reference)) as ref:
        assert stored.quantization == ref.quantization


# ---------------------------------------------------------------------------------------------
# PDF (F8)
# ---------------------------------------------------------------------------------------------


def test_clean_pdf_is_kept_byte_for_byte():
    data = make_pdf()
    checked = check_upload(upload("attestation.pdf", data, content_type="application/octet-stream"))
    assert checked.content == data
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.original_name == "attestation.pdf"


@pytest.mark.parametrize(
    "pdf",
    [
        pytest.param(
            make_pdf(catalog_extra=b"/OpenAction 5 0 R", extra_objects=[b"<< /S /JavaScript /JS (app.alert(1)) >>"]),
            id="openaction-javascript",
        ),
        pytest.param(
            make_pdf(catalog_extra=b"/Names << /JavaScript 5 0 R >>", extra_objects=[b"<< /Names [(a) 6 0 R] >>"]),
            id="javascript-name-tree",
        ),
        pytest.param(
            make_pdf(catalog_extra=b"/Names << /J#61vaScript 5 0 R >>", extra_objects=[b"<< /Names [] >>"]),
            id="escaped-javascript",
        ),
        pytest.param(
            make_pdf(catalog_extra=b"/Names<</#4a#61#76#61#53#63#72#69#70#74 5 0 R>>", extra_objects=[b"<<>>"]),
            id="fully-escaped-javascript",
        ),
        pytest.param(make_pdf(catalog_extra=b"/OpenAction [3 0 R /Fit]"), id="openaction"),
        pytest.param(make_pdf(catalog_extra=b"/Op#65nAction [3 0 R /Fit]"), id="escaped-openaction"),
        pytest.param(
            make_pdf(
                page_extra=b"/Annots [5 0 R]",
                extra_objects=[b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch /F (cmd.exe) >> >>"],
            ),
            id="launch",
        ),
        pytest.param(
            make_pdf(
                catalog_extra=b"/Names << /EmbeddedFiles 5 0 R >>",
                extra_objects=[b"<< /Names [(a.exe) 6 0 R] >>", pdf_stream(b"/Type /EmbeddedFile", b"MZ")],
            ),
            id="embedded-file",
        ),
        pytest.param(
            make_pdf(page_extra=b"/AA << /O 5 0 R >>", extra_objects=[b"<< /S /URI /URI (https://tracker.example) >>"]),
            id="additional-actions",
        ),
        pytest.param(make_pdf(page_extra=b"/A#41 5 0 R", extra_objects=[b"<< >>"]), id="escaped-aa-reference"),
        pytest.param(make_pdf(page_extra=b"/JS%commentaire\n(app.alert(1))"), id="js-after-comment"),
        pytest.param(
            make_pdf(
                catalog_extra=b"/AcroForm << /Fields [] /XFA 5 0 R >>", extra_objects=[pdf_stream(b"", b"<xdp/>")]
            ),
            id="xfa",
        ),
        pytest.param(make_pdf(page_extra=b"/Annots [<< /Subtype /RichMedia >>]"), id="richmedia"),
        pytest.param(
            make_pdf(
                trailer_extra=b"/Encrypt 5 0 R",
                extra_objects=[b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>"],
            ),
            id="encrypted",
        ),
    ],
)
def test_pdf_with_active_content_or_encryption_is_refused(pdf):
    assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)


def spellings_of_the_first_letter(name: str) -> list[bytes]:
    """The name as written, and with its first letter escaped in upper- and lower-case hex."""
    escaped = f"#{ord(name[0]):02X}"
    return [f"/{spelled}{name[1:]}".encode() for spelled in (name[0], escaped, escaped.lower())]


@pytest.mark.parametrize("name", uploads._ACTIVE_NAMES + uploads._KEYED_NAMES)
def test_every_active_name_is_found_however_its_first_letter_is_written(name):
    """The names are only tried after a slash followed by a letter a name can start with, or
    « # » (R-PERF-2): each of them is still found, in the file and in an object stream."""
    for spelled in spellings_of_the_first_letter(name):
        pdf = make_pdf(catalog_extra=spelled + b" 5 0 R", extra_objects=[b"<< >>"])
        assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)
        hidden = object_stream_pdf(b"<< /Type /Catalog /Pages 2 0 R " + spelled + b" 5 0 R >>")
        assert_rejected(upload("attestation.pdf", hidden), "pdf_active", MSG_PDF_ACTIVE)


@pytest.mark.parametrize("name", uploads._OPAQUE_FILTERS)
def test_every_undecodable_filter_is_found_however_its_first_letter_is_written(name):
    for spelled in spellings_of_the_first_letter(name):
        pdf = make_pdf(extra_objects=[pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter " + spelled, b"xx")])
        assert_rejected(upload("attestation.pdf", pdf), "pdf_unsupported", MSG_PDF_UNSUPPORTED)


def test_openaction_hidden_in_a_compressed_object_stream_is_refused():
    pdf = object_stream_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (x) >> >>")
    assert b"OpenAction" not in pdf
    assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)


def test_escaped_name_in_a_doubly_compressed_object_stream_is_refused():
    pdf = object_stream_pdf(b"<< /Type /Catalog /Pages 2 0 R /Op#65nAction [0 /Fit] >>", double_flate=True)
    assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)


def test_clean_compressed_object_stream_is_accepted():
    pdf = object_stream_pdf(b"<< /Type /Catalog /Pages 2 0 R >>")
    assert check_upload(upload("attestation.pdf", pdf)).content == pdf


def test_object_stream_with_a_bad_checksum_and_trailing_garbage_is_still_read():
    catalog = b"1 0 << /Type /Catalog /OpenAction [0 /Fit] >>"
    compressed = bytearray(zlib.compress(catalog))
    compressed[-4:] = b"\x00\x00\x00\x00"  # readers ignore Adler-32; so does the check
    objstm = pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bytes(compressed) + b"\xff" * 8)
    pdf = b"%PDF-1.7\n5 0 obj\n" + objstm + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)


def test_object_stream_corrupted_after_the_payload_is_still_read():
    # A reader shows what decodes before the damage; so the check must look at it too.
    compressor = zlib.compressobj()
    compressed = compressor.compress(b"1 0 << /Type /Catalog /OpenAction [0 /Fit] >>")
    compressed += compressor.flush(zlib.Z_FULL_FLUSH) + b"\xff" * 64
    with pytest.raises(zlib.error):
        zlib.decompress(compressed)
    objstm = pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", compressed)
    pdf = b"%PDF-1.7\n5 0 obj\n" + objstm + b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    assert_rejected(upload("attestation.pdf", pdf), "pdf_active", MSG_PDF_ACTIVE)


def test_short_names_in_binary_image_data_are_not_false_alarms():
    rng = random.Random(7)
    samples = bytes(rng.getrandbits(8) for _ in range(20_000))
    samples = samples[:5000] + b"/AA\x01\x02/JS ]" + samples[5000:]
    image = pdf_stream(
        b"/Type /XObject /Subtype /Image /Width 100 /Height 200 /BitsPerComponent 8 "
        b"/ColorSpace /DeviceGray /Filter /DCTDecode",
        samples,
    )
    pdf = make_pdf(extra_objects=[image])
    assert check_upload(upload("attestation.pdf", pdf)).content == pdf


def test_pdf_without_eof_marker_is_refused():
    data = make_pdf().replace(b"%%EOF", b"")
    assert_rejected(upload("attestation.pdf", data), "corrupt", MSG_PDF_CORRUPT)


def test_pdf_with_eof_marker_far_from_the_end_is_refused():
    data = make_pdf() + b"\n" * 2000
    assert_rejected(upload("attestation.pdf", data), "corrupt", MSG_PDF_CORRUPT)


def test_pdf_with_a_filter_the_check_cannot_decode_is_refused():
    pdf = make_pdf(extra_objects=[pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode", b"31203020>")])
    assert_rejected(upload("attestation.pdf", pdf), "pdf_unsupported", MSG_PDF_UNSUPPORTED)


@pytest.mark.parametrize("order", ["filter first", "active name first"])
def test_active_content_is_named_before_an_undecodable_filter_wherever_each_is(order):
    """The names are looked for in one pass (R-PERF-2): an active name refuses the file as active
    content, also when an undecodable filter comes earlier in the file."""
    opaque = pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode", b"31203020>")
    active = b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"
    objects = [opaque, active] if order == "filter first" else [active, opaque]
    assert_rejected(upload("attestation.pdf", make_pdf(extra_objects=objects)), "pdf_active", MSG_PDF_ACTIVE)


@pytest.mark.parametrize("name", [b"/A85", b"/AHx", b"/RunLengthDecode", b"/LZW#44ecode"])
def test_every_undecodable_filter_is_refused_as_unsupported_with_no_active_name(name):
    pdf = make_pdf(extra_objects=[pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter " + name, b"xx")])
    assert_rejected(upload("attestation.pdf", pdf), "pdf_unsupported", MSG_PDF_UNSUPPORTED)


def test_flate_bomb_in_a_pdf_is_refused_quickly():
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"1 0 ")]
    block = b" " * MIB
    for _ in range(200):  # 200 MiB once inflated
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    bomb = b"".join(parts)
    pdf = make_pdf(extra_objects=[pdf_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bomb)])
    assert len(pdf) < 300_000

    started = time.perf_counter()
    assert_rejected(upload("attestation.pdf", pdf), "pdf_unsupported", MSG_PDF_UNSUPPORTED)
    assert time.perf_counter() - started < 3.0


def test_number_of_streams_is_capped(monkeypatch):
    monkeypatch.setattr(uploads, "_PDF_MAX_STREAMS", 5)
    pdf = make_pdf(extra_objects=[pdf_stream(b"", b"q Q") for _ in range(5)])
    assert_rejected(upload("attestation.pdf", pdf), "pdf_unsupported", MSG_PDF_UNSUPPORTED)


# ---------------------------------------------------------------------------------------------
# Names for display (F9)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
        ("facture\u202egnp.pdf", "facturegnp.pdf"),
        ("a\u2066b\u2069c\u200b.pdf", "abc.pdf"),
        ("ligne1\r\nligne2\t.pdf", "ligne1 ligne2 .pdf"),
        ("nul\x00.pdf", "nul.pdf"),
        ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),  # escaped by templates
        ("<script>alert(1)</script>.png", "script>.png"),  # "/" is a separator: basename only
        ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),
        ("..", "fichier"),
        ("", "fichier"),
        (None, "fichier"),
        ("\u202e", "fichier"),
    ],
)
def test_safe_display_name(raw, expected):
    assert safe_display_name(raw) == expected


def test_long_name_is_cut_to_255_characters_keeping_the_extension():
    name = safe_display_name("é" * 300 + ".png")
    assert len(name) == 255
    assert name.endswith("é.png")


def test_check_upload_returns_the_sanitised_name():
    raw = RawUpload("../../etc/passwd.png", png_bytes())
    assert check_upload(raw).original_name == "passwd.png"


def test_bidi_override_is_removed_from_the_returned_name():
    checked = check_upload(upload("facture\u202egnp.pdf", make_pdf()))
    assert checked.original_name == "facturegnp.pdf"
    assert checked.extension == "pdf"


def test_300_character_name_is_accepted_and_shortened():
    checked = check_upload(RawUpload("a" * 300 + ".pdf", make_pdf()))
    assert len(checked.original_name) == 255
    assert checked.original_name.endswith("a.pdf")


# --------------------------------------------------------------------------------------------
# One read, one pass (R-PERF-2)
# --------------------------------------------------------------------------------------------

# The pattern as it was written first: a look-behind tried at every byte of the file.
_REFERENCE_STREAM_RE = re.compile(rb"(?<![^\x00\t\n\x0c\r ()<>\[\]{}/%])stream(?:\r\n|\n|\r)")


def test_the_stream_keyword_is_found_exactly_where_the_look_behind_found_it():
    pieces = [b"stream", b"endstream", b"\n", b"\r", b"\r\n", b" ", b"/", b"x", b"s", b"tream", b"(", b"%", b"\x00"]
    rng = random.Random(17)
    for _ in range(20_000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        expected = [match.span() for match in _REFERENCE_STREAM_RE.finditer(data)]
        assert [match.span() for match in uploads._STREAM_RE.finditer(data)] == expected, data
    assert [m.start() for m in uploads._STREAM_RE.finditer(b"stream\n<</a>>stream\r\nendstream\n")] == [0, 13]


def test_a_4_mib_pdf_is_held_once_in_memory_and_hashed_as_sent():
    data = files.pdf_bytes(size=4 * MIB)
    uploaded = TemporaryUploadedFile("certificat.pdf", "application/pdf", len(data), None)
    uploaded.write(data)
    uploaded.seek(0)
    tracemalloc.start()
    try:
        checked = check_upload(uploaded)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        uploaded.close()
    assert checked.content == data
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    # Read in pieces then joined, the file was twice in memory at once.
    assert peak <= 1.25 * len(data), f"pic de {peak / len(data):.2f} × la taille du fichier"


def test_the_digest_is_that_of_the_bytes_sent_when_the_antivirus_reads_them_too(clamd):
    data = files.pdf_bytes(size=3 * MIB)
    checked = check_upload(upload("scan.pdf", data))
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
