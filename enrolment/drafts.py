"""Files of a wizard in progress (R-WIZ-9, R-WIZ-10, SECURITY F9/F10/F13).

A file is judged as soon as it arrives and, when good, written under the private draft storage
in a folder of its own wizard (``<draft key>/<uuid>.<ext>``), whatever happens to the other
fields of the step. Only metadata goes into the session. Abandoned drafts are removed by
« Quitter sans enregistrer » and by a periodic purge.
"""

import logging
import os
import shutil
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from enrolment.uploads import check_upload
from segurnum.storage import draft_storage

logger = logging.getLogger(__name__)

STORAGE_ERROR = "Le fichier n'a pas pu être enregistré. Veuillez réessayer dans quelques instants."


def save_draft_file(draft_key: str, uploaded_file) -> dict:
    """Check an upload and keep it; returns the metadata stored with the wizard's data.

    Raises ValidationError with a French message for a bad file or a storage failure (full or
    unwritable disk): in that case no partial file remains.
    """
    checked = check_upload(uploaded_file)
    storage = draft_storage()
    name = f"{draft_key}/{uuid.uuid4().hex}.{checked.extension}"
    try:
        saved = storage.save(name, ContentFile(checked.content))
    except OSError as error:
        logger.error("Écriture impossible d'une pièce en brouillon : %s", error)
        _remove_quietly(storage, name)
        raise ValidationError(STORAGE_ERROR, code="storage") from error
    return {
        "path": saved,
        "name": checked.original_name,
        "content_type": checked.content_type,
        "size": checked.size,
        "sha256": checked.sha256,
    }


def _remove_quietly(storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except OSError:
        logger.warning("Suppression impossible du brouillon %s", name, exc_info=True)


def delete_draft_file(meta: dict | None) -> None:
    if meta and meta.get("path"):
        _remove_quietly(draft_storage(), meta["path"])


def delete_draft(draft_key: str) -> None:
    """Remove every file of one wizard."""
    if not draft_key:
        return
    folder = Path(draft_storage().path(str(uuid.UUID(draft_key))))
    shutil.rmtree(folder, ignore_errors=True)


def purge_stale_drafts(max_age_hours: int | None = None) -> int:
    """Remove draft folders untouched for longer than the allowed age (default 24 h)."""
    hours = settings.DRAFT_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    root = Path(draft_storage().location)
    if not root.exists():
        return 0
    limit = time.time() - hours * 3600
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
        if newest < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def open_draft_file(meta: dict):
    return draft_storage().open(meta["path"], "rb")


def draft_file_exists(meta: dict) -> bool:
    return os.path.exists(draft_storage().path(meta["path"]))
