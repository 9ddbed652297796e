"""« A compléter » (R-AFT-1): the agent picks fields and documents and writes a message; the vendor
gets a signed, single-use link valid 15 days to a page with only those items, under the wizard's
labels and checks; « Renvoyer ma demande » stores the corrections under the same number; a
reminder at day 7; rejection only once the link expired."""

import html as html_module
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from enrolment import versions
from enrolment.models import CorrectionRound, EnrolmentDocument, EnrolmentRequest
from enrolment.services import DecisionRefused, reject_enrolment, validate_enrolment
from enrolment.tasks import remind_corrections
from segurnum import housekeeping
from tests import files
from tests.enrolment.wizard import load_registries
from tests.factories import EnrolmentDocumentFactory, EnrolmentRequestFactory, agent

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"http://\S+/enrolement/completer/(\S+)/")
NEW_IBAN = "FR76 3000 4000 0312 3456 7890 143"


@pytest.fixture(autouse=True)
def registries():
    load_registries()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


@pytest.fixture
def enrolment():
    enrolment = EnrolmentRequestFactory(representative_email="oda@example.fr")
    EnrolmentDocumentFactory(enrolment=enrolment, kind=EnrolmentDocument.Kind.RIB, original_name="RIB flou.pdf")
    return enrolment


@pytest.fixture
def asked(enrolment, commit, mailoutbox):
    """The agent asked for the IBAN, the BIC and the RIB; returns the mailed link's token."""
    commit(
        versions.request_corrections,
        enrolment=enrolment,
        by=agent(),
        items=["iban", "bic", "rib"],
        message="Le RIB joint est illisible et l'IBAN ne correspond pas.",
    )
    return LINK_RE.search(mailoutbox[-1].body).group(1)


def page(response) -> str:
    return html_module.unescape(response.content.decode())


def complete_url(token: str) -> str:
    return reverse("enrolment:complete", args=[token])


def corrected(**overrides):
    data = {"bank-iban": NEW_IBAN, "bank-bic": "BNPAFRPP", "bank-rib": files.pdf("RIB lisible.pdf")}
    return {**data, **overrides}


def test_the_agent_asks_and_the_vendor_gets_a_mail_with_a_link(enrolment, asked, mailoutbox):
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.TO_COMPLETE
    assert enrolment.get_status_display() == "A compléter"
    # What the status check (« Suivre ma demande ») and the timeline read.
    assert enrolment.items_to_complete == ["IBAN", "BIC", "RIB"]
    mail = mailoutbox[-1]
    assert mail.subject == f"Votre demande d'enrôlement {enrolment.number} est à compléter"
    assert mail.to == ["oda@example.fr"]
    assert "Le RIB joint est illisible" in mail.body
    assert "- IBAN\n- BIC\n- RIB\n" in mail.body
    expires = timezone.localtime(timezone.now() + timedelta(days=15)).strftime("%d/%m/%Y")
    assert f"valable jusqu'au {expires}" in mail.body
    change = enrolment.status_changes.last()
    assert change.to_status == "to_complete" and change.comment.startswith("Le RIB joint")


def test_the_agent_must_pick_an_item_and_write_a_message(enrolment):
    with pytest.raises(DecisionRefused, match="Cochez au moins un champ"):
        versions.request_corrections(enrolment=enrolment, by=agent(), items=[], message="Merci")
    with pytest.raises(DecisionRefused, match="message au demandeur est obligatoire"):
        versions.request_corrections(enrolment=enrolment, by=agent(), items=["iban"], message="  ")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.SUBMITTED


def test_the_page_shows_only_the_items_asked_with_the_wizard_labels(client, asked):
    response = client.get(complete_url(asked))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Le RIB joint est illisible" in html
    assert 'name="bank-iban"' in html and 'name="bank-bic"' in html and 'name="bank-rib"' in html
    assert ">IBAN" in html and "Fichier reçu : RIB flou.pdf" in html
    assert 'name="bank-account_holder"' not in html and 'name="applicant-denomination"' not in html
    assert "Renvoyer ma demande" in html


