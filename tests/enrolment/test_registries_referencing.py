"""ANS referencing registry (R-WIZ-1, R-BIZ-3): fixture, look-up and CSV import."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from enrolment.models import ReferencedSoftware
from enrolment.registries.companies import is_valid_siret
from enrolment.registries.referencing import ReferencingInfo, lookup

FIXTURE = Path(django_settings.BASE_DIR) / "fixtures" / "referenced_software.json"
SAMPLE_CSV = Path(django_settings.BASE_DIR) / "fixtures" / "referenced_software_sample.csv"
COMPANIES = Path(django_settings.BASE_DIR) / "fixtures" / "companies.json"
SAS = "Service d'Accès aux Soins"
HEADER = "numero_referencement;nom_logiciel;version;dsr;siret_editeur;nom_editeur;actif"


@pytest.fixture
def registry(db) -> None:
    call_command("loaddata", str(FIXTURE), verbosity=0)


def _import(tmp_path: Path, content: str | bytes, *args: str) -> str:
    path = tmp_path / "liste_ans.csv"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    out = StringIO()
    call_command("import_referenced_software", str(path), *args, stdout=out)
    return out.getvalue().strip()


# --------------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------------


def test_fixture_loads_the_guide_software(registry) -> None:
    assert ReferencedSoftware.objects.count() >= 14
    first = ReferencedSoftware.objects.get(referencing_number="tndSAS0031")
    second = ReferencedSoftware.objects.get(referencing_number="tndSAS0032")
    assert (first.software_name, first.version, first.dsr_label, first.editor_siret, first.active) == (
        "ARCAD SAAD",
        "17",
        SAS,
        "47992882200069",
        True,
    )
    assert (second.software_name, second.version, second.dsr_label, second.editor_siret) == (
        "ARCAD SAAD",
        "17",
        SAS,
        "39431067600017",
    )
    for number in ("tndSAS0040", "tndSAS0041"):
        assert ReferencedSoftware.objects.get(referencing_number=number).editor_siret == "47992882200069"
    assert ReferencedSoftware.objects.filter(active=False).exists()
    assert set(ReferencedSoftware.objects.values_list("dsr_label", flat=True)) == {
        SAS,
        "Service d'Accès aux Soins - Vague 2",
    }


def test_fixture_editors_exist_in_the_company_registry() -> None:
    companies = {row["siret"]: row for row in json.loads(COMPANIES.read_text(encoding="utf-8"))}
    entries = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for entry in entries:
        fields = entry["fields"]
        assert is_valid_siret(fields["editor_siret"]), fields["referencing_number"]
        assert fields["editor_siret"] in companies, fields["referencing_number"]
        assert fields["editor_name"] == companies[fields["editor_siret"]]["denomination"]


# --------------------------------------------------------------------------------------------
# Look-up
# --------------------------------------------------------------------------------------------


def test_lookup_known_number(registry) -> None:
    assert lookup("tndSAS0031") == ReferencingInfo(
        referencing_number="tndSAS0031",
        software_name="ARCAD SAAD",
        version="17",
        dsr_label=SAS,
        editor_siret="47992882200069",
        editor_name="ASSOCIATION SERVICES MEDIATION",
    )


def test_lookup_ignores_spaces_and_case(registry) -> None:
    info = lookup("  TNDSAS 0032 ")

    assert info is not None
    assert info.referencing_number == "tndSAS0032"
    assert info.editor_siret == "39431067600017"


def test_lookup_prefers_the_exact_case(registry) -> None:
    ReferencedSoftware.objects.create(
        referencing_number="TNDSAS0031",
        software_name="AUTRE LOGICIEL",
        version="1",
        dsr_label=SAS,
        editor_siret="39431067600017",
    )

    assert lookup("tndSAS0031").software_name == "ARCAD SAAD"
    assert lookup("TNDSAS0031").software_name == "AUTRE LOGICIEL"


@pytest.mark.parametrize("number", ["tndSAS9999", "", "   ", "tndSAS003"])
def test_lookup_unknown_number_returns_none(registry, number: str) -> None:
    assert lookup(number) is None


def test_lookup_ignores_inactive_software(registry) -> None:
    inactive = ReferencedSoftware.objects.filter(active=False).first()

    assert inactive is not None
    assert lookup(inactive.referencing_number) is None
    assert lookup(inactive.referencing_number.upper()) is None


# --------------------------------------------------------------------------------------------
# CSV import
# --------------------------------------------------------------------------------------------


def test_import_sample_into_an_empty_registry(db, tmp_path: Path) -> None:
    out = _import(tmp_path, SAMPLE_CSV.read_bytes())

    assert out == "5 logiciels créés, 0 mis à jour, 0 désactivés"
    assert ReferencedSoftware.objects.count() == 5
    inactive = ReferencedSoftware.objects.get(referencing_number="tndSAS0049")
    assert inactive.active is False
    assert lookup("tndSAS0047") == ReferencingInfo(
        referencing_number="tndSAS0047",
        software_name="NEXUS AGENDA",
        version="1.2",
        dsr_label="Service d'Accès aux Soins - Vague 2",
        editor_siret="70674500709974",
        editor_name="NEXUS SOINS",
    )


def test_import_creates_and_updates_by_referencing_number(registry, tmp_path: Path) -> None:
    before = ReferencedSoftware.objects.count()

    out = _import(tmp_path, SAMPLE_CSV.read_bytes())

    # tndSAS0031 is identical, tndSAS0033 gets version 4.3, three numbers are new.
    assert out == "3 logiciels créés, 1 mis à jour, 0 désactivés"
    assert ReferencedSoftware.objects.count() == before + 3
    assert ReferencedSoftware.objects.get(referencing_number="tndSAS0033").version == "4.3"
    assert lookup("tndSAS0040") is not None


def test_import_deactivate_missing(registry, tmp_path: Path) -> None:
    active_before = ReferencedSoftware.objects.filter(active=True).count()

    out = _import(tmp_path, SAMPLE_CSV.read_bytes(), "--deactivate-missing")

    # Only tndSAS0031 and tndSAS0033 of the fixture are in the file.
    deactivated = active_before - 2
    assert out == f"3 logiciels créés, 1 mis à jour, {deactivated} désactivés"
    assert lookup("tndSAS0040") is None
    assert lookup("tndSAS0031") is not None
    assert set(ReferencedSoftware.objects.filter(active=True).values_list("referencing_number", flat=True)) == {
        "tndSAS0031",
        "tndSAS0033",
        "tndSAS0047",
        "tndSAS0048",
    }


def test_import_can_reactivate_and_keeps_editor_name_when_column_absent(registry, tmp_path: Path) -> None:
    content = (
        "numero_referencement;nom_logiciel;version;dsr;siret_editeur\n"
        "tndSAS0039;OPTIMED AGENDA;7.4;Service d'Accès aux Soins;60380676105375\n"
    )

    out = _import(tmp_path, content)

    software = ReferencedSoftware.objects.get(referencing_number="tndSAS0039")
    assert out == "0 logiciels créés, 1 mis à jour, 0 désactivés"
    assert (software.active, software.version, software.editor_name) == (True, "7.4", "OPTIMED INFORMATIQUE")


def test_bad_rows_are_reported_and_nothing_is_imported(registry, tmp_path: Path) -> None:
    content = "\n".join(
        [
            HEADER,
            "tndSAS0060;BON LOGICIEL;1.0;Service d'Accès aux Soins;46293699800014;MEDILOGIC SANTE;oui",
            "tndSAS0033;MEDILOGIC AGENDA;9.9;Service d'Accès aux Soins;46293699800014;MEDILOGIC SANTE;oui",
            "tndSAS0061;LOGICIEL SANS SIRET;1.0;Service d'Accès aux Soins;12345678901234;X;oui",
            "tndSAS0062;;1.0;Service d'Accès aux Soins;46293699800014;;peut-être",
            "tndSAS0060;DOUBLON;1.0;Service d'Accès aux Soins;46293699800014;;",
        ]
    )
    before = list(ReferencedSoftware.objects.order_by("pk").values())

    with pytest.raises(CommandError) as excinfo:
        _import(tmp_path, content)

    message = str(excinfo.value)
    assert "aucun logiciel n'a été importé" in message
    assert "Ligne 4 : le SIRET de l'éditeur « 12345678901234 » est invalide" in message
    assert "Ligne 5 : le champ « nom_logiciel » est obligatoire" in message
    assert "« peut-être » de « actif »" in message
    assert "Ligne 6 : le numéro de référencement « tndSAS0060 » figure déjà ligne 2" in message
    assert "Ligne 2 " not in message and "Ligne 3 " not in message
    assert list(ReferencedSoftware.objects.order_by("pk").values()) == before


def test_comma_delimiter_with_quoted_cells_and_bom(db, tmp_path: Path) -> None:
    content = (
        "\ufeffNuméro référencement,Nom logiciel,Version,DSR,SIRET éditeur,Actif\r\n"
        'tndSAS0070,"AGENDA, EDITION CABINET",2.0,"Service d\'Accès aux Soins - Vague 2",'
        "394 310 676 00017,1\r\n"
        "tndSAS0071,PLANNING,3,Service d'Accès aux Soins,39431067600017,false\r\n"
    )

    out = _import(tmp_path, content.encode("utf-8"))

    assert out == "2 logiciels créés, 0 mis à jour, 0 désactivés"
    first = ReferencedSoftware.objects.get(referencing_number="tndSAS0070")
    assert (first.software_name, first.dsr_label, first.editor_siret, first.active) == (
        "AGENDA, EDITION CABINET",
        "Service d'Accès aux Soins - Vague 2",
        "39431067600017",
        True,
    )
    assert ReferencedSoftware.objects.get(referencing_number="tndSAS0071").active is False


def test_semicolon_delimiter_with_bom(db, tmp_path: Path) -> None:
    content = HEADER + "\ntndSAS0080;ARCAD SAAD, EDITION 2;18;Service d'Accès aux Soins;47992882200069;;Oui\n"

    out = _import(tmp_path, b"\xef\xbb\xbf" + content.encode("utf-8"))

    assert out == "1 logiciels créés, 0 mis à jour, 0 désactivés"
    software = ReferencedSoftware.objects.get(referencing_number="tndSAS0080")
    assert software.software_name == "ARCAD SAAD, EDITION 2"
    assert software.editor_siret == "47992882200069"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Le fichier est vide."),
        (HEADER.encode() + b"\n", "aucune ligne de logiciel"),
        (b"numero_referencement;nom_logiciel;version\ntndSAS1;X;1\n", "dsr, siret_editeur"),
        ("numero_referencement;nom_logiciel\n".encode("latin-1") + "é".encode("latin-1"), "UTF-8"),
    ],
)
def test_unusable_files_are_refused(db, tmp_path: Path, content: bytes, expected: str) -> None:
    with pytest.raises(CommandError) as excinfo:
        _import(tmp_path, content)

    assert expected in str(excinfo.value)
    assert not ReferencedSoftware.objects.exists()


def test_missing_file_is_reported(db, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as excinfo:
        call_command("import_referenced_software", str(tmp_path / "absent.csv"))

    assert "Impossible de lire le fichier" in str(excinfo.value)
