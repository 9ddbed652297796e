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
INPUT_WIDGETS = tuple(f"django/forms/widgets/{name}.html" for name in ("text", "email", "number", "url", "hidden"))


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

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if template_name in self.direct_templates and "widget" in context:
            return render_input(context["widget"])
        return super().render(template_name, context, request=request)
