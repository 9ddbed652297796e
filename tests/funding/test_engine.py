"""The check engine as a vendor's file meets it (R-FIN-2, R-FIN-8, SECURITY F15): every anomaly
code is triggered by a real file, the published example triggers none, and each message says in
French what to fix and where."""

import io
import stat
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from funding.anomalies import CODES, Severity
from funding.engine import VendorContext, check_files
from tests import files as upload_files
from tests.funding import files

TODAY = date(2026, 3, 10)
PERIOD = (date(2023, 1, 1), date(2027, 12, 31))
VENDOR = VendorContext(
    enrolment_number="ENR0001M0", siret="46293699800014", referencing_number="tndSAS0033", vat_rate="ttc_20"
)


def run(document=None, *, raw: bytes | None = None, zip_file="example", **kwargs):
    data = raw if raw is not None else files.json_bytes(document if document is not None else files.example())
    archive = files.example_zip() if zip_file == "example" else zip_file
    kwargs.setdefault("today", TODAY)
    kwargs.setdefault("period", PERIOD)
    return check_files(json_file=io.BytesIO(data), zip_file=archive, **kwargs)


def changed(change) -> dict:
    document = files.example()
    change(document)
    return document


def line(document, index=0) -> dict:
    return document["beneficiaires"][index]


def zip_with(*extra, drop=()) -> io.BytesIO:
    members = [member for member in files.example_members() if member[0] not in drop]
    return files.make_zip([*members, *extra])


def set_in(path: list, value):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def remove(path: list):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def add_line_copy(document):
    document["beneficiaires"].append(dict(line(document)))
    files.with_totals(document)


def zero_amount(document):
    line(document)["montant_ht"] = "0.00"
    files.with_totals(document)


def encrypted_zip():
    return files.patch_zip(zip_with(("chiffre.pdf", files.pdf())), encrypt={"chiffre.pdf"})


def duplicate_name_zip():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns, then writes both
        return zip_with(("BC-2026-001.pdf", files.pdf()))


