"""Documents encrypted on the disk (SECURITY P2, P5): the streamed envelope format of
segurnum/encryption.py, and the private storages that every caller goes through."""

import hashlib
import io
import os
import tracemalloc

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.core.files.uploadedfile import TemporaryUploadedFile

from segurnum import encryption
from segurnum.encryption import MAGIC, SEGMENT_SIZE, TAG_SIZE, DecryptingReader, UnreadableDocument
from tests import files

MIB = 1024 * 1024
SIZES = [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE, 3 * SEGMENT_SIZE + 7]


def sealed(data: bytes) -> bytes:
    return b"".join(encryption.encrypt_stream(io.BytesIO(data).read))


def open_sealed(tmp_path, blob: bytes, name: str = "piece.bin") -> DecryptingReader:
    path = tmp_path / name
    path.write_bytes(blob)
    return DecryptingReader(open(path, "rb"))  # noqa: SIM115 - closed by the reader


def read_all(reader: DecryptingReader) -> bytes:
    with reader:
        return reader.read()


def header_length(blob: bytes) -> int:
    return len(MAGIC) + 2 + int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 2], "big")


# --- the format --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(tmp_path, size):
    data = os.urandom(size)
    blob = sealed(data)
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert len(blob) == header_length(blob) + size + segments * TAG_SIZE
    reader = open_sealed(tmp_path, blob)
    assert reader.size == size
    assert read_all(reader) == data


def test_ciphertext_shows_nothing_and_differs_every_time():
    data = files.pdf_bytes("Carte nationale d'identité de Claire Martin", size=200_000)
    first, second = sealed(data), sealed(data)
    assert first.startswith(MAGIC) and second.startswith(MAGIC)
    assert first != second  # a new data key and nonce prefix per file
    for blob in (first, second):
        assert b"%PDF" not in blob and b"Claire Martin" not in blob and b"x" * 64 not in blob


def test_random_access(tmp_path):
    data = os.urandom(5 * SEGMENT_SIZE + 123)
    reader = open_sealed(tmp_path, sealed(data))
    for position, length in [
        (0, 10),
        (SEGMENT_SIZE - 5, 10),
        (3 * SEGMENT_SIZE, SEGMENT_SIZE * 2),
        (len(data) - 3, 50),
    ]:
        reader.seek(position)
        assert reader.read(length) == data[position : position + length]
    assert reader.seek(0, io.SEEK_END) == len(data)
    assert reader.read(10) == b""
    reader.seek(-7, io.SEEK_END)
    assert reader.read() == data[-7:]
    reader.close()


# --- tampering ---------------------------------------------------------------------------------


def flip(blob: bytes, position: int) -> bytes:
    return blob[:position] + bytes([blob[position] ^ 0x01]) + blob[position + 1 :]


@pytest.fixture
def three_segments():
    data = os.urandom(2 * SEGMENT_SIZE + 1000)
    return data, sealed(data)


@pytest.mark.parametrize("segment", [0, 1, 2])
def test_a_changed_byte_in_any_segment_is_detected(tmp_path, three_segments, segment):
    data, blob = three_segments
    body = header_length(blob)
    reader = open_sealed(tmp_path, flip(blob, body + segment * (SEGMENT_SIZE + TAG_SIZE) + 100))
    with pytest.raises(UnreadableDocument, match=f"altérée \\(segment {segment}\\)"):
        read_all(reader)


def test_a_changed_header_is_detected_at_open(tmp_path, three_segments):
    _, blob = three_segments
    with pytest.raises(UnreadableDocument, match="clé de la pièce illisible"):
        open_sealed(tmp_path, flip(blob, header_length(blob) - 5))


def test_a_file_cut_at_a_segment_boundary_is_detected(tmp_path, three_segments):
    """The new last segment was not written as the last one: its tag fails, even for a reader
    that trusts the size and stops there."""
    _, blob = three_segments
    cut = blob[: header_length(blob) + 2 * (SEGMENT_SIZE + TAG_SIZE)]
    reader = open_sealed(tmp_path, cut)
    assert reader.size == 2 * SEGMENT_SIZE
    with pytest.raises(UnreadableDocument):
        read_all(reader)


def test_a_file_cut_inside_a_segment_or_extended_is_detected(tmp_path, three_segments):
    _, blob = three_segments
    for damaged in (blob[:-10], blob + b"\0" * 40, blob + blob[-TAG_SIZE:]):
        with pytest.raises(UnreadableDocument):
            read_all(open_sealed(tmp_path, damaged))


