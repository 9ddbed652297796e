"""The agents' back office in the Django admin: list, search, filters, detail, documents,
decisions and who may do what (R-BO-1, R-BO-2, SECURITY P3)."""

import html

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from accounts.groups import AGENT, SUPPORT
from enrolment.models import AccessRecord, EnrolmentRequest
from enrolment.tasks import purge_old_access_records
from tests.factories import (
    EnrolmentDocumentFactory,
    EnrolmentRequestFactory,
    ReferencedSoftwareFactory,
    UserFactory,
    agent,
    support_user,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:enrolment_enrolmentrequest_changelist")


def change_url(enrolment):
    return reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment.pk])


def document_url(document):
    return reverse("admin:enrolment_document", args=[document.enrolment_id, document.pk])


def decision_url(name, enrolment):
    return reverse(f"admin:enrolment_{name}", args=[enrolment.pk])


@pytest.fixture
def agent_client(client):
    client.force_login(agent(first_name="Camille", last_name="Roux"))
    return client


@pytest.fixture
def support_client(client):
    client.force_login(support_user())
    return client


def listed_numbers(response) -> list[str]:
    return [row.number for row in response.context["cl"].result_list]


def test_groups_hold_the_agreed_permissions():
    agent_permissions = {p.codename for p in Group.objects.get(name=AGENT).permissions.all()}
    support_permissions = {p.codename for p in Group.objects.get(name=SUPPORT).permissions.all()}
    assert {"validate_enrolmentrequest", "reject_enrolmentrequest", "download_enrolmentdocument"} <= agent_permissions
    assert "lookup_enrolmentrequest" in support_permissions
    assert not support_permissions & {
        "view_enrolmentrequest",
        "validate_enrolmentrequest",
        "reject_enrolmentrequest",
        "download_enrolmentdocument",
    }


def test_agent_lists_requests_with_the_useful_columns(agent_client):
    enrolment = EnrolmentRequestFactory(denomination="CABINET DURAND", siret="47992882200069")
    response = agent_client.get(CHANGELIST)
    page = response.content.decode()
    for heading in ("Numéro de demande", "Statut", "Numéro de SIRET", "Dénomination sociale", "Logiciel", "Soumise le"):
        assert heading in page
    for value in (enrolment.number, "Soumise", "47992882200069", "CABINET DURAND", "ARCAD SAAD 17"):
        assert value in page


@pytest.mark.parametrize(
    "query",
    ["ENR7777M0", "enr7777m0", "12345678200010", "tndSAS4242", "Durand", "durand@cabinet.example.fr", "claire@tiers"],
)
def test_agent_searches_by_number_siret_referencing_company_or_email(agent_client, query):
    wanted = EnrolmentRequestFactory(
        sequence=7777,
        siret="12345678200010",
        software=ReferencedSoftwareFactory(referencing_number="tndSAS4242"),
        denomination="CABINET DURAND",
        representative_email="durand@cabinet.example.fr",
        depositor_email="claire@tiers.example.fr",
    )
    EnrolmentRequestFactory.create_batch(3)
    assert listed_numbers(agent_client.get(CHANGELIST, {"q": query})) == [wanted.number]


def test_agent_filters_by_status_vat_dsr_third_party_distributor_and_date(agent_client):
    other_dsr = ReferencedSoftwareFactory(dsr_label="Couloir 2 / LGC / Vague 2")
    plain = EnrolmentRequestFactory()
    third_party = EnrolmentRequestFactory(is_legal_representative=False, depositor_email="tiers@example.fr")
    exempt = EnrolmentRequestFactory(vat_rate=EnrolmentRequest.VatRate.HT_0, software=other_dsr, is_distributor=True)
    rejected = EnrolmentRequestFactory(status=EnrolmentRequest.Status.REJECTED)
    EnrolmentRequest.objects.filter(pk=plain.pk).update(submitted_at="2020-01-15T10:00:00Z")

    def numbers(**params):
        return set(listed_numbers(agent_client.get(CHANGELIST, params)))

    assert numbers(status__exact="rejected") == {rejected.number}
    assert numbers(vat_rate__exact="ht_0") == {exempt.number}
    assert numbers(dsr="Couloir 2 / LGC / Vague 2") == {exempt.number}
    assert numbers(tiers_declarant="oui") == {third_party.number}
    assert numbers(is_distributor__exact="1") == {exempt.number}
    assert plain.number not in numbers(submitted_at__gte="2026-01-01 00:00:00+00:00")
    page = agent_client.get(CHANGELIST).content.decode()
    for title in (
        "Par statut",
        "Par taux TVA",
        "Par DSR concerné",
        "Par tiers déclarant",
        "Par distributeur",
        "Par soumise le",
    ):
        assert title in page


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_10_and_200_requests(agent_client):
    """No query per row: the page does as many queries with 200 requests as with 10."""
    EnrolmentRequestFactory.create_batch(10)
    with_10 = count_queries(agent_client, CHANGELIST)
    EnrolmentRequestFactory.create_batch(190)
    validated = EnrolmentRequest.objects.all()[:40]
    for enrolment in validated:  # the account column joins, it does not query per row
        enrolment.account = UserFactory()
        enrolment.status = EnrolmentRequest.Status.VALIDATED
        enrolment.save()
    assert count_queries(agent_client, CHANGELIST) == with_10
    assert count_queries(agent_client, CHANGELIST + "?q=Oda&status__exact=validated") <= with_10 + 1


