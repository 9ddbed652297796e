"""Time and memory of an upload: enrolment.uploads.check_upload() on typical and hostile files,
the antivirus scan (SECURITY F12b: 4 MiB in under 1 s), and the cost of encryption at rest
(SECURITY P5: a 4 MiB upload stored encrypted, before/after ratio; a large file in constant memory).

Run from the repository root:  .venv/bin/python benchmarks/bench_uploads.py [checks] [antivirus] [encryption]

"Python peak" is tracemalloc's peak (Python objects only: Pillow's and zlib's C buffers are not
seen). "RSS peak" is the growth of the process's peak resident memory during the check (Linux:
the peak is reset through /proc/self/clear_refs before each run), which does include them.

The scan goes to SEGURNUM_CLAMD_ADDRESS when it is set (a production clamd with the real
signatures). Otherwise Debian's clamd is started here with a synthetic database, generated and
nothing downloaded: 200 000 random body signatures and 1 000 000 hash signatures (about the
order of ClamAV's official databases, ~3.6 million signatures mostly hashes) plus the tests' EICAR
signature; it loads in a few seconds.
"""

import io
import logging
import os
import random
import statistics
import struct
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
# Keys of this run only: nothing written under var/keys.
from cryptography.fernet import Fernet  # noqa: E402

os.environ.setdefault("SEGURNUM_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("SEGURNUM_SEARCH_HASH_KEY", Fernet.generate_key().decode())

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from enrolment.uploads import check_upload  # noqa: E402

MIB = 1024 * 1024
REPEATS = 5


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _pdf(objects: list[bytes], padding: int = 0) -> bytes:
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
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _base_objects(pages: int) -> list[bytes]:
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages]
    for i in range(pages):
        content = zlib.compress(b"q 1 0 0 1 72 720 cm BT /F1 12 Tf (Page %d) Tj ET Q\n" % i * 200)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (4 + 2 * i))
        objects.append(_stream(b"/Filter /FlateDecode", content))
    return objects


def _exact(build, target: int) -> bytes:
    padding = 1
    for _ in range(6):
        data = build(padding)
        if len(data) == target:
            return data
        padding += target - len(data)
    raise RuntimeError("size not reached")


def pdf_4mib_comment() -> bytes:
    return _exact(lambda pad: _pdf(_base_objects(1), padding=pad), 4 * MIB)


def pdf_4mib_scan_like() -> bytes:
    """20 pages, each with a ~200 KB binary (DCT-like) image and a Flate content stream,
    plus a compressed object stream, as a scanner or office suite would write."""
    rng = random.Random(1)
    objects = _base_objects(20)
    for _ in range(20):
        objects.append(
            _stream(
                b"/Type /XObject /Subtype /Image /Width 1240 /Height 1754 /BitsPerComponent 8 "
                b"/ColorSpace /DeviceRGB /Filter /DCTDecode",
                rng.randbytes(200_000),
            )
        )
    header = b" ".join(b"%d %d" % (100 + i, i * 40) for i in range(50))
    body = b"".join(b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /Border [0 0 0] >>" for _ in range(50))
    objects.append(
        _stream(
            b"/Type /ObjStm /N 50 /First %d /Filter /FlateDecode" % (len(header) + 1),
            zlib.compress(header + b" " + body),
        )
    )
    return _exact(lambda pad: _pdf(objects, padding=pad), 4 * MIB)


def jpeg_3000x2000() -> bytes:
    size = (3000, 2000)
    red = Image.linear_gradient("L").resize(size)
    green = Image.effect_noise(size, 40)
    blue = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def png_36mpx() -> bytes:
    """6000 x 6000 = 36 Mpx, just under the 40 Mpx cap: the largest image that gets decoded."""
    image = Image.linear_gradient("L").resize((6000, 6000)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 4096, 9))
        + _chunk(b"IEND", b"")
    )


def pdf_flate_bomb() -> bytes:
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"1 0 ")]
    block = b" " * MIB
    parts += [compressor.compress(block) for _ in range(1024)]  # 1 GiB once inflated
    parts.append(compressor.flush())
    objects = _base_objects(1) + [_stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b"".join(parts))]
    return _pdf(objects)


