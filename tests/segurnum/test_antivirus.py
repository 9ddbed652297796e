"""segurnum/antivirus.py against a real clamd (SECURITY F12, F12b, G6): the INSTREAM and FILDES
client, its two failures (infected, unavailable), its time bounds, and the settings that keep
production closed."""

import io
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from segurnum import antivirus
from segurnum.antivirus import AntivirusUnavailable, ClamdAddress, FileInfected
from tests.antivirus import EICAR, SIGNATURE_NAME, SIGNATURES, eicar_jpeg, eicar_pdf, eicar_png
from tests.files import pdf_bytes, png_bytes
from tests.segurnum.conftest import free_port, production_env, run_here

MIB = 1024 * 1024


def test_the_test_signature_is_a_body_signature_of_eicar():
    name, target, offset, body = SIGNATURES.read_text().strip().split(":")
    assert (target, offset) == ("0", "*")  # any file type, anywhere in the file
    assert bytes.fromhex(body) == EICAR
    assert SIGNATURE_NAME.startswith(name)


def test_clean_bytes_and_streams_pass(clamd):
    antivirus.scan_bytes(pdf_bytes())
    antivirus.scan_bytes(png_bytes())
    antivirus.scan_stream(io.BytesIO(b"%PDF-1.4\n" + b"x" * (3 * MIB)))


@pytest.mark.parametrize("build", [eicar_pdf, eicar_png, eicar_jpeg], ids=["pdf", "png", "jpeg"])
def test_eicar_inside_a_document_is_found(clamd, build):
    data = build()
    assert data[:4] in (b"%PDF", b"\x89PNG") or data[:3] == b"\xff\xd8\xff"
    with pytest.raises(FileInfected) as found:
        antivirus.scan_bytes(data)
    assert found.value.signature == SIGNATURE_NAME


@pytest.mark.parametrize("build", [eicar_pdf, eicar_png], ids=["pdf", "png"])
def test_bytes_in_memory_reach_a_local_clamd_as_a_descriptor_and_a_remote_one_as_a_stream(clamd, settings, build):
    """R-PERF-2: on the local socket clamd is handed a memory file (FILDES), nothing streamed; over
    TCP the same bytes are streamed (INSTREAM). Same verdicts both ways."""
    data = b"%PDF-1.4\n" + b"a" * (2 * MIB + 5) + b"\n%%EOF\n"
    for address, route in ((clamd.address, "memory"), (clamd.tcp_address, "stream")):
        settings.CLAMD_ADDRESS = address
        before = {name: clamd.clean_scans(name) for name in ("memory", "stream")}
        antivirus.send_bytes_to_scan(data).verdict()
        clamd.clean_scans(route, at_least=before[route] + 1)
        after = {name: clamd.clean_scans(name) for name in ("memory", "stream")}
        expected = {"memory": int(route == "memory"), "stream": int(route == "stream")}
        assert {name: after[name] - before[name] for name in after} == expected
        with pytest.raises(FileInfected) as found:
            antivirus.scan_bytes(build())
        assert found.value.signature == SIGNATURE_NAME


def test_a_file_holding_the_same_bytes_is_handed_over_as_it_is(clamd, tmp_path):
    """A large upload is already on disk: clamd reads that file (its own descriptor, from its
    start), nothing is copied. A file whose size differs is not trusted: the bytes go to a
    memory file."""
    infected = eicar_pdf()
    on_disk = tmp_path / "upload.pdf"
    on_disk.write_bytes(infected)
    with open(on_disk, "rb") as opened:
        opened.read()  # our own reads leave no offset for clamd to start from
        with pytest.raises(FileInfected):
            antivirus.send_bytes_to_scan(infected, path=str(on_disk)).verdict()
    clean = pdf_bytes()
    on_disk.write_bytes(clean)
    memory, files_scanned = clamd.clean_scans("memory"), clamd.clean_scans("file")
    antivirus.send_bytes_to_scan(clean, path=str(on_disk)).verdict()
    assert clamd.clean_scans("file", at_least=files_scanned + 1) == files_scanned + 1
    assert f"{on_disk}: OK" in clamd.output() and clamd.clean_scans("memory") == memory
    # Same bytes asked for, a file of another size: clamd scans the bytes, not the file.
    with pytest.raises(FileInfected):
        antivirus.send_bytes_to_scan(infected, path=str(on_disk)).verdict()
    antivirus.scan_bytes(clean)  # a clean scan after it: its line comes once the one before is written
    clamd.clean_scans("memory", at_least=memory + 1)
    assert clamd.clean_scans("file") == files_scanned + 1


