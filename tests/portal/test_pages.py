"""« Demande de financement », « Mon compte » and « Besoin d'aide? » (R-PRIV-1)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts.models import User
from enrolment.models import EnrolmentRequest
from tests.factories import EnrolmentRequestFactory
from tests.portal.pages import link_hrefs, page_text

pytestmark = pytest.mark.django_db

ONE_REQUEST = "Un fournisseur SAS ne peut faire qu'une seule demande de financement."


def test_funding_page_before_the_enrolment_is_validated(vendor_client, vendor):
    EnrolmentRequestFactory(account=vendor, status=EnrolmentRequest.Status.IN_REVIEW)
    response = vendor_client.get("/espace/demande-de-financement/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Vous n'avez pas encore de demande de financement." in text
    assert ONE_REQUEST in text
    assert "une fois votre demande d'enrôlement validée" in text
    assert "Votre enrôlement n'est pas encore validé" in text
    assert link_hrefs(response, "suivi des demandes d'enrôlement") == ["/espace/enrolement/"]


def test_funding_page_once_the_enrolment_is_validated(vendor_client, vendor):
    enrolment = EnrolmentRequestFactory(
        account=vendor, status=EnrolmentRequest.Status.VALIDATED, decided_at=timezone.now()
    )
    text = page_text(vendor_client.get("/espace/demande-de-financement/"))
    assert "Vous n'avez pas encore de demande de financement." in text and ONE_REQUEST in text
    assert f"au titre de votre enrôlement {enrolment.number}" in text
    assert "Aucune ouverture n'est programmée." in text  # no filing window yet
    assert "pas encore validé" not in text


def test_account_page_shows_the_identity_and_the_security_links(vendor_client, vendor):
    User.objects.filter(pk=vendor.pk).update(last_login=datetime(2023, 2, 13, 10, 5, tzinfo=UTC))
    response = vendor_client.get("/espace/mon-compte/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Mon compte" in text
    for row in (
        "Identifiant eishiro.oda",
        "Prénom Eishiro",
        "Nom ODA",
        "Adresse électronique eishiro.oda@asm.example",
        "Dernière connexion 13/02/2023 à 11:05",  # Europe/Paris
    ):
        assert row in text, row
    assert link_hrefs(response, "Changer mon mot de passe") == ["/espace/changement-mot-de-passe/"]
    assert link_hrefs(response, "Changer ma question secrète") == ["/espace/question-secrete/"]


def test_help_page_links_to_the_faq_and_the_support(vendor_client):
    response = vendor_client.get("/espace/aide/")
    assert response.status_code == 200
    assert "Besoin d'aide?" in page_text(response)
    assert link_hrefs(response, "Consulter les questions fréquentes") == ["/aide/questions-frequentes/"]
    assert "/aide/contacter-assistance/" in link_hrefs(response, "Contacter l'assistance")
