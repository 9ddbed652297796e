"""The form renderer (``FORM_RENDERER``): Django's ``TemplatesSetting``, with the one-tag
``<input>`` widgets written directly (R-PERF-5).

A text, e-mail, number, URL or hidden field is rendered by Django through three nested templates
(``text.html`` includes ``input.html``, which includes ``attrs.html``): about a third of the
wizard's form rendering. While those templates are Django's own (not overridden in the project's
``templates/``, checked once), the same HTML is written here, byte for byte; any other widget, or
an overridden template, goes through the templates as before.
"""

import html
from functools import cached_property
from typing import Any

from django.forms.renderers import TemplatesSetting
from django.utils.functional import Promise
from django.utils.html import strip_spaces_between_tags
from django.utils.safestring import SafeData, mark_safe

INCLUDE_INPUT = '{% include "django/forms/widgets/input.html" %}'
INPUT = (
    '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
    " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
    '{% include "django/forms/widgets/attrs.html" %}>'
)
ATTRS = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}"
)
INPUT_WIDGETS = tuple(
    f"django/forms/widgets/{name}.html" for name in ("text", "email", "number", "url", "hidden", "checkbox", "password")
)
# templates/captcha/widgets/captcha.html, as the project writes it: the code's image, its audio
# version, then its two inputs (the code's key, hidden, and the answer).
CAPTCHA_TEMPLATE = "captcha/widgets/captcha.html"
CAPTCHA = "\n".join(
    [
        "{% spaceless %}",
        '<span class="segurnum-captcha__image">',
        '  <img src="{{ image }}" alt="Code de sécurité à recopier : image de 5 lettres" class="captcha" width="150" '
        'height="50">',
        '  {% if audio %}<a class="fr-link fr-icon-volume-up-line fr-link--icon-left" href="{{ audio }}" '
        'target="_blank" rel="noopener">Écouter le code<span class="fr-sr-only"> (fichier audio, nouvelle '
        "fenêtre)</span></a>{% endif %}",
        "</span>",
        "{% for widget in widget.subwidgets %}{% include widget.template_name %}{% endfor %}",
        "{% endspaceless %}",
    ]
)


def escape_text(value: Any) -> str:
    """``conditional_escape(value)``, the same text, without the lazy-string wrapper Django puts
    around ``escape`` (a third of the cost of writing an input): safe strings are kept, the others
    go through ``html.escape`` as Django's ``escape`` does."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _text(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` under autoescape: safe strings kept, others escaped."""
    if isinstance(value, SafeData):
        return value
    return escape_text(str(value))


def render_input(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input.html`` for a widget's context."""
    parts = [f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"']
    if widget["value"] is not None:
        parts.append(f' value="{_text(widget["value"])}"')
    for name, value in widget["attrs"].items():
        if value is not False:
            parts.append(f" {_text(name)}")
            if value is not True:
                parts.append(f'="{_text(value)}"')
    parts.append(">")
    # Every value above went through _text (escaped unless already safe), as in the templates.
    return mark_safe("".join(parts))  # noqa: S308


class FormRenderer(TemplatesSetting):
    @cached_property
    def direct_templates(self) -> frozenset[str]:
        """The input templates still Django's own (an override in templates/ is honoured)."""

        def source(name: str) -> str:
            return self.get_template(name).template.source.strip()

        if source("django/forms/widgets/input.html") != INPUT or source("django/forms/widgets/attrs.html") != ATTRS:
            return frozenset()
        return frozenset(name for name in INPUT_WIDGETS if source(name) == INCLUDE_INPUT)

    @cached_property
    def direct_captcha(self) -> bool:
        """The captcha's template is still the one written here, and its inputs are direct."""
        source = self.get_template(CAPTCHA_TEMPLATE).template.source.strip()
        inputs = {f"django/forms/widgets/{name}.html" for name in ("hidden", "text")}
        return source == CAPTCHA and inputs <= self.direct_templates

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if template_name in self.direct_templates and "widget" in context:
            return render_input(context["widget"])
        if template_name == CAPTCHA_TEMPLATE and self.direct_captcha:
            return self.render_captcha(context)
        return super().render(template_name, context, request=request)

    def render_captcha(self, context: dict[str, Any]) -> str:
        """``CAPTCHA`` for a captcha widget's context, its spaceless output included."""
        audio = context.get("audio")
        listen = (
            f'<a class="fr-link fr-icon-volume-up-line fr-link--icon-left" href="{_text(audio)}" target="_blank" '
            'rel="noopener">Écouter le code<span class="fr-sr-only"> (fichier audio, nouvelle fenêtre)</span></a>'
            if audio
            else ""
        )
        html = (
            '<span class="segurnum-captcha__image"><img src="'
            f'{_text(context["image"])}" alt="Code de sécurité à recopier : image de 5 lettres" class="captcha" '
            f'width="150" height="50">{listen}</span>'
            + "".join(render_input(widget) for widget in context["widget"]["subwidgets"])
        )
        # Every value above went through _text or render_input, as in the template.
        return mark_safe(strip_spaces_between_tags(html))  # noqa: S308