def test_a_file_that_cannot_be_opened_leaves_the_bytes_to_a_memory_file(clamd, tmp_path):
    memory = clamd.clean_scans("memory")
    antivirus.send_bytes_to_scan(pdf_bytes(), path=str(tmp_path / "gone.pdf")).verdict()
    assert clamd.clean_scans("memory", at_least=memory + 1) == memory + 1


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("stream: OK", None),
        ("fd[12]: OK", None),
        ("stream: Win.Test.EICAR_HDB-1 FOUND", "Win.Test.EICAR_HDB-1"),
        ("fd[7]: Win.Test.EICAR_HDB-1 FOUND", "Win.Test.EICAR_HDB-1"),
        ("fd[7]: lstat() failed: No such file or directory. ERROR", AntivirusUnavailable),
        ("INSTREAM size limit exceeded. ERROR", AntivirusUnavailable),
        ("UNKNOWN COMMAND", AntivirusUnavailable),
        ("", AntivirusUnavailable),
        ("OK", AntivirusUnavailable),
    ],
)
def test_clamds_replies(reply, outcome):
    if outcome is None:
        antivirus._judge(reply)
    elif isinstance(outcome, str):
        with pytest.raises(FileInfected) as found:
            antivirus._judge(reply)
        assert found.value.signature == outcome
    else:
        with pytest.raises(outcome):
            antivirus._judge(reply)


def test_eicar_past_the_first_chunks_of_a_stream_is_found(clamd):
    """A stream sent in many chunks: the string straddles two of them, 1 MiB in."""
    data = b"%PDF-1.4\n" + b"a" * (MIB - 20) + EICAR + b"b" * MIB
    with pytest.raises(FileInfected):
        antivirus.scan_stream(io.BytesIO(data))


def test_a_stream_is_sent_chunk_by_chunk_never_whole(clamd):
    class Source(io.RawIOBase):
        def __init__(self):
            self.sizes = []

        def readable(self):
            return True

        def read(self, size=-1):
            self.sizes.append(size)
            return b"z" * size if len(self.sizes) <= 80 else b""

    source = Source()
    antivirus.scan_stream(source)
    assert set(source.sizes) == {antivirus.CHUNK_SIZE}  # 80 reads of 64 KiB: 5 MiB in all


def test_stopped_clamd_is_unavailable_quickly(private_clamd):
    antivirus.scan_bytes(pdf_bytes())
    private_clamd.stop()
    started = time.monotonic()
    with pytest.raises(AntivirusUnavailable, match="injoignable"):
        antivirus.scan_bytes(pdf_bytes())
    assert time.monotonic() - started < 1


def test_nothing_listening_on_tcp_is_unavailable(settings):
    settings.CLAMD_ADDRESS = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(AntivirusUnavailable):
        antivirus.scan_bytes(pdf_bytes())


@pytest.mark.parametrize("route", ["tcp", "unix"])
def test_a_daemon_that_never_answers_is_abandoned_after_the_timeout(settings, request, route):
    """Over TCP (a stream) and on a local socket (a descriptor handed over) alike."""
    if route == "tcp":
        settings.CLAMD_ADDRESS = f"tcp://127.0.0.1:{request.getfixturevalue('silent_server')}"
    else:
        settings.CLAMD_ADDRESS = f"unix://{request.getfixturevalue('silent_unix_server')}"
    settings.CLAMD_TIMEOUT = 0.5
    started = time.monotonic()
    with pytest.raises(AntivirusUnavailable, match="timed out"):
        antivirus.scan_bytes(pdf_bytes())
    assert 0.4 < time.monotonic() - started < 3


