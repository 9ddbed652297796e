"""{% constant %} (public.templatetags.segurnum_fragments): markup rendered once per process."""

import pytest
from django.template import engines

ENGINE = engines["django"]


def test_a_constant_block_is_rendered_once_and_kept():
    template = ENGINE.from_string(
        "{% load segurnum_fragments %}{% constant %}{% now 'u' %}{% endconstant %}|{% now 'u' %}"
    )
    first, second = template.render({}).split("|")[0], template.render({}).split("|")[0]
    assert first == second  # the microseconds of the first rendering, kept


def test_a_constant_block_cannot_use_the_page_s_variables():
    template = ENGINE.from_string("{% load segurnum_fragments %}[{% constant %}{{ user }}{% endconstant %}]{{ user }}")
    assert template.render({"user": "Eishiro"}) == "[]Eishiro"


def test_a_constant_block_has_the_engine_for_urls_static_files_and_includes():
    template = ENGINE.from_string(
        "{% load static segurnum_fragments %}{% constant %}{% url 'public:home' %} {% static 'css/segurnum.css' %} "
        '{% include "includes/header_service.html" with home_url="/" %}{% endconstant %}'
    )
    html = template.render({})
    assert html.startswith("/ /static/css/segurnum.css")
    assert "Portail SEGUR Numérique" in html


@pytest.mark.django_db
def test_every_page_keeps_its_shell(client):
    for url in ("/", "/faq/", "/plan-du-site/"):
        html = client.get(url).content.decode()
        assert 'rel="stylesheet"' in html and "dsfr.min.css" in html
        assert '<footer class="fr-footer" role="contentinfo" id="footer">' in html
        assert 'href="/plan-du-site/">Plan du site</a>' in html
        assert "dsfr.module.min.js" in html