def test_a_wrong_value_is_shown_at_its_field_and_kept(client, asked, enrolment):
    response = client.post(complete_url(asked), corrected(**{"bank-iban": "FR76 3000 4000 0312 3456 7890 144"}))
    html = page(response)
    assert response.status_code == 200
    assert re.search(r'id="id_bank-iban-error">(La clé RIB|La clé de contrôle) de l\'IBAN est incorrecte', html)
    assert 'value="FR76 3000 4000 0312 3456 7890 144"' in html
    # The good file is kept: not asked again.
    assert "Fichier reçu : RIB lisible.pdf" in html
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.TO_COMPLETE


def test_a_document_asked_must_be_a_new_one(client, asked):
    response = client.post(complete_url(asked), {"bank-iban": NEW_IBAN, "bank-bic": "BNPAFRPP"})
    assert "Joignez un nouveau fichier « RIB »." in page(response)


def test_renvoyer_ma_demande_stores_the_corrections_under_the_same_number(
    client, asked, enrolment, mailoutbox, django_capture_on_commit_callbacks
):
    old_iban = enrolment.iban
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(complete_url(asked), corrected(), follow=True)
    html = page(response)
    assert "Le numéro de votre demande reste le" in html and enrolment.number in html

    enrolment.refresh_from_db()
    assert enrolment.number.endswith("M0") and enrolment.status == EnrolmentRequest.Status.IN_REVIEW
    assert enrolment.iban == NEW_IBAN.replace(" ", "") and enrolment.bic == "BNPAFRPP"
    assert enrolment.documents.get(kind="rib").original_name == "RIB lisible.pdf"
    round_ = enrolment.correction_rounds.get()
    assert round_.answered_at is not None
    # The domiciliation follows the IBAN's bank, as in the wizard.
    assert round_.previous_values == {"iban": old_iban, "bic": "CCFRFRPP", "bank_domiciliation": "HSBC FRANCE"}
    assert enrolment.bank_domiciliation == "BNP PARIBAS"
    assert round_.previous_documents["rib"]["name"] == "RIB flou.pdf"
    assert [change.to_status for change in enrolment.status_changes.all()] == ["submitted", "to_complete", "in_review"]
    assert mailoutbox[-1].subject == f"Compléments reçus pour votre demande d'enrôlement {enrolment.number}"

    # Reused: the link served once.
    again = client.get(complete_url(asked))
    assert again.status_code == 410
    assert "ont déjà été envoyés : ce lien ne peut servir qu'une fois" in page(again)


def test_an_expired_link(client, asked):
    with freeze_time(timezone.now() + timedelta(days=settings.CORRECTION_LINK_DAYS, minutes=1)):
        response = client.get(complete_url(asked))
    assert response.status_code == 410
    assert "Ce lien a expiré le" in page(response)


@pytest.mark.parametrize("tamper", ["letter", "nonce", "other-salt"])
def test_a_forged_link(client, asked, enrolment, tamper):
    round_ = enrolment.correction_rounds.get()
    token = {
        "letter": asked[:-2] + ("A" if asked[-2] != "A" else "B") + asked[-1],
        "nonce": signing.Signer(salt=versions.LINK_SALT).sign_object({"r": round_.pk, "n": "devine"}),
        "other-salt": signing.Signer(salt="autre").sign_object({"r": round_.pk, "n": round_.nonce}),
    }[tamper]
    response = client.get(complete_url(token))
    assert response.status_code == 410
    assert "Ce lien n'est pas valide." in page(response)
    response = client.post(complete_url(token), corrected())
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentRequest.Status.TO_COMPLETE and enrolment.iban != NEW_IBAN.replace(" ", "")


def test_a_request_no_longer_to_complete(client, asked, enrolment):
    with freeze_time(timezone.now() + timedelta(days=16)):
        reject_enrolment(enrolment=enrolment, by=agent(), reason="Pièces jamais reçues")
        response = client.get(complete_url(asked))
    assert response.status_code == 410
    assert f"La demande {enrolment.number} n'attend plus de compléments" in page(response)


