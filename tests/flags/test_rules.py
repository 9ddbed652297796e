"""Each consistency rule (R-OPS-3) with a pair of requests that triggers it and a pair that does not."""

import pytest

from enrolment.models import EnrolmentDocument
from flags import rules
from flags.models import RegistryAnswer
from funding.models import FundingRequest
from tests.factories import EnrolmentDocumentFactory
from tests.flags.helpers import enrolment, funding_request, iban

pytestmark = pytest.mark.django_db


def same_siren_as(other, nic: str = "00027") -> str:
    return other.siret[:9] + nic


# --- the same IBAN for different SIRENs ------------------------------------------------------


def test_same_iban_for_two_sirens_is_flagged_even_typed_differently():
    first = enrolment(iban=iban(500))
    second = enrolment(iban=" fr76 3000 6000 0" + iban(500)[13:].lower())
    finding = rules.same_iban(second)
    assert finding.message == f"Le même IBAN est donné par {first.number} (SIREN {first.siret[:9]})."
    assert finding.related_enrolments == {first.pk}
    assert rules.same_iban(first).evidence == {"requests": [second.number]}


def test_same_iban_within_one_siren_or_different_ibans_are_not_flagged():
    first = enrolment(iban=iban(501))
    same_company = enrolment(iban=iban(501), siret=same_siren_as(first))
    other = enrolment(iban=iban(502))
    assert rules.same_iban(same_company) is None
    assert rules.same_iban(other) is None


# --- the same document in another vendor's request -------------------------------------------


def test_the_same_document_in_another_vendors_request_is_flagged():
    first, second = enrolment(), enrolment()
    EnrolmentDocumentFactory(enrolment=first, kind=EnrolmentDocument.Kind.KBIS, original_name="kbis-2024.pdf")
    EnrolmentDocumentFactory(enrolment=second, kind=EnrolmentDocument.Kind.RIB, original_name="kbis-2024.pdf")
    finding = rules.same_document(second)
    assert finding.message == f"Pièce identique (même empreinte SHA-256) : « RIB » dans {first.number} (kbis)."
    assert finding.related_enrolments == {first.pk}


def test_different_documents_or_the_same_vendor_are_not_flagged():
    first = enrolment()
    same_company = enrolment(siret=same_siren_as(first))
    other = enrolment()
    EnrolmentDocumentFactory(enrolment=first, original_name="rib-a.pdf")
    EnrolmentDocumentFactory(enrolment=same_company, original_name="rib-a.pdf")
    EnrolmentDocumentFactory(enrolment=other, original_name="rib-b.pdf")
    assert rules.same_document(same_company) is None
    assert rules.same_document(other) is None


# --- the same representative email or phone across vendors ------------------------------------


def test_the_same_representative_email_or_phone_across_vendors_is_flagged():
    first = enrolment(representative_email="Jean.Martin@Cabinet.example", representative_phone="0612345678")
    by_email = enrolment(representative_email="jean.martin@cabinet.example")
    by_phone = enrolment(representative_phone="+33612345678")
    assert rules.same_contact(by_email).message == (
        f"Représentant d'un autre fournisseur : l'email jean.martin@cabinet.example est aussi celui de {first.number}."
    )
    assert rules.same_contact(by_phone).message == (
        f"Représentant d'un autre fournisseur : le téléphone +33612345678 est aussi celui de {first.number}."
    )
    assert rules.same_contact(first).evidence == {"email": [by_email.number], "phone": [by_phone.number]}


def test_different_contacts_or_the_same_vendor_are_not_flagged():
    first = enrolment(representative_email="jean@cabinet.example", representative_phone="0612345678")
    same_company = enrolment(
        siret=same_siren_as(first), representative_email="jean@cabinet.example", representative_phone="0612345678"
    )
    other = enrolment(representative_email="jeanne@cabinet.example", representative_phone="0612345679")
    assert rules.same_contact(same_company) is None
    assert rules.same_contact(other) is None


# --- account holder against the denomination -------------------------------------------------