def test_detail_is_read_only_grouped_like_the_recap_and_recorded(agent_client):
    enrolment = EnrolmentRequestFactory()
    document = EnrolmentDocumentFactory(enrolment=enrolment, original_name="RIB ASM.pdf")
    response = agent_client.get(change_url(enrolment))
    page = response.content.decode()
    for group in ("Référencement", "Personne morale", "Demandeur", "Coordonnées bancaires", "Régime TVA"):
        assert f">{group}<" in page
    for group in ("Pièces justificatives", "Historique", "Courriels"):
        assert f"<h2>{group}</h2>" in page
    assert "FR7630056009271234567890182" in page and "RIB ASM.pdf" in page and document_url(document) in page
    assert 'name="_save"' not in page  # nothing to edit: decisions are the buttons below
    record = AccessRecord.objects.get()
    assert (record.action, record.enrolment, record.target) == ("view_request", enrolment, enrolment.number)


def test_agent_validates_with_the_button(agent_client, mailoutbox, django_capture_on_commit_callbacks):
    enrolment = EnrolmentRequestFactory()
    page = agent_client.get(change_url(enrolment)).content.decode()
    assert ">Valider</button>" in page and ">Rejeter</button>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(decision_url("validate", enrolment), {"comment": "Pièces conformes"}, follow=True)
    enrolment.refresh_from_db()
    assert enrolment.status == "validated" and enrolment.account is not None
    page = response.content.decode()
    assert f"La demande {enrolment.number} est validée" in page
    assert "Soumise → <strong>Validée</strong>" in page and "par Camille Roux" in page and "Pièces conformes" in page
    assert ">Valider</button>" not in page  # a decided request offers no decision
    assert len(mailoutbox) == 3

    again = agent_client.post(decision_url("validate", enrolment), follow=True)
    assert "ne peut pas passer au statut « validée »" in again.content.decode()
    assert len(mailoutbox) == 3


def test_rejection_needs_a_reason_and_mails_it(agent_client, mailoutbox, django_capture_on_commit_callbacks):
    enrolment = EnrolmentRequestFactory()
    response = agent_client.post(decision_url("reject", enrolment), {"reason": " "}, follow=True)
    assert "Le motif du rejet est obligatoire" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.status == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(decision_url("reject", enrolment), {"reason": "Kbis de plus de 3 mois"})
    enrolment.refresh_from_db()
    assert enrolment.status == "rejected"
    assert len(mailoutbox) == 1 and "Kbis de plus de 3 mois" in mailoutbox[0].body


def test_agent_takes_a_request_in_review(agent_client):
    enrolment = EnrolmentRequestFactory()
    response = agent_client.post(decision_url("review", enrolment), follow=True)
    enrolment.refresh_from_db()
    assert enrolment.status == "in_review"
    assert "est en cours d'instruction" in html.unescape(response.content.decode())


def test_decisions_only_by_post(agent_client):
    enrolment = EnrolmentRequestFactory()
    assert agent_client.get(decision_url("validate", enrolment)).status_code == 405


def test_agent_opens_a_document_as_an_attachment_and_it_is_recorded(agent_client):
    document = EnrolmentDocumentFactory(original_name="Kbis société.pdf")
    response = agent_client.get(document_url(document))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == document.file.open("rb").read()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    record = AccessRecord.objects.get(action="open_document")
    assert record.document == document and "Kbis société.pdf" in record.target
    assert record.user.username == response.wsgi_request.user.username


def test_support_looks_up_but_cannot_see_decide_or_open(support_client):
    document = EnrolmentDocumentFactory()
    enrolment = document.enrolment
    assert support_client.get(CHANGELIST).status_code == 403
    assert support_client.get(change_url(enrolment)).status_code == 403
    assert support_client.post(decision_url("validate", enrolment)).status_code == 403
    assert support_client.post(decision_url("reject", enrolment), {"reason": "x"}).status_code == 403
    assert support_client.get(document_url(document)).status_code == 403
    enrolment.refresh_from_db()
    assert enrolment.status == "submitted" and not AccessRecord.objects.exists()
    assert support_client.get(reverse("support_lookup")).status_code == 200


def test_anonymous_visitor_reaches_none_of_it(client):
    document = EnrolmentDocumentFactory()
    enrolment = document.enrolment
    for url in (CHANGELIST, change_url(enrolment), reverse("support_lookup")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(decision_url("validate", enrolment)).status_code == 302
    assert client.get(document_url(document)).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == "submitted"


def test_a_vendor_never_gets_a_document(client):
    document = EnrolmentDocumentFactory()
    client.force_login(UserFactory(username="eishiro.oda"))  # a vendor account: not staff
    assert client.get(document_url(document)).status_code == 404
    assert client.get(change_url(document.enrolment)).status_code == 302


def test_a_document_of_another_request_is_not_found(agent_client):
    document = EnrolmentDocumentFactory()
    other = EnrolmentRequestFactory()
    url = reverse("admin:enrolment_document", args=[other.pk, document.pk])
    assert agent_client.get(url).status_code == 404


def test_consultation_log_is_kept_a_year_then_purged(agent_client):
    enrolment = EnrolmentRequestFactory()
    with freeze_time("2025-11-01"):
        agent_client.get(change_url(enrolment))
    agent_client.get(change_url(enrolment))
    assert purge_old_access_records.apply().get() == 1
    assert AccessRecord.objects.count() == 1