def test_a_stream_over_streammaxlength_is_unavailable_not_clean(clamd):
    """The session's clamd takes 10 MiB at most: more is refused by clamd, and so by us."""
    with pytest.raises(AntivirusUnavailable, match="StreamMaxLength"):
        antivirus.scan_stream(io.BytesIO(b"y" * (11 * MIB)))


def test_ping_gives_the_version(clamd):
    assert antivirus.ping().startswith("ClamAV ")
    scanned = clamd.clean_scans("memory")
    assert antivirus.health() == "ok"
    assert clamd.clean_scans("memory", at_least=scanned + 1) == scanned + 1  # the probe, by the uploads' route


class RefusingClamd:
    """A local clamd that answers PING, VERSION and INSTREAM (always clean), and answers a
    descriptor handed over (FILDES) with the error clamd gives when it could not receive or read
    it (a mandatory access control profile refusing the file)."""

    def __init__(self, stream_reply: bytes = b"stream: OK") -> None:
        self.stream_reply = stream_reply
        self.folder = tempfile.mkdtemp(prefix="clamd-")
        self.path = os.path.join(self.folder, "clamd.sock")
        self.commands: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen()
        self.server.settimeout(0.1)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                self.answer(connection)

    def answer(self, connection: socket.socket) -> None:
        command, fds, _, _ = socket.recv_fds(connection, 10, 4)
        if command.startswith(b"zFILDES\0") and not fds:
            _, fds, _, _ = socket.recv_fds(connection, 10, 4)  # the descriptor comes in its own message
        for fd in fds:
            os.close(fd)
        self.commands.append(command.rstrip(b"\0"))
        if command.startswith(b"zINSTREAM\0"):
            buffer = command.removeprefix(b"zINSTREAM\0")
            while True:
                while len(buffer) < 4:
                    buffer += connection.recv(65536)
                size, buffer = int.from_bytes(buffer[:4], "big"), buffer[4:]
                if size == 0:
                    break
                while len(buffer) < size:
                    buffer += connection.recv(65536)
                buffer = buffer[size:]
            reply = self.stream_reply
        elif command.startswith(b"zFILDES"):
            reply = b"FILDES: didn't receive file descriptor. ERROR"
        else:
            reply = {b"zPING\0": b"PONG", b"zVERSION\0": b"ClamAV 1.4.3/27000/refus"}.get(command, b"UNKNOWN")
        connection.sendall(reply + b"\0")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def test_a_local_daemon_that_cannot_read_a_descriptor_gets_the_bytes_streamed(settings, monkeypatch, caplog):
    """Debian's AppArmor profile for clamd lets it read some folders only: a descriptor of a file
    elsewhere is refused, and clamd answers an error instead of a verdict. The bytes are then
    streamed to it, and so are the next ones of this process for a while; the log says why, for
    the operators, and the health check still passes (uploads are scanned). Then a descriptor is
    tried again."""
    monkeypatch.setattr(antivirus, "_descriptors", antivirus._DescriptorState())
    clamd = RefusingClamd()
    try:
        settings.CLAMD_ADDRESS = f"unix://{clamd.path}"
        antivirus.send_bytes_to_scan(pdf_bytes()).verdict()
        assert clamd.commands == [b"zFILDES", b"zINSTREAM"]
        assert "ne lit pas les fichiers qui lui sont remis (FILDES)" in caplog.text
        antivirus.scan_bytes(pdf_bytes())
        assert antivirus.health(timeout=1) == "ok"
        assert clamd.commands[2:] == [b"zINSTREAM", b"zPING", b"zVERSION", b"zINSTREAM"]

        pause = antivirus._descriptors.refused_until - time.monotonic()
        assert antivirus.DESCRIPTOR_RETRY_SECONDS - 60 < pause <= antivirus.DESCRIPTOR_RETRY_SECONDS
        antivirus._descriptors.refused_until = time.monotonic()  # the pause is over
        antivirus.scan_bytes(pdf_bytes())
        assert clamd.commands[6:] == [b"zFILDES", b"zINSTREAM"]
    finally:
        clamd.stop()


