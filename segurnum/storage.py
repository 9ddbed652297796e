import contextlib
import errno
import hashlib
import logging
import os
import secrets
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.utils._os import safe_makedirs
from django.utils.functional import cached_property

from segurnum import encryption

logger = logging.getLogger(__name__)

NO_PUBLIC_URL = "Les documents privés n'ont pas d'adresse publique."
# Files being re-encrypted by rotate_keys: never listed as documents, removed if left behind.
_REWRITE_PREFIX = ".chiffrement-"
_COPY_CHUNK = 1024 * 1024


# What os.link raises where a hard link cannot be made between two folders.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


class LinkUnavailable(OSError):
    """No hard link between these two storages: the file is to be copied instead."""


class EncryptingContent:
    """What FileSystemStorage._save writes: the encrypted form of ``content``, produced chunk by
    chunk (SECURITY P5). It has no ``temporary_file_path``, so that Django never moves an
    upload's plaintext temporary file into place; each call to chunks() starts over with a new
    data key (Django calls it again when the name was taken meanwhile)."""

    def __init__(self, content) -> None:
        self.content = content

    def chunks(self, chunk_size=None):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            self.content.seek(0)
        return encryption.encrypt_stream(self.content.read)


class EncryptedFile(File):
    """A stored document opened for reading: the plaintext, streamed and seekable; reopening
    after close() decrypts from the start again."""

    def __init__(self, storage: "PrivateFileSystemStorage", name: str) -> None:
        self._storage = storage
        super().__init__(storage._reader(name), name)
        self.mode = "rb"

    def open(self, mode=None):
        if mode not in (None, "rb"):
            raise ValueError("Les pièces s'ouvrent en lecture seule (« rb »).")
        if self.closed:
            self.file = self._storage._reader(self.name)
        else:
            self.seek(0)
        return self

    def verify(self) -> None:
        """Check every byte's authenticity before handing the file out (UnreadableDocument)."""
        self.file.verify()