# code -> how a vendor's file triggers it: run() keyword arguments, and the path expected.
TRIGGERS = {
    "json_absent": (lambda: check_files(json_file=None, today=TODAY, period=PERIOD), ""),
    "json_trop_volumineux": (lambda: run(raw=b"[" + b" " * (50 * 1024 * 1024) + b"]"), ""),
    "json_encodage": (
        lambda: run(raw=files.json_bytes(files.example()).decode().replace("MARTIN", "MÉLANIE").encode("latin-1")),
        "",
    ),
    "json_syntaxe": (lambda: run(raw=files.json_bytes(files.example())[:-40]), ""),
    "json_cle_en_double": (
        lambda: run(
            raw=files.json_bytes(files.example()).replace(b'"version": "1.0",', b'"version": "1.0", "version": "1.0",')
        ),
        "version",
    ),
    "format_inconnu": (lambda: run(changed(set_in(["version"], "2.0"))), "version"),
    "champ_obligatoire": (lambda: run(changed(remove(["demande", "montant_ttc"]))), "demande.montant_ttc"),
    "champ_inconnu": (lambda: run(changed(set_in(["demande", "commentaire"], "urgent"))), "demande.commentaire"),
    "type_invalide": (lambda: run(changed(set_in(["fournisseur"], "ASM"))), "fournisseur"),
    "valeur_non_autorisee": (
        lambda: run(changed(set_in(["beneficiaires", 0, "type_identifiant"], "ADELI"))),
        "beneficiaires[0].type_identifiant",
    ),
    "format_invalide": (
        lambda: run(changed(set_in(["beneficiaires", 0, "code_postal"], "1370"))),
        "beneficiaires[0].code_postal",
    ),
    "longueur_invalide": (lambda: run(changed(set_in(["beneficiaires", 1, "pieces"], []))), "beneficiaires[1].pieces"),
    "montant_nombre": (
        lambda: run(raw=files.json_bytes(files.example()).replace(b'"montant_ht": "650.00"', b'"montant_ht": 650.5')),
        "beneficiaires[0].montant_ht",
    ),
    "montant_format": (
        lambda: run(changed(set_in(["beneficiaires", 0, "montant_ht"], "650,00"))),
        "beneficiaires[0].montant_ht",
    ),
    "montant_nul": (lambda: run(changed(zero_amount)), "beneficiaires[0].montant_ht"),
    "total_ht_incoherent": (lambda: run(changed(set_in(["demande", "montant_ht"], "2000.00"))), "demande.montant_ht"),
    "total_ttc_incoherent": (
        lambda: run(changed(set_in(["demande", "montant_ttc"], "2150.00"))),
        "demande.montant_ttc",
    ),
    "date_invalide": (
        lambda: run(changed(set_in(["beneficiaires", 0, "date_raccordement"], "31/02/2024"))),
        "beneficiaires[0].date_raccordement",
    ),
    "date_future": (
        lambda: run(changed(set_in(["beneficiaires", 2, "date_raccordement"], "2026-03-11"))),
        "beneficiaires[2].date_raccordement",
    ),
    "date_ordre": (
        lambda: run(changed(set_in(["beneficiaires", 1, "date_bon_de_commande"], "2026-02-20"))),
        "beneficiaires[1].date_bon_de_commande",
    ),
    "date_hors_periode": (
        lambda: run(changed(set_in(["beneficiaires", 0, "date_bon_de_commande"], "2022-12-30"))),
        "beneficiaires[0].date_bon_de_commande",
    ),
    "siret_invalide": (lambda: run(changed(set_in(["fournisseur", "siret"], "47992882200068"))), "fournisseur.siret"),
    "rpps_invalide": (
        lambda: run(changed(set_in(["beneficiaires", 0, "identifiant"], "10003176398"))),
        "beneficiaires[0].identifiant",
    ),
    "finess_invalide": (
        lambda: run(changed(set_in(["beneficiaires", 1, "identifiant"], "750712185"))),
        "beneficiaires[1].identifiant",
    ),
    "beneficiaire_en_double": (lambda: run(changed(add_line_copy)), "beneficiaires[3].identifiant"),
    "zip_absent": (lambda: run(zip_file=None), ""),
    "zip_invalide": (lambda: run(zip_file=io.BytesIO(b"%PDF-1.4 ce n'est pas un zip")), "zip"),
    "zip_trop_volumineux": (
        lambda: run(zip_file=zip_with(("gros.pdf", b"%PDF-" + b"0" * 2_000_000, {"store": True}))),
        "zip",
    ),
    "zip_trop_de_fichiers": (
        lambda: run(zip_file=zip_with(*[(f"extra-{n}.pdf", files.pdf()) for n in range(3)])),
        "zip",
    ),
    "zip_taux_compression": (
        lambda: run(zip_file=zip_with(("bombe.pdf", b"%PDF-" + b"\0" * 1_000_000))),
        "zip:bombe.pdf",
    ),
    "zip_chemin_interdit": (
        lambda: run(zip_file=zip_with(("../../etc/passwd.pdf", files.pdf()))),
        "zip:../../etc/passwd.pdf",
    ),
    "zip_lien": (
        lambda: run(zip_file=zip_with(("lien.pdf", b"/etc/passwd", {"attr": (stat.S_IFLNK | 0o777) << 16}))),
        "zip:lien.pdf",
    ),
    "zip_archive_imbriquee": (
        lambda: run(zip_file=zip_with(("autres.zip", files.example_zip().getvalue()))),
        "zip:autres.zip",
    ),
    "zip_chiffre": (lambda: run(zip_file=encrypted_zip()), "zip:chiffre.pdf"),
    "zip_nom_en_double": (lambda: run(zip_file=duplicate_name_zip()), "zip:BC-2026-001.pdf"),
    "piece_refusee": (
        lambda: run(
            zip_file=zip_with(("BC-2026-002.pdf", upload_files.exe_renamed_pdf().read()), drop=("BC-2026-002.pdf",))
        ),
        "zip:BC-2026-002.pdf",
    ),
    "piece_absente": (lambda: run(zip_file=zip_with(drop=("BC-2026-002.pdf",))), "beneficiaires[1].pieces[0]"),
    "piece_non_citee": (lambda: run(zip_file=zip_with(("notes.pdf", files.pdf()))), "zip:notes.pdf"),
    "fournisseur_different": (
        lambda: run(vendor=VendorContext("ENR0002M0", "46293699800014", "tndSAS0033", "ttc_20")),
        "fournisseur.numero_enrolement",
    ),
    "taux_tva_different": (
        lambda: run(vendor=VendorContext("ENR0001M0", "46293699800014", "tndSAS0033", "ht_0")),
        "demande.taux_tva",
    ),
    "beneficiaire_deja_finance": (
        lambda: run(vendor=replace(VENDOR, financed_elsewhere=lambda pairs: {("FINESS", "750712184"): "FIN0042"})),
        "beneficiaires[1].identifiant",
    ),
    "guichet_ferme": (lambda: run(window_closed="Le guichet de dépôt est fermé."), ""),
}


