"""``manage.py rotate_keys``: everything at rest under the newest key (SECURITY P5).

After a new key is put first in SEGURNUM_ENCRYPTION_KEYS (the old ones kept after it), this
re-encrypts the IBANs under it, re-wraps the data key of every document and draft on the disk
(the body of a file is not re-encrypted: its data key is what the master key protects), and
recomputes the IBANs' search hashes (after a change of SEGURNUM_SEARCH_HASH_KEY). It also
encrypts the documents written in plaintext before encryption existed. It can run again at any
time: what is already current is left alone. When it reports no failure, the old key can go.
"""

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError

from enrolment.services import rotate_iban_encryption

STORAGES = {"private": "Pièces justificatives", "drafts": "Brouillons du parcours"}


class Command(BaseCommand):
    help = (
        "Rechiffre les IBAN et les clés des pièces sous la clé la plus récente (la première de "
        "SEGURNUM_ENCRYPTION_KEYS), chiffre les pièces encore en clair et recalcule les empreintes de recherche."
    )

    def handle(self, *args, **options):
        ibans = rotate_iban_encryption()
        self.stdout.write(
            f"IBAN : {ibans['rotated']} rechiffré(s), {ibans['current']} déjà à jour, {ibans['failed']} en échec."
        )
        failed = ibans["failed"]
        for alias, label in STORAGES.items():
            storage = storages[alias]
            if not hasattr(storage, "reencrypt_all"):
                self.stdout.write(f"{label} : stockage objet, chiffré côté serveur (SEGURNUM_S3_SSE) : rien à faire.")
                continue
            outcomes = storage.reencrypt_all()
            failed += outcomes["failed"]
            self.stdout.write(
                f"{label} : {outcomes['rewrapped']} clé(s) re-scellée(s), {outcomes['encrypted']} fichier(s) "
                f"en clair chiffré(s), {outcomes['current']} déjà à jour, {outcomes['failed']} en échec."
            )
        if failed:
            raise CommandError(
                f"{failed} IBAN ou fichier(s) n'ont pas pu être rechiffrés (détail dans le journal) : ne retirez "
                "pas l'ancienne clé."
            )
        self.stdout.write(
            self.style.SUCCESS("Tout est chiffré sous la clé la plus récente : l'ancienne peut être retirée.")
        )
