"""Flags in the back office (R-OPS-3): badges in the lists and the details, the « signalement »
filter, and « Marquer vérifié » whose comment is required and kept when missing."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from flags import services
from tests.factories import agent, support_user
from tests.flags.helpers import enrolment, funding_request, iban

pytestmark = pytest.mark.django_db

ENROLMENTS = reverse("admin:enrolment_enrolmentrequest_changelist")
FUNDING = reverse("admin:funding_fundingrequest_changelist")


@pytest.fixture
def agent_client(client):
    client.force_login(agent(username="camille.roux"))
    return client


@pytest.fixture
def flagged():
    first, second = enrolment(iban=iban(800)), enrolment(iban=iban(800))
    clean = enrolment()
    services.refresh_enrolment_flags(enrolment_id=second.pk)
    return first, second, clean


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", html, re.S)


def test_the_list_shows_badges_and_filters_by_flag(agent_client, flagged, django_assert_max_num_queries):
    first, second, clean = flagged
    with django_assert_max_num_queries(12):
        html = agent_client.get(ENROLMENTS).content.decode()
    badge = '<span class="flag-badge flag-open" title="Le même IBAN est donné par'
    assert html.count(badge) == 2
    (clean_row,) = [row for row in rows(html) if clean.number in row]
    assert "flag-badge" not in clean_row

    html = agent_client.get(ENROLMENTS, {"signalement": "same_iban"}).content.decode()
    assert f">{first.number}</a>" in html and f">{second.number}</a>" in html and clean.number not in html
    html = agent_client.get(ENROLMENTS, {"signalement": "aucun"}).content.decode()
    assert f">{clean.number}</a>" in html and first.number not in html
    assert "À vérifier" in html and "Titulaire du compte différent de la dénomination" in html


def test_an_agent_marks_a_flag_verified_from_the_detail_page(agent_client, flagged):
    _, second, _ = flagged
    flag = second.flags.get()
    detail = agent_client.get(reverse("admin:enrolment_enrolmentrequest_change", args=[second.pk])).content.decode()
    assert "<h2>Signalements de cohérence</h2>" in detail
    verify_url = reverse("admin:flags_verify", args=[flag.pk])
    assert f'href="{verify_url}"' in detail

    page = agent_client.get(verify_url)
    assert page.status_code == 200
    assert "IBAN d&#x27;un autre SIREN" in page.content.decode()

    refused = agent_client.post(verify_url, {"comment": "  "})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Le commentaire est obligatoire : indiquez ce que vous avez vérifié." in html
    assert 'aria-invalid="true"' in html

    response = agent_client.post(verify_url, {"comment": "IBAN du groupe, confirmé par le siège"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:enrolment_enrolmentrequest_change", args=[second.pk])
    html = response.content.decode()
    assert f"Signalement « IBAN d&#x27;un autre SIREN » de la demande {second.number} marqué vérifié." in html
    assert "Vérifié par camille.roux" in html and "IBAN du groupe, confirmé par le siège" in html
    assert AuditEntry.objects.filter(action="flag_review", actor_label="camille.roux").count() == 1
    list_html = agent_client.get(ENROLMENTS, {"signalement": "a_verifier"}).content.decode()
    assert f">{second.number}</a>" not in list_html and f">{flagged[0].number}</a>" in list_html


def test_support_cannot_verify_a_flag(client, flagged):
    client.force_login(support_user())
    flag = flagged[1].flags.get()
    assert client.post(reverse("admin:flags_verify", args=[flag.pk]), {"comment": "ok"}).status_code == 403
    assert not flag.__class__.objects.get(pk=flag.pk).is_verified


def test_funding_requests_show_their_badges_and_filter(agent_client):
    first = funding_request([("RPPS", "10003456789", "Dr Martin")])
    second = funding_request([("RPPS", "10003456789", "Dr Martin")])
    alone = funding_request([("RPPS", "10001111111", "Dr Petit")])
    services.refresh_funding_flags(funding_request_id=second.pk)
    html = agent_client.get(FUNDING, {"signalement": "beneficiary_twice"}).content.decode()
    assert f">{first.number}</a>" in html and f">{second.number}</a>" in html and alone.number not in html
    assert html.count('class="flag-badge flag-open"') == 2
    detail = agent_client.get(reverse("admin:funding_fundingrequest_change", args=[second.pk])).content.decode()
    assert "RPPS 10003456789 (Dr Martin) dans " + first.number in detail
