"""R-AFT-4: the deposit receipt attached to the acknowledgement mails, through the outbox."""

import pytest

from enrolment.models import EnrolmentRequest
from enrolment.services import _queue_acknowledgement
from notifications.models import OutboundEmail
from notifications.services import deliver
from notifications.tasks import send_outbound_email
from tests.enrolment.wizard import Wizard, load_registries
from tests.factories import EnrolmentRequestFactory
from tests.funding.factories import filed_request, open_window, validated_vendor
from tests.tracking.pdf import pdf_text
from tracking import receipts

pytestmark = pytest.mark.django_db


def test_the_acknowledgement_carries_the_receipt_and_is_sent_once(
    client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://segurnum.example.fr"
    load_registries()
    with django_capture_on_commit_callbacks(execute=True):
        page = Wizard(client).complete()
    enrolment = EnrolmentRequest.objects.get()

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["eishiro.oda@example.fr"]
    assert "L'accusé de dépôt de votre demande est joint à ce courriel (PDF)" in mail.body
    assert "« Suivre ma demande » : https://segurnum.example.fr/suivre-ma-demande/" in mail.body
    html = mail.alternatives[0][0]
    assert 'href="https://segurnum.example.fr/suivre-ma-demande/"' in html
    assert [(name, kind) for name, _, kind in mail.attachments] == [
        ("accuse-de-depot-ENR0001M0.pdf", "application/pdf")
    ]
    attached = mail.attachments[0][1]
    text = pdf_text(attached)
    assert "Demande d'enrôlement ENR0001M0" in text
    assert enrolment.documents.count() == 4
    for document in enrolment.documents.all():
        assert f"SHA-256 : {document.sha256}" in text
    # The one the vendor downloads from the confirmation page is the same document.
    download = client.get(page.redirect_chain[-1][0] + "accuse-de-depot.pdf")
    assert download.content == attached
    # The outbox row keeps no PDF.
    row = OutboundEmail.objects.get(kind="enrolment_acknowledgement")
    assert "%PDF" not in row.body_text and "%PDF" not in row.body_html

    # A worker's re-delivery of the same row (acks_late, a lost worker): no second mail.
    assert deliver(row.pk) is False
    send_outbound_email.apply(args=[row.pk])
    assert len(mailoutbox) == 1


def test_a_receipt_that_cannot_be_made_leaves_the_mail_pending_for_a_retry(mailoutbox, monkeypatch):
    """The mail is never sent without its receipt: the failure is recorded, the row stays pending
    and a later delivery sends it, once."""
    enrolment = EnrolmentRequestFactory()
    _queue_acknowledgement(enrolment)
    row = OutboundEmail.objects.get(kind="enrolment_acknowledgement")

    def broken(receipt):
        raise OSError("disque plein")

    monkeypatch.setattr(receipts, "render_pdf", broken)
    with pytest.raises(OSError):
        deliver(row.pk)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.PENDING and "disque plein" in row.last_error
    assert mailoutbox == []

    monkeypatch.undo()
    assert deliver(row.pk) is True
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments[0][0] == f"accuse-de-depot-{enrolment.number}.pdf"


def test_the_funding_acknowledgement_carries_the_receipt_of_its_version(mailoutbox, django_capture_on_commit_callbacks):
    open_window()
    enrolment = validated_vendor()
    with django_capture_on_commit_callbacks(execute=True):
        funding = filed_request(enrolment)

    mails = [mail for mail in mailoutbox if funding.number in mail.subject]
    assert len(mails) == 1
    mail = mails[0]
    assert "L'accusé de dépôt de votre demande est joint à ce courriel (PDF)" in mail.body
    name, content, kind = mail.attachments[0]
    assert (name, kind) == (f"accuse-de-depot-{funding.number}-version-1.pdf", "application/pdf")
    text = pdf_text(content)
    assert f"Demande de financement {funding.number}" in text
    assert f"SHA-256 : {funding.current_version.json_sha256}" in text
