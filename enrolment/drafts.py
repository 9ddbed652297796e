"""Files of a wizard in progress (R-WIZ-9, R-WIZ-10, SECURITY F9/F10/F13).

A file is judged as soon as it arrives and, when good, written under the private draft storage
in a folder of its own wizard (``<draft key>/<uuid>.<ext>``), whatever happens to the other
fields of the step. Only metadata goes into the session. Abandoned drafts are removed by
« Quitter sans enregistrer » and by a periodic purge.

Everything goes through the Storage API (save, open, exists, listdir, get_modified_time,
delete), never a filesystem path: the same code runs on the filesystem default and on an
S3-compatible bucket, where a "folder" is only a key prefix.
"""

import hashlib
import logging
import posixpath
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from enrolment.uploads import check_upload
from segurnum import ratelimit
from segurnum.storage import LinkUnavailable, draft_storage, storage_errors

logger = logging.getLogger(__name__)

STORAGE_ERROR = "Le fichier n'a pas pu être enregistré. Veuillez réessayer dans quelques instants."
TOO_MANY_DRAFTS = (
    "Trop de demandes d'enrôlement ont été commencées depuis votre connexion en une heure : ce fichier "
    "n'a pas été conservé. Réessayez plus tard ou contactez l'assistance."
)
TOO_MANY_BYTES = (
    "Trop de fichiers ont été envoyés depuis votre connexion en une heure : ce fichier n'a pas été "
    "conservé. Réessayez plus tard ou contactez l'assistance."
)
DRAFT_FULL = (
    "Votre demande contient déjà trop de fichiers : ce fichier n'a pas été conservé. "
    "Contactez l'assistance si vous devez en joindre davantage."
)
# Counters per client address (segurnum.ratelimit), one hour each.
NEW_DRAFTS, DRAFT_BYTES = "drafts", "draft-bytes"


def reserve_quota(*, client_ip: str | None, kept: list[dict], replacing: dict | None, size: int) -> dict[str, int]:
    """SECURITY F14: a draft keeps at most DRAFT_MAX_FILES files and DRAFT_MAX_BYTES bytes; an
    address starts at most DRAFT_RATE_LIMIT drafts (its first kept file, on step 1, before any
    captcha) and sends at most DRAFT_ADDRESS_MAX_BYTES bytes of files per hour.

    ``kept`` is every file the draft keeps, ``replacing`` the one this upload would replace.
    ``client_ip`` is the web client's address; None for a file that does not come from a web
    request (a command, a test): the per-address quotas do not apply to it.

    The address's counters are added to first and read back in the same round trip (R-PERF-5),
    so that two uploads at once cannot both pass a limit only one of them fits; a refused upload
    gives its amounts back at once. Returns what was counted, for ``give_back`` when the file is
    not kept after all.
    """
    others = [meta for meta in kept if meta is not replacing]
    if len(others) + 1 > settings.DRAFT_MAX_FILES or sum(meta["size"] for meta in others) + size > (
        settings.DRAFT_MAX_BYTES
    ):
        raise ValidationError(DRAFT_FULL, code="draft_full")
    if client_ip is None:
        return {}
    amounts = {DRAFT_BYTES: size} if kept else {NEW_DRAFTS: 1, DRAFT_BYTES: size}
    totals = ratelimit.record_many(amounts, client_ip)
    refusal = None
    if not kept and totals[NEW_DRAFTS] > settings.DRAFT_RATE_LIMIT:
        logger.warning("Brouillon refusé : trop de demandes commencées depuis %s", client_ip)
        refusal = ValidationError(TOO_MANY_DRAFTS, code="too_many_drafts")
    elif totals[DRAFT_BYTES] > settings.DRAFT_ADDRESS_MAX_BYTES:
        logger.warning("Pièce refusée : trop d'octets reçus depuis %s", client_ip)
        refusal = ValidationError(TOO_MANY_BYTES, code="too_many_bytes")
    if refusal is not None:
        give_back(amounts, client_ip)
        raise refusal
    return amounts


def give_back(amounts: dict[str, int], client_ip: str | None) -> None:
    """What ``reserve_quota`` counted for a file that was not kept (refused, or not written)."""
    if amounts:
        ratelimit.record_many({scope: -amount for scope, amount in amounts.items()}, client_ip)


def save_draft_file(
    draft_key: str,
    uploaded_file,
    *,
    client_ip: str | None = None,
    kept: list[dict] | None = None,
    replacing: dict | None = None,
) -> dict:
    """Check an upload against the quotas and its content, then keep it; returns the metadata
    stored with the wizard's data (``kept``/``replacing``: see ``reserve_quota``).

    Raises ValidationError with a French message for a quota reached, a bad file or a storage
    failure (full or unwritable disk): in that case no partial file remains, and the quotas
    count nothing for it.
    """
    kept = kept or []
    counted = reserve_quota(client_ip=client_ip, kept=kept, replacing=replacing, size=uploaded_file.size)
    try:
        return _judge_and_keep(draft_key, uploaded_file)
    except BaseException:
        give_back(counted, client_ip)
        raise