def test_every_code_has_a_file_that_triggers_it():
    assert set(TRIGGERS) == set(CODES)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_anomaly_code_is_triggered_by_a_file(code, settings):
    settings.FUNDING_ZIP_MAX_MEMBERS = 6
    settings.FUNDING_ZIP_MAX_TOTAL_BYTES = 1_500_000
    trigger, path = TRIGGERS[code]
    result = trigger()
    found = [anomaly for anomaly in result.anomalies if anomaly.code == code]
    assert found, [(a.code, a.path, a.message) for a in result.anomalies]
    anomaly = found[0]
    assert anomaly.path == path
    assert anomaly.severity == CODES[code].severity
    assert anomaly.message[0].isupper() or anomaly.message.startswith("« ")
    assert anomaly.message.endswith((".", ")"))


def test_the_published_example_and_its_zip_trigger_nothing():
    result = run(vendor=VENDOR)
    assert result.anomalies == []
    assert result.conforming and result.json_accepted and result.zip_accepted
    assert result.beneficiary_count == 3
    assert result.total_ht == Decimal("2150.00") and result.total_ttc == Decimal("2580.00")
    assert isinstance(result.total_ht, Decimal)
    assert sorted(result.pieces) == sorted(files.funding_format.example_piece_names())


def test_a_truncated_file_is_located_by_line_and_column():
    (anomaly,) = run(raw=b'{\n  "format": "segurnum-financement-sas",\n  "version": "1.').anomalies
    assert anomaly.code == "json_syntaxe" and anomaly.severity == Severity.BLOCKING
    assert (anomaly.line, anomaly.column) == (3, 14)
    assert anomaly.message == (
        "Le fichier json est mal formé ligne 3, colonne 14 : un texte n'est pas terminé (guillemet fermant manquant)."
    )


def test_a_latin1_file_is_located_at_its_first_unreadable_byte():
    raw = '{\n  "nom": "MARTIN",\n  "prenom": "Hélène"\n}'.encode("latin-1")
    (anomaly,) = run(raw=raw).anomalies
    assert anomaly.code == "json_encodage" and (anomaly.line, anomaly.column) == (3, 15)
    assert "enregistrez-le en UTF-8" in anomaly.message


def test_a_bom_is_accepted():
    assert run(raw=b"\xef\xbb\xbf" + files.json_bytes(files.example())).anomalies == []


def test_a_float_amount_gets_its_own_message_and_no_float_is_ever_made():
    result = run(raw=files.json_bytes(files.example()).replace(b'"montant_ttc": "2580.00"', b'"montant_ttc": 2580.1'))
    (anomaly,) = [a for a in result.anomalies if a.code == "montant_nombre"]
    assert anomaly.message == (
        "Le montant « montant_ttc » est écrit comme un nombre (2580.1) : écrivez-le entre guillemets avec deux "
        'décimales, par exemple "2580.10".'
    )
    assert isinstance(result.document["demande"]["montant_ttc"], Decimal)


@pytest.mark.parametrize("value", ["31/02/2024", "2024-02-31", "2024-2-3", "20240203"])
def test_dates_must_exist_and_be_iso(value):
    result = run(changed(set_in(["beneficiaires", 0, "date_raccordement"], value)))
    assert [(a.code, a.path) for a in result.anomalies if a.blocking] == [
        ("date_invalide", "beneficiaires[0].date_raccordement")
    ]
    assert f"La date « {value} » n'existe pas ou n'est pas écrite AAAA-MM-JJ." in [a.message for a in result.anomalies]


def test_ttc_is_rounded_to_the_cent_at_8_5_percent():
    def rate(document):
        line(document)["montant_ht"] = "650.01"
        document["demande"].update(montant_ht="2150.01", taux_tva="ttc_8_5", montant_ttc="2332.76")

    assert run(changed(rate)).anomalies == []  # 2150.01 × 1.085 = 2332.76085


