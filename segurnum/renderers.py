"""The form renderer (``FORM_RENDERER``): Django's ``TemplatesSetting``, with the one-tag
``<input>`` widgets written directly (R-PERF-5).

A text, e-mail, number, URL or hidden field is rendered by Django through three nested templates
(``text.html`` includes ``input.html``, which includes ``attrs.html``): about a third of the
wizard's form rendering. A radio button or a checkbox of a group goes through four
(``radio_option.html`` includes ``input_option.html``, then the same two), a drop-down list
through ``select.html`` and, for each of its options, ``select_option.html`` and ``attrs.html``
(« Taux TVA », the admin's lists), and a form of hidden fields alone (the wizard's management
form, on every page) through ``p.html`` and the templates of its empty error list. While those
templates are Django's own (not overridden in the project's ``templates/``, checked once), the
same HTML is written here, byte for byte; any other widget, or an overridden template, goes
through the templates as before.
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
INCLUDE_INPUT_OPTION = '{% include "django/forms/widgets/input_option.html" %}'
INPUT_OPTION = (
    '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"{% endif %}>{% endif %}'
    '{% include "django/forms/widgets/input.html" %}{% if widget.wrap_label %} {{ widget.label }}</label>{% endif %}'
)
OPTION_WIDGETS = tuple(f"django/forms/widgets/{name}_option.html" for name in ("radio", "checkbox"))
SELECT_WIDGET = "django/forms/widgets/select.html"
SELECT = (
    '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
    "{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n"
    '  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n'
    "  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n"
    "  </optgroup>{% endif %}{% endfor %}\n"
    "</select>"
)
SELECT_OPTION_WIDGET = "django/forms/widgets/select_option.html"
# The option's file ends with a line break, which the select's include keeps after each option.
SELECT_OPTION = (
    '<option value="{{ widget.value|stringformat:\'s\' }}"{% include "django/forms/widgets/attrs.html" %}>'
    "{{ widget.label }}</option>\n"
)
# A form's default template (Django's FORM_TEMPLATE_NAME), and the one formtools gives its
# management form: written directly only for a form with hidden fields alone and no error.
FORM_DIV = "django/forms/div.html"
FORM_P = "django/forms/p.html"
_NO_FIELDS_HEAD = [
    "{{ errors }}",
    "{% if errors and not fields %}",
    "  <{tag}>{% for field in hidden_fields %}{{ field }}{% endfor %}</{tag}>",
    "{% endif %}",
]
_NO_FIELDS_TAIL = [
    "{% endfor %}",
    "{% if not fields and not errors %}",
    "  {% for field in hidden_fields %}{{ field }}{% endfor %}",
    "{% endif %}",
]
FORM_SOURCES = {
    FORM_DIV: "\n".join(
        [
            *(line.replace("{tag}", "div") for line in _NO_FIELDS_HEAD),
            "{% for field, errors in fields %}",
            '  <div{% with classes=field.css_classes %}{% if classes %} class="{{ classes }}"{% endif %}{% endwith %}>',
            "    {{ field.as_field_group }}",
            "    {% if forloop.last %}",
            "      {% for field in hidden_fields %}{{ field }}{% endfor %}",
            "    {% endif %}",
            "</div>",
            *_NO_FIELDS_TAIL,
        ]
    ),
    FORM_P: "\n".join(
        [
            *(line.replace("{tag}", "p") for line in _NO_FIELDS_HEAD),
            "{% for field, errors in fields %}",
            "  {{ errors }}",
            '  <p{% with classes=field.css_classes %}{% if classes %} class="{{ classes }}"{% endif %}{% endwith %}>',
            "    {% if field.label %}{{ field.label_tag }}{% endif %}",
            "    {{ field }}",
            "    {% if field.help_text %}",
            '      <span class="helptext"{% if field.auto_id %} id="{{ field.auto_id }}_helptext"{% endif %}>'
            "{{ field.help_text|safe }}</span>",
            "    {% endif %}",
            "    {% if forloop.last %}",
            "      {% for field in hidden_fields %}{{ field }}{% endfor %}",
            "    {% endif %}",
            "  </p>",
            *_NO_FIELDS_TAIL,
        ]
    ),
}
ERROR_LIST = "django/forms/errors/list/default.html"
ERROR_LIST_SOURCE = '{% include "django/forms/errors/list/ul.html" %}'
ERROR_LIST_UL = (
    '{% if errors %}<ul class="{{ error_class }}"{% if errors.field_id %} id="{{ errors.field_id }}_error"{% endif %}>'
    "{% for error in errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}"
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


def _attrs(parts: list[str], attrs: dict[str, Any]) -> None:
    """``django/forms/widgets/attrs.html``, appended to ``parts``."""
    for name, value in attrs.items():
        if value is not False:
            parts.append(f" {_text(name)}")
            if value is not True:
                parts.append(f'="{_text(value)}"')


def render_input(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input.html`` for a widget's context."""
    parts = [f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"']
    if widget["value"] is not None:
        parts.append(f' value="{_text(widget["value"])}"')
    _attrs(parts, widget["attrs"])
    parts.append(">")
    # Every value above went through _text (escaped unless already safe), as in the templates.
    return mark_safe("".join(parts))  # noqa: S308


def _is_text(value: Any) -> bool:
    """A value ``{{ value }}`` writes as its text, escaped: a string, lazy or not (a number or a
    date would be localised first)."""
    return isinstance(value, str | Promise)


def render_select(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/select.html``, each option by ``select_option.html``; None when an
    option has another template, or a label or group name that is not text: the templates then."""
    parts = [f'<select name="{_text(widget["name"])}"']
    _attrs(parts, widget["attrs"])
    parts.append(">")
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            if not _is_text(group_name):
                return None
            parts.append(f'\n  <optgroup label="{escape_text(group_name)}">')
        for option in options:
            if option["template_name"] != SELECT_OPTION_WIDGET or not _is_text(option["label"]):
                return None
            parts.append(f'\n  <option value="{_text(option["value"])}"')
            _attrs(parts, option["attrs"])
            parts.append(f">{escape_text(option['label'])}</option>\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    # Every value above was escaped (unless already safe), as in the templates.
    return mark_safe("".join(parts))  # noqa: S308


def render_option(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input_option.html``: a radio button or checkbox of a group, its
    label around it when asked (``wrap_label``)."""
    if not widget.get("wrap_label"):
        return render_input(widget)
    element_id = widget["attrs"].get("id")
    target = f' for="{escape_text(element_id)}"' if element_id else ""
    # The id and label escaped, the input written by render_input, as in the template.
    return mark_safe(f"<label{target}>{render_input(widget)}\n {escape_text(widget['label'])}</label>")  # noqa: S308


def render_form_without_fields(template_name: str, context: dict[str, Any]) -> str | None:
    """An empty error list (``""``) or a form of hidden fields alone without errors (what
    ``div.html`` or ``p.html`` renders then, once the renderer has stripped its line breaks: the hidden inputs);
    None for anything else, which goes through the templates."""
    errors = context.get("errors")
    if errors is None or len(errors):
        return None
    if template_name == ERROR_LIST:
        return ""
    if context.get("fields"):
        return None
    hidden = "".join(escape_text(field) for field in context["hidden_fields"])
    # Each hidden field's HTML is escaped unless already safe, as {{ field }} does.
    return mark_safe(hidden.strip())  # noqa: S308


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
    def direct_options(self) -> frozenset[str]:
        """The radio and checkbox option templates still Django's own, over direct inputs."""
        input_option = self.get_template("django/forms/widgets/input_option.html").template.source.strip()
        # The label's text follows the included input.html as that file ends: with a line break.
        input_file = self.get_template("django/forms/widgets/input.html").template.source
        if input_option != INPUT_OPTION or input_file != f"{INPUT}\n" or not self.direct_templates:
            return frozenset()
        return frozenset(
            name for name in OPTION_WIDGETS if self.get_template(name).template.source.strip() == INCLUDE_INPUT_OPTION
        )

    @cached_property
    def direct_select(self) -> bool:
        """``select.html`` and ``select_option.html`` still Django's own."""
        return (
            self.get_template(SELECT_WIDGET).template.source.strip() == SELECT
            and self.get_template(SELECT_OPTION_WIDGET).template.source == SELECT_OPTION
            and self.get_template("django/forms/widgets/attrs.html").template.source.strip() == ATTRS
        )

    @cached_property
    def direct_forms(self) -> frozenset[str]:
        """``div.html``, ``p.html`` and the error list's templates, still Django's own."""

        def source(name: str) -> str:
            return self.get_template(name).template.source.strip()

        if source(ERROR_LIST) != ERROR_LIST_SOURCE or source("django/forms/errors/list/ul.html") != ERROR_LIST_UL:
            return frozenset()
        return frozenset([ERROR_LIST, *(name for name, text in FORM_SOURCES.items() if source(name) == text)])

    @cached_property
    def direct_captcha(self) -> bool:
        """The captcha's template is still the one written here, and its inputs are direct."""
        source = self.get_template(CAPTCHA_TEMPLATE).template.source.strip()
        inputs = {f"django/forms/widgets/{name}.html" for name in ("hidden", "text")}
        return source == CAPTCHA and inputs <= self.direct_templates

    def render(self, template_name: str, context: dict[str, Any], request=None) -> str:
        if template_name in self.direct_templates and "widget" in context:
            return render_input(context["widget"])
        if template_name in self.direct_options and "widget" in context:
            return render_option(context["widget"])
        if template_name == CAPTCHA_TEMPLATE and self.direct_captcha:
            return self.render_captcha(context)
        if template_name == SELECT_WIDGET and "widget" in context and self.direct_select:
            direct = render_select(context["widget"])
            if direct is not None:
                return direct
        if template_name in self.direct_forms:
            direct = render_form_without_fields(template_name, context)
            if direct is not None:
                return direct
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
