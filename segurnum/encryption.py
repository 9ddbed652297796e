"""Encryption at rest (SECURITY P2, P5): the keys, the IBAN column's tokens, the documents' format.

Keys live outside the database, in the environment (README « Clés de chiffrement »):

- ``SEGURNUM_ENCRYPTION_KEYS``: Fernet keys, comma-separated. The first encrypts, all decrypt
  (``cryptography``'s MultiFernet), so a new key is put first, ``rotate_keys`` re-encrypts
  everything under it, then the old one is removed.
- ``SEGURNUM_SEARCH_HASH_KEY``: the HMAC key of the search hashes (an exact IBAN is found through
  ``iban_hash``, never by decrypting every row).

The IBAN column holds Fernet tokens (AES-128-CBC + HMAC-SHA256, authenticated).

A document is encrypted by envelope, as a stream, so that a file of any size goes through a
fixed amount of memory:

    header   MAGIC (8 bytes) | length of the wrapped key (2 bytes, big-endian) | wrapped key
    body     segment 0 | segment 1 | … | last segment

The wrapped key is a Fernet token (under the first key) of a random 256-bit data key and a
random 7-byte nonce prefix, both of this file only. Each segment is AES-256-GCM of up to
SEGMENT_SIZE bytes of plaintext (ciphertext + 16-byte tag), its 12-byte nonce being the prefix,
the segment's number (4 bytes) and a last-segment flag (1 byte): the STREAM construction of
Hoang, Reyhanitabar, Rogaway and Vizár (2015), as used by Tink's streaming AEAD and age. A
changed byte, a removed, repeated or reordered segment, a truncated or extended file, or a
header moved onto another file's body fails the tag: :class:`UnreadableDocument`. Rotating the
master key re-wraps the data key only: the body stays as it is.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import hmac
import io
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SGNENC\x00\x01"
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
_CIPHER_SEGMENT = SEGMENT_SIZE + TAG_SIZE
_WRAPPED_LENGTH = struct.Struct(">H")
_HEADER_PREFIX = len(MAGIC) + _WRAPPED_LENGTH.size
_DATA_KEY_SIZE = 32
_NONCE_PREFIX_SIZE = 7
_SEGMENT_NONCE = struct.Struct(">IB")


class EncryptionConfigurationError(ValueError):
    """A key given in the environment is not usable."""


class UndecryptableValue(ValueError):
    """A stored value that no configured key opens (a removed key, or not a token at all)."""


class UnreadableDocument(OSError):
    """A document that cannot be decrypted: altered, truncated, left in plaintext, or sealed by a
    key no longer configured. An OSError (EBADMSG) so that callers treating storage failures
    (a clean French message, no 500) treat this one too."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EBADMSG, message)


# --- keys ------------------------------------------------------------------------------------