def test_an_error_from_a_stream_is_still_unavailable_not_clean(settings, monkeypatch, caplog):
    """The stream is the last resort: clamd's error there refuses the file (fail closed), and the
    health check, whose PING is answered, says the antivirus is in error."""
    monkeypatch.setattr(antivirus, "_descriptors", antivirus._DescriptorState())
    clamd = RefusingClamd(stream_reply=b"LibClamAV Error: out of memory ERROR")
    try:
        settings.CLAMD_ADDRESS = f"unix://{clamd.path}"
        with pytest.raises(AntivirusUnavailable, match="réponse inattendue"):
            antivirus.send_bytes_to_scan(pdf_bytes()).verdict()
        assert clamd.commands == [b"zFILDES", b"zINSTREAM"]
        assert antivirus.health(timeout=1) == "error"
        assert clamd.commands[2:] == [b"zPING", b"zVERSION", b"zINSTREAM"]
        assert "l'antivirus (clamd) répond mais n'analyse pas les pièces" in caplog.text
    finally:
        clamd.stop()


def test_disabled_scanning_lets_files_through_and_says_so(settings, caplog):
    settings.CLAMD_ADDRESS = ""
    antivirus.scan_bytes(EICAR)
    assert "Analyse antivirus désactivée" in caplog.text
    assert antivirus.health() == "disabled"
    (warning,) = antivirus.check_antivirus(None)
    assert warning.id == "segurnum.W001"


def test_no_warning_when_scanning(clamd):
    assert antivirus.check_antivirus(None) == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:///run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
        ("/run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
        ("tcp://clamav:3310", ClamdAddress(host="clamav", port=3310)),
        ("127.0.0.1:3310", ClamdAddress(host="127.0.0.1", port=3310)),
        ("tcp://[::1]:3310", ClamdAddress(host="::1", port=3310)),
    ],
)
def test_addresses(address, expected):
    assert ClamdAddress.parse(address) == expected


# --- settings: production fails closed ---------------------------------------------------------

DUMP = "import django; django.setup(); from django.conf import settings; print(repr(settings.CLAMD_ADDRESS))"


def test_production_scans_through_debians_socket_by_default(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="segurnum.settings")
    result = run_here(["python", "-c", DUMP], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "'unix:///run/clamav/clamd.ctl'"


def test_production_refuses_to_start_with_scanning_off(tmp_path):
    env = production_env(tmp_path, SEGURNUM_CLAMD_ADDRESS="")
    result = run_here(["python", "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SEGURNUM_CLAMD_ADDRESS ne peut pas être vide en production" in result.stderr


def test_a_malformed_address_is_refused_at_start(tmp_path):
    env = production_env(tmp_path, SEGURNUM_CLAMD_ADDRESS="clamav")
    result = run_here(["python", "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SEGURNUM_CLAMD_ADDRESS" in result.stderr


def test_the_embedded_default_starts_without_clamd_and_warns(tmp_path):
    env = production_env(tmp_path)
    for name in ("DJANGO_ENV", "SEGURNUM_ENCRYPTION_KEYS", "SEGURNUM_SEARCH_HASH_KEY", "DJANGO_ALLOWED_HOSTS"):
        env.pop(name)
    result = run_here(["python", "manage.py", "check"], env)
    assert result.returncode == 0, result.stderr
    assert "segurnum.W001" in result.stderr and "Analyse antivirus désactivée" in result.stderr
