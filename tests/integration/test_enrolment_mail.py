"""The guide's paths over HTTP against gunicorn, the mail sent by the worker process through the
SMTP relay: an enrolment and its acknowledgement, a validation in the back office and its three
mails (R-MAIL-1, R-MAIL-2, R-MAIL-3)."""

import re
import time

import pytest
from django.urls import reverse

from enrolment.models import EnrolmentRequest
from notifications.models import OutboundEmail
from tests.enrolment.wizard import REPRESENTATIVE, Wizard
from tests.factories import EnrolmentRequestFactory, agent
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ENR = re.compile(r"ENR\d{4,}M\d")
AGENT_PASSWORD = "Mot2passe!Solide"  # tests.factories.UserFactory's
SERIES = ("enrolment_validation", "account_identifiant", "account_temporary_password")


def sign_in_admin(client, username: str, password: str = AGENT_PASSWORD) -> None:
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/", response.text[-2000:]


def test_enrolment_over_http_is_acknowledged_by_the_worker(stack, relay, registries):
    page = Wizard(stack.client()).complete()

    assert page.status_code == 200 and any(url.endswith(reverse("enrolment:done")) for url, _ in page.redirect_chain)
    number = ENR.search(page.text).group(0)
    enrolment = EnrolmentRequest.objects.get(number=number)
    # gunicorn wrote the documents in the private storage the worker shares; the drafts are
    # removed once « Terminer »'s response has left (R-PERF-1), by the worker that answered it.
    stored = [path for path in (stack.storage / "documents").rglob("*") if path.is_file()]
    assert len(stored) == enrolment.documents.count() >= 4
    wait_until(
        lambda: not [path for path in (stack.storage / "drafts").rglob("*") if path.is_file()], 5, "brouillon supprimé"
    )

    received = wait_until(lambda: relay.messages, 20, "accusé de réception")
    time.sleep(1.5)  # nothing else comes
    assert relay.messages == received and len(received) == 1
    assert received[0].rcpt_tos == [REPRESENTATIVE["representative_email"]]
    assert number in received[0].subject
    # Built and sent by the worker process, not by the web request (Message-ID holds the pid).
    assert received[0].sender_pid == stack.worker.pid
    # The worker made the deposit receipt and attached it (R-AFT-4).
    (attachment,) = received[0].message.iter_attachments()
    assert attachment.get_filename() == f"accuse-de-depot-{number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF-")
    row = OutboundEmail.objects.get(enrolment=enrolment)
    assert (row.kind, row.status, row.attempts, row.subject) == (
        "enrolment_acknowledgement",
        "sent",
        1,
        received[0].subject,
    )


def test_validation_in_the_admin_sends_three_mails_in_order_once_each(stack, relay, transactional_db):
    enrolment = EnrolmentRequestFactory()
    agent(username="agent.integration")
    client = stack.client()
    sign_in_admin(client, "agent.integration")

    change = client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment.pk]))
    assert change.status_code == 200 and ">Valider</button>" in change.text
    validated = client.post(
        reverse("admin:enrolment_validate", args=[enrolment.pk]),
        {"comment": "Pièces conformes", "decision": "validate"},
        follow=True,
    )
    assert f"La demande {enrolment.number} est validée" in validated.text

    wait_until(lambda: len(relay.messages) >= 3, 30, "les trois courriels de la validation")
    time.sleep(1.5)  # nothing else comes
    received = relay.messages
    rows = {row.kind: row for row in OutboundEmail.objects.filter(enrolment=enrolment)}
    assert [message.subject for message in received] == [rows[kind].subject for kind in SERIES]
    assert all(message.rcpt_tos == [enrolment.representative_email] for message in received)
    assert all(message.sender_pid == stack.worker.pid for message in received)
    assert [(rows[kind].status, rows[kind].attempts) for kind in SERIES] == [("sent", 1)] * 3

    # The temporary password, made by the worker at the moment of sending, opens the portal.
    enrolment.refresh_from_db()
    password = re.search(r"Mot de passe provisoire : (\S+)", received[2].text()).group(1)
    vendor = stack.client()
    vendor.get(reverse("accounts:login"))
    credentials = {"username": enrolment.account.username, "password": password}
    signed_in = vendor.post(reverse("accounts:login"), credentials, follow=True)
    assert signed_in.status_code == 200
    assert signed_in.redirect_chain[-1][0].endswith(reverse("accounts:password_change"))
