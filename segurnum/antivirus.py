"""Antivirus scan of what vendors send, by a ClamAV daemon (SECURITY F12, F12b, G6).

A small client of two of clamd's commands (clamd(8)). ``INSTREAM``: the bytes are sent in
chunks, each prefixed by its length as a 4-byte big-endian integer, then a zero-length chunk;
clamd answers ``stream: OK`` or ``stream: <signature> FOUND``. ``FILDES``, on a local socket only,
for bytes already in memory (an upload): clamd receives with the command the descriptor of a file
holding them (the one Django wrote a large upload to, or an anonymous memory file, memfd, they
are written to once) and reads them where they are, with nothing to copy through the socket into
a temporary file of its own; it answers ``fd[N]: OK`` or ``fd[N]: <signature> FOUND``
(R-PERF-2). Written here rather than taken from the
``clamd`` package, whose last release dates from 2014: that package has a single timeout for
connecting and reading, reads a stream's error reply as a generic failure, and its fork
``clamdpy`` is young; the protocol is twenty lines.

The daemon is reached through ``settings.CLAMD_ADDRESS``: ``unix:///run/clamav/clamd.ctl`` (or a
bare absolute path) for a local socket, ``tcp://host:3310`` for a remote one. Every exchange is
bounded: ``CLAMD_CONNECT_TIMEOUT`` to connect, ``CLAMD_TIMEOUT`` for each send and receive.

Two outcomes besides a clean file, as two exceptions: :class:`FileInfected` (the daemon found
a signature) and :class:`AntivirusUnavailable` (no answer, a refused connection, an error reply,
a stream over clamd's ``StreamMaxLength``). Callers fail closed on the second one. An empty
address turns scanning off, which the settings allow outside production only (with a warning
of ``manage.py check`` and one in the log for every file let through unscanned).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.checks import Tags, Warning, register

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024  # read from a file object at a time (scan_stream)
# Sent to clamd at a time (INSTREAM): bytes already in memory go in a few system calls, the
# caller's thread holding the interpreter only between them (R-PERF-2).
STREAM_PIECE = 1024 * 1024
_REPLY_MAX = 4096
_LENGTH = struct.Struct("!L")


class AntivirusError(Exception):
    """Base of the two outcomes that are not a clean file."""


class FileInfected(AntivirusError):
    """clamd found a signature in the file."""

    def __init__(self, signature: str) -> None:
        super().__init__(f"signature {signature}")
        self.signature = signature


class AntivirusUnavailable(AntivirusError):
    """The file could not be scanned: clamd unreachable, too slow, or answering an error."""


@dataclass(frozen=True)
class ClamdAddress:
    """``unix:///path`` (or ``/path``): a local socket; ``tcp://host:port`` (or ``host:port``)."""

    path: str = ""
    host: str = ""
    port: int = 0

    @classmethod
    def parse(cls, address: str) -> ClamdAddress:
        address = address.strip()
        if address.startswith(("unix://", "/")):
            return cls(path=address.removeprefix("unix://"))
        host, sep, port = address.removeprefix("tcp://").rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"Adresse clamd invalide : {address!r} (unix:///chemin ou tcp://hôte:port)")
        return cls(host=host.strip("[]"), port=int(port))

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.path else f"tcp://{self.host}:{self.port}"


def enabled() -> bool:
    return bool(getattr(settings, "CLAMD_ADDRESS", ""))


def _address() -> ClamdAddress:
    return ClamdAddress.parse(settings.CLAMD_ADDRESS)


def _connect(address: ClamdAddress, timeout: float | None = None) -> socket.socket:
    connect_timeout = min(float(settings.CLAMD_CONNECT_TIMEOUT), timeout or float("inf"))
    if address.path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(address.path)
        except BaseException:
            sock.close()
            raise
    else:
        sock = socket.create_connection((address.host, address.port), timeout=connect_timeout)
    sock.settimeout(timeout or float(settings.CLAMD_TIMEOUT))
    return sock


def _read_reply(sock: socket.socket) -> str:
    """clamd's answer to a z-command: text up to a NUL byte (or the end of the connection)."""
    reply = b""
    while len(reply) < _REPLY_MAX:
        data = sock.recv(_REPLY_MAX)
        if not data:
            break
        reply += data
        if b"\0" in reply:
            reply = reply.split(b"\0", 1)[0]
            break
    return reply.decode("utf-8", "replace").strip()


def _command(command: bytes, timeout: float | None = None) -> str:
    address = _address()
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"z" + command + b"\0")
            return _read_reply(sock)
    except OSError as error:
        raise AntivirusUnavailable(f"clamd injoignable sur {address} : {error}") from error


