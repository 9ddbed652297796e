import html
import re

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.urls import reverse

from public.models import FaqEntry

FAQ_URL = "/aide/questions-frequentes/"


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.mark.django_db
def test_faq_url():
    assert reverse("public:faq") == FAQ_URL


@pytest.mark.django_db
def test_faq_lists_published_entries_in_position_order(client):
    FaqEntry.objects.create(question="Deuxième question ?", answer="Réponse 2", position=20)
    FaqEntry.objects.create(question="Première question ?", answer="Réponse 1", position=10)
    FaqEntry.objects.create(question="Question brouillon ?", answer="Pas encore", position=5, published=False)

    response = client.get(FAQ_URL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Questions fréquentes" in text
    assert text.index("Première question ?") < text.index("Deuxième question ?")
    assert "Question brouillon ?" not in text


@pytest.mark.django_db
def test_answers_open_without_javascript_and_are_escaped(client):
    FaqEntry.objects.create(
        question="Quels fichiers ?", answer="Premier paragraphe.\n\n<b>Second</b> paragraphe.", position=1
    )
    content = client.get(FAQ_URL).content.decode()
    # <details>/<summary>: native disclosure, opened by keyboard and without any script.
    assert re.search(r"<details[^>]*>\s*<summary[^>]*>Quels fichiers \?</summary>", content)
    assert "<p>Premier paragraphe.</p>" in content
    assert "<p>&lt;b&gt;Second&lt;/b&gt; paragraphe.</p>" in content


@pytest.mark.django_db
def test_empty_faq_says_so_and_points_to_support(client):
    text = page_text(client.get(FAQ_URL))
    assert "Aucune question n'est publiée pour le moment." in text
    assert "Contacter l'assistance" in text


@pytest.mark.django_db
def test_fixture_loads_the_guide_questions(client):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "faq.json"), verbosity=0)

    assert FaqEntry.objects.filter(published=True).count() >= 8
    text = page_text(client.get(FAQ_URL))
    assert "un numéro de référencement = un enrôlement ASP" in text
    assert "un fournisseur SAS ne peut faire qu'un seul enrôlement et qu'une seule demande de financement" in text
    assert "fichier de type .png, .jpg, .jpeg ou .pdf. Taille maximum : 4 Mo" in text
    assert "Preuve de régime hors TVA" in text
    assert "ENR0011M0" in text


def test_faq_admin_edits_position_and_publication_from_the_list():
    model_admin = site._registry[FaqEntry]
    assert model_admin.list_editable == ["position", "published"]
    assert "question" in model_admin.search_fields


@pytest.mark.django_db
def test_faq_admin_changelist_opens(admin_client):
    FaqEntry.objects.create(question="Qui peut s'enrôler ?", answer="Les fournisseurs SAS.", position=1)
    response = admin_client.get(reverse("admin:public_faqentry_changelist"), {"q": "enrôler"})
    assert response.status_code == 200
    assert "Qui peut s" in response.content.decode()


@pytest.mark.django_db
def test_fixture_answers_one_enrolment_per_vendor_for_several_software(client):
    """R-BIZ-2: the portal takes one enrolment per SIRET, so the FAQ says so to a vendor with
    several referenced software, instead of suggesting one request per software."""
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "faq.json"), verbosity=0)

    entry = FaqEntry.objects.get(question__startswith="J'ai plusieurs logiciels référencés")
    answer = " ".join(entry.answer.split())
    assert answer.startswith("Une seule.")
    assert "ne peut faire qu'un seul enrôlement" in answer
    assert "même numéro de SIRET" in answer
    assert "Vous devez vous enrôler dès que vous avez un logiciel" not in answer