def test_rejection_waits_for_the_link_to_expire(asked, enrolment):
    with pytest.raises(DecisionRefused, match="Elle ne pourra être rejetée qu'après cette date"):
        reject_enrolment(enrolment=enrolment, by=agent(), reason="Incomplet")
    with pytest.raises(DecisionRefused, match="ne peut pas passer au statut « validée »"):
        validate_enrolment(enrolment=enrolment, by=agent())
    with freeze_time(timezone.now() + timedelta(days=15, seconds=1)):
        rejected = reject_enrolment(enrolment=enrolment, by=agent(), reason="Incomplet")
    assert rejected.status == EnrolmentRequest.Status.REJECTED


def test_a_reminder_at_day_seven_once(asked, enrolment, mailoutbox, django_capture_on_commit_callbacks):
    start = timezone.now()
    with freeze_time(start + timedelta(days=6, hours=23)):
        assert versions.send_correction_reminders() == 0
    with freeze_time(start + timedelta(days=7, minutes=1)), django_capture_on_commit_callbacks(execute=True):
        assert remind_corrections.apply().get() == 1
        assert versions.send_correction_reminders() == 0
    reminder = mailoutbox[-1]
    assert reminder.subject == f"Rappel : votre demande d'enrôlement {enrolment.number} est à compléter"
    # The same link: it still works.
    assert LINK_RE.search(reminder.body).group(1) == asked
    assert CorrectionRound.objects.get().reminded_at is not None


def test_the_reminder_is_scheduled_in_beat_and_in_the_embedded_housekeeping(settings, asked, mailoutbox):
    entry = settings.CELERY_BEAT_SCHEDULE["remind-corrections"]
    assert entry["task"] == "enrolment.tasks.remind_corrections"
    assert housekeeping.interval_seconds(entry["schedule"]) == 3600
    settings.HOUSEKEEPING_IN_WEB = True
    with freeze_time(timezone.now() + timedelta(days=8)):
        assert "remind-corrections" in housekeeping.run_if_due()
    assert CorrectionRound.objects.get().reminded_at is not None


def test_the_agent_page_has_the_action_and_shows_each_round(client, enrolment, mailoutbox):
    user = agent()
    client.force_login(user)
    url = reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment.pk])
    html = client.get(url).content.decode()
    assert "Demander des compléments" in html
    assert 'value="rib"' in html and 'value="iban"' in html and 'value="siret"' not in html

    response = client.post(
        reverse("admin:enrolment_request_corrections", args=[enrolment.pk]),
        {"items": ["kbis", "denomination"], "message": "Le kbis a plus de trois mois."},
        follow=True,
    )
    html = page(response)
    assert f"La demande {enrolment.number} est « A compléter »" in html
    assert "Tour 1" in html and "Dénomination sociale, kbis" in html
    assert "En attente des compléments" in html


def test_a_legal_representative_turned_tiers_declarant_gives_the_depositor(client, enrolment, commit, mailoutbox):
    commit(
        versions.request_corrections,
        enrolment=enrolment,
        by=agent(),
        items=["is_legal_representative"],
        message="Vous n'êtes pas le représentant légal : indiquez-le.",
    )
    token = LINK_RE.search(mailoutbox[-1].body).group(1)
    html = page(client.get(complete_url(token)))
    assert "Je suis le représentant légal du fournisseur" in html
    assert 'name="applicant-depositor_last_name"' in html and 'name="applicant-depositor_id"' in html

    response = client.post(complete_url(token), {"applicant-is_legal_representative": "non"})
    html = page(response)
    assert re.search(r'id="id_applicant-depositor_last_name-error">Ce champ est obligatoire', html)
    assert "Joignez le fichier « CNI, passeport ou titre de séjour du demandeur »." in html
    enrolment.refresh_from_db()
    assert enrolment.is_legal_representative and enrolment.status == EnrolmentRequest.Status.TO_COMPLETE
