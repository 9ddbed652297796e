"""A real ClamAV daemon for the tests, and files carrying the EICAR test string.

clamd is Debian's (package clamav-daemon), started with a configuration of its own in a short
temporary folder (a unix socket path is limited to 108 bytes), in the foreground, and with one
signature only: tests/clamav/segurnum-test.ndb, a body signature (``.ndb``: name, target type 0
= any file, offset ``*`` = anywhere, hex bytes) of the EICAR test string. It matches the string
inside a PDF or in an image's metadata, not only a file made of it; nothing is downloaded.

The EICAR string is built from two halves, so that no antivirus scanning this repository quarantines
this file.
"""

import io
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image, PngImagePlugin

from tests import files
from tests.segurnum.conftest import free_port, stop_process_group

SIGNATURES = Path(__file__).resolve().parent / "clamav" / "segurnum-test.ndb"
SIGNATURE_NAME = "Segurnum.Test.EICAR-1.UNOFFICIAL"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def clamd_binary() -> str | None:
    return shutil.which("clamd") or next((path for path in ("/usr/sbin/clamd",) if os.access(path, os.X_OK)), None)


def antivirus_required() -> bool:
    return os.environ.get("SEGURNUM_REQUIRE_ANTIVIRUS") == "1"


class ClamdServer:
    """clamd on a unix socket of its own, and on a TCP port of 127.0.0.1 (``tcp_address``: the
    route of a remote clamd); ``stop()`` then ``start()`` again for an outage."""

    def __init__(self, *, stream_max_length: str = "10M") -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="clamd-"))
        self.socket = self.directory / "clamd.sock"
        self.port = free_port()
        self.log = self.directory / "clamd.log"
        self.config = self.directory / "clamd.conf"
        database = self.directory / "signatures"
        database.mkdir()
        shutil.copy(SIGNATURES, database / SIGNATURES.name)
        (self.directory / "tmp").mkdir()
        self.config.write_text(
            f"LocalSocket {self.socket}\n"
            f"TCPSocket {self.port}\n"
            "TCPAddr 127.0.0.1\n"
            f"DatabaseDirectory {database}\n"
            f"TemporaryDirectory {self.directory / 'tmp'}\n"
            f"PidFile {self.directory / 'clamd.pid'}\n"
            f"LogFile {self.log}\n"
            "LogTime yes\n"
            "LogClean yes\n"
            "Foreground yes\n"
            "MaxThreads 4\n"
            f"StreamMaxLength {stream_max_length}\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    @property
    def tcp_address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "ClamdServer":
        binary = clamd_binary()
        assert binary, "clamd absent (apt-get install clamav-daemon)"
        self.process = subprocess.Popen(
            [binary, f"--config-file={self.config}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            assert self.process.poll() is None, f"clamd s'est arrêté :\n{self.output()}"
            assert time.monotonic() < deadline, f"clamd ne répond pas après {timeout} s :\n{self.output()}"
            time.sleep(0.05)
        return self

    def answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"zPING\0")
                return sock.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
        assert not self.answers()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def scan(self, data: bytes) -> str:
        """clamd's raw verdict on ``data`` (INSTREAM in one chunk), without the portal's client."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.socket))
            sock.sendall(b"zINSTREAM\0" + len(data).to_bytes(4, "big") + data + b"\0\0\0\0")
            return sock.recv(4096).split(b"\0", 1)[0].decode()

    def clean_scans(self, route: str = "", *, at_least: int = 0, timeout: float = 10) -> int:
        """How many files clamd has found clean (its log, with LogClean): all of them, or those of
        one route: "stream" (INSTREAM), "memory" (FILDES, the portal's memory file) or "file"
        (FILDES, a file on disk handed over). clamd writes a scan's line after its answer: with
        ``at_least``, wait up to ``timeout`` seconds for that many (the lines come in order, so
        the lines of earlier scans are there too)."""
        deadline = time.monotonic() + timeout
        while True:
            count = 0
            lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
            for line in lines:
                scanned, _, verdict = line.partition(" -> ")[2].rpartition(": ")
                if verdict == "OK" and scanned:
                    count += route in ("", _route(scanned))
            if count >= at_least or time.monotonic() > deadline:
                return count
            time.sleep(0.02)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _route(scanned: str) -> str:
    if scanned.startswith("instream("):
        return "stream"
    return "memory" if scanned.startswith("/memfd:segurnum-scan") else "file"


# --- files carrying the test string ------------------------------------------------------------


def eicar_pdf() -> bytes:
    """A valid PDF (no active content) with the string in a comment."""
    return files.pdf_bytes(EICAR.decode("ascii"))


def eicar_png() -> bytes:
    """A valid PNG with the string in a tEXt chunk: re-encoding would drop it."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", EICAR.decode("ascii"))
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 145)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def eicar_jpeg() -> bytes:
    """A valid JPEG with the string in a COM segment: re-encoding would drop it."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="JPEG", comment=EICAR)
    return buffer.getvalue()


if __name__ == "__main__":
    # .ci/run: clamd starts with the test signatures and finds EICAR inside a document.
    server = ClamdServer().start()
    try:
        verdicts = {"PDF propre": server.scan(files.pdf_bytes()), "PDF avec EICAR": server.scan(eicar_pdf())}
        for label, verdict in verdicts.items():
            print(f"clamd ({server.address}) : {label} -> {verdict}")
        assert verdicts == {"PDF propre": "stream: OK", "PDF avec EICAR": f"stream: {SIGNATURE_NAME} FOUND"}
    finally:
        server.remove()
