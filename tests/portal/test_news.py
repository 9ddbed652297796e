"""« Actualités » on the vendor's home page, written by agents in the admin (R-PRIV-2)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from portal.models import News
from tests.factories import NewsFactory, agent, support_user
from tests.portal.pages import link_hrefs, links, page_text

pytestmark = pytest.mark.django_db

NEWS_ADD = "/admin/portal/news/add/"


def news_titles(response) -> list[str]:
    return re.findall(r'<h3 class="fr-card__title">([^<]+)</h3>', response.content.decode())


@freeze_time("2023-02-20 10:00")
def test_home_lists_the_published_news_newest_first_with_their_date(vendor_client):
    now = timezone.now()
    NewsFactory(title="TEST SAS", published_at=now - timedelta(days=7))
    NewsFactory(title="Ouverture du portail", published_at=now - timedelta(days=30))
    NewsFactory(title="Maintenance prévue", published_at=now - timedelta(hours=1))

    response = vendor_client.get("/espace/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Accueil fournisseur SAS" in text and "Actualités" in text
    assert news_titles(response) == ["Maintenance prévue", "TEST SAS", "Ouverture du portail"]
    assert "Publiée le 13/02/2023" in text and "Publiée le 21/01/2023" in text


def test_drafts_and_scheduled_news_are_hidden(vendor_client):
    NewsFactory(title="Visible")
    NewsFactory(title="Brouillon", published=False)
    NewsFactory(title="Programmée", published_at=timezone.now() + timedelta(days=1))

    assert news_titles(vendor_client.get("/espace/")) == ["Visible"]


def test_home_says_when_there_is_no_news(vendor_client):
    NewsFactory(published=False)
    text = page_text(vendor_client.get("/espace/"))
    assert "Aucune actualité n'est publiée pour le moment." in text


def test_home_shows_an_excerpt_and_read_more_leads_to_the_whole_news(vendor_client):
    body = "Début de l'actualité. " + "mot " * 60 + "\n\nFin de l'actualité cachée sur l'accueil."
    news = NewsFactory(title="TEST SAS", body=body)

    home = vendor_client.get("/espace/")
    assert "Début de l'actualité." in page_text(home)
    assert "Fin de l'actualité cachée" not in page_text(home)
    read_more = [href for label, href in links(home) if label.startswith("Lire la suite")]
    assert read_more == [f"/espace/actualites/{news.pk}/"]
    assert ("Lire la suite de l'actualité « TEST SAS »", read_more[0]) in links(home)

    detail = vendor_client.get(read_more[0])
    assert detail.status_code == 200
    content = detail.content.decode()
    assert "<h1>TEST SAS</h1>" in content
    assert "<p>Début de l&#x27;actualité." in content
    assert "<p>Fin de l&#x27;actualité cachée sur l&#x27;accueil.</p>" in content  # blank line = paragraph


def test_home_offers_the_two_follow_up_buttons(vendor_client):
    response = vendor_client.get("/espace/")
    assert link_hrefs(response, "Suivi des demandes d'enrôlement") == ["/espace/enrolement/"]
    assert link_hrefs(response, "Suivi de ma demande de financement") == ["/espace/demande-de-financement/"]


@pytest.mark.parametrize(
    "hidden", [{"published": False}, {"published_at": timezone.now() + timedelta(days=3)}], ids=["draft", "future"]
)
def test_hidden_news_detail_is_not_found(vendor_client, hidden):
    news = NewsFactory(**hidden)
    response = vendor_client.get(f"/espace/actualites/{news.pk}/")
    assert response.status_code == 404
    assert news.title not in page_text(response)


def test_an_agent_publishes_news_in_the_admin_and_vendors_see_it(client, vendor):
    client.force_login(agent())
    assert client.get(NEWS_ADD).status_code == 200
    a_minute_ago = timezone.localtime() - timedelta(minutes=1)
    response = client.post(
        NEWS_ADD,
        {
            "title": "Ouverture de la demande de financement",
            "body": "La demande de financement ouvre le 1er mars.",
            "published_at_0": a_minute_ago.strftime("%d/%m/%Y"),
            "published_at_1": a_minute_ago.strftime("%H:%M:%S"),
            "published": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert News.objects.get().title == "Ouverture de la demande de financement"

    client.force_login(vendor)
    assert "Ouverture de la demande de financement" in page_text(client.get("/espace/"))


def test_support_cannot_manage_news(client):
    client.force_login(support_user())
    assert client.get(NEWS_ADD).status_code == 403
    assert client.get("/admin/portal/news/").status_code == 403