def generate_key() -> str:
    """A new key, in the form the environment variables take (Fernet's: 32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


def check_keys(keys: list[str]) -> list[str]:
    """The keys, each checked; raises EncryptionConfigurationError naming the bad one by position."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error) as error:
            raise EncryptionConfigurationError(
                f"clé n° {position} invalide : 32 octets encodés en base64 URL attendus "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from error
    return keys


def local_keys(directory: Path) -> tuple[list[str], str]:
    """The embedded default's keys: generated once under ``var/keys`` (never in the repository,
    readable by their owner only), then reused at every start."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return [_local_key(directory / "encryption.key")], _local_key(directory / "search-hash.key")


def _local_key(path: Path) -> str:
    if not path.exists():
        # Written aside, then linked into place: two processes starting at once (runserver and
        # its reloader) end up with the same key, never a half-written one.
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as output:
            output.write(generate_key() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=8)
def _newest(key: str) -> Fernet:
    return Fernet(key)


def _configured_keys() -> tuple[str, ...]:
    from django.conf import settings

    keys = tuple(settings.ENCRYPTION_KEYS)
    if not keys:
        raise EncryptionConfigurationError("aucune clé de chiffrement (SEGURNUM_ENCRYPTION_KEYS)")
    return keys


def keyring() -> MultiFernet:
    return _keyring(_configured_keys())


def newest_key() -> Fernet:
    return _newest(_configured_keys()[0])


# --- values (the IBAN column) ----------------------------------------------------------------


def encrypt_text(value: str) -> str:
    return keyring().encrypt(value.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return keyring().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise UndecryptableValue("valeur chiffrée illisible avec les clés configurées") from error


def is_token_current(token: str) -> bool:
    """True when the newest key opens the token: rotation has nothing left to do for it."""
    try:
        newest_key().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate_token(token: str) -> str:
    try:
        return keyring().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise UndecryptableValue("valeur chiffrée illisible avec les clés configurées") from error


def search_hash(value: str) -> str:
    """HMAC-SHA256 of the value without blanks, in capitals: the same IBAN typed « fr76 3000 … »
    or « FR763000… » gives the same hash; without the key, a hash says nothing."""
    from django.conf import settings

    key = base64.urlsafe_b64decode(settings.SEARCH_HASH_KEY)
    normalized = "".join(value.split()).upper()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


# --- documents -------------------------------------------------------------------------------


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + _SEGMENT_NONCE.pack(index, 1 if last else 0)


def _read_full(read: Callable[[int], bytes], size: int) -> bytes:
    """Exactly ``size`` bytes, fewer only at the end of the source (raw streams may return less)."""
    parts, missing = [], size
    while missing:
        data = read(missing)
        if not data:
            break
        parts.append(data)
        missing -= len(data)
    return b"".join(parts)


def encrypt_stream(read: Callable[[int], bytes]) -> Iterator[bytes]:
    """The encrypted file, piece by piece (the header, then one piece per segment), from a
    source read by ``read(n)``. One segment ahead is held: the last one has to be known as such."""
    data_key = AESGCM.generate_key(bit_length=256)
    prefix = os.urandom(_NONCE_PREFIX_SIZE)
    wrapped = newest_key().encrypt(data_key + prefix)
    yield MAGIC + _WRAPPED_LENGTH.pack(len(wrapped)) + wrapped
    aead = AESGCM(data_key)
    index = 0
    current = _read_full(read, SEGMENT_SIZE)
    while True:
        following = _read_full(read, SEGMENT_SIZE) if len(current) == SEGMENT_SIZE else b""
        last = not following
        yield aead.encrypt(_nonce(prefix, index, last), current, MAGIC)
        if last:
            return
        current, index = following, index + 1


def read_header(raw: io.BufferedIOBase) -> bytes | None:
    """The wrapped key of an encrypted file read from its start, or None when the file does not
    start like one (a document written before encryption)."""
    start = raw.read(_HEADER_PREFIX)
    if len(start) < _HEADER_PREFIX or not start.startswith(MAGIC):
        return None
    (length,) = _WRAPPED_LENGTH.unpack(start[len(MAGIC) :])
    wrapped = raw.read(length)
    if len(wrapped) != length:
        raise UnreadableDocument("en-tête de pièce chiffrée tronqué")
    return wrapped


def header_size(wrapped: bytes) -> int:
    return _HEADER_PREFIX + len(wrapped)


def encode_header(wrapped: bytes) -> bytes:
    return MAGIC + _WRAPPED_LENGTH.pack(len(wrapped)) + wrapped


def rewrap(wrapped: bytes) -> bytes:
    """The same data key, wrapped by the newest key."""
    try:
        return keyring().rotate(wrapped)
    except InvalidToken as error:
        raise UnreadableDocument("clé de la pièce illisible avec les clés configurées") from error


def is_wrapped_current(wrapped: bytes) -> bool:
    try:
        newest_key().decrypt(wrapped)
    except InvalidToken:
        return False
    return True


def _segments(body_size: int) -> tuple[int, int]:
    """(number of segments, ciphertext size of the last one) for a body of that size."""
    count = max(1, -(-body_size // _CIPHER_SEGMENT))
    return count, body_size - (count - 1) * _CIPHER_SEGMENT


def plaintext_size(file_size: int, header: int) -> int:
    count, last = _segments(file_size - header)
    if last < TAG_SIZE:
        raise UnreadableDocument("pièce chiffrée tronquée")
    return file_size - header - count * TAG_SIZE


class DecryptingReader(io.RawIOBase):
    """Read side of the format: a seekable, read-only file object giving the plaintext.

    Only the segment being read is decrypted and held (64 KiB). Reaching the end of the file
    always authenticates the last segment, so that a file cut at a segment boundary is caught
    even by a reader that knows the size in advance.
    """

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self._raw = raw
        wrapped = read_header(raw)
        if wrapped is None:
            raise UnreadableDocument(
                "pièce non chiffrée (écrite avant le chiffrement : lancer « manage.py rotate_keys ») ou altérée"
            )
        try:
            payload = keyring().decrypt(wrapped)
        except InvalidToken as error:
            raise UnreadableDocument("clé de la pièce illisible : clé retirée trop tôt, ou en-tête altéré") from error
        if len(payload) != _DATA_KEY_SIZE + _NONCE_PREFIX_SIZE:
            raise UnreadableDocument("clé de la pièce mal formée")
        self._aead = AESGCM(payload[:_DATA_KEY_SIZE])
        self._prefix = payload[_DATA_KEY_SIZE:]
        self._body_start = header_size(wrapped)
        file_size = os.fstat(raw.fileno()).st_size
        self.size = plaintext_size(file_size, self._body_start)
        self._count, self._last_size = _segments(file_size - self._body_start)
        self._position = 0
        self._loaded: tuple[int, bytes] | None = None
        self._last_checked = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"whence invalide : {whence}")
        if position < 0:
            raise ValueError("position négative")
        self._position = position
        return position

    def _segment(self, index: int) -> bytes:
        if self._loaded and self._loaded[0] == index:
            return self._loaded[1]
        last = index == self._count - 1
        self._raw.seek(self._body_start + index * _CIPHER_SEGMENT)
        sealed = self._raw.read(self._last_size if last else _CIPHER_SEGMENT)
        try:
            plaintext = self._aead.decrypt(_nonce(self._prefix, index, last), sealed, MAGIC)
        except InvalidTag as error:
            raise UnreadableDocument(f"pièce altérée (segment {index})") from error
        self._loaded = (index, plaintext)
        self._last_checked = self._last_checked or last
        return plaintext

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("lecture d'un fichier fermé")
        # Filled across segments: callers such as zipfile take a short read for the end of the file.
        view, filled = memoryview(buffer).cast("B"), 0
        while filled < len(view):
            if self._position >= self.size:
                if not self._last_checked:
                    self._segment(self._count - 1)
                break
            index, offset = divmod(self._position, SEGMENT_SIZE)
            plaintext = self._segment(index)
            count = min(len(view) - filled, len(plaintext) - offset)
            view[filled : filled + count] = plaintext[offset : offset + count]
            filled += count
            self._position += count
        return filled

    def readall(self) -> bytes:
        # One buffer of the remaining size (io's default reads 8 KiB at a time).
        buffer = bytearray(max(0, self.size - self._position))
        filled = self.readinto(buffer)
        self.readinto(bytearray(1))  # at the end: authenticates the last segment if not done yet
        return bytes(buffer) if filled == len(buffer) else bytes(buffer[:filled])

    def verify(self) -> None:
        """Authenticate every segment (a full read, nothing kept), then rewind."""
        for index in range(self._count):
            self._segment(index)
        self._loaded = None
        self.seek(0)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
            self._loaded = None
        super().close()