@pytest.mark.parametrize(
    ("holder", "denomination", "trade_name"),
    [
        ("Association Services Médiation", "ASSOCIATION SERVICES MEDIATION", "ASM"),
        ("SARL ODA", "ODA", "Oda Logiciels"),
        ("ODA S.A.S.", "Société ODA", "X"),
        ("ASM", "ASSOCIATION SERVICES MEDIATION", "ASM"),
    ],
)
def test_a_holder_matching_the_denomination_is_not_flagged(holder, denomination, trade_name):
    request = enrolment(account_holder=holder, denomination=denomination, trade_name=trade_name)
    assert rules.holder_mismatch(request) is None


@pytest.mark.parametrize(
    ("holder", "denomination"),
    [("Jean DUPONT", "ASSOCIATION SERVICES MEDIATION"), ("SARL ODAX", "ODA"), ("SAS", "ODA")],
)
def test_a_holder_that_is_not_the_company_is_flagged(holder, denomination):
    request = enrolment(account_holder=holder, denomination=denomination, registry_denomination="", trade_name="T")
    finding = rules.holder_mismatch(request)
    assert finding.message == (
        f"Le titulaire du compte « {holder} » ne correspond ni à la dénomination sociale « {denomination} » "
        "ni au nom commercial « T »."
    )


# --- a postal address changed from the registry's, without a kbis ----------------------------


def registry_answer(siret: str, **address) -> None:
    values = {
        "siret": siret,
        "denomination": "ASSOCIATION SERVICES MEDIATION",
        "street_number": "12",
        "street_type": "RUE",
        "street_name": "DE FIGUERAS",
        "postal_code": "13700",
        "city": "ST VICTORET",
    }
    RegistryAnswer.objects.create(siret=siret, answer=values | address)


def test_an_address_changed_without_a_kbis_is_flagged():
    siret = "47992882200069"
    registry_answer(siret)
    request = enrolment(
        siret=siret, street_number="3", street_type="AVENUE", street_name="des Lilas", postal_code="13700"
    )
    finding = rules.address_changed(request)
    assert finding.message == (
        "Adresse modifiée par rapport au répertoire des entreprises, sans kbis : répertoire "
        "« 12 RUE DE FIGUERAS 13700 ST VICTORET », demande « 3 AVENUE DES LILAS 13700 ST VICTORET »."
    )


def test_the_registrys_address_or_a_change_with_a_kbis_is_not_flagged():
    registry_answer("47992882200069")
    same = enrolment(siret="47992882200069", street_number="12", street_name="de Figuéras", city="St Victoret")
    assert rules.address_changed(same) is None
    registry_answer("39431067600017")
    moved = enrolment(siret="39431067600017", street_number="3", street_name="DES LILAS")
    EnrolmentDocumentFactory(enrolment=moved, kind=EnrolmentDocument.Kind.KBIS, original_name="kbis.pdf")
    assert rules.address_changed(moved) is None
    # Without any registry answer (look-up unavailable, typed by hand), nothing to compare with.
    assert rules.address_changed(enrolment(street_name="AILLEURS")) is None


# --- a beneficiary financed twice ------------------------------------------------------------


def test_a_beneficiary_in_two_funding_requests_is_flagged():
    first = funding_request([("RPPS", "10003456789", "Dr Martin"), ("FINESS", "750000001", "Clinique A")])
    second = funding_request([("RPPS", "10003456789", "Dr Martin"), ("RPPS", "10009999999", "Dr Durand")])
    finding = rules.beneficiary_twice(second)
    assert finding.message == (
        "1 bénéficiaire(s) figurent aussi dans une autre demande de financement : "
        f"RPPS 10003456789 (Dr Martin) dans {first.number}."
    )
    assert finding.related_funding == {first.pk}


def test_other_beneficiaries_a_rejected_request_or_another_identifier_type_are_not_flagged():
    funding_request([("RPPS", "10003456789", "Dr Martin")], status=FundingRequest.Status.REJECTED)
    funding_request([("SIRET", "10003456789", "Homonyme")])
    other = funding_request([("RPPS", "10003456789", "Dr Martin"), ("RPPS", "10001111111", "Dr Petit")])
    assert rules.beneficiary_twice(other) is None