class PrivateFileSystemStorage(FileSystemStorage):
    """Storage for the vendors' documents: files have no public address (SECURITY F10) and are
    encrypted on disk (SECURITY P5, segurnum/encryption.py).

    They live in ``<PRIVATE_STORAGE_ROOT>/<subdir>``, outside MEDIA_ROOT, and are read only
    through permission-checked views that stream them. The root follows the setting, also when
    tests change it. Every save encrypts, every open decrypts, both streamed: a 500 MiB file
    goes through a few segments of memory. ``size()`` is the plaintext's size.
    """

    def __init__(self, subdir: str = "documents", **kwargs):
        self.subdir = subdir
        super().__init__(**kwargs)
        setting_changed.connect(self._private_root_changed)

    def _private_root_changed(self, *, setting, **kwargs):
        if setting == "PRIVATE_STORAGE_ROOT":
            for name in ("base_location", "location"):
                self.__dict__.pop(name, None)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, str(Path(settings.PRIVATE_STORAGE_ROOT) / self.subdir))

    def url(self, name):
        raise ValueError(NO_PUBLIC_URL)

    def _save(self, name, content):
        return super()._save(name, EncryptingContent(content))

    def _open(self, name, mode="rb"):
        if mode != "rb":
            raise ValueError("Les pièces s'ouvrent en lecture seule (« rb ») ; on les écrit par save().")
        return EncryptedFile(self, name)

    def _reader(self, name: str) -> encryption.DecryptingReader:
        raw = open(self.path(name), "rb")  # noqa: SIM115 - closed by the reader
        try:
            return encryption.DecryptingReader(raw)
        except BaseException:
            raw.close()
            raise

    # --- a draft becoming a document without its bytes being copied (R-PERF-1) ----------------

    def seal(self, name: str) -> str:
        """What tells this file from any other put under its name since: the size of its plaintext
        and a digest of its header, the wrapped data key, drawn at random for each file written.
        Read from the header alone, whatever the file's size. A file of another content, even
        encrypted under the right key, has another data key; a body altered under this header
        fails its segments' tags at every read (SECURITY P5)."""
        wrapped, size = self._header_and_size(name)
        return f"{size}:{hashlib.sha256(wrapped).hexdigest()}"

    def link_from(self, source: "PrivateFileSystemStorage", source_name: str, name: str, max_length=None) -> str:
        """``source_name`` of ``source`` kept under ``name`` here, or under the free name
        get_available_name gives, as a second hard link to the same encrypted bytes: nothing is
        read, decrypted or written again, whatever the file's size. Returns the name taken.

        Raises LinkUnavailable where the two storages cannot share a file (not the same
        filesystem, or one without hard links); any other OSError as it comes (the draft gone,
        a full disk)."""
        origin = source.path(source_name)
        while True:
            name = self.get_available_name(name, max_length=max_length)
            target = self.path(name)
            self._make_directory(os.path.dirname(target))
            try:
                os.link(origin, target)
            except FileExistsError:
                continue  # taken meanwhile: get_available_name gives another one
            except OSError as error:
                if error.errno in _NO_LINK:
                    raise LinkUnavailable(error.errno, error.strerror) from error
                raise
            return name

    def _make_directory(self, directory: str) -> None:
        # As FileSystemStorage._save creates the folders of the files it writes.
        if self.directory_permissions_mode is None:
            os.makedirs(directory, exist_ok=True)
        else:
            safe_makedirs(directory, self.directory_permissions_mode, exist_ok=True)

    def size(self, name):
        return self._header_and_size(name)[1]

    def _header_and_size(self, name: str) -> tuple[bytes, int]:
        """The wrapped key and the plaintext's size, read from the header and the file's size."""
        with open(self.path(name), "rb") as raw:
            wrapped = encryption.read_header(raw)
            if wrapped is None:
                raise encryption.UnreadableDocument("pièce non chiffrée ou altérée")
            return wrapped, encryption.plaintext_size(os.fstat(raw.fileno()).st_size, encryption.header_size(wrapped))

    def listdir(self, path):
        directories, files = super().listdir(path)
        return directories, [name for name in files if not name.startswith(_REWRITE_PREFIX)]

    # --- key rotation and the documents written before encryption (manage.py rotate_keys) ----

    def reencrypt(self, name: str) -> str:
        """Bring one file under the newest key: "current" (nothing to do), "rewrapped" (its data
        key wrapped again; the body is copied as it is) or "encrypted" (a plaintext file of
        before encryption). The new file replaces the old one atomically, with its dates."""
        path = Path(self.path(name))
        with open(path, "rb") as source:
            wrapped = encryption.read_header(source)
            if wrapped is not None and encryption.is_wrapped_current(wrapped):
                return "current"
            if wrapped is None:
                source.seek(0)
                pieces = encryption.encrypt_stream(source.read)
                outcome = "encrypted"
            else:
                pieces = _header_then_body(encryption.rewrap(wrapped), source)
                outcome = "rewrapped"
            _replace(path, pieces, os.fstat(source.fileno()))
        return outcome

    def reencrypt_all(self) -> Counter:
        """reencrypt() for every file of this storage; the ones that fail are counted as
        "failed" and logged, the others go on."""
        outcomes: Counter = Counter()
        root = Path(self.location)
        if not root.is_dir():
            return outcomes
        for directory, _, names in os.walk(root):
            for filename in names:
                path = Path(directory, filename)
                if filename.startswith(_REWRITE_PREFIX):
                    path.unlink(missing_ok=True)  # left by an interrupted run
                    continue
                name = path.relative_to(root).as_posix()
                try:
                    outcomes[self.reencrypt(name)] += 1
                except OSError:
                    logger.exception("Rechiffrement impossible de %s", name)
                    outcomes["failed"] += 1
        return outcomes


def _header_then_body(wrapped: bytes, source):
    yield encryption.encode_header(wrapped)
    while chunk := source.read(_COPY_CHUNK):
        yield chunk


def _replace(path: Path, pieces, stat: os.stat_result) -> None:
    draft = path.with_name(f"{_REWRITE_PREFIX}{secrets.token_hex(8)}")
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.st_mode & 0o777)
        with os.fdopen(fd, "wb") as output:
            for piece in pieces:
                output.write(piece)
            output.flush()
            os.fsync(output.fileno())
        # The purge of abandoned drafts goes by the modification time: keep it.
        os.utime(draft, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(draft, path)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise


def __getattr__(name: str):
    # PrivateS3Storage needs the optional extra "s3" (django-storages, boto3): it is imported
    # only when the settings name it (SEGURNUM_STORAGE_BACKEND=s3), so that the filesystem
    # default neither loads nor needs boto3.
    if name == "PrivateS3Storage":
        from segurnum.storage_s3 import PrivateS3Storage  # needs boto3, only where S3 is configured

        return PrivateS3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def storage_errors(storage) -> tuple[type[Exception], ...]:
    """What a storage raises when it cannot read or write: a full or unwritable disk (OSError),
    or, for an object store, an unreachable endpoint or a refused request."""
    return getattr(storage, "failure_exceptions", (OSError,))


def document_storage_errors() -> tuple[type[Exception], ...]:
    """What copying a vendor's pieces from the drafts to the private storage may raise."""
    return tuple({*storage_errors(draft_storage()), *storage_errors(private_storage())})


def private_storage():
    """Callable for FileField(storage=…), resolved when the models load."""
    from django.core.files.storage import storages

    return storages["private"]


def draft_storage():
    from django.core.files.storage import storages

    return storages["drafts"]