def ping(timeout: float | None = None) -> str:
    """clamd's version line (« ClamAV 1.4.6/27…/… »), or AntivirusUnavailable; ``timeout``
    bounds each exchange more tightly than the settings (the health endpoint's 2 s)."""
    reply = _command(b"PING", timeout)
    if reply != "PONG":
        raise AntivirusUnavailable(f"réponse inattendue de clamd à PING : {reply!r}")
    return _command(b"VERSION", timeout)


def scan_chunks(chunks: Iterable[bytes]) -> None:
    """Scan a stream given as chunks of bytes; return if clean, raise FileInfected or
    AntivirusUnavailable. Nothing is kept: a 500 MiB stream costs one chunk of memory here."""
    send_to_scan(chunks).verdict()


def send_to_scan(chunks: Iterable[bytes]) -> PendingScan:
    """Send a stream to clamd (INSTREAM) and return at once, before its verdict: clamd scans in
    its own process while the caller goes on (R-PERF-2); ``verdict()`` then reads the answer.
    Raises AntivirusUnavailable when clamd cannot take the stream."""
    return _send(chunks, _send_stream)


def send_bytes_to_scan(
    data: bytes | memoryview, *, path: str | None = None, timeout: float | None = None
) -> PendingScan:
    """Like ``send_to_scan``, for bytes already in memory (an upload of at most a few MiB): returns
    as soon as clamd has them, and clamd scans them while the caller goes on (R-PERF-2). On a
    local socket clamd is handed a file descriptor (FILDES) and reads the bytes itself: ``path``,
    a file holding exactly these bytes (a large upload, which Django wrote to disk), opened
    afresh; otherwise an anonymous memory file (memfd) they are written to, their one copy. On a
    TCP address they are streamed (INSTREAM). ``timeout`` bounds each exchange more tightly than
    the settings.

    A local clamd that cannot read what it is handed (a mandatory access control profile, such as
    Debian's AppArmor one for clamd, may refuse a descriptor for a file outside the folders it
    lists) answers an error rather than a verdict: the bytes are then streamed to it, and so are
    the next ones of this process for ``DESCRIPTOR_RETRY_SECONDS``, with an error in the log for
    the operators each time a descriptor is refused."""

    def streamed() -> PendingScan:
        view = memoryview(data)
        pieces = (view[start : start + STREAM_PIECE] for start in range(0, len(view), STREAM_PIECE))
        return _send(pieces, _send_stream, timeout)

    if enabled() and _address().path and time.monotonic() >= _descriptors.refused_until:
        pending = _send(data, lambda sock, payload: _send_descriptor(sock, payload, path), timeout)
        pending.instead_if_unreadable = streamed
        return pending
    return streamed()


# After a local clamd has answered a descriptor with an error, this process streams for a while
# (a clamd that cannot read them would fail every upload's first try), then tries again.
DESCRIPTOR_RETRY_SECONDS = 600


@dataclass
class _DescriptorState:
    refused_until: float = 0.0


_descriptors = _DescriptorState()


def _send(payload, send: Callable[[socket.socket, Any], str], timeout: float | None = None) -> PendingScan:
    if not enabled():
        logger.warning("Analyse antivirus désactivée (SEGURNUM_CLAMD_ADDRESS vide) : fichier accepté sans analyse")
        return PendingScan(None, None)  # nothing read from the stream
    address = _address()
    try:
        sock = _connect(address, timeout)
    except OSError as error:
        raise AntivirusUnavailable(f"clamd injoignable sur {address} : {error}") from error
    try:
        early_reply = send(sock, payload)
    except OSError as error:
        sock.close()
        raise AntivirusUnavailable(f"clamd injoignable sur {address} : {error}") from error
    except BaseException:
        sock.close()
        raise
    return PendingScan(sock, address, early_reply)


