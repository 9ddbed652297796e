"""What the accessibility audit (RGAA 4.1) asked of the HTML itself, as the server sends it: labels,
descriptions, titles, skip links, autocomplete, the « Plan du site » and the footer. The browser
side (axe, reflow, keyboard, no JavaScript) is in tests/browser/test_audit_browser.py."""

import re

import pytest
from django.core import mail

from tests.enrolment.wizard import Wizard, load_registries
from tests.factories import NewsFactory, UserFactory, agent

pytestmark = pytest.mark.django_db

PASSWORD = "Mot2passe!Solide"  # the factories'


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def title(response) -> str:
    return re.search(r"<title>\s*(.*?)\s*</title>", html(response), re.S).group(1)


def tag(page: str, input_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(input_id)}"[^>]*>', page)
    assert match, f"#{input_id} absent"
    return match.group(0)


def attribute(element: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', element)
    return match.group(1) if match else None


@pytest.fixture
def wizard(client):
    load_registries()
    return Wizard(client)


@pytest.fixture
def agent_client(client):
    client.force_login(agent())
    return client


# --- 1. labels of the back office's date and time (RGAA 11.1) --------------------------------------


def test_the_date_and_time_of_a_news_item_each_have_their_label(agent_client):
    page = html(agent_client.get("/admin/portal/news/add/"))
    assert re.search(r'<label for="id_published_at_0">Date\s:</label>', page)
    assert re.search(r'<label for="id_published_at_1">Heure\s:</label>', page)
    tag(page, "id_published_at_0"), tag(page, "id_published_at_1")


# --- 4. the captcha is described by its error (RGAA 11.10) ------------------------------------------


def test_a_refused_captcha_is_described_by_its_message(wizard):
    wizard.referencing()
    page = html(wizard.search_siret(wrong_captcha=True))
    answer = tag(page, "id_applicant-captcha_1")
    assert attribute(answer, "aria-invalid") == "true"
    described_by = attribute(answer, "aria-describedby").split()
    assert described_by == ["id_applicant-captcha-hint", "id_applicant-captcha-error"]
    assert re.search(r'id="id_applicant-captcha-error">Le code captcha est incorrect', page)
    assert re.search(r'id="id_applicant-captcha-hint">Recopiez les 5 caractères', page)


def test_the_confirmation_captcha_is_described_by_its_message(wizard):
    wizard.until_confirmation()
    page = html(wizard.confirm(wrong_captcha=True))
    answer = tag(page, "id_confirmation-captcha_1")
    assert attribute(answer, "aria-invalid") == "true"
    assert "id_confirmation-captcha-error" in attribute(answer, "aria-describedby").split()
    assert 'id="id_confirmation-captcha-error"' in page


# --- 5. the « Menu » skip link only where there is a menu (RGAA 12.7) -------------------------------


def skip_links(page: str) -> list[str]:
    block = re.search(r'<ul class="fr-skiplinks__list">(.*?)</ul>', page, re.S).group(1)
    return re.findall(r">([^<]+)</a>", block)


@pytest.mark.parametrize("url", ["/", "/enrolement/", "/connexion/", "/connexion/mot-de-passe-oublie/"])
def test_pages_without_a_menu_have_no_menu_skip_link(client, url):
    assert skip_links(html(client.get(url, follow=True))) == ["Contenu", "Pied de page"]


def test_the_404_page_has_no_menu_skip_link(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert skip_links(response.content.decode()) == ["Contenu", "Pied de page"]


def test_the_private_space_skip_link_leads_to_its_menu(client):
    client.force_login(UserFactory())
    page = html(client.get("/espace/"))
    assert skip_links(page) == ["Contenu", "Menu", "Pied de page"]
    assert 'href="#header-navigation">Menu</a>' in page
    assert re.search(r'id="header-navigation".*?aria-label="Menu principal"', page, re.S)


# --- 6. every form posts to its page, without the fragment of a skip link (RGAA 11.10) --------------


@pytest.mark.parametrize(
    "url", ["/connexion/identifiant-oublie/", "/connexion/mot-de-passe-oublie/", "/simuler-fichier-json/"]
)
def test_forms_post_to_their_own_address(client, url):
    forms = re.findall(r"<form\b[^>]*>", html(client.get(url)))
    posting = [form for form in forms if 'method="post"' in form and "logout" not in form]
    assert posting and all(attribute(form, "action") == url for form in posting), posting


# --- 7. page titles (RGAA 8.6) ----------------------------------------------------------------------


def test_wizard_error_states_are_titled_as_such(wizard):
    wizard.get("referencing")
    refused = wizard.post("referencing", {"referencing_number": "inconnu"}, action="search_referencing")
    assert title(refused) == "Erreur — Demande d'enrôlement — Étape 1 sur 5 : Référencement — Portail SEGUR Numérique"
    wizard.referencing()
    assert title(wizard.search_siret(wrong_captcha=True)).startswith("Erreur — Demande d'enrôlement — Étape 2 sur 5")
    assert title(wizard.search_siret()).startswith("Demande d'enrôlement — Étape 2 sur 5")


def test_the_confirmation_page_is_titled_for_what_it_is(wizard):
    page = wizard.complete()
    assert title(page) == "Confirmation de l'envoi de la demande d'enrôlement — Portail SEGUR Numérique"
    assert "Demande d'enrôlement validée. Le numéro de votre demande est le" in html(page)  # the guide's sentence


def test_the_two_secret_question_pages_have_different_titles(client, django_capture_on_commit_callbacks):
    newcomer = UserFactory(username="eishiro.oda", secret_question="")
    client.force_login(newcomer)
    assert title(client.get("/espace/question-secrete/")) == (
        "Positionnement de la question secrète — Portail SEGUR Numérique"
    )
    client.logout()

    UserFactory(username="marie.curie", email="marie@editeur.example.fr")  # answer « jules ferry »
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"})
    link = re.search(r"http://\S+?(/connexion/reinitialisation/\S+/)", mail.outbox[-1].body).group(1)
    question_url = client.get(link)["Location"]
    assert title(client.get(question_url)) == (
        "Réinitialisation du mot de passe : question secrète — Portail SEGUR Numérique"
    )
    wrong = client.post(question_url, {"answer": "Victor Hugo"})
    assert title(wrong).startswith("Erreur — Réinitialisation du mot de passe : question secrète")


def test_the_back_office_add_page_speaks_french(agent_client):
    assert title(agent_client.get("/admin/portal/news/add/")).startswith("Ajout d’une actualité |")
    assert ">Ajout d’une actualité</h1>" in html(agent_client.get("/admin/portal/news/add/"))
    news = NewsFactory(title="TEST SAS")
    change = title(agent_client.get(f"/admin/portal/news/{news.pk}/change/"))
    assert change.startswith("TEST SAS | Modification d’une actualité |")


# --- 8. the back office's sign-in page has its heading (RGAA 9.1) ----------------------------------


def test_the_back_office_sign_in_has_a_heading(client):
    assert re.search(r"<h1>Connexion</h1>", html(client.get("/admin/login/")))


# --- 2. autocomplete on the vendor's own details (RGAA 11.13) ---------------------------------------


def test_step_2_tells_the_browser_what_each_field_is_for(wizard):
    wizard.referencing()
    page = html(wizard.search_siret())
    expected = {
        "denomination": "organization",
        "building": "address-line2",
        "street_name": "address-line1",
        "address_complement": "address-line3",
        "postal_code": "postal-code",
        "city": "address-level2",
    }
    for who in ("representative", "depositor"):
        expected |= {
            f"{who}_last_name": "family-name",
            f"{who}_first_name": "given-name",
            f"{who}_email": "email",
            f"{who}_email_confirmation": "email",
            f"{who}_phone": "tel",
        }
    found = {name: attribute(tag(page, f"id_applicant-{name}"), "autocomplete") for name in expected}
    assert found == expected


# --- 10. descriptions and the required fields' note (RGAA 11.10) ------------------------------------


def test_the_wizard_explains_the_asterisk_before_the_fields(wizard):
    page = html(wizard.get("referencing"))
    assert page.index("* Champs obligatoires") < page.index('id="id_referencing-referencing_number"')


# --- 12. design system conformance -----------------------------------------------------------------


def test_the_stepper_follows_the_design_system(wizard):
    page = html(wizard.get("referencing"))
    heading = re.search(r'<h2 class="fr-stepper__title">(.*?)</h2>', page, re.S).group(1)
    # DSFR 1.14: the title first, then the state its CSS moves above it (column-reverse).
    assert re.fullmatch(r'\s*Référencement\s*<span class="fr-stepper__state">Étape 1 sur 5</span>\s*', heading)
    assert ">Etape" not in page  # « Étape », accented, on the buttons


def test_read_only_values_carry_no_asterisk(wizard):
    page = html(wizard.search_number())
    readonly = re.search(r'<dl class="segurnum-readonly">(.*?)</dl>', page, re.S).group(1)
    assert "N° unique de référencement (ANS)</dt>" in readonly and "*" not in readonly


def test_the_reference_number_has_a_hint_not_a_placeholder(wizard):
    page = html(wizard.get("referencing"))
    assert attribute(tag(page, "id_referencing-referencing_number"), "placeholder") is None
    assert re.search(r'id="id_referencing-referencing_number-hint">[^<]*par exemple tndSAS0031', page)


def test_the_footer_has_the_design_systems_links_and_the_asps_elsewhere(client):
    page = html(client.get("/"))
    footer = re.search(r'<footer class="fr-footer".*?</footer>', page, re.S).group(0)
    institutional = re.findall(r'class="fr-footer__content-link"[^>]*>([^<]+)</a>', footer)
    assert institutional == ["info.gouv.fr", "service-public.fr", "legifrance.gouv.fr", "data.gouv.fr"]
    assert re.search(r'href="https://www.asp.gouv.fr"[^>]*>Agence de services et de paiement \(ASP\)</a>', footer)
    assert re.search(r'href="https://esante.gouv.fr"[^>]*>Agence du numérique en santé</a>', footer)


# --- 11. a second way through the site (RGAA 12.1) --------------------------------------------------


def test_every_page_links_to_the_site_map_which_lists_the_pages(client):
    assert '<a class="fr-footer__bottom-link" href="/plan-du-site/">Plan du site</a>' in html(client.get("/"))
    page = html(client.get("/plan-du-site/"))
    assert "<h1>Plan du site</h1>" in page
    for href, text in [
        ("/enrolement/", "Effectuer ma demande d'enrôlement"),
        ("/connexion/", "Se connecter"),
        ("/connexion/mot-de-passe-oublie/", "J'ai oublié mon mot de passe"),
        ("/espace/enrolement/", "Suivi des demandes d'enrôlement"),
        ("/aide/questions-frequentes/", "Questions fréquentes"),
        ("/aide/contacter-assistance/", "Contacter l'assistance"),
        ("/accessibilite/", "Déclaration d'accessibilité"),
    ]:
        assert f'<a href="{href}">{text}</a>' in page


# --- 9. without JavaScript the header's links stay reachable ----------------------------------------


def test_a_no_javascript_style_sheet_opens_the_header_and_breadcrumb(client):
    page = html(client.get("/"))
    assert re.search(r'<noscript><link rel="stylesheet" href="/static/css/nojs\.css"></noscript>', page)


# --- 13. the audio captcha on a developer's machine ---------------------------------------------


def test_the_set_up_says_how_to_get_the_audio_captcha():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert "`apt-get install espeak-ng`" in (root / "README.md").read_text()
    run_target = (root / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "command -v espeak-ng" in run_target and "le captcha n'a pas de version audio" in run_target
