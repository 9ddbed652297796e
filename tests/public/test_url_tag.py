"""{% url %} (public.templatetags.segurnum_urls): Django's output, an address of literals reversed
once per process, a variable one every time."""

import django.urls
import pytest
from django.template import Context, engines
from django.template.engine import Engine
from django.test import RequestFactory, override_settings
from django.urls import clear_script_prefix, set_script_prefix

from public.templatetags.segurnum_urls import URLNode

TAGS = (
    "{% url 'public:home' %}",
    "{% url 'enrolment:model_document' name='mandat' %}",
    '{% url "enrolment:step" step="applicant" %}',
    "{% url 'enrolment:step' step=step %}",
    "{% url 'tracking:status' as status %}[{{ status }}]",
    "{% url name %}",
    "{% url 'admin:index' %}",
)


def django_engine() -> Engine:
    """Django's own tag, in an engine without the project's builtin."""
    return Engine(app_dirs=True)


@pytest.fixture
def count_reverses(monkeypatch):
    calls = []
    reverse = django.urls.reverse

    def counted(*args, **kwargs):
        calls.append(args[0])
        return reverse(*args, **kwargs)

    # Django's URLNode imports reverse from django.urls each time it renders.
    monkeypatch.setattr(django.urls, "reverse", counted)
    return calls


@pytest.mark.parametrize("source", TAGS)
def test_the_project_tag_renders_as_django_s(source):
    context = {"step": "bank", "name": "public:faq"}
    ours = engines["django"].from_string(source)
    assert isinstance(ours.template.nodelist[0], URLNode)
    theirs = django_engine().from_string(source)
    assert ours.render(context) == theirs.render(Context(context))


def test_an_address_of_literals_is_reversed_once_a_variable_one_each_time(count_reverses):
    template = engines["django"].from_string(
        "{% url 'public:home' %} {% url 'enrolment:model_document' name='mandat' %} "
        "{% url 'enrolment:step' step=step %}"
    )
    pages = [template.render({"step": step}) for step in ("referencing", "applicant", "applicant")]

    assert pages[0] == "/ /enrolement/modeles/mandat/ /enrolement/demande/referencing/"
    assert pages[1].endswith(" /enrolement/demande/applicant/") and pages[1] == pages[2]
    assert count_reverses == ["public:home", "enrolment:model_document", *["enrolment:step"] * 3]


def test_a_kept_address_follows_the_script_prefix_and_the_urlconf(count_reverses):
    template = engines["django"].from_string("{% url 'public:home' %}")
    assert template.render({}) == "/"
    set_script_prefix("/portail/")
    try:
        assert template.render({}) == "/portail/"
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    with override_settings(ROOT_URLCONF="tests.public.urls_elsewhere"):
        assert template.render({}) == "/ailleurs/"
    assert template.render({}) == "/"
    assert len(count_reverses) == 3


@override_settings(ROOT_URLCONF="tests.public.urls_elsewhere")
def test_a_kept_address_follows_the_current_application(rf: RequestFactory, count_reverses):
    """Two instances of one application (as two admin sites would be): each page links to its own."""
    template = engines["django"].from_string("{% url 'public:home' %}")
    request = rf.get("/")
    assert template.render({}, request) == "/ailleurs/"
    request.current_app = "autre"
    assert template.render({}, request) == "/autre/"
    assert template.render({}, request) == "/autre/"
    assert len(count_reverses) == 2