class PendingScan:
    """Bytes sent or handed to clamd, their verdict still to read (``send_to_scan``,
    ``send_bytes_to_scan``). ``verdict()`` returns if clean, raises FileInfected or
    AntivirusUnavailable, and closes the connection; ``close()`` drops it without reading (the
    caller gives up)."""

    # For a descriptor handed over: how to scan the same bytes by a stream instead, when clamd
    # answers that it could not read it (``send_bytes_to_scan``).
    instead_if_unreadable: Callable[[], PendingScan] | None = None

    def __init__(self, sock: socket.socket | None, address: ClamdAddress | None, early_reply: str = "") -> None:
        self._sock, self._address, self._early_reply = sock, address, early_reply

    def verdict(self) -> None:
        if self._sock is None:
            return  # no antivirus (the embedded default): logged when sent
        try:
            with self._sock:
                reply = self._early_reply or _read_reply(self._sock)
        except OSError as error:
            raise AntivirusUnavailable(f"clamd injoignable sur {self._address} : {error}") from error
        finally:
            self._sock = None
        if self.instead_if_unreadable is not None and reply.endswith("ERROR"):
            _descriptors.refused_until = time.monotonic() + DESCRIPTOR_RETRY_SECONDS
            logger.error(
                "clamd (%s) ne lit pas les fichiers qui lui sont remis (FILDES) : %r. Les pièces lui sont "
                "envoyées par flux (INSTREAM), plus lentement, pendant %d s ; voir par exemple son profil AppArmor.",
                self._address,
                reply,
                DESCRIPTOR_RETRY_SECONDS,
            )
            self.instead_if_unreadable().verdict()
            return
        _judge(reply)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _send_stream(sock: socket.socket, chunks: Iterable[bytes]) -> str:
    """INSTREAM: the chunks, then the zero-length end. Returns "" once all is sent, or clamd's
    reply when it closed the stream early (over StreamMaxLength it answers, then closes while we
    are still sending)."""
    sock.sendall(b"zINSTREAM\0")
    try:
        for chunk in chunks:
            for start in range(0, len(chunk), STREAM_PIECE):
                piece = chunk[start : start + STREAM_PIECE]
                sock.sendall(_LENGTH.pack(len(piece)))
                sock.sendall(piece)
        sock.sendall(_LENGTH.pack(0))
    except (BrokenPipeError, ConnectionResetError):
        with contextlib.suppress(OSError):
            reply = _read_reply(sock)
            if reply:
                return reply
        raise
    return ""


def _send_descriptor(sock: socket.socket, data: bytes | memoryview, path: str | None) -> str:
    """FILDES: the command, then the descriptor (one byte of data carries it, SCM_RIGHTS). Ours is
    closed once sent: clamd holds its own, and reads the file from its start. The file at
    ``path`` is used only when its size is that of the bytes; else they go to a memfd."""
    descriptor = _open_same_bytes(path, len(data)) if path else None
    if descriptor is None:
        descriptor = os.memfd_create("segurnum-scan", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        except BaseException:
            os.close(descriptor)
            raise
    try:
        sock.sendall(b"zFILDES\0")
        socket.send_fds(sock, [b"\0"], [descriptor])
    finally:
        os.close(descriptor)
    return ""


def _open_same_bytes(path: str, size: int) -> int | None:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if os.fstat(descriptor).st_size != size:
        os.close(descriptor)
        return None
    return descriptor


# What clamd names the scanned object before its verdict: « stream » (INSTREAM), « fd[12] » (FILDES).
_REPLY = re.compile(r"(?:stream|fd\[\d+\]): (?P<result>.*)", re.DOTALL)


def _judge(reply: str) -> None:
    matched = _REPLY.fullmatch(reply)
    if matched and matched["result"].endswith(" FOUND"):
        signature = matched["result"].removesuffix(" FOUND").strip()
        raise FileInfected(signature or "inconnue")
    if matched and matched["result"] == "OK":
        return
    if "size limit exceeded" in reply:
        raise AntivirusUnavailable(f"flux plus grand que StreamMaxLength de clamd : {reply!r}")
    raise AntivirusUnavailable(f"réponse inattendue de clamd : {reply!r}")


def scan_bytes(data: bytes) -> None:
    """Scan bytes already in memory (an upload of at most a few MiB)."""
    send_bytes_to_scan(data).verdict()


def scan_stream(stream: BinaryIO) -> None:
    """Scan a file object from its current position to its end, one chunk at a time."""
    scan_chunks(_read_chunks(stream))


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


# Scanned by the health check: a few clean bytes, through the route uploads take.
HEALTH_PROBE = b"segurnum : sonde de sante de l'antivirus\n"


def health(timeout: float = 2) -> str:
    """For /sante/: "ok", "error" (logged) or "disabled". clamd must answer PING, then scan a few
    clean bytes the way uploads reach it: a local clamd that answers but cannot take a descriptor
    (FILDES) would refuse every upload."""
    if not enabled():
        return "disabled"
    try:
        ping(timeout)
    except AntivirusUnavailable:
        logger.exception("Santé : antivirus (clamd) injoignable")
        return "error"
    try:
        send_bytes_to_scan(HEALTH_PROBE, timeout=timeout).verdict()
    except AntivirusError:
        logger.exception("Santé : l'antivirus (clamd) répond mais n'analyse pas les pièces")
        return "error"
    return "ok"


@register(Tags.security)
def check_antivirus(app_configs, **kwargs):
    """Loud in development: the embedded default lets files through unscanned."""
    if enabled():
        return []
    return [
        Warning(
            "Analyse antivirus désactivée : SEGURNUM_CLAMD_ADDRESS est vide, les pièces déposées ne sont pas "
            "analysées.",
            hint="Réservé au développement (la production refuse de démarrer ainsi). Pour analyser : "
            "SEGURNUM_CLAMD_ADDRESS=unix:///run/clamav/clamd.ctl (paquet Debian clamav-daemon).",
            id="segurnum.W001",
        )
    ]
