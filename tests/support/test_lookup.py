"""Support finds a request by its ENR number and sees its status and history (R-BO-3)."""

import pytest
from django.urls import reverse

from enrolment import services
from enrolment.models import AccessRecord
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent, support_user

pytestmark = pytest.mark.django_db

LOOKUP = reverse("support_lookup")


@pytest.fixture
def support_client(client):
    client.force_login(support_user())
    return client


@pytest.fixture
def validated(django_capture_on_commit_callbacks):
    enrolment = EnrolmentRequestFactory(sequence=11, denomination="ASSOCIATION SERVICES MEDIATION")
    EnrolmentDocumentFactory(enrolment=enrolment, original_name="RIB confidentiel.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        return services.validate_enrolment(enrolment=enrolment, by=agent(first_name="Camille", last_name="Roux"))


def test_support_finds_a_request_by_its_enr_number(support_client, validated):
    page = support_client.get(LOOKUP, {"q": "ENR0011M0"}).content.decode()
    assert "Demande ENR0011M0 — Validée" in page
    for shown in ("ARCAD SAAD", "ASSOCIATION SERVICES MEDIATION", validated.siret, "FR76 **** **** 0182"):
        assert shown in page
    assert "Soumise → <strong>Validée</strong>" in page and "par Camille Roux" in page
    # The three mails and their delivery state.
    assert page.count("<td>Envoyé</td>") == 3 and "Votre identifiant de connexion" in page
    # Never the full IBAN, never the documents, never the identifiant's value or a password.
    assert "FR7630056009271234567890182" not in page and "RIB confidentiel" not in page
    assert validated.account.username not in page


@pytest.mark.parametrize("query", ["enr0011m0", " ENR 0011 M0 ", "ENR11M0"])
def test_the_enr_number_is_read_as_typed_on_the_phone(support_client, validated, query):
    assert "Demande ENR0011M0" in support_client.get(LOOKUP, {"q": query}).content.decode()


def test_support_also_finds_by_siret_or_email(support_client, validated):
    EnrolmentRequestFactory()
    assert "Demande ENR0011M0" in support_client.get(LOOKUP, {"q": validated.siret}).content.decode()
    page = support_client.get(LOOKUP, {"q": validated.representative_email.upper()}).content.decode()
    assert "1 demande trouvée" in page and "Demande ENR0011M0" in page


def test_unknown_enr_gives_a_clear_message(support_client, validated):
    page = support_client.get(LOOKUP, {"q": "ENR9999M0"}).content.decode()
    assert "Aucune demande d'enrôlement ne correspond à « ENR9999M0 »" in page
    assert 'value="ENR9999M0"' in page  # what was typed stays in the box


def test_unreadable_query_is_explained_next_to_the_field(support_client):
    page = support_client.get(LOOKUP, {"q": "bonjour"}).content.decode()
    assert 'aria-invalid="true"' in page and 'id="id_q_error"' in page
    assert "n&#x27;est ni un numéro de demande, ni un SIRET, ni un courriel" in page


def test_each_lookup_is_recorded(support_client, validated):
    support_client.get(LOOKUP, {"q": "ENR0011M0"})
    record = AccessRecord.objects.get(action="support_lookup")
    assert record.enrolment == validated and record.target.startswith("ENR0011M0")


def test_only_staff_with_the_permission_reach_it(client, validated):
    assert client.get(LOOKUP)["Location"].startswith("/admin/login/")
    client.force_login(validated.account)  # a vendor
    assert client.get(LOOKUP).status_code == 302
    client.force_login(agent())
    assert client.get(LOOKUP, {"q": "ENR0011M0"}).status_code == 200


def test_admin_home_leads_support_to_the_search(support_client):
    assert reverse("support_lookup") in support_client.get(reverse("admin:index")).content.decode()