# ------------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------------


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure(name: str, filename: str, data: bytes) -> None:
    times, py_peaks, rss_peaks = [], [], []
    outcome = ""
    for _ in range(REPEATS):
        uploaded = SimpleUploadedFile(filename, data, content_type="application/octet-stream")
        can_reset = _reset_rss_peak()
        rss_before = _rss_kib("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        try:
            checked = check_upload(uploaded)
            outcome = f"accepted, {checked.content_type}, stored {checked.size:,} B"
        except ValidationError as error:
            outcome = f"refused: {error.code}"
        times.append(time.perf_counter() - started)
        py_peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        rss_after = _rss_kib("VmHWM")
        if can_reset and rss_before is not None and rss_after is not None:
            rss_peaks.append(max(0, rss_after - rss_before) * 1024)
    rss = f"{max(rss_peaks) / MIB:7.1f} MiB" if rss_peaks else "    n/a"
    print(
        f"{name:<44} {len(data):>11,} B  median {statistics.median(times) * 1000:8.1f} ms  "
        f"max {max(times) * 1000:8.1f} ms  Python peak {max(py_peaks) / MIB:6.1f} MiB  "
        f"RSS peak +{rss}  -> {outcome}"
    )


def bench_checks() -> None:
    print(
        f"UPLOAD_MAX_BYTES={settings.UPLOAD_MAX_BYTES:,}  UPLOAD_MAX_PIXELS={settings.UPLOAD_MAX_PIXELS:,}  "
        f"repeats={REPEATS}  (tracemalloc slows Python code down; times are upper bounds)"
    )
    cases = [
        ("PDF 4 MiB, comment padding", "kbis.pdf", pdf_4mib_comment()),
        ("PDF 4 MiB, 20 pages, images + ObjStm", "scan.pdf", pdf_4mib_scan_like()),
        ("PDF Flate bomb (1 GiB in an ObjStm)", "bomb.pdf", pdf_flate_bomb()),
        ("JPEG 3000x2000 with EXIF GPS", "photo.jpg", jpeg_3000x2000()),
        ("PNG 6000x6000 (36 Mpx, under the cap)", "plan.png", png_36mpx()),
        ("PNG bomb 20000x20000", "bomb.png", bomb_png()),
    ]
    for name, filename, data in cases:
        if len(data) > settings.UPLOAD_MAX_BYTES:
            print(f"{name:<44} skipped: {len(data):,} B is over the limit")
            continue
        measure(name, filename, data)


# ------------------------------------------------------------------------------------------------
# Antivirus (SECURITY F12b)
# ------------------------------------------------------------------------------------------------

SCAN_REPEATS = 15


def _median_ms(run, repeats: int) -> tuple[float, float]:
    """(median, 90th percentile) in ms."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, statistics.quantiles(times, n=10)[-1] * 1000


def _synthetic_clamd():
    from tests.antivirus import ClamdServer

    server = ClamdServer(stream_max_length="30M")
    rng = random.Random(7)
    database = server.directory / "signatures"
    with (database / "synthetic.ndb").open("w") as body:
        for number in range(200_000):
            body.write(f"Synthetic.Body.{number}:0:*:{rng.randbytes(rng.randint(16, 40)).hex()}\n")
    with (database / "synthetic.hdb").open("w") as hashes:
        for number in range(1_000_000):
            hashes.write(f"{rng.randbytes(16).hex()}:{rng.randint(1_000, 10_000_000)}:Synthetic.Hash.{number}\n")
    started = time.perf_counter()
    server.start(timeout=300)
    print(f"clamd started with 1 200 001 synthetic signatures in {time.perf_counter() - started:.1f} s")
    return server


def bench_antivirus() -> None:
    from segurnum import antivirus
    from tests.antivirus import eicar_pdf

    server = None
    if not settings.CLAMD_ADDRESS:
        server = _synthetic_clamd()
        settings.CLAMD_ADDRESS = server.address
    try:
        print(f"clamd: {antivirus.ping()} at {settings.CLAMD_ADDRESS}  repeats={SCAN_REPEATS}")
        # The first scan of each kind of file after clamd loads a large database is slow (its
        # matcher finishes its preparation then): shown apart. Production meets it once after a
        # start or a signature reload; the 15 s SEGURNUM_CLAMD_TIMEOUT covers it.
        cases = [
            ("clean random 4 MiB (scan_bytes)", random.Random(3).randbytes(4 * MIB)),
            ("clean PDF 4 MiB (scan_bytes)", pdf_4mib_scan_like()),
            ("JPEG 3000x2000 (scan_bytes)", jpeg_3000x2000()),
        ]
        for name, data in cases:
            started = time.perf_counter()
            antivirus.scan_bytes(data)
            first = (time.perf_counter() - started) * 1000
            median, p90 = _median_ms(lambda data=data: antivirus.scan_bytes(data), SCAN_REPEATS)
            print(
                f"{name:<44} {len(data):>11,} B  first {first:8.1f} ms, then median {median:8.1f} ms  p90 {p90:8.1f} ms"
            )
        infected = eicar_pdf()
        try:
            antivirus.scan_bytes(infected)
            print("EICAR PDF: NOT FOUND")
        except antivirus.FileInfected as found:
            print(f"{'EICAR inside a PDF':<44} {len(infected):>11,} B  found: {found.signature}")
        data = pdf_4mib_scan_like()
        median, p90 = _median_ms(
            lambda: check_upload(SimpleUploadedFile("scan.pdf", data, content_type="application/pdf")), SCAN_REPEATS
        )
        print(
            f"{'check_upload, PDF 4 MiB, with the scan':<44} {len(data):>11,} B  "
            f"median {median:8.1f} ms  p90 {p90:8.1f} ms"
        )
    finally:
        if server is not None:
            server.remove()


# ------------------------------------------------------------------------------------------------
# Encryption at rest (SECURITY P5)
# ------------------------------------------------------------------------------------------------

STORE_REPEATS = 21


def _storages(root: Path):
    from django.core.files.storage import FileSystemStorage

    from segurnum.storage import PrivateFileSystemStorage

    return FileSystemStorage(location=root / "clair"), PrivateFileSystemStorage(location=str(root / "chiffre"))


def _interleaved(runs: dict, repeats: int) -> dict[str, float]:
    """Median time (ms) of each run, taken in turns so that a busy machine weighs on all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def _saver(storage, data: bytes, names: list[str]):
    from django.core.files.base import ContentFile

    return lambda: names.append(storage.save("depot/piece.pdf", ContentFile(data)))


def _reader(storage, data: bytes, names: list[str]):
    def read():
        with storage.open(names[-1]) as stored:
            assert stored.read() == data

    return read


def _upload(storage, data: bytes):
    """What the wizard does with a vendor's file: check_upload(), then the draft written."""
    from django.core.files.base import ContentFile

    def upload():
        checked = check_upload(SimpleUploadedFile("kbis.pdf", data, content_type="application/pdf"))
        storage.save("depot/kbis.pdf", ContentFile(checked.content))

    return upload


class _Generated(io.RawIOBase):
    def __init__(self, size: int):
        self.size, self.position = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.position)
        buffer[:count] = bytes([self.position // MIB % 251]) * count
        self.position += count
        return count


def bench_encryption() -> None:
    import tempfile

    from django.core.files import File

    settings.CLAMD_ADDRESS = ""  # the scan is measured above; here only the storage
    logging.getLogger("segurnum.antivirus").disabled = True  # "scanning disabled", at every file
    data = pdf_4mib_comment()
    with tempfile.TemporaryDirectory() as folder:
        plain, encrypted = _storages(Path(folder))
        plain_names: list[str] = []
        sealed_names: list[str] = []
        saving = _interleaved(
            {"plain": _saver(plain, data, plain_names), "encrypted": _saver(encrypted, data, sealed_names)},
            STORE_REPEATS,
        )
        reading = _interleaved(
            {"plain": _reader(plain, data, plain_names), "encrypted": _reader(encrypted, data, sealed_names)},
            STORE_REPEATS,
        )
        uploads = _interleaved({"plain": _upload(plain, data), "encrypted": _upload(encrypted, data)}, STORE_REPEATS)
        print(f"4 MiB document, medians of {STORE_REPEATS} runs taken in turns:")
        for label, figures in (("save", saving), ("read", reading), ("whole upload", uploads)):
            print(
                f"  {label:<13} plain {figures['plain']:7.1f} ms   encrypted {figures['encrypted']:7.1f} ms   "
                f"ratio {figures['encrypted'] / figures['plain']:5.2f}"
            )
        print("  (whole upload: check_upload() of the PDF, then the draft written; antivirus off)")

        size = 256 * MIB
        can_reset = _reset_rss_peak()
        rss_before = _rss_kib("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        name = encrypted.save("archives/depot.zip", File(_Generated(size), name="depot.zip"))
        saved = time.perf_counter() - started
        _, save_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        with encrypted.open(name) as stored:
            total = sum(len(chunk) for chunk in stored.chunks())
        read = time.perf_counter() - started
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = _rss_kib("VmHWM")
        assert total == size
        rss = f"+{(rss_after - rss_before) / 1024:.1f} MiB" if can_reset and rss_before and rss_after else "n/a"
        print(
            f"256 MiB file: saved in {saved:.2f} s, read back in {read:.2f} s; Python peak "
            f"{save_peak / MIB:.2f} MiB (save) / {read_peak / MIB:.2f} MiB (read); RSS peak {rss} "
            "(tracemalloc slows both down)"
        )


SECTIONS = {"checks": bench_checks, "antivirus": bench_antivirus, "encryption": bench_encryption}


def main() -> None:
    chosen = sys.argv[1:] or list(SECTIONS)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine inflates the p90)")
    for name in chosen:
        print(f"== {name} ==")
        SECTIONS[name]()


if __name__ == "__main__":
    main()