def _judge_and_keep(draft_key: str, uploaded_file) -> dict:
    checked = check_upload(uploaded_file)
    storage = draft_storage()
    name = f"{draft_key}/{uuid.uuid4().hex}.{checked.extension}"
    try:
        saved = storage.save(name, ContentFile(checked.content))
        seal = storage.seal(saved) if hasattr(storage, "seal") else ""
    except storage_errors(storage) as error:
        logger.error("Écriture impossible d'une pièce en brouillon : %s", error)
        _remove_quietly(storage, name)
        raise ValidationError(STORAGE_ERROR, code="storage") from error
    meta = {
        "path": saved,
        "name": checked.original_name,
        "content_type": checked.content_type,
        "size": checked.size,
        "sha256": checked.sha256,
    }
    if seal:
        meta["seal"] = seal  # what store_as_document checks the file by
    return meta


def _remove_quietly(storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except storage_errors(storage):
        logger.warning("Suppression impossible du brouillon %s", name, exc_info=True)


def delete_draft_file(meta: dict | None) -> None:
    if meta and meta.get("path"):
        _remove_quietly(draft_storage(), meta["path"])


def delete_draft(draft_key: str) -> None:
    """Remove every file of one wizard."""
    if not draft_key:
        return
    _remove_folder(draft_storage(), str(uuid.UUID(draft_key)))


def purge_stale_drafts(max_age_hours: int | None = None) -> int:
    """Remove draft folders untouched for longer than the allowed age (default 24 h).

    A folder's age is that of its newest file. A folder without files exists only on the
    filesystem (an object store has no empty prefix): its own time counts then.
    """
    hours = settings.DRAFT_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    storage = draft_storage()
    limit = timezone.now() - timedelta(hours=hours)
    removed = 0
    for folder in _listdir(storage, "")[0]:
        try:
            files = _listdir(storage, folder)[1]
            names = [posixpath.join(folder, name) for name in files] or [folder]
            newest = max(storage.get_modified_time(name) for name in names)
        except storage_errors(storage):
            logger.warning("Âge du brouillon %s illisible", folder, exc_info=True)
            continue
        if newest < limit and _remove_folder(storage, folder):
            removed += 1
    return removed


def _listdir(storage, path: str) -> tuple[list[str], list[str]]:
    """(folders, files) directly under path; nothing when the path does not exist (yet)."""
    try:
        return storage.listdir(path)
    except FileNotFoundError:
        return [], []


def _remove_folder(storage, folder: str) -> bool:
    """Delete each file of a draft folder, then the folder itself where the storage has folders.

    Never raises (False instead): a draft that could not be removed now goes at the next purge.
    """
    try:
        for name in _listdir(storage, folder)[1]:
            storage.delete(posixpath.join(folder, name))
        # The filesystem removes the then empty directory; on an object store there is no such
        # key and deleting it is a no-op.
        storage.delete(folder)
    except storage_errors(storage):
        logger.warning("Suppression impossible du brouillon %s", folder, exc_info=True)
        return False
    return True


def store_as_document(meta: dict, kind: str, storage, name: str, max_length: int | None = None) -> str:
    """The draft file ``meta`` kept as a document of ``storage`` under ``name`` (or the free name
    the storage gives); returns the name taken. Raises ValueError (« altérée ») when the file is no
    longer the one received, UnreadableDocument when it is no longer encrypted, and the storage's
    errors when it cannot be read or written.

    On the filesystem, the draft becomes the document as a second hard link (R-PERF-1): nothing is
    decrypted, hashed or written again, and « Terminer » costs the same for a 4 MiB file as for a
    small one. What was received is told by the seal taken when the draft was written
    (``PrivateFileSystemStorage.seal``). Elsewhere (an object store, two filesystems, a draft kept
    before seals existed) the plaintext is read, its SHA-256 compared with the one taken at the
    upload, and written again under its own data key.
    """
    source = draft_storage()
    if meta.get("seal") and hasattr(storage, "link_from"):
        try:
            linked = storage.link_from(source, meta["path"], name, max_length=max_length)
        except LinkUnavailable:
            logger.warning("Pièce %s copiée : pas de lien possible entre brouillons et documents", kind, exc_info=True)
        else:
            # The document checked, not the draft: nothing can change between the check and the link.
            try:
                if storage.seal(linked) == meta["seal"]:
                    return linked
                raise ValueError(f"Pièce {kind} altérée depuis son dépôt")
            except BaseException:
                _remove_quietly(storage, linked)
                raise
    with open_draft_file(meta) as opened:
        content = opened.read()
    if hashlib.sha256(content).hexdigest() != meta["sha256"]:
        raise ValueError(f"Pièce {kind} altérée depuis son dépôt")
    # A file that cannot be written whole goes at once; the caller removes the names it was given
    # when anything later fails (disk full, database gone), so that no file outlives its transaction.
    saved = ""
    try:
        saved = storage.save(name, ContentFile(content), max_length=max_length)
    except BaseException:
        _remove_quietly(storage, saved or name)
        raise
    return saved


def open_draft_file(meta: dict):
    return draft_storage().open(meta["path"], "rb")


def draft_file_exists(meta: dict) -> bool:
    return draft_storage().exists(meta["path"])
