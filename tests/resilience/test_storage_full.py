"""Fault 5 of SECURITY G: the private storage is full or cannot be written.

The storage root is a tiny tmpfs (64 KiB) mounted for the test; a read-only one stands for an
unwritable disk (the tests run as root, which file permissions do not stop). A file that cannot
be kept gives the French « réessayez » message at its field, every typed value stays, no
partial file remains and no document row points at a missing file.
"""

import errno
import os
import shutil
import subprocess
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
from django.urls import reverse

from enrolment.drafts import STORAGE_ERROR
from enrolment.models import EnrolmentDocument, EnrolmentRequest
from enrolment.views import SUBMIT_STORAGE_ERROR
from notifications.models import OutboundEmail
from tests import files
from tests.enrolment.wizard import GUIDE_NUMBER, REPRESENTATIVE, Wizard, load_registries
from tests.resilience.conftest import assert_documents_match_files

pytestmark = pytest.mark.django_db

TMPFS_SIZE = 64 * 1024
TOO_BIG = 200 * 1024  # larger than the whole tmpfs, well under the 4 MiB upload limit


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)


@dataclass
class TinyStorage:
    root: Path

    def files(self) -> set[Path]:
        return {path for path in self.root.rglob("*") if path.is_file()}

    def read_only(self) -> None:
        result = _run("mount", "-o", "remount,ro", str(self.root))
        assert result.returncode == 0, result.stderr

    def read_write(self) -> None:
        result = _run("mount", "-o", "remount,rw", str(self.root))
        assert result.returncode == 0, result.stderr

    def fill(self) -> Path:
        """Take every free byte left, as another process filling the disk would."""
        filler = self.root / "remplissage"
        with filler.open("wb", buffering=0) as stream:
            try:
                while stream.write(b"\0" * 4096):
                    pass
            except OSError:
                pass
        return filler


@pytest.fixture
def tiny_storage(settings, tmp_path):
    """PRIVATE_STORAGE_ROOT on a 64 KiB tmpfs, unmounted afterwards."""
    root = tmp_path / "tmpfs"
    root.mkdir()
    mount = shutil.which("mount")
    result = _run(mount, "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(root)) if mount else None
    if result is None or result.returncode != 0:
        reason = "montage d'un tmpfs impossible (root et CAP_SYS_ADMIN nécessaires) : " + (
            result.stderr.strip() if result else "pas de commande mount"
        )
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    settings.PRIVATE_STORAGE_ROOT = root
    try:
        yield TinyStorage(root)
    finally:
        if _run("umount", str(root)).returncode != 0:
            _run("umount", "-l", str(root))


@pytest.fixture
def wizard(client):
    load_registries()
    return Wizard(client)


def big_pdf(name: str):
    return files.pdf(name, size=TOO_BIG)


def post_certificate(wizard: Wizard, certificate):
    return wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": certificate})


def assert_storage_error(response, message: str = STORAGE_ERROR) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert "réessayer" in message
    assert escape(message) in html
    return html


def test_full_disk_on_the_referencing_step(wizard, tiny_storage):
    wizard.search_number()

    response = post_certificate(wizard, big_pdf("certificat.pdf"))

    html = assert_storage_error(response)
    assert f'value="{GUIDE_NUMBER}"' in html
    assert response.redirect_chain == []  # still on the referencing step
    assert tiny_storage.files() == set()  # the partly written file is gone
    assert EnrolmentDocument.objects.count() == 0
    # « Réessayez »: the space is back (the failed write freed it), the same step goes through.
    response = post_certificate(wizard, files.pdf("certificat.pdf"))
    assert response.redirect_chain[-1][0].endswith("/applicant/")
    assert len(tiny_storage.files()) == 1


def test_full_disk_on_the_applicant_step_keeps_every_typed_value(wizard, tiny_storage):
    wizard.referencing()  # a small certificate: it fits
    kept = tiny_storage.files()
    assert len(kept) == 1
    wizard.search_siret()
    typed = wizard.applicant_data(representative_id=big_pdf("cni representant.pdf"))

    html = assert_storage_error(wizard.post("applicant", typed))

    for name in ("trade_name", "building", "street_name", "postal_code", "city", *REPRESENTATIVE):
        assert f'value="{escape(typed[name])}"' in html, name
    assert tiny_storage.files() == kept
    assert EnrolmentDocument.objects.count() == 0


def test_read_only_disk(wizard, tiny_storage):
    wizard.search_number()
    tiny_storage.read_only()

    response = post_certificate(wizard, files.pdf("certificat.pdf"))

    html = assert_storage_error(response)
    assert f'value="{GUIDE_NUMBER}"' in html
    assert tiny_storage.files() == set()
    assert EnrolmentDocument.objects.count() == 0


def test_full_disk_at_the_final_submit_stores_the_request(wizard, tiny_storage):
    """The drafts fit: « Terminer » needs no more space, the documents being the drafts' own files
    (a second hard link, R-PERF-1), so a disk filled meanwhile does not stop it."""
    wizard.until_confirmation()
    drafts = tiny_storage.files()
    tiny_storage.fill()

    done = wizard.confirm()

    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    assert EnrolmentRequest.objects.get().documents.count() == len(drafts)
    assert_documents_match_files(tiny_storage.root)


def test_full_disk_at_the_final_submit_when_the_documents_are_copied(wizard, tiny_storage, monkeypatch):
    """Where drafts and documents cannot share a file (two filesystems: the copies are written),
    the copies do not fit: nothing is stored, the vendor is told to try again on the same page,
    and can once space is back."""
    monkeypatch.setattr(os, "link", no_link_across_filesystems)
    wizard.until_confirmation()
    drafts = tiny_storage.files()
    filler = tiny_storage.fill()

    response = wizard.confirm()

    assert response.redirect_chain[-1][0].endswith("/confirmation/")
    assert_storage_error(response, SUBMIT_STORAGE_ERROR)
    assert EnrolmentRequest.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert tiny_storage.files() == drafts | {filler}  # no partial copy under documents/
    assert_documents_match_files(tiny_storage.root)

    filler.unlink()
    done = wizard.confirm()
    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    assert EnrolmentRequest.objects.get().documents.count() == len(drafts)
    assert_documents_match_files(tiny_storage.root)


def test_read_only_disk_at_the_final_submit(wizard, tiny_storage):
    """The documents cannot be linked either: the same message, nothing stored, the draft intact."""
    wizard.until_confirmation()
    drafts = tiny_storage.files()
    tiny_storage.read_only()

    response = wizard.confirm()

    assert response.redirect_chain[-1][0].endswith("/confirmation/")
    assert_storage_error(response, SUBMIT_STORAGE_ERROR)
    assert EnrolmentRequest.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert tiny_storage.files() == drafts

    tiny_storage.read_write()
    done = wizard.confirm()
    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    assert EnrolmentRequest.objects.get().documents.count() == len(drafts)
    assert_documents_match_files(tiny_storage.root)


def no_link_across_filesystems(source, target, *args, **kwargs):
    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