def test_swapped_segments_are_detected(tmp_path, three_segments):
    _, blob = three_segments
    body, step = header_length(blob), SEGMENT_SIZE + TAG_SIZE
    first, second = blob[body : body + step], blob[body + step : body + 2 * step]
    swapped = blob[:body] + second + first + blob[body + 2 * step :]
    with pytest.raises(UnreadableDocument, match="segment 0"):
        read_all(open_sealed(tmp_path, swapped))


def test_a_header_moved_onto_another_body_is_detected(tmp_path):
    one, other = sealed(b"a" * 1000), sealed(b"b" * 1000)
    chimera = one[: header_length(one)] + other[header_length(other) :]
    with pytest.raises(UnreadableDocument):
        read_all(open_sealed(tmp_path, chimera))


def test_an_empty_file_is_authenticated_too(tmp_path):
    blob = sealed(b"")
    with pytest.raises(UnreadableDocument):
        read_all(open_sealed(tmp_path, flip(blob, len(blob) - 1)))


def test_plaintext_and_unknown_keys_are_refused(tmp_path, settings):
    with pytest.raises(UnreadableDocument, match="non chiffrée"):
        open_sealed(tmp_path, files.pdf_bytes())
    blob = sealed(b"secret")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UnreadableDocument, match="clé de la pièce illisible"):
        open_sealed(tmp_path, blob)


# --- streamed, never whole ---------------------------------------------------------------------


class Generated(io.RawIOBase):
    """``size`` bytes made up on the fly (a 64 MiB upload that is never in memory)."""

    def __init__(self, size: int):
        self.size, self.position = size, 0
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.position)
        block = (self.position // 4096).to_bytes(8, "big") * (count // 8 + 1)
        start = self.position % 8
        chunk = block[start : start + count]
        buffer[:count] = chunk
        self.digest.update(chunk)
        self.position += count
        return count


def test_a_large_file_is_saved_and_read_in_constant_memory(_isolated_storage):
    """Another feature stores zips of up to 500 MiB through the same storage: save() and open()
    hold a few segments, never the file (64 MiB here, peak well under 4 MiB)."""
    size = 64 * MIB
    storage = storages["private"]
    source = Generated(size)
    tracemalloc.start()
    try:
        name = storage.save("archives/depot.zip", File(source, name="depot.zip"))
        _, saving_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with storage.open(name) as stored:
            for chunk in stored.chunks():
                digest.update(chunk)
        _, reading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == source.digest.hexdigest()
    assert storage.size(name) == size
    assert saving_peak < 4 * MIB, saving_peak
    assert reading_peak < 4 * MIB, reading_peak


# --- the storages ------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["private", "drafts"])
def test_both_private_storages_encrypt_on_disk_and_decrypt_on_open(_isolated_storage, alias):
    data = files.pdf_bytes("RIB de l'association", size=300_000)
    storage = storages[alias]
    name = storage.save("cle/rib.pdf", ContentFile(data))
    raw = (_isolated_storage / ("documents" if alias == "private" else "drafts") / name).read_bytes()
    assert raw.startswith(MAGIC) and b"%PDF" not in raw and b"RIB de l'association" not in raw
    with storage.open(name) as stored:
        assert stored.read(5) == b"%PDF-"
        assert stored.read() == data[5:]
    assert storage.size(name) == len(data)
    with pytest.raises(ValueError, match="lecture seule"):
        storage.open(name, "wb")


def test_a_large_upload_spooled_to_disk_is_never_moved_into_place_in_plaintext(_isolated_storage):
    """Django moves an upload's temporary file into a FileSystemStorage as it is: not here."""
    data = files.pdf_bytes(size=3 * MIB)  # over FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary file
    upload = TemporaryUploadedFile("kbis.pdf", "application/pdf", len(data), None)
    upload.write(data)
    upload.flush()
    name = storages["drafts"].save("cle/kbis.pdf", upload)
    raw = (_isolated_storage / "drafts" / name).read_bytes()
    assert raw.startswith(MAGIC) and b"%PDF" not in raw
    assert os.path.exists(upload.temporary_file_path())
    upload.close()
    with storages["drafts"].open(name) as stored:
        assert stored.read() == data


def test_reopening_a_closed_file_decrypts_again(_isolated_storage):
    storage = storages["private"]
    name = storage.save("a.pdf", ContentFile(b"%PDF-1.4 bonjour"))
    stored = storage.open(name)
    assert stored.read() == b"%PDF-1.4 bonjour"
    stored.close()
    stored.open()
    assert stored.read() == b"%PDF-1.4 bonjour"
    stored.close()
