"""Import the ANS list of referenced software from a CSV file (R-BIZ-3).

    manage.py import_referenced_software liste_ans.csv [--deactivate-missing]

Columns (header row, « ; » or « , »): numero_referencement, nom_logiciel, version, dsr,
siret_editeur, and optionally nom_editeur and actif (oui/non, 1/0, true/false). Nothing is
imported when a single row is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrolment.registries.referencing import (
    ReferencingImportError,
    decode_csv,
    import_referenced_software,
    parse_referencing_csv,
)


class Command(BaseCommand):
    help = "Importe la liste ANS des logiciels référencés (CSV) : création ou mise à jour par numéro."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Fichier CSV (UTF-8, séparateur « ; » ou « , »).")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="Désactive les logiciels actifs absents du fichier.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire le fichier « {path} » : {exc.strerror or exc}.") from exc
        try:
            rows = parse_referencing_csv(decode_csv(data))
        except ReferencingImportError as exc:
            raise CommandError(
                f"Import annulé, aucun logiciel n'a été importé ({len(exc.errors)} erreur(s)) :\n"
                + "\n".join(exc.errors)
            ) from exc
        result = import_referenced_software(rows=rows, deactivate_missing=options["deactivate_missing"])
        self.stdout.write(self.style.SUCCESS(result.summary()))
