"""« Suivi des demandes d'enrôlement »: a vendor sees its own requests only (R-PRIV-3)."""

import re

import pytest
from django.utils import timezone
from freezegun import freeze_time

from enrolment.models import EnrolmentRequest
from enrolment.services import reject_enrolment, start_review, validate_enrolment
from tests.factories import EnrolmentRequestFactory, UserFactory, agent
from tests.portal.pages import link_hrefs, page_text

pytestmark = pytest.mark.django_db

LIST_URL = "/espace/enrolement/"
FULL_IBAN = "FR7630056009271234567890182"


def detail_url(enrolment) -> str:
    return f"/espace/enrolement/{enrolment.number}/"


def table_rows(response) -> list[list[str]]:
    tbody = re.search(r"<tbody>(.*?)</tbody>", response.content.decode(), re.S)
    assert tbody, "pas de tableau des demandes"
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", tbody.group(1), re.S)
    ]


def test_list_shows_only_the_vendors_own_requests(vendor_client, vendor):
    with freeze_time("2023-02-10 09:00"):
        older = EnrolmentRequestFactory(account=vendor, software_name="ARCAD SAAD", software_version="17")
    with freeze_time("2023-02-13 15:30"):
        newer = EnrolmentRequestFactory(account=vendor, software_name="MEDIBOARD", software_version="2.1")
    EnrolmentRequest.objects.filter(pk=older.pk).update(status="validated", decided_at=timezone.now())
    someone_else = EnrolmentRequestFactory(account=UserFactory())
    unattached = EnrolmentRequestFactory()

    response = vendor_client.get(LIST_URL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Suivi des demandes d'enrôlement" in text
    for header in ("N° de demande", "Logiciel", "Statut", "Date de soumission", "Date de décision"):
        assert f'<th scope="col">{header}</th>' in response.content.decode().replace("&#x27;", "'")
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert table_rows(response) == [
        [newer.number, "MEDIBOARD 2.1", "Soumise", "13/02/2023", "—"],
        [older.number, "ARCAD SAAD 17", "Validée", "10/02/2023", today],
    ]
    assert link_hrefs(response, newer.number) == [detail_url(newer)]
    assert someone_else.number not in text and unattached.number not in text
    assert 'class="fr-badge fr-badge--sm fr-badge--success">Validée</p>' in response.content.decode()


def test_list_says_when_there_is_no_request(vendor_client):
    EnrolmentRequestFactory(account=UserFactory())
    assert "Aucune demande d'enrôlement n'est rattachée à votre compte." in page_text(vendor_client.get(LIST_URL))


def test_another_vendors_request_is_not_found(vendor_client):
    other = EnrolmentRequestFactory(account=UserFactory(), representative_last_name="Autre")
    response = vendor_client.get(detail_url(other))
    assert response.status_code == 404
    assert other.number not in page_text(response)
    assert vendor_client.get("/espace/enrolement/ENR9999M9/").status_code == 404


def test_detail_shows_the_summary_with_a_masked_iban(vendor_client, vendor):
    enrolment = EnrolmentRequestFactory(account=vendor, iban=FULL_IBAN, denomination="ASSOCIATION SERVICES MEDIATION")
    response = vendor_client.get(detail_url(enrolment))
    assert response.status_code == 200
    text = page_text(response)
    assert f"Demande d'enrôlement {enrolment.number}" in text
    assert "IBAN FR76 **** **** 0182" in text
    assert "ASSOCIATION SERVICES MEDIATION" in text and enrolment.siret in text
    content = response.content.decode()
    assert FULL_IBAN not in content and FULL_IBAN[4:-4] not in content


def test_timeline_shows_the_rejection_reason_but_never_the_agent(vendor_client, vendor):
    enrolment = EnrolmentRequestFactory(account=vendor)
    instructor = agent(first_name="Camille", last_name="Roux", username="camille.roux")
    start_review(enrolment=enrolment, by=instructor)
    reject_enrolment(enrolment=enrolment, by=instructor, reason="Le kbis date de plus de trois mois.")

    text = page_text(vendor_client.get(detail_url(enrolment)))

    assert re.search(r"Historique \d\d/\d\d/\d{4} à \d\d:\d\d : Soumise .* : En cours d'instruction .* : Rejetée", text)
    assert "Motif : Le kbis date de plus de trois mois." in text
    assert "Motif du rejet : Le kbis date de plus de trois mois." in text
    assert "Camille" not in text and "Roux" not in text and "camille.roux" not in text


def test_timeline_hides_the_internal_validation_comment(vendor_client, vendor):
    enrolment = EnrolmentRequestFactory()
    validate_enrolment(enrolment=enrolment, by=agent(last_name="Roux"), comment="Vu avec le chef de service.")
    # The service created the vendor's own account; the page is shown here to the test's vendor.
    EnrolmentRequest.objects.filter(pk=enrolment.pk).update(account=vendor)

    text = page_text(vendor_client.get(detail_url(enrolment)))

    assert "Validée" in text
    assert "Vu avec le chef de service" not in text and "Roux" not in text
    assert "Motif" not in text


def test_pages_take_a_bounded_number_of_queries(vendor_client, vendor, django_assert_max_num_queries):
    instructor = agent()
    requests = [EnrolmentRequestFactory(account=vendor) for _ in range(6)]
    for enrolment in requests:
        start_review(enrolment=enrolment, by=instructor)
        reject_enrolment(enrolment=enrolment, by=instructor, reason="Pièce illisible.")

    # Session, user, then the requests (and for the detail, their history), with room for a
    # session save: never one query per row.
    with django_assert_max_num_queries(5):
        assert vendor_client.get(LIST_URL).status_code == 200
    with django_assert_max_num_queries(6):
        assert vendor_client.get(detail_url(requests[0])).status_code == 200


def test_dates_are_local_time(vendor_client, vendor):
    with freeze_time("2023-02-13 23:30:00+00:00"):  # already the 14th in Paris
        enrolment = EnrolmentRequestFactory(account=vendor)
    [row] = table_rows(vendor_client.get(LIST_URL))
    assert row[:4] == [enrolment.number, "ARCAD SAAD 17", "Soumise", "14/02/2023"]