def test_a_zip_named_in_cp437_with_accents_matches_the_json():
    def accent(document):
        line(document, 1)["pieces"] = ["BC-été-002.pdf"]

    archive = files.patch_zip(
        zip_with(("BC-XtX-002.pdf", files.pdf()), drop=("BC-2026-002.pdf",)),
        rename={"BC-XtX-002.pdf": "BC-été-002.pdf".encode("cp437")},
    )
    assert run(changed(accent), zip_file=archive).anomalies == []


def test_an_absolute_path_and_a_windows_drive_are_refused():
    result = run(zip_file=zip_with(("/etc/cron.d/x.pdf", files.pdf()), ("C:/Windows/x.pdf", files.pdf())))
    assert {a.path for a in result.anomalies if a.code == "zip_chemin_interdit"} == {
        "zip:/etc/cron.d/x.pdf",
        "zip:C:/Windows/x.pdf",
    }


def test_a_pdf_that_is_a_zip_inside_is_a_nested_archive():
    result = run(zip_file=zip_with(("cache.pdf", files.example_zip().getvalue())))
    assert ("zip_archive_imbriquee", "zip:cache.pdf") in [(a.code, a.path) for a in result.anomalies]


def test_archiving_tools_leftovers_are_ignored():
    archive = zip_with(("__MACOSX/._BC-2026-001.pdf", b"\0\5\26\7"), (".DS_Store", b"Bud1"))
    assert run(zip_file=archive).anomalies == []


def test_a_refused_piece_is_not_also_reported_missing():
    result = TRIGGERS["piece_refusee"][0]()
    assert [a.code for a in result.anomalies] == ["piece_refusee"]
    assert "Le contenu du fichier ne correspond pas" in result.anomalies[0].message
    assert result.json_accepted and not result.zip_accepted


def test_without_a_zip_the_json_is_accepted_and_the_zip_is_not():
    result = run(zip_file=None)
    assert [a.severity for a in result.anomalies] == [Severity.WARNING]
    assert result.conforming and result.json_accepted and not result.zip_accepted


def test_known_pieces_stand_for_the_zip_of_a_new_version():
    names = files.funding_format.example_piece_names()
    assert run(zip_file=None, known_pieces=names).anomalies == []
    result = run(zip_file=None, known_pieces=names[1:])
    assert [a.code for a in result.anomalies] == ["piece_absente"]


def test_the_zip_is_streamed_never_read_whole(settings):
    """A 2 000-member zip: every read of the archive asks for a bounded number of bytes."""
    members = [(f"pieces/BC-{n:04d}.pdf", files.pdf()) for n in range(1996)]  # + the example's 4

    class Guarded(io.BytesIO):
        largest = 0

        def read(self, size=-1):
            data = super().read(size)
            assert len(data) <= 8 * 1024 * 1024, f"lecture de {len(data)} octets"
            Guarded.largest = max(Guarded.largest, len(data))
            return data

    archive = files.make_zip([*files.example_members(), *members])
    result = run(zip_file=Guarded(archive.getvalue()))
    assert result.anomaly_count == 1996 and len(result.anomalies) == 1000  # all counted, 1 000 listed
    assert {a.code for a in result.anomalies} == {"piece_non_citee"}
    assert Guarded.largest <= 8 * 1024 * 1024


def test_dates_beyond_today_use_the_day_given(settings):
    tomorrow = TODAY + timedelta(days=1)
    result = run(changed(set_in(["demande", "date_etablissement"], tomorrow.isoformat())))
    assert [(a.code, a.path) for a in result.anomalies] == [("date_future", "demande.date_etablissement")]


def test_a_piece_carrying_a_virus_is_refused_by_the_antivirus(clamd):
    from tests.antivirus import eicar_pdf

    result = run(zip_file=zip_with(("BC-2026-002.pdf", eicar_pdf()), drop=("BC-2026-002.pdf",)))

    assert [(a.code, a.path) for a in result.anomalies] == [("piece_refusee", "zip:BC-2026-002.pdf")]
    assert "« BC-2026-002.pdf » : Ce fichier a été détecté comme dangereux" in result.anomalies[0].message
    assert result.json_accepted and not result.zip_accepted


def test_pieces_are_refused_with_reessayez_when_the_antivirus_cannot_answer(private_clamd):
    private_clamd.stop()

    result = run()

    assert {a.code for a in result.anomalies} == {"piece_refusee"}
    assert all("réessayez" in a.message for a in result.anomalies)
    assert not result.zip_accepted
