"""The zip of a funding request's pieces, read safely (R-FIN-8, SECURITY F15).

The archive is read member by member from a seekable file (never whole into memory): the central
directory's size and entry count are read first, before anything is listed; each member's
declared sizes, path, type and flags are judged before it is opened; a member is then streamed
through ``enrolment.uploads.check_upload``, the same judge as the enrolment's documents (type from
the bytes, 4 Mo, PDF active content, images re-encoded — and the antivirus once it is there),
which reads at most the size limit plus one byte.
"""

import posixpath
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError

from enrolment.uploads import CheckedUpload, check_upload
from funding.anomalies import Anomaly

# Archives (by name) and their signatures (by content): a zip inside the zip is refused whole.
ARCHIVE_EXTENSIONS = frozenset(
    {"zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst", "lz", "lzma", "cab", "arj", "jar", "iso"}
)
ARCHIVE_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")
# What archiving tools add by themselves: skipped silently, never judged as pieces.
TOOL_FILES = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")

Keep = Callable[[str, CheckedUpload], dict]
Progress = Callable[[int, int], None]


def normalise_name(name: str) -> str:
    """How a piece is named in the JSON and in the zip: NFC (a name typed on a Mac and one stored
    by Windows compare equal), forward slashes, no leading ``./``."""
    name = unicodedata.normalize("NFC", name).strip()
    while name.startswith("./"):
        name = name[2:]
    return name


@dataclass
class ZipReport:
    anomalies: list[Anomaly] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # every file of the zip, accepted or not
    accepted: dict[str, dict] = field(default_factory=dict)  # name -> what ``keep`` returned
    readable: bool = True


def _caps() -> tuple[int, int, int, float]:
    return (
        int(settings.FUNDING_ZIP_MAX_BYTES),
        int(settings.FUNDING_ZIP_MAX_MEMBERS),
        int(settings.FUNDING_ZIP_MAX_TOTAL_BYTES),
        float(settings.FUNDING_ZIP_MAX_RATIO),
    )


def _mib(value: int) -> str:
    return f"{value / (1024 * 1024):.0f} Mo"


class _Member:
    """A member's stream as check_upload reads an upload: a name, a declared size, read(n)."""

    def __init__(self, stream, name: str, size: int) -> None:
        self._stream = stream
        self.name = name
        self.size = size

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)


def _directory_too_large(fileobj: BinaryIO, max_members: int) -> bool:
    """The end record's entry count and directory size, read before zipfile lists anything, so a
    forged directory of millions of entries is refused without building them in memory."""
    try:
        record = zipfile._EndRecData(fileobj)  # noqa: SLF001 - the stdlib's own end-record reader
    except (OSError, ValueError):
        return False
    finally:
        fileobj.seek(0)
    if not record:
        return False
    entries = record[zipfile._ECD_ENTRIES_TOTAL]  # noqa: SLF001
    directory_size = record[zipfile._ECD_SIZE]  # noqa: SLF001
    return entries > max_members or directory_size > max_members * 1024


def check_zip(fileobj: BinaryIO, *, keep: Keep | None = None, progress: Progress | None = None) -> ZipReport:
    """Judge every member; ``keep(name, checked)`` is called for each accepted piece (filing)."""
    max_bytes, max_members, max_total, max_ratio = _caps()
    report = ZipReport()

    def refuse(code: str, message: str, name: str = "") -> None:
        report.anomalies.append(Anomaly(code=code, message=message, path=f"zip:{name}" if name else "zip"))

    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size > max_bytes:
        report.readable = False
        refuse("zip_trop_volumineux", f"Le fichier zip dépasse la taille maximum de {_mib(max_bytes)}.")
        return report
    if _directory_too_large(fileobj, max_members):
        report.readable = False
        refuse("zip_trop_de_fichiers", f"Le fichier zip contient plus de {max_members} fichiers.")
        return report
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        report.readable = False
        refuse("zip_invalide", "Le fichier envoyé n'est pas un fichier zip lisible.")
        return report
    with archive:
        members = [info for info in archive.infolist() if not TOOL_FILES.search(info.filename)]
        files = [info for info in members if not info.is_dir()]
        if len(files) > max_members:
            report.readable = False
            refuse("zip_trop_de_fichiers", f"Le fichier zip contient {len(files)} fichiers : {max_members} au plus.")
            return report
        total = sum(info.file_size for info in files)
        if total > max_total:
            report.readable = False
            refuse(
                "zip_trop_volumineux",
                f"Le contenu du fichier zip décompressé ({_mib(total)}) dépasse {_mib(max_total)}.",
            )
            return report
        for info in members:
            if info.is_dir():
                _check_path(info.filename, refuse)
        for index, info in enumerate(files, start=1):
            _check_member(archive, info, report, refuse, keep, max_ratio)
            if progress:
                progress(index, len(files))
    return report


def _check_path(raw: str, refuse) -> bool:
    parts = raw.replace("\\", "/").split("/")
    if raw.startswith(("/", "\\")) or _DRIVE.match(raw) or "\\" in raw or ".." in parts:
        refuse("zip_chemin_interdit", f"Le chemin « {raw} » est interdit dans le zip (chemin absolu ou « .. »).", raw)
        return False
    return True


def _check_member(archive, info: zipfile.ZipInfo, report: ZipReport, refuse, keep, max_ratio: float) -> None:
    raw = info.filename
    if not _check_path(raw, refuse):
        return
    name = normalise_name(raw)
    if name in report.present:
        refuse("zip_nom_en_double", f"Deux fichiers du zip s'appellent « {name} ».", name)
        return
    report.present.add(name)
    if stat.S_ISLNK(info.external_attr >> 16):
        refuse("zip_lien", f"« {name} » est un lien symbolique : seuls des fichiers sont acceptés.", name)
        return
    if info.flag_bits & 0x1:
        refuse("zip_chiffre", f"« {name} » est chiffré (protégé par un mot de passe) : il ne peut pas être lu.", name)
        return
    extension = posixpath.splitext(name)[1].lower().lstrip(".")
    if extension in ARCHIVE_EXTENSIONS:
        refuse("zip_archive_imbriquee", f"« {name} » est une archive : joignez directement ses fichiers.", name)
        return
    if info.file_size and (info.compress_size == 0 or info.file_size / info.compress_size > max_ratio):
        refuse(
            "zip_taux_compression",
            f"« {name} » est compressé plus de {max_ratio:.0f} fois : il est refusé (bombe de décompression).",
            name,
        )
        return
    try:
        with archive.open(info) as stream:
            head = stream.read(8)
            if head.startswith(ARCHIVE_SIGNATURES):
                refuse(
                    "zip_archive_imbriquee",
                    f"« {name} » contient une archive : joignez directement ses fichiers.",
                    name,
                )
                return
            stream.seek(0)
            checked = check_upload(_Member(stream, name, info.file_size))
    except ValidationError as refusal:
        refuse("piece_refusee", f"« {name} » : {refusal.messages[0]}", name)
        return
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        refuse(
            "zip_invalide", f"« {name} » est illisible dans le zip (fichier endommagé ou compression inconnue).", name
        )
        return
    report.accepted[name] = keep(name, checked) if keep else {}
