"""manage.py verify_audit_log: proves the audit trail intact, or names its first broken entry (R-OPS-4)."""

from django.core.management.base import BaseCommand, CommandError

from audit import chain


class Command(BaseCommand):
    help = "Vérifie la chaîne d'empreintes du journal d'audit et nomme la première entrée rompue."

    def handle(self, *args, **options) -> None:
        result = chain.verify()
        if result.broken is not None:
            raise CommandError(
                f"Journal d'audit rompu à l'{result.broken} — {result.checked} entrée(s) intègre(s) avant elle."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Journal d'audit intègre : {result.checked} entrée(s), dernière empreinte {result.head_hash}."
            )
        )
